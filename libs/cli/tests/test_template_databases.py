"""A node database created from the migrated template (`Federation(clone_databases=True)`, what the
federation tests start) is the database the migrations make: every schema, table, index, constraint,
function and row — alembic_version included — equal to a database migrated service by service as
`kam up` does; and the template is named by a digest of the migrations, so a changed migration is
never served from an old template."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from alembic.script import ScriptDirectory

from kam_cli.runtime import (
    TEMPLATE_PREFIX,
    _script_dir,
    default_migrate,
    migrate_template,
    migration_digest,
    template_name,
)
from kam_cli.services import SPECS
from kam_platform.db.migrate import alembic_config
from kam_platform.embedded.postgres import (
    asyncpg_url,
    create_database_from,
    ensure_database,
    is_template,
    pg_bin_dir,
    with_database,
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00")


def _pg_dump(server_dsn: str, database: str, *options: str) -> str:
    out = subprocess.run(
        [str(pg_bin_dir() / "pg_dump"), "--no-password", *options, "-d", with_database(server_dsn, database)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    # `\restrict <key>`: a random key pg_dump draws on each run
    return "\n".join(line for line in out.splitlines() if not re.match(r"^\\(un)?restrict ", line))


def _numbered(pattern: re.Pattern[str], label: str, text: str) -> str:
    seen: dict[str, int] = {}
    return pattern.sub(lambda m: f"<{label} {seen.setdefault(m.group(0), len(seen))}>", text)


def dump(server_dsn: str, database: str) -> str:
    """The database as pg_dump writes it: the schema as it is; the rows with the values a migration
    draws anew on every run — ids from gen_random_uuid() (org's roles), now() of the migration — each
    replaced by its number in order of first appearance, so two migrations of empty databases give the
    same text, and every reference between rows (a role's permissions) still has to match."""
    schema = _pg_dump(server_dsn, database, "--schema-only")
    data = _numbered(TIMESTAMP, "time", _numbered(UUID, "uuid", _pg_dump(server_dsn, database, "--data-only")))
    return schema + "\n" + data


def test_a_clone_of_the_template_equals_a_freshly_migrated_database(pg_dsn: str) -> None:
    migrated = [spec for spec in SPECS.values() if spec.migrations]
    assert len(migrated) >= 2  # every installed service with a schema
    ensure_database(pg_dsn, "tpl_fresh")
    fresh_url = asyncpg_url(with_database(pg_dsn, "tpl_fresh"))
    for spec in migrated:  # as migrate_node does on a node's database
        assert spec.migrations
        default_migrate(fresh_url, spec.migrations)

    template = migrate_template(pg_dsn, SPECS, default_migrate)
    assert template == template_name(SPECS) and template.startswith(TEMPLATE_PREFIX)
    assert is_template(pg_dsn, template)
    create_database_from(pg_dsn, "tpl_clone", template)

    fresh, clone = dump(pg_dsn, "tpl_fresh"), dump(pg_dsn, "tpl_clone")
    assert clone == fresh
    # and the dump is of the migrated schemas: each service's alembic_version at its head revision
    for spec in migrated:
        assert spec.migrations
        head = ScriptDirectory.from_config(alembic_config(fresh_url, spec.migrations)).get_current_head()
        schema = spec.migrations.split(":")[0].removeprefix("kam_")
        assert f"CREATE TABLE {schema}.alembic_version" in clone, schema
        assert re.search(rf"COPY {schema}\.alembic_version .*\n{head}\n", clone), (schema, head)

    # a second federation on the same server takes the finished template as it is
    assert migrate_template(pg_dsn, SPECS, lambda *_: (_ for _ in ()).throw(AssertionError("migrated again"))) == (
        template
    )


def test_an_unfinished_template_is_made_again(pg_dsn: str) -> None:
    """A template left half-made (a start killed while migrating it: not yet marked a template) is
    dropped and migrated again, never cloned."""
    spec = next(s for s in SPECS.values() if s.migrations)
    assert spec.migrations
    specs = {spec.name: dataclasses.replace(spec, name=f"unfinished-{uuid.uuid4().hex[:8]}")}  # a name of its own
    name = template_name(specs)
    ensure_database(pg_dsn, name)  # there, empty, not marked a template
    assert not is_template(pg_dsn, name)
    calls: list[str] = []

    def migrate(url: str, script: str) -> None:
        calls.append(script)
        default_migrate(url, script)

    assert migrate_template(pg_dsn, specs, migrate) == name
    assert calls == [spec.migrations]
    assert is_template(pg_dsn, name)
    create_database_from(pg_dsn, "tpl_unfinished_clone", name)
    assert dump(pg_dsn, "tpl_unfinished_clone") == dump_of_migrated(pg_dsn, "tpl_unfinished_fresh", [spec.migrations])


def dump_of_migrated(pg_dsn: str, database: str, scripts: list[str]) -> str:
    ensure_database(pg_dsn, database)
    url = asyncpg_url(with_database(pg_dsn, database))
    for script in scripts:
        default_migrate(url, script)
    return dump(pg_dsn, database)


def test_the_template_name_changes_with_any_migration_file(tmp_path: Path) -> None:
    spec = next(s for s in SPECS.values() if s.migrations)
    assert spec.migrations
    copy = tmp_path / "migrations"
    shutil.copytree(_script_dir(spec.migrations), copy, ignore=shutil.ignore_patterns("__pycache__"))
    specs = {spec.name: dataclasses.replace(spec, migrations=str(copy))}
    base = migration_digest(specs)
    assert migration_digest(specs) == base  # stable

    version = sorted((copy / "versions").glob("*.py"))[-1]
    original = version.read_bytes()
    version.write_bytes(original + b"\n# changed\n")
    assert migration_digest(specs) != base
    version.write_bytes(original)
    assert migration_digest(specs) == base

    (copy / "versions" / "9999_new.py").write_text('revision = "x"\n')
    assert migration_digest(specs) != base
