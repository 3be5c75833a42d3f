"""Demo key accounts of one node: realistic Chinese customers, group hierarchies and decision-chain
contacts, loaded through the bulk-import path (same validation, events and audit).

Idempotent: customer codes (``KA<NODE>S<000001>``, ``KA<NODE>-GRP-<GROUP>``: each in its node's
namespace) and contact ids are deterministic per node, so a re-run updates what is there instead of duplicating it.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from kam_contracts import customer_pb2
from kam_customer.customer import events
from kam_customer.customer.rules import CREDIT_CHARS, DecisionRole, Industry, credit_check_char
from kam_customer.importexport import repository as ie_repository
from kam_customer.importexport.schemas import COLUMNS, RowError
from kam_customer.importexport.service import Loader, validate_row
from kam_customer.models import SCHEMA
from kam_platform.embedded.postgres import plain_dsn
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event, ts
from kam_platform.topology import Tier, Topology

ACTOR = "seed"
DEFAULT_MANAGERS = [("am01", "张伟"), ("am02", "王芳"), ("am03", "李娜")]
CONTACT_NS = uuid.UUID("6f1c1a4e-3b1e-4c55-9a43-3d2f1b7c0a11")

REGION_CODES = {
    "广州": "440100",
    "深圳": "440300",
    "南京": "320100",
    "广东": "440000",
    "江苏": "320000",
    "北京": "110000",
    "上海": "310000",
}

# 政府/金融/教育/医疗/制造/交通物流/能源/互联网, weighted roughly like a telecom key-account book
INDUSTRY_WEIGHTS = [
    (Industry.GOVERNMENT, 18),
    (Industry.FINANCE, 16),
    (Industry.EDUCATION, 12),
    (Industry.HEALTH, 12),
    (Industry.MANUFACTURING, 16),
    (Industry.TRANSPORT, 9),
    (Industry.ENERGY, 7),
    (Industry.INTERNET, 10),
]

BANKS = [
    "中国工商银行",
    "中国建设银行",
    "中国农业银行",
    "中国银行",
    "交通银行",
    "招商银行",
    "中信银行",
    "兴业银行",
    "平安银行",
    "中国人寿保险",
    "中国平安保险",
    "中国太平洋保险",
]
GOV_DEPTS = [
    "公安局",
    "税务局",
    "人力资源和社会保障局",
    "交通运输局",
    "卫生健康委员会",
    "教育局",
    "政务服务数据管理局",
    "应急管理局",
    "市场监督管理局",
    "住房和城乡建设局",
    "生态环境局",
    "统计局",
]
SCHOOLS = [
    "大学",
    "理工学院",
    "职业技术学院",
    "第一中学",
    "第二中学",
    "实验中学",
    "外国语学校",
    "实验小学",
    "师范学院",
    "医科大学",
]
HOSPITALS = [
    "市第一人民医院",
    "市第二人民医院",
    "市第三人民医院",
    "市中医院",
    "市妇幼保健院",
    "市儿童医院",
    "医科大学附属第一医院",
    "市口腔医院",
    "市胸科医院",
    "市疾病预防控制中心",
]
BRANDS = [
    "华兴",
    "恒通",
    "金鹏",
    "海力",
    "天成",
    "远航",
    "博瑞",
    "嘉宏",
    "鼎盛",
    "瑞丰",
    "中科",
    "新锐",
    "联创",
    "宏图",
    "信达",
    "锦程",
]
MAKERS = [
    "电子科技有限公司",
    "精密制造有限公司",
    "汽车零部件有限公司",
    "智能装备股份有限公司",
    "新材料股份有限公司",
    "家电制造有限公司",
    "医药股份有限公司",
    "食品有限公司",
]
TRANSPORT = ["地铁集团有限公司", "公交集团有限公司", "港务集团有限公司", "机场集团有限公司", "城际铁路有限公司"]
LOGISTICS = ["顺丰速运", "中国邮政", "京东物流", "德邦物流", "中通快递"]
ENERGY = ["燃气集团有限公司", "水务集团有限公司", "供电局", "热力有限公司"]
ENERGY_GROUPS = ["中国石化", "中国石油", "南方电网", "国家电网", "中国海油"]
NET = ["网络科技有限公司", "信息技术有限公司", "云计算有限公司", "数据科技有限公司", "软件股份有限公司"]

# national groups: HQ at the root node, a provincial branch at each province, a branch at each local network
NATIONAL_GROUPS = [
    ("ICBC", "中国工商银行", Industry.FINANCE),
    ("CCB", "中国建设银行", Industry.FINANCE),
    ("SINOPEC", "中国石化", Industry.ENERGY),
    ("POST", "中国邮政", Industry.TRANSPORT),
    ("CMB", "招商银行", Industry.FINANCE),
]

FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "强",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "海燕",
    "晓东",
    "丽华",
    "国庆",
    "文博",
    "子涵",
    "雨桐",
    "浩然",
    "思远",
    "佳怡",
    "俊杰",
    "欣怡",
]
ROLE_TITLES = {
    DecisionRole.DECISION_MAKER: ["总经理", "副总经理", "首席信息官", "分管副局长", "副院长", "副行长"],
    DecisionRole.INFLUENCER: ["信息中心主任", "信息技术部经理", "网络部主管", "采购部经理", "办公室主任"],
    DecisionRole.USER: ["网络管理员", "运维工程师", "行政主管", "综合部专员"],
}
DEPARTMENTS = {
    DecisionRole.DECISION_MAKER: "领导班子",
    DecisionRole.INFLUENCER: "信息中心",
    DecisionRole.USER: "运维部",
}


def node_prefix(node: str) -> str:
    return node.upper().replace("-", "")


def credit_code(rng: random.Random, industry: Industry, region: str) -> str:
    if industry is Industry.GOVERNMENT:
        head = "11"  # 机构编制 · 机关
    elif industry in (Industry.EDUCATION, Industry.HEALTH):
        head = "12"  # 机构编制 · 事业单位
    else:
        head = "91"  # 工商 · 企业
    body = "".join(rng.choice(CREDIT_CHARS[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    first17 = head + region + body
    return first17 + credit_check_char(first17)


def _place(topology: Topology, node: str) -> tuple[str, str, str]:
    """(city word for names, province word, region code) of a node."""
    n = topology.node(node)
    if n.tier is Tier.GROUP:
        return "北京", "北京", REGION_CODES["北京"]
    if n.tier is Tier.PROVINCE:
        return n.name_zh, n.name_zh, REGION_CODES.get(n.name_zh, "110000")
    province = topology.node(n.parent).name_zh if n.parent else n.name_zh
    return n.name_zh, province, REGION_CODES.get(n.name_zh, REGION_CODES.get(province, "110000"))


def customer_name(rng: random.Random, industry: Industry, city: str) -> str:
    if industry is Industry.FINANCE:
        return f"{rng.choice(BANKS)}{city}{rng.choice(['分行', '支行', '分公司', '营业部'])}"
    if industry is Industry.GOVERNMENT:
        return f"{city}市{rng.choice(GOV_DEPTS)}"
    if industry is Industry.EDUCATION:
        return f"{city}{rng.choice(SCHOOLS)}"
    if industry is Industry.HEALTH:
        return f"{city}{rng.choice(HOSPITALS)}"
    if industry is Industry.MANUFACTURING:
        return f"{city}{rng.choice(BRANDS)}{rng.choice(MAKERS)}"
    if industry is Industry.TRANSPORT:
        if rng.random() < 0.5:
            return f"{city}{rng.choice(TRANSPORT)}"
        return f"{rng.choice(LOGISTICS)}{city}分公司"
    if industry is Industry.ENERGY:
        if rng.random() < 0.5:
            return f"{city}{rng.choice(ENERGY)}"
        return f"{rng.choice(ENERGY_GROUPS)}{city}分公司"
    return f"{city}{rng.choice(BRANDS)}{rng.choice(NET)}"


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _nature(industry: Industry) -> str:
    if industry is Industry.GOVERNMENT:
        return "PARTY_GOV_MIL"
    if industry in (Industry.EDUCATION, Industry.HEALTH):
        return "PUBLIC_INSTITUTION"
    return "ENTERPRISE"


def _row(
    rng: random.Random,
    *,
    code: str,
    name: str,
    industry: Industry,
    mgmt_level: str,
    region: str,
    city: str,
    managers: Sequence[tuple[str, str]],
    customer_type: str = "SINGLE",
    parent: str | None = None,
    grade: str | None = None,
) -> dict[str, str | None]:
    status = _pick(
        rng,
        [
            ("ACTIVE", 60),
            ("PROSPECT", 10),
            ("INTENT", 10),
            ("AT_RISK", 8),
            ("SUSPENDED", 4),
            ("ARREARS", 5),
            ("LOST", 3),
        ],
    )
    manager = rng.choice(managers) if managers else (None, None)
    return {
        "customer_code": code,
        "name": name[:200],
        "customer_type": customer_type,
        "nature": _nature(industry),
        "mgmt_level": mgmt_level,
        "industry": industry.value,
        "value_type": _pick(rng, [("INTRINSIC", 60), ("EXTRINSIC", 25), ("STRATEGIC", 15)]),
        "grade": grade or _pick(rng, [("A", 15), ("B", 35), ("C", 50)]),
        "life_status": status,
        "recog_status": "CANDIDATE"
        if status in ("PROSPECT", "INTENT")
        else _pick(rng, [("CONFIRMED", 80), ("UNDER_REVIEW", 12), ("DOWNGRADED", 8)]),
        "credit_code": credit_code(rng, industry, region),
        "account_manager": manager[0],
        "account_manager_name": manager[1],
        "parent_code": parent,
        "enterprise_scale": _pick(rng, [("大型", 30), ("中型", 45), ("小型", 25)]),
        "address": f"{city}市{rng.choice(['天河', '越秀', '海珠', '福田', '南山', '鼓楼', '玄武', '朝阳'])}区"
        f"{rng.choice(['中山', '人民', '解放', '建设', '东风', '科技'])}路{rng.randint(1, 999)}号",
        "description": None,
    }


def plan_customers(
    node: str, topology: Topology, count: int, managers: Sequence[tuple[str, str]]
) -> list[dict[str, str | None]]:
    """Deterministic rows of a node (same node → same codes and values); parents named by code."""
    rng = random.Random(f"kam-seed-{node}")
    city, province, region = _place(topology, node)
    tier = topology.node(node).tier
    mgmt = {Tier.GROUP: "GROUP", Tier.PROVINCE: "PROVINCE", Tier.LOCAL: "LOCAL"}[tier]
    prefix = node_prefix(node)
    rows: list[dict[str, str | None]] = []
    if count >= 20:
        for key, group, industry in NATIONAL_GROUPS:
            if tier is Tier.GROUP:
                rows.append(
                    _row(
                        rng,
                        code=f"KA{prefix}-GRP-{key}",
                        name=group,
                        industry=industry,
                        mgmt_level="GROUP",
                        region=region,
                        city=city,
                        managers=managers,
                        customer_type="GROUP_CUSTOMER",
                        grade="A",
                    )
                )
            elif tier is Tier.PROVINCE:
                rows.append(
                    _row(
                        rng,
                        code=f"KA{prefix}-GRP-{key}",
                        name=f"{group}{province}省分行"
                        if industry is Industry.FINANCE
                        else f"{group}{province}省分公司",
                        industry=industry,
                        mgmt_level="PROVINCE",
                        region=region,
                        city=city,
                        managers=managers,
                        customer_type="GROUP_CUSTOMER",
                        grade="A",
                        parent=f"KA{node_prefix(topology.root.code)}-GRP-{key}",
                    )
                )
            else:
                parent_node = node_prefix(topology.node(node).parent or node)
                rows.append(
                    _row(
                        rng,
                        code=f"KA{prefix}-GRP-{key}",
                        name=f"{group}{city}分行" if industry is Industry.FINANCE else f"{group}{city}分公司",
                        industry=industry,
                        mgmt_level="LOCAL",
                        region=region,
                        city=city,
                        managers=managers,
                        parent=f"KA{parent_node}-GRP-{key}",
                    )
                )
        # a local group with its subsidiaries, all in this database
        hq_code = f"KA{prefix}G000001"
        rows.append(
            _row(
                rng,
                code=hq_code,
                name=f"{city}地铁集团有限公司",
                industry=Industry.TRANSPORT,
                mgmt_level=mgmt,
                region=region,
                city=city,
                managers=managers,
                customer_type="GROUP_CUSTOMER",
                grade="A",
            )
        )
        for i, sub in enumerate(["地铁运营有限公司", "地铁建设投资有限公司", "地铁设计研究院有限公司"], start=2):
            rows.append(
                _row(
                    rng,
                    code=f"KA{prefix}G{i:06d}",
                    name=f"{city}{sub}",
                    industry=Industry.TRANSPORT,
                    mgmt_level=mgmt,
                    region=region,
                    city=city,
                    managers=managers,
                    parent=hq_code,
                )
            )
    names = {r["name"] for r in rows}
    i = 0
    while len(rows) < count:
        i += 1
        industry = _pick(rng, INDUSTRY_WEIGHTS)
        name = customer_name(rng, industry, city)
        for n in range(2, 50):
            if name not in names:
                break
            name = customer_name(rng, industry, city) if n < 10 else f"{name[:190]}{n}部"
        names.add(name)
        rows.append(
            _row(
                rng,
                code=f"KA{prefix}S{i:06d}",
                name=name,
                industry=industry,
                mgmt_level=mgmt,
                region=region,
                city=city,
                managers=managers,
            )
        )
    return rows


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def plan_contacts(code: str) -> list[dict[str, Any]]:
    rng = random.Random(f"kam-contacts-{code}")
    roles = [DecisionRole.DECISION_MAKER, DecisionRole.INFLUENCER, DecisionRole.USER][: rng.choice([2, 3, 3])]
    out = []
    for k, role in enumerate(roles):
        family, given = rng.choice(FAMILY), rng.choice(GIVEN)
        out.append(
            {
                "id": uuid.uuid5(CONTACT_NS, f"{code}/{k}"),
                "family_name": family,
                "given_name": given,
                "full_name": family + given,
                "title": rng.choice(ROLE_TITLES[role]),
                "department": DEPARTMENTS[role],
                "decision_role": role.value,
                "preferred_medium": rng.choice(["phone", "wechat", "email", "visit"]),
                "phone": _mobile(rng),
                "email": f"{role.value.lower().replace('_', '')}{k + 1}@{code.lower()}.com.cn",
                "is_primary": role is DecisionRole.DECISION_MAKER,
            }
        )
    return out


_CONTACT_COLS = (
    "id",
    "customer_id",
    "family_name",
    "given_name",
    "full_name",
    "title",
    "department",
    "decision_role",
    "preferred_medium",
    "phone",
    "email",
    "is_primary",
)
_CONTACT_TYPES = ("uuid", "uuid", "text", "text", "text", "text", "text", "text", "text", "text", "text", "bool")
_UPSERT_CONTACTS = f"""
INSERT INTO {SCHEMA}.contact AS c (owner_node, version, created_at, updated_at, {", ".join(_CONTACT_COLS)})
SELECT $1, 1, now(), now(), * FROM unnest({", ".join(f"${i + 2}::{t}[]" for i, t in enumerate(_CONTACT_TYPES))})
ON CONFLICT (id) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in _CONTACT_COLS[1:])},
    version = c.version + 1, updated_at = now()
WHERE c.owner_node = $1
RETURNING c.*, (c.xmax = 0) AS inserted
"""


async def _seed_contacts(conn: Any, node: str, loaded: dict[str, uuid.UUID]) -> None:
    rows = []
    for code, customer_id in loaded.items():
        for contact in plan_contacts(code):
            rows.append({**contact, "customer_id": customer_id})
    if not rows:
        return
    returned = await conn.fetch(_UPSERT_CONTACTS, node, *[[r[c] for r in rows] for c in _CONTACT_COLS])
    outbox: list[tuple[Any, ...]] = []
    audit: list[tuple[Any, ...]] = []
    for r in returned:
        state = customer_pb2.ContactState(
            id=str(r["id"]),
            owner_node=node,
            version=r["version"],
            customer_id=str(r["customer_id"]),
            given_name=r["given_name"] or "",
            family_name=r["family_name"] or "",
            full_name=r["full_name"],
            title=r["title"] or "",
            department=r["department"] or "",
            decision_role=r["decision_role"] or "",
            preferred_medium=r["preferred_medium"] or "",
            phone=r["phone"] or "",
            email=r["email"] or "",
            is_primary=r["is_primary"],
            created_at=ts(r["created_at"]),
            updated_at=ts(r["updated_at"]),
        )
        for aggregate, agg_id, version, message in _contact_events(node, r, state, audit):
            event_id, subject, event_type, payload = build_event(
                node=node,
                service=events.SERVICE,
                aggregate_type=aggregate,
                aggregate_id=str(agg_id),
                version=version,
                message=message,
                actor=ACTOR,
            )
            outbox.append((event_id, subject, event_type, str(agg_id), version, payload))
    await ie_repository.copy_audit(conn, audit)
    await ie_repository.copy_outbox(conn, outbox)


def _contact_events(
    node: str, r: Any, state: customer_pb2.ContactState, audit: list[tuple[Any, ...]]
) -> list[tuple[str, uuid.UUID, int, Any]]:
    changes = (
        {"fullName": [None, r["full_name"]], "decisionRole": [None, r["decision_role"]], "title": [None, r["title"]]}
        if r["inserted"]
        else {}
    )
    audit_id = uuid7()
    changes_json = json.dumps(changes, ensure_ascii=False)
    action = "import"
    at = datetime.now(UTC)  # stored and carried alike, so replicas hold the owner's `at`
    audit.append((audit_id, node, "contact", r["id"], action, ACTOR, changes_json, None, at))
    return [
        ("contact", r["id"], r["version"], customer_pb2.ContactChanged(contact=state)),
        (
            "audit",
            audit_id,
            1,
            events.audit_message(
                audit_id=audit_id,
                owner_node=node,
                entity_type="contact",
                entity_id=r["id"],
                action=action,
                actor=ACTOR,
                at=ts(at),
                changes_json=changes_json,
                request_id=None,
            ),
        ),
    ]


async def seed(
    database_url: str,
    node: str,
    topology: Topology,
    *,
    customers: int = 300,
    account_managers: list[tuple[str, str]] | None = None,
) -> int:
    """Seed `customers` key accounts (with contacts) owned by `node`; returns how many were loaded."""
    managers = account_managers if account_managers is not None else DEFAULT_MANAGERS
    rows = plan_customers(node, topology, customers, managers)
    header = list(COLUMNS)
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        async with conn.transaction():
            now = await ie_repository.transaction_now(conn)
            await ie_repository.prepare_stage(conn)
            loader = Loader(conn, node, ACTOR, now, track_ids=True)
            # a parent owned by another node is referenced only when it is in this database already
            wanted = {r["parent_code"] for r in rows if r["parent_code"]} - {r["customer_code"] for r in rows}
            present = await ie_repository.find_by_codes(conn, wanted)
            batch: list[tuple[int, dict[str, str | None]]] = []
            problems: list[RowError] = []
            for line, r in enumerate(rows, start=2):
                if r["parent_code"] in wanted and r["parent_code"] not in present:
                    r = {**r, "parent_code": None}
                cells = [r.get(c.attr) for c in header]
                values, errors = validate_row(line, header, cells)
                problems += errors
                batch.append((line, values))
            if problems:
                raise ValueError(f"seed generated invalid rows: {problems[:3]}")
            for start in range(0, len(batch), 5000):
                await loader.load(batch[start : start + 5000])
            if loader.result.rejected:
                raise ValueError(f"seed rows rejected: {loader.result.errors[:3]}")
            await _seed_contacts(conn, node, loader.loaded)
            await loader.finish()
            return loader.result.created + loader.result.updated
    finally:
        await conn.close()


async def list_key_accounts(database_url: str, node: str) -> list[dict[str, Any]]:
    """The node's own active key accounts (id, code, name, grade, account manager), for the seeders that
    follow (the service service opens its demo tickets for them)."""
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        rows = await conn.fetch(
            f"SELECT id, customer_code, name, grade, account_manager FROM {SCHEMA}.customer "
            "WHERE owner_node = $1 AND life_status = 'ACTIVE' ORDER BY customer_code LIMIT 200",
            node,
        )
    finally:
        await conn.close()
    return [
        {
            "id": r["id"],
            "code": r["customer_code"],
            "name": r["name"],
            "grade": r["grade"],
            "account_manager": r["account_manager"],
        }
        for r in rows
    ]
