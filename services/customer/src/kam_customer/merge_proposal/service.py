"""Merge across owner nodes (跨节点合并): a common ancestor of every owner proposes the merge as its own
directive record, which flows down; each owner answers its side, and the answer flows up. One writer
per record throughout:

- a victim's owner that accepts hands its victims to the survivor's owner by an ownership transfer (the
  lowest common ancestor relays it down there, as every transfer between branches);
- the survivor's owner accepts last: once every victim is held and owned there, its acceptance runs the
  local merge (`kam_customer.merge.service.merge`) with the proposal's choices, and the merge record,
  the victims' redirects and the moved records replicate up as any merge's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer import attached
from kam_customer.customer import events as customer_events
from kam_customer.customer import service as customer_service
from kam_customer.customer.repository import CustomerRepository
from kam_customer.designation.events import change_of
from kam_customer.merge import service as merge_service
from kam_customer.merge.repository import MergeRepository
from kam_customer.merge.schemas import MergeCreate
from kam_customer.models import Customer
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery, Total

from .events import PROPOSAL_RESPONSES, PROPOSALS
from .models import MergeProposal, MergeProposalResponse
from .repository import ProposalRepository
from .schemas import ProposalAnswer

AGGREGATE = "merge_proposal"
PROPOSED, WITHDRAWN = "PROPOSED", "WITHDRAWN"
ACCEPTED, REJECTED = "ACCEPTED", "REJECTED"
RESPONSE_NAMESPACE = uuid.UUID("0b6f4f3e-2c1d-4b8a-9e57-5a0d8c3f1e72")


def state_of(p: MergeProposal, responses: Sequence[MergeProposalResponse]) -> str:
    """Where a proposal stands from the answers held here."""
    if p.status == WITHDRAWN:
        return WITHDRAWN
    if any(r.status == REJECTED for r in responses):
        return REJECTED
    if any(r.merge_id is not None for r in responses):
        return "MERGED"
    return "PENDING"


def _owned_above(settings: Settings, principal: Principal, cid: uuid.UUID, held: Customer | None) -> None:
    """409 for a customer held here whose owner is above this node (an ancestor's record, which every
    node below may name): this node is not an ancestor of every owner."""
    if held is None:
        return
    topology = settings.topology
    if not topology.is_in_subtree(held.owner_node, settings.node) and held.owner_node in topology.ancestors(
        principal.scope_node
    ):
        raise Conflict(
            f"customer {cid} is owned by {held.owner_node}, above {settings.node}: a merge across owners is "
            f"proposed at a common ancestor of every owner, here {settings.node} is not one",
            details={"ownerNode": held.owner_node},
        )


async def propose(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: MergeCreate
) -> MergeProposal:
    principal.require(merge_service.PERMISSION)
    survivor_id, victim_ids = merge_service.parse_request(data)
    ids = [survivor_id, *victim_ids]
    merges = MergeRepository.from_session(session)
    owners: dict[str, str] = {}
    held = await CustomerRepository.from_session(session).get_many(ids)  # one read for the owner checks
    for cid in ids:
        _owned_above(settings, principal, cid, held.get(cid))
        into = await merges.survivor_of(cid)
        if into is not None:
            raise Conflict(f"customer {cid} is already merged into {into}", details={"mergedInto": str(into)})
        c = await attached.visible_customer(session, settings=settings, principal=principal, customer_id=cid)
        owners[str(cid)] = c.owner_node
    if set(owners.values()) == {settings.node}:
        raise Conflict(
            f"every customer of this merge is owned by {settings.node}: merge them here "
            "(POST /api/v1/customer/merges), no proposal is needed"
        )
    # one proposal at a time per customer at this node: two concurrent proposals naming the same
    # customer queue here, and the second sees the first as pending
    for key in sorted(map(str, ids)):
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"merge-proposal:{key}"})
    repo = ProposalRepository.from_session(session)
    pending = await repo.proposed_naming(ids)
    responses = await repo.responses_for([p.id for p in pending])
    for p in pending:
        if state_of(p, responses[p.id]) == "PENDING":
            named = sorted({str(p.survivor_id), *map(str, p.victim_ids)} & set(owners))
            raise Conflict(
                f"customer {named[0]} is already in the pending merge proposal {p.id}",
                details={"proposal": str(p.id)},
            )
    now = datetime.now(UTC)
    p = MergeProposal(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        survivor_id=survivor_id,
        victim_ids=victim_ids,
        choices={key: str(uuid.UUID(chosen)) for key, chosen in data.choices.items()},
        owners=owners,
        side_nodes=sorted(set(owners.values())),
        status=PROPOSED,
        reason=data.reason,
        proposed_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    session.add(p)
    await customer_events.record_change(
        session,
        p,
        created=True,
        at=now,
        actor=principal.username,
        action="propose",
        changes={"survivor": [None, str(survivor_id)], "victims": [None, [str(v) for v in victim_ids]]},
        note=data.reason,
        **change_of(PROPOSALS, settings),
    )
    for cid in ids:
        await customer_events.audit(
            session,
            node=settings.node,
            entity_type="customer",
            entity_id=cid,
            action="propose_merge",
            actor=principal.username,
            changes={"mergeProposal": [None, str(p.id)]},
            note=data.reason,
        )
    return p


async def get(
    session: AsyncSession, *, settings: Settings, principal: Principal, proposal_id: uuid.UUID
) -> MergeProposal:
    p = await ProposalRepository.from_session(session).get_visible(proposal_id, principal, settings.topology)
    if p is None:
        raise NotFound(f"merge proposal {proposal_id} not found")
    return p


async def list_proposals(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[MergeProposal], Total]:
    return await ProposalRepository.from_session(session).page(principal, settings.topology, lq)


async def responses_for(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[MergeProposalResponse]]:
    return await ProposalRepository.from_session(session).responses_for(ids)


async def _locked(
    session: AsyncSession, settings: Settings, principal: Principal, proposal_id: uuid.UUID
) -> MergeProposal:
    await get(session, settings=settings, principal=principal, proposal_id=proposal_id)
    p = await ProposalRepository.from_session(session).for_update(proposal_id)
    if p is None:
        raise NotFound(f"merge proposal {proposal_id} not found")
    return p


async def _waiting_for(session: AsyncSession, settings: Settings, p: MergeProposal) -> dict[str, str]:
    """The victims not (yet) held, live and owned here, by the owner that still has to hand them over."""
    held = await CustomerRepository.from_session(session).get_many(p.victim_ids)
    out: dict[str, str] = {}
    for v in p.victim_ids:
        c = held.get(v)
        if c is None or c.deleted_at is not None or c.owner_node != settings.node:
            out[str(v)] = c.owner_node if c is not None and c.owner_node != settings.node else p.owners[str(v)]
    return out


async def respond(
    session: AsyncSession, *, settings: Settings, principal: Principal, proposal_id: uuid.UUID, data: ProposalAnswer
) -> MergeProposal:
    """This node's answer to its side. A victim owner's ACCEPTED transfers its victims to the survivor's
    owner; the survivor owner's ACCEPTED (once every victim has reached it) merges. A side answers once."""
    principal.require(merge_service.PERMISSION)
    # the proposal's lock serialises this node's answers to it
    p = await _locked(session, settings, principal, proposal_id)
    me = settings.node
    if p.status != PROPOSED:
        raise InvalidTransition(
            f"merge proposal {p.id} is {p.status}",
            details={"field": "status", "from": p.status, "to": data.status, "allowed": []},
        )
    mine = [uuid.UUID(cid) for cid, owner in p.owners.items() if owner == me]
    if not mine:
        raise Conflict(
            f"{me} owns no customer of merge proposal {p.id}: its sides are answered at {', '.join(p.side_nodes)}",
            details={"sideNodes": p.side_nodes},
        )
    rid = uuid.uuid5(RESPONSE_NAMESPACE, f"{p.id}:{me}")
    repo = ProposalRepository.from_session(session)
    earlier = await repo.response_for_update(rid)
    if earlier is not None:
        raise InvalidTransition(
            f"{me} has already answered merge proposal {p.id}: {earlier.status}",
            details={"field": "status", "from": earlier.status, "to": data.status, "allowed": []},
        )
    if data.status == REJECTED and not data.reason:
        raise ValidationFailed("reason is required to reject a merge proposal", field="reason")
    merge_id: uuid.UUID | None = None
    survivor_owner = p.owners[str(p.survivor_id)]
    note = f"merge proposal {p.id}"
    if data.status == REJECTED and me == survivor_owner:
        waiting = await _waiting_for(session, settings, p)
        handed = sorted(str(v) for v in p.victim_ids if p.owners[str(v)] != me and str(v) not in waiting)
        if handed:
            # a rejection now would strand them here, owned away from their province
            raise Conflict(
                f"the victims {', '.join(handed)} have already been handed over to {me} for this merge: "
                "accept it to merge them, or transfer them back to their owners before rejecting",
                details={"handedOver": handed},
            )
    if data.status == ACCEPTED and me != survivor_owner:
        merges = MergeRepository.from_session(session)
        for cid in mine:
            into = await merges.survivor_of(cid)
            if into is not None:
                raise Conflict(f"customer {cid} is already merged into {into}", details={"mergedInto": str(into)})
            await customer_service.transfer(
                session,
                settings=settings,
                principal=principal,
                customer_id=cid,
                to_node=survivor_owner,
                reason=note,
                across_provinces=True,
            )
    elif data.status == ACCEPTED:
        waiting = await _waiting_for(session, settings, p)
        if waiting:
            raise Conflict(
                f"the victims {', '.join(sorted(waiting))} have not reached {me} yet: their owners "
                f"({', '.join(sorted(set(waiting.values())))}) accept first, which hands them over to {me}",
                details={"waitingFor": waiting},
            )
        survivor = (await CustomerRepository.from_session(session).get_many([p.survivor_id])).get(p.survivor_id)
        if survivor is not None and survivor.owner_node != me:
            raise NotOwner("customer", str(p.survivor_id), survivor.owner_node)
        m = await merge_service.merge(
            session,
            settings=settings,
            principal=principal,
            data=MergeCreate(
                survivor_id=str(p.survivor_id),
                victim_ids=[str(v) for v in p.victim_ids],
                choices=dict(p.choices),
                reason=p.reason or note,
            ),
        )
        merge_id = m.id
    now = datetime.now(UTC)
    r = MergeProposalResponse(
        id=rid,
        owner_node=me,
        version=1,
        proposal_id=p.id,
        status=data.status,
        reason=data.reason,
        merge_id=merge_id,
        responded_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    session.add(r)
    await customer_events.record_change(
        session,
        r,
        created=True,
        at=now,
        actor=principal.username,
        action="respond",
        changes={"status": [None, r.status], **({"mergeId": [None, str(merge_id)]} if merge_id else {})},
        note=data.reason,
        **change_of(PROPOSAL_RESPONSES, settings),
    )
    return p


async def withdraw(
    session: AsyncSession, *, settings: Settings, principal: Principal, proposal_id: uuid.UUID, reason: str | None
) -> MergeProposal:
    """The proposer takes back a proposal (at its owner). Victims already handed over stay with the
    survivor's owner (their transfer is a write of their own, not undone here)."""
    principal.require(merge_service.PERMISSION)
    p = await _locked(session, settings, principal, proposal_id)
    if p.owner_node != settings.node:
        raise NotOwner(AGGREGATE, str(p.id), p.owner_node)
    answers = (await responses_for(session, [p.id]))[p.id]
    state = state_of(p, answers)
    if state != "PENDING":
        raise InvalidTransition(
            f"merge proposal {p.id} is {state}",
            details={"field": "status", "from": state, "to": WITHDRAWN, "allowed": []},
        )
    accepted = sorted(r.owner_node for r in answers if r.status == ACCEPTED)
    if accepted:
        # their acceptance handed their victims to the survivor's owner: withdrawing would strand them
        raise Conflict(
            f"merge proposal {p.id} has been accepted by {', '.join(accepted)}, whose customers are handed over "
            "to the survivor's owner: only that owner's answer ends it now",
            details={"acceptedBy": accepted},
        )
    p.status = WITHDRAWN
    await customer_events.record_change(
        session,
        p,
        actor=principal.username,
        action="withdraw",
        changes={"status": [PROPOSED, WITHDRAWN]},
        note=reason,
        **change_of(PROPOSALS, settings),
    )
    return p
