"""The demo catalogue (`kam seed`; idempotent): the group's national product lines, specifications,
tariffs, discounts, offerings and a converged package; each province one provincial package. Items are
published active, so they flow down the tree like any authored item."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.dataset import can_publish_down
from kam_platform.db import create_database
from kam_platform.settings import Settings
from kam_platform.tmf import validate_model
from kam_platform.topology import Topology
from kam_sales.catalog.dataset import CATALOG
from kam_sales.catalog.schemas import CREATE, Kind, body_of
from kam_sales.catalog.service import api_view
from kam_sales.changes import CHANGES
from kam_sales.models import CatalogItem

START = "2026-01-01"
ACTOR = "system:seed"


def seed_id(node: str, key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kam:sales:{node}:catalog:{key}")


def _cny(value: str) -> dict[str, str]:
    return {"unit": "CNY", "value": value}


def national(node: str) -> list[tuple[str, Kind, dict[str, Any]]]:
    """(key, kind, TMF body) in dependency order; `@key` in a reference names another item's key."""
    monthly = {"priceType": "recurring", "recurringChargePeriodType": "month"}
    cat: list[tuple[str, Kind, dict[str, Any]]] = [
        ("pl-fixed", Kind.CATEGORY, {"name": "固定电话/长途", "code": "PL-FIX"}),
        ("pl-data", Kind.CATEGORY, {"name": "数据电路", "code": "PL-DATA"}),
        ("pl-ddn", Kind.CATEGORY, {"name": "DDN", "code": "PL-DATA-DDN", "parentId": "@pl-data"}),
        ("pl-fr", Kind.CATEGORY, {"name": "帧中继", "code": "PL-DATA-FR", "parentId": "@pl-data"}),
        ("pl-digital", Kind.CATEGORY, {"name": "数字电路", "code": "PL-DATA-SDH", "parentId": "@pl-data"}),
        ("pl-dia", Kind.CATEGORY, {"name": "互联网专线", "code": "PL-DIA"}),
        ("pl-vas", Kind.CATEGORY, {"name": "增值业务", "code": "PL-VAS"}),
        ("pl-si", Kind.CATEGORY, {"name": "系统集成/解决方案", "code": "PL-SI"}),
        ("pl-pkg", Kind.CATEGORY, {"name": "融合套餐", "code": "PL-PKG"}),
    ]
    roots = ["pl-fixed", "pl-data", "pl-dia", "pl-vas", "pl-si", "pl-pkg"]
    cat.append(
        (
            "catalog",
            Kind.CATALOG,
            {"name": "全国政企产品目录", "catalogType": "national", "category": [{"id": f"@{k}"} for k in roots]},
        )
    )

    def spec(key: str, name: str, number: str, chars: dict[str, list[str]]) -> tuple[str, Kind, dict[str, Any]]:
        return (
            key,
            Kind.SPECIFICATION,
            {
                "name": name,
                "brand": "天翼",
                "productNumber": number,
                "productSpecCharacteristic": [
                    {
                        "name": n,
                        "productSpecCharacteristicValue": [{"value": v, "isDefault": i == 0} for i, v in enumerate(vs)],
                    }
                    for n, vs in chars.items()
                ],
            },
        )

    specs = [
        spec("spec-fixed", "商务固话", "FIX-001", {"线路类型": ["普通线", "中继线", "ISDN PRI"]}),
        spec("spec-ld", "国内长途", "LD-001", {"计费方式": ["按分钟", "包月"]}),
        spec("spec-ddn", "DDN 数字数据网专线", "DDN-001", {"速率": ["64K", "128K", "2M"]}),
        spec("spec-fr", "帧中继专线", "FR-001", {"CIR": ["512K", "1M", "2M"]}),
        spec("spec-sdh", "数字电路 (SDH)", "SDH-001", {"速率": ["2M", "155M", "622M"]}),
        spec("spec-dia", "互联网专线", "DIA-001", {"带宽": ["10M", "100M", "1G"], "固定IP": ["8", "16", "32"]}),
        spec("spec-400", "400 企业服务号", "VAS-400", {"号码等级": ["普通", "靓号"]}),
        spec("spec-sms", "企业短信群发", "VAS-SMS", {"通道": ["行业短信", "营销短信"]}),
        spec("spec-si", "系统集成服务", "SI-001", {"交付": ["项目制", "驻场"]}),
    ]

    def price(key: str, name: str, **kw: Any) -> tuple[str, Kind, dict[str, Any]]:
        return key, Kind.PRICE, {"name": name, **kw}

    prices = [
        price("p-fixed", "商务固话月租", **monthly, price=_cny("30.00")),
        price(
            "p-ld",
            "国内长途 每分钟",
            priceType="usage",
            price=_cny("0.07"),
            unitOfMeasure={"amount": 1, "units": "minute"},
        ),
        price("p-ld-pack", "长途包月 1000 分钟", **monthly, price=_cny("50.00")),
        price("p-ddn-2m", "DDN 2M 月租", **monthly, price=_cny("3000.00")),
        price("p-fr-2m", "帧中继 2M 月租", **monthly, price=_cny("2500.00")),
        price("p-sdh-2m", "数字电路 2M 月租", **monthly, price=_cny("2800.00")),
        price("p-sdh-155m", "数字电路 155M 月租", **monthly, price=_cny("38000.00")),
        price("p-dia-100m", "互联网专线 100M 月租", **monthly, price=_cny("8000.00")),
        price("p-dia-1g", "互联网专线 1G 月租", **monthly, price=_cny("45000.00")),
        price("p-dia-install", "专线一次性安装调测费", priceType="oneTime", price=_cny("2000.00")),
        price("p-400", "400 号码月功能费", **monthly, price=_cny("200.00")),
        price(
            "p-sms", "短信 每条", priceType="usage", price=_cny("0.05"), unitOfMeasure={"amount": 1, "units": "message"}
        ),
        price("p-si", "系统集成 参考价 (按项目报价)", priceType="oneTime", price=_cny("100000.00")),
        price("d-ka", "大客户折扣 9 折", priceType="discount", percentage="10"),
        price("d-2y", "两年合约折扣", priceType="discount", percentage="15"),
        price("d-pkg", "融合套餐折扣", priceType="discount", percentage="20"),
    ]

    def offering(
        key: str, name: str, spec_key: str | None, cats: list[str], price_keys: list[str], **kw: Any
    ) -> tuple[str, Kind, dict[str, Any]]:
        body: dict[str, Any] = {
            "name": name,
            "category": [{"id": f"@{c}"} for c in cats],
            "productOfferingPrice": [{"id": f"@{p}"} for p in price_keys],
            **kw,
        }
        if spec_key:
            body["productSpecification"] = {"id": f"@{spec_key}"}
        return key, Kind.OFFERING, body

    offerings = [
        offering("o-fixed", "商务固话", "spec-fixed", ["pl-fixed"], ["p-fixed", "p-ld", "d-ka"]),
        offering("o-ld-pack", "国内长途优惠包", "spec-ld", ["pl-fixed"], ["p-ld-pack"]),
        offering("o-ddn-2m", "DDN 专线 2M", "spec-ddn", ["pl-ddn"], ["p-ddn-2m", "d-2y"]),
        offering("o-fr-2m", "帧中继 2M", "spec-fr", ["pl-fr"], ["p-fr-2m"]),
        offering("o-sdh-2m", "数字电路 2M", "spec-sdh", ["pl-digital"], ["p-sdh-2m", "d-2y"]),
        offering("o-sdh-155m", "数字电路 155M", "spec-sdh", ["pl-digital"], ["p-sdh-155m", "d-2y"]),
        offering(
            "o-dia-100m", "互联网专线 100M", "spec-dia", ["pl-dia"], ["p-dia-100m", "p-dia-install", "d-ka", "d-2y"]
        ),
        offering("o-dia-1g", "互联网专线 1G", "spec-dia", ["pl-dia"], ["p-dia-1g", "p-dia-install", "d-ka", "d-2y"]),
        offering("o-400", "400 企业服务号", "spec-400", ["pl-vas"], ["p-400"]),
        offering("o-sms", "企业短信群发", "spec-sms", ["pl-vas"], ["p-sms"]),
        offering("o-si", "系统集成/解决方案服务", "spec-si", ["pl-si"], ["p-si"]),
        offering(
            "o-pkg",
            "政企融合套餐 (专线 100M + 商务固话 + 400)",
            None,
            ["pl-pkg"],
            ["d-pkg"],
            isBundle=True,
            bundledProductOffering=[{"id": "@o-dia-100m"}, {"id": "@o-fixed"}, {"id": "@o-400"}],
        ),
    ]
    return [*cat, *specs, *prices, *offerings]


def provincial(node: str, name: str) -> list[tuple[str, Kind, dict[str, Any]]]:
    """A province's own package on the national items (visible in its subtree only)."""
    hq = "^"  # a reference to a national item's key
    return [
        (
            "p-prov-pkg",
            Kind.PRICE,
            {
                "name": f"{name}政企专线优惠包月租",
                "priceType": "recurring",
                "recurringChargePeriodType": "month",
                "price": _cny("9800.00"),
            },
        ),
        (
            "o-prov-pkg",
            Kind.OFFERING,
            {
                "name": f"{name}政企专线优惠包 (专线 100M + 短信群发)",
                "isBundle": True,
                "category": [{"id": f"{hq}pl-pkg"}],
                "productOfferingPrice": [{"id": "@p-prov-pkg"}],
                "bundledProductOffering": [{"id": f"{hq}o-dia-100m"}, {"id": f"{hq}o-sms"}],
            },
        ),
    ]


def _resolve(value: Any, node: str, root: str) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, node, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, node, root) for v in value]
    if isinstance(value, str) and value[:1] in ("@", "^") and len(value) > 1 and " " not in value:
        return str(seed_id(node if value[0] == "@" else root, value[1:]))
    return value


async def _seed_items(
    session: AsyncSession, settings: Settings, root: str, items: list[tuple[str, Kind, dict[str, Any]]]
) -> int:
    written = 0
    now = datetime.now(UTC)
    for key, kind, raw in items:
        rid = seed_id(settings.node, key)
        if await session.get(CatalogItem, rid) is not None:
            continue
        body = _resolve({"lifecycleStatus": "active", "validFor": {"startDateTime": START}, **raw}, settings.node, root)
        data = validate_model(CREATE[kind], body)
        r = CatalogItem(
            id=rid,
            owner_node=settings.node,
            version=1,
            kind=kind.value,
            name=data.name,
            description=data.description,
            lifecycle_status="active",
            valid_from=date.fromisoformat(START),
            valid_to=None,
            body=body_of(data),
            created_at=now,
            updated_at=now,
        )
        session.add(r)
        await session.flush()
        await CHANGES.audit(
            session,
            node=settings.node,
            entity_type=kind.value,
            entity_id=rid,
            action="seed",
            actor=ACTOR,
            changes=diff({}, api_view(r)),
        )
        await CATALOG.publish(session, settings, r, actor=ACTOR)
        written += 1
    return written


async def seed(database_url: str, node: str, topology: Topology, **_: Any) -> int:
    """The national catalogue at the root, a provincial package at each province; returns items written."""
    if not can_publish_down(topology, node):
        return 0
    settings = Settings(node=node, service="sales", database_url=database_url)
    settings.__dict__["topology"] = topology  # the cached property, without a topology file
    root = next(n.code for n in topology.nodes.values() if n.parent is None)
    this = topology.node(node)
    items = national(node) if this.parent is None else provincial(node, this.name_zh)
    db = create_database(database_url, pool_size=1, application_name=f"kam-seed-sales-{node}")
    try:
        async with db.sessionmaker() as session, session.begin():
            return await _seed_items(session, settings, root, items)
    finally:
        await db.dispose()
