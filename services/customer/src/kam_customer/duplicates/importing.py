"""Duplicate candidates of imported rows (F1, issue 14): a warning in the import result, never a
refusal, found set-based — one query per chunk, not per row — by the indexed signals (credit code and
normalised name; the address and phone signals have no index a million-row import could afford, and
stay with the API check and the scan)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import rules

# candidates named per imported row (by score); the scan and the API check list them all
PER_ROW = 5

# one statement per chunk: each new row's candidates per signal, a bounded LATERAL look-up in the
# credit-code index and the normalised-name expression index (migration 0011), within the scope ($4).
# The new rows' ids, names and credit codes come as arrays (the chunk has just written them): joined
# back to the table by id they were read by a merge join over its whole primary key once its statistics
# were behind (43 ms of a chunk's 167 at 100,000 rows, growing with the table). Materialised, so each
# name key (four regular expressions) is computed once per row, not once per use.
_NEW = """
WITH n AS MATERIALIZED (
    SELECT u.id, u.credit_code, customer.name_key(u.name) AS name_key
    FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, name, credit_code)
)
"""
_LIVE_IN_SCOPE = "m.deleted_at IS NULL AND m.id <> n.id AND ($4::text[] IS NULL OR m.owner_node = ANY($4))"
# signal → (the look-up's condition, when the new row has the signal at all)
_SIGNALS = {
    "creditCode": ("m.credit_code = n.credit_code", "n.credit_code IS NOT NULL"),
    "name": ("customer.name_key(m.name) = n.name_key", "n.name_key <> ''"),
}
_CANDIDATES = _NEW + "\nUNION ALL\n".join(
    f"""SELECT n.id AS new_id, m.id, m.customer_code, m.name, m.owner_node, '{signal}' AS signal
FROM n CROSS JOIN LATERAL (
    SELECT m.id, m.customer_code, m.name, m.owner_node FROM customer.customer m
    WHERE {match} AND {_LIVE_IN_SCOPE}
    LIMIT $5
) m
WHERE {has}"""
    for signal, (match, has) in _SIGNALS.items()
)
# how many new rows have a candidate, without naming them: once the result holds MAX_ERRORS warnings,
# the rest of a million-row import is counted in the database instead of shipping and scoring up to
# 2 × PER_ROW candidates per row (a file of look-alike names made that the import's largest cost). Each
# look-up stays a LATERAL probe of one row (LIMIT 1), never a join over the whole table.
_COUNT = (
    _NEW
    + "SELECT count(*) FROM n\n"
    + "".join(
        f"LEFT JOIN LATERAL (SELECT true AS hit FROM customer.customer m WHERE {has} AND {match} "
        f"AND {_LIVE_IN_SCOPE} LIMIT 1) {signal.lower()} ON true\n"
        for signal, (match, has) in _SIGNALS.items()
    )
    + "WHERE "
    + " OR ".join(f"{signal.lower()}.hit" for signal in _SIGNALS)
)


@dataclass(frozen=True)
class Candidate:
    customer_id: uuid.UUID
    customer_code: str
    name: str
    owner_node: str
    signals: frozenset[str]

    def to_api(self) -> dict[str, Any]:
        return {
            "customerId": str(self.customer_id),
            "customerCode": self.customer_code,
            "name": self.name,
            "ownerNode": self.owner_node,
            "score": rules.score(self.signals),
            "reasons": rules.reasons(self.signals),
        }


@dataclass(frozen=True)
class ImportWarning:
    """A row created by an import that may duplicate customers already there (or in the same file)."""

    row: int
    customer_code: str
    customer_id: uuid.UUID
    candidates: list[Candidate] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "customerCode": self.customer_code,
            "customerId": str(self.customer_id),
            "candidates": [c.to_api() for c in self.candidates],
        }


class _Row(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def rec(self) -> Mapping[str, Any]:  # the row as written (its name and credit code)
        ...


async def import_warnings(
    conn: Any,
    planned: Mapping[str, _Row],
    returned: Sequence[Mapping[str, Any]],
    visible: frozenset[str] | None,
    *,
    named: int | None = None,
) -> tuple[list[ImportWarning], int]:
    """The duplicate candidates of a chunk's created rows (`returned` by the upsert, `planned` by code
    for their lines), among the customers whose owner is `visible` (None: all): the first `named` rows
    with candidates (None: all) with them, and how many created rows have any."""
    created = {r["id"]: r["customer_code"] for r in returned if r["inserted"]}
    if not created:
        return [], 0
    owners = sorted(visible) if visible is not None else None
    written = [planned[code].rec for code in created.values()]
    new = (list(created), [w["name"] for w in written], [w["credit_code"] for w in written])
    if named == 0:
        return [], int(await conn.fetchval(_COUNT, *new, owners))
    found: dict[uuid.UUID, dict[uuid.UUID, tuple[str, str, str, set[str]]]] = {}
    for r in await conn.fetch(_CANDIDATES, *new, owners, PER_ROW):
        hit = found.setdefault(r["new_id"], {}).setdefault(
            r["id"], (r["customer_code"], r["name"], r["owner_node"], set())
        )
        hit[3].add(r["signal"])
    first = sorted(found, key=lambda new_id: planned[created[new_id]].line)[:named]
    out = []
    for new_id in first:
        code = created[new_id]
        candidates = sorted(
            (Candidate(cid, c, n, o, frozenset(s)) for cid, (c, n, o, s) in found[new_id].items()),
            key=lambda x: (-rules.score(x.signals), x.customer_code),
        )
        out.append(ImportWarning(planned[code].line, code, new_id, candidates[:PER_ROW]))
    return out, len(found)
