"""Assignment queue request and response bodies, and a ticket's manual reassignment."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from kam_platform.api import ApiModel, Resource
from kam_service.ticket.states import TicketType

Name = Annotated[str, Field(min_length=1, max_length=100)]
User = Annotated[str, Field(min_length=1, max_length=64)]
Grade = Annotated[str, Field(min_length=1, max_length=8)]


class Strategy(StrEnum):
    ROUND_ROBIN = "ROUND_ROBIN"  # 轮询: members in turn
    LEAST_LOADED = "LEAST_LOADED"  # 最少负载: the member with the fewest open tickets here


class QueueCreate(ApiModel):
    name: Name
    team: Annotated[str, Field(min_length=1, max_length=64, description="the team (班组) the queue belongs to")]
    ticket_types: Annotated[list[TicketType], Field(min_length=1, description="the skill: ticket types served")]
    grades: Annotated[
        list[Grade], Field(default_factory=list, max_length=10, description="customer grades served; empty: all")
    ]
    members: Annotated[list[User], Field(min_length=1, max_length=200)]
    strategy: Strategy = Strategy.ROUND_ROBIN
    rank: Annotated[int, Field(ge=0, le=10000, description="lower first when several queues match")] = 100
    is_active: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> QueueCreate:
        if len(set(self.members)) != len(self.members):
            raise ValueError("members: each member once")
        return self


class QueueUpdate(ApiModel):
    """A JSON merge patch of a queue."""

    team: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    ticket_types: Annotated[list[TicketType] | None, Field(min_length=1)] = None
    grades: Annotated[list[Grade] | None, Field(max_length=10)] = None
    members: Annotated[list[User] | None, Field(min_length=1, max_length=200)] = None
    strategy: Strategy | None = None
    rank: Annotated[int | None, Field(ge=0, le=10000)] = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _distinct(self) -> QueueUpdate:
        if self.members is not None and len(set(self.members)) != len(self.members):
            raise ValueError("members: each member once")
        return self


class QueueRead(Resource):
    id: str
    href: str
    type_: Annotated[Literal["TicketQueue"], Field(alias="@type")] = "TicketQueue"
    name: str
    team: str
    ticket_types: list[str]
    grades: list[str]
    members: list[str]
    strategy: Strategy
    rank: int
    is_active: bool
    owner_node: str
    version: int
    last_update: datetime


class AssignCreate(ApiModel):
    """Manual reassignment (改派): a named handler, or a queue whose rule picks one; neither: the rule
    picks again among the queues matching the ticket."""

    handler: User | None = None
    queue_id: Annotated[str | None, Field(max_length=64)] = None
    reason: Annotated[str | None, Field(max_length=1000)] = None
