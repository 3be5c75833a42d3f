"""The forecast's and funnel's roll-up (sales.opportunity_rollup, kept by triggers on the opportunity
table): after creates, stage moves, amount / close-date / account-manager changes, won and lost deals, an
applied replica event, a replayed older version and an owner's snapshot repair, the roll-up equals a
fresh aggregate of the opportunities, and the forecast and funnel answers — over whole months (read from
the roll-up) and over a period with partial months (its edges read from the opportunities) — equal the
same figures computed directly from the opportunity rows; a province's user sees only its subtree."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_contracts import envelope_pb2
from kam_platform.auth import sign_token
from kam_platform.db.migrate import upgrade
from kam_platform.embedded.postgres import asyncpg_url, ensure_database, with_database
from kam_platform.outbox import build_event
from kam_platform.replication import Event
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.plugin import TOKEN_KID, bearer
from kam_platform.topology import Topology
from kam_sales.main import MIGRATIONS
from kam_sales.models import Opportunity, OpportunityRollup
from kam_sales.opportunity.dataset import OPPORTUNITIES

OPPS = "/api/v1/sales/opportunities"
FORECAST = "/api/v1/sales/forecast"
FUNNEL = "/api/v1/sales/funnel"
STAGES = ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"]
OPEN = STAGES[:4]
CENT = Decimal("0.01")
TOPO = Topology.load(topology_file("demo"))
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
WHOLE = {"start": "2030-01-01", "end": "2030-04-01"}  # whole months: all from the roll-up
PARTIAL = {"start": "2030-01-10", "end": "2030-03-31"}  # February from the roll-up, the edges not


async def _create(c: httpx.AsyncClient, auth: Auth, node: str, value: str, close: str | None, **over: Any) -> str:
    body: dict[str, Any] = {
        "name": "汇总测试",
        "customer": {"id": str(uuid.uuid4())},
        "expectedAmount": {"unit": "CNY", "value": value},
        **({"closeDate": close} if close else {}),
        **over,
    }
    r = await c.post(OPPS, json=body, headers=auth(node))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _patch(c: httpx.AsyncClient, auth: Auth, node: str, oid: str, **body: Any) -> None:
    r = await c.patch(f"{OPPS}/{oid}", json=body, headers=auth(node))
    assert r.status_code == 200, r.text


def _event(row: Opportunity, *, snapshot: bool = False) -> Event:
    _, subject, _, payload = build_event(
        node=row.owner_node,
        service="sales",
        aggregate_type="opportunity",
        aggregate_id=str(row.id),
        version=row.version,
        message=OPPORTUNITIES.to_message(row),
        actor="am9",
        snapshot=snapshot,
    )
    return Event(envelope_pb2.Envelope.FromString(payload), subject, f"UP_{row.owner_node}")


def _replica(oid: uuid.UUID, version: int, stage: str, probability: int, amount: str, currency: str) -> Opportunity:
    at = datetime(2027, 1, 1, tzinfo=UTC)
    return Opportunity(
        id=oid,
        owner_node="gd-sz",
        version=version,
        customer_id=uuid.UUID(int=7),
        name="深圳复制",
        source="SELF",
        stage=stage,
        probability=probability,
        probability_rule="default",
        expected_amount=Decimal(amount),
        currency=currency,
        close_date=date(2030, 2, 20),
        account_manager="am9",
        products=[],
        decision_chain=[],
        stage_history=[],
        created_by="am9",
        created_at=at,
        updated_at=at,
    )


async def _rows(s: AsyncSession) -> list[Opportunity]:
    return list((await s.scalars(select(Opportunity))).all())


async def _rollup_matches_a_fresh_aggregate(s: AsyncSession) -> None:
    kept = {
        (r.owner_node, r.account_manager, r.stage, r.currency, r.close_month): (r.deals, r.amount, r.weighted)
        for r in (await s.scalars(select(OpportunityRollup))).all()
    }
    fresh: dict[tuple[Any, ...], tuple[int, Decimal, Decimal]] = {}
    for o in await _rows(s):
        key = (o.owner_node, o.account_manager, o.stage, o.currency, o.close_date and o.close_date.replace(day=1))
        n, a, w = fresh.get(key, (0, Decimal(0), Decimal(0)))
        fresh[key] = (n + 1, a + o.expected_amount, w + o.expected_amount * o.probability / 100)
    assert kept == fresh


def _in(o: Opportunity, start: str | None, end: str | None) -> bool:
    if start is None and end is None:
        return True
    if o.close_date is None:
        return False
    return (start is None or o.close_date >= date.fromisoformat(start)) and (
        end is None or o.close_date < date.fromisoformat(end)
    )


def _line_key(node: str, owner: str) -> str | None:
    if owner == node:
        return node
    return next((c for c in TOPO.children(node) if TOPO.is_in_subtree(owner, c)), None)


def _expected_forecast(rows: list[Opportunity], node: str, period: dict[str, str], by: str) -> list[Any]:
    lines: dict[tuple[str, str], list[Any]] = {}
    for o in rows:
        if not TOPO.is_in_subtree(o.owner_node, node) or not _in(o, period["start"], period["end"]):
            continue
        key = o.account_manager if by == "accountManager" else _line_key(node, o.owner_node)
        assert key is not None
        line = lines.setdefault((key, o.currency), [0, Decimal(0), Decimal(0), Decimal(0), 0])
        if o.stage in OPEN:
            line[0] += 1
            line[1] += o.expected_amount
            line[2] += o.expected_amount * o.probability / 100
        if o.stage == "WON":
            line[3] += o.expected_amount
            line[4] += 1
    if by == "node":
        for child in [node, *TOPO.children(node)]:
            if not any(k == child for k, _ in lines):
                lines[(child, "CNY")] = [0, Decimal(0), Decimal(0), Decimal(0), 0]
    return [
        [k, cur, n, str(p.quantize(CENT)), str(w.quantize(CENT)), str(c.quantize(CENT)), won]
        for (k, cur), (n, p, w, c, won) in sorted(lines.items())
    ]


def _answered_forecast(body: dict[str, Any], by: str) -> list[Any]:
    key = "accountManager" if by == "accountManager" else "node"
    return [
        [
            x[key],
            x["currency"],
            x["openCount"],
            x["pipeline"]["value"],
            x["weighted"]["value"],
            x["committed"]["value"],
            x["wonCount"],
        ]
        for x in body["lines"]
    ]


def _expected_funnel(rows: list[Opportunity], node: str, start: str | None, end: str | None) -> list[Any]:
    out: dict[str, tuple[int, dict[str, Decimal]]] = {s: (0, {}) for s in STAGES}
    for o in rows:
        if TOPO.is_in_subtree(o.owner_node, node) and _in(o, start, end):
            n, amounts = out[o.stage]
            amounts[o.currency] = amounts.get(o.currency, Decimal(0)) + o.expected_amount
            out[o.stage] = (n + 1, amounts)
    return [
        [s, n, sorted((cur, str(v.quantize(CENT))) for cur, v in amounts.items())] for s, (n, amounts) in out.items()
    ]


def _answered_funnel(body: dict[str, Any]) -> list[Any]:
    return [[x["stage"], x["count"], sorted((m["unit"], m["value"]) for m in x["amounts"])] for x in body["stages"]]


async def _answers_equal_the_opportunities(
    clients: Clients, auth: Auth, s: AsyncSession, node: str, headers: dict[str, str]
) -> None:
    rows = await _rows(s)
    for period in (WHOLE, PARTIAL):
        for by in ("node", "accountManager"):
            r = await clients[node].get(FORECAST, params={**period, "by": by}, headers=headers)
            assert r.status_code == 200, r.text
            assert _answered_forecast(r.json(), by) == _expected_forecast(rows, node, period, by), (period, by)
    for start, end in ((None, None), (WHOLE["start"], WHOLE["end"]), (PARTIAL["start"], None), (None, "2030-03-15")):
        params = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
        r = await clients[node].get(FUNNEL, params=params, headers=headers)
        assert r.status_code == 200, r.text
        assert _answered_funnel(r.json()) == _expected_funnel(rows, node, start, end), (start, end)


async def test_rollup_follows_every_write_and_apply(
    clients: Clients, auth: Auth, rollback_conn: AsyncConnection
) -> None:
    gz, gd, nj = clients["gd-gz"], clients["gd"], clients["js-nj"]
    a = await _create(gz, auth, "gd-gz", "1000.00", "2030-02-15")
    b = await _create(gz, auth, "gd-gz", "500.00", "2030-01-05", stage="PROPOSAL")
    c = await _create(gz, auth, "gd-gz", "333.33", "2030-03-31")
    d = await _create(gd, auth, "gd", "2000.00", "2030-03-20", stage="NEGOTIATION", accountManager="am2")
    e = await _create(nj, auth, "js-nj", "300.00", "2030-01-10")
    await _create(nj, auth, "js-nj", "45.67", None)  # no close date: only in an unbounded funnel
    await _create(clients["hq"], auth, "hq", "88.88", "2030-02-28", stage="QUALIFIED")
    await _patch(gz, auth, "gd-gz", a, stage="QUALIFIED")  # a stage move (a new probability)
    await _patch(gz, auth, "gd-gz", a, expectedAmount={"unit": "CNY", "value": "1234.57"}, closeDate="2030-02-01")
    await _patch(gz, auth, "gd-gz", b, stage="WON", closeReason="签约")
    await _patch(gz, auth, "gd-gz", c, stage="LOST", closeReason="价格")
    await _patch(gd, auth, "gd", d, expectedAmount={"unit": "CNY", "value": "2100.55"}, closeDate="2030-03-31")
    await _patch(gd, auth, "gd", d, accountManager="am3")
    await _patch(nj, auth, "js-nj", e, closeDate="2031-01-01")  # out of every period
    await _patch(nj, auth, "js-nj", e, stage="PROPOSAL")
    async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as s:
        # an ancestor applies a local network's deal (a batch: two versions of it, the newest wins)...
        rid = uuid.uuid4()
        await OPPORTUNITIES.apply(
            s,
            [
                _event(_replica(rid, 2, "LEAD", 10, "10.00", "USD")),
                _event(_replica(rid, 3, "NEGOTIATION", 75, "777.77", "USD")),
            ],
        )
        # ...a replayed older version changes nothing...
        await OPPORTUNITIES.apply(s, [_event(_replica(rid, 1, "WON", 100, "1.00", "USD"))])
        # ...and the owner's snapshot repairs an equal-version divergence
        await OPPORTUNITIES.apply(s, [_event(_replica(rid, 3, "NEGOTIATION", 75, "778.01", "USD"), snapshot=True)])
        applied = await s.get(Opportunity, rid)
        assert applied is not None and applied.expected_amount == Decimal("778.01") and applied.currency == "USD"
        await s.flush()
        await _rollup_matches_a_fresh_aggregate(s)
        assert await s.scalar(text("SELECT count(*) FROM sales.opportunity_rollup WHERE deals = 0")) == 0
        await _answers_equal_the_opportunities(clients, auth, s, "hq", auth("hq"))
        await _answers_equal_the_opportunities(clients, auth, s, "gd", auth("gd"))
        await s.rollback()


async def test_rollup_answers_only_the_callers_subtree(
    clients: Clients, auth: Auth, rollback_conn: AsyncConnection, signing_key: Any
) -> None:
    await _create(clients["gd-gz"], auth, "gd-gz", "100.00", "2030-02-01")
    await _create(clients["gd"], auth, "gd", "200.00", "2030-02-01")
    await _create(clients["js-nj"], auth, "js-nj", "400.00", "2030-02-01")
    await _create(clients["hq"], auth, "hq", "800.00", "2030-02-01")
    async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as s:
        # a gd user, and an hq analyst whose scope is gd: the gd subtree's figures, nothing of js or hq
        for node, headers in (("gd", auth("gd")), ("hq", auth("hq", scope="gd"))):
            r = await clients[node].get(FUNNEL, params=WHOLE, headers=headers)
            mine = _expected_funnel(await _rows(s), "gd", WHOLE["start"], WHOLE["end"])
            assert _answered_funnel(r.json()) == mine
            lead = next(x for x in r.json()["stages"] if x["stage"] == "LEAD")
            assert lead["count"] >= 2 and "400.00" not in str(lead) and "800.00" not in str(lead)
            r = await clients[node].get(FORECAST, params=WHOLE, headers=headers)
            assert r.json()["node"] == "gd"
            assert {x["node"] for x in r.json()["lines"]} == {"gd", "gd-gz", "gd-sz"}
        await _answers_equal_the_opportunities(clients, auth, s, "gd", auth("gd"))
        # a portfolio-level user (own deals) reads the opportunities: only am1's deals of gd-gz count
        now = int(time.time())
        own = bearer(
            sign_token(
                signing_key,
                TOKEN_KID,
                {
                    "sub": "am1",
                    "node": "gd-gz",
                    "scope_node": "gd-gz",
                    "scope_level": "own",
                    "roles": [],
                    "perms": ["sales.opportunity:read"],
                    "iat": now,
                    "exp": now + 600,
                    "aud": "kam",
                    "iss": "kam:gd-gz",
                    "jti": "own-rollup",
                },
            )
        )
        await _create(clients["gd-gz"], auth, "gd-gz", "16.00", "2030-02-01", accountManager="am2")
        r = await clients["gd-gz"].get(FUNNEL, params=WHOLE, headers=own)
        rows = [o for o in await _rows(s) if o.account_manager == "am1"]
        assert _answered_funnel(r.json()) == _expected_funnel(rows, "gd-gz", WHOLE["start"], WHOLE["end"])
        await s.rollback()


ROW_SQL = (
    "INSERT INTO sales.opportunity (id, owner_node, version, customer_id, name, source, stage, probability, "
    "probability_rule, expected_amount, currency, close_date, account_manager, products, decision_chain, "
    "stage_history, created_by, created_at, updated_at) "
    "VALUES ($1, $2, 1, $1, 'x', 'SELF', $3, $4, 'default', $5, 'CNY', $6, $7, '[]', '[]', '[]', 'x', now(), now())"
)


def test_the_migration_backfills_existing_opportunities(pg_dsn: str) -> None:
    name = f"test_sales_rollup_{uuid.uuid4().hex[:8]}"
    ensure_database(pg_dsn, name)
    dsn = with_database(pg_dsn, name)
    url = asyncpg_url(dsn)
    rows = [
        ("gd-gz", "LEAD", 10, Decimal("100.05"), date(2030, 2, 3), "am1"),
        ("gd-gz", "LEAD", 10, Decimal("0.15"), date(2030, 2, 28), "am1"),  # the same bucket
        ("gd-gz", "WON", 100, Decimal("9.99"), date(2030, 2, 28), "am1"),
        ("js", "NEGOTIATION", 75, Decimal("33.33"), None, "am2"),
    ]

    async def fill() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            for i, (node, stage, p, amount, close, am) in enumerate(rows):
                await conn.execute(ROW_SQL, uuid.UUID(int=i + 1), node, stage, p, amount, close, am)
        finally:
            await conn.close()

    async def rollup() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(dsn)
        try:
            got = await conn.fetch(
                "SELECT owner_node, account_manager, stage, currency, close_month, deals, amount, weighted "
                "FROM sales.opportunity_rollup ORDER BY owner_node, stage"
            )
            return [tuple(r) for r in got]
        finally:
            await conn.close()

    try:
        upgrade(url, MIGRATIONS, "0005")  # before the roll-up: opportunities exist, no table keeps them
        asyncio.run(fill())
        upgrade(url, MIGRATIONS)
        assert asyncio.run(rollup()) == [
            ("gd-gz", "am1", "LEAD", "CNY", date(2030, 2, 1), 2, Decimal("100.20"), Decimal("10.0200")),
            ("gd-gz", "am1", "WON", "CNY", date(2030, 2, 1), 1, Decimal("9.99"), Decimal("9.99")),
            ("js", "am2", "NEGOTIATION", "CNY", None, 1, Decimal("33.33"), Decimal("24.9975")),
        ]
    finally:
        asyncio.run(_drop(pg_dsn, name))


async def _drop(server: str, name: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
