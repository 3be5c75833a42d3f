"""A stored document as its answer."""

from __future__ import annotations

from datetime import date

from fastapi import Request

from kam_platform.tmf import href
from kam_service.models.documents import Document

from .schemas import DocumentRead, DocumentVersionRead, RelatedEntity, RelatedPartyRead
from .service import is_expired
from .states import Category, RelatedType

BASE = "/api/v1/service/document"


def read(request: Request, d: Document, today: date) -> DocumentRead:
    return DocumentRead(
        id=str(d.id),
        href=href(request, f"{BASE}/{d.id}"),
        title=d.title,
        category=Category(d.category),
        description=d.description or "",
        related_party=[RelatedPartyRead(id=str(d.customer_id), role="customer", name=d.customer_name)],
        related_entity=RelatedEntity(type=RelatedType(d.related_type), id=d.related_id)
        if d.related_type and d.related_id
        else None,
        access_roles=list(d.access_roles or []),
        expires_on=d.expires_on,
        is_expired=is_expired(d, today),
        owner_node=d.owner_node,
        version=d.version,
        current_version=d.current_version,
        versions=[
            DocumentVersionRead(
                number=v["number"],
                file_name=v["fileName"],
                content_type=v["contentType"],
                size=v["size"],
                sha256=v["sha256"],
                uploaded_by=v["uploadedBy"],
                uploaded_at=v["uploadedAt"],
                note=v.get("note"),
                content_href=href(request, f"{BASE}/{d.id}/content?version={v['number']}"),
            )
            for v in d.versions or []
        ],
        created_by=d.created_by,
        creation_date=d.created_at,
        last_update=d.updated_at,
    )
