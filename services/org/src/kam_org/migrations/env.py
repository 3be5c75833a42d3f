"""Alembic environment of the org schema (shared body in kam_platform.db.alembic_env)."""

from kam_org.models import Base
from kam_platform.db.alembic_env import run

run(Base.metadata)
