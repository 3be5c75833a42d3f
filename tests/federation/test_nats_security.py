"""Between nodes: each nats-server has its own credentials, leafnode links authenticate, and a node
can publish only under its own subjects."""

from __future__ import annotations

import asyncio
from typing import Any

import nats
import pytest

from kam_platform.embedded.natsauth import SERVICE_USER

from .conftest import Nodes, wait_until

pytestmark = pytest.mark.federation


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _connect(url: str, errors: list[str]) -> Any:
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    return await nats.connect(url, error_cb=on_error, max_reconnect_attempts=0)


def test_anonymous_connection_is_refused(demo: Nodes) -> None:
    server = demo.fed.nats("gd-gz")
    with pytest.raises(Exception):  # noqa: B017,PT011 - nats raises its own auth error types
        _run(nats.connect(server.url, max_reconnect_attempts=0, connect_timeout=2, allow_reconnect=False))


def test_service_user_publishes_only_under_its_own_node(demo: Nodes) -> None:
    url = demo.fed.credentials().url(demo.fed.nats("gd-gz").url, "gd-gz", SERVICE_USER)

    async def scenario() -> tuple[bool, list[str], bool]:
        errors: list[str] = []
        nc = await _connect(url, errors)
        js = nc.jetstream(timeout=2.0)
        own = await js.publish("up.gd-gz.test.probe.1", b"ok")  # allowed
        forged_ok = True
        try:
            await js.publish("up.gd-sz.customer.customer.forged", b"forged")
        except Exception:
            forged_ok = False
        stream_create_ok = True
        try:
            await js.add_stream(name="ROGUE", subjects=["rogue.>"])
        except Exception:
            stream_create_ok = False
        await nc.close()
        return bool(own.seq) and forged_ok, errors, stream_create_ok

    published_both, errors, created = _run(scenario())
    assert not published_both
    assert any("permissions violation" in e.lower() and "up.gd-sz" in e for e in errors), errors
    assert not created, "a service user must not create streams (the sync service declares them)"


def test_a_child_cannot_inject_raw_events_into_its_parent(demo: Nodes) -> None:
    parent_url = demo.fed.nats_url("gd")
    child_url = demo.fed.nats_url("gd-gz")  # even an administrator of the child node

    async def scenario() -> tuple[list[str], list[str]]:
        got: list[str] = []
        errors: list[str] = []
        parent = await _connect(parent_url, errors)
        child = await _connect(child_url, errors)

        async def collect(msg: Any) -> None:
            got.append(msg.subject)

        await parent.subscribe("probe.link", cb=collect)
        await parent.subscribe("up.gd.customer.customer.forged", cb=collect)
        await parent.flush()

        async def crossed() -> bool:
            await child.publish("probe.link", b"1")
            await child.publish("up.gd.customer.customer.forged", b"forged")
            await child.flush()
            await asyncio.sleep(0.2)
            return "probe.link" in got

        for _ in range(100):  # interest propagates over the link asynchronously
            if await crossed():
                break
        await parent.close()
        await child.close()
        return got, errors

    got, _ = _run(scenario())
    assert "probe.link" in got  # the link carries ordinary traffic
    assert "up.gd.customer.customer.forged" not in got


def test_a_compromised_province_cannot_forge_another_provinces_events(demo: Nodes) -> None:
    """Even if gd's own stream holds a message under js-nj's subject, the group's source from gd is
    filtered to gd's subtree, so it never reaches UP_ALL."""
    gd_url, hq_url = demo.fed.nats_url("gd"), demo.fed.nats_url("hq")

    async def forge() -> None:
        nc = await nats.connect(gd_url)
        js = nc.jetstream()
        info = await js.stream_info("UP_gd")
        cfg = info.config
        cfg.subjects = [*cfg.subjects, "up.js-nj.>"]
        await js.update_stream(cfg)
        await js.publish("up.js-nj.customer.customer.forged", b"forged")
        await js.publish("up.gd.test.probe.after-forgery", b"ok")
        await nc.close()

    async def count(subject: str) -> int:
        nc = await nats.connect(hq_url)
        try:
            info = await nc.jetstream().stream_info("UP_ALL", subjects_filter=subject)
            return sum((info.state.subjects or {}).values())  # type: ignore[call-overload,no-any-return]
        finally:
            await nc.close()

    _run(forge())
    wait_until(lambda: _run(count("up.gd.test.probe.after-forgery")) == 1, timeout=60, what="legit event at hq")
    assert _run(count("up.js-nj.customer.customer.forged")) == 0

    # the sync service notices the drifted stream and repairs it
    async def subjects() -> list[str]:
        nc = await nats.connect(gd_url)
        try:
            return list((await nc.jetstream().stream_info("UP_gd")).config.subjects or [])
        finally:
            await nc.close()

    wait_until(lambda: _run(subjects()) == ["up.gd.>"], timeout=90, what="drift repaired by sync")
