"""What the simulator received, kept in an append-only JSON-lines file so that a restart (the other
way to be "down") forgets nothing: the first delivery of each msg_id, and every repeat counted."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class Store:
    path: Path | None
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    repeats: int = 0
    ka_list: dict[str, dict[str, Any]] = field(default_factory=dict)  # customer id → its KA_LIST_SYNC entry

    @classmethod
    def open(cls, data_dir: Path | None) -> Store:
        path = None if data_dir is None else data_dir / "received.jsonl"
        store = cls(path)
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    if rec.get("repeat"):
                        store.repeats += 1
                        store.messages[rec["msg_id"]]["deliveries"] += 1
                    else:
                        store._take(rec)
        return store

    def _take(self, rec: dict[str, Any]) -> None:
        self.messages[rec["msg_id"]] = {**rec, "deliveries": 1}
        if rec["msg_type"] == "KA_LIST_SYNC":
            payload = rec["payload"]
            if payload.get("change_type") == "REMOVE":
                self.ka_list.pop(payload["customer_id"], None)
            else:
                self.ka_list[payload["customer_id"]] = payload

    def _append(self, rec: dict[str, Any]) -> None:
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                f.flush()

    def receive(self, msg: dict[str, Any]) -> bool:
        """Take a message; False when its msg_id was taken before (a repeat: counted, not applied)."""
        msg_id = msg["msg_id"]
        if msg_id in self.messages:
            self.repeats += 1
            self.messages[msg_id]["deliveries"] += 1
            self._append({"msg_id": msg_id, "repeat": True})
            return False
        rec = {
            "msg_id": msg_id,
            "msg_type": msg["msg_type"],
            "source": msg.get("source"),
            "payload": msg.get("payload", {}),
            "received_at": datetime.now(UTC).isoformat(),
        }
        self._append(rec)
        self._take(rec)
        return True
