"""The token endpoint (OAuth 2.0 password grant) and the node's JWKS."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Response

from kam_org.api import AppSettings
from kam_org.auth import service
from kam_org.auth.schemas import TokenResponse
from kam_platform.db.engine import Session
from kam_platform.errors import BadRequest

router = APIRouter(tags=["auth"])


@router.post("/api/v1/auth/token")
async def token(
    session: Session,
    settings: AppSettings,
    response: Response,
    grant_type: Annotated[str, Form()],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    scope_node: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    """Issue a bearer token (form: grant_type=password, username, password, optional scope_node, which
    narrows the data scope to a descendant of the user's node). Tokens live one hour."""
    if grant_type != "password":
        raise BadRequest(f"unsupported grant_type {grant_type!r}; use 'password'")
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    return await service.password_grant(
        session,
        node=settings.node,
        topology=settings.topology,
        username=username,
        password=password,
        scope_node=scope_node,
    )


@router.get("/.well-known/jwks.json")
async def jwks(session: Session, response: Response) -> dict[str, Any]:
    """The public keys that verify this node's tokens."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return await service.jwks(session)
