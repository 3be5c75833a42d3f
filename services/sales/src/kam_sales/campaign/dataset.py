"""Campaigns on the wire. A campaign and its target lists are reference data of the node that authored
the campaign: they flow down its subtree (and up) once launched — each node keeping only the lists of
its own part of the tree; the work on a target (contact attempts, the response) is owned where the
customer is and flows up, so the author (and every node between) evaluates the campaign."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts.gen.kam.v1 import sales_pb2
from kam_platform.dataset import Dataset, UpwardRecords
from kam_platform.outbox import from_ts, ts
from kam_platform.replication import Event
from kam_platform.settings import Settings
from kam_sales.models import SCHEMA, Campaign, CampaignResponse, CampaignTargetList


def _ts(v: datetime | None) -> Any:
    return ts(v) if v else None


def campaign_message(r: Campaign) -> sales_pb2.CampaignChanged:
    return sales_pb2.CampaignChanged(
        campaign=sales_pb2.CampaignState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            name=r.name,
            objective=r.objective,
            segment_json=json.dumps(r.segment, ensure_ascii=False),
            offers_json=json.dumps(r.offers, ensure_ascii=False),
            channel=r.channel,
            budget=str(r.budget),
            currency=r.currency,
            start_date=r.valid_from.isoformat(),
            end_date=r.valid_to.isoformat() if r.valid_to else "",
            status=r.status,
            approved_by=r.approved_by or "",
            approved_at=_ts(r.approved_at),
            launched_at=_ts(r.launched_at),
            closed_at=_ts(r.closed_at),
            created_by=r.created_by,
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
        )
    )


def campaign_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.CampaignChanged)
    s = msg.campaign
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "name": s.name,
        "objective": s.objective,
        "segment": json.loads(s.segment_json or "{}"),
        "offers": json.loads(s.offers_json or "[]"),
        "channel": s.channel,
        "budget": Decimal(s.budget or "0"),
        "currency": s.currency,
        "valid_from": date.fromisoformat(s.start_date),
        "valid_to": date.fromisoformat(s.end_date) if s.end_date else None,
        "status": s.status,
        "approved_by": s.approved_by or None,
        "approved_at": from_ts(s.approved_at),
        "launched_at": from_ts(s.launched_at),
        "closed_at": from_ts(s.closed_at),
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
    }


CAMPAIGNS: Dataset[Campaign] = Dataset(
    name="campaign",
    service="sales",
    schema=SCHEMA,
    model=Campaign,
    message=sales_pb2.CampaignChanged,
    to_message=campaign_message,
    to_row=campaign_row,
    # drafts and approved campaigns stay at the author; a launched one flows with its target lists
    publishable=lambda r: r.status in ("running", "closed"),
)


def list_message(r: CampaignTargetList) -> sales_pb2.CampaignTargetListChanged:
    return sales_pb2.CampaignTargetListChanged(
        target_list=sales_pb2.CampaignTargetListState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            campaign_id=str(r.campaign_id),
            scope_node=r.scope_node,
            start_date=r.valid_from.isoformat(),
            end_date=r.valid_to.isoformat() if r.valid_to else "",
            targets_json=json.dumps(r.targets, ensure_ascii=False),
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
        )
    )


def list_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.CampaignTargetListChanged)
    s = msg.target_list
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "campaign_id": uuid.UUID(s.campaign_id),
        "scope_node": s.scope_node,
        "valid_from": date.fromisoformat(s.start_date),
        "valid_to": date.fromisoformat(s.end_date) if s.end_date else None,
        "targets": json.loads(s.targets_json or "[]"),
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
    }


@dataclass(frozen=True)
class TargetLists(Dataset[CampaignTargetList]):
    """The target lists: published like any downward dataset (the root can publish only to `all`), but
    a node keeps a list only when it is part of the list's subtree or above it (`keep`, bound to the
    node by `for_node`), so Jiangsu never stores Guangdong's targets."""

    keep: Callable[[str, str], bool] | None = None  # (scope node, owner node) → keep here

    def for_node(self, settings: Settings) -> TargetLists:
        topo, node = settings.topology, settings.node

        def keep(scope: str, owner: str) -> bool:
            if topo.is_in_subtree(scope, node):  # at or above the list's part: evaluating
                return True
            # within the part: working it (a list of the author's own customers stays there)
            return scope != owner and topo.is_in_subtree(node, scope)

        return replace(self, keep=keep)

    async def apply(self, session: AsyncSession, events: Sequence[Event]) -> list[dict[str, Any]]:
        if self.keep is not None:
            keep = self.keep
            kept = []
            for ev in events:
                s = ev.payload_as(sales_pb2.CampaignTargetListChanged).target_list
                if keep(s.scope_node, s.owner_node):
                    kept.append(ev)
            events = kept
        return await super().apply(session, events)


TARGET_LISTS = TargetLists(
    name="campaign_target_list",
    service="sales",
    schema=SCHEMA,
    model=CampaignTargetList,
    message=sales_pb2.CampaignTargetListChanged,
    to_message=list_message,
    to_row=list_row,
)


def response_message(r: CampaignResponse) -> sales_pb2.CampaignResponseChanged:
    return sales_pb2.CampaignResponseChanged(
        campaign_response=sales_pb2.CampaignResponseState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            campaign_id=str(r.campaign_id),
            customer_id=str(r.customer_id),
            attempts_json=json.dumps(r.attempts, ensure_ascii=False),
            response=r.response,
            responded_at=_ts(r.responded_at),
            opportunity_id=str(r.opportunity_id) if r.opportunity_id else "",
            account_manager=r.account_manager,
            created_by=r.created_by,
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
        )
    )


def response_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.CampaignResponseChanged)
    s = msg.campaign_response
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "campaign_id": uuid.UUID(s.campaign_id),
        "customer_id": uuid.UUID(s.customer_id),
        "attempts": json.loads(s.attempts_json or "[]"),
        "response": s.response,
        "responded_at": from_ts(s.responded_at),
        "opportunity_id": uuid.UUID(s.opportunity_id) if s.opportunity_id else None,
        "account_manager": s.account_manager,
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
    }


RESPONSES: UpwardRecords[CampaignResponse] = UpwardRecords(
    name="campaign_response",
    service="sales",
    schema=SCHEMA,
    model=CampaignResponse,
    message=sales_pb2.CampaignResponseChanged,
    to_message=response_message,
    to_row=response_row,
)
