"""`while_running`, the import's overlap of a statement with Python work (a chunk's duplicate count while
the next chunk's rows are planned): the statement is running in the database while the work runs, the
work's result is returned, and the statement is finished on return — also when the work fails, so the
connection is free for the next statement."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg
import pytest

from kam_customer.importexport.service import while_running

LOCK = 741_852  # an advisory lock of this test's own
T = TypeVar("T")


class _Elsewhere:
    """An event loop in a thread of its own, for a second session the synchronous work can use."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


async def test_the_statement_runs_in_the_database_while_the_work_runs_and_is_done_on_return(pg_dsn: str) -> None:
    elsewhere = _Elsewhere()
    holder = elsewhere.run(asyncpg.connect(pg_dsn))
    conn = await asyncpg.connect(pg_dsn)
    try:
        # prepared once (asyncpg's statement cache), as the count of every chunk after the first is: a new
        # statement is only parsed before the work, and runs after it
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK + 1)
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK + 1)
        elsewhere.run(holder.execute("SELECT pg_advisory_lock($1)", LOCK))
        pid = conn.get_server_pid()
        seen: list[tuple[str, str]] = []

        def work() -> str:
            # the statement waits in the database for the lock the other session holds
            row = elsewhere.run(
                holder.fetchrow("SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)
            )
            seen.append((row["state"], row["wait_event_type"]))
            elsewhere.run(holder.execute("SELECT pg_advisory_unlock($1)", LOCK))
            return "planned"

        assert await while_running(conn.execute("SELECT pg_advisory_lock($1)", LOCK), work) == "planned"
        assert seen == [("active", "Lock")]
        # and it is finished: this session holds the lock now
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 AND granted"
        assert await conn.fetchval(held, pid) == 1
    finally:
        await conn.close()
        elsewhere.run(holder.close())
        elsewhere.stop()


async def test_when_the_work_fails_the_statement_is_still_finished_before_the_error_goes_up(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:

        def work() -> None:
            raise ValueError("a planning error")

        with pytest.raises(ValueError, match="a planning error"):
            await while_running(conn.execute("SELECT pg_sleep(0.05)"), work)
        assert await conn.fetchval("SELECT 1") == 1  # not "another operation is in progress"
    finally:
        await conn.close()
