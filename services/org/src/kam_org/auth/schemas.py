"""API models of the token endpoint (OAuth 2.0 names, snake_case as RFC 6749 has them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

TOKEN_LIFETIME_SECONDS = 3600


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = TOKEN_LIFETIME_SECONDS
    scope_node: str
