"""The simulator's knobs: from the command line at start, changed at run time by `PUT /sim/config`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SimConfig(BaseModel):
    latency_ms: float = Field(0.0, ge=0)  # before answering each message
    failure_rate: float = Field(0.0, ge=0, le=1)  # answer 503 without taking the message
    ack_loss_rate: float = Field(0.0, ge=0, le=1)  # take the message, then answer 503 (KAM resends it)
    down: bool = False  # answer every interface call with 503 (a stopped process is the other "down")
    call_rate: float = Field(0.0, ge=0)  # KA_LOOKUP calls per second placed at KAM
    ticket_rate: float = Field(0.0, ge=0)  # TICKET_CREATE per second sent to KAM
    duplicate_rate: float = Field(0.0, ge=0, le=1)  # a TICKET_CREATE sent twice with the same msg_id
    kam_url: str | None = None  # the node KAM runs at (its gateway)
    node: str | None = None  # KAM's node code (the envelope's target)
    token: str | None = None  # a bearer token of a KAM user with service.cs10000:call


class ConfigPatch(BaseModel):
    latency_ms: float | None = Field(None, ge=0)
    failure_rate: float | None = Field(None, ge=0, le=1)
    ack_loss_rate: float | None = Field(None, ge=0, le=1)
    down: bool | None = None
    call_rate: float | None = Field(None, ge=0)
    ticket_rate: float | None = Field(None, ge=0)
    duplicate_rate: float | None = Field(None, ge=0, le=1)
    kam_url: str | None = None
    node: str | None = None
    token: str | None = None
