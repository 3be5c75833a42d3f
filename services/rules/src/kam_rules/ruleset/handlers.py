"""Apply replicated rule sets (published states flow down from ancestors and up from descendants):
versioned upsert by the platform dataset, plus this node's version history and cache invalidation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import rules_pb2
from kam_platform.audit import jsonable
from kam_platform.dataset import DatasetApplier, after_commit
from kam_platform.ids import uuid7
from kam_platform.replication import Event
from kam_platform.settings import Settings

from .cache import EffectiveCache
from .dataset import RULE_SETS, rule_set_row
from .repository import RuleSetRepository


def applier(settings: Settings, cache: EffectiveCache) -> DatasetApplier:
    async def on_applied(session: AsyncSession, name: str, rows: list[dict[str, Any]], events: Sequence[Event]) -> None:
        history = []
        for ev in events:  # every version received, not only the newest of the batch
            row = rule_set_row(ev.payload_as(rules_pb2.RuleSetChanged))
            state = {k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")}
            history.append(
                {
                    "id": uuid7(),
                    "rule_set_id": row["id"],
                    "version": row["version"],
                    "owner_node": row["owner_node"],
                    "status": row["status"],
                    "state": jsonable(state),
                    "actor": ev.envelope.actor or "system:replication",
                }
            )
        await RuleSetRepository.from_session(session).add_versions(history)
        after_commit(session, cache.clear)

    return DatasetApplier(settings, [RULE_SETS], on_applied=on_applied)
