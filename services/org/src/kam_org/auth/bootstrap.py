"""A node's bootstrap administrator and one-time passwords.

A node started without demo data has no user, so nobody could log in or get a token. `kam admin create
--node CODE` (kam_org.commands) creates the node's administrator (roles sys_admin and ka_dept_manager)
with a random one-time password, printed once and never stored in clear. Its tokens carry
`must_change_password` and no permissions until the password is changed at POST /api/v1/auth/password,
which checks the current password under the same throttle as the token endpoint.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller
from kam_org.audit import service as audit
from kam_org.auth import service as auth_service
from kam_org.auth.passwords import hash_password
from kam_org.models import Staff
from kam_org.seed import system_caller
from kam_org.staff import service as staff_service
from kam_org.staff.repository import StaffRepository
from kam_org.staff.schemas import MIN_PASSWORD, StaffCreate
from kam_platform.auth import Principal
from kam_platform.db import create_database
from kam_platform.errors import ValidationFailed
from kam_platform.topology import Topology

BOOTSTRAP_ROLES = ["sys_admin", "ka_dept_manager"]
BOOTSTRAP_NAME = "系统管理员"


def one_time_password() -> str:
    """16 characters from an alphabet without look-alikes (no 0/O, 1/l/I)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


@dataclass(frozen=True)
class Bootstrapped:
    username: str
    password: str
    created: bool  # False: the user existed and its password was reset


async def bootstrap_admin(
    session: AsyncSession, *, node: str, topology: Topology, username: str = "admin", reset: bool = False
) -> Bootstrapped | None:
    """Create the node's administrator with a one-time password; None when the user exists and
    `reset` is not asked (an existing password is never overwritten silently)."""
    caller = system_caller(node, topology)
    password = one_time_password()
    repo = StaffRepository.from_session(session)
    existing = await repo.get_by_username(node, username)
    if existing is not None:
        if not reset:
            return None
        existing.password_hash = await hash_password(password)
        existing.must_change_password = True
        existing.is_active = True
        await _audit_password(session, caller, existing, "password reset to a one-time password (kam admin create)")
        return Bootstrapped(username, password, created=False)
    data = StaffCreate(username=username, display_name=BOOTSTRAP_NAME, password=password, roles=BOOTSTRAP_ROLES)
    created = await staff_service.create_staff(session, caller=caller, data=data)
    staff = await repo.get_by_username(node, username)
    assert staff is not None, created
    staff.must_change_password = True
    return Bootstrapped(username, password, created=True)


async def bootstrap_admin_at(
    database_url: str, node: str, topology: Topology, username: str = "admin", reset: bool = False
) -> Bootstrapped | None:
    db = create_database(database_url, pool_size=1, application_name=f"kam-admin-{node}")
    try:
        async with db.sessionmaker() as session, session.begin():
            await auth_service.ensure_signing_key(session)
            return await bootstrap_admin(session, node=node, topology=topology, username=username, reset=reset)
    finally:
        await db.dispose()


async def change_password(
    session: AsyncSession,
    *,
    node: str,
    topology: Topology,
    username: str,
    current_password: str,
    new_password: str,
    client_address: str | None,
    limits: auth_service.LoginLimits,
) -> None:
    """Change one's own password. The current one is checked exactly like a login (a failure counts
    toward the lockout; raises auth_service.LoginRefused); a one-time password stops being one."""
    if len(new_password) < MIN_PASSWORD or len(new_password) > 256:
        raise ValidationFailed(f"new_password: must be {MIN_PASSWORD} to 256 characters", field="new_password")
    if new_password == current_password:
        raise ValidationFailed("new_password: must differ from the current password", field="new_password")
    await auth_service.password_grant(
        session,
        node=node,
        topology=topology,
        username=username,
        password=current_password,
        client_address=client_address,
        limits=limits,
    )
    staff = await StaffRepository.from_session(session).get_by_username(node, username)
    assert staff is not None  # the grant succeeded
    staff.password_hash = await hash_password(new_password)
    staff.must_change_password = False
    who = Principal(username=username, home_node=node, scope_node=node, roles=frozenset(), permissions=frozenset())
    await _audit_password(session, Caller(principal=who, node=node, topology=topology), staff, "password changed")


async def _audit_password(session: AsyncSession, caller: Caller, staff: Staff, note: str) -> None:
    await audit.record(
        session,
        caller=caller,
        entity_type="staff",
        entity_id=staff.id,
        action="password",
        old={},
        new={"must_change_password": staff.must_change_password},
        note=note,
    )
