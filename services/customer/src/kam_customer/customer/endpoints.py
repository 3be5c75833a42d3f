"""TMF629 customer endpoints and the key-account extras (history, hierarchy, account managers)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from kam_customer.duplicates import service as duplicates_service
from kam_customer.merge import service as merge_service
from kam_customer.verification import service as verification_service
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.errors import NotFound
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404, parse_list_query

from . import service
from .repository import FILTERABLE
from .schemas import (
    AccountManagerAssign,
    AccountManagerAssignmentRead,
    AuditRecordRead,
    CustomerBrief,
    CustomerCreate,
    CustomerDetail,
    CustomerRead,
    CustomerUpdate,
    HierarchyRead,
    NationalKeyAccount,
    TransferRequest,
    ValidFor,
)
from .views import CUSTOMER_PATH, FIELDS, customer_href, to_api, to_dict

router = APIRouter(tags=["customer"])


def _customer_id(customer_id: str) -> uuid.UUID:
    return id_or_404(customer_id, "customer")


CustomerId = Annotated[uuid.UUID, Depends(_customer_id)]


@router.get(CUSTOMER_PATH, summary="List or find customers", response_model=list[CustomerRead])
async def list_customers(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[CustomerRead] | JSONResponse:
    """TMF630 list: offset/limit, fields=, attribute filters (comma = OR, .gt/.gte/.lt/.lte), sort=,
    and q= for a Chinese substring of the name or an exact customer/credit code. Scoped to the
    caller's data scope."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_customers(session, settings=settings, principal=principal, lq=lq)
    base = base_url(request)
    return page(response, [to_api(c, base) for c in rows], total, lq)


@router.post(CUSTOMER_PATH, status_code=201, summary="Create a customer")
async def create_customer(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: CustomerCreate,
    principal: Principal = require("customer:create"),
    _: None = JSON_BODY,
) -> CustomerRead:
    """Creates a key account owned by this node. Without `engagedParty.id`, the legal entity
    (TMF632 Organization) is created from the name and credit code."""
    c = await service.create(session, settings=settings, principal=principal, data=data)
    base = base_url(request)
    response.headers["Location"] = customer_href(base, c.id)
    # F1: possible duplicates are a warning, never a refusal (docs/customer-f1.md); the header counts what
    # the Link lists (GET …/duplicates), at most duplicates.repository.MAX_CANDIDATES
    candidates = await duplicates_service.count_for_created(session, settings=settings, principal=principal, customer=c)
    if candidates:
        response.headers["X-Duplicate-Candidates"] = str(candidates)
        response.headers["Link"] = f'<{base}/api/v1/customer/customers/{c.id}/duplicates>; rel="duplicates"'
    return to_api(c, base)


@router.get(CUSTOMER_PATH + "/{customer_id}", summary="Get a customer", response_model=CustomerDetail)
async def get_customer(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> CustomerDetail | Response:
    """One customer (`fields=` selects attributes), with its national key-account designation. A customer
    merged into another answers 308 with the survivor's `Location` (F1 merge)."""
    lq = parse_list_query(request, {}, (*FIELDS, "nationalKeyAccount", "verification"))
    try:
        c = await service.get_visible(session, settings=settings, principal=principal, customer_id=customer_id)
    except NotFound:
        survivor = await merge_service.redirect(
            session, settings=settings, principal=principal, customer_id=customer_id
        )
        if survivor is None:
            raise
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(customer_href(base_url(request), survivor) + query, status_code=308)
    designation = await merge_service.designation_of(session, c.id)  # a survivor's, through its merges
    verdict = (await verification_service.of_customers(session, [c.id])).get(c.id)
    item = CustomerDetail.model_validate(
        {
            **to_dict(c, base_url(request)),
            "nationalKeyAccount": NationalKeyAccount(
                designation_id=str(designation.id),
                grade=designation.grade,
                group_account_manager=designation.group_account_manager,
                group_account_manager_name=designation.group_account_manager_name,
                service_level=designation.service_level,
                designated_by=designation.designated_by,
            )
            if designation
            else None,
            "verification": verification_service.state_of(settings.topology, c, verdict).value,
        }
    )
    return one(item, lq.fields)


@router.patch(CUSTOMER_PATH + "/{customer_id}", summary="Update a customer (JSON merge patch)")
async def patch_customer(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    patch: Annotated[CustomerUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    principal: Principal = require("customer:update"),
    _: None = MERGE_PATCH_BODY,
) -> CustomerRead:
    """`application/merge-patch+json` (plain `application/json` is treated as a merge patch).
    Status changes follow the lifecycle state machine; an illegal one is refused with 409 naming
    the allowed next statuses."""
    c = await service.update(
        session,
        settings=settings,
        principal=principal,
        customer_id=customer_id,
        patch=patch,
        present=present_keys(patch),
    )
    return to_api(c, base_url(request))


@router.delete(CUSTOMER_PATH + "/{customer_id}", status_code=204, summary="Delete a customer")
async def delete_customer(
    customer_id: CustomerId,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:delete"),
) -> Response:
    await service.delete(session, settings=settings, principal=principal, customer_id=customer_id)
    return Response(status_code=204)


API = "/api/v1/customer/customers/{customer_id}"


@router.get(API + "/history", summary="Change history of a customer")
async def customer_history(
    customer_id: CustomerId,
    response: Response,
    session: Session,
    settings: AppSettings,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = require("customer.history:read"),
) -> list[AuditRecordRead]:
    """Append-only audit trail: who, when, which fields, old → new. Newest first."""
    rows, total = await service.history(
        session, settings=settings, principal=principal, customer_id=customer_id, offset=offset, limit=limit
    )
    body = [
        AuditRecordRead(
            id=str(a.id),
            entity_type=a.entity_type,
            entity_id=str(a.entity_id),
            action=a.action,
            actor=a.actor,
            at=a.at,
            changes=a.changes,
            request_id=a.request_id,
            note=a.note,
            owner_node=a.owner_node,
        )
        for a in rows
    ]
    response.headers.update({"X-Total-Count": str(total), "X-Result-Count": str(len(body))})
    return body


@router.get(API + "/account-managers", summary="Account-manager assignment history")
async def account_manager_history(
    customer_id: CustomerId,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[AccountManagerAssignmentRead]:
    rows = await service.assignments(session, settings=settings, principal=principal, customer_id=customer_id)
    body = [
        AccountManagerAssignmentRead(
            id=str(r.id),
            account_manager=r.account_manager,
            account_manager_name=r.account_manager_name,
            previous_account_manager=r.previous_account_manager,
            assigned_by=r.assigned_by,
            valid_for=ValidFor(start_date_time=r.valid_from, end_date_time=r.valid_to),
            reason=r.reason,
        )
        for r in rows
    ]
    response.headers.update({"X-Total-Count": str(len(body)), "X-Result-Count": str(len(body))})
    return body


@router.put(API + "/account-manager", summary="Assign the account manager")
async def assign_account_manager(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    data: AccountManagerAssign,
    principal: Principal = require("customer:update"),
    _: None = JSON_BODY,
) -> CustomerRead:
    c = await service.assign_account_manager(
        session, settings=settings, principal=principal, customer_id=customer_id, data=data
    )
    return to_api(c, base_url(request))


@router.get(API + "/hierarchy", summary="Group-customer hierarchy (HQ and branches)")
async def customer_hierarchy(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> HierarchyRead:
    c, ancestors, children = await service.hierarchy(
        session, settings=settings, principal=principal, customer_id=customer_id
    )
    base = base_url(request)

    def brief(x: Any) -> CustomerBrief:
        return CustomerBrief(
            id=str(x.id),
            href=customer_href(base, x.id),
            name=x.name,
            customer_code=x.customer_code,
            owner_node=x.owner_node,
            customer_type=x.customer_type,
        )

    return HierarchyRead(
        customer=brief(c), ancestors=[brief(a) for a in ancestors], branches=[brief(b) for b in children]
    )


@router.post(API + "/transfer", summary="Transfer ownership of a customer to another node")
async def transfer_customer(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    data: TransferRequest,
    principal: Principal = require("customer:transfer"),
    _: None = JSON_BODY,
) -> CustomerRead:
    """Issued at the current owner (e.g. `gd-gz` → `gd-sz` when a branch moves, or up to `gd` when the
    province takes it over). Replicated to every node that holds the customer."""
    c = await service.transfer(
        session,
        settings=settings,
        principal=principal,
        customer_id=customer_id,
        to_node=data.to_node,
        reason=data.reason,
    )
    return to_api(c, base_url(request))
