"""API models of duplicate detection (疑似重复客户)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_customer.customer.schemas import ApiModel
from kam_platform.api import ReadModel


class DuplicateCheck(ApiModel):
    """The attributes of a customer about to be created (or imported)."""

    name: Annotated[str | None, Field(max_length=200)] = None
    credit_code: Annotated[str | None, Field(max_length=18)] = None
    address: Annotated[str | None, Field(max_length=500)] = None
    phones: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=20, default_factory=list)]


class Reason(ReadModel):
    signal: str  # creditCode / name / phone / address
    weight: int
    reason: str


class CandidateRead(ReadModel):
    type_: Annotated[Literal["DuplicateCandidate"], Field(alias="@type")] = "DuplicateCandidate"
    customer_id: str
    href: str
    name: str
    customer_code: str
    owner_node: str
    score: int  # 0..100
    reasons: list[Reason]


class PairRead(ReadModel):
    id: str
    type_: Annotated[Literal["DuplicatePair"], Field(alias="@type")] = "DuplicatePair"
    customer_a: str
    customer_b: str
    owner_a: str
    owner_b: str
    score: int
    reasons: list[Reason]
    status: Literal["OPEN", "DISMISSED", "MERGED"]
    found_at: datetime
    reviewed_by: str | None


class PairUpdate(ApiModel):
    status: Literal["OPEN", "DISMISSED"]


class ScanCreate(ApiModel):
    """A scan request. It takes no options yet: the scan covers the caller's whole scope; the body may
    be omitted or `{}`."""


class ScanResult(ReadModel):
    scanned_scope: str
    pairs: int
    by_signal: dict[str, int]


class ImportCandidateRead(ReadModel):
    customer_id: str
    customer_code: str
    name: str
    owner_node: str
    score: int
    reasons: list[Reason]


class ImportWarningRead(ReadModel):
    """A row an import created that may duplicate customers already there (or elsewhere in the file)."""

    row: int
    customer_code: str
    customer_id: str
    candidates: list[ImportCandidateRead]
