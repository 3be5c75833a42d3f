"""A free-text search is planned for its own term (issue 13): its transaction plans every statement for
its parameters, serially, so PostgreSQL's generic plan of a prepared statement (which cannot see how
many rows `name LIKE '%人民医院%'` matches, and at 1,000,000 customers chose a sequential scan over the
trigram bitmap) never answers a search. Lists without `q=` keep the server's defaults. And the group's
data scope is every record held: no owner clause at the root (docs/api-conventions.md, "Search")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from kam_customer.main import MIGRATIONS
from kam_customer.models import Customer
from kam_platform.auth import principal_from_claims, scope_filter
from kam_platform.db import create_database
from kam_platform.tmf import ListQuery, fetch_page
from kam_platform.topology import Topology

TOPOLOGY = Topology.load(Path(__file__).resolve().parents[3] / "deploy" / "topologies" / "demo.yaml")


async def _settings(session: Any) -> tuple[str, str]:
    row = (
        await session.execute(
            text("SELECT current_setting('plan_cache_mode'), current_setting('max_parallel_workers_per_gather')")
        )
    ).one()
    return row[0], row[1]


async def test_a_search_plans_for_its_term_and_a_plain_list_keeps_the_defaults(make_database: Any) -> None:
    db = create_database(make_database("test_customer_search_plans", [MIGRATIONS]))
    stmt = select(Customer).where(Customer.deleted_at.is_(None))
    try:
        async with db.sessionmaker() as session:
            defaults = await _settings(session)
            assert defaults[0] == "auto"
            await fetch_page(session, stmt, ListQuery(limit=5), {}, Customer.id)
            assert await _settings(session) == defaults

            searched = stmt.where(Customer.name.like("%人民医院%"))
            for _ in range(7):  # past the five executions after which a generic plan may be kept
                await fetch_page(session, searched, ListQuery(limit=5, q="人民医院"), {}, Customer.id)
                assert await _settings(session) == ("force_custom_plan", "0")
            # for the search's transaction only
            await session.rollback()
            assert await _settings(session) == defaults
    finally:
        await db.dispose()


def _where(scope_node: str) -> str:
    principal = principal_from_claims({"sub": "u", "node": scope_node, "roles": [], "perms": []}, TOPOLOGY)
    clause = scope_filter(Customer.owner_node, principal, TOPOLOGY)
    compiled = (
        select(Customer.id).where(clause).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    return str(compiled)


def test_the_groups_scope_has_no_owner_clause_and_a_provinces_lists_its_subtree() -> None:
    assert "owner_node" not in _where(TOPOLOGY.root.code)
    province = _where("gd")
    assert "owner_node IN (" in province and all(f"'{n}'" in province for n in TOPOLOGY.subtree("gd"))
    assert "'js'" not in province
    assert "customer.owner_node = 'gd-gz'" in _where("gd-gz")
