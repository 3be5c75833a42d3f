"""Demo data of one node: its org units and a staff member for every role.

Every demo user's password is ``DEMO_PASSWORD`` (``kam-demo-2026``) — for demos and tests only;
change or deactivate these users on a real site. Idempotent: what exists is left as it is.

The demo password is hashed once per process (argon2id, ~0.2 s of CPU a hash, deliberately): every demo
user the process seeds, on every node, gets that same hash — the password is public anyway, and a
federation of 6 nodes no longer spends ~60 hashes on it (docs/testing.md).

Users: ``admin`` (sys_admin + ka_dept_manager), ``sysadmin``, ``ka_mgr``, ``am01``… (account managers:
5 per local network, 3 at a province or the group), ``agent01``, ``analyst01``, ``auditor01``.
"""

from __future__ import annotations

import zlib

from kam_org.api import Caller
from kam_org.auth.passwords import hash_password
from kam_org.org_unit import service as org_unit_service
from kam_org.org_unit.repository import OrgUnitRepository
from kam_org.org_unit.schemas import OrgUnitCreate
from kam_org.staff import service as staff_service
from kam_org.staff.repository import StaffRepository
from kam_org.staff.schemas import StaffCreate
from kam_platform.auth import Principal
from kam_platform.db import create_database
from kam_platform.topology import Tier, Topology

DEMO_PASSWORD = "kam-demo-2026"
_demo_hash: list[str] = []  # DEMO_PASSWORD's hash, once made

ORG_UNITS = [("KA", "大客户部", "大客户部"), ("GOV", "政企客户部", "政企部")]

NAMES = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄勇",
    "周婷",
    "吴刚",
    "徐丽",
    "孙强",
    "胡军",
    "朱琳",
    "高峰",
    "林涛",
    "何雪",
    "郭辉",
    "马超",
    "罗佳",
]


def _staff_plan(node: str, tier: Tier) -> list[tuple[str, str, list[str], str]]:
    """(username, display name, roles, org unit code) of the node's demo users."""
    offset = zlib.crc32(node.encode()) % len(NAMES)
    names = iter(NAMES[offset:] + NAMES[:offset])
    managers = 5 if tier is Tier.LOCAL else 3
    plan = [
        ("admin", "系统管理员", ["sys_admin", "ka_dept_manager"], "KA"),
        ("sysadmin", next(names), ["sys_admin"], "KA"),
        ("ka_mgr", next(names), ["ka_dept_manager"], "KA"),
    ]
    plan += [(f"am{i:02d}", next(names), ["account_manager"], "KA" if i % 2 else "GOV") for i in range(1, managers + 1)]
    plan += [
        ("agent01", next(names), ["service_agent"], "KA"),
        ("analyst01", next(names), ["analyst"], "KA"),
        ("auditor01", next(names), ["auditor"], "KA"),
    ]
    return plan


def system_caller(node: str, topology: Topology) -> Caller:
    principal = Principal(
        username="system",
        home_node=node,
        scope_node=node,
        roles=frozenset(),
        permissions=frozenset({"*"}),
        display_name="system",
    )
    return Caller(principal=principal, node=node, topology=topology)


async def demo_password_hash() -> str:
    """The argon2 hash of DEMO_PASSWORD, made on the first call of the process."""
    if not _demo_hash:
        _demo_hash.append(await hash_password(DEMO_PASSWORD))
    return _demo_hash[0]


async def seed(database_url: str, node: str, topology: Topology) -> None:
    """Create the node's org units and demo users where they are missing (audited and published)."""
    tier = topology.node(node).tier
    caller = system_caller(node, topology)
    db = create_database(database_url, pool_size=1, application_name=f"kam-seed-org-{node}")
    try:
        async with db.sessionmaker() as session, session.begin():
            units = OrgUnitRepository.from_session(session)
            unit_ids = {}
            for code, name, kind in ORG_UNITS:
                unit = await units.get_by_code(node, code)
                if unit is None:
                    unit = await org_unit_service.create_org_unit(
                        session, caller=caller, data=OrgUnitCreate(code=code, name=name, kind=kind)
                    )
                unit_ids[code] = unit.id
            staff = StaffRepository.from_session(session)
            for i, (username, display_name, roles, unit_code) in enumerate(_staff_plan(node, tier)):
                if await staff.get_by_username(node, username) is not None:
                    continue
                data = StaffCreate(
                    username=username,
                    display_name=display_name,
                    password=DEMO_PASSWORD,
                    roles=roles,
                    org_unit_id=unit_ids[unit_code],
                    phone=f"139{zlib.crc32(node.encode()) % 10000:04d}{i:04d}",
                    email=f"{username}@{node}.kam.example",
                )
                await staff_service.create_staff(
                    session, caller=caller, data=data, password_hash=await demo_password_hash()
                )
    finally:
        await db.dispose()


async def list_account_managers(database_url: str, node: str) -> list[tuple[str, str]]:
    """(user name, display name) of the node's active account managers, for the customer seeder."""
    db = create_database(database_url, pool_size=1, application_name=f"kam-seed-org-{node}")
    try:
        async with db.sessionmaker() as session:
            return await staff_service.account_managers(session, node=node)
    finally:
        await db.dispose()
