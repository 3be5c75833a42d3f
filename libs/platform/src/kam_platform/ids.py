"""Identifiers: UUIDv7 for every row and event (globally unique, time ordered)."""

from __future__ import annotations

import uuid

import uuid_utils


def uuid7() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)
