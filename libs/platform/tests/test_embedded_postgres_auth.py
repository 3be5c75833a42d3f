"""The embedded PostgreSQL authenticates every connection with a password (scram-sha-256), never
`trust`: another local user who can reach the port must not read the signing keys (issue 6, finding 16)."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from kam_platform.embedded.postgres import EmbeddedPostgres

REFUSED = (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _refuses_without_password(pg: EmbeddedPostgres) -> None:
    assert pg.port is not None
    with pytest.raises(REFUSED):
        await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres", password="", database="postgres")
    with pytest.raises(REFUSED):
        await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres", password="wrong", database="postgres")
    # the Unix socket too (trust on "local" lines would let any process on the machine in)
    with pytest.raises(REFUSED):
        await asyncpg.connect(host=str(pg._socket_dir()), port=pg.port, user="postgres", database="postgres")


async def _accepts_dsn(pg: EmbeddedPostgres) -> None:
    conn = await asyncpg.connect(pg.dsn("postgres"))
    try:
        assert await conn.fetchval("SELECT current_user") == "postgres"
    finally:
        await conn.close()


async def test_embedded_postgres_refuses_a_connection_without_the_password(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg" / "data", fast=True)
    pg.start()
    try:
        assert _mode(pg.password_file) == 0o600
        assert urlsplit(pg.dsn()).password == pg.password
        hba = [
            line.split()
            for line in (pg.data_dir / "pg_hba.conf").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert hba and {fields[-1] for fields in hba} == {"scram-sha-256"}
        await _refuses_without_password(pg)
        await _accepts_dsn(pg)
    finally:
        pg.stop()


async def test_a_cluster_initialised_with_trust_is_switched_to_password_auth(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg" / "data", fast=True)
    pg.start()
    pg.stop()
    # what an older version left behind: trust everywhere and no password file
    hba = pg.data_dir / "pg_hba.conf"
    hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
    pg.password_file.unlink()
    pg.start()
    try:
        assert pg.password is not None and _mode(pg.password_file) == 0o600
        assert "trust" not in [line.split()[-1] for line in hba.read_text().splitlines() if line.split()]
        await _refuses_without_password(pg)
        await _accepts_dsn(pg)
    finally:
        pg.stop()
