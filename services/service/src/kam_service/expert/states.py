"""The life of an expert request."""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    REQUESTED = "REQUESTED"
    ASSIGNED = "ASSIGNED"
    ANSWERED = "ANSWERED"  # the outcome (a technical solution document) is attached
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.REQUESTED: frozenset({RequestStatus.ASSIGNED, RequestStatus.CANCELLED}),
    RequestStatus.ASSIGNED: frozenset({RequestStatus.ASSIGNED, RequestStatus.ANSWERED, RequestStatus.CANCELLED}),
    RequestStatus.ANSWERED: frozenset({RequestStatus.CLOSED, RequestStatus.ASSIGNED}),
    RequestStatus.CLOSED: frozenset(),
    RequestStatus.CANCELLED: frozenset(),
}
