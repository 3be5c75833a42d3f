"""The permission registry: services' specs register their permissions and default grants with org,
idempotently and versioned, never revoking or re-granting behind an administrator's back."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Audit, Outbox, Permission, Role, RolePermission
from kam_org.models.permission_registry import PermissionRegistration
from kam_org.registry import service as registry
from kam_org.registry.service import RegistryError, registry_caller
from kam_platform.service import ServiceSpec, discover

from .conftest import NODE, TOPO

BUILT_IN = ("org", "customer", "sync")  # the services migrations 0001-0003 wrote the catalogue of


def _built_in() -> dict[str, ServiceSpec]:
    specs = discover()
    return {name: specs[name] for name in BUILT_IN}


async def _register(session: AsyncSession, specs: dict[str, ServiceSpec]) -> list[registry.Registration]:
    return await registry.register(session, specs=specs, caller=registry_caller(NODE, TOPO))


async def _grants(session: AsyncSession, role: str) -> set[str]:
    rows = await session.scalars(
        select(RolePermission.permission_code).join(Role, Role.id == RolePermission.role_id).where(Role.code == role)
    )
    return set(rows)


async def test_the_built_in_specs_match_the_migrated_catalogue_and_register_once(session: AsyncSession) -> None:
    before = {c: d for c, d in await session.execute(select(Permission.code, Permission.description))}
    roles_before = {r.code: r.version for r in (await session.scalars(select(Role))).all()}

    first = await _register(session, _built_in())

    # the specs hold what the migrations wrote, plus what the services defined since (e.g. F1's
    # customer:merge): registering adds exactly those, with their default grants, and moves nothing else
    assert [r.service for r in first] == list(BUILT_IN)
    defined = {c: d for spec in _built_in().values() for c, d in spec.permissions.items()}
    added = sorted(set(defined) - set(before))
    assert sorted(c for r in first for c in r.permissions) == added
    assert all(r.version == 1 for r in first)
    after = {c: d for c, d in await session.execute(select(Permission.code, Permission.description))}
    assert after == {**before, **{c: defined[c] for c in added}}
    assert {c: after[c] for c in before} == before  # migrated descriptions are the specs' own
    granted = {role for r in first for role, codes in r.grants.items() if codes}
    assert all(set(codes) <= set(added) for r in first for codes in r.grants.values())
    roles_after = {r.code: r.version for r in (await session.scalars(select(Role))).all()}
    assert {c: v for c, v in roles_after.items() if c not in granted} == {
        c: v for c, v in roles_before.items() if c not in granted
    }
    rows = {r.service: r for r in (await session.scalars(select(PermissionRegistration))).all()}
    assert {s: (rows[s].digest, rows[s].version) for s in BUILT_IN} == {
        s: (spec.permissions_digest(), 1) for s, spec in _built_in().items()
    }
    # a second registration of the same specs is a no-op
    assert await _register(session, _built_in()) == []


async def test_a_changed_spec_adds_its_new_grants_and_descriptions_and_keeps_what_an_admin_changed(
    session: AsyncSession,
) -> None:
    await _register(session, _built_in())
    analyst = (await session.scalars(select(Role).where(Role.code == "analyst"))).one()
    auditor = (await session.scalars(select(Role).where(Role.code == "auditor"))).one()
    # an administrator removed a default grant and added one of their own
    await session.execute(
        delete(RolePermission).where(
            RolePermission.role_id == analyst.id, RolePermission.permission_code == "sync:read"
        )
    )
    session.add(RolePermission(role_id=auditor.id, permission_code="sync:admin"))
    await session.flush()
    version = analyst.version

    sync = _built_in()["sync"]
    changed = dataclasses.replace(
        sync,
        permissions={**sync.permissions, "sync:read": "Read replication status and lag", "sync:watch": "Watch links"},
        grants={**sync.grants, "analyst": ("sync:read", "sync:watch"), "auditor": ("sync:read",)},
    )
    [result] = await _register(session, {**_built_in(), "sync": changed})

    assert (result.service, result.version) == ("sync", 2)
    assert result.permissions == ["sync:read", "sync:watch"]
    assert result.grants == {"analyst": ["sync:watch"]}
    assert await session.get(Permission, "sync:watch") is not None
    described = await session.scalar(select(Permission.description).where(Permission.code == "sync:read"))
    assert described == "Read replication status and lag"
    assert await _grants(session, "analyst") == {"customer:read", "customer:export", "org.node:read", "sync:watch"}
    assert "sync:admin" in await _grants(session, "auditor")  # not revoked though the spec never granted it
    await session.refresh(analyst)
    assert analyst.version == version + 1
    audit = (await session.scalars(select(Audit).where(Audit.entity_id == analyst.id))).all()
    assert [(a.action, a.actor) for a in audit] == [("update", registry.ACTOR)]
    events = (
        await session.scalars(
            select(Outbox).where(Outbox.event_type.endswith(".RoleChanged"), Outbox.aggregate_id == "analyst")
        )
    ).all()
    assert [e.version for e in events] == [version + 1]

    assert await _register(session, {**_built_in(), "sync": changed}) == []
    # the spec dropping a grant and a permission revokes and deletes nothing
    dropped = dataclasses.replace(sync, permissions=dict(sync.permissions), grants={"sys_admin": ("sync:read",)})
    [again] = await _register(session, {**_built_in(), "sync": dropped})
    assert again.version == 3 and again.grants == {}
    assert await session.get(Permission, "sync:watch") is not None
    assert "sync:watch" in await _grants(session, "analyst")


async def test_a_new_service_registers_its_permissions_and_skips_roles_the_node_lacks(session: AsyncSession) -> None:
    extra = ServiceSpec(
        name="extra",
        app="kam_extra.main:create_app",
        permissions={"extra:read": "Read extras"},
        grants={"analyst": ("extra:read", "org.node:read"), "no_such_role": ("extra:read",)},
    )
    [result] = await _register(session, {"extra": extra})
    assert result.grants == {"analyst": ["extra:read"]}  # org.node:read it had already
    assert result.unknown_roles == ["no_such_role"]
    assert "extra:read" in await _grants(session, "analyst")


@pytest.mark.parametrize(
    ("permissions", "grants", "message"),
    [
        ({"extra:read": "x"}, {"analyst": ("extra:fly",)}, "unknown permission(s) extra:fly"),
        ({"org.node:read": "mine now"}, {}, "already defined by org"),
        ({"extra": "no action"}, {}, "not resource:action"),
    ],
)
async def test_a_spec_that_cannot_be_registered_is_refused_naming_the_problem(
    session: AsyncSession, permissions: dict[str, str], grants: dict[str, tuple[str, ...]], message: str
) -> None:
    await _register(session, _built_in())
    bad = ServiceSpec(name="extra", app="kam_extra.main:create_app", permissions=permissions, grants=grants)
    with pytest.raises(RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await _register(session, {**_built_in(), "extra": bad})
