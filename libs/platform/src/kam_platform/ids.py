"""Identifiers: UUIDv7 for every row and event (globally unique, time ordered)."""

from __future__ import annotations

import uuid

import uuid_utils


def uuid7() -> uuid.UUID:
    # a stdlib UUID set from the integer directly, as uuid_utils.compat does, without the validation
    # of UUID.__init__: a bulk import makes three per row
    u = object.__new__(uuid.UUID)
    object.__setattr__(u, "int", uuid_utils.uuid7().int)
    object.__setattr__(u, "is_safe", uuid.SafeUUID.unknown)
    return u
