"""The adapter's configuration, from the environment (``KAM_CS10000_*``), read when the app starts."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

URL_ENV = "KAM_CS10000_URL"


class Cs10000Settings(BaseSettings):
    """`url`: the 10000 system's message endpoint base (the simulator's under `kam up`); None: messages
    queue and nothing is sent. Back-off doubles from `backoff_seconds` up to `backoff_max_seconds`."""

    model_config = SettingsConfigDict(env_prefix="KAM_CS10000_", extra="ignore")

    url: str | None = None
    timeout_seconds: float = 5.0
    batch: int = 100
    concurrency: int = 16
    poll_seconds: float = 1.0
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    # the node's business day for the daily reconciliation
    time_zone: str = "Asia/Shanghai"
    reconcile_every_seconds: float = 3600.0
