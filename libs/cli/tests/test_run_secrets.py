"""Secrets a local run keeps on disk are private (issue 6, finding 16): run.json (database URLs with
the PostgreSQL password), the NATS credentials and the PostgreSQL password are 0600 in a run dir no
other user may enter, and local `kam` commands still reach the databases through run.json."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from kam_cli.runtime import Federation
from kam_cli.services import identity_service
from kam_platform.errors import NotFound

ROOT = Path(__file__).resolve().parents[3]
ISSUER = identity_service()  # the installed token issuer: what `kam token` asks
TRIO = ROOT / "deploy" / "topologies" / "trio.yaml"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[Federation]:
    # the real start path up to the databases: embedded PostgreSQL, one database per node, the token
    # issuer's migrations
    assert ISSUER is not None
    f = Federation(TRIO, tmp_path / "run", services=[ISSUER.name], use_environment=False, pg_fast=True)
    f._secure_run_dir()
    f._start_postgres()
    f._migrate()
    f.credentials()
    yield f
    f.stop()


async def test_run_state_and_credentials_are_private_and_still_usable(fed: Federation) -> None:
    run_dir = fed.run_dir
    assert _mode(fed.state_path) == 0o600
    assert _mode(fed.credentials_path) == 0o600
    assert fed.postgres is not None and _mode(fed.postgres.password_file) == 0o600
    # nobody but the owner may list or enter the run dir; as root the PostgreSQL user (another uid)
    # may only traverse it, through its group
    if os.geteuid() == 0:
        assert _mode(run_dir) == 0o710
    else:
        assert _mode(run_dir) == 0o700
    assert not list(run_dir.glob("*.tmp")) and not list(run_dir.glob(".*.tmp"))

    state = json.loads(fed.state_path.read_text())
    url = state["nodes"][0]["database_url"]
    assert urlsplit(url).password == fed.postgres.password
    plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    parts = urlsplit(plain)
    with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
        await asyncpg.connect(
            host=parts.hostname, port=parts.port, user="postgres", password="", database=parts.path.lstrip("/")
        )

    # what `kam token` does: attach to the run and use the recorded database URL
    attached = Federation.attach(run_dir)
    assert attached is not None
    code = state["nodes"][0]["code"]
    assert ISSUER is not None
    issue_token = ISSUER.hook("issue_token")
    assert issue_token is not None
    with pytest.raises(NotFound):  # the database answered (no such user); a refused login would be OSError
        await issue_token(attached.database_url(code), code, "nobody", attached.topology)

    fed.save_state()  # rewriting keeps the mode
    assert _mode(fed.state_path) == 0o600
