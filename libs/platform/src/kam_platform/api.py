"""The house style of every service's API models and answers (docs/api-conventions.md): one `ApiModel`
base (camelCase, TMF630), request bodies that refuse unknown attributes, resources whose documented
schema allows a `fields=` selection, and the media-type checks a typed body needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from kam_platform.errors import UnsupportedMediaType
from kam_platform.tmf import MERGE_PATCH_TYPES, ListQuery, count_headers, project

JSON_TYPE = "application/json"
MERGE_PATCH_TYPE = "application/merge-patch+json"
# what a sparse resource (`fields=`) always keeps (TMF630)
ALWAYS = ("id", "href", "@type")

T = TypeVar("T", bound=BaseModel | dict[str, Any])


class ApiModel(BaseModel):
    """Every API schema: camelCase attribute names (TMF630), also accepted by their Python names.
    As a request body it refuses attributes it does not know, with a 422 naming them."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, extra="forbid")


class ReadModel(ApiModel):
    """A response schema (or a part of one)."""

    # an attribute with a default is still always answered
    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)


def _sparse_schema(schema: dict[str, Any]) -> None:
    # `fields=a,b` answers only the selected attributes plus id, href and @type, so only those are
    # documented as always present; the Python model still requires every attribute of a full answer
    required = [name for name in schema.get("required", []) if name in ALWAYS]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)


class Resource(ReadModel):
    """A top-level resource: a GET or list answer that `fields=` may narrow."""

    model_config = ConfigDict(json_schema_extra=_sparse_schema)


def present_keys(body: BaseModel) -> set[str]:
    """The attribute names (API spelling) a request body gave, null included: a merge patch's keys."""
    fields = type(body).model_fields
    return {(fields[name].alias or name) for name in body.model_fields_set}


def _dump(item: BaseModel | dict[str, Any]) -> dict[str, Any]:
    return item.model_dump(mode="json", by_alias=True) if isinstance(item, BaseModel) else item


def one(item: T, fields: set[str] | None) -> T | JSONResponse:
    """A resource answer: the item itself (validated by the route's response_model), or, for a
    `fields=` selection, the selected attributes alone."""
    if fields is None:
        return item
    return JSONResponse(project(_dump(item), fields))


def page(response: Response, items: Sequence[T], total: int, lq: ListQuery) -> list[T] | JSONResponse:
    """A TMF list answer: a plain array with X-Total-Count and X-Result-Count (and, for a search,
    X-Total-Count-Relation: `kam_platform.tmf.count_headers`); a `fields=` selection answers the
    selected attributes of each item alone."""
    headers = count_headers(total, len(items), lq)
    if lq.fields is not None:
        return JSONResponse([project(_dump(i), lq.fields) for i in items], headers=headers)
    response.headers.update(headers)
    return list(items)


def _media_check(*allowed: str) -> Any:
    async def check(request: Request) -> None:
        ctype = request.headers.get("content-type", JSON_TYPE).split(";")[0].strip().lower()
        if ctype not in allowed:
            raise UnsupportedMediaType(
                f"Content-Type {ctype!r} is not supported here; use one of {', '.join(sorted(allowed))}"
            )

    return Depends(check)


# `_: None = JSON_BODY` after the caller's dependency: a typed body must come as JSON (415 otherwise;
# FastAPI itself would parse any */*+json and call anything else a 422)
JSON_BODY: Any = _media_check(JSON_TYPE)
# a JSON merge patch (RFC 7396); plain application/json is treated as one
MERGE_PATCH_BODY: Any = _media_check(*MERGE_PATCH_TYPES)
