"""The demo seed (idempotent), the account-manager list for the customer seeder, operator tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_org.main import MIGRATIONS
from kam_org.seed import DEMO_PASSWORD, list_account_managers, seed
from kam_org.tokens import issue_token

from .conftest import TOPO


async def _counts(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            out = {}
            for table in ("staff", "staff_role", "org_unit", "audit", "outbox"):
                out[table] = int(await conn.scalar(select(func.count()).select_from(text(f"org.{table}"))) or 0)
            return out
    finally:
        await engine.dispose()


async def test_seed_is_idempotent_and_lists_account_managers(
    make_database: Callable[[str, list[str]], str],
) -> None:
    url = make_database("test_org_seed", [MIGRATIONS])
    await seed(url, "gd-gz", TOPO)
    first = await _counts(url)
    await seed(url, "gd-gz", TOPO)
    assert await _counts(url) == first
    assert first["org_unit"] == 2
    assert first["staff"] >= 11
    # each record's state event, and each audit row's event (audit replicates up the tree too)
    assert first["outbox"] == first["staff"] + first["org_unit"] + first["audit"]

    managers = await list_account_managers(url, "gd-gz")
    assert len(managers) >= 5
    assert [u for u, _ in managers][:5] == ["am01", "am02", "am03", "am04", "am05"]
    assert all(len(name) >= 2 and name != username for username, name in managers)
    assert DEMO_PASSWORD == "kam-demo-2026"


async def test_operator_token_uses_the_node_key_and_the_same_claims(
    make_database: Callable[[str, list[str]], str],
) -> None:
    url = make_database("test_org_seed", [MIGRATIONS])
    await seed(url, "gd-gz", TOPO)
    token = await issue_token(url, "gd-gz", "admin", TOPO)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            jwk = (await conn.execute(text("SELECT public_jwk FROM org.signing_key WHERE is_active"))).scalar_one()
    finally:
        await engine.dispose()
    claims = jwt.decode(token, jwt.PyJWK(jwk), algorithms=["EdDSA"], audience="kam")
    assert claims["sub"] == "admin"
    assert claims["iss"] == "kam:gd-gz"
    assert claims["roles"] == ["ka_dept_manager", "sys_admin"]
    assert "org.staff:write" in claims["perms"] and "customer:transfer" in claims["perms"]
    assert set(claims) == {"sub", "node", "scope_node", "roles", "perms", "name", "iat", "exp", "jti", "aud", "iss"}


async def test_concurrent_startups_create_exactly_one_signing_key(
    make_database: Callable[[str, list[str]], str],
) -> None:
    import asyncio

    from kam_org.auth import service as auth_service
    from kam_platform.db import create_database

    url = make_database("test_org_keys", [MIGRATIONS])
    dbs = [create_database(url, pool_size=1) for _ in range(3)]

    async def start(db: Any) -> None:
        async with db.sessionmaker() as session, session.begin():
            await auth_service.ensure_signing_key(session)

    try:
        await asyncio.gather(*(start(db) for db in dbs))
        await start(dbs[0])
        async with dbs[0].engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM org.signing_key")) == 1
    finally:
        for db in dbs:
            await db.dispose()


def test_openapi_document_builds() -> None:
    from kam_org.main import create_app
    from kam_platform.settings import Settings

    doc = create_app(Settings(node="gd-gz", service="org")).openapi()
    assert "/api/v1/org/staff" in doc["paths"]
    assert "/api/v1/auth/token" in doc["paths"]


async def test_every_seeded_user_logs_in_with_the_demo_password_only(
    make_database: Callable[[str, list[str]], str],
) -> None:
    """The seed hashes the demo password once per process (kam_org.seed.demo_password_hash): the hash
    every seeded user gets is a real argon2 hash of that password, and of no other."""
    from kam_org.auth.passwords import verify_password

    url = make_database("test_org_seed", [MIGRATIONS])
    await seed(url, "gd-gz", TOPO)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            hashes = (await conn.execute(text("SELECT password_hash FROM org.staff WHERE owner_node = 'gd-gz'"))).all()
    finally:
        await engine.dispose()
    assert len(hashes) >= 11
    for (password_hash,) in hashes:
        assert password_hash.startswith("$argon2id$")
        assert await verify_password(password_hash, DEMO_PASSWORD)
        assert not await verify_password(password_hash, DEMO_PASSWORD + "x")
