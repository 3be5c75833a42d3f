"""The catalogue at TMF620 `/tmf-api/productCatalogManagement/v4/{catalog,category,productSpecification,
productOffering,productOfferingPrice}`, a province's availability of national offerings at
`/api/v1/sales/offeringAvailability`, and what is sellable at a node at `/api/v1/sales/sellableOffering`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, ReadModel, one, page
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.errors import Forbidden, ValidationFailed
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_sales.models import CatalogItem

from . import hub, service
from .repository import FILTERABLE
from .schemas import (
    READ,
    TYPE_NAME,
    AvailabilityCreate,
    AvailabilityRead,
    CatalogCreate,
    CategoryCreate,
    Common,
    Kind,
    OfferingCreate,
    OfferingRead,
    PriceCreate,
    ReadCommon,
    SpecificationCreate,
    period_json,
)

TMF = "/tmf-api/productCatalogManagement/v4"
KAM = "/api/v1/sales"
PATHS = {
    Kind.CATALOG: f"{TMF}/catalog",
    Kind.CATEGORY: f"{TMF}/category",
    Kind.SPECIFICATION: f"{TMF}/productSpecification",
    Kind.OFFERING: f"{TMF}/productOffering",
    Kind.PRICE: f"{TMF}/productOfferingPrice",
    Kind.AVAILABILITY: f"{KAM}/offeringAvailability",
}

router = APIRouter(tags=["catalog"])

Reader = Annotated[Principal, require("sales.catalog:read")]
Writer = Annotated[Principal, require("sales.catalog:write")]


def read(request: Request, r: CatalogItem) -> ReadCommon:
    kind = Kind(r.kind)
    data: dict[str, Any] = {
        "id": str(r.id),
        "href": href(request, f"{PATHS[kind]}/{r.id}"),
        "@type": TYPE_NAME[kind],
        "name": r.name,
        "description": r.description,
        "lifecycleStatus": r.lifecycle_status,
        "validFor": period_json(r.valid_from, r.valid_to),
        "version": str(r.version),
        "lastUpdate": r.updated_at,
        "ownerNode": r.owner_node,
        **r.body,
    }
    if kind is Kind.CATEGORY:
        data["isRoot"] = not r.body.get("parentId")
    return READ[kind].model_validate(data)


def _fields(kind: Kind) -> list[str]:
    return [f.alias or n for n, f in READ[kind].model_fields.items()]


def _collection(kind: Kind) -> None:
    path = PATHS[kind]
    model: Any = READ[kind]
    label = TYPE_NAME[kind]

    async def list_items(
        request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
    ) -> list[ReadCommon] | JSONResponse:
        lq = parse_list_query(request, FILTERABLE, _fields(kind))
        rows, total = await service.list_items(session, settings=settings, principal=who, kind=kind, lq=lq)
        return page(response, [read(request, r) for r in rows], total, lq)

    async def get_item(
        item_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
    ) -> ReadCommon | JSONResponse:
        lq = parse_list_query(request, {}, _fields(kind))
        r = await service.get_visible(
            session, settings=settings, principal=who, kind=kind, item_id=id_or_404(item_id, kind.value)
        )
        return one(read(request, r), lq.fields)

    async def patch_item(
        item_id: str,
        request: Request,
        session: Session,
        settings: AppSettings,
        who: Writer,
        patch: Annotated[dict[str, Any], Body(media_type=MERGE_PATCH_TYPE)],
        _: None = MERGE_PATCH_BODY,
    ) -> ReadCommon:
        r = await service.update(
            session, settings=settings, principal=who, kind=kind, item_id=id_or_404(item_id, kind.value), patch=patch
        )
        return read(request, r)

    list_items.__doc__ = (
        f"{label} items held at this node that the caller may see (authored in its scope's subtree or above "
        "it). Filters: id, name, lifecycleStatus, ownerNode, version, lastUpdate, validFor.startDateTime, "
        "validFor.endDateTime, category.id, productOffering.id, priceType, parentId; sort, fields, offset/limit."
    )
    get_item.__doc__ = f"One {label} (404 when unknown or not visible)."
    patch_item.__doc__ = (
        f"Change a {label} (JSON merge patch, validated as a whole). lifecycleStatus moves inDesign → active → "
        "retired (409 naming the allowed moves); only the authoring node writes (409 NOT_OWNER elsewhere)."
    )
    router.add_api_route(path, list_items, methods=["GET"], response_model=list[model], name=f"list_{kind.value}")
    router.add_api_route(
        f"{path}/{{item_id}}", get_item, methods=["GET"], response_model=model, name=f"get_{kind.value}"
    )
    router.add_api_route(
        f"{path}/{{item_id}}", patch_item, methods=["PATCH"], response_model=model, name=f"patch_{kind.value}"
    )


async def _create(
    kind: Kind, request: Request, response: Response, session: Any, settings: Any, who: Principal, data: Common
) -> ReadCommon:
    r = await service.create(session, settings=settings, principal=who, kind=kind, data=data)
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


CREATED = (
    "Author a {} at this node (the group or a province; a local network reads only: 409). It starts "
    "inDesign (stays here) or active (flows down the subtree)."
)


@router.post(
    PATHS[Kind.CATALOG], status_code=201, response_model=READ[Kind.CATALOG], description=CREATED.format("catalog")
)
async def create_catalog(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: CatalogCreate,
    _: None = JSON_BODY,
) -> ReadCommon:
    return await _create(Kind.CATALOG, request, response, session, settings, who, data)


@router.post(
    PATHS[Kind.CATEGORY],
    status_code=201,
    response_model=READ[Kind.CATEGORY],
    description=CREATED.format("category (产品线)"),
)
async def create_category(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: CategoryCreate,
    _: None = JSON_BODY,
) -> ReadCommon:
    return await _create(Kind.CATEGORY, request, response, session, settings, who, data)


@router.post(
    PATHS[Kind.SPECIFICATION],
    status_code=201,
    response_model=READ[Kind.SPECIFICATION],
    description=CREATED.format("product specification"),
)
async def create_specification(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: SpecificationCreate,
    _: None = JSON_BODY,
) -> ReadCommon:
    return await _create(Kind.SPECIFICATION, request, response, session, settings, who, data)


@router.post(
    PATHS[Kind.OFFERING],
    status_code=201,
    response_model=READ[Kind.OFFERING],
    description=CREATED.format("product offering"),
)
async def create_offering(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: OfferingCreate,
    _: None = JSON_BODY,
) -> ReadCommon:
    return await _create(Kind.OFFERING, request, response, session, settings, who, data)


@router.post(
    PATHS[Kind.PRICE],
    status_code=201,
    response_model=READ[Kind.PRICE],
    description=CREATED.format("product offering price (资费, 折扣): money as {unit, value}"),
)
async def create_price(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: PriceCreate,
    _: None = JSON_BODY,
) -> ReadCommon:
    return await _create(Kind.PRICE, request, response, session, settings, who, data)


@router.post(
    PATHS[Kind.AVAILABILITY],
    status_code=201,
    response_model=AvailabilityRead,
    description="A province's word on a national offering in its subtree: available or withdrawn (isAvailable).",
)
async def create_availability(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: AvailabilityCreate,
    _: None = JSON_BODY,
) -> ReadCommon:
    return await _create(Kind.AVAILABILITY, request, response, session, settings, who, data)


for _kind in Kind:
    _collection(_kind)


@router.get(f"{KAM}/sellableOffering", response_model=list[OfferingRead])
async def sellable_offerings(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Reader,
    node: Annotated[str | None, Query(max_length=32)] = None,
    on: Annotated[date | None, Query(alias="date")] = None,
) -> list[ReadCommon] | JSONResponse:
    """Active offerings in force at `node` (default: the caller's scope node) on `date` (default: today,
    UTC) that are sellable there: national and provincial offerings, after the province's availability."""
    target = node or who.scope_node
    if target not in settings.topology:
        raise ValidationFailed(f"node: unknown node {target!r}", field="node")
    if not settings.topology.is_in_subtree(target, who.scope_node):
        raise Forbidden(f"node {target} is outside your scope {who.scope_node}")
    if not settings.topology.is_in_subtree(target, settings.node):
        raise ValidationFailed(
            f"node: {settings.node} answers for its own subtree; ask {target}'s own node", field="node"
        )
    lq = parse_list_query(request, {}, _fields(Kind.OFFERING), extra_params=("node", "date"))
    rows = await service.sellable_at(session, settings=settings, node=target, on=on or datetime.now(UTC).date())
    items = [read(request, r) for r in rows]
    return page(response, items[lq.offset : lq.offset + lq.limit], len(items), lq)


class EventSubscriptionRead(ReadModel):
    id: str
    href: str
    callback: str
    query: str | None
    type_: Annotated[Literal["EventSubscription"], Field(alias="@type")] = "EventSubscription"


HUB_PATH = f"{TMF}/hub"


@router.post(
    HUB_PATH,
    status_code=201,
    summary="Register a listener for catalogue events",
    responses={
        422: {"description": "invalid body, or a callback that resolves to a non-public address"},
        429: {"description": "the user's listener quota is used up"},
    },
)
async def register_listener(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: hub.HubCreate,
    principal: Reader,
    _: None = JSON_BODY,
) -> EventSubscriptionRead:
    """`{"callback": "https://…/listener", "query": "eventType=ProductOfferingCreateEvent"}`: the catalogue
    items this node publishes, POSTed to the callback at least once (deduplicate by `eventId`), within
    the registering user's scope. The callback must resolve to public addresses (422 otherwise, unless
    the node allows them); a user holds at most `KAM_HUB_MAX_LISTENERS_PER_USER` listeners (429)."""
    sub = await hub.register(session, settings=settings, principal=principal, data=data)
    body = EventSubscriptionRead(
        id=str(sub.id), href=href(request, f"{HUB_PATH}/{sub.id}"), callback=sub.callback, query=sub.query
    )
    response.headers["Location"] = body.href
    return body


@router.delete(
    HUB_PATH + "/{hub_id}",
    status_code=204,
    summary="Unregister a listener",
    responses={404: {"description": "no such listener, or not registered by the caller"}},
)
async def unregister_listener(hub_id: str, session: Session, settings: AppSettings, principal: Reader) -> Response:
    """Only the user who registered the listener (or a `sales.hub:admin`) removes it; 404 for anyone else."""
    await hub.unregister(session, settings=settings, principal=principal, sub_id=id_or_404(hub_id, "hub"))
    return Response(status_code=204)
