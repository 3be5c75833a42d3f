"""Run a service's alembic history against a node database (tests and `kam up` use this)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str, script_location: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, script_location: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url, script_location), revision)


def check(database_url: str, script_location: str) -> None:
    """Raise if the models and the migrations disagree (`alembic check`)."""
    command.check(alembic_config(database_url, script_location))
