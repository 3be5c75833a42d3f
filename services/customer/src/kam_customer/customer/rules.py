"""Key-account classification (REQUIREMENTS §2.3), the two status state machines, the hierarchy rules
(parent type, no cycles, branches keep their group), and the unified social credit code (统一社会信用代码,
GB 32100-2015) check digit. The API write path (customer.service) and the bulk import
(importexport.service) both judge with these functions: one rule, written once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kam_platform.topology import Topology


class CustomerType(StrEnum):  # 客户结构
    GROUP_CUSTOMER = "GROUP_CUSTOMER"  # 集团客户 (multi-site)
    SINGLE = "SINGLE"  # 单体客户


class Nature(StrEnum):  # 客户性质
    PARTY_GOV_MIL = "PARTY_GOV_MIL"  # 党政军
    ENTERPRISE = "ENTERPRISE"  # 企业
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION"  # 事业单位
    SOCIAL_ORG = "SOCIAL_ORG"  # 社会团体
    FOREIGN = "FOREIGN"  # 外资企业
    CARRIER = "CARRIER"  # 运营商客户


class MgmtLevel(StrEnum):  # 管理级别
    GROUP = "GROUP"  # 集团级
    PROVINCE = "PROVINCE"  # 省级
    LOCAL = "LOCAL"  # 本地网级


class Industry(StrEnum):  # 行业
    FINANCE = "FINANCE"  # 金融
    GOVERNMENT = "GOVERNMENT"  # 政府
    EDUCATION = "EDUCATION"  # 教育
    HEALTH = "HEALTH"  # 医疗卫生
    MANUFACTURING = "MANUFACTURING"  # 制造
    ENERGY = "ENERGY"  # 能源
    TRANSPORT = "TRANSPORT"  # 交通物流
    MEDIA = "MEDIA"  # 媒体
    INTERNET = "INTERNET"  # 互联网
    COMMERCE = "COMMERCE"  # 商贸
    OTHER = "OTHER"  # 其他
    UNKNOWN = "UNKNOWN"  # 待补充: not given yet (a TMF client's minimal create), to be completed


INDUSTRY_ZH = {
    Industry.FINANCE: "金融",
    Industry.GOVERNMENT: "政府",
    Industry.EDUCATION: "教育",
    Industry.HEALTH: "医疗卫生",
    Industry.MANUFACTURING: "制造",
    Industry.ENERGY: "能源",
    Industry.TRANSPORT: "交通物流",
    Industry.MEDIA: "媒体",
    Industry.INTERNET: "互联网",
    Industry.COMMERCE: "商贸",
    Industry.OTHER: "其他",
    Industry.UNKNOWN: "待补充",
}


class ValueType(StrEnum):  # 价值类型
    INTRINSIC = "INTRINSIC"
    EXTRINSIC = "EXTRINSIC"
    STRATEGIC = "STRATEGIC"


class Grade(StrEnum):  # 客户等级
    A = "A"  # 钻石
    B = "B"  # 金
    C = "C"  # 银


class LifeStatus(StrEnum):  # 生命周期状态
    PROSPECT = "PROSPECT"  # 潜在
    INTENT = "INTENT"  # 意向
    ACTIVE = "ACTIVE"  # 在网
    AT_RISK = "AT_RISK"  # 流失预警
    SUSPENDED = "SUSPENDED"  # 暂停
    ARREARS = "ARREARS"  # 欠费
    LOST = "LOST"  # 流失
    CLOSED = "CLOSED"  # 注销


class RecogStatus(StrEnum):  # 认定状态
    CANDIDATE = "CANDIDATE"  # 候选
    CONFIRMED = "CONFIRMED"  # 已认定
    UNDER_REVIEW = "UNDER_REVIEW"  # 复核中
    DOWNGRADED = "DOWNGRADED"  # 降级
    EXITED = "EXITED"  # 退出


class DecisionRole(StrEnum):  # 决策角色
    DECISION_MAKER = "DECISION_MAKER"  # 决策者
    INFLUENCER = "INFLUENCER"  # 影响者
    USER = "USER"  # 使用者


class ContactMediumType(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WECHAT = "wechat"
    VISIT = "visit"


LIFE_TRANSITIONS: dict[LifeStatus, frozenset[LifeStatus]] = {
    LifeStatus.PROSPECT: frozenset({LifeStatus.INTENT, LifeStatus.ACTIVE, LifeStatus.LOST}),
    LifeStatus.INTENT: frozenset({LifeStatus.PROSPECT, LifeStatus.ACTIVE, LifeStatus.LOST}),
    LifeStatus.ACTIVE: frozenset({LifeStatus.AT_RISK, LifeStatus.SUSPENDED, LifeStatus.ARREARS, LifeStatus.CLOSED}),
    LifeStatus.AT_RISK: frozenset({LifeStatus.ACTIVE, LifeStatus.SUSPENDED, LifeStatus.ARREARS, LifeStatus.LOST}),
    LifeStatus.SUSPENDED: frozenset({LifeStatus.ACTIVE, LifeStatus.LOST, LifeStatus.CLOSED}),
    LifeStatus.ARREARS: frozenset({LifeStatus.ACTIVE, LifeStatus.SUSPENDED, LifeStatus.LOST, LifeStatus.CLOSED}),
    LifeStatus.LOST: frozenset({LifeStatus.PROSPECT}),  # win-back starts over
    LifeStatus.CLOSED: frozenset(),
}

RECOG_TRANSITIONS: dict[RecogStatus, frozenset[RecogStatus]] = {
    RecogStatus.CANDIDATE: frozenset({RecogStatus.CONFIRMED, RecogStatus.EXITED}),
    RecogStatus.CONFIRMED: frozenset({RecogStatus.UNDER_REVIEW, RecogStatus.EXITED}),
    RecogStatus.UNDER_REVIEW: frozenset({RecogStatus.CONFIRMED, RecogStatus.DOWNGRADED, RecogStatus.EXITED}),
    RecogStatus.DOWNGRADED: frozenset({RecogStatus.UNDER_REVIEW, RecogStatus.CONFIRMED, RecogStatus.EXITED}),
    RecogStatus.EXITED: frozenset({RecogStatus.CANDIDATE}),
}


def allowed_life(current: str) -> list[str]:
    return sorted(s.value for s in LIFE_TRANSITIONS[LifeStatus(current)])


def allowed_recog(current: str) -> list[str]:
    return sorted(s.value for s in RECOG_TRANSITIONS[RecogStatus(current)])


# --- the write rules both write paths apply (the API one record at a time, the import set-based) ---


@dataclass(frozen=True)
class TransitionRefused:
    """A status change the state machine does not allow: which attribute, and why."""

    field: str  # API attribute: status / recognitionStatus
    current: str
    requested: str
    allowed: list[str]

    @property
    def message(self) -> str:
        allowed = ", ".join(self.allowed) or "none (terminal)"
        return (
            f"{self.field} cannot change from {self.current} to {self.requested}; "
            f"allowed from {self.current}: {allowed}"
        )


def transition_refused(
    life: tuple[str, str] | None = None, recog: tuple[str, str] | None = None
) -> TransitionRefused | None:
    """The first refused change among (current, requested) of the life status and the recognition
    status (None when both are allowed or unchanged)."""
    if life is not None and LifeStatus(life[1]) not in {LifeStatus(life[0]), *LIFE_TRANSITIONS[LifeStatus(life[0])]}:
        return TransitionRefused("status", life[0], life[1], allowed_life(life[0]))
    if recog is not None and RecogStatus(recog[1]) not in {
        RecogStatus(recog[0]),
        *RECOG_TRANSITIONS[RecogStatus(recog[0])],
    }:
        return TransitionRefused("recognitionStatus", recog[0], recog[1], allowed_recog(recog[0]))
    return None


def parent_type_problem(parent: str, parent_type: str) -> str | None:
    """Only a group customer (集团客户) has branches; `parent` names it in the message."""
    if parent_type != CustomerType.GROUP_CUSTOMER:
        return f"{parent} is not a group customer (customerType GROUP_CUSTOMER)"
    return None


def cycle_problem(parent: str) -> str:
    return f"making {parent} the parent would create a cycle in the customer hierarchy"


def creates_cycle(child_id: object, parent_id: object, parent_ancestors: Iterable[object]) -> bool:
    """Whether making `parent_id` the parent of `child_id` closes a loop: the child is the parent or one
    of the parent's ancestors."""
    return child_id is not None and (parent_id == child_id or child_id in parent_ancestors)


BRANCHES_STAY_GROUP = "a customer with branches must stay GROUP_CUSTOMER"


def leaves_group(old_type: str, new_type: str) -> bool:
    """A change of customerType away from GROUP_CUSTOMER (refused while the customer has branches)."""
    return old_type == CustomerType.GROUP_CUSTOMER and new_type != CustomerType.GROUP_CUSTOMER


# --- unified social credit code ----------------------------------------------------------------

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")  # ASCII digits only


# each position's weighted value of every allowed character (GB 32100-2015), looked up per character:
# an import checks every row's code, and this is 2.6 times quicker than str.index and a multiplication
_WEIGHTED = tuple({c: i * w for i, c in enumerate(CREDIT_CHARS)} for w in CREDIT_WEIGHTS)


def credit_check_char(first17: str) -> str:
    """The check character of the code's first 17 characters (ValueError for any other input)."""
    if len(first17) != len(_WEIGHTED):
        raise ValueError(f"expected {len(_WEIGHTED)} characters, got {len(first17)}")
    try:
        total = sum(map(dict.__getitem__, _WEIGHTED, first17))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a credit-code character") from None
    return CREDIT_CHARS[-total % 31]


def credit_code_problem(code: str) -> str | None:
    """None when `code` is a valid unified social credit code, else what is wrong with it."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    if not CREDIT_RE.match(code):
        return "has characters outside the allowed set (digits and A-Y without I, O, S, V, Z)"
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        return f"check digit is {code[17]!r} but should be {expected!r}"
    return None


CUSTOMER_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$")


# --- customer-code namespaces (客户编码): a node assigns codes only in its own ---------------------


def code_prefix(node: str) -> str:
    """The start of every customer code a node assigns: ``KA`` + its code, upper case, no dashes
    (gd-gz → ``KAGDGZ``). Generated codes are ``<prefix><8 digits>``; a client's own follow it freely."""
    return "KA" + node.upper().replace("-", "")


_NAMESPACES: dict[int, tuple[Topology, dict[str, str], tuple[int, ...]]] = {}


def code_namespace(topology: Topology, code: str) -> str | None:
    """The node whose namespace `code` lies in: the node of the LONGEST prefix it starts with, so
    gd-gz's ``KAGDGZ…`` is never gd's ``KAGD…``; None when it names no node of the federation."""
    entry = _NAMESPACES.get(id(topology))
    if entry is None or entry[0] is not topology:
        by_prefix = {code_prefix(n.code): n.code for n in topology}
        entry = (topology, by_prefix, tuple(sorted({len(p) for p in by_prefix}, reverse=True)))
        _NAMESPACES[id(topology)] = entry
    _, by_prefix, lengths = entry
    for length in lengths:
        node = by_prefix.get(code[:length])
        if node is not None:
            return node
    return None


def code_namespace_problem(topology: Topology, node: str, code: str) -> str | None:
    """Why `node` may not assign `code` (None when it may): the group's uniqueness of codes rests on
    every node assigning only inside its own namespace."""
    owner = code_namespace(topology, code)
    if owner == node:
        return None
    where = f"it lies in {owner}'s" if owner else "it names no node's"
    return (
        f"{code!r} is outside this node's code namespace ({where}); "
        f"codes assigned at {node} start with {code_prefix(node)}"
    )
