"""Register the installed services' permissions and default grants (ServiceSpec.permissions/grants).

It runs when a node's migrations have run (org's `after_migrate` hook, called by the runtime for every
node), with every discovered spec: all services of a node come from one install, so org reads their
specs itself. Registration is a deployment step like the migrations, not something each app start
redoes. Per service the registry keeps the digest of what it registered and the
grants it gave:

- same digest → nothing to do (restarts are no-ops);
- a new or changed spec → its permissions are added and their descriptions updated, and the grants the
  spec has gained since its last registration are given (an audited, published role change, like one
  an administrator makes);
- nothing is ever revoked or deleted: a grant or permission the spec no longer lists stays (an
  administrator may rely on it; removing one is the administrator's decision), and a default grant an
  administrator removed is not given again while the spec keeps listing it.

Migration 0005 records what migrations 0001-0003 wrote as the baseline of org, customer and sync, so
existing databases move to the registry without any change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller
from kam_org.audit import service as audit
from kam_org.models.permission_registry import PermissionRegistration
from kam_org.registry.repository import RegistryRepository
from kam_org.role import events as role_events
from kam_platform.auth import Principal
from kam_platform.db import create_database
from kam_platform.service import ServiceSpec, discover
from kam_platform.topology import Topology

log = logging.getLogger(__name__)

ACTOR = "permission-registry"


class RegistryError(ValueError):
    """A spec that cannot be registered (a bug in a service's spec, found at start-up)."""


@dataclass
class Registration:
    """What registering one service changed."""

    service: str
    version: int
    permissions: list[str] = field(default_factory=list)  # added or re-described
    grants: dict[str, list[str]] = field(default_factory=dict)  # role → codes granted now
    unknown_roles: list[str] = field(default_factory=list)


def registry_caller(node: str, topology: Topology) -> Caller:
    principal = Principal(
        username=ACTOR,
        home_node=node,
        scope_node=node,
        roles=frozenset(),
        permissions=frozenset({"*"}),
        display_name="permission registry",
    )
    return Caller(principal=principal, node=node, topology=topology)


def _check(specs: Mapping[str, ServiceSpec], registered: Mapping[str, PermissionRegistration]) -> None:
    owner: dict[str, str] = {}
    for reg in registered.values():
        for code in reg.permissions:
            owner.setdefault(code, reg.service)
    for spec in specs.values():
        for code in spec.permissions:
            if ":" not in code:
                raise RegistryError(f"{spec.name}: permission {code!r} is not resource:action")
            other = owner.get(code, spec.name)
            if other != spec.name:
                raise RegistryError(f"{spec.name}: permission {code!r} is already defined by {other}")
            owner[code] = spec.name


async def register(session: AsyncSession, *, specs: Mapping[str, ServiceSpec], caller: Caller) -> list[Registration]:
    """Register every spec whose permissions or grants changed since its last registration; returns
    what changed (empty when nothing did). Raises RegistryError for a spec that grants an unknown
    permission or defines another service's."""
    repo = RegistryRepository.from_session(session)
    await repo.lock()
    registered = await repo.registrations()
    _check(specs, registered)
    changed = [s for s in specs.values() if (r := registered.get(s.name)) is None or r.digest != s.permissions_digest()]
    if not changed:
        return []
    for spec in changed:
        await repo.upsert_permissions(spec.permissions)
    catalogue = await repo.catalogue()
    out: list[Registration] = []
    for spec in changed:
        previous = registered.get(spec.name)
        before = previous.permissions if previous is not None else {}
        result = Registration(
            service=spec.name,
            version=(previous.version if previous is not None else 0) + 1,
            permissions=sorted(c for c, d in spec.permissions.items() if before.get(c) != d),
        )
        unknown = sorted({c for codes in spec.grants.values() for c in codes} - set(catalogue))
        if unknown:
            raise RegistryError(f"{spec.name}: grants unknown permission(s) {', '.join(unknown)}")
        given = previous.grants if previous is not None else {}
        new = {role: set(codes) - set(given.get(role, ())) for role, codes in spec.grants.items()}
        new = {role: codes for role, codes in new.items() if codes}
        roles = await repo.roles_for_update(new)
        result.unknown_roles = sorted(set(new) - set(roles))
        for code in result.unknown_roles:
            log.warning("permission registry: %s grants to role %r, which this node does not have", spec.name, code)
        for code, role in roles.items():
            old = sorted(await repo.permissions_of(role.id))
            added = await repo.add_grants(role.id, new[code])
            if not added:
                continue
            role.version += 1
            await session.flush()
            now = sorted(await repo.permissions_of(role.id))
            await audit.record(
                session,
                caller=caller,
                entity_type="role",
                entity_id=role.id,
                action="update",
                old={"permissions": old},
                new={"permissions": now},
                note=f"role {role.code}: default grants of {spec.name}",
            )
            await role_events.role_changed(session, caller=caller, role=role, permissions=now)
            result.grants[code] = added
        row = previous or PermissionRegistration(service=spec.name, version=0)
        row.digest = spec.permissions_digest()
        row.permissions = dict(spec.permissions)
        row.grants = {role: sorted(set(codes)) for role, codes in spec.grants.items()}
        row.version = result.version
        row.registered_at = datetime.now(UTC)
        await repo.save(row)
        log.info(
            "permission registry: %s v%d (%d permission(s) added or re-described, grants %s)",
            spec.name,
            result.version,
            len(result.permissions),
            result.grants or "unchanged",
        )
        out.append(result)
    return out


async def register_installed(database_url: str, node: str, topology: Topology) -> list[Registration]:
    """The `after_migrate` hook: register every installed service's spec in a node's database, once its
    services' migrations ran (kam_cli.runtime runs it for each node)."""
    db = create_database(database_url, pool_size=1, application_name=f"kam-permission-registry-{node}")
    try:
        async with db.sessionmaker() as session, session.begin():
            return await register(session, specs=discover(), caller=registry_caller(node, topology))
    finally:
        await db.dispose()
