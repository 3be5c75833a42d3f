"""Token verification across signing-key rotation, withdrawal and unknown key ids."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kam_platform.auth import TokenVerifier, generate_signing_key, public_jwk, sign_token
from kam_platform.errors import Unauthorized


class Issuer:
    """A JWKS that the test rotates, and a count of how often the verifier fetched it."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0
        self.down = False

    def add(self, kid: str) -> Any:
        self.keys[kid] = generate_signing_key()
        return self.keys[kid]

    def token(self, kid: str, sub: str = "am01") -> str:
        now = int(time.time())
        return sign_token(self.keys[kid], kid, {"sub": sub, "aud": "kam", "iat": now, "exp": now + 600})

    async def load(self) -> dict[str, Any]:
        self.fetches += 1
        if self.down:
            raise ConnectionError("org is down")
        return {"keys": [public_jwk(k, kid) for kid, k in self.keys.items()]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier(issuer: Issuer, clock: Clock) -> TokenVerifier:
    return TokenVerifier(issuer.load, min_refresh_seconds=10, max_age_seconds=300, clock=clock)


async def test_a_token_naming_an_unknown_key_is_refused_without_a_fetch_per_request() -> None:
    issuer, clock = Issuer(), Clock()
    issuer.add("k1")
    v = verifier(issuer, clock)
    assert (await v.verify(issuer.token("k1")))["sub"] == "am01"
    fetches = issuer.fetches
    forged = sign_token(generate_signing_key(), "k-unknown", {"sub": "x", "aud": "kam", "exp": time.time() + 60})
    for _ in range(20):
        with pytest.raises(Unauthorized, match="unknown key"):
            await v.verify(forged)
    assert issuer.fetches == fetches  # inside min_refresh: no fetch at all for a flood of unknown kids
    clock.now += 11
    with pytest.raises(Unauthorized, match="unknown key"):
        await v.verify(forged)
    assert issuer.fetches == fetches + 1


async def test_a_rotated_key_is_picked_up_and_the_old_one_still_verifies_until_withdrawn() -> None:
    issuer, clock = Issuer(), Clock()
    issuer.add("k1")
    v = verifier(issuer, clock)
    old = issuer.token("k1")
    await v.verify(old)
    issuer.add("k2")  # rotation: the issuer publishes the new key beside the old one
    clock.now += 11
    assert (await v.verify(issuer.token("k2", sub="am02")))["sub"] == "am02"
    assert (await v.verify(old))["sub"] == "am01"
    del issuer.keys["k1"]  # withdrawal
    clock.now += 100
    assert (await v.verify(old))["sub"] == "am01"  # still trusted within max_age (cached JWKS)
    clock.now += 300
    with pytest.raises(Unauthorized, match="unknown key"):
        await v.verify(old)  # the verdict cache does not outlive the key


async def test_an_unreachable_issuer_keeps_the_known_keys() -> None:
    issuer, clock = Issuer(), Clock()
    issuer.add("k1")
    v = verifier(issuer, clock)
    await v.verify(issuer.token("k1"))
    issuer.down = True
    clock.now += 301
    assert (await v.verify(issuer.token("k1", sub="am03")))["sub"] == "am03"
    fetches = issuer.fetches
    await v.verify(issuer.token("k1", sub="am04"))
    assert issuer.fetches == fetches  # retried only after min_refresh, not on every request
    fresh = TokenVerifier(issuer.load, clock=clock)
    with pytest.raises(Unauthorized, match="cannot load the token signing keys"):
        await fresh.verify(issuer.token("k1"))
