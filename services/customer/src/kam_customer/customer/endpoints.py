"""TMF629 customer endpoints and the key-account extras (history, hierarchy, account managers)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from kam_customer.designation import service as designation_service
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import (
    base_url,
    id_or_404,
    list_response,
    parse_list_query,
    read_json_object,
    read_merge_patch,
    validate_model,
)

from . import service
from .repository import FILTERABLE
from .schemas import AccountManagerAssign, CustomerCreate, CustomerUpdate, TransferRequest
from .views import CUSTOMER_PATH, FIELDS, customer_href, to_api

router = APIRouter(tags=["customer"])


def _customer_id(customer_id: str) -> uuid.UUID:
    return id_or_404(customer_id, "customer")


CustomerId = Annotated[uuid.UUID, Depends(_customer_id)]


@router.get(CUSTOMER_PATH, summary="List or find customers")
async def list_customers(
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> JSONResponse:
    """TMF630 list: offset/limit, fields=, attribute filters (comma = OR, .gt/.gte/.lt/.lte), sort=,
    and q= for a Chinese substring of the name or an exact customer/credit code. Scoped to the
    caller's data scope."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_customers(session, settings=settings, principal=principal, lq=lq)
    base = base_url(request)
    return list_response([to_api(c, base) for c in rows], total, lq)


@router.post(CUSTOMER_PATH, status_code=201, summary="Create a customer")
async def create_customer(
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:create"),
) -> JSONResponse:
    """Creates a key account owned by this node. Without `engagedParty.id`, the legal entity
    (TMF632 Organization) is created from the name and credit code."""
    data = validate_model(CustomerCreate, await read_json_object(request, allowed_types={"application/json"}))
    c = await service.create(session, settings=settings, principal=principal, data=data)
    base = base_url(request)
    return JSONResponse(to_api(c, base), status_code=201, headers={"Location": customer_href(base, c.id)})


@router.get(CUSTOMER_PATH + "/{customer_id}", summary="Get a customer")
async def get_customer(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> dict[str, Any]:
    lq = parse_list_query(request, {}, (*FIELDS, "nationalKeyAccount"))
    c = await service.get_visible(session, settings=settings, principal=principal, customer_id=customer_id)
    item = to_api(c, base_url(request))
    designation = await designation_service.for_customer(session, c.id)
    item["nationalKeyAccount"] = (
        {
            "designationId": str(designation.id),
            "grade": designation.grade,
            "groupAccountManager": designation.group_account_manager,
            "groupAccountManagerName": designation.group_account_manager_name,
            "serviceLevel": designation.service_level,
            "designatedBy": designation.designated_by,
        }
        if designation
        else None
    )
    if lq.fields is not None:
        keep = lq.fields | {"id", "href", "@type"}
        item = {k: v for k, v in item.items() if k in keep}
    return item


@router.patch(CUSTOMER_PATH + "/{customer_id}", summary="Update a customer (JSON merge patch)")
async def patch_customer(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:update"),
) -> dict[str, Any]:
    """`application/merge-patch+json` (plain `application/json` is treated as a merge patch).
    Status changes follow the lifecycle state machine; an illegal one is refused with 409 naming
    the allowed next statuses."""
    patch, present = await read_merge_patch(request, CustomerUpdate)
    c = await service.update(
        session, settings=settings, principal=principal, customer_id=customer_id, patch=patch, present=present
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
    session: Session,
    settings: AppSettings,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = require("customer.history:read"),
) -> JSONResponse:
    """Append-only audit trail: who, when, which fields, old → new. Newest first."""
    rows, total = await service.history(
        session, settings=settings, principal=principal, customer_id=customer_id, offset=offset, limit=limit
    )
    body = [
        {
            "id": str(a.id),
            "@type": "AuditRecord",
            "entityType": a.entity_type,
            "entityId": str(a.entity_id),
            "action": a.action,
            "actor": a.actor,
            "at": a.at.isoformat(),
            "changes": a.changes,
            "requestId": a.request_id,
            "note": a.note,
            "ownerNode": a.owner_node,
        }
        for a in rows
    ]
    return JSONResponse(body, headers={"X-Total-Count": str(total), "X-Result-Count": str(len(body))})


@router.get(API + "/account-managers", summary="Account-manager assignment history")
async def account_manager_history(
    customer_id: CustomerId,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> JSONResponse:
    rows = await service.assignments(session, settings=settings, principal=principal, customer_id=customer_id)
    body = [
        {
            "id": str(r.id),
            "@type": "AccountManagerAssignment",
            "accountManager": r.account_manager,
            "accountManagerName": r.account_manager_name,
            "previousAccountManager": r.previous_account_manager,
            "assignedBy": r.assigned_by,
            "validFor": {
                "startDateTime": r.valid_from.isoformat(),
                "endDateTime": r.valid_to.isoformat() if r.valid_to else None,
            },
            "reason": r.reason,
        }
        for r in rows
    ]
    return JSONResponse(body, headers={"X-Total-Count": str(len(body)), "X-Result-Count": str(len(body))})


@router.put(API + "/account-manager", summary="Assign the account manager")
async def assign_account_manager(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:update"),
) -> dict[str, Any]:
    data = validate_model(AccountManagerAssign, await read_json_object(request, allowed_types={"application/json"}))
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
) -> dict[str, Any]:
    c, ancestors, children = await service.hierarchy(
        session, settings=settings, principal=principal, customer_id=customer_id
    )
    base = base_url(request)

    def brief(x: Any) -> dict[str, Any]:
        return {
            "id": str(x.id),
            "href": customer_href(base, x.id),
            "name": x.name,
            "customerCode": x.customer_code,
            "ownerNode": x.owner_node,
            "customerType": x.customer_type,
        }

    return {"customer": brief(c), "ancestors": [brief(a) for a in ancestors], "branches": [brief(b) for b in children]}


@router.post(API + "/transfer", summary="Transfer ownership of a customer to another node")
async def transfer_customer(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:transfer"),
) -> dict[str, Any]:
    """Issued at the current owner (e.g. `gd-gz` → `gd-sz` when a branch moves, or up to `gd` when the
    province takes it over). Replicated to every node that holds the customer."""
    data = validate_model(TransferRequest, await read_json_object(request, allowed_types={"application/json"}))
    c = await service.transfer(
        session,
        settings=settings,
        principal=principal,
        customer_id=customer_id,
        to_node=data.to_node,
        reason=data.reason,
    )
    return to_api(c, base_url(request))
