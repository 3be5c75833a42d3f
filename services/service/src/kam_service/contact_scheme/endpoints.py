"""Contact schemes (/api/v1/service/contactScheme): list (the 360 view asks by relatedParty.id), get,
POST, merge-PATCH."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_service.deps import LookupsDep, Now, Token
from kam_service.models.care import ContactScheme

from . import service
from .repository import FILTERS
from .schemas import FIELDS, ContactSchemeCreate, ContactSchemeRead, ContactSchemeUpdate, EntryRead, Level, PartyRead

BASE = "/api/v1/service/contactScheme"
router = APIRouter(prefix=BASE, tags=["contactScheme"])

Reader = Annotated[Principal, require("service.care:read")]
Writer = Annotated[Principal, require("service.care:write")]


def read(request: Request, c: ContactScheme, who: Principal) -> ContactSchemeRead:
    pii = who.has(service.PII_PERMISSION)
    return ContactSchemeRead(
        id=str(c.id),
        href=href(request, f"{BASE}/{c.id}"),
        related_party=[PartyRead(id=str(c.customer_id), role="customer", name=c.customer_name)],
        hotlines=list(c.hotlines),
        entries=[
            EntryRead(
                level=Level(e["level"]),
                customer_branch=e["customerBranch"],
                customer_contact=e.get("customerContact"),
                customer_phone=e.get("customerPhone") if pii else service.mask_phone(e.get("customerPhone")),
                telecom_node=e["telecomNode"],
                telecom_office=e["telecomOffice"],
                telecom_contact=e.get("telecomContact"),
                telecom_phone=e.get("telecomPhone"),
            )
            for e in c.entries or []
        ],
        note=c.note or "",
        owner_node=c.owner_node,
        version=c.version,
        last_update=c.updated_at,
    )


@router.get("", response_model=list[ContactSchemeRead])
async def list_schemes(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[ContactSchemeRead] | JSONResponse:
    """Contact schemes in scope. Filters: relatedParty.id (the customer; what the 360 view asks),
    ownerNode."""
    lq = parse_list_query(request, FILTERS, FIELDS)
    rows, total = await service.list_schemes(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, c, who) for c in rows], total, lq)


@router.get("/{scheme_id}", response_model=ContactSchemeRead)
async def get_scheme(
    scheme_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> ContactSchemeRead | JSONResponse:
    lq = parse_list_query(request, {}, FIELDS)
    c = await service.get_scheme(
        session, settings=settings, principal=who, scheme_id=id_or_404(scheme_id, "contactScheme")
    )
    return one(read(request, c, who), lq.fields)


@router.post("", status_code=201, response_model=ContactSchemeRead)
async def create_scheme(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: ContactSchemeCreate,
    lookups: LookupsDep,
    token: Token,
    now: Now,
    _: None = JSON_BODY,
) -> ContactSchemeRead:
    """A customer's scheme at this node: hotlines and the layer-to-layer map (customer branch ↔ serving
    telecom node and office); 409 when this node already keeps one for the customer."""
    c = await service.create_scheme(
        session, settings=settings, principal=who, data=data, lookups=lookups, token=token, now=now
    )
    body = read(request, c, who)
    response.headers["Location"] = body.href
    return body


@router.patch("/{scheme_id}", response_model=ContactSchemeRead)
async def update_scheme(
    scheme_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[ContactSchemeUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    now: Now,
    _: None = MERGE_PATCH_BODY,
) -> ContactSchemeRead:
    c = await service.update_scheme(
        session, settings=settings, principal=who, scheme_id=id_or_404(scheme_id, "contactScheme"), patch=patch,
        present=present_keys(patch), now=now,
    )  # fmt: skip
    return read(request, c, who)
