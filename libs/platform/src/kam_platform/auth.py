"""Bearer-token verification, the Principal, permission checks and the data-scope filter.

Tokens are JWTs signed by the node's org service (or an external OIDC issuer) and verified against
its JWKS. The data scope is enforced in queries: a user sees records whose owner node lies in the
subtree of the user's scope node (DESIGN §5) and, at a portfolio level (claim ``scope_level`` =
``team`` or ``own``), only those of customers whose current account manager is in the portfolio
(claim ``portfolio``: the team members' user names; ``own`` is the user alone).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from sqlalchemy import and_, false, true
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.errors import Forbidden, Unauthorized
from kam_platform.signing import ScopeLevel as ScopeLevel
from kam_platform.signing import generate_signing_key as generate_signing_key
from kam_platform.signing import load_private_key as load_private_key
from kam_platform.signing import private_key_pem as private_key_pem
from kam_platform.signing import public_jwk as public_jwk
from kam_platform.signing import sign_token as sign_token
from kam_platform.topology import Topology

log = logging.getLogger("kam.auth")

ALGORITHMS = ["EdDSA", "RS256", "ES256"]


@dataclass(frozen=True)
class Principal:
    username: str
    home_node: str
    scope_node: str
    roles: frozenset[str]
    permissions: frozenset[str]
    display_name: str = ""
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    scope_level: ScopeLevel = ScopeLevel.NODE
    # the account managers (user names) whose customers a portfolio-scoped user sees (empty at NODE)
    portfolio: frozenset[str] = frozenset()

    @property
    def by_portfolio(self) -> bool:
        return self.scope_level is not ScopeLevel.NODE

    def sees_portfolio_of(self, account_manager: str | None) -> bool:
        """Whether a customer with this current account manager lies in the user's portfolio (always,
        at the node level)."""
        return not self.by_portfolio or (account_manager is not None and account_manager in self.portfolio)

    def has(self, permission: str) -> bool:
        return permission in self.permissions or "*" in self.permissions

    def require(self, permission: str) -> None:
        if not self.has(permission):
            raise Forbidden(
                f"user {self.username!r} lacks permission {permission!r} (roles: {', '.join(sorted(self.roles))})"
            )


def scope_nodes(principal: Principal, topology: Topology) -> list[str]:
    """Every node code whose records the principal may see."""
    return topology.subtree(principal.scope_node)


ScopeKey = tuple[str, tuple[str, ...], bool, frozenset[str]]


def scope_key(principal: Principal, topology: Topology) -> ScopeKey:
    """Everything `scope_filter` reads of the principal and the topology: two principals with equal
    keys get the same clause, so a statement built for one may be kept and reused for the other (a hot
    path's cached statement)."""
    return (topology.root.code, tuple(scope_nodes(principal, topology)), principal.by_portfolio, principal.portfolio)


def scope_filter(
    owner_column: Any,
    principal: Principal,
    topology: Topology,
    *,
    portfolio: Callable[[frozenset[str]], ColumnElement[bool]] | None = None,
) -> ColumnElement[bool]:
    """WHERE clause restricting rows to the principal's data scope (apply in the repository, or let
    `kam_platform.scoped.ScopedRepository` apply it).

    `portfolio` builds the clause "the row belongs to a customer managed by one of these users"; a
    portfolio-scoped principal on rows without one sees nothing (closed, never open)."""
    nodes = scope_nodes(principal, topology)
    clause: ColumnElement[bool]
    if principal.scope_node == topology.root.code:
        # the group's scope is every record held: no owner clause. `owner_node IN (every node)` said the
        # same (every owner is a node of the topology: the apply screen refuses any other) and cost a
        # scan of the whole owner index under every group search (35 ms at 1,000,000 customers)
        clause = true()
    elif len(nodes) == 1:
        clause = owner_column == nodes[0]
    else:
        clause = owner_column.in_(nodes)
    if principal.by_portfolio:
        clause = and_(clause, portfolio(principal.portfolio) if portfolio is not None else false())
    return clause


def not_portfolio_data(_managers: frozenset[str]) -> ColumnElement[bool]:
    """`scope_filter(portfolio=not_portfolio_data)` for rows that belong to no customer's portfolio (org's
    people and structure, shared reference data): the portfolio levels do not narrow them."""
    return true()


# --- verification -----------------------------------------------------------------------------

JwksLoader = Callable[[], Coroutine[Any, Any, dict[str, Any]]]


class TokenVerifier:
    """Verifies bearer tokens against a JWKS, refreshing it when an unknown key id appears."""

    # Verified tokens are remembered briefly: a client sends the same bearer token on every request and
    # an Ed25519 verification plus PyJWT's parsing cost more than the rest of a small request's Python.
    CACHE_SIZE = 1024
    CACHE_SECONDS = 60.0

    def __init__(
        self,
        loader: JwksLoader,
        *,
        audience: str = "kam",
        min_refresh_seconds: float = 10.0,
        max_age_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        """`min_refresh_seconds` bounds how often an unknown key id may trigger a fetch (a flood of
        forged kids must not become a flood of JWKS requests); `max_age_seconds` bounds how long a
        withdrawn key is still trusted after the issuer dropped it from its JWKS."""
        self._loader = loader
        self._clock = clock
        self._max_age = max_age_seconds
        self._verified: dict[str, tuple[float, dict[str, Any]]] = {}  # token → (valid until, claims)
        self._audience = audience
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._min_refresh = min_refresh_seconds
        self._lock = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str, *, audience: str = "kam") -> TokenVerifier:
        async def load() -> dict[str, Any]:
            async with httpx.AsyncClient(timeout=5.0) as client:
                resp = await client.get(url)
                resp.raise_for_status()
                data: dict[str, Any] = resp.json()
                return data

        return cls(load, audience=audience)

    @classmethod
    def from_jwks(cls, jwks: dict[str, Any] | str, *, audience: str = "kam") -> TokenVerifier:
        doc = json.loads(jwks) if isinstance(jwks, str) else jwks

        async def load() -> dict[str, Any]:
            return doc

        return cls(load, audience=audience, min_refresh_seconds=0)

    async def _refresh(self, force: bool = False) -> None:
        async with self._lock:
            age = self._clock() - self._fetched_at
            if not force and self._keys and age < self._max_age:
                return
            if force and age < self._min_refresh:
                return
            try:
                doc = await self._loader()
            except Exception as exc:
                if not self._keys:
                    raise Unauthorized(f"cannot load the token signing keys: {exc}") from None
                # the issuer is unreachable: keep the keys we have, try again after min_refresh
                log.warning("cannot refresh the token signing keys: %s: %s", type(exc).__name__, exc)
                self._fetched_at = self._clock() - self._max_age + self._min_refresh
                return
            keys = {}
            for jwk in doc.get("keys", []):
                try:
                    keys[jwk.get("kid", "")] = jwt.PyJWK(jwk)
                except jwt.PyJWTError:
                    continue
            self._keys = keys
            self._fetched_at = self._clock()
            self._verified.clear()  # a key may have been withdrawn

    async def verify(self, token: str) -> dict[str, Any]:
        if self._keys and self._clock() - self._fetched_at >= self._max_age:
            await self._refresh()  # re-read the JWKS now and then: cached verdicts of withdrawn keys go
        cached = self._verified.get(token)
        if cached is not None:
            if time.time() < cached[0]:
                return cached[1]
            del self._verified[token]
        claims = await self._verify(token)
        exp = claims.get("exp")
        if isinstance(exp, int | float):
            if len(self._verified) >= self.CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = (min(float(exp), time.time() + self.CACHE_SECONDS), claims)
        return claims

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed bearer token") from None
        kid = header.get("kid", "")
        await self._refresh()
        if kid not in self._keys:
            await self._refresh(force=True)
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("token signed by an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("token is not meant for this service (audience)") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        return claims


def principal_from_claims(claims: dict[str, Any], topology: Topology) -> Principal:
    home = claims.get("node")
    scope = claims.get("scope_node") or home
    if not isinstance(home, str) or home not in topology:
        raise Unauthorized(f"token names unknown home node {home!r}")
    if not isinstance(scope, str) or not topology.is_in_subtree(scope, home):
        raise Unauthorized(f"token scope {scope!r} is not within home node {home!r}")
    username = str(claims["sub"])
    try:
        level = ScopeLevel(claims.get("scope_level") or ScopeLevel.NODE)
    except ValueError:
        raise Unauthorized(f"token names unknown scope level {claims.get('scope_level')!r}") from None
    portfolio: frozenset[str] = frozenset()
    if level is ScopeLevel.OWN:
        portfolio = frozenset({username})
    elif level is ScopeLevel.TEAM:
        members = claims.get("portfolio", [])
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise Unauthorized("token portfolio must be a list of user names")
        portfolio = frozenset(members) | {username}
    return Principal(
        username=username,
        home_node=home,
        scope_node=scope,
        roles=frozenset(claims.get("roles", [])),
        permissions=frozenset(claims.get("perms", [])),
        display_name=str(claims.get("name", "")),
        claims=claims,
        scope_level=level,
        portfolio=portfolio,
    )


async def get_principal(request: Request) -> Principal:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    verifier: TokenVerifier = request.app.state.verifier
    claims = await verifier.verify(token.strip())
    principal = principal_from_claims(claims, request.app.state.settings.topology)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: str) -> Any:
    """Dependency: the principal, after checking it holds `permission`."""

    async def dep(principal: CurrentPrincipal) -> Principal:
        principal.require(permission)
        return principal

    return Depends(dep)
