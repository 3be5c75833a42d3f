"""Node and service settings, read from the environment (prefix ``KAM_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kam_platform.topology import Node, Topology


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAM_", extra="ignore")

    node: str = "hq"
    service: str = "kam"
    topology_file: Path | None = None
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kam_hq"
    nats_url: str = "nats://127.0.0.1:4222"
    jwks_url: str | None = None
    # A JWKS document given inline (tests, air-gapped sites); takes precedence over jwks_url.
    jwks_json: str | None = None
    token_audience: str = "kam"
    max_body_bytes: int = Field(default=1 << 20, description="largest JSON body accepted")
    max_upload_bytes: int = Field(default=512 << 20, description="largest import file accepted")
    db_pool_size: int = 10
    relay_enabled: bool = True
    relay_poll_seconds: float = 1.0
    # apply replicated events from the node's inbound streams (DESIGN §3)
    replication_enabled: bool = True
    # the node's public base URL (hrefs in notifications sent outside a request)
    public_url: str | None = None
    # deliver TMF events to listeners registered on /hub
    hub_enabled: bool = True
    # /hub callbacks must resolve to public addresses; these networks (CIDR, e.g. ["10.20.0.0/16"]) are
    # allowed although loopback/private/link-local; a non-empty host list allows only those hosts
    # ("*.example.com" matches subdomains)
    hub_allowed_networks: list[str] = Field(default_factory=list)
    hub_allowed_hosts: list[str] = Field(default_factory=list)
    hub_max_listeners_per_user: int = 20
    hub_delivery_timeout_seconds: float = 5.0
    # password grant throttle: this many failures within the window lock the user (or the client
    # address) out for the lockout period (429 with Retry-After); a success clears the user's count
    login_max_failures_per_user: int = 10
    login_max_failures_per_address: int = 50
    login_failure_window_seconds: int = 900
    login_lockout_seconds: int = 900
    # the node's nats-server monitoring endpoint (leafnode links), for the sync service
    nats_monitor_url: str | None = None

    @cached_property
    def topology(self) -> Topology:
        if self.topology_file is None:
            return Topology.single(self.node)
        return Topology.load(self.topology_file)

    @cached_property
    def this_node(self) -> Node:
        return self.topology.node(self.node)


async def get_settings(request: Request) -> Settings:  # async: a sync dependency costs a thread hop
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_settings)]
