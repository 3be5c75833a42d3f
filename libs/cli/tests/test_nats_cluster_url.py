"""An external NATS given as several servers (a cluster, issue 15): `KAM_NATS_URL` holds them
comma-separated, and a client given that list reaches a live server even when the first is down."""

from __future__ import annotations

import nats

from kam_platform.embedded.nats import nats_servers
from kam_platform.embedded.ports import free_port


def test_a_comma_separated_url_is_a_server_list() -> None:
    assert nats_servers("nats://a:4222, nats://b:4222,") == ["nats://a:4222", "nats://b:4222"]
    assert nats_servers("nats://u:p@a:4222") == ["nats://u:p@a:4222"]


async def test_a_client_reaches_the_live_server_of_the_list(nats_url: str) -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    nc = await nats.connect(nats_servers(f"{dead},{nats_url}"), connect_timeout=2, max_reconnect_attempts=2)
    try:
        assert nc.is_connected
        assert nc.connected_url is not None and nc.connected_url.port == int(nats_url.rsplit(":", 1)[1])
    finally:
        await nc.close()
