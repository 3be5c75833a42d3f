"""The org service's `kam` commands: `kam admin create --node CODE` (registered through
`ServiceSpec.cli`): a node's bootstrap administrator with a one-time password (kam_org.auth.bootstrap)."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from kam_platform.service import CliContext

# kam_org.auth.bootstrap (the org models, SQLAlchemy) is imported by the command that runs it, so that
# every other `kam` command starts without it (issue 10)

# no `from __future__ import annotations`: typer reads these annotations at run time, in this module
NodeOpt = Annotated[str, typer.Option("--node", help="node code, e.g. gd-gz")]
RunDir = Annotated[Path | None, typer.Option("--run-dir", help="state directory (default: .kam/ of the repository)")]


def register(app: typer.Typer, ctx: CliContext) -> None:
    admin = typer.Typer(help="A node's administrator.", no_args_is_help=True)

    @admin.command("create")
    def create(
        node: NodeOpt,
        username: Annotated[str, typer.Option("--username", help="the administrator's user name")] = "admin",
        reset: Annotated[
            bool, typer.Option("--reset", help="the user exists: give it a new one-time password")
        ] = False,
        run_dir: RunDir = None,
    ) -> None:
        """Create the node's bootstrap administrator (roles sys_admin, ka_dept_manager) and print its
        one-time password once; it must be changed at the first login (the console asks for it)."""
        from kam_org.auth.bootstrap import bootstrap_admin_at

        fed = ctx.attach(run_dir)
        ctx.check_node(fed, node)
        done = asyncio.run(bootstrap_admin_at(fed.database_url(node), node, fed.topology, username, reset))
        if done is None:
            ctx.err.print(f"user {username!r} already exists at {node}; --reset gives it a new one-time password")
            raise typer.Exit(1)
        ctx.console.print(f"{'created' if done.created else 'reset'} {done.username} at {node}: {fed.node_url(node)}")
        print(f"one-time password: {done.password}")
        ctx.console.print("it is shown once; the first login must change it")

    app.add_typer(admin, name="admin")
