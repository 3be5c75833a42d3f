"""The sync service's `kam` commands (`kam sync status`, `kam sync resync --node CODE`) and its part of
`kam status` (each node's replication), registered through `ServiceSpec.cli` and the `status` hook."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kam_platform.service import CliContext, RunningFederation

# no `from __future__ import annotations`: typer reads these annotations at run time, in this module
NodeOpt = Annotated[str, typer.Option("--node", help="node code, e.g. gd-gz")]
RunDir = Annotated[Path | None, typer.Option("--run-dir", help="state directory (default: .kam/ of the repository)")]

STATUS = "/api/v1/sync/status"
RESYNC = "/api/v1/sync/resync"


def replication_status(ctx: CliContext, fed: RunningFederation) -> dict[str, dict[str, Any] | None]:
    """Each node's replication status, read with an operator token (None where unavailable)."""
    import json
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    codes = [node.code for node in fed.topology.ordered()]
    tokens: dict[str, str | None] = {}
    for code in codes:  # the tokens first (kam issues them in one go), then every node is asked at once
        try:
            tokens[code] = ctx.token(fed, code, "admin")
        except Exception:  # an operator's overview: a node that cannot answer shows as unknown
            tokens[code] = None

    def read(code: str) -> dict[str, Any] | None:
        token = tokens[code]
        if token is None:
            return None
        # urllib, not httpx: `kam status` imports no HTTP client library (issue 10: under 1 s)
        url = fed.node_url(code) + STATUS
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=5.0) as resp:  # noqa: S310 (the run's own node URL)
                body: dict[str, Any] | None = json.loads(resp.read()) if resp.status == 200 else None
                return body
        except Exception:  # refused (4xx/5xx raise), unreachable or not JSON: unknown
            return None

    with ThreadPoolExecutor(max_workers=max(1, len(codes))) as pool:
        return dict(zip(codes, pool.map(read, codes), strict=True))


def print_replication(ctx: CliContext, replication: dict[str, dict[str, Any] | None]) -> None:
    table = Table(title="Replication (✗ = link down or source behind)")
    for col in ("node", "state", "links", "sources (lag, idle s)", "apply pending", "dead letters"):
        table.add_column(col)
    for code, st in replication.items():
        if st is None:
            table.add_row(code, "[yellow]unknown[/yellow]", "", "", "", "")
            continue
        links = " ".join(f"{lk['peer']}{'✓' if lk['connected'] else '[red]✗[/red]'}" for lk in st.get("links", []))
        sources = []
        for stream in st.get("streams", []):
            for src in stream.get("sources", []):
                mark = "" if src["ok"] else " [red]✗[/red]"
                sources.append(f"{stream['name']}←{src['name']} ({src['lag']}, {src['idleSeconds']}){mark}")
        pending = sum(c["pending"] for c in st.get("consumers", []))
        dead = sum(st.get("deadLetters", {}).values())
        state = "[green]ok[/green]" if st.get("state") == "ok" else f"[red]{st.get('state')}[/red]"
        table.add_row(code, state, links, "\n".join(sources), str(pending), f"[red]{dead}[/red]" if dead else "0")
    ctx.console.print(table)


def status(ctx: CliContext, fed: RunningFederation, nodes: list[dict[str, Any]]) -> Callable[[], None] | None:
    """`kam status`: each node's entry gains `replication`; returns what prints the table."""
    replication = replication_status(ctx, fed)
    for item in nodes:
        item["replication"] = replication.get(str(item["code"]))
    return (lambda: print_replication(ctx, replication)) if replication else None


def register(app: typer.Typer, ctx: CliContext) -> None:
    sync_app = typer.Typer(help="Federation: replication status and resync.", no_args_is_help=True)
    app.add_typer(sync_app, name="sync")

    @sync_app.command("resync")
    def sync_resync(
        node: NodeOpt,
        reason: Annotated[str | None, typer.Option("--reason")] = None,
        restore: Annotated[
            bool,
            typer.Option(
                "--restore", help="the node was restored from an older backup: its parent sends back what it lost"
            ),
        ] = False,
        run_dir: RunDir = None,
    ) -> None:
        """Force a resync of a node: it and its subtree republish their records, its ancestors their reference
        data; with --restore its parent also sends down its replicas of the node's subtree's records."""
        fed = ctx.attach(run_dir)
        ctx.check_node(fed, node)
        body: dict[str, Any] = {"reason": reason} if reason else {}
        if restore:
            body["restore"] = True
        import httpx

        resp = httpx.post(
            fed.node_url(node) + RESYNC,
            json=body,
            headers={"Authorization": f"Bearer {ctx.token(fed, node, 'admin')}"},
            timeout=30.0,
        )
        if resp.status_code != 202:
            ctx.err.print(f"resync refused: {resp.status_code} {resp.text}")
            raise typer.Exit(1)
        ctx.console.print(f"resync of {node} requested ({resp.json()['id']}){' with restore' if restore else ''}")

    @sync_app.command("status")
    def sync_status(run_dir: RunDir = None) -> None:
        """Replication status of every node: links, sources, apply consumers, dead letters."""
        fed = ctx.attach(run_dir)
        replication = replication_status(ctx, fed)
        print_replication(ctx, replication)
        if any(st is None or st.get("state") != "ok" for st in replication.values()):
            raise typer.Exit(1)
