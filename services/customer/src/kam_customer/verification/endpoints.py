"""Province verification (省级核实) endpoints: one customer's state and verdict, and bulk verification."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from kam_customer.models import Customer
from kam_platform.api import JSON_BODY
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings, Settings
from kam_platform.tmf import id_or_404

from . import service
from .models import CustomerVerification
from .schemas import BulkItem, BulkResult, BulkVerification, VerificationCreate, VerificationRead

PATH = "/api/v1/customer/customers/{customer_id}/verification"
BULK = "/api/v1/customer/verifications/bulk"

router = APIRouter(tags=["verification"])


def _customer_id(customer_id: str) -> uuid.UUID:
    return id_or_404(customer_id, "customer")


CustomerId = Annotated[uuid.UUID, Depends(_customer_id)]


def to_api(settings: Settings, c: Customer, v: CustomerVerification | None) -> VerificationRead:
    return VerificationRead(
        customer_id=str(c.id),
        status=service.state_of(settings.topology, c, v),
        reason=v.reason if v else None,
        verifier_node=service.verifier_of(settings.topology, c.owner_node),
        verified_by=v.verified_by if v else None,
        customer_version=v.customer_version if v else None,
        updated_at=v.updated_at if v else None,
        version=v.version if v else 0,
    )


@router.get(PATH, summary="A customer's verification state")
async def get_verification(
    customer_id: CustomerId,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> VerificationRead:
    """`unverified` until the verifier (the owner's province) judges it; `verified`, `returned` (with
    the reason), or `notRequired` for customers owned by a province or the group."""
    c, v = await service.get(session, settings=settings, principal=principal, customer_id=customer_id)
    return to_api(settings, c, v)


@router.put(PATH, summary="Verify a customer, or return it with a reason (at its province)")
async def put_verification(
    customer_id: CustomerId,
    session: Session,
    settings: AppSettings,
    data: VerificationCreate,
    principal: Principal = require("customer:read"),
    _: None = JSON_BODY,
) -> VerificationRead:
    """Needs `customer.verification:write`. Written at the verifying node only: elsewhere 409 with
    `details.verifierNode`. The verdict flows down to the local network and up to the group."""
    c, v = await service.verify(
        session, settings=settings, principal=principal, customer_id=customer_id, status=data.status, reason=data.reason
    )
    return to_api(settings, c, v)


@router.post(BULK, summary="Verify (or return) the customers of a list")
async def bulk_verification(
    session: Session,
    settings: AppSettings,
    data: BulkVerification,
    principal: Principal = require("customer:read"),
    _: None = JSON_BODY,
) -> BulkResult:
    """Each customer is judged on its own: the answer names every outcome (a customer outside the
    scope or verified elsewhere is a failed item, not a failed request)."""
    results = await service.bulk(
        session,
        settings=settings,
        principal=principal,
        customer_ids=data.customer_ids,
        status=data.status,
        reason=data.reason,
    )
    items = [BulkItem(customer_id=cid, ok=err is None, status=st, error=err) for cid, st, err in results]
    ok = sum(1 for i in items if i.ok)
    return BulkResult(verified=ok, failed=len(items) - ok, items=items)
