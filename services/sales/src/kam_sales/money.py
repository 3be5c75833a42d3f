"""Money as TMF630 wants it: ``{unit, value}`` with decimals, never floats (DESIGN §4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from kam_platform.api import ApiModel

# ISO 4217; the federation trades in yuan today, the field says so rather than assuming it
CURRENCIES = ("CNY", "USD", "EUR", "HKD")
MAX_AMOUNT = Decimal("99999999999999.99")  # numeric(16, 2)
CENT = Decimal("0.01")


class Money(ApiModel):
    """An amount of money: ``value`` a decimal with at most two places (a JSON string or number),
    ``unit`` an ISO 4217 currency code."""

    unit: Annotated[str, Field(description="ISO 4217 currency code", examples=["CNY"])]
    value: Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2, allow_inf_nan=False)]

    @field_validator("value")
    @classmethod
    def _cents(cls, v: Decimal) -> Decimal:
        return v.quantize(CENT)

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if v not in CURRENCIES:
            raise ValueError(f"unknown currency {v!r} (one of {', '.join(CURRENCIES)})")
        return v


def money_json(m: Money) -> dict[str, str]:
    """The stored (and answered) form: the value as a decimal string, so no float ever carries it."""
    return {"unit": m.unit, "value": f"{m.value.quantize(CENT)}"}
