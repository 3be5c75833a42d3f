"""The customer service's `kam` commands: `kam import FILE --node CODE` and `kam export --node CODE`
(registered through `ServiceSpec.cli`; the transfer itself is kam_customer.importexport.cli)."""

from pathlib import Path
from typing import Annotated

import typer

from kam_platform.service import CliContext

# the transfer (kam_customer.importexport.cli: FastAPI, SQLAlchemy) is imported by the commands that run
# it, so that every other `kam` command starts without it (issue 10)

# no `from __future__ import annotations`: typer reads these annotations at run time, in this module
NodeOpt = Annotated[str, typer.Option("--node", help="node code, e.g. gd-gz")]
RunDir = Annotated[Path | None, typer.Option("--run-dir", help="state directory (default: .kam/ of the repository)")]


def register(app: typer.Typer, ctx: CliContext) -> None:
    @app.command("import")
    def import_customers(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX file")],
        node: NodeOpt,
        user: Annotated[str, typer.Option("--user")] = "admin",
        run_dir: RunDir = None,
    ) -> None:
        """Import key accounts from CSV/XLSX at a node (idempotent by customer code; bad rows reported)."""
        from kam_customer.importexport.cli import TransferError, import_file

        fed = ctx.attach(run_dir)
        ctx.check_node(fed, node)
        try:
            result = import_file(fed.node_url(node), ctx.token(fed, node, user), file)
        except TransferError as exc:
            ctx.err.print(f"import refused: {exc}")
            raise typer.Exit(1) from None
        ctx.console.print(
            f"received {result['received']}, created {result['created']}, updated {result['updated']}, "
            f"rejected {result['rejected']}"
        )
        for e in result.get("errors", [])[:20]:
            ctx.console.print(f"  row {e.get('row')} {e.get('column')}: {e.get('message')}")
        if result["rejected"]:
            raise typer.Exit(3)

    @app.command("export")
    def export_customers(
        node: NodeOpt,
        fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
        out: Annotated[Path | None, typer.Option("--out")] = None,
        user: Annotated[str, typer.Option("--user")] = "admin",
        scope: Annotated[str | None, typer.Option("--scope")] = None,
        query: Annotated[list[str] | None, typer.Option("--filter", help="list filter, e.g. grade=A or q=银行")] = None,
        run_dir: RunDir = None,
    ) -> None:
        """Export the user's scoped (optionally filtered) key accounts to CSV/XLSX with constant memory."""
        from kam_customer.importexport.cli import TransferError, export_file

        fed = ctx.attach(run_dir)
        ctx.check_node(fed, node)
        filters = dict(f.split("=", 1) for f in (query or []) if "=" in f)
        try:
            path = export_file(fed.node_url(node), ctx.token(fed, node, user, scope), fmt=fmt, out=out, filters=filters)
        except TransferError as exc:
            ctx.err.print(f"export refused: {exc}")
            raise typer.Exit(1) from None
        ctx.console.print(f"wrote {path}")
