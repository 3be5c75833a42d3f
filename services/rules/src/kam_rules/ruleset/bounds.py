"""Bounds: what a refinement below may change in the rule it refines.

A rule set declares bounds as a list of ``{"path", "allow", "min", "max"}``. ``path`` names parameter
leaves with dots, ``*`` standing for one segment (``timers.*.*.responseMinutes``); ``allow`` is
``decrease`` (tighten a time limit: never above the refined value), ``increase`` (never below it) or
``any``; ``min``/``max`` are absolute limits. A leaf no bound names is fixed: a refinement keeps the
refined value. A refinement inherits the bounds of the rule it refines (it cannot widen them), so a
chain hq → gd → gd-gz stays within what hq declared.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kam_platform.errors import ValidationFailed


class Bound(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_*]+(\.[A-Za-z0-9_*]+)*$")]
    allow: Literal["decrease", "increase", "any"] = "any"
    min: Decimal | None = None
    max: Decimal | None = None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Parameter leaves by dotted path (list items by index)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}{i}."))
        if not value:
            out[prefix.rstrip(".")] = []
    else:
        out[prefix.rstrip(".")] = value
    return out


def matches(pattern: str, path: str) -> bool:
    p, q = pattern.split("."), path.split(".")
    return len(p) == len(q) and all(a in ("*", b) for a, b in zip(p, q, strict=True))


def _num(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def check_declared(bounds: list[Bound], parameters: dict[str, Any]) -> None:
    """Every bound names at least one parameter of the rule that declares it."""
    leaves = flatten(parameters)
    for i, b in enumerate(bounds):
        if not any(matches(b.path, p) for p in leaves):
            raise ValidationFailed(
                f"bounds[{i}].path: {b.path!r} names no parameter of this rule", field=f"bounds.{i}.path"
            )
        if b.min is not None and b.max is not None and b.min > b.max:
            raise ValidationFailed(f"bounds[{i}]: min {b.min} is above max {b.max}", field=f"bounds.{i}")


def check_refinement(bounds: list[Bound], base: dict[str, Any], refined: dict[str, Any], *, base_label: str) -> None:
    """Refuse (422 naming the parameter and the bound) a refinement outside the bounds of `base`."""
    old, new = flatten(base), flatten(refined)
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        field = f"parameters.{path}"
        bound = next((x for x in bounds if matches(x.path, path)), None)
        if bound is None:
            raise ValidationFailed(
                f"{field}: {base_label} fixes this parameter at {a!r}; a refinement may not change it "
                "(no bound allows it)",
                field=field,
            )
        na, nb = _num(a), _num(b)
        constrained = bound.allow != "any" or bound.min is not None or bound.max is not None
        if constrained and (nb is None or (na is None and bound.allow != "any")):
            raise ValidationFailed(f"{field}: bound {bound.path!r} of {base_label} needs a number", field=field)
        if nb is None:
            continue
        if bound.allow == "decrease" and na is not None and nb > na:
            raise ValidationFailed(
                f"{field}: {b} loosens the bound {bound.path!r} of {base_label}: it may only be tightened "
                f"(at most {a})",
                field=field,
            )
        if bound.allow == "increase" and na is not None and nb < na:
            raise ValidationFailed(
                f"{field}: {b} loosens the bound {bound.path!r} of {base_label}: it may only be raised (at least {a})",
                field=field,
            )
        if bound.min is not None and nb < bound.min:
            raise ValidationFailed(f"{field}: {b} is below the bound {bound.path!r} min {bound.min}", field=field)
        if bound.max is not None and nb > bound.max:
            raise ValidationFailed(f"{field}: {b} is above the bound {bound.path!r} max {bound.max}", field=field)
