"""Request plumbing shared by the org domains: the caller, JSON bodies, the API model base."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kam_platform.auth import CurrentPrincipal, Principal
from kam_platform.observability import request_id_var
from kam_platform.settings import Settings
from kam_platform.tmf import read_json_object, validate_model
from kam_platform.topology import Topology


class ApiModel(BaseModel):
    """Request bodies: camelCase attributes (TMF630), unknown attributes refused with 422."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    at_type: str | None = Field(default=None, alias="@type")
    at_base_type: str | None = Field(default=None, alias="@baseType")
    at_schema_location: str | None = Field(default=None, alias="@schemaLocation")


class ReadModel(BaseModel):
    """Resources as returned: camelCase, dumped with ``by_alias``."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def resource(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


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


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_settings)]


def caller(permission: str) -> Any:
    """Dependency: the authenticated caller, after checking it holds `permission` (403 otherwise)."""

    async def dep(principal: CurrentPrincipal, settings: AppSettings) -> Caller:
        principal.require(permission)
        return Caller(principal=principal, node=settings.node, topology=settings.topology)

    return Depends(dep)


M = TypeVar("M", bound=BaseModel)


def json_body(model: type[M]) -> Callable[[Request], Coroutine[Any, Any, M]]:
    """A dependency reading an ``application/json`` object body into `model`.

    Unlike a plain FastAPI body parameter it answers 415 for another content type, 400 for malformed
    JSON and 422 naming the field for invalid content.
    """

    async def dep(request: Request) -> M:
        data = await read_json_object(request, allowed_types={"application/json"})
        return validate_model(model, data)

    return dep


def body_doc(model: type[BaseModel], content_type: str = "application/json") -> dict[str, Any]:
    """OpenAPI text for a body read by `json_body` or `read_merge_patch`."""
    return {
        "requestBody": {
            "required": True,
            "content": {content_type: {"schema": model.model_json_schema(by_alias=True)}},
        }
    }


_META = {"at_type", "at_base_type", "at_schema_location"}


def patch_values(patch: BaseModel, present: set[str], *, not_null: set[str]) -> dict[str, Any]:
    """The attributes a merge patch sets, by Python name (null = clear); 422 when a mandatory one is null."""
    from kam_platform.errors import ValidationFailed

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
