"""TMF630 list and resource conventions: offset/limit, fields=, attribute filters, sort=,
X-Total-Count/X-Result-Count (a search's count capped at COUNT_BOUND, X-Total-Count-Relation),
absolute hrefs, merge-patch bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, and_, or_
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.errors import BadRequest, InvalidQuery, NotFound, UnsupportedMediaType, ValidationFailed

RESERVED = {"offset", "limit", "fields", "sort", "q", "depth", "expand", "format"}
OPS = {"eq", "gt", "gte", "lt", "lte", "ne"}
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what a bigint column and bind parameter can hold


@dataclass(frozen=True)
class Filterable:
    """One attribute a list can be filtered and sorted by."""

    column: Any  # a SQLAlchemy column expression
    type: type = str
    sortable: bool = True
    # Custom predicate builder: (op, values) -> SQL; used for attributes that are not one column.
    predicate: Callable[[str, list[Any]], ColumnElement[bool]] | None = None


@dataclass
class ListQuery:
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    fields: set[str] | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (name, descending)
    filters: list[tuple[str, str, list[Any]]] = field(default_factory=list)  # (name, op, values)
    q: str | None = None


def _coerce(name: str, raw: str, typ: type) -> Any:
    try:
        if typ is str:
            return raw
        if typ is int:
            value = int(raw)
            if not INT64_MIN <= value <= INT64_MAX:
                raise InvalidQuery(f"filter {name!r}: {raw[:40]!r} is out of range ({INT64_MIN}..{INT64_MAX})")
            return value
        if typ is bool:
            if raw.lower() not in ("true", "false"):
                raise ValueError
            return raw.lower() == "true"
        if typ is Decimal:
            return Decimal(raw)
        if typ is datetime:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if typ is date:
            return date.fromisoformat(raw)
        if isinstance(typ, type) and issubclass(typ, Enum):
            return typ(raw)
    except (ValueError, InvalidOperation):
        allowed = ""
        if isinstance(typ, type) and issubclass(typ, Enum):
            allowed = "; allowed: " + ", ".join(str(m.value) for m in typ)
        raise InvalidQuery(f"filter {name!r}: {raw!r} is not a valid {typ.__name__}{allowed}") from None
    return raw


def parse_list_query(
    request: Request,
    filterable: Mapping[str, Filterable],
    selectable_fields: Iterable[str],
    *,
    extra_params: Iterable[str] = (),
) -> ListQuery:
    """Parse and validate TMF630 list parameters; unknown names are refused with 400."""
    params = request.query_params
    lq = ListQuery()
    for key in ("offset", "limit"):
        if key in params:
            try:
                value = int(params[key])
            except ValueError:
                raise InvalidQuery(f"{key} must be a non-negative integer, got {params[key]!r}") from None
            if not 0 <= value <= INT64_MAX:
                raise InvalidQuery(f"{key} must be an integer between 0 and {INT64_MAX}, got {params[key][:40]!r}")
            setattr(lq, key, value)
    if lq.limit > MAX_LIMIT:
        raise InvalidQuery(f"limit must be at most {MAX_LIMIT}, got {lq.limit}")
    selectable = set(selectable_fields)
    if "fields" in params:
        wanted = {f.strip() for f in params["fields"].split(",") if f.strip()}
        unknown = sorted(wanted - selectable - {"id", "href", "@type"})
        if unknown:
            raise InvalidQuery(f"fields: unknown attribute(s) {', '.join(unknown)}")
        lq.fields = wanted
    if "sort" in params:
        for part in (p.strip() for p in params["sort"].split(",")):
            if not part:
                continue
            desc = part.startswith("-")
            name = part.lstrip("+-")
            f = filterable.get(name)
            if f is None or not f.sortable:
                raise InvalidQuery(f"sort: cannot sort by {name!r}")
            lq.sort.append((name, desc))
    extra = set(extra_params)
    if "q" in params:
        lq.q = params["q"]
    for key, raw in params.multi_items():
        if key in RESERVED or key in extra:
            continue
        # the operator is the last dot-part; the attribute itself may contain dots (relatedParty.id,
        # expectedAmount.value.gte)
        name, _, op = key.rpartition(".")
        if not name or op not in OPS:
            name, op = key, "eq"
        f = filterable.get(name)
        if f is None:
            raise InvalidQuery(f"unknown filter attribute {name!r}")
        values = (
            [_coerce(name, v, f.type) for v in raw.split(",")] if f.type is not str or op != "eq" else raw.split(",")
        )
        lq.filters.append((name, op, values))
    return lq


S = TypeVar("S", bound=Select[Any])


def apply_filters(stmt: S, lq: ListQuery, filterable: Mapping[str, Filterable]) -> S:
    for name, op, values in lq.filters:
        f = filterable[name]
        if f.predicate is not None:
            stmt = stmt.where(f.predicate(op, values))
            continue
        col = f.column
        if op == "eq":
            stmt = stmt.where(col.in_(values) if len(values) > 1 else col == values[0])
        elif op == "ne":
            stmt = stmt.where(and_(*[col != v for v in values]))
        else:
            cmp = {"gt": col.__gt__, "gte": col.__ge__, "lt": col.__lt__, "lte": col.__le__}[op]
            stmt = stmt.where(or_(*[cmp(v) for v in values]))
    return stmt


def apply_sort(stmt: S, lq: ListQuery, filterable: Mapping[str, Filterable], tiebreak: Any) -> S:
    order = []
    for name, desc in lq.sort:
        col = filterable[name].column
        order.append(col.desc() if desc else col.asc())
    order.append(tiebreak)
    return stmt.order_by(*order)


def project(item: dict[str, Any], fields: set[str] | None) -> dict[str, Any]:
    if fields is None:
        return item
    keep = fields | {"id", "href", "@type"}
    return {k: v for k, v in item.items() if k in keep}


# A free-text search (`q=`) is counted exactly up to this many matches; past it X-Total-Count says
# COUNT_BOUND and X-Total-Count-Relation says "gte" (a lower bound), as Elasticsearch's
# track_total_hits does: counting tens of thousands of matches exactly costs more than the page itself.
# Lists without `q=` (filtered or not) are always counted exactly. docs/api-conventions.md.
COUNT_BOUND = 10_000


class Total(int):
    """The count of a whole list (X-Total-Count): exact (`relation` "eq") or, for a search past
    COUNT_BOUND matches, a lower bound ("gte"). An int everywhere else."""

    relation: str

    def __new__(cls, value: int, relation: str = "eq") -> Total:
        total = super().__new__(cls, value)
        total.relation = relation
        return total

    @property
    def exact(self) -> bool:
        return self.relation == "eq"


def count_headers(total: int, result_count: int, lq: ListQuery | None = None) -> dict[str, str]:
    """X-Total-Count and X-Result-Count of a list answer; a search (`q=`) also says whether its count
    is exact (X-Total-Count-Relation: eq) or a lower bound (gte)."""
    headers = {"X-Total-Count": str(int(total)), "X-Result-Count": str(result_count)}
    relation = getattr(total, "relation", "eq")
    if relation != "eq" or (lq is not None and is_search(lq)):
        headers["X-Total-Count-Relation"] = relation
    return headers


def is_search(lq: ListQuery) -> bool:
    return bool((lq.q or "").strip())


def list_response(items: Sequence[dict[str, Any]], total: int, lq: ListQuery) -> JSONResponse:
    body = [project(i, lq.fields) for i in items]
    return JSONResponse(content=body, status_code=200, headers=count_headers(total, len(body), lq))


def base_url(request: Request) -> str:
    """This node's base URL as the caller addressed it (the Host it used), without a trailing slash."""
    return str(request.base_url).rstrip("/")


def href(request: Request, path: str) -> str:
    """Absolute URL of a resource path on this node (the Host the caller used)."""
    return base_url(request) + path


async def plan_each_search(session: Any) -> None:
    """Plan this transaction's statements for their parameters (``plan_cache_mode =
    force_custom_plan``). A search's cost depends on its term: after five executions of a prepared
    statement PostgreSQL may keep a generic plan, which cannot see that ``name LIKE '%人民医院%'`` matches
    a few thousand rows, and at 1,000,000 customers it chose a sequential scan (150–220 ms) over the
    trigram bitmap the term's own plan uses (33 ms). Called by the bounded `count` of every search;
    docs/api-conventions.md, "How a search is planned"."""
    from sqlalchemy import text

    await session.execute(
        text(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
            "set_config('max_parallel_workers_per_gather', '0', true)"
        )
    )


async def count(session: Any, stmt: Select[Any], *, bound: int | None = None) -> Total:
    """The number of rows of `stmt`: exact, or with `bound`, exact up to `bound` and beyond it `bound`
    as a lower bound (the scan stops after bound + 1 rows). A bounded count is a search's: from it on,
    the transaction is planned for the term (`plan_each_search`)."""
    from sqlalchemy import func, select

    if bound is not None:
        await plan_each_search(session)

    inner = stmt.order_by(None)
    if bound is not None:
        inner = inner.limit(bound + 1)
    n = int(await session.scalar(select(func.count()).select_from(inner.subquery())) or 0)
    if bound is not None and n > bound:
        return Total(bound, "gte")
    return Total(n)


async def fetch_page(
    session: Any, stmt: Select[Any], lq: ListQuery, filterable: Mapping[str, Filterable], tiebreak: Any
) -> tuple[Sequence[Any], Total]:
    """One page of a filtered list plus the total (X-Total-Count) of the whole filtered list: exact,
    except for a free-text search (`q=`) past COUNT_BOUND matches, where it is a lower bound."""
    total = await count(session, stmt, bound=COUNT_BOUND if is_search(lq) else None)
    rows = (await session.scalars(apply_sort(stmt, lq, filterable, tiebreak).offset(lq.offset).limit(lq.limit))).all()
    return rows, total


MERGE_PATCH_TYPES = {"application/merge-patch+json", "application/json"}

M = TypeVar("M", bound=BaseModel)


async def read_json_object(request: Request, *, allowed_types: set[str] | None = None) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if allowed_types is not None and ctype not in allowed_types:
        raise UnsupportedMediaType(
            f"Content-Type {ctype!r} is not supported here; use one of {', '.join(sorted(allowed_types))}"
        )
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Malformed JSON body: {exc}") from None
    except RecursionError:
        raise BadRequest("Malformed JSON body: nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object")
    return data


def validate_model(model: type[M], data: Any) -> M:
    """Validate into a pydantic model, turning errors into the 422 envelope naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()]
        msg = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ValidationFailed(msg, field=errors[0]["field"], errors=errors) from None


async def read_merge_patch(request: Request, model: type[M]) -> tuple[M, set[str]]:
    """Parse a JSON merge patch (RFC 7396); plain application/json is treated as one.

    Returns the validated patch and the set of top-level keys that were present (null = remove).
    """
    data = await read_json_object(request, allowed_types=MERGE_PATCH_TYPES)
    return validate_model(model, data), set(data)


def id_or_404(value: str, resource: str) -> uuid.UUID:
    """A path id as UUID; anything that is not one is simply an unknown id (404)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{resource} {value} not found") from None


def uuid_filter(column: Any) -> Callable[[str, list[Any]], ColumnElement[bool]]:
    """A list-filter predicate for a UUID column (equality, comma = OR). An id that is not a UUID cannot
    exist, so it matches nothing: `?id=<anything>` answers 200 with the matches or `[]` (issue 10)."""

    def predicate(op: str, values: list[Any]) -> ColumnElement[bool]:
        if op != "eq":
            raise InvalidQuery(f"only equality filters apply to {column.key}")
        ids = []
        for v in values:
            try:
                ids.append(uuid.UUID(str(v)))
            except ValueError:
                continue
        return column.in_(ids)  # type: ignore[no-any-return]

    return predicate
