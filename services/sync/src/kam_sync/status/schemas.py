"""API model of the federation status (the watcher's latest snapshot). Before the first check, or when
the node's NATS is unreachable, only `node`, `state` and `error` are answered; absent attributes are
omitted, not null."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from kam_platform.api import ReadModel


class _Partial(ReadModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)


class LinkStatus(ReadModel):
    peer: str
    role: Literal["parent", "child"]
    connected: Annotated[bool | None, Field(description="null when /leafz cannot be read")]


class SourceStatus(_Partial):
    name: str
    node: str | None
    lag: Annotated[int, Field(description="messages behind")]
    idle_seconds: float | None
    error: str | None
    link_connected: bool | None
    ok: bool
    restarts: Annotated[int | None, Field(description="the watcher's restarts of a stalled source")] = None


class StreamStatus(_Partial):
    name: str
    missing: bool | None = None
    subjects: list[str] | None = None
    messages: int | None = None
    last_seq: int | None = None
    sources: list[SourceStatus] | None = None


class ConsumerStatus(ReadModel):
    stream: str
    name: str
    pending: int
    ack_pending: int
    redelivered: int


class SyncStatusRead(_Partial):
    """Replication status of this node: links, sources, apply consumers, dead letters."""

    type_: Annotated[Literal["SyncStatus"], Field(alias="@type")] = "SyncStatus"
    node: str
    state: Literal["starting", "ok", "degraded", "nats-unreachable"]
    error: str | None = None
    tier: str | None = None
    parent: str | None = None
    checked_at: Annotated[str | None, Field(json_schema_extra={"format": "date-time"})] = None
    links: list[LinkStatus] | None = None
    streams: list[StreamStatus] | None = None
    consumers: list[ConsumerStatus] | None = None
    dead_letters: Annotated[dict[str, int] | None, Field(description="dead letters per service")] = None
    restarted_sources: list[str] | None = None
    source_restarts: list[dict[str, Any]] | None = None
