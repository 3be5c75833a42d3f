"""Browser tests of the web console (issue 9): ONE real federation (trio: hq → gd → gd-gz, one process
per node, every node serving console/dist) shared by the modules that use it, which run in a row, and
stopped after the last of them (not per session: a session-wide one stayed up, with all its processes,
while the federation tests ran, and every one of those failed at set-up), seeded with demo staff and key
accounts, and Debian's chromium driven by Playwright (no browser download).

Screenshots go to test-results/e2e/ of the checkout (one per main screen; look at them: a missing CJK
font renders every Chinese glyph as a box while DOM assertions still pass)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from kam_cli.runtime import Federation, wait_gone
from kam_platform.testing.shared import shared_fixture

REPO = Path(__file__).resolve().parents[2]
TRIO = REPO / "deploy" / "topologies" / "trio.yaml"
DIST = REPO / "console" / "dist"
SHOTS = REPO / "test-results" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CUSTOMER = "/tmf-api/customerManagement/v4/customer"
# the services whose screens these tests drive (every service with a screen)
E2E_SERVICES = ["org", "customer", "sync", "rules", "sales", "service"]
PASSWORD = "kam-demo-2026"  # kam_org.seed.DEMO_PASSWORD


def build_console() -> None:
    """`make console`: builds console/dist when its sources are newer (npm ci first when needed)."""
    subprocess.run(["make", "--no-print-directory", "console"], cwd=REPO, check=True)
    assert (DIST / "index.html").is_file()


class Api:
    """Operator tokens and HTTP calls per node (arranging data and waiting for replication)."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed
        self.http = httpx.Client(timeout=30.0)
        self._tokens: dict[str, str] = {}

    def token(self, node: str) -> str:
        if node not in self._tokens:
            from kam_org.tokens import issue_token

            # in a thread of its own: Playwright's sync API keeps an event loop running in this one
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                coro = issue_token(self.fed.database_url(node), node, "admin", self.fed.topology)
                self._tokens[node] = pool.submit(asyncio.run, coro).result()
        return self._tokens[node]

    def url(self, node: str, path: str = "") -> str:
        return self.fed.node_url(node) + path

    def get(self, node: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(self.url(node, path), headers={"Authorization": f"Bearer {self.token(node)}"}, **kw)

    def post(self, node: str, path: str, body: Any) -> httpx.Response:
        return self.http.post(self.url(node, path), headers={"Authorization": f"Bearer {self.token(node)}"}, json=body)


@shared_fixture
def fed() -> Iterator[Federation]:
    """The console's federation: one for every module using it (they run in a row), stopped after the
    last of them, before any other directory's tests start (kam_platform.testing.shared)."""
    from kam_cli.seed import seed_federation

    build_console()
    base = Path(tempfile.mkdtemp(prefix="kam-e2e-"))
    federation = Federation(
        TRIO,
        base / "run",
        process_per="node",
        services=E2E_SERVICES,
        use_environment=False,
        pg_fast=True,
        clone_databases=True,
    )
    pids: list[int] = []
    try:
        federation.start()
        pids = federation.pids()
        seed_federation(federation, customers=45, warn=lambda _m: None)
        yield federation
    finally:
        pids = pids or federation.pids()
        federation.stop()
        assert wait_gone(pids, timeout=30) == []
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def api(fed: Federation) -> Iterator[Api]:
    client = Api(fed)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make browser-deps`"
    with sync_playwright() as pw:
        # launch() gives every run a fresh, empty user-data-dir of its own
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


# waits sized for a loaded 2-core machine (a login hashes a password with argon2); nothing is timed
WAIT_MS = 60_000
EXPECT_MS = 45_000


def new_context(browser: Any) -> Any:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_MS)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context


@dataclass
class Console:
    """One browser context (a fresh profile: no token, no language choice) and what its pages logged."""

    page: Any
    fed: Federation
    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def goto(self, node: str, path: str = "/") -> None:
        self.page.goto(self.fed.node_url(node) + path)

    def login(self, node: str, user: str = "admin", password: str = PASSWORD, path: str = "/") -> None:
        self.goto(node, path)
        self.page.wait_for_url("**/login**")
        self.page.get_by_label("用户名").fill(user)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登 录").or_(self.page.get_by_role("button", name="登录")).click()
        self.page.wait_for_url(lambda url: "/login" not in url)

    def pick(self, text: str | None = None) -> None:
        """Click an option of the open select dropdown (the first, or the first showing `text`), then wait
        until that dropdown has closed: a dropdown still fading out also matches `:visible`, and
        the next pick would otherwise land on its option as it disappears."""
        from playwright.sync_api import expect

        options = self.page.locator(".ant-select-dropdown:visible .ant-select-item-option")
        open_dropdowns = self.page.locator(".ant-select-dropdown:visible")
        click_until(
            (options.filter(has_text=text) if text else options).first,
            lambda ms: expect(open_dropdowns).to_have_count(0, timeout=ms),
        )

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_load_state("networkidle")
        self.page.locator(".ant-spin-spinning").first.wait_for(state="detached")  # tables done loading
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed)]


def click_until(target: Any, settled: Callable[[float], None], *, tries: int = 3, wait_ms: float = 5_000) -> None:
    """Click `target` until `settled(timeout_ms)` (an `expect` assertion) passes. A click that lands
    while antd re-renders the element (a select's options arriving, a modal's content mounting) is
    sometimes lost; the click is then repeated, and the last try waits the full EXPECT_MS."""
    for _ in range(tries - 1):
        target.click()
        try:
            settled(wait_ms)
            return
        except AssertionError:
            continue
    target.click()
    settled(EXPECT_MS)


@pytest.fixture
def console(browser: Any, fed: Federation) -> Iterator[Console]:
    context = new_context(browser)
    page = context.new_page()
    c = Console(page, fed)
    page.on("console", lambda msg: c.errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: c.errors.append(f"pageerror: {exc}"))
    yield c
    context.close()
    assert c.unexpected_errors() == [], "the console logged errors"


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.5) -> Any:
    from kam_platform.testing.helpers import wait_until as _wait

    return _wait(condition, timeout=timeout, what=what, interval=interval)
