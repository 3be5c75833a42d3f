"""The declarative base of the org schema."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from kam_platform.db import service_metadata

SCHEMA = "org"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)
