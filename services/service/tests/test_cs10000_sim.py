"""The 10000 adapter's sender against the real simulator process (python -m kam_sim10000): a simulator
that is down (not running, or answering 503) or slow (answers after the sender gave up) loses nothing
and takes nothing twice; the daily reconciliation lists what the simulator does not hold or refused."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_platform.embedded.ports import free_port
from kam_platform.embedded.process import ProcessRef, spawn
from kam_platform.testing.helpers import wait_until
from kam_service.cs10000 import outbound
from kam_service.cs10000.config import Cs10000Settings
from kam_service.cs10000.schemas import MsgType
from kam_service.cs10000.sender import Sender
from kam_service.cs10000.transport import Transport
from kam_service.models.cs10000 import CsOutbound

from .conftest import PERMS, T0, MovableClock

BASE = "/api/v1/service/cs10000"
CS_PERMS = [*PERMS, "service.cs10000:call", "service.cs10000:admin"]


class Simulator:
    """One simulator process on a fixed port (so KAM's configured URL stays right across restarts)."""

    def __init__(self, port: int, data_dir: Path, log: Path) -> None:
        self.port, self.data_dir, self.log = port, data_dir, log
        self.url = f"http://127.0.0.1:{port}"
        self.ref: ProcessRef | None = None

    def start(self, *args: str) -> None:
        argv = [sys.executable, "-m", "kam_sim10000", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        self.ref = spawn([*argv, *args], log_path=self.log)

        def ready() -> bool:
            assert self.ref is not None and self.ref.alive(), self.log.read_text()
            try:
                return httpx.get(self.url + "/ready", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=30, what="the 10000 simulator")

    def stop(self) -> None:
        if self.ref is not None:
            self.ref.terminate()
            self.ref = None

    def configure(self, **knobs: Any) -> None:
        assert httpx.put(self.url + "/sim/config", json=knobs).status_code == 200

    def received(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(self.url + "/sim/received").json()
        return body


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    s = Simulator(free_port(), tmp_path / "sim", tmp_path / "sim.log")
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
async def sender(sim: Simulator, sessions: async_sessionmaker[AsyncSession], clock: MovableClock) -> Any:
    config = Cs10000Settings(url=sim.url, timeout_seconds=0.5, backoff_seconds=2, backoff_max_seconds=60)
    transport = Transport(sim.url, timeout=config.timeout_seconds)
    s = Sender(sessions, node="gd-gz", config=config, transport=transport, clock=clock, jitter=lambda: 1.0)
    yield s
    await transport.aclose()


@pytest.fixture
def register(
    clients: dict[str, httpx.AsyncClient], auth: Callable[..., dict[str, str]], insert_customer: Any
) -> Callable[[int], Any]:
    """`n` key accounts with a number each at gd-gz: n KA_LIST_SYNC messages queued."""

    async def make(n: int, start: int = 0) -> list[str]:
        headers = auth("gd-gz", user="cs-admin", perms=CS_PERMS)
        numbers = []
        for i in range(start, start + n):
            cid = await insert_customer("gd-gz", f"客户{i}")
            number = f"139{i:08d}"
            r = await clients["gd-gz"].put(f"{BASE}/serviceNumber/{number}", json={"customerId": cid}, headers=headers)
            assert r.status_code == 201, r.text
            numbers.append(number)
        return numbers

    return make


async def queue(sessions: async_sessionmaker[AsyncSession]) -> list[CsOutbound]:
    async with sessions() as session:
        return list((await session.scalars(select(CsOutbound).order_by(CsOutbound.seq))).all())


async def drain(
    sender: Sender, clock: MovableClock, sessions: async_sessionmaker[AsyncSession], passes: int = 30
) -> None:
    """Sender passes, the clock moved past every back-off, until nothing is pending (bounded)."""
    for _ in range(passes):
        if all(m.status != "PENDING" for m in await queue(sessions)):
            return
        await sender.run_once()
        clock.advance(seconds=61)
    raise AssertionError(f"still pending after {passes} passes: {[m.idempotency_key for m in await queue(sessions)]}")


def assert_each_taken_once(sim: Simulator, keys: set[str]) -> None:
    got = sim.received()
    assert {m["msg_id"] for m in got["messages"]} == keys
    assert got["unique"] == len(keys)  # nothing lost, nothing applied twice


async def test_simulator_down_then_up_gets_every_message_once(
    sim: Simulator, sender: Sender, register: Any, sessions: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    await register(12)
    # not running at all: every message queued, back-off scheduled
    first = await sender.run_once()
    assert (first.retried, first.acked) == (12, 0)
    pending = await queue(sessions)
    assert {m.status for m in pending} == {"PENDING"} and {m.attempts for m in pending} == {1}
    assert all(m.next_attempt_at > clock.now for m in pending)
    assert (await sender.run_once()).sent == 0  # nothing due before the back-off ends

    sim.start("--down")  # running, but answering 503
    clock.advance(seconds=61)
    assert (await sender.run_once()).retried == 12
    assert sim.received()["unique"] == 0

    sim.configure(down=False)
    await drain(sender, clock, sessions)
    rows = await queue(sessions)
    assert {m.status for m in rows} == {"ACKED"}
    assert_each_taken_once(sim, {m.idempotency_key for m in rows})
    assert len(sim.received()["kaList"]) == 12

    # restarted (its record kept on disk), a message sent again is recognised as a repeat
    sim.stop()
    sim.start()
    assert sim.received()["unique"] == 12


async def test_slow_or_flaky_simulator_loses_and_duplicates_nothing(
    sim: Simulator, sender: Sender, register: Any, sessions: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    sim.start("--latency-ms", "1500")  # answers after the sender's 0.5 s timeout
    await register(8)
    slow = await sender.run_once()
    assert slow.retried == 8 and slow.acked == 0
    wait_until(lambda: sim.received()["unique"] == 8, timeout=30, what="the slow simulator took the messages")

    # now fast but flaky: failures, and acknowledgements lost after taking the message
    sim.configure(latency_ms=0, failure_rate=0.3, ack_loss_rate=0.3)
    await register(8, start=8)
    await drain(sender, clock, sessions, passes=60)
    rows = await queue(sessions)
    assert {m.status for m in rows} == {"ACKED"} and len(rows) == 16
    assert_each_taken_once(sim, {m.idempotency_key for m in rows})
    assert sim.received()["repeats"] >= 8  # the slow pass's messages came again, and were not taken twice


async def test_reconciliation_lists_what_the_simulator_does_not_hold_or_refused(
    sim: Simulator,
    sender: Sender,
    register: Any,
    sessions: async_sessionmaker[AsyncSession],
    clock: MovableClock,
    tmp_path: Path,
) -> None:
    sim.start()
    await register(3)
    async with sessions() as session, session.begin():  # a message the 10000 system refuses for good
        await outbound.enqueue(
            session, msg_type=MsgType.SURVEY_RESULT, key="SURVEY_RESULT:bad", order_key="x:1", payload={}, now=clock.now
        )
    await drain(sender, clock, sessions)
    rows = {m.idempotency_key: m for m in await queue(sessions)}
    assert rows["SURVEY_RESULT:bad"].status == "NACKED" and rows["SURVEY_RESULT:bad"].ack_code == "UNKNOWN_MSG_TYPE"

    # the simulator comes back with an empty record: the three acknowledged messages are not there
    sim.stop()
    sim.data_dir = tmp_path / "sim-fresh"
    sim.start()
    async with sessions() as session, session.begin():
        report = await sender.reconcile(session, day=T0.date())
    assert (report.queued, report.acked) == (4, 3)
    problems = sorted((m["problem"], m["msgType"]) for m in report.mismatches)
    assert problems == [("NOT_RECEIVED", "KA_LIST_SYNC")] * 3 + [("REFUSED", "SURVEY_RESULT")]

    # the daily run: the day before, once (injectable clock)
    clock.now = T0 + timedelta(days=1)
    async with sessions() as session, session.begin():
        await session.execute(text("DELETE FROM service.cs_reconciliation WHERE day = :d"), {"d": T0.date()})
    daily = await sender.reconcile_due()
    assert daily is not None and daily.day == T0.date() and len(daily.mismatches) == 4
    assert await sender.reconcile_due() is None
