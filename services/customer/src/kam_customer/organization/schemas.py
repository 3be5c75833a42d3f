"""API models of TMF632 Organization: the legal entities behind key accounts (the request bodies,
OrganizationCreate and OrganizationUpdate, are in service.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ReadModel, Resource


class OrganizationIdentificationRead(ReadModel):
    identification_type: Annotated[str, Field(description="USCC: the unified social credit code")]
    identification_id: str


class OrganizationRead(Resource):
    """TMF632 Organization."""

    id: str
    href: str
    type_: Annotated[Literal["Organization"], Field(alias="@type")] = "Organization"
    name: str
    trading_name: str | None
    organization_type: str | None
    is_legal_entity: bool
    status: str | None
    organization_identification: list[OrganizationIdentificationRead]
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime
