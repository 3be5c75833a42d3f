"""API models of the needs profile (需求档案)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_customer.customer.schemas import ApiModel
from kam_platform.api import ReadModel

Text4k = Annotated[str | None, Field(max_length=4000)]

# API name → column, in the order the profile is shown
FIELDS = {
    "networkSituation": "network_situation",
    "businessSituation": "business_situation",
    "techInnovationGoals": "tech_innovation_goals",
    "currentProductUsage": "current_product_usage",
    "decisionProcess": "decision_process",
    "latentNeeds": "latent_needs",
    "businessScope": "business_scope",
    "customersOfCustomer": "customers_of_customer",
}


class NeedsProfileUpdate(ApiModel):
    """A JSON merge patch of the profile: the attributes given replace the stored ones (null clears)."""

    network_situation: Text4k = None  # 网络情况
    business_situation: Text4k = None  # 业务情况
    tech_innovation_goals: Text4k = None  # 技术创新目标
    current_product_usage: Text4k = None  # 现用产品使用情况
    decision_process: Text4k = None  # 决策流程
    latent_needs: Text4k = None  # 潜在需求
    business_scope: Text4k = None  # 经营范围
    customers_of_customer: Text4k = None  # 客户的客户


class NeedsProfileRead(ReadModel):
    """A customer's needs profile; `version` 0 and no `id` until it is first written."""

    id: str | None
    href: str
    type_: Annotated[Literal["NeedsProfile"], Field(alias="@type")] = "NeedsProfile"
    customer_id: str
    network_situation: str | None
    business_situation: str | None
    tech_innovation_goals: str | None
    current_product_usage: str | None
    decision_process: str | None
    latent_needs: str | None
    business_scope: str | None
    customers_of_customer: str | None
    owner_node: str
    version: int
    updated_by: str | None
    updated_at: datetime | None
