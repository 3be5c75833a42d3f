"""Bulk import and export of key accounts (批量导入/导出).

Import: the uploaded file (already on disk) is read row by row (CSV in UTF-8 or GB18030, or XLSX by the
bounded streaming reader in `xlsx`), every row validated, and the good rows loaded in chunks: COPY into a staging
table, one upsert keyed by customer code (owner-only), then COPY of the outbox events, audit rows and
account-manager history the API path would have written. Bad rows are reported, not loaded.
Export: the caller's scoped, filtered list streamed as CSV (UTF-8 with BOM) or written to an XLSX file
in constant memory.
Cells that a spreadsheet would run as a formula (starting with = + - @ TAB CR) are exported with a
leading single quote (OWASP's CSV-injection advice) and import removes that quote again, so an export
re-imports to the same values.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import dataclasses
import functools
import io
import json
import operator
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal, TypeVar, cast

import xlsxwriter
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.customer import events, rules
from kam_customer.customer.views import snapshot
from kam_customer.duplicates import importing as duplicates_importing
from kam_customer.models import Customer, Organization
from kam_customer.organization import service as organization_service
from kam_platform.auth import Principal, scope_nodes
from kam_platform.db.driver import driver_connection
from kam_platform.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.observability import request_id_var
from kam_platform.outbox import build_event, ts
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_platform.topology import Topology

from . import repository, xlsx
from .schemas import COLUMN_BY_HEADER, COLUMNS, EXPORT_HEADER, Column, ImportResult, RowError

CHUNK = 5000
# a CustomersImported event is closed at about this many bytes of states and row details, well below
# NATS's default max_payload (1 MB): ~600-900 customers each
BATCH_EVENT_BYTES = 512 * 1024
IMPORT_CHUNK = "import_chunk"  # the aggregate type of CustomersImported events (id = its audit record)
IMPORT_ENTITY = "import"  # the audit entity of an import job (entity_id = the job)
ANALYZE_AFTER = 10_000  # rows written by one import after which the customer table is re-analyzed
FileKind = Literal["csv", "xlsx"]
XLSX_MAX_ROWS = 1_048_576  # rows per worksheet

# accepted spellings of enum cells: the value (any case) or its Chinese label
_ENUM_ALIASES: dict[str, dict[str, str]] = {}
for _col in COLUMNS:
    if _col.enum is not None:
        _ENUM_ALIASES[_col.attr] = {m.value.upper(): m.value for m in _col.enum}
_ENUM_ALIASES["industry"].update({zh: ind.value for ind, zh in rules.INDUSTRY_ZH.items()})
_ENUM_ALIASES["industry"].update({"医疗": "HEALTH", "交通": "TRANSPORT", "物流": "TRANSPORT"})
_ENUM_ALIASES["customer_type"].update({"集团客户": "GROUP_CUSTOMER", "单体客户": "SINGLE"})

_REQUIRED = tuple(c for c in COLUMNS if c.required)
# empty cells in these columns keep the current value on update (they are mandatory attributes)
_KEEP_WHEN_EMPTY = frozenset(c.attr for c in COLUMNS if c.required or c.default is not None)
_NEW_DEFAULTS: dict[str, Any] = {
    "short_name": None,
    "nature": None,
    "value_type": None,
    "status_reason": None,
    "credit_code": None,
    "parent_customer_id": None,
    "account_manager": None,
    "account_manager_name": None,
    "enterprise_scale": None,
    "address": None,
    "description": None,
    "credit_profile": None,
    "deleted_at": None,
    **{c.attr: c.default for c in COLUMNS if c.default is not None},
}


# --- reading files -----------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' (with or without BOM), else 'gb18030' (what Chinese Excel saves CSV as).

    A NUL byte anywhere refuses the file before a row is loaded: in either encoding it can only be a
    NUL character, which no text column can store (and is what binary files are full of)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 1
        try:
            with open(path, "rb") as fh:
                while block := fh.read(1 << 20):
                    nul = block.find(b"\x00")
                    if nul >= 0:
                        line = lines + block.count(b"\n", 0, nul)
                        raise BadRequest(
                            f"line {line} holds a NUL byte: this is not CSV text (is the file binary?); "
                            "upload CSV (UTF-8 or GB18030) or XLSX"
                        )
                    lines += block.count(b"\n")
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise BadRequest("the file is neither UTF-8 nor GB18030 text; upload CSV (UTF-8) or XLSX")


def _csv_rows(path: Path) -> Iterator[Sequence[Any]]:
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        try:
            yield from csv.reader(fh)
        except csv.Error as exc:
            raise BadRequest(f"malformed CSV: {exc}") from None


@dataclass(frozen=True)
class SheetBreak:
    """Between two worksheets of an XLSX file: the rows after it are `name`'s, from its row 2 (its
    header, the same as the first sheet's, is not given out)."""

    name: str


def _xlsx_rows(path: Path) -> Iterator[Sequence[Any] | SheetBreak]:
    """The first worksheet's rows, then those of every further worksheet whose first row is the same
    header (an export past 1,048,575 rows continues in `customers2`, ...); other sheets (notes,
    instructions) are not data and are passed over."""
    try:
        header: list[Any] | None = None
        for sheet in xlsx.read_sheets(path):
            if header is None:
                for row in sheet.rows:
                    if header is None:
                        header = row
                    yield row
                continue
            first = next(sheet.rows, None)
            if first is None or [_cell(c) for c in first] != [_cell(c) for c in header]:
                for _ in sheet.rows:  # drained: the reader moves on sheet by sheet
                    pass
                continue
            yield SheetBreak(sheet.name)
            yield from sheet.rows
    except xlsx.NotAnArchive as exc:
        raise BadRequest(str(exc)) from None
    except xlsx.XlsxTooLarge as exc:
        raise PayloadTooLarge(f"XLSX refused: {exc}") from None
    except xlsx.XlsxMalformed as exc:
        raise ValidationFailed(str(exc), field="file") from None


def read_rows(path: Path, kind: FileKind) -> Iterator[Sequence[Any] | SheetBreak]:
    return _csv_rows(path) if kind == "csv" else _xlsx_rows(path)


# what a spreadsheet starts a formula with (OWASP, CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """`value` as a spreadsheet shows it as text: a leading single quote before a formula start. A value
    that already starts with quotes before one gets one more, so `unquote` restores every value."""
    return "'" + value if value.lstrip("'").startswith(_FORMULA_START) else value


def unquote(value: str) -> str:
    """The value `neutralise` was given."""
    return value[1:] if value.startswith("'") and value.lstrip("'").startswith(_FORMULA_START) else value


def _cell_problem(value: Any) -> str | None:
    """Why a spreadsheet cell cannot be imported as it is (None when it can)."""
    if isinstance(value, xlsx.ImpreciseNumber):
        return (
            f"{value.raw} was stored by Excel as a number with more than 15 digits, so its last digits are "
            "lost; format the column as Text (文本) and enter the value again"
        )
    if isinstance(value, xlsx.UncalculatedFormula):
        return (
            f"the cell holds the formula ={value.formula[:40]} without a calculated value; "
            "enter the value, or open and save the file in Excel"
        )
    return None


def _cell(value: Any) -> str | None:
    if value is None or isinstance(value, xlsx.UncalculatedFormula):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    return s or None


def map_header(cells: Sequence[Any]) -> list[Column | None]:
    header: list[Column | None] = []
    for raw in cells:
        name = (_cell(raw) or "").lstrip("\ufeff")
        header.append(COLUMN_BY_HEADER.get(name.lower()) or COLUMN_BY_HEADER.get(name))
    seen = [c.name for c in header if c is not None]
    duplicated = sorted({n for n in seen if seen.count(n) > 1})
    if duplicated:
        raise ValidationFailed(f"header: column(s) {', '.join(duplicated)} appear more than once", field="header")
    missing = [c.name for c in _REQUIRED if c.name not in seen]
    if missing:
        raise ValidationFailed(
            f"header: required column(s) {', '.join(missing)} missing; expected columns: {', '.join(EXPORT_HEADER)} "
            "(or their Chinese names)",
            field="header",
        )
    return header


def validate_row(
    line: int, header: Sequence[Column | None], cells: Sequence[Any]
) -> tuple[dict[str, str | None], list[RowError]]:
    """The row's values by table attribute (only columns in the header), and its problems."""
    values: dict[str, str | None] = {}
    errors: list[RowError] = []
    n = len(cells)
    for i, col in enumerate(header):
        if col is None:
            continue
        raw = cells[i] if i < n else None
        if type(raw) is str:  # every CSV cell, most XLSX ones: what `_cell` makes of a str, without its checks
            v = raw.strip() or None
        else:
            problem = _cell_problem(raw)
            if problem is not None:
                errors.append(RowError(line, col.name, problem))
                continue
            v = _cell(raw)
        if v is not None:
            if "\x00" in v:
                errors.append(RowError(line, col.name, "NUL characters are not allowed"))
                continue
            if v[0] == "'":
                v = unquote(v)
            if col.enum is not None:
                mapped = _ENUM_ALIASES[col.attr].get(v.upper())
                if mapped is None:
                    allowed = ", ".join(m.value for m in col.enum)
                    errors.append(RowError(line, col.name, f"{v!r} is not a valid {col.name}; allowed: {allowed}"))
                    continue
                v = mapped
            elif col.attr in ("customer_code", "parent_code", "credit_code"):
                v = v.upper()
            if col.max_length is not None and len(v) > col.max_length:
                errors.append(RowError(line, col.name, f"at most {col.max_length} characters, got {len(v)}"))
                continue
        values[col.attr] = v
    for col in _REQUIRED:
        if values.get(col.attr) is None and not any(e.column == col.name for e in errors):
            errors.append(RowError(line, col.name, f"{col.name} ({col.zh}) is required"))
    code = values.get("customer_code")
    if code is not None and not rules.CUSTOMER_CODE_RE.match(code):
        errors.append(
            RowError(
                line, "customerCode", f"{code!r}: 4-32 characters of A-Z, 0-9 and '-', starting with a letter or digit"
            )
        )
    credit = values.get("credit_code")
    if credit is not None:
        problem = rules.credit_code_problem(credit)
        if problem:
            errors.append(RowError(line, "creditCode", f"invalid unified social credit code {credit!r}: {problem}"))
    parent = values.get("parent_code")
    if parent is not None:
        if not rules.CUSTOMER_CODE_RE.match(parent):
            errors.append(RowError(line, "parentCustomerCode", f"{parent!r} is not a valid customer code"))
        elif parent == code:
            errors.append(RowError(line, "parentCustomerCode", "a customer cannot be its own parent"))
    return values, errors


# --- loading -----------------------------------------------------------------------------------


@dataclass
class Loader:
    """Loads validated rows into one node's database on one asyncpg connection, in its transaction."""

    conn: Any  # asyncpg.Connection
    node: str
    actor: str
    now: datetime
    request_id: str | None = None
    action: str = "import"
    result: ImportResult = field(default_factory=ImportResult)
    loaded: dict[str, uuid.UUID] = field(default_factory=dict)  # code → id, filled when track_ids
    track_ids: bool = False
    # owner nodes in the caller's data scope (None: all, for the seed); a record owned outside it is
    # "not found" in every message, so a row error never names it, its owner or its type
    visible: frozenset[str] | None = None
    # the federation, to keep new codes in this node's namespace (None for the seed, whose codes are)
    topology: Topology | None = None
    # the import job: with it every chunk is recorded as CustomersImported batch events, each with one
    # audit record naming the job (issue 13); without it (the seed) as the API's per-row events
    job_id: uuid.UUID | None = None
    chunks: int = 0  # batch events written so far (their `chunk` numbers)

    def __post_init__(self) -> None:
        self.now_ts = ts(self.now)  # converted once: a million rows share it

    def reject(self, errors: list[RowError]) -> None:
        self.result.rejected += 1
        for e in errors:
            self.result.reject(e)

    async def load(self, rows: Sequence[tuple[int, dict[str, str | None]]]) -> None:
        """Upsert one chunk of validated rows (line, values by attribute) and record it."""
        planned = await self.plan(rows)
        if not planned:
            return
        returned = await self.upsert(planned)
        await self.after_upsert(planned, returned)
        if self.job_id is not None:
            await self.write(self.build_batch(planned, returned))
        else:
            await self._record(planned, returned)

    async def plan(self, rows: Sequence[tuple[int, dict[str, str | None]]]) -> dict[str, _Planned]:
        """The chunk's rows as planned writes (duplicates, ownership, parents and transitions judged;
        the rejected ones reported)."""
        planned = self.plan_rows(await self.look_up(rows))
        await self.settle(planned)
        return planned

    async def look_up(self, rows: Sequence[tuple[int, dict[str, str | None]]]) -> _LookedUp:
        """The chunk's distinct new codes (repeats reported), marked as seen, and the live customers
        already holding them (locked)."""
        by_code: dict[str, tuple[int, dict[str, str | None]]] = {}
        for line, values in rows:
            code = cast(str, values["customer_code"])
            if code in by_code:
                self.reject(
                    [RowError(line, "customerCode", f"duplicate customerCode {code} (first at row {by_code[code][0]})")]
                )
                continue
            by_code[code] = (line, values)
        if not by_code:
            return _LookedUp({}, {})
        for code in await repository.mark_seen(self.conn, list(by_code)):
            self.reject(
                [
                    RowError(
                        by_code.pop(code)[0],
                        "customerCode",
                        f"duplicate customerCode {code} (already imported from an earlier row)",
                    )
                ]
            )
        return _LookedUp(by_code, await repository.lock_existing(self.conn, list(by_code)) if by_code else {})

    def plan_rows(self, looked_up: _LookedUp) -> dict[str, _Planned]:
        """The looked-up rows planned (Python alone: no statement is sent)."""
        planned: dict[str, _Planned] = {}
        for code, (line, values) in looked_up.by_code.items():
            p = self._plan(line, code, values, looked_up.existing.get(code))
            if p is not None:
                planned[code] = p
        return planned

    async def settle(self, planned: dict[str, _Planned]) -> None:
        """Parents and customer types judged against the database (the rejected rows leave `planned`)."""
        await self._resolve_parents(planned)
        await self._check_branch_types(planned)

    async def upsert(self, planned: dict[str, _Planned]) -> Sequence[Mapping[str, Any]]:
        """The chunk's customers and new legal entities written (one COPY and upsert)."""
        stage = [(*_STAGE_BEFORE(p.rec), p.is_new_org, *_STAGE_AFTER(p.rec)) for p in planned.values()]
        return await repository.upsert(self.conn, self.node, stage)

    async def after_upsert(self, planned: dict[str, _Planned], returned: Sequence[Mapping[str, Any]]) -> None:
        """What is judged on the written rows before they are recorded."""
        warnings, count = await duplicates_importing.import_warnings(
            self.conn, planned, returned, self.visible, named=self.result.warning_room()
        )
        self.result.warn(warnings, count)

    def _in_scope(self, owner_node: str) -> bool:
        return self.visible is None or owner_node in self.visible

    def _plan(self, line: int, code: str, values: dict[str, str | None], old: dict[str, Any] | None) -> _Planned | None:
        if old is not None:
            if old["owner_node"] != self.node:
                message = (
                    f"customer {code} is owned by node {old['owner_node']!r}; import it there"
                    if self._in_scope(old["owner_node"])
                    else f"customer {code} not found in your data scope; the code cannot be used here"
                )
                self.reject([RowError(line, "customerCode", message)])
                return None
            rec = dict(old)
        else:
            outside = self.topology and rules.code_namespace_problem(self.topology, self.node, code)
            if outside:
                self.reject([RowError(line, "customerCode", outside)])
                return None
            rec = {**_NEW_DEFAULTS, "id": uuid7(), "organization_id": uuid7(), "owner_node": self.node}
        for attr, value in values.items():
            if attr == "parent_code":
                continue
            if value is None and attr in _KEEP_WHEN_EMPTY:
                if old is not None:
                    continue
                value = _NEW_DEFAULTS.get(attr)
            rec[attr] = value
        is_new_org = rec.get("organization_id") is None or old is None
        if rec.get("organization_id") is None:
            rec["organization_id"] = uuid7()
        if old is not None:
            refused = rules.transition_refused(
                (old["life_status"], rec["life_status"]), (old["recog_status"], rec["recog_status"])
            )
            if refused is not None:
                self.reject([RowError(line, refused.field, refused.message)])
                return None
        return _Planned(line, rec, old, values.get("parent_code"), "parent_code" in values, is_new_org)

    async def _resolve_parents(self, planned: dict[str, _Planned]) -> None:
        wanted = {p.parent_code for p in planned.values() if p.parent_code is not None} - set(planned)
        in_db = await repository.find_by_codes(self.conn, wanted, owners=self.visible)
        changed = True
        while changed:  # a rejected parent rejects its children, and so on down
            changed = False
            for code, p in list(planned.items()):
                problem = await self._parent_problem(p, planned, in_db)
                if problem:
                    self.reject([RowError(p.line, "parentCustomerCode", problem)])
                    del planned[code]
                    changed = True

    async def _parent_problem(
        self, p: _Planned, planned: dict[str, _Planned], in_db: dict[str, tuple[uuid.UUID, str, uuid.UUID | None]]
    ) -> str | None:
        if not p.parent_given:
            return None
        pc = p.parent_code
        if pc is None:
            p.rec["parent_customer_id"] = None
            return None
        if pc in planned:
            parent_id, parent_type = planned[pc].rec["id"], planned[pc].rec["customer_type"]
        elif pc in in_db:
            parent_id, parent_type, _ = in_db[pc]
        else:
            return f"parent customer {pc} not found (it must exist in your data scope or come earlier in the file)"
        problem = rules.parent_type_problem(pc, parent_type)
        if problem:
            return problem
        # no cycles: walk up from the parent through this chunk, then the database
        parents_in_chunk = {q.rec["id"]: q.rec["parent_customer_id"] for q in planned.values()}
        cur: uuid.UUID | None = parent_id
        for _ in range(64):
            if cur is None:
                break
            if cur == p.rec["id"]:
                return rules.cycle_problem(pc)
            if cur in parents_in_chunk:
                cur = parents_in_chunk[cur]
                continue
            if p.old is not None and rules.creates_cycle(p.rec["id"], cur, await repository.ancestors(self.conn, cur)):
                return rules.cycle_problem(pc)
            break
        p.rec["parent_customer_id"] = parent_id
        return None

    async def _check_branch_types(self, planned: dict[str, _Planned]) -> None:
        downgraded = {
            p.rec["id"]: code
            for code, p in planned.items()
            if p.old is not None and rules.leaves_group(p.old["customer_type"], p.rec["customer_type"])
        }
        if not downgraded:
            return
        with_children = await repository.with_live_children(self.conn, list(downgraded))
        with_children |= {p.rec["parent_customer_id"] for p in planned.values()} & set(downgraded)
        for cid in with_children:
            p = planned.pop(downgraded[cid])
            self.reject([RowError(p.line, "customerType", rules.BRANCHES_STAY_GROUP)])

    async def _record(self, planned: dict[str, _Planned], returned: Sequence[Mapping[str, Any]]) -> None:
        outbox: list[tuple[Any, ...]] = []
        audit: list[tuple[Any, ...]] = []
        assignments: list[tuple[Any, ...]] = []
        seen: set[str] = set()
        for r in returned:
            p = planned[r["customer_code"]]
            seen.add(r["customer_code"])
            rec = p.rec
            # the upsert created the legal entity when it kept the id planned for a new one
            if p.is_new_org and r["organization_id"] == rec["organization_id"]:
                self._event(
                    outbox,
                    "organization",
                    r["organization_id"],
                    1,
                    customer_pb2.OrganizationChanged(
                        organization=organization_service.organization_state(
                            cast(
                                Organization,
                                SimpleNamespace(
                                    id=r["organization_id"],
                                    owner_node=self.node,
                                    version=1,
                                    name=rec["name"],
                                    trading_name=rec["name"],  # TMF632's mandatory attribute (issue 10)
                                    credit_code=rec.get("credit_code"),
                                    organization_type="legalEntity",
                                    industry=rec.get("industry"),
                                    status="validated",
                                    deleted_at=None,
                                ),
                            )
                        )
                    ),
                )
            rec.update(
                id=r["id"],
                version=r["version"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                organization_id=r["organization_id"],
                owner_node=self.node,
            )
            # the event and audit shapes are the API path's (events.customer_state, views.snapshot), fed
            # from a plain namespace because ORM instances cost too much per row at a million rows
            c = cast(Customer, SimpleNamespace(**rec))
            state = events.customer_state(c)
            after = snapshot(c)
            status_from = ""
            if r["inserted"]:
                self.result.created += 1
                changes = {k: [None, v] for k, v in after.items() if v is not None}
            else:
                self.result.updated += 1
                before = snapshot(cast(Customer, SimpleNamespace(**(p.old or {}))))
                changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
                status_from = before["status"]
            message = events.customer_changed(
                state, created=bool(r["inserted"]), changes=changes, status_from=status_from
            )
            cid = rec["id"]
            self._event(outbox, "customer", cid, rec["version"], message)
            previous = p.old["account_manager"] if p.old is not None else None
            if rec["account_manager"] != previous and (rec["account_manager"] or previous):
                aid = uuid7()
                assignments.append(
                    (
                        aid,
                        self.node,
                        cid,
                        rec["account_manager"],
                        rec["account_manager_name"],
                        previous,
                        self.actor,
                        self.now,
                        self.action,
                    )
                )
                self._event(
                    outbox,
                    "assignment",
                    aid,
                    1,
                    events.account_manager_assigned(
                        assignment_id=aid,
                        owner_node=self.node,
                        customer_id=cid,
                        account_manager=rec["account_manager"],
                        previous=previous,
                        assigned_by=self.actor,
                        valid_from=self.now_ts,
                        reason=self.action,
                    ),
                )
            audit_id = uuid7()
            changes_json = json.dumps(changes, ensure_ascii=False, default=str)
            # `at` is the time the event carries (not the column default), so replicas hold the same value
            audit.append(
                (audit_id, self.node, "customer", cid, self.action, self.actor, changes_json, self.request_id, self.now)
            )
            self._event(
                outbox,
                "audit",
                audit_id,
                1,
                events.audit_message(
                    audit_id=audit_id,
                    owner_node=self.node,
                    entity_type="customer",
                    entity_id=cid,
                    action=self.action,
                    actor=self.actor,
                    at=self.now_ts,
                    changes_json=changes_json,
                    request_id=self.request_id,
                ),
            )
            if self.track_ids:
                self.loaded[r["customer_code"]] = cid
        for code in planned.keys() - seen:  # lost a race with a writer at another node
            p = planned[code]
            self.reject([RowError(p.line, "customerCode", f"customer {code} is owned by another node")])
        await repository.record_assignments(self.conn, assignments)
        await repository.copy_audit(self.conn, audit)
        await repository.copy_outbox(self.conn, outbox)

    def build_batch(self, planned: dict[str, _Planned], returned: Sequence[Mapping[str, Any]]) -> _Built:
        """The chunk as CustomersImported batch events (one per BATCH_EVENT_BYTES of states) instead of
        three or four envelopes and an audit row per customer; each carries its one audit record.
        Python alone, no database: `import_file` runs it in a thread while the next chunk is upserted."""
        assignments: list[tuple[Any, ...]] = []
        batch = _Batch()
        batches: list[_Batch] = [batch]
        seen: set[str] = set()
        for r in returned:
            p = planned[r["customer_code"]]
            seen.add(r["customer_code"])
            rec = p.rec
            if batch.size >= BATCH_EVENT_BYTES:
                batch = _Batch()
                batches.append(batch)
            if p.is_new_org and r["organization_id"] == rec["organization_id"]:
                org = batch.message.organizations.add(
                    id=str(r["organization_id"]),
                    owner_node=self.node,
                    version=1,
                    name=rec["name"],
                    trading_name=rec["name"],  # TMF632's mandatory attribute (issue 10)
                    credit_code=rec.get("credit_code") or "",
                    organization_type="legalEntity",
                    industry=rec.get("industry") or "",
                    status="validated",
                )
                batch.size += org.ByteSize()
            rec.update(
                id=r["id"],
                version=r["version"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                organization_id=r["organization_id"],
                owner_node=self.node,
            )
            c = cast(Customer, SimpleNamespace(**rec))
            state = events.customer_state(c, into=batch.message.customers)
            batch.size += state.ByteSize()
            cid = rec["id"]
            detail: dict[str, Any] = {"row": p.line, "customerCode": r["customer_code"], "id": str(cid)}
            if r["inserted"]:
                self.result.created += 1
                batch.message.created_ids.append(str(cid))
                detail["action"] = "created"
            else:
                self.result.updated += 1
                before = snapshot(cast(Customer, SimpleNamespace(**(p.old or {}))))
                after = snapshot(c)
                detail["action"] = "updated"
                detail["changes"] = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
            batch.rows.append(detail)
            batch.size += 100 + (len(json.dumps(detail["changes"], default=str)) if "changes" in detail else 0)
            previous = p.old["account_manager"] if p.old is not None else None
            if rec["account_manager"] != previous and (rec["account_manager"] or previous):
                aid = uuid7()
                assignments.append(
                    (
                        aid,
                        self.node,
                        cid,
                        rec["account_manager"],
                        rec["account_manager_name"],
                        previous,
                        self.actor,
                        self.now,
                        self.action,
                    )
                )
                assigned = events.account_manager_assigned(
                    assignment_id=aid,
                    owner_node=self.node,
                    customer_id=cid,
                    account_manager=rec["account_manager"],
                    previous=previous,
                    assigned_by=self.actor,
                    valid_from=self.now_ts,
                    reason=self.action,
                    into=batch.message.assignments,
                )
                batch.size += assigned.ByteSize()
            if self.track_ids:
                self.loaded[r["customer_code"]] = cid
        for code in planned.keys() - seen:  # lost a race with a writer at another node
            p = planned[code]
            self.reject([RowError(p.line, "customerCode", f"customer {code} is owned by another node")])
        audit: list[tuple[Any, ...]] = []
        outbox: list[tuple[Any, ...]] = []
        assert self.job_id is not None
        for b in batches:
            if not b.rows:
                continue
            audit_id = uuid7()
            created = len(b.message.created_ids)
            changes_json = json.dumps(
                {
                    "job": str(self.job_id),
                    "chunk": self.chunks,
                    "created": created,
                    "updated": len(b.rows) - created,
                    "rows": b.rows,
                },
                ensure_ascii=False,
                default=str,
            )
            audit.append(
                (
                    audit_id,
                    self.node,
                    IMPORT_ENTITY,
                    self.job_id,
                    self.action,
                    self.actor,
                    changes_json,
                    self.request_id,
                    self.now,
                )
            )
            b.message.job_id = str(self.job_id)
            b.message.owner_node = self.node
            b.message.chunk = self.chunks
            b.message.audit.CopyFrom(
                events.audit_message(
                    audit_id=audit_id,
                    owner_node=self.node,
                    entity_type=IMPORT_ENTITY,
                    entity_id=self.job_id,
                    action=self.action,
                    actor=self.actor,
                    at=self.now_ts,
                    changes_json=changes_json,
                    request_id=self.request_id,
                )
            )
            self._event(outbox, IMPORT_CHUNK, audit_id, 1, b.message)
            self.chunks += 1
        return _Built(assignments, audit, outbox)

    async def write(self, built: _Built) -> None:
        """A built chunk's assignment history, audit records and outbox events (COPY)."""
        await repository.record_assignments(self.conn, built.assignments)
        await repository.copy_audit(self.conn, built.audit)
        await repository.copy_outbox(self.conn, built.outbox)

    def _event(
        self, out: list[tuple[Any, ...]], aggregate: str, agg_id: uuid.UUID, version: int, message: Message
    ) -> None:
        event_id, subject, event_type, payload = build_event(
            node=self.node,
            service=events.SERVICE,
            aggregate_type=aggregate,
            aggregate_id=str(agg_id),
            version=version,
            message=message,
            actor=self.actor,
            occurred_at=self.now_ts,
        )
        out.append((event_id, subject, event_type, str(agg_id), version, payload))

    async def finish(self) -> None:
        if self.result.created or self.result.updated:
            await repository.notify_relay(self.conn)


@dataclass
class _LookedUp:
    """A chunk's rows by their (distinct, not yet imported) code, and the live customers holding them."""

    by_code: dict[str, tuple[int, dict[str, str | None]]]
    existing: dict[str, dict[str, Any]]


_T = TypeVar("_T")


async def while_running(statement: Awaitable[None], work: Callable[[], _T]) -> _T:
    """`work()` — Python alone, sending no statement — while `statement` runs on the connection: the
    database works on one core meanwhile instead of waiting. Both are done on return. A statement the
    connection has prepared before (asyncpg's statement cache: a chunk's count from the second chunk on)
    is sent whole; a new one is only parsed by then, and runs after the work."""
    running = asyncio.ensure_future(statement)
    await asyncio.sleep(0)  # the statement's first step: it is sent
    try:
        return work()
    finally:
        await running


@dataclass
class _Built:
    """A chunk's rows to write after its upsert: assignments, audit records, outbox events."""

    assignments: list[tuple[Any, ...]]
    audit: list[tuple[Any, ...]]
    outbox: list[tuple[Any, ...]]


@dataclass
class _Batch:
    """One CustomersImported event being filled, its audit record's rows and its approximate size."""

    message: customer_pb2.CustomersImported = field(default_factory=customer_pb2.CustomersImported)
    rows: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0


@dataclass
class _Planned:
    line: int
    rec: dict[str, Any]
    old: dict[str, Any] | None
    parent_code: str | None
    parent_given: bool
    is_new_org: bool


async def raw_connection(session: AsyncSession) -> tuple[Any, datetime]:
    """The asyncpg connection under `session`, inside its (started) transaction, and the transaction time."""
    conn = await driver_connection(session)
    return conn, await conn.fetchval("SELECT now()")


async def import_file(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    path: Path,
    kind: FileKind,
    chunk: int = CHUNK,
) -> ImportResult:
    """Validate and load every row of the file; bad rows are reported with their line and column."""
    if principal.by_portfolio:
        # an import writes any customer of the node by code, and its rows may reassign account
        # managers: it is a node-level operation, not one within a portfolio
        raise Forbidden(
            f"imports need a node-level scope; this token is scoped to a portfolio ({principal.scope_level.value})"
        )
    rows = read_rows(path, kind)
    header_cells = next(rows, None)
    if isinstance(header_cells, SheetBreak) or header_cells is None or not any(_cell(c) for c in header_cells):
        raise ValidationFailed("the file is empty: expected a header row and data rows", field="file")
    header = map_header(header_cells)
    conn, now = await raw_connection(session)
    await repository.prepare_stage(conn)
    loader = Loader(
        conn,
        settings.node,
        principal.username,
        now,
        request_id_var.get(),
        visible=frozenset(scope_nodes(principal, settings.topology)),
        topology=settings.topology,
        job_id=uuid7(),
    )
    loader.result.job_id = loader.job_id
    reader = _BatchReader(rows, header, chunk)
    # the next chunk is read and validated in a worker thread while this one is written: the database
    # works on its own core meanwhile instead of waiting for Python
    pending = asyncio.create_task(asyncio.to_thread(reader.next_batch))
    inserted = 0  # rows this import has added to the customer table so far
    analyzed = False
    # chunk k is upserted while chunk k-1's events are built in a thread (the database and Python work on
    # their two cores at once), then k-1's are written; k depends on none of k-1's records but its rows.
    # Chunk k's duplicate warnings are looked up while chunk k+1's rows are planned, for the same reason
    previous: tuple[dict[str, _Planned], Sequence[Mapping[str, Any]]] | None = None
    while True:
        batch, received, rejected, done = await pending
        if not done:
            pending = asyncio.create_task(asyncio.to_thread(reader.next_batch))
        loader.result.received += received
        for errors in rejected:
            loader.reject(errors)
        looked_up = await loader.look_up(batch)  # no statement for an empty chunk
        if previous is not None:
            # the previous chunk's duplicate warnings are looked up while this chunk's rows are planned
            warn = loader.after_upsert(*previous)
            planned = await while_running(warn, functools.partial(loader.plan_rows, looked_up))
        else:
            planned = loader.plan_rows(looked_up)
        await loader.settle(planned)
        returned: Sequence[Mapping[str, Any]] = []
        if previous is not None:
            built, returned = await asyncio.gather(
                asyncio.to_thread(loader.build_batch, *previous), _upsert(loader, planned)
            )
            await loader.write(built)
        else:
            returned = await _upsert(loader, planned)
        previous = None
        if planned:
            inserted += sum(1 for r in returned if r["inserted"])
            if not analyzed and await repository.statistics_behind(conn, inserted, settings.node):
                # statistics that know fewer rows than this import has just written (a table never
                # analyzed, emptied, or left at reltuples = 0 by a VACUUM that ran during a large import
                # that rolled back) cost every look-up as a probe of a near-empty table and pick a plan
                # that scans the table once per row: the code look-ups of the next chunk and the
                # duplicate look-ups of this one turn quadratic (an import that never ends). So do
                # statistics in which this node owns almost nothing (repository.statistics_behind).
                # Autovacuum cannot see into this transaction; ANALYZE can (it counts the transaction's
                # own rows), and once the row density is known the planner scales its estimates.
                await repository.analyze(conn)
                analyzed = True
            previous = (planned, returned)
        if done:
            break
    if previous is not None:
        await loader.after_upsert(*previous)
        await loader.write(loader.build_batch(*previous))
    await loader.finish()
    if loader.result.created + loader.result.updated >= ANALYZE_AFTER:
        # a bulk load changes the statistics the list plans depend on; autovacuum would come later
        await repository.analyze(conn)
    return loader.result


async def _upsert(loader: Loader, planned: dict[str, _Planned]) -> Sequence[Mapping[str, Any]]:
    return await loader.upsert(planned) if planned else []


# a planned row's staging tuple in STAGE_COLUMNS order: its record's values around the is_new_org flag
# (two C look-ups per row instead of a generator over the columns: an import stages every row)
_NEW_ORG_AT = repository.STAGE_COLUMNS.index("is_new_org")
# an itemgetter of one key answers a bare value, not a tuple: each side needs two columns at least
assert 2 <= _NEW_ORG_AT <= len(repository.STAGE_COLUMNS) - 3
_STAGE_BEFORE = operator.itemgetter(*repository.STAGE_COLUMNS[:_NEW_ORG_AT])
_STAGE_AFTER = operator.itemgetter(*repository.STAGE_COLUMNS[_NEW_ORG_AT + 1 :])


@dataclass
class _BatchReader:
    """Reads and validates rows until `chunk` good ones are gathered (called from a worker thread)."""

    rows: Iterator[Sequence[Any] | SheetBreak]
    header: Sequence[Column | None]
    chunk: int
    line: int = 1
    sheet: str | None = None  # the worksheet after the first one the rows are from

    def next_batch(self) -> tuple[list[tuple[int, dict[str, str | None]]], int, list[list[RowError]], bool]:
        batch: list[tuple[int, dict[str, str | None]]] = []
        rejected: list[list[RowError]] = []
        received = 0
        for cells in self.rows:
            if isinstance(cells, SheetBreak):
                self.sheet, self.line = cells.name, 1
                continue
            self.line += 1
            if _blank(cells):
                continue
            received += 1
            values, errors = validate_row(self.line, self.header, cells)
            if errors:
                rejected.append([dataclasses.replace(e, sheet=self.sheet) for e in errors] if self.sheet else errors)
                continue
            batch.append((self.line, values))
            if len(batch) >= self.chunk:
                return batch, received, rejected, False
        return batch, received, rejected, True


def _blank(cells: Sequence[Any]) -> bool:
    """Whether a row has no cell with anything but white space in it (it is passed over, not counted)."""
    try:
        return not "".join(cells).strip()  # every cell a str: one join instead of a step per cell
    except TypeError:
        return not any(c is not None and str(c).strip() for c in cells)


async def job_rows(
    session: AsyncSession, *, settings: Settings, principal: Principal, job: uuid.UUID, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """What an import job did with each row (its chunks' audit records, at the importing node and at
    every ancestor), paged in file order; 404 when no chunk of the job is in the caller's scope."""
    chunks, total, page = await repository.job_rows(
        session, IMPORT_ENTITY, job, scope_nodes(principal, settings.topology), offset, limit
    )
    if not chunks:
        raise NotFound(f"import job {job} not found")
    return total, [{**row, "chunk": chunk} for chunk, row in page]


# --- export ------------------------------------------------------------------------------------


async def export_csv(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> AsyncIterator[bytes]:
    """CSV in UTF-8 with BOM (so Excel shows Chinese), the import's columns, one page at a time.

    The first chunk (header and first page) is queried by the first step of the iteration, so a caller
    that takes it before starting the response still answers a failing query with an error status."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    pages = aiter(repository.export_pages(session, principal, settings.topology, lq))
    first = await anext(pages, None)
    writer.writerow(EXPORT_HEADER)
    if first is not None:
        writer.writerows(_neutralised(first))
    yield codecs.BOM_UTF8 + buf.getvalue().encode()
    async for page in pages:
        buf.seek(0)
        buf.truncate()
        writer.writerows(_neutralised(page))
        yield buf.getvalue().encode()


def _neutralised(page: Sequence[Sequence[Any]]) -> Iterator[list[Any]]:
    for row in page:
        yield [neutralise(v) if isinstance(v, str) else v for v in row]


def _write_page(ws: Any, first_row: int, page: Sequence[Sequence[Any]]) -> None:
    for i, row in enumerate(page):
        r = first_row + i
        for col, value in enumerate(row):
            if value is not None:
                # never write(): a name starting with '=' is not a formula; quoted as in CSV so the file
                # stays safe when saved as CSV and both formats import the same way
                ws.write_string(r, col, neutralise(str(value)))


async def export_xlsx(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery, path: Path
) -> int:
    """Write the export to `path` (xlsxwriter constant-memory mode); returns the number of customers."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})
    bold = wb.add_format({"bold": True})
    count = 0
    sheet_rows = XLSX_MAX_ROWS
    ws: Any = None
    try:
        async for page in repository.export_pages(session, principal, settings.topology, lq):
            start = 0
            while start < len(page):
                if sheet_rows >= XLSX_MAX_ROWS:
                    ws = wb.add_worksheet("customers" if ws is None else f"customers{len(wb.worksheets()) + 1}")
                    ws.write_row(0, 0, EXPORT_HEADER, bold)
                    sheet_rows = 1
                part = page[start : start + XLSX_MAX_ROWS - sheet_rows]
                await asyncio.to_thread(_write_page, ws, sheet_rows, part)
                sheet_rows += len(part)
                start += len(part)
                count += len(part)
        if ws is None:
            ws = wb.add_worksheet("customers")
            ws.write_row(0, 0, EXPORT_HEADER, bold)
    finally:
        await asyncio.to_thread(wb.close)
    return count
