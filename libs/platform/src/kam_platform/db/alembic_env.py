"""The shared body of every service's alembic env.py: async engine, one schema per service."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def run(metadata: MetaData) -> None:
    schema = metadata.schema
    assert schema, "service metadata must name its schema"
    url = context.config.get_main_option("sqlalchemy.url")
    assert url

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    def do_run(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        raise RuntimeError("offline migrations are not supported")
    asyncio.run(main()) if not _loop_running() else _run_in_thread(main)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_thread(main: object) -> None:
    import threading

    exc: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main())  # type: ignore[operator]
        except BaseException as e:  # pragma: no cover - re-raised below
            exc.append(e)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if exc:
        raise exc[0]
