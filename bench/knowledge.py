"""Knowledge search (知识库检索, F2) at a province over N items: `GET /api/v1/service/knowledge/item?q=`
(ranked, highlighted, X-Total-Count) through the service under uvicorn in a child process, against the
ceiling of the same SQL — the capped count and the ranked page, captured from the service's own
repository — on a bare asyncpg connection, in one transaction per call as the service's session.
Issue 12: no goal, a measurement of the bigram technique (docs/service.md, "Knowledge base").

    uv run python bench/knowledge.py [--items 100000] [--calls 200] [--out FILE]

N items of the five kinds (product specifications, solution cases 方案案例, policies, competitor
intelligence, FAQ) are generated from a telecom vocabulary and loaded by COPY into
`service.knowledge_item` with `search_text` computed by the service's own function; the secondary
indexes (the bigram GIN index among them) are dropped for the load and rebuilt as the migrations define
them, then `VACUUM ANALYZE`. Results go to bench/results/knowledge-<timestamp>-<items>.json (the table in
docs/benchmarks.md is regenerated from them by bench/report.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from kam_platform.auth import generate_signing_key, principal_from_claims, public_jwk, sign_token
from kam_platform.db.migrate import upgrade
from kam_platform.embedded.ports import free_port
from kam_platform.embedded.postgres import EmbeddedPostgres, ensure_database, with_database
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_platform.tmf import COUNT_BOUND, ListQuery
from kam_service.knowledge.events import search_text
from kam_service.knowledge.repository import RANK_WINDOW
from kam_service.main import MIGRATIONS, create_app

NODE = "gd"  # a province: its own items in every status and the group's published ones
OWNERS = (("hq", 0.4), ("gd", 0.6))
KID = "bench"
RESULTS = Path(__file__).resolve().parent / "results"
PATH = "/api/v1/service/knowledge/item"
LIMIT = 20
# one common term, one of middling frequency, one rare, and two terms (every word must occur)
QUERIES = ("专线", "等保", "量子密话", "智慧医院 天翼云")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def lat(values: list[float]) -> dict[str, float]:
    return {f"p{p}_ms": round(pct(values, p), 2) for p in (50, 95, 99)}


def loadavg() -> dict[str, float]:
    return dict(zip(("1m", "5m", "15m"), (round(x, 2) for x in os.getloadavg()), strict=True))


# --- the corpus ---------------------------------------------------------------------------------

# (term, weight): a few products are everywhere, others rare (量子密话 is the rare one)
PRODUCTS = (
    ("互联网专线", 12),
    ("数据专线", 6),
    ("云专线", 4),
    ("千兆光网", 14),
    ("政企宽带", 14),
    ("天翼云", 16),
    ("云电脑", 8),
    ("5G专网", 10),
    ("SD-WAN组网", 6),
    ("MPLS VPN", 5),
    ("物联网卡", 7),
    ("IDC机房托管", 5),
    ("CDN加速", 4),
    ("视频监控", 6),
    ("天翼看家", 3),
    ("云桌面", 3),
    ("安全大脑", 2),
    ("等保合规服务", 2),
    ("边缘计算", 2),
    ("量子密话", 0.15),
)
INDUSTRIES = ("政务", "医疗", "教育", "金融", "制造", "交通", "能源", "零售", "物流", "文旅")
CUSTOMERS = (
    "人民医院",
    "中心医院",
    "智慧医院",
    "第一中学",
    "职业技术学院",
    "农村商业银行",
    "城市商业银行",
    "政务服务数据管理局",
    "公安局",
    "地铁集团",
    "港务集团",
    "供电局",
    "水务集团",
    "汽车制造有限公司",
    "电子科技有限公司",
    "连锁超市",
    "物流园区",
    "文化旅游集团",
)
CITIES = ("广州", "深圳", "佛山", "东莞", "珠海", "中山", "惠州", "江门", "汕头", "湛江", "韶关", "肇庆")
COMPETITORS = ("移动", "联通", "广电", "华为云", "阿里云", "腾讯云")
POLICY_TOPICS = (
    "政企客户资费折扣审批",
    "大客户合同签订",
    "账期与欠费催缴",
    "客户经理服务规范",
    "集团客户分级分类",
    "项目售前支撑",
    "信息安全与等保",
    "工单受理与回访",
    "渠道酬金结算",
    "业务开通时限",
)
QUESTIONS = (
    "如何申请带宽提速",
    "故障报修的流程是什么",
    "资费是否可以按年付",
    "合同到期如何续约",
    "能否提供SLA保障",
    "开通需要多长时间",
    "是否支持IPv6",
    "发票怎么开具",
    "如何办理过户",
    "断网后多久恢复",
)
SENTENCES = (
    "{p}面向{i}行业客户，提供{n}M至{m}G的对称带宽，可用性承诺{a}%。",
    "本地网在{c}已完成{k}个{i}项目交付，平均开通时长{d}个工作日。",
    "客户原使用{x}的{p}，因故障频发且响应慢，转网至我方。",
    "{x}在{c}报价较我方低{r}%，但不含上门维护与7×24小时监控。",
    "方案采用{p}与{q}组合，主备双路由，核心节点部署在{c}数据中心。",
    "资费按月计收，签约三年可享{r}折优惠，需经省公司政企部审批。",
    "客户经理须在受理后{d}小时内联系客户，并在系统中登记回访结果。",
    "如涉及等保测评，须提前提交定级备案材料，并由安全专家参与评审。",
    "{c}{u}的{p}项目中，我方提供了一站式集成服务，客户满意度达到{a}%。",
    "故障定位采用端到端拨测，{p}链路中断时自动切换至备份链路。",
    "该{i}客户同时订购了{q}，合同金额约{k}万元，回款周期为{d}个月。",
    "竞争对手{x}近期推出{p}促销套餐，首年免费试用，需关注客户流失风险。",
    "依据集团规定，{i}行业大客户的投诉须在{d}小时内升级至部门经理。",
    "常见问题：{p}{w}？答：请联系客户经理或拨打10000号，按提示转人工。",
    "智慧医院场景下，{p}承载HIS、PACS等核心业务，数据不出院区。",
    "天翼云专属资源池部署在{c}，满足{i}客户的数据本地化要求。",
)


def _product(rng: random.Random) -> str:
    return rng.choices([p for p, _ in PRODUCTS], weights=[w for _, w in PRODUCTS])[0]


# the 等保 and 智慧医院 sentences are rarer than the others (terms of middling frequency)
WEIGHTS = tuple(0.05 if "等保" in s else 0.2 if "智慧医院" in s else 1.0 for s in SENTENCES)


def _sentence(rng: random.Random, p: str) -> str:
    return rng.choices(SENTENCES, weights=WEIGHTS)[0].format(
        p=p,
        q=_product(rng),
        i=rng.choice(INDUSTRIES),
        c=rng.choice(CITIES),
        u=rng.choice(CUSTOMERS),
        x=rng.choice(COMPETITORS),
        w=rng.choice(QUESTIONS),
        n=rng.choice((10, 20, 50, 100, 200, 500)),
        m=rng.choice((1, 2, 10)),
        a=rng.choice(("99.9", "99.95", "99.99", "98", "96")),
        k=rng.randint(2, 300),
        d=rng.randint(1, 15),
        r=rng.randint(5, 40),
    )


def item(rng: random.Random, i: int, now: datetime) -> dict[str, Any]:
    kind = rng.choices(("PRODUCT_SPEC", "SOLUTION_CASE", "POLICY", "COMPETITOR", "FAQ"), weights=(25, 25, 15, 15, 20))[
        0
    ]
    p = _product(rng)
    city, industry = rng.choice(CITIES), rng.choice(INDUSTRIES)
    year = rng.randint(2019, 2026)
    if kind == "PRODUCT_SPEC":
        title = f"{p}产品说明（{year}版）"
    elif kind == "SOLUTION_CASE":
        title = f"{city}{rng.choice(CUSTOMERS)}{p}方案案例"
    elif kind == "POLICY":
        title = f"{year}年{rng.choice(POLICY_TOPICS)}管理办法"
    elif kind == "COMPETITOR":
        title = f"{rng.choice(COMPETITORS)}{p}竞争情报（{city}）"
    else:
        title = f"{p}{rng.choice(QUESTIONS)}？"
    body = "".join(_sentence(rng, p if rng.random() < 0.6 else _product(rng)) for _ in range(rng.randint(6, 16)))
    summary = _sentence(rng, p)
    tags = sorted({p, industry, {"SOLUTION_CASE": "方案案例", "COMPETITOR": "竞争情报"}.get(kind, kind.lower())})
    owner = rng.choices([o for o, _ in OWNERS], weights=[w for _, w in OWNERS])[0]
    status = rng.choices(("published", "draft", "reviewed", "retired"), weights=(85, 6, 3, 6))[0]
    created = now - timedelta(minutes=rng.randint(60, 3 * 365 * 24 * 60))
    published = created + timedelta(days=1) if status in ("published", "retired") else None
    reviewed = created + timedelta(hours=12) if status != "draft" else None
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "owner_node": owner,
        "version": 1 + (status != "draft") + (published is not None),
        "kind": kind,
        "title": title,
        "summary": summary,
        "body": body,
        "tags": tags,
        "status": status,
        "revision": 1,
        "author": f"editor{i % 40}@{owner}",
        "reviewer": f"reviewer{i % 7}@{owner}" if reviewed else None,
        "reviewed_at": reviewed,
        "published_at": published,
        "retired_at": created + timedelta(days=90) if status == "retired" else None,
        "valid_from": created.date(),
        "valid_to": None if rng.random() < 0.9 else date(2027, 12, 31),
        "search_text": search_text(title, summary, body, tags),
        "created_at": created,
        "updated_at": published or reviewed or created,
    }


async def load(dsn: str, n: int) -> dict[str, Any]:
    """COPY n generated items (the secondary indexes dropped and rebuilt as the migrations define them),
    then VACUUM ANALYZE."""
    rng = random.Random(12)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        rows = [item(rng, i, now) for i in range(n)]
        generate_s = time.perf_counter() - t0
        idx = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'service' AND tablename = 'knowledge_item' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)"
        )
        for r in idx:
            await conn.execute(f'DROP INDEX service."{r["indexname"]}"')
        cols = list(rows[0])
        t1 = time.perf_counter()
        await conn.copy_records_to_table(
            "knowledge_item", schema_name="service", columns=cols, records=[tuple(r[c] for c in cols) for r in rows]
        )
        copy_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        for r in idx:
            await conn.execute(r["indexdef"])
        index_s = time.perf_counter() - t2
        await conn.execute("VACUUM ANALYZE service.knowledge_item")
        return {
            "items": n,
            "by_owner_status": {
                f"{r['owner_node']} {r['status']}": r["n"]
                for r in await conn.fetch(
                    "SELECT owner_node, status, count(*) AS n FROM service.knowledge_item GROUP BY 1, 2 ORDER BY 1, 2"
                )
            },
            "mean_search_text_chars": round(sum(len(r["search_text"]) for r in rows) / n),
            "table_mb": round(await conn.fetchval("SELECT pg_total_relation_size('service.knowledge_item')") / 1e6, 1),
            "bigram_index_mb": round(
                await conn.fetchval("SELECT pg_relation_size('service.ix_knowledge_item_search_bigrams')") / 1e6, 1
            ),
            "generate_seconds": round(generate_s, 1),
            "copy_seconds": round(copy_s, 1),
            "index_build_seconds": round(index_s, 1),
        }
    finally:
        await conn.close()


# --- the service under uvicorn, and the SQL it sends ------------------------------------------------


def bench_settings(url: str, jwks: str) -> Settings:
    return Settings(
        node=NODE,
        service="service",
        topology_file=topology_file("demo"),
        database_url=url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        jwks_json=jwks,
    )


def serve(url: str, jwks: str, port: int) -> None:
    import uvicorn

    app = create_app(bench_settings(url, jwks), evaluate_every=None, care_every=None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def port_is_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def serve_process(url: str, jwks: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "KAM_BENCH_SERVE": json.dumps({"url": url, "jwks": jwks, "port": port})}
    proc = subprocess.Popen([sys.executable, __file__], env=env)
    deadline = time.monotonic() + 120
    while not port_is_open(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            stop_process(proc)
            raise RuntimeError("the benchmark server did not start")
        time.sleep(0.1)
    return proc, port


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


CLAIMS: dict[str, Any] = {
    "sub": "kb-reader",
    "node": NODE,
    "scope_node": NODE,
    "roles": ["account_manager"],
    "perms": ["service.knowledge:read"],
}


def token(key: Any) -> str:
    now = int(time.time())
    return sign_token(key, KID, {**CLAIMS, "iat": now, "exp": now + 86400, "aud": "kam"})


async def captured_sql(url: str, q: str) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements the service's repository sends for `q=` (the count, then the ranked page), with
    their parameters, as the asyncpg driver receives them."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from kam_service.knowledge.repository import KnowledgeRepository

    engine = create_async_engine(url)
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, tuple(parameters)))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    topology = bench_settings(url, "{}").topology
    principal = principal_from_claims(CLAIMS, topology)  # as the API reads the token
    try:
        async with AsyncSession(engine) as session:
            await KnowledgeRepository.from_session(session).page(principal, topology, NODE, ListQuery(limit=LIMIT, q=q))
    finally:
        await engine.dispose()
    return sent


async def bench_api(port: int, key: Any, calls: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token(key)}"}
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120.0) as c:
        for q in QUERIES:
            times: list[float] = []
            for i in range(10 + calls):  # 10 warm-up calls: connections, plans, caches
                t = time.perf_counter()
                r = await c.get(PATH, params={"q": q, "limit": LIMIT}, headers=headers)
                if i >= 10:
                    times.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"q={q}: {r.status_code} {r.text[:300]}")
            page = r.json()
            out[q] = {
                "total": int(r.headers["X-Total-Count"]),
                "total_relation": r.headers.get("X-Total-Count-Relation"),
                "returned": len(page),
                "highlighted": sum("<em>" in (p.get("highlight") or {}).get("body", "") for p in page),
                "top_rank": page[0]["rank"] if page else None,
                **{f"api_{k}": v for k, v in lat(times).items()},
            }
    return out


async def bench_raw(dsn: str, url: str, calls: int) -> dict[str, Any]:
    """The ceiling: the same statements (count, ranked page) on one bare asyncpg connection."""
    out: dict[str, Any] = {}
    conn = await asyncpg.connect(dsn)
    try:
        for q in QUERIES:
            statements = await captured_sql(url, q)
            times: list[float] = []
            for i in range(10 + calls):
                t = time.perf_counter()
                async with conn.transaction():  # as the service's session (a SET LOCAL holds in it)
                    results = [await conn.fetch(sql, *params) for sql, params in statements]
                if i >= 10:
                    times.append((time.perf_counter() - t) * 1000)
            plans = []
            async with conn.transaction():
                for sql, params in statements:
                    if not sql.lstrip().upper().startswith("SELECT"):
                        await conn.execute(sql, *params)  # the SET LOCAL before the ranked page
                        continue
                    plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
                    plans.append("\n".join(r[0] for r in plan))
            out[q] = {
                "statements": len(statements),
                "sql": [sql for sql, _ in statements],
                # the rows the capped count saw (COUNT_BOUND + 1 past the bound; the API answers the bound)
                "raw_counted": results[0][0][0],
                **{f"raw_{k}": v for k, v in lat(times).items()},
                "explain": plans,
            }
    finally:
        await conn.close()
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(),
        "items": args.items,
        "calls": args.calls,
        "node": NODE,
        "limit": LIMIT,
        "queries": list(QUERIES),
        "technique": (
            "bigram GIN index (service.text_bigrams, set-based since kam_service migration 0006) narrows, LIKE"
            " confirms; the count capped at kam_platform.tmf.COUNT_BOUND, the rank within the first"
            " KnowledgeRepository RANK_WINDOW matches"
        ),
        "count_bound": COUNT_BOUND,
        "rank_window": RANK_WINDOW,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    key = generate_signing_key()
    jwks = json.dumps({"keys": [public_jwk(key, KID)]})
    with tempfile.TemporaryDirectory(prefix="kam-bench-knowledge-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg" / "data", fast=False)
        pg.start()
        proc = None
        try:
            server = pg.dsn()
            ensure_database(server, "kam_bench")
            dsn = with_database(server, "kam_bench")
            url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
            upgrade(url, MIGRATIONS)
            log(f"loading {args.items} knowledge items by COPY")
            result["load"] = await load(dsn, args.items)
            log(f"  {result['load']}")
            proc, port = serve_process(url, jwks)
            log(f"searching through the API (uvicorn child), {args.calls} calls per query")
            # the machine is shared: its load beside the figures says how quiet it was
            result["loadavg_before"] = loadavg()
            api = await bench_api(port, key, args.calls)
            stop_process(proc)
            proc = None
            log("the same SQL on bare asyncpg")
            raw = await bench_raw(dsn, url, args.calls)
            result["loadavg_after"] = loadavg()
            result["search"] = {}
            for q in QUERIES:
                a, r = api[q], raw[q]
                result["search"][q] = {
                    **a,
                    **{k: v for k, v in r.items() if k != "explain"},
                    "ratio_raw_p95_to_api_p95": round(r["raw_p95_ms"] / a["api_p95_ms"], 3),
                    "explain": r["explain"],
                }
                log(f"  {q}: total {a['total']}, api p95 {a['api_p95_ms']} ms, raw p95 {r['raw_p95_ms']} ms")
        finally:
            if proc is not None:
                stop_process(proc)
            pg.stop()
    result["finished"] = datetime.now(UTC).isoformat()
    return result


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--calls", type=int, default=200, help="timed calls per query (after 10 warm-up calls)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    # a terminated run still stops its PostgreSQL (SystemExit unwinds through the finally)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = asyncio.run(main(args))
    out = args.out or RESULTS / f"knowledge-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{args.items}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {out}")


if __name__ == "__main__":
    if os.environ.get("KAM_BENCH_SERVE"):
        spec = json.loads(os.environ["KAM_BENCH_SERVE"])
        serve(spec["url"], spec["jwks"], spec["port"])
    else:
        cli()
