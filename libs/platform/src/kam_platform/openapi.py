"""The OpenAPI document every service publishes: the TMF630 error envelope declared as a response of
every operation, so generated clients and conformance kits know every status a route may answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "TMF630 error envelope",
    "required": ["code", "reason", "message", "status", "@type"],
    "properties": {
        "code": {"type": "string", "description": "symbolic error code, e.g. NOT_FOUND"},
        "reason": {"type": "string"},
        "message": {"type": "string"},
        "status": {"type": "string", "description": "the HTTP status, as a string (TMF630)"},
        "referenceError": {"type": "string"},
        "details": {"type": "object"},
        "@type": {"type": "string", "enum": ["Error"]},
    },
}

# Every operation may answer these; each is an expected, typed failure (never a bug).
ERRORS: dict[str, str] = {
    "400": "Bad request: a malformed parameter, filter or body",
    "401": "Missing, invalid or expired bearer token",
    "403": "The token lacks the permission this operation needs",
    "404": "No such resource in the caller's data scope",
    "405": "Method not allowed (see the Allow header)",
    "409": "Conflict: not the owner node, an illegal state transition, or a concurrent change",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "422": "The body or a parameter failed validation (the message names the field)",
    "429": "Too many requests (see Retry-After)",
    "503": "A dependency (database) is unavailable (see Retry-After)",
}
_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


_MERGE_PATCH = "application/merge-patch+json"


def _merge_patch_as_json(operation: dict[str, Any]) -> None:
    """A merge-patch body is accepted as plain application/json too (TMF630): say so."""
    content = operation.get("requestBody", {}).get("content", {})
    if _MERGE_PATCH in content:
        content.setdefault("application/json", content[_MERGE_PATCH])


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` declare the error envelope for every operation (computed once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for item in doc.get("paths", {}).values():
            for method, operation in item.items():
                if method not in _OPERATIONS:
                    continue
                _merge_patch_as_json(operation)
                responses = operation.setdefault("responses", {})
                for status, text in ERRORS.items():
                    # FastAPI's own 422 names its HTTPValidationError; ours answers the envelope
                    responses[status] = {"description": text, "content": {"application/json": {"schema": ref}}}
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
