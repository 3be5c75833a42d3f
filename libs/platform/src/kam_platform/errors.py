"""Typed errors and the one TMF630 error envelope every service answers with.

The errors themselves import no web framework (the `kam` command's light paths raise and catch them,
issue 10); FastAPI and Starlette are imported by the functions that install and run the handlers."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response

log = logging.getLogger("kam.errors")
_KNOWN_STATUSES = frozenset(s.value for s in HTTPStatus)


class KamError(Exception):
    """An expected failure with an explicit HTTP status and TMF error code."""

    status: int = 400
    code: str = "BAD_REQUEST"
    reason: str = "Bad request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def envelope(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.reason, self.message, self.details)


def error_body(
    status: int, code: str, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The TMF630 error envelope; every error answer of every service is built here. `code` is symbolic
    (`NOT_FOUND`), never the status number."""
    body: dict[str, Any] = {"code": code, "reason": reason, "message": message, "status": str(status), "@type": "Error"}
    if details:
        body["details"] = details
    return body


class BadRequest(KamError):
    status, code, reason = 400, "BAD_REQUEST", "Bad request"


class InvalidQuery(KamError):
    status, code, reason = 400, "INVALID_QUERY", "Invalid query parameter"


class Unauthorized(KamError):
    status, code, reason = 401, "UNAUTHORIZED", "Authentication required"


class Forbidden(KamError):
    status, code, reason = 403, "FORBIDDEN", "Permission denied"


class NotFound(KamError):
    status, code, reason = 404, "NOT_FOUND", "Resource not found"


class MethodNotAllowed(KamError):
    status, code, reason = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class Conflict(KamError):
    status, code, reason = 409, "CONFLICT", "Conflict"


class NotOwner(Conflict):
    """A write reached a node that does not master the record."""

    code, reason = "NOT_OWNER", "Record is owned by another node"

    def __init__(self, resource: str, record_id: str, owner_node: str) -> None:
        super().__init__(
            f"{resource} {record_id} is owned by node {owner_node!r}; it is read-only here. "
            f"Write at node {owner_node!r}.",
            details={"ownerNode": owner_node},
        )
        self.owner_node = owner_node


class InvalidTransition(Conflict):
    code, reason = "INVALID_TRANSITION", "Illegal status transition"


class PayloadTooLarge(KamError):
    status, code, reason = 413, "PAYLOAD_TOO_LARGE", "Request body too large"


class UnsupportedMediaType(KamError):
    status, code, reason = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class TooManyRequests(KamError):
    status, code, reason = 429, "TOO_MANY_REQUESTS", "Too many requests"


class InternalError(KamError):
    status, code, reason = 500, "INTERNAL_ERROR", "Internal error"


class ServiceUnavailable(KamError):
    status, code, reason = 503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable"


RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) is a lost or refused database connection — the database
    restarting or crashed — rather than a bug: the client may retry, so 503, not 500."""
    import asyncpg
    from sqlalchemy import exc as sa_exc

    if rejected_value(exc) is not None:
        return False  # asyncpg files its argument-encoding errors under InterfaceError too
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(
            e,
            OSError
            | TimeoutError
            | sa_exc.TimeoutError
            | asyncpg.PostgresConnectionError
            | asyncpg.exceptions.OperatorInterventionError
            | asyncpg.InterfaceError,
        ):
            return True
        e = getattr(e, "orig", None) or e.__cause__ or e.__context__
    return False


# data exceptions (SQLSTATE class 22) that only a client's value can cause: NUL or unencodable text,
# a number or date out of range, a string longer than its column
_VALUE_SQLSTATES = frozenset({"22001", "22003", "22008", "22021", "22P05"})


def rejected_value(exc: BaseException) -> str | None:
    """The database's (or asyncpg's) complaint when `exc` is a value it cannot store or bind — input that
    the guards upstream should have refused (so logged) but that is still the client's error, not ours."""
    import asyncpg
    from asyncpg.exceptions import _base as asyncpg_base

    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, asyncpg_base.DataError) or (
            # a bind argument asyncpg cannot encode (an int beyond int64), raised before the query is sent
            isinstance(e, asyncpg.DataError) and str(e).startswith("invalid input for query argument")
        ):
            return str(e).split("\n", 1)[0]
        if isinstance(e, asyncpg.PostgresError) and getattr(e, "sqlstate", None) in _VALUE_SQLSTATES:
            return str(e).split("\n", 1)[0]
        e = getattr(e, "orig", None) or e.__cause__ or e.__context__
    return None


class ValidationFailed(KamError):
    status, code, reason = 422, "VALIDATION_ERROR", "Invalid request content"

    def __init__(self, message: str, *, field: str | None = None, errors: list[dict[str, Any]] | None = None):
        details: dict[str, Any] = {}
        if field:
            details["field"] = field
        if errors:
            details["errors"] = errors
        super().__init__(message, details=details or None)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


# a typed body that is missing, or JSON but not an object: malformed for the route, as TMF630 has it
_NOT_AN_OBJECT = frozenset({"missing", "model_type", "model_attributes_type", "dict_type"})


def validation_envelope(exc: RequestValidationError) -> tuple[int, dict[str, Any]]:
    errors = []
    malformed = False
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            malformed = True
        if tuple(err.get("loc", ())) == ("body",) and err.get("type") in _NOT_AN_OBJECT:
            bad = BadRequest("The body must be a JSON object")
            return bad.status, bad.envelope()
        errors.append({"field": _loc(err.get("loc", ())), "message": err.get("msg", "invalid")})
    if malformed:
        e: KamError = BadRequest("Malformed JSON body: " + "; ".join(x["message"] for x in errors))
        return e.status, e.envelope()
    msg = "; ".join(f"{x['field']}: {x['message']}" for x in errors)
    ve = ValidationFailed(msg, field=errors[0]["field"] if errors else None, errors=errors)
    return ve.status, ve.envelope()


_HTTP_CODES: dict[int, type[KamError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: TooManyRequests,
    500: InternalError,
    503: ServiceUnavailable,
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at the request's path (the Allow header), OPTIONS
    included. Starlette names only the first matching route's methods, though one path has several,
    so each method is tried against the whole routing table."""
    from starlette.routing import Match

    methods = {"OPTIONS"}
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            methods.add(method)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def kam_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KamError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.envelope(), status_code=exc.status, headers=headers)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        status, body = validation_envelope(exc)
        return JSONResponse(body, status_code=status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
            if request.method == "OPTIONS":  # what this path serves; no route has to declare OPTIONS
                return Response(status_code=204, headers=headers)
        cls = _HTTP_CODES.get(exc.status_code)
        message = str(exc.detail)
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = "No such path"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        if cls is None:
            code = HTTPStatus(exc.status_code).name if exc.status_code in _KNOWN_STATUSES else "HTTP_ERROR"
            body = error_body(exc.status_code, code, str(exc.detail), message)
        else:
            body = error_body(exc.status_code, cls.code, cls.reason, message)
        return JSONResponse(body, status_code=exc.status_code, headers=headers or None)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        problem = rejected_value(exc)
        if problem is not None:
            log.warning("value refused by the database on %s %s: %s", request.method, request.url.path, problem)
            bad = BadRequest(f"a value in the request cannot be stored: {problem}")
            return JSONResponse(bad.envelope(), status_code=bad.status)
        if database_unavailable(exc):
            log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
            down = ServiceUnavailable("The database is unavailable; retry shortly.")
            return JSONResponse(
                down.envelope(), status_code=down.status, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
            )
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = InternalError("An unexpected error occurred; it has been logged.").envelope()
        # the server drops the connection after an unhandled error; saying so keeps a keep-alive client
        # (the gateway's pool) from sending its next request down a connection that is about to close
        return JSONResponse(body, status_code=500, headers={"Connection": "close"})

    app.add_exception_handler(KamError, kam_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    # a lost database connection surfaces as one of these; ExceptionMiddleware answers without the
    # traceback ServerErrorMiddleware would log and re-raise
    db_errors: tuple[type[Exception], ...] = (OSError, TimeoutError, *_db_error_types())
    for cls in db_errors:
        app.add_exception_handler(cls, unexpected)
    app.add_exception_handler(Exception, unexpected)


def _db_error_types() -> tuple[type[Exception], ...]:
    import asyncpg
    from sqlalchemy import exc as sa_exc

    return (sa_exc.DBAPIError, sa_exc.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
