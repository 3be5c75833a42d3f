"""Knowledge base rules (F2): items authored at a node with a subtree, reviewed by another person than
the author (403 SEPARATION_OF_DUTIES), published down the tree, revised and retired; contributions from
below, taken up (or declined) by the province they go to. Writes only at the owner."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, Forbidden, InvalidTransition, NotFound, NotOwner
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_service.models import KnowledgeContribution, KnowledgeItem, KnowledgeRevision
from kam_service.ticket.events import CHANGES

from .events import KNOWLEDGE, contribution_message, search_text
from .repository import KnowledgeRepository, terms_of
from .schemas import ContributionCreate, HighlightRead, KnowledgeItemCreate, KnowledgeItemUpdate
from .states import ACTIONS, ContributionStatus, ItemStatus

ITEM = "knowledge_item"
CONTRIBUTION = "knowledge_contribution"
SNIPPET = 60


class SeparationOfDuties(Forbidden):
    code, reason = "SEPARATION_OF_DUTIES", "Separation of duties"


def person(principal: Principal) -> str:
    """A person across the tree: user names are unique per node only."""
    return f"{principal.username}@{principal.home_node}"


def _view(r: KnowledgeItem) -> dict[str, object]:
    return {
        "title": r.title,
        "summary": r.summary,
        "body": r.body,
        "tags": list(r.tags),
        "status": r.status,
        "revision": r.revision,
        "validTo": r.valid_to,
        "reviewer": r.reviewer,
    }


def highlight(r: KnowledgeItem, q: str) -> HighlightRead:
    """The title and a window of the body around the first hit, HTML-escaped, hits in <em>."""
    terms = terms_of(q)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)

    def mark(text: str) -> str:
        out, last = [], 0
        for m in pattern.finditer(text):
            out += [html.escape(text[last : m.start()]), "<em>", html.escape(m.group(0)), "</em>"]
            last = m.end()
        out.append(html.escape(text[last:]))
        return "".join(out)

    body = r.body
    first = pattern.search(body)
    if first is None:
        window = body[: SNIPPET * 2]
    else:
        start = max(0, first.start() - SNIPPET)
        window = ("…" if start else "") + body[start : first.end() + SNIPPET]
        window += "…" if first.end() + SNIPPET < len(body) else ""
    return HighlightRead(title=mark(r.title), body=mark(window))


async def list_items(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[tuple[KnowledgeItem, float | None]], int]:
    return await KnowledgeRepository.from_session(session).page(principal, settings.topology, settings.node, lq)


async def get_item(
    session: AsyncSession, *, settings: Settings, principal: Principal, item_id: uuid.UUID
) -> KnowledgeItem:
    r = await KnowledgeRepository.from_session(session).get_visible(
        item_id, principal, settings.topology, settings.node
    )
    if r is None:
        raise NotFound(f"knowledgeItem {item_id} not found")
    return r


async def revisions(
    session: AsyncSession, *, settings: Settings, principal: Principal, item_id: uuid.UUID
) -> Sequence[KnowledgeRevision]:
    r = await get_item(session, settings=settings, principal=principal, item_id=item_id)
    return await KnowledgeRepository.from_session(session).revisions(r.id)


async def _changed(
    session: AsyncSession,
    settings: Settings,
    r: KnowledgeItem,
    *,
    actor: str,
    action: str,
    changes: dict[str, Any],
    note: str | None = None,
    created: bool = False,
    now: datetime,
) -> None:
    """Version, audit and the dataset's outbox rows (down the subtree, and up) in one place."""
    if not created:
        r.version += 1
        r.updated_at = now
    r.search_text = search_text(r.title, r.summary, r.body, list(r.tags))
    await session.flush()
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type=ITEM,
        entity_id=r.id,
        action=action,
        actor=actor,
        changes=changes,
        note=note,
    )
    await KNOWLEDGE.publish(session, settings, r, actor=actor)


async def create_item(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    data: KnowledgeItemCreate,
    now: datetime,
    source: KnowledgeContribution | None = None,
) -> KnowledgeItem:
    KNOWLEDGE.ensure_can_author(settings)
    r = KnowledgeItem(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        kind=data.kind.value,
        title=data.title,
        summary=data.summary,
        body=data.body,
        tags=list(dict.fromkeys(data.tags)),
        status=ItemStatus.DRAFT.value,
        revision=1,
        author=source.author if source is not None else person(principal),
        source_contribution_id=source.id if source is not None else None,
        contributed_by_node=source.owner_node if source is not None else None,
        valid_from=data.valid_from or now.date(),
        valid_to=data.valid_to,
        search_text="",
        created_at=now,
        updated_at=now,
    )
    repo = KnowledgeRepository.from_session(session)
    await repo.add(r)
    note = f"taken up from contribution {source.id} of {source.owner_node}" if source is not None else None
    await _changed(
        session,
        settings,
        r,
        actor=person(principal),
        action="create",
        changes=diff({}, _view(r)),
        note=note,
        created=True,
        now=now,
    )
    return r


async def _owned(session: AsyncSession, settings: Settings, principal: Principal, item_id: uuid.UUID) -> KnowledgeItem:
    await get_item(session, settings=settings, principal=principal, item_id=item_id)
    r = await KnowledgeRepository.from_session(session).lock(item_id)
    if r is None:
        raise NotFound(f"knowledgeItem {item_id} not found")
    if r.owner_node != settings.node:
        raise NotOwner("knowledgeItem", str(r.id), r.owner_node)
    return r


async def update_item(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    item_id: uuid.UUID,
    patch: KnowledgeItemUpdate,
    present: set[str],
    now: datetime,
) -> KnowledgeItem:
    r = await _owned(session, settings, principal, item_id)
    if r.status != ItemStatus.DRAFT.value:
        raise InvalidTransition(
            f"knowledgeItem {r.id} is {r.status}: only a draft is edited"
            + (" (revise it first: POST …/revise)" if r.status == ItemStatus.PUBLISHED.value else ""),
            details={"status": r.status},
        )
    before = _view(r)
    if patch.title is not None:
        r.title = patch.title
    if patch.summary is not None:
        r.summary = patch.summary
    if patch.body is not None:
        r.body = patch.body
    if patch.tags is not None:
        r.tags = list(dict.fromkeys(patch.tags))
    if "validTo" in present:
        r.valid_to = patch.valid_to
    changes = diff(before, _view(r))
    if changes:
        await _changed(session, settings, r, actor=person(principal), action="update", changes=changes, now=now)
    return r


async def act(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    item_id: uuid.UUID,
    action: str,
    reason: str | None,
    now: datetime,
) -> KnowledgeItem:
    """review (another person than the author), publish, retire, revise (a published item back to a
    draft of its next revision; the published revision is kept, and stays in force at the replicas
    until the next one is published)."""
    r = await _owned(session, settings, principal, item_id)
    sources, target = ACTIONS[action]
    if ItemStatus(r.status) not in sources:
        raise InvalidTransition(
            f"knowledgeItem {r.id} is {r.status}: {action} applies to {', '.join(sorted(s.value for s in sources))}",
            details={
                "status": r.status,
                "allowed": sorted(a for a, (src, _) in ACTIONS.items() if ItemStatus(r.status) in src),
            },
        )
    me = person(principal)
    if action == "review" and me == r.author:
        raise SeparationOfDuties(f"knowledgeItem {r.id} was written by {r.author}: another person reviews it")
    before = _view(r)
    if action == "review":
        r.reviewer, r.reviewed_at = me, now
    elif action == "publish":
        r.published_at = now
    elif action == "retire":
        r.retired_at = now
    elif action == "revise":
        await KnowledgeRepository.from_session(session).add(
            KnowledgeRevision(
                item_id=r.id,
                revision=r.revision,
                title=r.title,
                summary=r.summary,
                body=r.body,
                tags=list(r.tags),
                author=r.author,
                reviewer=r.reviewer,
                published_at=r.published_at,
                superseded_at=now,
            )
        )
        r.revision += 1
        r.author, r.reviewer, r.reviewed_at = me, None, None
    r.status = target.value
    r.status_reason = reason
    await _changed(session, settings, r, actor=me, action=action, changes=diff(before, _view(r)), note=reason, now=now)
    return r


# --- contributions --------------------------------------------------------------------------------


async def contribute(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: ContributionCreate, now: datetime
) -> KnowledgeContribution:
    parent = settings.this_node.parent
    if parent is None:
        raise Conflict(f"{settings.node} has no node above it to review a contribution; author an item instead")
    c = KnowledgeContribution(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        kind=data.kind.value,
        title=data.title,
        summary=data.summary,
        body=data.body,
        tags=list(dict.fromkeys(data.tags)),
        author=person(principal),
        reviewing_node=parent,
        status=ContributionStatus.SUBMITTED.value,
        created_at=now,
        updated_at=now,
    )
    await KnowledgeRepository.from_session(session).add(c)
    await CHANGES.record_change(
        session,
        c,
        aggregate_type=CONTRIBUTION,
        event=contribution_message,
        actor=person(principal),
        action="create",
        changes={"title": [None, c.title], "reviewingNode": [None, parent]},
        created=True,
        at=now,
    )
    return c


async def list_contributions(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[KnowledgeContribution], int, dict[uuid.UUID, KnowledgeItem]]:
    repo = KnowledgeRepository.from_session(session)
    rows, total = await repo.contribution_page(principal, settings.topology, lq)
    return rows, total, await repo.answer_to([c.id for c in rows])


async def get_contribution(
    session: AsyncSession, *, settings: Settings, principal: Principal, contribution_id: uuid.UUID
) -> tuple[KnowledgeContribution, KnowledgeItem | None]:
    repo = KnowledgeRepository.from_session(session)
    c = await repo.contribution(contribution_id, principal, settings.topology)
    if c is None:
        raise NotFound(f"knowledgeContribution {contribution_id} not found")
    return c, (await repo.answer_to([c.id])).get(c.id)


async def take_up(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    contribution_id: uuid.UUID,
    decline: str | None,
    now: datetime,
) -> KnowledgeItem:
    """The reviewing node makes a contribution its own draft (the contributor stays its author, so
    another person reviews it), or declines it: the draft retired at once with the reason."""
    c, answered = await get_contribution(
        session, settings=settings, principal=principal, contribution_id=contribution_id
    )
    if c.reviewing_node != settings.node:
        raise NotOwner("knowledgeContribution", str(c.id), c.reviewing_node)
    if answered is not None:
        raise Conflict(f"knowledgeContribution {c.id} was answered already by knowledgeItem {answered.id}")
    if c.status != ContributionStatus.SUBMITTED.value:
        raise InvalidTransition(f"knowledgeContribution {c.id} is {c.status}", details={"status": c.status})
    data = KnowledgeItemCreate.model_validate(
        {"kind": c.kind, "title": c.title, "summary": c.summary, "body": c.body, "tags": list(c.tags)}
    )
    r = await create_item(session, settings=settings, principal=principal, data=data, now=now, source=c)
    if decline is not None:
        r = await act(
            session, settings=settings, principal=principal, item_id=r.id, action="retire", reason=decline, now=now
        )
    return r
