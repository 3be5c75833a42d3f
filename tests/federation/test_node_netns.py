"""Three nodes on three "hosts" (issue 15): hq, gd and gd-gz are three `kam node up` processes, each
in a network namespace of its own with its own data directory, PostgreSQL and nats-server, linked
only over veth pairs (hq↔gd, gd↔gd-gz) with TLS from a development CA.

A customer created at gd-gz reaches hq; the gd–hq link is cut (interface down) and restored with
nothing lost; a revoked child credential stops the link, and both sides say so.

The test reaches each node over a management veth from the host's namespace, the way an operator
reaches a province's machine. It needs root and `ip netns` (skipped with the reason otherwise).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kam_cli.devca import make_ca, make_node_cert
from kam_platform.testing.helpers import wait_until

pytestmark = pytest.mark.federation

CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
KAM = str(Path(sys.executable).parent / "kam")
PORT = 8443
LEAF_PORT = 7422
NAMES: dict[str, dict[str, Any]] = {
    "hq": {"tier": "group", "parent": None, "name": {"zh": "中国电信集团", "en": "Group HQ"}},
    "gd": {"tier": "province", "parent": "hq", "name": {"zh": "广东", "en": "Guangdong"}},
    "gd-gz": {"tier": "local", "parent": "gd", "name": {"zh": "广州", "en": "Guangzhou"}},
}


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=120)


def _netns_unavailable() -> str | None:
    if sys.platform != "linux":
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = f"kamprobe{os.getpid()}"
    made = _run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed here: {made.stderr.strip()}"
    _run("ip", "netns", "del", probe, check=False)
    return None


@dataclass
class Host:
    """One node's namespace: its management address (reached from the test), its config."""

    code: str
    ns: str
    mgmt: str
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    token: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        return f"https://{self.mgmt}:{PORT}"

    def kam(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run("ip", "netns", "exec", self.ns, KAM, "node", *args, "--config", str(self.config), check=check)

    def status(self) -> dict[str, Any]:
        out = self.kam("status", "--json", check=False)
        data: dict[str, Any] = json.loads(out.stdout)
        return data


class Lab:
    """Namespaces, veth pairs, certificates and node configs in a temp dir."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.tag = f"{os.getpid() % 1000:03d}"
        self.net = random.randint(100, 250)  # 10.<net>.x.y: the lab's addresses
        self.links: dict[str, tuple[str, str]] = {}  # name → (namespace, interface) of the link's upper end
        self.hosts: dict[str, Host] = {}
        self.namespaces: list[str] = []
        self.veths: list[str] = []  # root-side management interfaces
        self.ca = base / "certs"

    def ip(self, *args: str, ns: str | None = None) -> None:
        argv = ["ip", "netns", "exec", ns, "ip", *args] if ns else ["ip", *args]
        _run(*argv)

    def make(self) -> None:
        for i, code in enumerate(NAMES, start=1):
            ns = f"kam{self.tag}-{code}"
            _run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            self.ip("link", "set", "lo", "up", ns=ns)
            root_if, ns_if = f"km{self.tag}{i}r", f"km{self.tag}{i}n"
            self.ip("link", "add", root_if, "type", "veth", "peer", "name", ns_if)
            self.veths.append(root_if)
            self.ip("link", "set", ns_if, "netns", ns)
            self.ip("addr", "add", f"10.{self.net}.{i}.1/24", "dev", root_if)
            self.ip("link", "set", root_if, "up")
            self.ip("addr", "add", f"10.{self.net}.{i}.2/24", "dev", ns_if, ns=ns)
            self.ip("link", "set", ns_if, "up", ns=ns)
            self.hosts[code] = Host(
                code, ns, f"10.{self.net}.{i}.2", self.base / f"{code}.yaml", self.base / f"{code}.out"
            )
        # the federation's own links: hq↔gd on 10.<net>.10.0/24, gd↔gd-gz on 10.<net>.11.0/24
        for subnet, (upper, lower) in ((10, ("hq", "gd")), (11, ("gd", "gd-gz"))):
            up_if, low_if = f"kl{self.tag}{subnet}u", f"kl{self.tag}{subnet}l"
            self.ip("link", "add", up_if, "type", "veth", "peer", "name", low_if)
            self.ip("link", "set", up_if, "netns", self.hosts[upper].ns)
            self.ip("link", "set", low_if, "netns", self.hosts[lower].ns)
            self.ip("addr", "add", f"10.{self.net}.{subnet}.1/24", "dev", up_if, ns=self.hosts[upper].ns)
            self.ip("addr", "add", f"10.{self.net}.{subnet}.2/24", "dev", low_if, ns=self.hosts[lower].ns)
            self.ip("link", "set", up_if, "up", ns=self.hosts[upper].ns)
            self.ip("link", "set", low_if, "up", ns=self.hosts[lower].ns)
            self.links[f"{upper}-{lower}"] = (self.hosts[upper].ns, up_if)

    def leaf_addr(self, code: str) -> str:
        return {"hq": f"10.{self.net}.10.1", "gd": f"10.{self.net}.11.1"}[code]

    def write_configs(self) -> None:
        make_ca(self.ca)
        for code, host in self.hosts.items():
            addrs = [host.mgmt] + [
                a for c, a in (("hq", self.leaf_addr("hq")), ("gd", self.leaf_addr("gd"))) if c == code
            ]
            if code == "gd":
                addrs.append(f"10.{self.net}.10.2")
            if code == "gd-gz":
                addrs.append(f"10.{self.net}.11.2")
            make_node_cert(self.ca, code, addrs)
            meta = NAMES[code]
            config: dict[str, Any] = {
                "node": {"code": code, "tier": meta["tier"], "parent": meta["parent"], "name": meta["name"]},
                "topology": [{"code": c, **{k: v for k, v in m.items() if v is not None}} for c, m in NAMES.items()],
                "data_dir": f"data-{code}",
                "process_per": "node",
                "listen": {"host": "0.0.0.0", "port": PORT},
                "public_url": host.url,
                "tls": {"ca": "certs/ca.pem", "cert": f"certs/{code}.pem", "key": f"certs/{code}-key.pem"},
            }
            if code in ("hq", "gd"):
                leaf = self.leaf_addr(code)
                config["nats"] = {"leafnodes": {"host": leaf, "port": LEAF_PORT, "advertise": leaf}}
            if meta["parent"] is not None:
                config["parent"] = {"credentials": f"{code}.credentials.json"}
            host.config.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def start(self, code: str) -> None:
        host = self.hosts[code]
        with open(host.log, "ab") as out:
            host.proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    host.ns,
                    KAM,
                    "node",
                    "up",
                    "--config",
                    str(host.config),
                    "--seed",
                    "--pg-fast",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        def ready() -> bool:
            assert host.proc is not None
            if host.proc.poll() is not None:
                raise RuntimeError(f"kam node up {code} exited:\n{host.log.read_text()[-4000:]}")
            return "Press Ctrl-C" in host.log.read_text(errors="replace")

        wait_until(ready, timeout=420, interval=1.0, what=f"{code} up")
        host.token = host.kam("token").stdout.strip()

    def stop(self) -> None:
        for host in reversed(list(self.hosts.values())):
            if host.proc is not None and host.proc.poll() is None:
                host.proc.send_signal(signal.SIGTERM)
        for host in reversed(list(self.hosts.values())):
            if host.proc is not None:
                try:
                    host.proc.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    host.kam("down", check=False)
                    host.proc.kill()
            with contextlib.suppress(Exception):
                if (self.base / f"data-{host.code}" / "node.json").exists():
                    host.kam("down", check=False)
            if host.proc is not None:
                # whatever of the node's session is still running (a make test once found its nats-servers
                # and service processes alive after the test, loading the machine for the tests after it)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(host.proc.pid, signal.SIGKILL)

    def destroy(self) -> None:
        for ns in self.namespaces:
            _run("ip", "netns", "del", ns, check=False)
        for veth in self.veths:
            _run("ip", "link", "del", veth, check=False)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    reason = _netns_unavailable()
    if reason is not None:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="kam-netns-"))
    lab = Lab(base)
    try:
        lab.make()
        lab.write_configs()
        # hq issues gd's credentials before gd exists; gd issues gd-gz's once it runs (a reload)
        lab.hosts["hq"].kam("credentials", "--child", "gd", "--out", str(base / "gd.credentials.json"))
        lab.start("hq")
        lab.start("gd")
        lab.hosts["gd"].kam("credentials", "--child", "gd-gz", "--out", str(base / "gd-gz.credentials.json"))
        lab.start("gd-gz")
        yield lab
    finally:
        lab.stop()
        lab.destroy()
        shutil.rmtree(base, ignore_errors=True)


def _client(lab: Lab) -> httpx.Client:
    import ssl

    return httpx.Client(timeout=30.0, verify=ssl.create_default_context(cafile=str(lab.ca / "ca.pem")))


def test_three_hosts_over_tls_cut_restore_and_revoke(lab: Lab) -> None:
    hq, gd, gz = lab.hosts["hq"], lab.hosts["gd"], lab.hosts["gd-gz"]
    with _client(lab) as http:

        def get(host: Host, path: str) -> httpx.Response:
            return http.get(host.url + path, headers={"Authorization": f"Bearer {host.token}"})

        def create(name: str) -> dict[str, Any]:
            r = http.post(
                gz.url + CUSTOMER_PATH,
                json={"name": name, "industry": "FINANCE", "grade": "B"},
                headers={"Authorization": f"Bearer {gz.token}"},
            )
            assert r.status_code == 201, r.text
            body: dict[str, Any] = r.json()
            return body

        def at(host: Host, customer: dict[str, Any]) -> bool:
            r = get(host, f"{CUSTOMER_PATH}/{customer['id']}")
            return r.status_code == 200 and r.json()["version"] == customer["version"]

        # the links are up on both sides, over TLS, and each node's URL is HTTPS with the CA's certificate
        assert gz.status()["parent_link"]["connected"] is True
        assert gd.status()["children_links"] == {"gd-gz": True}
        assert hq.status()["children_links"] == {"gd": True}

        def sync_links(host: Host) -> dict[str, bool]:
            r = get(host, "/api/v1/sync/status")
            assert r.status_code == 200, r.text
            return {link["peer"]: link["connected"] for link in r.json().get("links", [])}

        # the federation status (the sync service's) shows both links of gd
        wait_until(lambda: sync_links(gd) == {"hq": True, "gd-gz": True}, timeout=60, what="gd's links in sync status")
        with pytest.raises((httpx.ConnectError, httpx.RemoteProtocolError)):  # plain HTTP is not served
            httpx.get(f"http://{gz.mgmt}:{PORT}/health", timeout=5.0)

        first = create("南方航空广州分公司")
        wait_until(lambda: at(hq, first), timeout=180, interval=1.0, what="gd-gz customer at hq")

        # cut gd–hq: gd-gz → gd still flows, hq gets it once the link is back
        ns, iface = lab.links["hq-gd"]
        lab.ip("link", "set", iface, "down", ns=ns)
        try:
            second = create("广州地铁集团")
            wait_until(lambda: at(gd, second), timeout=180, interval=1.0, what="customer at gd while hq is cut off")
            assert get(hq, f"{CUSTOMER_PATH}/{second['id']}").status_code == 404
        finally:
            lab.ip("link", "set", iface, "up", ns=ns)
        wait_until(
            lambda: at(hq, second) and at(hq, first), timeout=420, interval=2.0, what="hq caught up after the cut"
        )

        # revoke gd-gz at gd: the link is cut and refused, and both sides name the reason
        gd.kam("credentials", "--revoke", "gd-gz")
        wait_until(
            lambda: gz.status()["parent_link"]["refused"] is True,
            timeout=120,
            interval=1.0,
            what="refusal seen at gd-gz",
        )
        parent_view = gd.status()
        assert parent_view["children_links"] == {"gd-gz": False}
        assert "revoked" in parent_view["refused_children"]["gd-gz"]["why"]
        assert "refused this node's credentials" in gz.status()["parent_link"]["message"]
        third = create("广州白云机场")  # the node keeps working on its own
        assert get(gz, f"{CUSTOMER_PATH}/{third['id']}").status_code == 200
        assert get(gd, f"{CUSTOMER_PATH}/{third['id']}").status_code == 404
