"""Apply replicated customer-service events (replicas are read-only copies kept by version).

Upward events (``up.<node>.customer…``) keep ancestors' replicas of their subtree; downward events
(``down.<scope>.customer…``) bring reference data owned by ancestors (designations) and ownership
transfers relayed by the lowest common ancestor. Every upsert only replaces an older version.
`CustomerApplier.claims` tells the platform's integrity check what each event writes and whom it says
owns it; an event type not listed there is refused.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, and_, or_, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.customer import rules
from kam_customer.designation.events import DESIGNATIONS, RESPONSES
from kam_customer.merge_proposal.events import PROPOSAL_RESPONSES, PROPOSALS
from kam_customer.models import (
    AccountManagerAssignment,
    Audit,
    Contact,
    Customer,
    Organization,
)
from kam_platform.dataset import Dataset
from kam_platform.outbox import from_ts
from kam_platform.replication import (
    RESYNC_REQUESTED,
    Claim,
    Event,
    Refused,
    Unique,
    newest_per_aggregate,
    replaces_equal,
    resync_claims,
    upsert_newest,
)
from kam_platform.settings import Settings
from kam_platform.snapshot import answer_resync

from . import attached as f1
from . import batch, snapshot

log = logging.getLogger("kam.customer.replication")


def _uuid(value: str) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _attributes(value: str) -> dict[str, Any]:
    # the standard TMF attributes kept as given (an event of an older writer has none)
    return dict(json.loads(value)) if value else {}


def contact_row(c: customer_pb2.ContactState) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(c.id),
        "owner_node": c.owner_node,
        "version": c.version,
        "customer_id": _uuid(c.customer_id),  # none until the contact is linked to its key account
        "given_name": c.given_name or None,
        "family_name": c.family_name or None,
        "full_name": c.full_name,
        "title": c.title or None,
        "department": c.department or None,
        "decision_role": c.decision_role or None,
        "preferred_medium": c.preferred_medium or None,
        "phone": c.phone or None,
        "email": c.email or None,
        "id_number": c.id_number or None,
        "birth_date": date.fromisoformat(c.birth_date) if c.birth_date else None,
        "is_primary": c.is_primary,
        "tmf_attributes": _attributes(c.tmf_attributes_json),
        "created_at": from_ts(c.created_at) or now,
        "updated_at": from_ts(c.updated_at) or now,
        "deleted_at": None,
    }


async def _apply_deletes(session: AsyncSession, model: Any, items: list[tuple[Event, uuid.UUID, int]]) -> None:
    """Soft-delete where the stored version is older — or, for the owner's snapshot, equal and still live
    (an equal-version divergence; `replaces_equal`)."""
    table: Table = model.__table__
    for ev, row_id, version in items:
        newer = table.c.version < version
        if replaces_equal(ev):
            newer = or_(newer, and_(table.c.version == version, table.c.deleted_at.is_(None)))
        await session.execute(
            table.update().where(table.c.id == row_id, newer).values(deleted_at=datetime.now(UTC), version=version)
        )


_CUSTOMER_STATE_EVENTS: dict[str, Any] = {
    "kam.v1.CustomerCreated": customer_pb2.CustomerCreated,
    "kam.v1.CustomerUpdated": customer_pb2.CustomerUpdated,
    "kam.v1.CustomerStatusChanged": customer_pb2.CustomerStatusChanged,
}


def _code(code: str) -> tuple[Unique, ...]:
    # the live-row partial unique index of customer.customer_code
    return (Unique("customer_code", code, "deleted_at IS NULL"),)


def _customer(customer_id: str) -> tuple[tuple[str, uuid.UUID], ...]:
    return (("customer", uuid.UUID(customer_id)),)


# directives down from an ancestor (designations, merge proposals) and their answers up
_DATASETS: dict[str, Dataset[Any]] = {d.event_type: d for d in (DESIGNATIONS, RESPONSES, PROPOSALS, PROPOSAL_RESPONSES)}


class CustomerApplier:
    """The apply callback of the customer service's replication consumers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topology = settings.topology
        self.node = settings.node

    def claims(self, ev: Event) -> list[Claim] | None:
        """The records `ev` writes and the owners its payload claims (checked by the platform's
        `Screen` before `__call__` sees the event); None for a type this applier does not know."""
        etype = ev.event_type
        cls = _CUSTOMER_STATE_EVENTS.get(etype)
        if cls is not None:
            c = ev.payload_as(cls).customer
            if etype == "kam.v1.CustomerCreated":
                # codes keep their namespace across transfers, so only a creation is checked (against
                # the origin's subtree: a province relays its local networks' creations up)
                named = rules.code_namespace(self.topology, c.customer_code)
                if named is None or not self.topology.is_in_subtree(named, ev.origin):
                    where = f"it lies in {named}'s" if named else "it names no node's"
                    raise Refused(
                        f"customer code {c.customer_code} of customer {c.id} is outside the code namespace of "
                        f"origin {ev.origin}'s subtree ({where})"
                    )
            return [Claim("customer", uuid.UUID(c.id), c.owner_node, c.version, unique=_code(c.customer_code))]
        if etype == "kam.v1.CustomerDeleted":
            d = ev.payload_as(customer_pb2.CustomerDeleted)
            return [Claim("customer", uuid.UUID(d.id), d.owner_node, d.version)]
        if etype == "kam.v1.CustomerOwnershipTransferred":
            t = ev.payload_as(customer_pb2.CustomerOwnershipTransferred)
            if ev.subject.startswith("down.") and not self.topology.is_in_subtree(t.to_node, self.node):
                return []  # relayed to a sibling branch: applied nowhere here
            c = t.customer
            if c.owner_node != t.to_node:
                raise Refused(f"transfer of customer {c.id} to {t.to_node} carries owner {c.owner_node}")
            out = [
                Claim(
                    "customer",
                    uuid.UUID(c.id),
                    t.to_node,
                    c.version,
                    is_transfer=True,
                    from_node=t.from_node,
                    unique=_code(c.customer_code),
                )
            ]
            for x in t.contacts:
                if x.customer_id != c.id or x.owner_node != t.to_node:
                    raise Refused(f"transfer of customer {c.id} carries contact {x.id} of another owner")
                out.append(Claim("contact", uuid.UUID(x.id), x.owner_node, x.version, True, t.from_node))
            out.extend(f1.transfer_claims(t))  # its F1 records follow it (issue 14)
            return out
        if etype == "kam.v1.ContactChanged":
            x = ev.payload_as(customer_pb2.ContactChanged).contact
            attached = _customer(x.customer_id) if x.customer_id else ()
            return [Claim("contact", uuid.UUID(x.id), x.owner_node, x.version, attached_to=attached)]
        if etype == "kam.v1.ContactDeleted":
            d2 = ev.payload_as(customer_pb2.ContactDeleted)
            return [Claim("contact", uuid.UUID(d2.id), d2.owner_node, d2.version)]
        if etype == "kam.v1.OrganizationChanged":
            o = ev.payload_as(customer_pb2.OrganizationChanged).organization
            return [Claim("organization", uuid.UUID(o.id), o.owner_node, o.version)]
        if etype == "kam.v1.AccountManagerAssigned":
            a = ev.payload_as(customer_pb2.AccountManagerAssigned)
            table = "account_manager_assignment"
            return [Claim(table, uuid.UUID(a.id), a.owner_node, attached_to=_customer(a.customer_id))]
        if etype == "kam.v1.AuditRecorded":
            r = ev.payload_as(customer_pb2.AuditRecorded)
            return [Claim("audit", uuid.UUID(r.id), r.owner_node)]
        dataset = _DATASETS.get(etype)  # designations and merge proposals (down) and their answers (up)
        if dataset is not None:
            # the record the dataset's message names, judged by the `Screen` alone (its reasons name the
            # owner claimed against the origin's subtree)
            rid, owner, version = dataset.record(ev.payload_as(dataset.message))
            return [Claim(dataset.table.name, uuid.UUID(rid), owner, version)]
        if etype == RESYNC_REQUESTED:
            return resync_claims(ev)
        if etype == batch.IMPORTED:  # an import chunk (issue 13)
            return batch.import_claims(ev, self.topology)
        return f1.claims(ev)  # the F1 records (issue 14), or None: refused

    async def __call__(self, session: AsyncSession, events: Sequence[Event]) -> None:
        # rows with the event that carried them: an owner's snapshot replaces an equal version too
        now = datetime.now(UTC)
        customers: list[tuple[Event, tuple[Any, ...]]] = []  # batch.customer_record
        customer_deletes: list[tuple[Event, uuid.UUID, int]] = []
        contacts: list[tuple[Event, dict[str, Any]]] = []
        contact_deletes: list[tuple[Event, uuid.UUID, int]] = []
        orgs: list[tuple[Event, dict[str, Any]]] = []
        on_datasets: dict[str, list[Event]] = {}
        assignments: list[customer_pb2.AccountManagerAssigned] = []
        audits: list[dict[str, Any]] = []
        resyncs: list[Event] = []
        imports: list[Event] = []  # CustomersImported, applied set-based (replication/batch.py)
        f1_events: list[Event] = []
        for ev in newest_per_aggregate(events):
            etype = ev.event_type
            cls = _CUSTOMER_STATE_EVENTS.get(etype)
            if cls is not None:
                customers.append((ev, batch.customer_record(ev.payload_as(cls).customer, now)))
            elif etype == "kam.v1.CustomerDeleted":
                d = ev.payload_as(customer_pb2.CustomerDeleted)
                customer_deletes.append((ev, uuid.UUID(d.id), d.version))
            elif etype == "kam.v1.CustomerOwnershipTransferred":
                t = ev.payload_as(customer_pb2.CustomerOwnershipTransferred)
                if ev.subject.startswith("down.") and not self.topology.is_in_subtree(t.to_node, self.node):
                    continue  # relayed to a sibling subtree; not ours to hold
                customers.append((ev, batch.customer_record(t.customer, now)))
                contacts.extend((ev, contact_row(c)) for c in t.contacts)
                await f1.apply_transferred(session, ev, t)
                await self._relay_transfer(session, ev, t)
            elif etype == "kam.v1.ContactChanged":
                contacts.append((ev, contact_row(ev.payload_as(customer_pb2.ContactChanged).contact)))
            elif etype == "kam.v1.ContactDeleted":
                d2 = ev.payload_as(customer_pb2.ContactDeleted)
                contact_deletes.append((ev, uuid.UUID(d2.id), d2.version))
            elif etype == "kam.v1.OrganizationChanged":
                o = ev.payload_as(customer_pb2.OrganizationChanged).organization
                orgs.append(
                    (
                        ev,
                        {
                            "id": uuid.UUID(o.id),
                            "owner_node": o.owner_node,
                            "version": o.version,
                            "name": o.name,
                            "trading_name": o.trading_name or o.name,  # an older writer left it empty
                            "credit_code": o.credit_code or None,
                            "organization_type": o.organization_type or None,
                            "industry": o.industry or None,
                            "status": o.status or "validated",
                            "tmf_attributes": _attributes(o.tmf_attributes_json),
                            "deleted_at": datetime.now(UTC) if o.deleted else None,
                            "created_at": datetime.now(UTC),
                            "updated_at": datetime.now(UTC),
                        },
                    )
                )
            elif etype == "kam.v1.AccountManagerAssigned":
                assignments.append(ev.payload_as(customer_pb2.AccountManagerAssigned))
            elif etype == "kam.v1.AuditRecorded":
                a = ev.payload_as(customer_pb2.AuditRecorded)
                audits.append(
                    {
                        "id": uuid.UUID(a.id),
                        "owner_node": a.owner_node,
                        "entity_type": a.entity_type,
                        "entity_id": uuid.UUID(a.entity_id),
                        "action": a.action,
                        "actor": a.actor,
                        "at": from_ts(a.at) or datetime.now(UTC),
                        "changes": json.loads(a.changes_json or "{}"),
                        "request_id": a.request_id or None,
                        "note": None,
                    }
                )
            elif etype in _DATASETS:
                on_datasets.setdefault(etype, []).append(ev)
            elif etype == RESYNC_REQUESTED:
                resyncs.append(ev)
            elif etype == batch.IMPORTED:
                imports.append(ev)
            elif etype in f1.KINDS:
                f1_events.append(ev)
            else:
                log.debug("ignoring %s", etype)
        await upsert_newest(session, Organization, orgs)
        await batch.upsert_customers(session, customers)  # set-based: COPY + one upsert (issue 13)
        await _apply_deletes(session, Customer, customer_deletes)
        await upsert_newest(session, Contact, contacts)
        await _apply_deletes(session, Contact, contact_deletes)
        for etype, dataset_events in on_datasets.items():
            await _DATASETS[etype].apply(session, dataset_events)
        await self._apply_assignments(session, assignments)
        await batch.apply_imports(session, imports)
        await f1.apply(session, f1_events)
        if audits:
            await session.execute(insert(Audit).on_conflict_do_nothing(), audits)
        for ev in resyncs:
            await self._resync(session, ev)

    async def _apply_assignments(self, session: AsyncSession, items: list[customer_pb2.AccountManagerAssigned]) -> None:
        for a in sorted(items, key=lambda x: (x.valid_from.seconds, x.valid_from.nanos)):
            valid_from = from_ts(a.valid_from) or datetime.now(UTC)
            customer_id = uuid.UUID(a.customer_id)
            result = await session.execute(
                insert(AccountManagerAssignment).on_conflict_do_nothing().returning(text("id")),
                [
                    {
                        "id": uuid.UUID(a.id),
                        "owner_node": a.owner_node,
                        "customer_id": customer_id,
                        "account_manager": a.account_manager or None,
                        "account_manager_name": None,
                        "previous_account_manager": a.previous_account_manager or None,
                        "assigned_by": a.assigned_by,
                        "valid_from": valid_from,
                        "reason": a.reason or None,
                    }
                ],
            )
            if result.first() is not None:
                await session.execute(
                    text(
                        "UPDATE customer.account_manager_assignment SET valid_to = :t WHERE customer_id = :c "
                        "AND valid_to IS NULL AND valid_from < :t"
                    ),
                    {"t": valid_from, "c": customer_id},
                )
                # assignments are aggregates of their own, so a later one may have arrived first: then
                # this one ended when the next one began, as at the owner
                await session.execute(
                    text(
                        "UPDATE customer.account_manager_assignment SET valid_to = ("
                        "SELECT min(n.valid_from) FROM customer.account_manager_assignment n "
                        "WHERE n.customer_id = :c AND n.valid_from > :t) "
                        "WHERE id = :i AND EXISTS (SELECT 1 FROM customer.account_manager_assignment n "
                        "WHERE n.customer_id = :c AND n.valid_from > :t)"
                    ),
                    {"t": valid_from, "c": customer_id, "i": uuid.UUID(a.id)},
                )

    async def _relay_transfer(
        self, session: AsyncSession, ev: Event, t: customer_pb2.CustomerOwnershipTransferred
    ) -> None:
        """At the lowest common ancestor of the old and new owner, send the transfer down the new
        owner's branch (upward flow alone never reaches a node outside the old owner's ancestry)."""
        topo, me = self.topology, self.node
        if not ev.subject.startswith("up.") or t.to_node == me:
            return
        if not (topo.is_in_subtree(t.to_node, me) and topo.is_in_subtree(t.from_node, me)):
            return
        if topo.is_in_subtree(t.from_node, t.to_node):
            return  # the new owner is an ancestor of the old one: it gets the event by upward flow
        if any(topo.is_in_subtree(t.from_node, c) and topo.is_in_subtree(t.to_node, c) for c in topo.children(me)):
            return  # a lower common ancestor relays
        await snapshot.relay_down(session, self.settings, ev.envelope, t)

    async def _resync(self, session: AsyncSession, ev: Event) -> None:
        await answer_resync(
            session,
            self.settings,
            ev,
            own=lambda s, owners, restore: snapshot.republish_own(s, self.settings, owners, restore),
            reference=lambda s: snapshot.republish_reference(s, self.settings),
        )
