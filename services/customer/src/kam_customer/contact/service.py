"""Contact rules: a contact belongs to one key account and is written at that account's owner node;
phone and ID numbers are PII, masked for callers without `customer.pii:read`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.customer import events
from kam_customer.customer.repository import CustomerRepository
from kam_customer.customer.schemas import Ref, merge_stored
from kam_customer.models import Contact
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.outbox import ts
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery

from .repository import ContactRepository
from .schemas import PHONE_TYPES, ContactCreate, ContactFields, ContactUpdate

PII_PERMISSION = "customer.pii:read"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id(number: str | None) -> str | None:
    if not number:
        return number
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def snapshot(c: Contact) -> dict[str, Any]:
    return {
        "givenName": c.given_name,
        "familyName": c.family_name,
        "fullName": c.full_name,
        "title": c.title,
        "department": c.department,
        "decisionRole": c.decision_role,
        "preferredContactMedium": c.preferred_medium,
        "phone": mask_phone(c.phone),
        "email": c.email,
        "idNumber": mask_id(c.id_number),
        "birthDate": c.birth_date,
        "isPrimary": c.is_primary,
        "customer": str(c.customer_id) if c.customer_id else None,
        # the standard TMF attributes kept as given, by name; contactMedium masked like phone
        **{k: (mask_media(v) if k == "contactMedium" else v) for k, v in sorted((c.tmf_attributes or {}).items())},
    }


def mask_media(media: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """contactMedium with its phone and fax numbers masked (PII)."""
    out = []
    for m in media:
        ch = dict(m.get("characteristic") or {})
        for key in ("phoneNumber", "faxNumber"):
            if ch.get(key):
                ch[key] = mask_phone(ch[key])
        out.append({**m, "characteristic": ch} if "characteristic" in m else m)
    return out


def contact_state(c: Contact) -> customer_pb2.ContactState:
    return customer_pb2.ContactState(
        id=str(c.id),
        owner_node=c.owner_node,
        version=c.version,
        customer_id=str(c.customer_id) if c.customer_id else "",
        given_name=c.given_name or "",
        family_name=c.family_name or "",
        full_name=c.full_name,
        title=c.title or "",
        department=c.department or "",
        decision_role=c.decision_role or "",
        preferred_medium=c.preferred_medium or "",
        phone=c.phone or "",
        email=c.email or "",
        id_number=c.id_number or "",
        birth_date=c.birth_date.isoformat() if c.birth_date else "",
        is_primary=c.is_primary,
        created_at=ts(c.created_at),
        updated_at=ts(c.updated_at),
        tmf_attributes_json=events.tmf_json(getattr(c, "tmf_attributes", None)),
    )


def _apply(c: Contact, data: ContactFields, present: set[str]) -> None:
    plain = {"title": "title", "department": "department", "birthDate": "birth_date", "fullName": "full_name"}
    for key, attr in plain.items():
        if key in present:
            setattr(c, attr, getattr(data, attr))
    if "decisionRole" in present:
        c.decision_role = data.decision_role.value if data.decision_role else None
    if "preferredContactMedium" in present:
        c.preferred_medium = data.preferred_contact_medium
    if "isPrimary" in present:
        c.is_primary = bool(data.is_primary)
    if "contactMedium" in present:
        # kept as given (below); its first phone number and e-mail address are the contact's own
        c.phone = c.email = None
        for m in data.contact_medium or []:
            phone = m.characteristic.phone_number if m.characteristic else None
            email = m.characteristic.email_address if m.characteristic else None
            if m.medium_type in PHONE_TYPES and not phone:
                raise ValidationFailed(
                    "contactMedium: a phone medium needs characteristic.phoneNumber", field="contactMedium"
                )
            if m.medium_type == "email" and not email:
                raise ValidationFailed(
                    "contactMedium: an email medium needs characteristic.emailAddress", field="contactMedium"
                )
            c.phone = c.phone or phone
            c.email = c.email or email
    kept = data.stored()
    if kept:
        c.tmf_attributes = merge_stored(c.tmf_attributes, kept)
    if "individualIdentification" in present:
        ids = data.individual_identification or []
        c.id_number = ids[0].identification_id if ids else None


async def _one_primary(session: AsyncSession, c: Contact) -> None:
    """A customer has one primary contact (主联系人): a second one is refused (409, naming the current
    one) — the caller unsets it first. Checked under the customer's row lock, which every writer of its
    contacts takes, so two requests cannot both make a primary."""
    if not c.is_primary or c.customer_id is None:
        return
    await CustomerRepository.from_session(session).get_for_update(c.customer_id)
    other = await ContactRepository.from_session(session).other_primary(c.customer_id, c.id)
    if other is not None:
        raise Conflict(
            f"isPrimary: customer {c.customer_id} already has a primary contact, {other.full_name} ({other.id}); "
            "unset it first",
            details={"field": "isPrimary", "primaryContact": str(other.id)},
        )


async def _record(
    session: AsyncSession, c: Contact, actor: str, action: str, changes: dict[str, Any], *, created: bool = False
) -> None:
    await events.record_change(
        session,
        c,
        created=created,
        aggregate_type="contact",
        event=lambda row: customer_pb2.ContactChanged(contact=contact_state(row)),
        actor=actor,
        action=action,
        changes=changes,
    )


async def _customer_of(session: AsyncSession, settings: Settings, principal: Principal, ref: Ref) -> uuid.UUID:
    """The key account a contact is written for: visible to the caller, and owned here."""
    try:
        customer_id = uuid.UUID(str(ref.id))
    except ValueError:
        raise ValidationFailed(f"customer.id: {ref.id!r} is not a valid id", field="customer.id") from None
    # the customer's lock, so a contact cannot be added while a concurrent transfer moves the customer
    # (the transfer carries the contacts it finds; one inserted beside it would keep the old owner)
    customer = await CustomerRepository.from_session(session).get_for_update(customer_id)
    if (
        customer is None
        or not settings.topology.is_in_subtree(customer.owner_node, principal.scope_node)
        or not principal.sees_portfolio_of(customer.account_manager)
    ):
        raise ValidationFailed(f"customer.id: customer {customer_id} not found", field="customer.id")
    if customer.owner_node != settings.node:
        raise NotOwner("customer", str(customer_id), customer.owner_node)
    return customer_id


async def create(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: ContactCreate, present: set[str]
) -> Contact:
    """A contact of a key account (`customer`), or, as TMF632 allows, of none yet: then owned by this node."""
    customer_id = await _customer_of(session, settings, principal, data.customer) if data.customer else None
    now = datetime.now(UTC)
    c = Contact(
        id=uuid7(),
        owner_node=settings.node,  # the customer's owner, checked above
        version=1,
        customer_id=customer_id,
        given_name=data.given_name,
        family_name=data.family_name,
        full_name=data.full_name or f"{data.family_name}{data.given_name}",
        is_primary=False,
        created_at=now,
        updated_at=now,
    )
    _apply(c, data, present - {"fullName"} if not data.full_name else present)
    await _one_primary(session, c)
    session.add(c)
    await _record(session, c, principal.username, "create", diff({}, snapshot(c)), created=True)
    return c


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, contact_id: uuid.UUID
) -> Contact:
    c = await ContactRepository.from_session(session).get_visible(contact_id, principal, settings.topology)
    if c is None:
        raise NotFound(f"individual {contact_id} not found")
    return c


async def list_contacts(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Contact], int]:
    return await ContactRepository.from_session(session).page(principal, settings.topology, lq)


async def _lock_owned(
    session: AsyncSession, settings: Settings, principal: Principal, contact_id: uuid.UUID
) -> Contact:
    # lock first, then judge scope and ownership on the committed row (see customer._lock_owned)
    repo = ContactRepository.from_session(session)
    c = await repo.get_for_update(contact_id)
    if c is None or not settings.topology.is_in_subtree(c.owner_node, principal.scope_node):
        raise NotFound(f"individual {contact_id} not found")
    if principal.by_portfolio and await repo.get_visible(contact_id, principal, settings.topology) is None:
        raise NotFound(f"individual {contact_id} not found")
    if c.owner_node != settings.node:
        raise NotOwner("individual", str(contact_id), c.owner_node)
    return c


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    contact_id: uuid.UUID,
    patch: ContactUpdate,
    present: set[str],
) -> Contact:
    for key in ("givenName", "familyName"):
        if key in present and getattr(patch, "given_name" if key == "givenName" else "family_name") is None:
            raise ValidationFailed(f"{key} is mandatory and cannot be removed (null)", field=key)
    if "isPrimary" in present and patch.is_primary:
        # the customer's lock before the contact's, in the order a transfer or a merge takes them
        found = await session.get(Contact, contact_id)
        if found is not None and found.customer_id is not None:
            await CustomerRepository.from_session(session).get_for_update(found.customer_id)
    c = await _lock_owned(session, settings, principal, contact_id)
    before = snapshot(c)
    if "givenName" in present and patch.given_name:
        c.given_name = patch.given_name
    if "familyName" in present and patch.family_name:
        c.family_name = patch.family_name
    _apply(c, patch, present)
    if not before.get("isPrimary"):
        await _one_primary(session, c)
    changes = diff(before, snapshot(c))
    if not changes:
        return c
    await _record(session, c, principal.username, "update", changes)
    return c


async def delete(session: AsyncSession, *, settings: Settings, principal: Principal, contact_id: uuid.UUID) -> None:
    c = await _lock_owned(session, settings, principal, contact_id)
    c.deleted_at = now = datetime.now(UTC)
    await events.record_change(
        session,
        c,
        at=now,
        aggregate_type="contact",
        event=lambda row: customer_pb2.ContactDeleted(
            id=str(row.id), owner_node=row.owner_node, version=row.version, customer_id=str(row.customer_id)
        ),
        actor=principal.username,
        action="delete",
        changes={"deleted": [False, True]},
    )
