"""Federation smoke test: the trio topology (hq → gd → gd-gz) started by the same code as `kam up`.

`check_running_federation(fed)` is the hook holding every check of a running federation; extend it
(tokens from org, customers created at gd-gz, ...) and both process modes run the new checks.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pytest

from kam_cli.runtime import Federation, database_name, wait_gone
from kam_cli.services import SERVICES
from kam_platform.federation import up_stream

from .conftest import Nodes, processes_using

pytestmark = pytest.mark.federation

REPO = Path(__file__).resolve().parents[2]
TRIO = REPO / "deploy" / "topologies" / "trio.yaml"


def _service_modules_missing() -> list[str]:
    missing: list[str] = []
    for module in SERVICES.values():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(module)
    return missing


def check_health(fed: Federation) -> None:
    with httpx.Client(timeout=10.0) as client:
        for code in fed.nodes:
            url = fed.node_url(code)
            assert client.get(url + "/health").status_code == 200, code
            ready = client.get(url + "/ready")
            assert ready.status_code == 200, (code, ready.text)
            assert ready.json()["services"] == {name: True for name in fed.services}


def check_status(fed: Federation) -> None:
    status = {item["code"]: item for item in fed.status()}
    assert set(status) == {"hq", "gd", "gd-gz"}
    assert (status["hq"]["tier"], status["hq"]["parent"]) == ("group", None)
    assert (status["gd"]["tier"], status["gd"]["parent"]) == ("province", "hq")
    assert (status["gd-gz"]["tier"], status["gd-gz"]["parent"]) == ("local", "gd")
    for code, item in status.items():
        assert item["healthy"], code
        assert item["nats"]["healthy"], code
        assert {name: s["healthy"] for name, s in item["services"].items()} == {n: True for n in fed.services}
        assert fed.database_url(code).endswith("/" + database_name(code))
        assert fed.database_url(code).startswith("postgresql+asyncpg://")


def check_leafnodes(fed: Federation) -> None:
    fed.wait_leafnodes(30.0)  # polls with a deadline
    assert "gd" in fed.nats("hq").leaf_names()
    assert set(fed.nats("gd").leaf_names()) == {"hq", "gd-gz"}  # parent above, child below
    assert fed.nats("gd-gz").leaf_names() == ["gd"]


def check_jetstream(fed: Federation) -> None:
    for code in fed.nodes:
        jsz = fed.nats(code).monitor("jsz?streams=true&config=true")
        assert jsz["config"]["domain"] == code
        streams = {
            s["name"]: s["config"] for account in jsz.get("account_details", []) for s in account["stream_detail"]
        }
        config = streams[up_stream(code)]
        assert config["subjects"] == [f"up.{code}.>"]
        assert config["storage"] == "file"
        assert config["retention"] == "limits"
        assert config["duplicate_window"] >= 10 * 60 * 10**9


def check_tokens_and_customer(fed: Federation) -> None:
    """Each node issues tokens for its own staff; a customer created at the local network is stored,
    readable, and its event reaches the node's own stream."""
    import asyncio

    import jwt

    from kam_org.seed import DEMO_PASSWORD
    from kam_org.seed import seed as seed_org

    for code in fed.nodes:
        asyncio.run(seed_org(fed.database_url(code), code, fed.topology))
    tokens: dict[str, str] = {}
    with httpx.Client(timeout=20.0) as client:
        for code in fed.nodes:
            url = fed.node_url(code)
            r = client.post(
                url + "/api/v1/auth/token",
                data={"grant_type": "password", "username": "admin", "password": DEMO_PASSWORD},
            )
            assert r.status_code == 200, (code, r.text)
            tokens[code] = r.json()["access_token"]
            jwks = client.get(url + "/.well-known/jwks.json").json()
            key = jwt.PyJWK(jwks["keys"][0])
            claims = jwt.decode(tokens[code], key=key, algorithms=["EdDSA"], audience="kam")
            assert claims["node"] == code and claims["sub"] == "admin"
        bad = client.post(
            fed.node_url("gd") + "/api/v1/auth/token",
            data={"grant_type": "password", "username": "admin", "password": "x"},
        )
        assert bad.status_code == 401
        local = fed.node_url("gd-gz")
        auth = {"Authorization": f"Bearer {tokens['gd-gz']}"}
        created = client.post(
            local + "/tmf-api/customerManagement/v4/customer",
            headers=auth,
            json={"name": "广州地铁集团有限公司", "industry": "TRANSPORT", "grade": "A"},
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["href"].startswith(local) and body["ownerNode"] == "gd-gz"
        got = client.get(body["href"], headers=auth)
        assert got.status_code == 200 and got.json()["name"] == "广州地铁集团有限公司"
        # a token of another node is not accepted here (each node verifies with its own org's keys)
        foreign = client.get(body["href"], headers={"Authorization": f"Bearer {tokens['gd']}"})
        assert foreign.status_code == 401

    async def arrived() -> bool:
        import nats

        nc = await nats.connect(fed.nats_url("gd-gz"))
        try:
            js = nc.jetstream()
            info = await js.stream_info(up_stream("gd-gz"), subjects_filter=f"up.gd-gz.customer.customer.{body['id']}")
            return bool(info.state.subjects)
        finally:
            await nc.close()

    from kam_platform.embedded.process import wait_until

    wait_until(lambda: asyncio.run(arrived()), timeout=30, what="customer event on UP_gd-gz")


def check_api_docs(fed: Federation) -> None:
    """One OpenAPI document and one Swagger UI per node in both process modes (issue 10): the node's
    /openapi.json holds the paths of every service it runs and validates as OpenAPI 3; every answer
    has one `date` and one `server` header (the gateway does not repeat the upstream's)."""
    from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR, OPENAPI_31_VALIDATOR

    from kam_cli.services import route

    with httpx.Client(timeout=30.0) as client:
        for code in fed.nodes:
            url = fed.node_url(code)
            r = client.get(url + "/openapi.json")
            assert r.status_code == 200, (code, r.text)
            doc = r.json()
            (OPENAPI_31_VALIDATOR if doc["openapi"].startswith("3.1") else OPENAPI_30_VALIDATOR).validate(doc)
            assert "x-kam-unavailable" not in doc, (code, doc.get("x-kam-unavailable"))
            assert set(doc["x-kam-services"]) == set(fed.services), code
            served = {route(path) for path in doc["paths"]}
            assert served == set(fed.services), (code, served)  # every running service has its paths
            if fed.process_per == "service":  # each service's own document at its own URL: all its paths
                for service, service_url in fed.nodes[code].services.items():
                    own = client.get(service_url + "/openapi.json").json()
                    routed = {p for p in own["paths"] if route(p) == service}
                    assert routed and routed <= set(doc["paths"]), (code, service, routed - set(doc["paths"]))
            page = client.get(url + "/docs")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), code
            assert "swagger-ui" in page.text
            for path in ("/health", "/openapi.json", "/tmf-api/customerManagement/v4/customer", "/api/v1/none"):
                answer = client.get(url + path)
                assert len(answer.headers.get_list("date")) == 1, (code, path, answer.headers.raw)
                assert len(answer.headers.get_list("server")) == 1, (code, path, answer.headers.raw)


def check_running_federation(fed: Federation) -> None:
    """Everything a running federation must offer. Extend here."""
    check_health(fed)
    check_status(fed)
    check_leafnodes(fed)
    check_jetstream(fed)
    check_api_docs(fed)
    check_tokens_and_customer(fed)


def test_trio_federation_per_service_starts_and_stops_cleanly(tmp_path: Path) -> None:
    missing = _service_modules_missing()
    if missing:
        pytest.skip(f"service modules not available yet: {', '.join(missing)}")
    run_dir = tmp_path / "run"
    fed = Federation(
        TRIO,
        run_dir,
        process_per="service",
        use_environment=False,  # never the developer's DATABASE_URL / NATS_URL
        pg_fast=True,
    )
    pids: list[int] = []
    try:
        fed.start()
        pids = fed.pids()
        assert fed.state_path.exists()
        check_running_federation(fed)
    finally:
        pids = pids or fed.pids()
        fed.stop()
    assert wait_gone(pids) == []
    assert processes_using(run_dir) == []
    assert not fed.state_path.exists()


def test_trio_federation_per_node_offers_everything(trio: Nodes) -> None:
    """The same checks on the shared trio, one process per node (started by the same code; that it stops
    cleanly — every process gone, nothing left using its run directory, run.json removed — is asserted
    when it is stopped after its last module: conftest.running)."""
    fed = trio.fed
    assert fed.process_per == "node"
    assert fed.state_path.exists()
    check_running_federation(fed)
