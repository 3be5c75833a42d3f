"""The token endpoint (OAuth 2.0 password grant) and the node's JWKS."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import JSONResponse

from kam_org.auth import bootstrap, service
from kam_org.auth.schemas import JwksRead, TokenResponse
from kam_platform.db.engine import Session
from kam_platform.errors import BadRequest
from kam_platform.settings import AppSettings

router = APIRouter(tags=["auth"])


def client_address(request: Request) -> str | None:
    """The address a login comes from. Behind this node's own gateway (a loopback peer) it is the last
    X-Forwarded-For hop, which the gateway appended; a remote peer cannot choose it."""
    peer = request.client.host if request.client else None
    if peer is None:
        return None
    try:
        trusted = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        trusted = False
    forwarded = request.headers.get("x-forwarded-for")
    if trusted and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()[:64] or peer
    return peer


@router.post(
    "/api/v1/auth/token",
    response_model=TokenResponse,
    responses={401: {"description": "bad credentials"}, 429: {"description": "locked out (Retry-After)"}},
)
async def token(
    request: Request,
    session: Session,
    settings: AppSettings,
    response: Response,
    grant_type: Annotated[str, Form()],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    scope_node: Annotated[str | None, Form()] = None,
    scope_level: Annotated[str | None, Form()] = None,
) -> TokenResponse | JSONResponse:
    """Issue a bearer token (form: grant_type=password, username, password, optional scope_node, which
    narrows the data scope to a descendant of the user's node; optional scope_level ``node``, ``team``
    or ``own``, which narrows it to the team's or the user's own portfolio of customers). Tokens live
    one hour. Repeated failures lock the user name or the client address out for a while: 429 with Retry-After."""
    if grant_type != "password":
        raise BadRequest(f"unsupported grant_type {grant_type!r}; use 'password'")
    for name, value in (
        ("username", username),
        ("password", password),
        ("scope_node", scope_node or ""),
        ("scope_level", scope_level or ""),
    ):
        if "\x00" in value:  # PostgreSQL text cannot hold NUL: refuse it before any query
            raise BadRequest(f"{name}: NUL characters are not allowed")
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    try:
        return await service.password_grant(
            session,
            node=settings.node,
            topology=settings.topology,
            username=username,
            password=password,
            scope_node=scope_node,
            scope_level=scope_level,
            client_address=client_address(request),
            limits=service.LoginLimits.from_settings(settings),
        )
    except service.LoginRefused as exc:
        # answered, not raised: the session scope commits the failure this attempt counted
        headers = {"Cache-Control": "no-store", **exc.headers}
        return JSONResponse(exc.envelope(), status_code=exc.status, headers=headers)


@router.post(
    "/api/v1/auth/password",
    status_code=204,
    responses={401: {"description": "bad credentials"}, 429: {"description": "locked out (Retry-After)"}},
)
async def change_password(
    request: Request,
    session: Session,
    settings: AppSettings,
    username: Annotated[str, Form()],
    current_password: Annotated[str, Form()],
    new_password: Annotated[str, Form()],
) -> Response:
    """Change one's own password (form: username, current_password, new_password); a one-time password
    (a bootstrap administrator's) stops being one. The current password is checked like a login."""
    for name, value in (("username", username), ("current_password", current_password), ("new_password", new_password)):
        if "\x00" in value:
            raise BadRequest(f"{name}: NUL characters are not allowed")
    try:
        await bootstrap.change_password(
            session,
            node=settings.node,
            topology=settings.topology,
            username=username,
            current_password=current_password,
            new_password=new_password,
            client_address=client_address(request),
            limits=service.LoginLimits.from_settings(settings),
        )
    except service.LoginRefused as exc:
        return JSONResponse(
            exc.envelope(), status_code=exc.status, headers={"Cache-Control": "no-store", **exc.headers}
        )
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.get("/.well-known/jwks.json")
async def jwks(session: Session, response: Response) -> JwksRead:
    """The public keys that verify this node's tokens."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return JwksRead.model_validate(await service.jwks(session))
