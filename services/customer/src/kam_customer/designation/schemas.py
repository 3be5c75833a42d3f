"""API models of the national key-account list (全国大客户名录) as answered (the request bodies,
DesignationCreate, DesignationUpdate and ResponseCreate, are in service.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_customer.customer.rules import Grade
from kam_platform.api import ReadModel


class DesignatedCustomer(ReadModel):
    id: str
    href: str
    name: str
    customer_code: str
    owner_node: str


class DesignationResponseRead(ReadModel):
    """One node's answer to a designation: a province ACKNOWLEDGED or DISPUTED it, a local network
    ASSIGNED its account manager."""

    node: str
    status: Literal["ACKNOWLEDGED", "DISPUTED", "ASSIGNED"]
    reason: str | None
    account_manager: str | None
    account_manager_name: str | None
    responded_by: str
    version: int
    updated_at: datetime


class DesignationRead(ReadModel):
    """The group's designation of a customer as a national key account, and each node's answer."""

    id: str
    href: str
    type_: Annotated[Literal["NationalKeyAccountDesignation"], Field(alias="@type")] = "NationalKeyAccountDesignation"
    customer: DesignatedCustomer
    grade: Grade
    group_account_manager: str | None  # 集团客户经理
    group_account_manager_name: str | None
    service_level: str | None  # 服务等级
    status: Literal["ACTIVE", "WITHDRAWN"]
    note: str | None
    designated_by: str
    owner_node: str
    version: int
    updated_at: datetime
    responses: list[DesignationResponseRead]
