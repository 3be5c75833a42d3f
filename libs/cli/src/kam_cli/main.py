"""The `kam` command: run a whole federation on this machine.

    kam up [--topology deploy/topologies/demo.yaml] [--process-per service|node] [--detach] [--seed]
    kam status [--json]
    kam down [--purge]
    kam token --node CODE [--user NAME]    kam seed --node CODE
    kam node up --config node.yaml         (one node on its own machine: kam_cli.nodecmd)

Services add their own commands (`ServiceSpec.cli`, e.g. `kam import`, `kam sync status`) and their part
of `kam status` (the `status` hook); this module names none of them.

Start-up is kept light (issue 10: every command under 1 s): this module, the `kam node` commands and the
services' command modules import only typer, rich and the specs at load time; the runtime, the seeders,
the token issuer and everything they pull in (SQLAlchemy, FastAPI, the services) are imported by the
commands that use them, so `kam --help` imports no service code.

The run's state lives in `.kam/` of the repository (or the current directory): `run.json`, `logs/`,
and the data of the embedded PostgreSQL and nats-servers (kept between runs; `kam down --purge`
removes it). `DATABASE_URL` / `NATS_URL` point `kam up` at external servers.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from kam_cli.nodecmd import node_app
from kam_cli.services import SPECS
from kam_platform.service import RunningFederation, load_object

if TYPE_CHECKING:
    from kam_cli.runstate import RunState
    from kam_cli.runtime import Federation

app = typer.Typer(help="KAM federation on one machine.", no_args_is_help=True, add_completion=False)
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)

RUN_DIR_ENV = "KAM_RUN_DIR"
DEFAULT_TOPOLOGY = Path("deploy/topologies/demo.yaml")


def project_root(start: Path | None = None) -> Path:
    """The uv workspace root above `start` (default: the current directory), else `start`."""
    here = (start or Path.cwd()).absolute()
    for candidate in (here, *here.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.exists() and "[tool.uv.workspace]" in pyproject.read_text(encoding="utf-8"):
            return candidate
    return here


def me() -> str:
    """How the user runs this command, for the messages that tell them what to run next: the
    checkout's `./kam` launcher (relative to the current directory) when there is one, else `kam`."""
    launcher = project_root() / "kam"
    if not (launcher.is_file() and os.access(launcher, os.X_OK)):
        return "kam"
    rel = os.path.relpath(launcher)
    return rel if os.sep in rel else f".{os.sep}{rel}"


def run_dir_option(value: Path | None) -> Path:
    if value is not None:
        return value.absolute()
    env = os.environ.get(RUN_DIR_ENV)
    return Path(env).absolute() if env else project_root() / ".kam"


RunDir = Annotated[
    Path | None,
    typer.Option("--run-dir", help=f"state directory (default: .kam/ of the repository, or ${RUN_DIR_ENV})"),
]


class _Stop(Exception):
    """SIGTERM, turned into an exception so `kam up` unwinds and stops its children."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _print_nodes(process_per: str, nodes: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title=f"KAM federation ({process_per} mode)")
    for col in ("code", "tier", "parent", "name", "URL", "services"):
        table.add_column(col)
    for item in nodes:
        services = item["services"]
        assert isinstance(services, dict)
        flags = " ".join(
            f"[green]{name}[/green]" if info["healthy"] else f"[red]{name}✗[/red]" for name, info in services.items()
        )
        name = item.get("name")
        label = name.get("en", "") if isinstance(name, dict) else ""
        table.add_row(str(item["code"]), str(item["tier"]), str(item["parent"] or "—"), label, str(item["url"]), flags)
    console.print(table)


@app.command()
def up(
    topology: Annotated[Path | None, typer.Option(help="topology YAML (default: deploy/topologies/demo.yaml)")] = None,
    process_per: Annotated[
        str, typer.Option("--process-per", help="one process per 'service' (plus a gateway per node) or per 'node'")
    ] = "service",
    detach: Annotated[bool, typer.Option("--detach", "-d", help="return once everything is up")] = False,
    seed: Annotated[bool, typer.Option("--seed/--no-seed", help="load demo data once up")] = False,
    customers: Annotated[int, typer.Option(help="demo customers per local network when seeding")] = 300,
    run_dir: RunDir = None,
) -> None:
    """Start PostgreSQL, one nats-server per node and every service of every node."""
    from kam_cli.runtime import Federation, FederationError, ProcessPer

    if process_per not in ("service", "node"):
        err.print("[red]--process-per must be 'service' or 'node'[/red]")
        raise typer.Exit(2)
    mode: ProcessPer = "service" if process_per == "service" else "node"
    rdir = run_dir_option(run_dir)
    topo = (topology or project_root() / DEFAULT_TOPOLOGY).absolute()
    if not topo.exists():
        err.print(f"[red]topology file not found: {topo}[/red]")
        raise typer.Exit(2)

    existing = Federation.attach(rdir)
    if existing is not None:
        if existing.any_alive():
            err.print(
                f"[red]KAM is already running[/red] (started {existing.started_at}, state {existing.state_path}).\n"
                f"Use [bold]{me()} status[/bold] to see it, or [bold]{me()} down[/bold] to stop it first."
            )
            raise typer.Exit(1)
        console.print("[yellow]found a stale run.json (nothing running); cleaning up[/yellow]")
        existing.stop()

    fed = Federation(topo, rdir, process_per=mode, log=lambda msg: console.print(f"[dim]•[/dim] {msg}"))
    # Ctrl-C and SIGTERM both unwind through `fed.stop()`; SIGINT explicitly too, since a shell
    # starts background jobs with SIGINT ignored
    previous_term = signal.signal(signal.SIGTERM, _raise_stop)
    previous_int = signal.signal(signal.SIGINT, _raise_stop)
    try:
        try:
            fed.start()
        except (FederationError, OSError, RuntimeError, ImportError) as exc:  # everything was stopped
            err.print(f"[red]kam up failed:[/red] {type(exc).__name__}: {exc}\n(logs: {fed.logs_dir})")
            raise typer.Exit(1) from exc
        if seed:
            from kam_cli.seed import seed_federation

            try:
                ran = seed_federation(fed, customers=customers, warn=lambda m: console.print(f"[yellow]{m}[/yellow]"))
                console.print(f"[dim]•[/dim] seeded: {', '.join(ran) or 'nothing'}")
            except Exception as exc:  # keep the federation up for a look; the error says what failed
                err.print(f"[red]seeding failed:[/red] {type(exc).__name__}: {exc}")
        _print_nodes(fed.process_per, fed.status())
        leaf = next((rt.node.code for rt in fed.nodes.values() if not fed.topology.children(rt.node.code)), "hq")
        console.print(
            f"Get a token:  [bold]{me()} token --node {leaf} --user admin[/bold]   "
            f"(logs: {fed.logs_dir}, state: {fed.state_path})"
        )
        if detach:
            console.print(f"Running in the background; stop with [bold]{me()} down[/bold].")
            return
        console.print("Press Ctrl-C to stop.")
        _foreground(fed)
    except (KeyboardInterrupt, _Stop):
        console.print("\nstopping…")
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        fed.stop()
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


def _foreground(fed: Federation) -> None:
    """Watch the children until Ctrl-C / SIGTERM (which raise here) or `kam down` elsewhere."""
    import threading

    reported: set[str] = set()
    idle = threading.Event()
    while True:
        if not fed.state_path.exists():
            console.print("run.json removed (kam down?); exiting")
            return
        for code, rt in fed.nodes.items():
            for proc in rt.processes.values():
                key = f"{code}/{proc.name}"
                if key not in reported and not proc.alive():
                    reported.add(key)
                    err.print(f"[red]{key} exited[/red] (see {proc.log})")
            if rt.nats is not None and f"{code}/nats" not in reported and not rt.nats.running:
                reported.add(f"{code}/nats")
                err.print(f"[red]{code} nats-server exited[/red] (see {rt.nats.log_path})")
        idle.wait(1.0)


@app.command()
def down(
    run_dir: RunDir = None,
    purge: Annotated[bool, typer.Option("--purge", help="also delete the data (PostgreSQL, JetStream)")] = False,
) -> None:
    """Stop everything `kam up` started (harmless when nothing runs)."""
    import shutil

    from kam_cli.runtime import Federation

    rdir = run_dir_option(run_dir)
    fed = Federation.attach(rdir)
    if fed is None:
        console.print("nothing is running")
    else:
        console.print(f"stopping the federation started {fed.started_at}…")
        fed.stop()
        console.print("stopped")
    if purge:
        for sub in ("pg", "nats", "logs"):
            shutil.rmtree(rdir / sub, ignore_errors=True)
        console.print(f"removed data under {rdir}")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    run_dir: RunDir = None,
) -> None:
    """Each node and service with its health, tier, parent and URL. Exit code 1 unless all healthy."""
    from concurrent.futures import ThreadPoolExecutor

    from kam_cli.runstate import RunState, probe

    fed = RunState.load(run_dir_option(run_dir))  # run.json only: no runtime (issue 10)
    if fed is None:
        if as_json:
            print("[]")
        else:
            console.print(f"KAM is not running ({me()} up)")
        raise typer.Exit(1)
    parts = [part for spec in SPECS.values() if (part := spec.hook("status")) is not None]
    with ThreadPoolExecutor(max_workers=1) as pool:
        probing = pool.submit(probe, fed)  # every probe at once, while the operator tokens are issued
        if parts:  # the parts read each node with its operator token (CliContext.token): issue them at once
            _issue_tokens(fed, [(code, "admin", None, None) for code in fed.nodes])
        nodes = probing.result()
    printers: list[Callable[[], None]] = []
    for part in parts:  # each service adds its part (e.g. replication) to every node's entry
        printer = part(CONTEXT, fed, nodes)
        if printer is not None:
            printers.append(printer)
    if as_json:
        print(json.dumps(nodes, indent=2, ensure_ascii=False))
    else:
        _print_nodes(fed.process_per, nodes)
        for printer in printers:
            printer()
    healthy = all(n["healthy"] and all(s["healthy"] for s in n["services"].values()) for n in nodes)
    if not healthy:
        raise typer.Exit(1)


def _attach_or_exit(run_dir: Path | None) -> RunState:
    """The running federation as run.json records it (no runtime imported), or exit saying none runs."""
    from kam_cli.runstate import RunState

    fed = RunState.load(run_dir_option(run_dir))
    if fed is None:
        err.print(f"KAM is not running (start it with `{me()} up`)")
        raise typer.Exit(1)
    return fed


def _check_node(fed: RunningFederation, node: str) -> None:
    if node not in fed.topology:
        err.print(f"unknown node {node!r}; nodes: {', '.join(n.code for n in fed.topology.ordered())}")
        raise typer.Exit(2)


NodeOpt = Annotated[str, typer.Option("--node", help="node code, e.g. gd-gz")]


def _hook(name: str) -> Callable[..., Any]:
    """The installed service's hook `name`, or exit saying no installed service provides it."""
    for spec in SPECS.values():
        fn = spec.hook(name)
        if fn is not None:
            return fn
    err.print(f"no installed service provides {name!r} (kam_platform.service.HOOKS)")
    raise typer.Exit(1)


TokenKey = tuple[str, str, str | None, str | None]  # node, user, scope, scope level
_tokens: dict[TokenKey, str | Exception] = {}  # what this process issued (or failed to), by key


def _issue_tokens(fed: RunningFederation, keys: list[TokenKey]) -> None:
    """Issue the operator tokens `keys` not issued yet, all at once (one event loop, one connection
    per node), from the token issuer's `issue_token` hook; a failure is kept and raised on use."""
    import asyncio

    todo = [key for key in dict.fromkeys(keys) if key not in _tokens]
    if not todo:
        return
    issue_token = _hook("issue_token")

    async def one(key: TokenKey) -> str:
        node, user, scope, scope_level = key
        extra = {"scope_level": scope_level} if scope_level else {}
        token: str = await issue_token(fed.database_url(node), node, user, fed.topology, scope_node=scope, **extra)
        return token

    async def all_of() -> list[str | BaseException]:
        return await asyncio.gather(*(one(key) for key in todo), return_exceptions=True)

    for key, result in zip(todo, asyncio.run(all_of()), strict=True):
        if isinstance(result, Exception):
            _tokens[key] = result
        elif isinstance(result, BaseException):  # KeyboardInterrupt and the like: not a token failure
            raise result
        else:
            _tokens[key] = result


def _operator_token(
    fed: RunningFederation, node: str, user: str = "admin", scope: str | None = None, scope_level: str | None = None
) -> str:
    """A bearer token for an existing user of a node, from the token issuer's `issue_token` hook."""
    key = (node, user, scope, scope_level)
    _issue_tokens(fed, [key])
    token = _tokens[key]
    if isinstance(token, Exception):
        raise token
    return token


class _Context:
    """What the services' own commands get from `kam` (kam_platform.service.CliContext)."""

    console = console
    err = err

    def attach(self, run_dir: Path | None) -> RunningFederation:
        return _attach_or_exit(run_dir)

    def check_node(self, fed: RunningFederation, node: str) -> None:
        _check_node(fed, node)

    def token(self, fed: RunningFederation, node: str, user: str = "admin", scope: str | None = None) -> str:
        return _operator_token(fed, node, user, scope)


CONTEXT = _Context()


@app.command()
def token(
    node: NodeOpt,
    user: Annotated[str, typer.Option("--user", help="staff user name at that node")] = "admin",
    scope: Annotated[str | None, typer.Option("--scope", help="narrow the data scope to a descendant")] = None,
    scope_level: Annotated[
        str | None, typer.Option("--scope-level", help="node (default), team or own: the portfolio level")
    ] = None,
    run_dir: RunDir = None,
) -> None:
    """Print a bearer token for an existing user of a node (operator shortcut, no password)."""
    from kam_platform.errors import KamError

    fed = _attach_or_exit(run_dir)
    _check_node(fed, node)
    try:
        print(_operator_token(fed, node, user, scope, scope_level))
    except KamError as exc:
        err.print(f"cannot issue a token: {exc.message}")
        raise typer.Exit(1) from None
    except OSError as exc:  # the node's database is down or unreachable
        err.print(f"cannot issue a token: the database of {node} is unreachable ({exc})")
        raise typer.Exit(1) from None
    except Exception as exc:  # asyncpg's refusals (password, database missing, starting up) are no OSError
        import asyncpg

        if not isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
            raise
        err.print(f"cannot issue a token: the database of {node} refused ({type(exc).__name__}: {exc})")
        raise typer.Exit(1) from None


@app.command()
def seed(
    node: NodeOpt,
    customers: Annotated[int, typer.Option("--customers", min=0, help="key accounts to seed at the node")] = 300,
    run_dir: RunDir = None,
) -> None:
    """Seed realistic demo data (every service's seeder: staff, key accounts, contacts...) at one node;
    idempotent."""
    from kam_cli.seed import seed_node

    fed = _attach_or_exit(run_dir)
    _check_node(fed, node)
    ran = seed_node(SPECS, fed.database_url(node), node, fed.topology, customers=customers)
    console.print(f"seeded {', '.join(ran) or 'nothing'} at {node}")


app.add_typer(node_app, name="node")  # one node on its own machine (kam_cli.node)

for _spec in SPECS.values():  # the services' own commands
    if _spec.cli is not None:
        load_object(_spec.cli)(app, CONTEXT)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
