"""The data scope's levels (F19 职责) as tokens carry them, and the WHERE clause they become: the node
subtree always, the portfolio at the team and own levels, and nothing at all where a table has no
way to a customer's account manager (closed, never open)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql

from kam_platform.auth import Principal, ScopeLevel, principal_from_claims, scope_filter
from kam_platform.errors import Unauthorized
from kam_platform.topology import Topology

TOPOLOGY = Topology.load(Path(__file__).resolve().parents[3] / "deploy" / "topologies" / "demo.yaml")
ROWS = Table("row", MetaData(), Column("owner_node", String), Column("account_manager", String))


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "am01", "node": "gd-gz", "roles": [], "perms": [], **extra}


def where(principal: Principal, *, portfolio: bool) -> str:
    clause = scope_filter(
        ROWS.c.owner_node,
        principal,
        TOPOLOGY,
        portfolio=(lambda managers: ROWS.c.account_manager.in_(sorted(managers))) if portfolio else None,
    )
    stmt = select(ROWS.c.owner_node).where(clause)
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def test_a_token_without_a_level_is_node_level_and_sees_the_subtree() -> None:
    p = principal_from_claims(claims(), TOPOLOGY)
    assert p.scope_level is ScopeLevel.NODE and p.portfolio == frozenset() and not p.by_portfolio
    assert p.sees_portfolio_of(None) and p.sees_portfolio_of("am99")
    sql = where(p, portfolio=True)
    assert "owner_node = 'gd-gz'" in sql and "account_manager" not in sql


def test_own_level_is_the_user_alone_whatever_the_token_lists() -> None:
    p = principal_from_claims(claims(scope_level="own", portfolio=["am02"]), TOPOLOGY)
    assert p.scope_level is ScopeLevel.OWN and p.portfolio == {"am01"}
    assert p.sees_portfolio_of("am01") and not p.sees_portfolio_of("am02") and not p.sees_portfolio_of(None)
    assert "account_manager IN ('am01')" in where(p, portfolio=True)


def test_team_level_is_the_listed_members_and_the_user() -> None:
    p = principal_from_claims(claims(scope_level="team", portfolio=["am02", "am03"]), TOPOLOGY)
    assert p.portfolio == {"am01", "am02", "am03"}
    sql = where(p, portfolio=True)
    assert "owner_node = 'gd-gz'" in sql and "account_manager IN ('am01', 'am02', 'am03')" in sql


def test_a_portfolio_scope_on_rows_without_an_account_manager_sees_nothing() -> None:
    p = principal_from_claims(claims(scope_level="own"), TOPOLOGY)
    assert "false" in where(p, portfolio=False)


@pytest.mark.parametrize(
    "extra",
    [
        {"scope_level": "everything"},
        {"scope_level": "team", "portfolio": "am02"},
        {"scope_level": "team", "portfolio": [1]},
    ],
)
def test_malformed_levels_are_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized):
        principal_from_claims(claims(**extra), TOPOLOGY)
