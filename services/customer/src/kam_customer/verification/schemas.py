"""API models of province verification (省级核实)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from kam_customer.customer.schemas import ApiModel
from kam_platform.api import ReadModel


class VerificationState(StrEnum):
    UNVERIFIED = "unverified"  # 待核实: entered at a local network, not yet judged by its province
    VERIFIED = "verified"  # 已核实
    RETURNED = "returned"  # 退回: the province sent it back with a reason
    NOT_REQUIRED = "notRequired"  # owned by a node no one above verifies (a province, the group)


class Verdict(StrEnum):
    VERIFIED = "verified"
    RETURNED = "returned"


Reason = Annotated[str | None, Field(max_length=500)]


class VerificationCreate(ApiModel):
    """The verifying node's verdict; `returned` needs a reason."""

    status: Verdict
    reason: Reason = None


class BulkVerification(ApiModel):
    customer_ids: Annotated[list[str], Field(min_length=1, max_length=1000)]
    status: Verdict
    reason: Reason = None


class VerificationRead(ReadModel):
    type_: Annotated[Literal["Verification"], Field(alias="@type")] = "Verification"
    customer_id: str
    status: VerificationState
    reason: str | None = None
    verifier_node: str | None = None  # who verifies (the owner's parent), or none
    verified_by: str | None = None
    customer_version: int | None = None  # the customer's version that was judged
    updated_at: datetime | None = None
    version: int = 0


class BulkItem(ReadModel):
    customer_id: str
    ok: bool
    status: VerificationState | None = None
    error: str | None = None


class BulkResult(ReadModel):
    verified: int
    failed: int
    items: list[BulkItem]
