"""Rule sets as a downward dataset: the wire form of a row and back (`kam_platform.dataset`)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts import rules_pb2
from kam_platform.changes import ChangeLog
from kam_platform.dataset import Dataset
from kam_platform.outbox import from_ts, ts
from kam_rules.models import SCHEMA, Audit, RuleSet

SERVICE = "rules"


def rule_set_message(r: RuleSet) -> rules_pb2.RuleSetChanged:
    return rules_pb2.RuleSetChanged(
        rule_set=rules_pb2.RuleSetState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            kind=r.kind,
            name=r.name,
            scope_node=r.scope_node,
            valid_from=r.valid_from.isoformat(),
            valid_to=r.valid_to.isoformat() if r.valid_to else "",
            status=r.status,
            parameters_json=json.dumps(r.parameters, sort_keys=True, ensure_ascii=False),
            bounds_json=json.dumps(r.bounds, sort_keys=True, ensure_ascii=False),
            based_on=str(r.based_on) if r.based_on else "",
            author=r.author,
            approver=r.approver or "",
            publisher=r.publisher or "",
            note=r.note or "",
            updated_at=ts(r.updated_at),
            published_at=ts(r.published_at) if r.published_at else None,
        )
    )


def rule_set_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, rules_pb2.RuleSetChanged)
    s = msg.rule_set
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "kind": s.kind,
        "name": s.name,
        "scope_node": s.scope_node,
        "valid_from": date.fromisoformat(s.valid_from),
        "valid_to": date.fromisoformat(s.valid_to) if s.valid_to else None,
        "status": s.status,
        "parameters": json.loads(s.parameters_json or "{}"),
        "bounds": json.loads(s.bounds_json or "[]"),
        "based_on": uuid.UUID(s.based_on) if s.based_on else None,
        "author": s.author,
        "approver": s.approver or None,
        "publisher": s.publisher or None,
        "note": s.note or None,
        "created_at": updated,
        "updated_at": updated,
        "published_at": from_ts(s.published_at),
    }


RULE_SETS: Dataset[RuleSet] = Dataset(
    name="rule_set",
    service=SERVICE,
    schema=SCHEMA,
    model=RuleSet,
    message=rules_pb2.RuleSetChanged,
    to_message=rule_set_message,
    to_row=rule_set_row,
    # drafts and approvals are the authoring node's work; a rule leaves it once published
    publishable=lambda r: r.published_at is not None,
)

# audit rows of rule-set changes (they stay on the authoring node; the version history replicates)
CHANGES = ChangeLog(schema=SCHEMA, service=SERVICE, audit_model=Audit)
