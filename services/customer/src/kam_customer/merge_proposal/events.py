"""Merge proposals and their answers as platform datasets (like designations, `designation/events.py`):
the proposal is the proposing ancestor's directive and flows **down** its subtree (never up); an answer
is owned by the answering owner node and flows **up** to its ancestors, the proposer among them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts import customer_pb2
from kam_customer.customer.events import SERVICE
from kam_customer.models import SCHEMA
from kam_platform.dataset import Dataset
from kam_platform.outbox import from_ts, ts

from .models import MergeProposal, MergeProposalResponse


def proposal_changed(p: MergeProposal) -> customer_pb2.MergeProposalChanged:
    return customer_pb2.MergeProposalChanged(
        proposal=customer_pb2.MergeProposalState(
            id=str(p.id),
            owner_node=p.owner_node,
            version=p.version,
            survivor_id=str(p.survivor_id),
            victim_ids=[str(v) for v in p.victim_ids],
            choices_json=json.dumps(p.choices, ensure_ascii=False, sort_keys=True),
            owners_json=json.dumps(p.owners, sort_keys=True),
            status=p.status,
            reason=p.reason or "",
            proposed_by=p.proposed_by,
            updated_at=ts(p.updated_at),
        )
    )


def response_changed(r: MergeProposalResponse) -> customer_pb2.MergeProposalResponseChanged:
    return customer_pb2.MergeProposalResponseChanged(
        response=customer_pb2.MergeProposalResponseState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            proposal_id=str(r.proposal_id),
            status=r.status,
            reason=r.reason or "",
            merge_id=str(r.merge_id) if r.merge_id else "",
            responded_by=r.responded_by,
            updated_at=ts(r.updated_at),
        )
    )


def proposal_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, customer_pb2.MergeProposalChanged)
    p = msg.proposal
    at = from_ts(p.updated_at) or datetime.now(UTC)
    owners: dict[str, str] = json.loads(p.owners_json) if p.owners_json else {}
    return {
        "id": uuid.UUID(p.id),
        "owner_node": p.owner_node,
        "version": p.version,
        "survivor_id": uuid.UUID(p.survivor_id),
        "victim_ids": [uuid.UUID(v) for v in p.victim_ids],
        "choices": json.loads(p.choices_json) if p.choices_json else {},
        "owners": owners,
        "side_nodes": sorted(set(owners.values())),
        "status": p.status,
        "reason": p.reason or None,
        "proposed_by": p.proposed_by,
        "created_at": at,
        "updated_at": at,
    }


def response_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, customer_pb2.MergeProposalResponseChanged)
    r = msg.response
    at = from_ts(r.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(r.id),
        "owner_node": r.owner_node,
        "version": r.version,
        "proposal_id": uuid.UUID(r.proposal_id),
        "status": r.status,
        "reason": r.reason or None,
        "merge_id": uuid.UUID(r.merge_id) if r.merge_id else None,
        "responded_by": r.responded_by,
        "created_at": at,
        "updated_at": at,
    }


PROPOSALS: Dataset[MergeProposal] = Dataset(
    name="merge_proposal",
    service=SERVICE,
    schema=SCHEMA,
    model=MergeProposal,
    message=customer_pb2.MergeProposalChanged,
    to_message=proposal_changed,
    to_row=proposal_row,
    upward=False,  # the proposer's directive: down to its subtree, nowhere up
)

PROPOSAL_RESPONSES: Dataset[MergeProposalResponse] = Dataset(
    name="merge_proposal_response",
    service=SERVICE,
    schema=SCHEMA,
    model=MergeProposalResponse,
    message=customer_pb2.MergeProposalResponseChanged,
    to_message=response_changed,
    to_row=response_row,
)
