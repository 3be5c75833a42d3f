"""API models of the decision map (决策链)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from kam_customer.customer.schemas import ApiModel
from kam_platform.api import ReadModel


class RelationType(StrEnum):
    REPORTS_TO = "REPORTS_TO"  # 汇报给
    INFLUENCES = "INFLUENCES"  # 影响
    ALLY = "ALLY"  # 支持者 / 盟友
    OPPONENT = "OPPONENT"  # 反对者


class ContactRelationCreate(ApiModel):
    from_contact_id: str  # the contact the relation starts at (who reports to / influences …)
    to_contact_id: str
    relation_type: RelationType
    note: Annotated[str | None, Field(max_length=1000)] = None


class ContactRelationRead(ReadModel):
    id: str
    href: str
    type_: Annotated[Literal["ContactRelation"], Field(alias="@type")] = "ContactRelation"
    from_contact_id: str
    to_contact_id: str
    relation_type: RelationType
    note: str | None
    owner_node: str
    version: int


class DecisionNode(ReadModel):
    id: str
    full_name: str
    title: str | None
    department: str | None
    decision_role: str | None  # 决策者 / 影响者 / 使用者


class DecisionMapRead(ReadModel):
    """The graph: the customer's contacts (nodes, with their decision role) and their relations (edges)."""

    customer_id: str
    type_: Annotated[Literal["DecisionMap"], Field(alias="@type")] = "DecisionMap"
    contacts: list[DecisionNode]
    relations: list[ContactRelationRead]
