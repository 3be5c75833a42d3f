"""Database plumbing: engines, one transaction per request, per-service schemas, migrations."""

from kam_platform.db.base import NAMING_CONVENTION, ReplicatedMixin, TimestampMixin, service_metadata
from kam_platform.db.engine import Database, create_database

__all__ = ["NAMING_CONVENTION", "Database", "ReplicatedMixin", "TimestampMixin", "create_database", "service_metadata"]
