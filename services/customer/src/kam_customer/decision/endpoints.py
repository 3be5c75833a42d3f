"""Decision map (决策链) endpoints: the graph of a customer's contacts and their relations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from kam_platform.api import JSON_BODY
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404

from . import service
from .models import ContactRelation
from .schemas import ContactRelationCreate, ContactRelationRead, DecisionMapRead, DecisionNode, RelationType

PATH = "/api/v1/customer/customers/{customer_id}/decision-map"
RELATION = "/api/v1/customer/contact-relations"

router = APIRouter(tags=["decision map"])


def _customer_id(customer_id: str) -> uuid.UUID:
    return id_or_404(customer_id, "customer")


def _relation_id(relation_id: str) -> uuid.UUID:
    return id_or_404(relation_id, "contact relation")


CustomerId = Annotated[uuid.UUID, Depends(_customer_id)]
RelationId = Annotated[uuid.UUID, Depends(_relation_id)]


def relation_api(r: ContactRelation, base: str) -> ContactRelationRead:
    return ContactRelationRead(
        id=str(r.id),
        href=f"{base}{RELATION}/{r.id}",
        from_contact_id=str(r.from_contact_id),
        to_contact_id=str(r.to_contact_id),
        relation_type=RelationType(r.relation_type),
        note=r.note,
        owner_node=r.owner_node,
        version=r.version,
    )


@router.get(PATH, summary="A customer's decision map (contacts and their relations)")
async def get_decision_map(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> DecisionMapRead:
    """Nodes: the customer's contacts with their decision role (决策者/影响者/使用者); edges: who
    reports to, influences, supports or opposes whom. Drawn as a graph in the 360 view."""
    contacts, relations = await service.decision_map(
        session, settings=settings, principal=principal, customer_id=customer_id
    )
    base = base_url(request)
    return DecisionMapRead(
        customer_id=str(customer_id),
        contacts=[
            DecisionNode(
                id=str(c.id),
                full_name=c.full_name,
                title=c.title,
                department=c.department,
                decision_role=c.decision_role,
            )
            for c in contacts
        ],
        relations=[relation_api(r, base) for r in relations],
    )


@router.post(PATH + "/relations", status_code=201, summary="Relate two contacts of a customer")
async def create_relation(
    customer_id: CustomerId,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: ContactRelationCreate,
    principal: Principal = require("customer:update"),
    _: None = JSON_BODY,
) -> ContactRelationRead:
    """Both contacts must belong to the customer (422 naming the field); a self-relation is 422; the
    same relation twice is 409. Cycles are allowed."""
    r = await service.relate(session, settings=settings, principal=principal, customer_id=customer_id, data=data)
    item = relation_api(r, base_url(request))
    response.headers["Location"] = item.href
    return item


@router.delete(RELATION + "/{relation_id}", status_code=204, summary="Remove a contact relation")
async def delete_relation(
    relation_id: RelationId,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:update"),
) -> Response:
    await service.unrelate(session, settings=settings, principal=principal, relation_id=relation_id)
    return Response(status_code=204)
