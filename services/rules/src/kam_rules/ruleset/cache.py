"""The effective-rule cache of one rules process: answers by (kind, node, date), dropped as a whole
after any commit that changes a rule set here — a local write or an applied replicated change."""

from __future__ import annotations

from datetime import date
from typing import Any

Key = tuple[str, str, date]


class EffectiveCache:
    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._entries: dict[Key, Any] = {}
        self.generation = 0  # bumped by every invalidation (tests and metrics read it)

    def get(self, key: Key) -> Any:
        return self._entries.get(key)

    def put(self, key: Key, value: Any) -> None:
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = value

    def clear(self) -> None:
        self._entries.clear()
        self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)
