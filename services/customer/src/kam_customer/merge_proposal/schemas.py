"""API models of merge proposals across owner nodes (the request body of a proposal is the merge's,
`kam_customer.merge.schemas.MergeCreate`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_customer.customer.schemas import ApiModel
from kam_platform.api import ReadModel


class ProposalAnswer(ApiModel):
    """This owner's answer to its side: ACCEPTED, or REJECTED with a reason."""

    status: Literal["ACCEPTED", "REJECTED"]
    reason: Annotated[str | None, Field(max_length=500)] = None


class ProposalSideRead(ReadModel):
    """One owner's side of a proposal: the customers it owns in it and its answer (PENDING until it
    answers)."""

    node: str
    customer_ids: list[str]
    holds_survivor: bool
    status: Literal["PENDING", "ACCEPTED", "REJECTED"]
    reason: str | None
    merge_id: str | None  # the survivor's owner: the merge it carried out
    responded_by: str | None
    updated_at: datetime | None


class MergeProposalRead(ReadModel):
    """A merge across owner nodes proposed by a common ancestor. `status` is the proposer's record
    (PROPOSED); `state` is where it stands from the answers this node holds: PENDING, REJECTED (a side
    refused) or MERGED (the survivor's owner merged, `mergeId`)."""

    id: str
    href: str
    type_: Annotated[Literal["CustomerMergeProposal"], Field(alias="@type")] = "CustomerMergeProposal"
    survivor_id: str
    victim_ids: list[str]
    choices: dict[str, str]
    owners: dict[str, str]  # customer id → its owner when proposed
    reason: str | None
    status: Literal["PROPOSED", "WITHDRAWN"]
    state: Literal["PENDING", "REJECTED", "MERGED", "WITHDRAWN"]
    merge_id: str | None
    sides: list[ProposalSideRead]
    proposed_by: str
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime
