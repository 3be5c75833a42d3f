"""Demo tickets (`kam seed`; idempotent by `externalId`): at each local network a handful of tickets for
its own key accounts — faults, complaints, consultations, change requests in every state of the closed
loop, some of them breached — written through the ticket write path with the time moved back, then one
evaluator pass so breaches and escalations are recorded as the running node would record them; then a
Spring Festival greeting plan for the key accounts and contact schemes for a few (once each)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.auth import Principal
from kam_platform.db import create_database
from kam_platform.settings import Settings
from kam_platform.topology import Topology
from kam_service.care import service as care_service
from kam_service.care.repository import PlanRepository
from kam_service.care.schemas import CarePlanCreate, Money, TargetIn
from kam_service.care.states import CareKind
from kam_service.contact_scheme import service as scheme_service
from kam_service.contact_scheme.repository import SchemeRepository
from kam_service.contact_scheme.schemas import ContactSchemeCreate, CustomerRef, EntryIn, Level
from kam_service.lookups import CustomerFacts, Lookups, SlaRule
from kam_service.sla.evaluator import Evaluator
from kam_service.ticket import service as ticket_service
from kam_service.ticket.repository import TicketRepository
from kam_service.ticket.schemas import RelatedPartyIn, RevisitCreate, TroubleTicketCreate, TroubleTicketUpdate
from kam_service.ticket.states import Channel, Priority, Status, TicketType

ACTOR = "system:seed"


def national_sla(root: str) -> SlaRule:
    """The national default SLA rule as the rules seed publishes it at the root (its stable id
    ``uuid5(kam:rules:<root>:sla:default)``, version 1). The seed runs before replication has brought
    the rule to a local network, so it cannot ask the rules service there; keep in step with
    kam_rules.seed (docs/service.md)."""
    timers = {
        g: {t: {"responseMinutes": m, "resolveMinutes": m * 8} for t in ("COMPLAINT", "FAULT", "REQUEST")}
        for g, m in {"A": 30, "B": 60, "C": 120}.items()
    }
    return SlaRule(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"kam:rules:{root}:sla:default"),
        version=1,
        parameters={
            "timers": timers,
            "escalation": [{"afterMinutes": 60, "to": "ka_dept_manager"}, {"afterMinutes": 240, "to": "province"}],
        },
    )


class SeedLookups(Lookups):
    """The customer facts handed over by the customer seeder and the national rule: no HTTP at seed time."""

    def __init__(self, customers: dict[uuid.UUID, CustomerFacts], rule: SlaRule) -> None:
        super().__init__(lambda: None)  # type: ignore[arg-type,return-value]
        self.customers = customers
        self.rule = rule

    async def customer(self, customer_id: uuid.UUID, token: str) -> CustomerFacts:
        return self.customers[customer_id]

    async def sla_rule(self, node: str, on: date, token: str) -> SlaRule | None:
        return self.rule


@dataclass(frozen=True)
class Plan:
    """One demo ticket: what was reported, and its steps as (hours after acceptance, status, reason);
    a step ``revisit:<score>`` / ``reopen:<score>`` is the customer's answer."""

    key: str
    ticket_type: TicketType
    channel: Channel
    priority: Priority
    name: str
    description: str
    affected: str | None
    age_hours: float
    steps: tuple[tuple[float, str, str], ...] = ()


PLANS: tuple[Plan, ...] = (
    Plan(
        "01",
        TicketType.FAULT,
        Channel.CS_10000,
        Priority.HIGH,
        "互联网专线中断",
        "客户总部互联网专线自 09:10 起中断，业务系统无法访问外网。",
        "DIA-0001",
        120,
        (
            (0.3, "inProgress", "已派单至线路维护班组"),
            (3.0, "resolved", "光缆熔接完成，业务恢复"),
            (26.0, "revisit:5", "客户确认恢复，满意"),
        ),
    ),
    Plan(
        "02",
        TicketType.COMPLAINT,
        Channel.ACCOUNT_MANAGER,
        Priority.MEDIUM,
        "月度账单费用争议",
        "客户反映 3 月账单国际长途费用异常偏高，要求核查。",
        None,
        50,
        ((1.0, "inProgress", "计费中心核查中"), (20.0, "resolved", "确认为漫游计费错误，已退费")),
    ),
    Plan(
        "03",
        TicketType.FAULT,
        Channel.HOTLINE,
        Priority.CRITICAL,
        "数据中心 MPLS 电路丢包",
        "两地数据中心之间 MPLS VPN 丢包率 30%，核心交易受影响。",
        "MPLS-0003",
        72,
        ((0.5, "inProgress", "网络运维中心介入"),),
    ),
    Plan(
        "04",
        TicketType.CONSULTATION,
        Channel.WEB,
        Priority.LOW,
        "SD-WAN 资费与方案咨询",
        "客户拟在 12 个分支部署 SD-WAN，咨询资费与组网方案。",
        None,
        1,
    ),
    Plan(
        "05",
        TicketType.CHANGE_REQUEST,
        Channel.ACCOUNT_MANAGER,
        Priority.MEDIUM,
        "专线带宽扩容 100M→1G",
        "客户申请总部专线带宽由 100M 扩容至 1G。",
        "DIA-0005",
        30,
        ((2.0, "inProgress", "已受理"), (4.0, "pending", "等待客户确认割接窗口")),
    ),
    Plan(
        "06",
        TicketType.COMPLAINT,
        Channel.EMAIL,
        Priority.HIGH,
        "新装机延误投诉",
        "分支机构光纤新装超过承诺时限 10 天未完成。",
        None,
        150,
        (
            (0.5, "inProgress", "装维中心跟进"),
            (30.0, "resolved", "已完成装机"),
            (50.0, "reopen:2", "客户反映仍有两个分支未开通"),
            (60.0, "resolved", "剩余分支开通"),
        ),
    ),
    Plan(
        "07",
        TicketType.FAULT,
        Channel.CS_10000,
        Priority.MEDIUM,
        "语音中继闪断",
        "呼叫中心 E1 语音中继间歇性闪断。",
        "PRI-0007",
        200,
        ((0.2, "inProgress", "交换专业处理"), (6.0, "resolved", "更换中继板卡"), (30.0, "revisit:4", "客户基本满意")),
    ),
    Plan(
        "08",
        TicketType.FAULT,
        Channel.HOTLINE,
        Priority.HIGH,
        "视频会议专网无法接入",
        "客户视频会议终端无法注册到专网 MCU。",
        "VC-0008",
        240,
    ),
)


def _principal(node: str) -> Principal:
    return Principal(
        username=ACTOR,
        home_node=node,
        scope_node=node,
        roles=frozenset({"sys_admin"}),
        permissions=frozenset({"*"}),
    )


async def _one(
    session: AsyncSession,
    *,
    settings: Settings,
    plan: Plan,
    customer: CustomerFacts,
    lookups: SeedLookups,
    now: datetime,
) -> bool:
    external = f"SEED-{settings.node}-{plan.key}"
    if await TicketRepository.from_session(session).by_external_id(settings.node, external) is not None:
        return False
    who = _principal(settings.node)
    opened = now - timedelta(hours=plan.age_hours)
    data = TroubleTicketCreate(
        name=plan.name,
        description=plan.description,
        ticket_type=plan.ticket_type,
        channel=plan.channel,
        priority=plan.priority,
        related_party=[RelatedPartyIn(id=str(customer.id), role="customer", name=customer.name)],
        affected_service=plan.affected,
        external_id=external,
        handler=customer.account_manager,
    )
    t = await ticket_service.create_ticket(
        session, settings=settings, principal=who, data=data, lookups=lookups, token="", now=opened
    )
    for hours, step, reason in plan.steps:
        at = opened + timedelta(hours=hours)
        if step.startswith(("revisit:", "reopen:")):
            kind, _, score = step.partition(":")
            body = RevisitCreate(satisfied=kind == "revisit", score=int(score), comment=reason)
            await ticket_service.revisit(session, settings=settings, principal=who, ticket_id=t.id, body=body, now=at)
        else:
            patch = TroubleTicketUpdate(status=Status(step), status_change_reason=reason)
            await ticket_service.update_ticket(
                session,
                settings=settings,
                principal=who,
                ticket_id=t.id,
                patch=patch,
                present={"status", "statusChangeReason"},
                now=at,
            )
    return True


SPRING_GREETING = "春节问候 (Spring Festival greeting)"


async def _care_and_schemes(
    session: AsyncSession,
    *,
    settings: Settings,
    customers: Sequence[CustomerFacts],
    lookups: SeedLookups,
    now: datetime,
) -> int:
    """A yearly greeting plan for the node's key accounts and a contact scheme for the first few (once)."""
    who = _principal(settings.node)
    written = 0
    plans = PlanRepository.from_session(session)
    if not any(p.name == SPRING_GREETING for p in await plans.active_of(settings.node)):
        data = CarePlanCreate(
            kind=CareKind.HOLIDAY_GREETING,
            name=SPRING_GREETING,
            segment="本地网全部重点客户",
            occasion="02-17",
            lead_days=14,
            budget_per_target=Money(value=Decimal("300")),
            targets=[TargetIn(customer_id=str(c.id)) for c in customers[:50]],
        )
        await care_service.create_plan(
            session, settings=settings, principal=who, data=data, lookups=lookups, token="", now=now
        )
        written += 1
    schemes = SchemeRepository.from_session(session)
    parent = settings.topology.node(settings.node).parent or settings.node
    for c in customers[:3]:
        if await schemes.of_customer(settings.node, c.id) is not None:
            continue
        scheme = ContactSchemeCreate(
            related_party=[CustomerRef(id=str(c.id), role="customer", name=c.name)],
            hotlines=["10000"],
            entries=[
                EntryIn(
                    level=Level.CITY,
                    customer_branch=f"{c.name} 信息部",
                    telecom_node=settings.node,
                    telecom_office="政企客户部",
                    telecom_contact=c.account_manager,
                ),
                EntryIn(
                    level=Level.PROVINCE,
                    customer_branch=f"{c.name} 省级总部",
                    telecom_node=parent,
                    telecom_office="省政企客户部",
                ),
            ],
        )
        await scheme_service.create_scheme(
            session, settings=settings, principal=who, data=scheme, lookups=lookups, token="", now=now
        )
        written += 1
    return written


async def seed(
    database_url: str,
    node: str,
    topology: Topology,
    *,
    key_accounts: Sequence[dict[str, Any]] | None = None,
    **_: Any,
) -> int:
    """Seed the demo tickets of a local network for the key accounts the customer seeder loaded there;
    returns how many were written (nothing at a node with a subtree, or without key accounts)."""
    if topology.children(node) or not key_accounts:
        return 0
    settings = Settings(node=node, service="service", database_url=database_url)
    settings.__dict__["topology"] = topology  # the cached property, without a topology file
    facts = {
        uuid.UUID(str(c["id"])): CustomerFacts(
            id=uuid.UUID(str(c["id"])),
            code=str(c["code"]),
            name=str(c["name"]),
            grade=str(c["grade"]),
            owner_node=node,
            account_manager=c.get("account_manager"),
        )
        for c in key_accounts
    }
    customers = list(facts.values())
    root = next(n.code for n in topology.ordered() if n.parent is None)
    lookups = SeedLookups(facts, national_sla(root))
    now = datetime.now(UTC)
    db = create_database(database_url, pool_size=1, application_name=f"kam-seed-service-{node}")
    written = 0
    try:
        for i, plan in enumerate(PLANS):
            async with db.sessionmaker() as session, session.begin():
                customer = customers[(i * 7) % len(customers)]
                written += await _one(
                    session, settings=settings, plan=plan, customer=customer, lookups=lookups, now=now
                )
        # breaches and escalation steps as the node's evaluator records them
        await Evaluator(db.sessionmaker, node=node, clock=lambda: datetime.now(UTC)).run_once()
        async with db.sessionmaker() as session, session.begin():
            await _care_and_schemes(session, settings=settings, customers=customers, lookups=lookups, now=now)
    finally:
        await db.dispose()
    return written
