"""API models of the token endpoint (OAuth 2.0 names, snake_case as RFC 6749 has them) and the JWKS
(RFC 7517 names)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from kam_org.auth.claims import TOKEN_LIFETIME_SECONDS


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = TOKEN_LIFETIME_SECONDS
    scope_node: str


class Jwk(BaseModel):
    """One public signing key (an Ed25519 OKP key, RFC 8037)."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=True)

    kty: str
    kid: str
    alg: str | None = None
    use: str | None = None
    crv: str | None = None
    x: str | None = None


class JwksRead(BaseModel):
    """The node's JSON Web Key Set."""

    keys: list[Jwk]
