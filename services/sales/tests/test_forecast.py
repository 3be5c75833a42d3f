"""The forecast over real PostgreSQL: pipeline, weighted (stage probability) and committed amounts of the
deals in scope closing in the period, rolled up by node from local network to province to group, and by
account manager; scope applies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

OPPS = "/api/v1/sales/opportunities"
FORECAST = "/api/v1/sales/forecast"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
PERIOD = {"start": "2030-01-01", "end": "2030-04-01"}


async def _deal(c: httpx.AsyncClient, auth: Auth, node: str, value: str, *, won: bool = False, **over: Any) -> None:
    body = {
        "name": "预测测试",
        "customer": {"id": str(uuid.uuid4())},
        "expectedAmount": {"unit": "CNY", "value": value},
        "closeDate": "2030-02-15",
        "stage": "PROPOSAL" if won else "LEAD",
        **over,
    }
    r = await c.post(OPPS, json=body, headers=auth(node))
    assert r.status_code == 201, r.text
    if won:
        r = await c.patch(f"{OPPS}/{r.json()['id']}", json={"stage": "WON", "closeReason": "签约"}, headers=auth(node))
        assert r.status_code == 200, r.text


def _lines(body: dict[str, Any], key: str = "node") -> dict[str, tuple[str, str, str]]:
    return {
        line[key]: (line["pipeline"]["value"], line["weighted"]["value"], line["committed"]["value"])
        for line in body["lines"]
    }


async def test_forecast_rolls_up_the_tree(clients: Clients, auth: Auth) -> None:
    await _deal(clients["gd-gz"], auth, "gd-gz", "1000.00")  # LEAD 10%
    await _deal(clients["gd-gz"], auth, "gd-gz", "500.00", won=True)
    await _deal(clients["gd"], auth, "gd", "2000.00")
    await _deal(clients["js-nj"], auth, "js-nj", "300.00")
    await _deal(clients["js-nj"], auth, "js-nj", "999.00", closeDate="2031-01-01")  # outside the period
    r = await clients["hq"].get(FORECAST, params=PERIOD, headers=auth("hq"))
    assert r.status_code == 200, r.text
    assert _lines(r.json()) == {
        "hq": ("0.00", "0.00", "0.00"),
        "gd": ("3000.00", "300.00", "500.00"),
        "js": ("300.00", "30.00", "0.00"),
    }
    r = await clients["gd"].get(FORECAST, params=PERIOD, headers=auth("gd"))
    lines = _lines(r.json())
    assert lines["gd"] == ("2000.00", "200.00", "0.00") and lines["gd-gz"] == ("1000.00", "100.00", "500.00")
    assert lines["gd-sz"] == ("0.00", "0.00", "0.00")
    r = await clients["gd-gz"].get(FORECAST, params={**PERIOD, "by": "accountManager"}, headers=auth("gd-gz"))
    assert _lines(r.json(), "accountManager") == {"am1": ("1000.00", "100.00", "500.00")}


async def test_forecast_respects_scope_and_validates(clients: Clients, auth: Auth) -> None:
    await _deal(clients["gd-gz"], auth, "gd-gz", "1000.00")
    r = await clients["hq"].get(FORECAST, params=PERIOD, headers=auth("hq", scope="js"))
    assert r.status_code == 200 and r.json()["node"] == "js"
    assert all(line["pipeline"]["value"] == "0.00" for line in r.json()["lines"])
    r = await clients["hq"].get(FORECAST, params={**PERIOD, "node": "gd"}, headers=auth("hq", scope="js"))
    assert r.status_code == 403
    r = await clients["hq"].get(FORECAST, params={"start": "2030-04-01", "end": "2030-01-01"}, headers=auth("hq"))
    assert r.status_code == 422 and r.json()["message"].startswith("end")
    r = await clients["hq"].get(FORECAST, params={**PERIOD, "by": "colour"}, headers=auth("hq"))
    assert r.status_code == 422 and r.json()["@type"] == "Error"


async def test_funnel_counts_each_stage_in_scope(clients: Clients, auth: Auth) -> None:
    await _deal(clients["gd-gz"], auth, "gd-gz", "100.00")
    await _deal(clients["gd-gz"], auth, "gd-gz", "50.50")
    await _deal(clients["gd-gz"], auth, "gd-gz", "1000.00", won=True)
    await _deal(clients["js-nj"], auth, "js-nj", "7.00")
    r = await clients["gd"].get("/api/v1/sales/funnel", params=PERIOD, headers=auth("gd"))
    assert r.status_code == 200, r.text
    stages = {s["stage"]: (s["count"], s["amounts"]) for s in r.json()["stages"]}
    assert list(stages) == ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"]
    assert stages["LEAD"] == (2, [{"unit": "CNY", "value": "150.50"}])
    assert stages["WON"] == (1, [{"unit": "CNY", "value": "1000.00"}]) and stages["QUALIFIED"] == (0, [])
    r = await clients["hq"].get("/api/v1/sales/funnel", params=PERIOD, headers=auth("hq"))
    assert {s["stage"]: s["count"] for s in r.json()["stages"]}["LEAD"] == 3
    r = await clients["hq"].get(
        "/api/v1/sales/funnel", params={"start": "2030-02-01", "end": "2030-01-01"}, headers=auth("hq")
    )
    assert r.status_code == 422 and "end" in r.json()["message"]
