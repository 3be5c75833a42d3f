"""Request plumbing shared by the org domains: the caller, the API model bases, merge-patch values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends
from pydantic import BaseModel, Field

from kam_platform.api import ApiModel, ReadModel, Resource
from kam_platform.auth import CurrentPrincipal, Principal
from kam_platform.errors import ValidationFailed
from kam_platform.observability import request_id_var
from kam_platform.settings import AppSettings
from kam_platform.topology import Topology

__all__ = ["ApiModel", "AppSettings", "Caller", "InputModel", "ReadModel", "Resource", "caller", "patch_values"]


class InputModel(ApiModel):
    """Request bodies: camelCase attributes (TMF630), the TMF extension attributes, unknown ones refused
    with 422."""

    at_type: str | None = Field(default=None, alias="@type")
    at_base_type: str | None = Field(default=None, alias="@baseType")
    at_schema_location: str | None = Field(default=None, alias="@schemaLocation")


@dataclass(frozen=True)
class Caller:
    """Who is asking, at which node: what services need for scope, ownership and audit."""

    principal: Principal
    node: str
    topology: Topology

    @property
    def actor(self) -> str:
        return self.principal.username

    @property
    def request_id(self) -> str | None:
        return request_id_var.get()


def caller(permission: str) -> Any:
    """Dependency: the authenticated caller, after checking it holds `permission` (403 otherwise)."""

    async def dep(principal: CurrentPrincipal, settings: AppSettings) -> Caller:
        principal.require(permission)
        return Caller(principal=principal, node=settings.node, topology=settings.topology)

    return Depends(dep)


_META = {"at_type", "at_base_type", "at_schema_location"}


def patch_values(patch: BaseModel, present: set[str], *, not_null: set[str]) -> dict[str, Any]:
    """The attributes a merge patch sets, by Python name (null = clear); 422 when a mandatory one is null."""
    out: dict[str, Any] = {}
    for name, info in type(patch).model_fields.items():
        key = info.alias or name
        if name in _META or (key not in present and name not in present):
            continue
        value = getattr(patch, name)
        if value is None and name in not_null:
            raise ValidationFailed(f"{key}: may not be null", field=key)
        out[name] = value
    return out
