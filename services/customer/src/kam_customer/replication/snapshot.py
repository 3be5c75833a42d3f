"""Snapshots (resync) and relays of the customer service, on the platform's `kam_platform.snapshot`:

- `republish_own`: this node's own records go up again (``up.<node>…``, ``snapshot=true``) — or, for a
  restored child, this node's replicas of the child's subtree's records go down to it as restore copies;
- `republish_reference`: the reference data this node publishes down (designations) goes down again;
- `relay_down`: a lowest common ancestor forwards an ownership transfer down the new owner's branch.
Rows are written to the outbox in bulk, in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.contact.service import contact_state
from kam_customer.customer.events import SERVICE, customer_state
from kam_customer.designation.events import DESIGNATIONS, RESPONSES
from kam_customer.merge_proposal.events import PROPOSAL_RESPONSES, PROPOSALS
from kam_customer.models import SCHEMA, Contact, Customer, Organization
from kam_customer.organization.service import organization_state
from kam_platform.dataset import Dataset
from kam_platform.outbox import write_rows
from kam_platform.settings import Settings
from kam_platform.snapshot import Republish, event_row, republish

from . import attached as f1


async def republish_own(
    session: AsyncSession, settings: Settings, owners: Sequence[str] | None = None, restore: bool = False
) -> int:
    """The records `owners` own (default: this node), up as snapshots — or, with `restore`, down to a
    restored child as restore copies (this node's replicas of the child's subtree)."""
    who = list(owners) if owners is not None else [settings.node]
    items = [
        Republish(
            "organization",
            Organization,
            (Organization.owner_node.in_(who),),
            state=lambda o: customer_pb2.OrganizationChanged(organization=organization_state(o)),
        ),
        Republish(
            "customer",
            Customer,
            (Customer.owner_node.in_(who), Customer.deleted_at.is_(None)),
            state=lambda c: customer_pb2.CustomerUpdated(customer=customer_state(c)),
        ),
        Republish(
            "customer",
            Customer,
            (Customer.owner_node.in_(who), Customer.deleted_at.is_not(None)),
            state=lambda c: customer_pb2.CustomerDeleted(
                id=str(c.id), owner_node=c.owner_node, version=c.version, customer_code=c.customer_code
            ),
        ),
        Republish(
            "contact",
            Contact,
            (Contact.owner_node.in_(who), Contact.deleted_at.is_(None)),
            state=lambda c: customer_pb2.ContactChanged(contact=contact_state(c)),
        ),
    ]
    count = await republish(session, schema=SCHEMA, service=SERVICE, settings=settings, items=items, restore=restore)
    # the records on the platform dataset: designation answers and the F1 records (issue 14)
    answers: list[Dataset[Any]] = [RESPONSES, PROPOSAL_RESPONSES]
    for dataset in (*answers, *(kind.dataset for kind in f1.KINDS.values())):
        if restore:
            count += await dataset.republish_restore(session, settings, owners=who)
        else:
            count += await dataset.republish(session, settings, down=False)
    return count


async def republish_reference(session: AsyncSession, settings: Settings) -> int:
    """The designations this node owns (the group's), down to the federation (`DESIGNATIONS`), and a
    province's verdicts on its local networks' customers (F1 省级核实, issue 14) down to them."""
    count = await DESIGNATIONS.republish(session, settings, down=True)
    count += await PROPOSALS.republish(session, settings, down=True)  # a proposer's merge proposals
    for kind in f1.DOWNWARD:
        count += await kind.dataset.republish(session, settings, down=True)
    return count


async def relay_down(
    session: AsyncSession,
    settings: Settings,
    env: envelope_pb2.Envelope,
    transfer: customer_pb2.CustomerOwnershipTransferred,
) -> None:
    row = event_row(
        settings,
        service=SERVICE,
        aggregate_type="customer",
        aggregate_id=uuid.UUID(env.aggregate_id),
        version=env.version,
        message=transfer,
        down=True,
        actor=env.actor,
        snapshot=False,
    )
    await write_rows(session, schema=SCHEMA, rows=[row])
