"""`kam node …`: run one node on its own machine (kam_cli.node), join it to its parent, and manage the
credentials of its children.

    kam node up --config node.yaml [--detach] [--seed]     kam node down --config node.yaml
    kam node status --config node.yaml [--json]            kam node token --config node.yaml
    kam node credentials --config gd.yaml --child gd-gz [--out gd-gz.credentials.json]
    kam node credentials --config gd.yaml --revoke gd-gz
    kam node dev-ca --dir certs --node gd --host gd.kam.example --host 10.0.0.2
    kam node resync --config node.yaml      kam node migrate --node gd --topology t.yaml
    kam node manifests --out DIR            (deploy/'s service part, from the installed specs)
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

# the node host, its config, the CA and the runtime are imported by the commands that use them, so
# that `kam --help` and every other `kam` command start without them (issue 10: a CLI under 1 s)
if TYPE_CHECKING:
    from kam_cli.node import NodeHost

node_app = typer.Typer(help="One node on its own machine: up, down, status, credentials.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="the node's node.yaml")]


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _load(config: Path) -> NodeHost:
    from kam_cli.node import NodeHost
    from kam_cli.nodeconfig import NodeConfig, NodeConfigError

    try:
        cfg = NodeConfig.load(config)
        return NodeHost(cfg, log=lambda msg: console.print(f"[dim]•[/dim] {msg}"))
    except (NodeConfigError, KeyError) as exc:
        err.print(f"[red]invalid node config:[/red] {exc}")
        raise typer.Exit(2) from None


def _attached(config: Path) -> NodeHost:
    host = _load(config)
    if not host.attach():
        err.print(f"node {host.code} is not running (no {host.state_path}); start it with `kam node up`")
        raise typer.Exit(1)
    return host


@node_app.command("up")
def node_up(
    config: ConfigOpt,
    detach: Annotated[bool, typer.Option("--detach", "-d", help="return once the node is up")] = False,
    seed: Annotated[bool, typer.Option("--seed/--no-seed", help="run the services' seeders once up")] = False,
    customers: Annotated[int, typer.Option(help="demo customers when seeding")] = 0,
    pg_fast: Annotated[bool, typer.Option("--pg-fast", hidden=True, help="embedded PostgreSQL without fsync")] = False,
) -> None:
    """Start this node: PostgreSQL, nats-server (or the external ones), migrations, its services."""
    from kam_cli.runtime import FederationError
    from kam_platform.embedded.natsauth import CredentialsError

    host = _load(config)
    host.pg_fast = pg_fast
    existing = _load(config)
    if existing.attach():
        if existing.any_alive():
            err.print(
                f"[red]node {host.code} is already running[/red] (state {host.state_path}); `kam node down` first"
            )
            raise typer.Exit(1)
        existing.stop()
    previous_term = signal.signal(signal.SIGTERM, _raise_stop)
    previous_int = signal.signal(signal.SIGINT, _raise_stop)
    try:
        try:
            link = host.start()
        except (FederationError, CredentialsError, OSError, RuntimeError, ImportError) as exc:
            err.print(f"[red]kam node up failed:[/red] {type(exc).__name__}: {exc}\n(logs: {host.logs_dir})")
            raise typer.Exit(1) from exc
        if link is not None:
            if link.connected:
                console.print(f"[green]✓[/green] {link.message}")
            elif link.refused:
                err.print(f"[red]✗ {link.message}[/red]")
            else:
                err.print(f"[yellow]! {link.message}[/yellow]")
        if seed:
            from kam_cli.seed import seed_node

            ran = seed_node(host.specs, host.rt_or_fail().database_url, host.code, host.topology, customers=customers)
            console.print(f"[dim]•[/dim] seeded: {', '.join(ran) or 'nothing'}")
        joined = host.data_dir / "joined"
        if link is not None and link.connected and not joined.exists():
            # a node joining late catches up by snapshot: its ancestors republish their reference data
            # (and its subtree, its own records); harmless when nothing was missed
            try:
                resp = host.request_resync("joined the federation")
                if resp.status_code == 202:
                    joined.write_text(host.started_at or "", encoding="utf-8")
                    console.print("[dim]•[/dim] first link to the parent: resync requested")
                else:
                    err.print(f"[yellow]resync on joining refused: {resp.status_code} {resp.text}[/yellow]")
            except Exception as exc:  # e.g. no operator user yet: the node runs; `kam node resync` later
                err.print(f"[yellow]resync on joining not requested: {exc}[/yellow]")
        console.print(f"node [bold]{host.code}[/bold] at {host.rt_or_fail().url} (logs {host.logs_dir})")
        if detach:
            return
        console.print("Press Ctrl-C to stop.")
        host.watch(lambda m: err.print(f"[red]{m}[/red]"), stop=lambda: False)
    except (KeyboardInterrupt, _Stop):
        console.print("\nstopping…")
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        host.stop()
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


@node_app.command("down")
def node_down(config: ConfigOpt) -> None:
    """Stop this node (harmless when it is not running)."""
    host = _load(config)
    if not host.attach():
        console.print("nothing is running")
        return
    host.stop()
    console.print(f"node {host.code} stopped")


@node_app.command("status")
def node_status(
    config: ConfigOpt, as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False
) -> None:
    """Health, the parent link (and why it is refused), the children's links and credentials. Exit code
    1 unless the node is ready and its parent link is up."""
    host = _load(config)
    running = host.attach()
    st = host.status()
    if as_json:
        print(json.dumps(st, indent=2, ensure_ascii=False))
    else:
        console.print(f"node [bold]{st['code']}[/bold] ({st['tier']}), {'running' if st['running'] else 'stopped'}")
        if running:
            console.print(f"  URL {st.get('url')}  health {st.get('healthy')}  ready {st.get('ready')}")
        link = st.get("parent_link")
        if link is not None:
            mark = "[green]✓[/green]" if link["connected"] else "[red]✗[/red]"
            console.print(f"  parent {st['parent']}: {mark} {link['message']}")
        for child, up in (st.get("children_links") or {}).items():
            mark = "[green]✓[/green]" if up else "[red]✗[/red]"
            console.print(f"  child {child}: {mark}")
        for child, why in (st.get("refused_children") or {}).items():
            err.print(f"  [red]refused link from {child}[/red] at {why['at']}: {why['why']}")
    link = st.get("parent_link")
    if not (st.get("ready") and (link is None or link["connected"])):
        raise typer.Exit(1)


@node_app.command("credentials")
def node_credentials(
    config: ConfigOpt,
    child: Annotated[str | None, typer.Option("--child", help="issue (or rotate) this child's credentials")] = None,
    revoke: Annotated[str | None, typer.Option("--revoke", help="revoke this child's credentials")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default <child>.credentials.json)")] = None,
) -> None:
    """At a parent: issue a child's leafnode credentials (a file the child's config names), or revoke
    them (a link it holds is cut)."""
    if (child is None) == (revoke is None):
        err.print("give exactly one of --child CODE or --revoke CODE")
        raise typer.Exit(2)
    from kam_cli.runtime import FederationError

    host = _load(config)
    try:
        if child is not None:
            target = (out or Path(f"{child}.credentials.json")).absolute()
            creds = host.issue(child, target)
            console.print(f"credentials of {child} (leafnode user {creds.user}) written to {target} (0600)")
            if creds.parent_url is None:
                console.print(
                    "[yellow]the parent's leafnode URL is unknown (nats.leafnodes.advertise): the child's "
                    "config must give parent.url[/yellow]"
                )
        else:
            assert revoke is not None
            if host.revoke(revoke):
                console.print(f"credentials of {revoke} revoked; its link is refused from now on")
            else:
                console.print(f"{revoke} held no credentials in force")
    except FederationError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@node_app.command("token")
def node_token(config: ConfigOpt, user: Annotated[str, typer.Option("--user")] = "admin") -> None:
    """A bearer token for an existing user of this node (operator shortcut; needs its database)."""
    host = _attached(config)
    print(host.token(user))


@node_app.command("resync")
def node_resync(config: ConfigOpt, reason: Annotated[str, typer.Option("--reason")] = "operator") -> None:
    """Resync this node: its subtree republishes its records, its ancestors their reference data."""
    host = _attached(config)
    resp = host.request_resync(reason)
    if resp.status_code != 202:
        err.print(f"resync refused: {resp.status_code} {resp.text}")
        raise typer.Exit(1)
    console.print(f"resync of {host.code} requested")


@node_app.command("migrate")
def node_migrate(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="the node's node.yaml")] = None,
    node: Annotated[str | None, typer.Option("--node", help="node code (without --config)")] = None,
    topology: Annotated[Path | None, typer.Option("--topology", help="topology YAML (without --config)")] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", envvar="DATABASE_URL", help="the node's database")
    ] = None,
) -> None:
    """Apply every service's migrations (and the after-migrate hooks) to the node's database: what a
    deployment runs before it starts a new version (the Helm pre-upgrade job, compose's `migrate`)."""
    from kam_cli.nodeconfig import NodeConfig
    from kam_cli.runtime import FederationError, NodeRuntime, default_migrate, migrate_node
    from kam_cli.services import SPECS
    from kam_platform.embedded.postgres import asyncpg_url
    from kam_platform.topology import Topology

    if config is not None:
        cfg = NodeConfig.load(config)
        topo, code, url = cfg.build_topology(), cfg.code, database_url or cfg.database.url
    elif node is not None and topology is not None:
        topo, code, url = Topology.load(topology), node, database_url
    else:
        err.print("give --config, or --node and --topology")
        raise typer.Exit(2)
    if not url:
        err.print("no database: --database-url, DATABASE_URL or database.url in the config")
        raise typer.Exit(2)
    rt = NodeRuntime(node=topo.node(code), database_url=asyncpg_url(url), nats_url="", nats=None)
    try:
        done = migrate_node(rt, SPECS, topo, default_migrate)
    except FederationError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"migrated {', '.join(done)} at {code}")


@node_app.command("manifests")
def node_manifests(
    out: Annotated[Path, typer.Option("--out", help="directory for the generated files")] = Path("kam-manifests"),
) -> None:
    """The service part of deploy/'s manifests from the installed services' specs: a compose override
    (one container per service) and the Helm chart's service values."""
    from kam_cli.manifests import write_manifests
    from kam_cli.services import SPECS

    for path in write_manifests(SPECS, out.absolute()):
        console.print(f"wrote {path}")


@node_app.command("dev-ca")
def node_dev_ca(
    directory: Annotated[Path, typer.Option("--dir", help="where the CA and certificates go")],
    node: Annotated[list[str], typer.Option("--node", help="a node to make a certificate for (repeatable)")],
    hosts: Annotated[
        list[str] | None, typer.Option("--host", help="DNS name or IP address in every certificate (repeatable)")
    ] = None,
) -> None:
    """A development CA and one certificate per node (TLS on leafnode links and the node's port). Not for
    production: use your PKI there."""
    from kam_cli.devca import make_ca, make_node_cert

    ca, _ = make_ca(directory)
    for code in node:
        cert, key = make_node_cert(directory, code, hosts or [])
        console.print(f"{code}: {cert} {key}")
    console.print(f"CA: {ca}")
