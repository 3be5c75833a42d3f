"""Between nodes: each nats-server has its own credentials, leafnode links authenticate, a node can
publish only under its own subjects, and every NATS user is an allow-list (issue 6, findings 2, 6, 16):
no user and no leafnode link reaches a JetStream API subject it does not need."""

from __future__ import annotations

import asyncio
import contextlib
import json
import stat
import uuid
from pathlib import Path
from typing import Any

import nats
import nats.errors
import nats.js.errors
import pytest

from kam_platform.embedded.natsauth import SERVICE_USER, SYNC_USER
from kam_platform.federation import deliver_prefix, down_stream, inbound_streams, plan
from kam_platform.topology import Topology

from .conftest import Nodes, wait_until

pytestmark = pytest.mark.federation


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _connect(url: str, errors: list[str]) -> Any:
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    return await nats.connect(url, error_cb=on_error, max_reconnect_attempts=0)


def test_anonymous_connection_is_refused(demo: Nodes) -> None:
    server = demo.fed.nats("gd-gz")
    # nats.py surfaces the server's -ERR during the handshake as a plain nats.errors.Error
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        _run(nats.connect(server.url, max_reconnect_attempts=0, connect_timeout=2, allow_reconnect=False))


def test_service_user_publishes_only_under_its_own_node(demo: Nodes) -> None:
    url = demo.fed.credentials().url(demo.fed.nats("gd-gz").url, "gd-gz", SERVICE_USER)

    async def scenario() -> tuple[bool, list[str], bool]:
        errors: list[str] = []
        nc = await _connect(url, errors)
        js = nc.jetstream(timeout=2.0)
        own = await js.publish("up.gd-gz.test.probe.1", b"ok")  # allowed
        forged_ok = True
        try:
            await js.publish("up.gd-sz.customer.customer.forged", b"forged")
        except nats.errors.TimeoutError:  # the server drops a denied publish: no PubAck ever comes
            forged_ok = False
        stream_create_ok = True
        try:
            await js.add_stream(name="ROGUE", subjects=["rogue.>"])
        except nats.errors.TimeoutError:
            stream_create_ok = False
        await nc.close()
        return bool(own.seq) and forged_ok, errors, stream_create_ok

    published_both, errors, created = _run(scenario())
    assert not published_both
    assert any("permissions violation" in e.lower() and "up.gd-sz" in e for e in errors), errors
    assert not created, "a service user must not create streams (the sync service declares them)"


def test_a_child_cannot_inject_raw_events_into_its_parent(demo: Nodes) -> None:
    """The link carries only what sourcing needs: its own deliveries cross, while raw events, any other
    subject and deliveries addressed to a sibling's link do not."""
    parent_url = demo.fed.nats_url("gd")
    child_url = demo.fed.nats_url("gd-gz")  # even an administrator of the child node
    own_delivery = f"{deliver_prefix('gd-gz')}.probe"
    refused = ["probe.link", "up.gd.customer.customer.forged", f"{deliver_prefix('gd-sz')}.probe"]

    async def scenario() -> list[str]:
        got: list[str] = []
        errors: list[str] = []
        parent = await _connect(parent_url, errors)
        child = await _connect(child_url, errors)

        async def collect(msg: Any) -> None:
            got.append(msg.subject)

        for subject in [*refused, own_delivery]:
            await parent.subscribe(subject, cb=collect)
        await parent.flush()

        async def crossed() -> bool:
            for subject in refused:  # sent first: one connection, one link, so order is kept
                await child.publish(subject, b"forged")
            await child.publish(own_delivery, b"1")
            await child.flush()
            await asyncio.sleep(0.2)
            return own_delivery in got

        for _ in range(100):  # interest propagates over the link asynchronously
            if await crossed():
                break
        await parent.close()
        await child.close()
        return got

    got = _run(scenario())
    assert own_delivery in got  # the link carries sourcing's traffic
    assert set(got) == {own_delivery}, got


def test_a_compromised_province_cannot_forge_another_provinces_events(demo: Nodes) -> None:
    """Even if gd's own stream holds a message under js-nj's subject, the group's source from gd is
    filtered to gd's subtree, so it never reaches UP_ALL."""
    gd_url, hq_url = demo.fed.nats_url("gd"), demo.fed.nats_url("hq")

    async def forge() -> None:
        nc = await nats.connect(gd_url)
        js = nc.jetstream()
        info = await js.stream_info("UP_gd")
        cfg = info.config
        cfg.subjects = [*(cfg.subjects or []), "up.js-nj.>"]
        await js.update_stream(cfg)
        await js.publish("up.js-nj.customer.customer.forged", b"forged")
        await js.publish("up.gd.test.probe.after-forgery", b"ok")
        await nc.close()

    async def count(subject: str) -> int:
        nc = await nats.connect(hq_url)
        try:
            info = await nc.jetstream().stream_info("UP_ALL", subjects_filter=subject)
            subjects: dict[str, int] = dict(info.state.subjects or {})
            return sum(subjects.values())
        finally:
            await nc.close()

    _run(forge())
    wait_until(lambda: _run(count("up.gd.test.probe.after-forgery")) == 1, timeout=60, what="legit event at hq")
    assert _run(count("up.js-nj.customer.customer.forged")) == 0

    # the sync service notices the drifted stream and repairs it
    async def subjects() -> list[str]:
        nc = await nats.connect(gd_url)
        try:
            return list((await nc.jetstream().stream_info("UP_gd")).config.subjects or [])
        finally:
            await nc.close()

    wait_until(lambda: _run(subjects()) == ["up.gd.>"], timeout=90, what="drift repaired by sync")


# -- allow-lists (issue 6, findings 2 and 6) ------------------------------------------------------

PROBE_TIMEOUT = 3.0
STREAM_OPS = (
    "STREAM.PURGE",
    "STREAM.DELETE",
    "STREAM.MSG.DELETE",
    "STREAM.MSG.GET",
    "STREAM.UPDATE",
    "STREAM.CREATE",
    "STREAM.SNAPSHOT",
    "STREAM.RESTORE",
    "STREAM.INFO",
    "DIRECT.GET",
    "CONSUMER.LIST",
    "CONSUMER.NAMES",
)
CONSUMER_OPS = ("CONSUMER.DELETE", "CONSUMER.CREATE", "CONSUMER.DURABLE.CREATE", "CONSUMER.INFO", "CONSUMER.MSG.NEXT")
ACCOUNT_OPS = ("INFO", "STREAM.LIST", "STREAM.NAMES", "STREAM.RESTORE.ROGUE", "STREAM.CREATE.ROGUE", "META.LEADER.STEPDOWN",
               "SERVER.REMOVE", "ACCOUNT.PURGE.$G")  # fmt: skip


def _dangerous(topology: Topology, domain: str) -> list[str]:
    """Every API operation (without its prefix) on `domain`'s JetStream that must stay with operators,
    unless a user's own work needs it (filtered by the caller)."""
    out = list(ACCOUNT_OPS)
    for spec in plan(topology, domain):
        out += [f"{op}.{spec.name}" for op in STREAM_OPS]
        out += [f"{op}.{spec.name}.probe" for op in CONSUMER_OPS]
    return out


def _stream_of(op: str) -> str:
    """`STREAM.PURGE.UP_gd` → `UP_gd`, `CONSUMER.INFO.UP_gd.probe` → `UP_gd` (ACCOUNT_OPS → '')."""
    parts = op.split(".")
    if parts[-1] == "probe":
        return parts[-2]
    return parts[-1] if op not in ACCOUNT_OPS else ""


def _needed_locally(topology: Topology, code: str, user: str, op: str) -> bool:
    """What a user's code really does on its own node (see kam_platform.embedded.natsauth)."""
    stream = _stream_of(op)
    consumed = {f"UP_{code}", *inbound_streams(topology, code)}
    if op.startswith(("CONSUMER.CREATE.", "CONSUMER.DURABLE.CREATE.", "CONSUMER.INFO.", "CONSUMER.MSG.NEXT.")):
        return stream in consumed
    if op.startswith("STREAM.INFO."):
        return stream in inbound_streams(topology, code) or (user == SYNC_USER and stream in _own(topology, code))
    if user == SYNC_USER and op.startswith(("STREAM.CREATE.", "STREAM.UPDATE.")):
        return stream in _own(topology, code)
    if user == SYNC_USER and op.startswith("CONSUMER.LIST."):
        return stream in inbound_streams(topology, code)
    return False


def _own(topology: Topology, code: str) -> set[str]:
    return {spec.name for spec in plan(topology, code)}


async def _request(nc: Any, subject: str) -> type[Exception] | str:
    """What asking `subject` gives: the nats.py error type, or the answer when there is one."""
    try:
        msg = await nc.request(subject, b"{}", timeout=PROBE_TIMEOUT)
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError) as exc:
        return type(exc)
    answer: str = msg.data.decode(errors="replace")[:160]
    return answer


def _violations(errors: list[str]) -> set[str]:
    marker = "permissions violation for publish to "
    return {e.lower().split(marker, 1)[1].strip('"') for e in errors if marker in e.lower()}


def _publish_once_captured(demo: Nodes, code: str, subject: str) -> None:
    """Publish as the node's services user, waiting until the sync service has declared the stream that
    captures `subject` (right after start-up it may not have yet). The msg id makes retries harmless."""
    url = demo.fed.credentials().url(demo.fed.nats(code).url, code, SERVICE_USER)

    async def publish() -> bool:
        nc = await nats.connect(url)
        try:
            await nc.jetstream(timeout=5.0).publish(subject, b"probe", headers={"Nats-Msg-Id": subject})
        except nats.js.errors.NoStreamResponseError:
            return False
        finally:
            await nc.close()
        return True

    wait_until(lambda: _run(publish()), timeout=90, what=f"a stream capturing {subject} at {code}")


def test_no_nats_user_reaches_a_jetstream_api_it_does_not_need(demo: Nodes) -> None:
    """As each node's services and sync user, every dangerous API subject of the node's own JetStream
    (`$JS.API`, `$JS.<node>.API`) and of every other node's domain is refused by the node's own server:
    a permission violation naming the subject, and no answer."""
    topology, creds = demo.fed.topology, demo.fed.credentials()
    codes = [n.code for n in topology.ordered()]

    async def one(code: str, user: str) -> tuple[dict[str, Any], set[str]]:
        errors: list[str] = []
        nc = await _connect(creds.url(demo.fed.nats(code).url, code, user), errors)
        try:
            local = [op for op in _dangerous(topology, code) if not _needed_locally(topology, code, user, op)]
            # the server maps the node's own domain prefix onto its local API before it applies
            # permissions, so `$JS.<node>.API` is allowed exactly what `$JS.API` is
            subjects = [f"{prefix}.{op}" for prefix in ("$JS.API", f"$JS.{code}.API") for op in local]
            subjects += [f"$JS.{d}.API.{op}" for d in codes if d != code for op in _dangerous(topology, d)]
            outcomes = await asyncio.gather(*(_request(nc, s) for s in subjects))
            await nc.flush()
            return dict(zip(subjects, outcomes, strict=True)), _violations(errors)
        finally:
            await nc.close()

    async def scenario() -> list[tuple[str, str, dict[str, Any], set[str]]]:
        users = [(c, u) for c in codes for u in (SERVICE_USER, SYNC_USER)]
        results = await asyncio.gather(*(one(c, u) for c, u in users))
        return [(c, u, outcomes, denied) for (c, u), (outcomes, denied) in zip(users, results, strict=True)]

    checked = 0
    for code, user, outcomes, denied in _run(scenario()):
        answered = {s: o for s, o in outcomes.items() if o is not nats.errors.TimeoutError}
        assert answered == {}, f"{user}@{code} reached: {answered}"
        own = f"$js.{code}.api."
        missing = {
            s
            for s in (x.lower() for x in outcomes)
            # an own-domain request may be reported as published or as mapped onto `$JS.API`
            if s not in denied and not (s.startswith(own) and "$js.api." + s[len(own) :] in denied)
        }
        assert not missing, f"{user}@{code}: no violation for {missing}"
        checked += len(outcomes)
    assert checked > 1000  # the enumeration really covered every node, user and domain


def test_no_leafnode_link_carries_the_jetstream_api_beyond_sourcing(demo: Nodes) -> None:
    """A node's nats-server (here its administrator: everything a compromised node can do) reaches no
    dangerous API subject of its parent, its grandparent, a sibling or any other domain: the link does
    not even carry the interest, so the request finds no responders. Only what sourcing needs crosses:
    a child's consumer create on its parent's downward stream, and a parent's on its child's upward
    stream (the answer cannot come back to a client inbox, so those time out instead)."""
    topology = demo.fed.topology
    nodes = [n.code for n in topology.ordered()]

    def sourcing(code: str) -> set[str]:
        parent = topology.node(code).parent
        out = {f"$JS.{c}.API.CONSUMER.CREATE.UP_{c}.probe" for c in topology.children(code)}
        if parent is not None:
            out.add(f"$JS.{parent}.API.CONSUMER.CREATE.{down_stream(topology, parent)}.probe")
        return out

    async def one(code: str) -> dict[str, Any]:
        errors: list[str] = []
        nc = await _connect(demo.fed.nats_url(code), errors)
        try:
            subjects = [f"$JS.{d}.API.{op}" for d in nodes if d != code for op in _dangerous(topology, d)]
            outcomes = await asyncio.gather(*(_request(nc, s) for s in subjects))
            return dict(zip(subjects, outcomes, strict=True))
        finally:
            await nc.close()

    async def scenario() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(one(code) for code in nodes)))

    relations: set[str] = set()
    for code, outcomes in zip(nodes, _run(scenario()), strict=True):
        needed = sourcing(code)
        assert needed <= set(outcomes)
        crossed = {s: o for s, o in outcomes.items() if s not in needed and o is not nats.errors.NoRespondersError}
        assert crossed == {}, f"from {code}: {crossed}"
        # the control: sourcing's own requests do cross the link
        assert {s: outcomes[s] for s in needed} == dict.fromkeys(needed, nats.errors.TimeoutError), code
        for domain in {s.split(".")[1] for s in outcomes}:
            if domain == topology.node(code).parent:
                relations.add("parent")
            elif domain in topology.ancestors(code):
                relations.add("grandparent")
            elif topology.node(domain).parent == topology.node(code).parent:
                relations.add("sibling")
            elif domain in topology.children(code):
                relations.add("child")
    assert relations == {"parent", "grandparent", "sibling", "child"}


@pytest.fixture
def probe_down_event(demo: Nodes) -> tuple[str, int]:
    """A harmless event published downward at the root and sourced to gd-gz: (subject, its seq there)."""
    subject = f"down.all.test.probe.{uuid.uuid4().hex}"

    async def seq() -> int:
        nc = await nats.connect(demo.fed.nats_url("gd-gz"))
        try:
            return int((await nc.jetstream().get_last_msg("DOWN_gd-gz", subject)).seq or 0)
        except nats.js.errors.NotFoundError:
            return 0
        finally:
            await nc.close()

    _publish_once_captured(demo, "hq", subject)
    found: int = wait_until(lambda: _run(seq()), timeout=90, what=f"{subject} at gd-gz")
    return subject, found


def test_services_user_cannot_delete_messages_consumers_restore_streams_or_fake_dead_letters(
    demo: Nodes, probe_down_event: tuple[str, int]
) -> None:
    subject, seq = probe_down_event
    creds = demo.fed.credentials()
    svc = creds.url(demo.fed.nats("gd-gz").url, "gd-gz", SERVICE_USER)
    admin = demo.fed.nats_url("gd-gz")
    durable = "customer-apply-DOWN_gd-gz"

    async def attack() -> tuple[dict[str, type[Exception] | None], set[str]]:
        errors: list[str] = []
        nc = await _connect(svc, errors)
        js = nc.jetstream(timeout=PROBE_TIMEOUT)
        attempts: dict[str, Any] = {
            "$js.api.stream.msg.delete.down_gd-gz": js.delete_msg("DOWN_gd-gz", seq),
            "$js.api.stream.msg.get.down_gd-gz": js.get_msg("DOWN_gd-gz", seq),
            f"$js.api.consumer.delete.down_gd-gz.{durable}": js.delete_consumer("DOWN_gd-gz", durable),
            "$js.api.stream.restore.rogue": nc.request(
                "$JS.API.STREAM.RESTORE.ROGUE", b'{"config":{"name":"ROGUE"}}', timeout=PROBE_TIMEOUT
            ),
            # dead letters under a service that applies nothing, of the sync service, of another node
            "dlq.gd-gz.rogue": js.publish("dlq.gd-gz.rogue", b"fake"),
            "dlq.gd-gz.sync": js.publish("dlq.gd-gz.sync", b"fake"),
            "dlq.gd.customer": js.publish("dlq.gd.customer", b"fake"),
        }
        outcomes: dict[str, type[Exception] | None] = {}
        for name, coro in attempts.items():
            try:
                await coro
                outcomes[name] = None
            except nats.errors.TimeoutError as exc:
                outcomes[name] = type(exc)
        # control: the same user still publishes its node's own events
        own = await js.publish(f"up.gd-gz.test.probe.{uuid.uuid4().hex}", b"ok")
        await nc.flush()
        await nc.close()
        assert own.seq
        return outcomes, _violations(errors)

    async def state() -> tuple[int, str, bool, int, int]:
        nc = await nats.connect(admin)
        js = nc.jetstream()
        try:
            msg = await js.get_last_msg("DOWN_gd-gz", subject)
            consumer = await js.consumer_info("DOWN_gd-gz", durable)
            try:
                await js.stream_info("ROGUE")
                rogue = True
            except nats.js.errors.NotFoundError:
                rogue = False
            dlq = await js.stream_info("DLQ_gd-gz")
            gd = await nats.connect(demo.fed.nats_url("gd"))
            try:
                gd_dlq = await gd.jetstream().stream_info("DLQ_gd")
            finally:
                await gd.close()
            return int(msg.seq or 0), consumer.name, rogue, dlq.state.messages, gd_dlq.state.messages
        finally:
            await nc.close()

    async def consumer_exists() -> bool:
        nc = await nats.connect(admin)
        try:
            await nc.jetstream().consumer_info("DOWN_gd-gz", durable)
        except nats.js.errors.NotFoundError:
            return False
        finally:
            await nc.close()
        return True

    wait_until(lambda: _run(consumer_exists()), timeout=90, what=f"{durable} created by the customer service")
    before = _run(state())
    outcomes, denied = _run(attack())
    assert outcomes == dict.fromkeys(outcomes, nats.errors.TimeoutError), outcomes
    assert {o.lower() for o in outcomes} <= denied, {o.lower() for o in outcomes} - denied
    assert _run(state()) == before == (seq, durable, False, before[3], before[4])


def test_sourcing_still_crosses_every_link(demo: Nodes) -> None:
    """With the allow-lists in place, an event of every node reaches the group and reference data of
    the root and of a province reaches every node below them."""
    topology = demo.fed.topology
    tag = uuid.uuid4().hex

    async def count(code: str, stream: str, subject: str) -> int:
        nc = await nats.connect(demo.fed.nats_url(code))
        try:
            info = await nc.jetstream().stream_info(stream, subjects_filter=subject)
            subjects: dict[str, int] = dict(info.state.subjects or {})
            return sum(subjects.values())
        finally:
            await nc.close()

    below_root = [n.code for n in topology.ordered() if n.parent is not None]
    for code in below_root:
        _publish_once_captured(demo, code, f"up.{code}.test.probe.{tag}")
    _publish_once_captured(demo, "hq", f"down.all.test.probe.{tag}")
    _publish_once_captured(demo, "gd", f"down.gd.test.probe.{tag}")

    def arrived() -> bool:
        up = _run(count("hq", "UP_ALL", f"up.*.test.probe.{tag}")) == len(below_root)
        down = all(_run(count(c, f"DOWN_{c}", f"down.all.test.probe.{tag}")) == 1 for c in below_root)
        province = all(_run(count(c, f"DOWN_{c}", f"down.gd.test.probe.{tag}")) == 1 for c in topology.children("gd"))
        return up and down and province

    wait_until(arrived, timeout=120, what="probe events across every link")


def test_nats_configs_and_credentials_are_private(demo: Nodes) -> None:
    """Every nats-server.conf holds the node's NATS passwords: 0600 in a 0700 directory. The credentials
    file (all of them) is 0600 in the run directory, which others cannot enter (0700; 0710 as root, so
    that PostgreSQL's own user may traverse it by group)."""
    configs = [demo.fed.nats(n.code).config_path for n in demo.fed.topology.ordered()]
    modes = {str(p): (stat.S_IMODE(p.stat().st_mode), stat.S_IMODE(p.parent.stat().st_mode)) for p in configs}
    assert modes == dict.fromkeys(modes, (0o600, 0o700)), {p: (oct(f), oct(d)) for p, (f, d) in modes.items()}
    assert len(modes) == len(demo.fed.topology.ordered())

    creds = Path(demo.fed.credentials_path)
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert stat.S_IMODE(creds.parent.stat().st_mode) in (0o700, 0o710)


def test_services_user_still_does_what_the_services_do(demo: Nodes) -> None:
    """The demo runs one process per node (as the sync user), so here the services user itself walks
    the services' JetStream calls at a province: the apply consumer (stream info, durable pull consumer
    with several filters, fetch, nak, redelivery, ack, consumer info) on an inbound stream and the TMF
    hub's consumer on the node's own stream."""
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    tag = uuid.uuid4().hex[:12]
    down_subject, up_subject = f"down.all.test.probe.{tag}", f"up.gd.test.probe.{tag}"
    _publish_once_captured(demo, "hq", down_subject)
    svc = demo.fed.credentials().url(demo.fed.nats("gd").url, "gd", SERVICE_USER)
    apply_durable, hub_durable = f"customer-apply-probe-{tag}", f"customer-hub-probe-{tag}"

    async def walk() -> tuple[list[str], list[str]]:
        errors: list[str] = []
        nc = await _connect(svc, errors)
        js = nc.jetstream(timeout=10.0)
        await js.stream_info("DOWN_gd")
        await js.add_consumer(
            "DOWN_gd",
            ConsumerConfig(
                durable_name=apply_durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                filter_subjects=[f"down.*.test.probe.{tag}", f"down.*.sync.probe.{tag}"],
            ),
        )
        sub = await js.pull_subscribe_bind(apply_durable, "DOWN_gd")
        seen: list[str] = []
        deadline = asyncio.get_running_loop().time() + 90
        while len(seen) < 2 and asyncio.get_running_loop().time() < deadline:
            try:
                msgs = await sub.fetch(1, timeout=2.0)
            except nats.errors.TimeoutError:
                continue
            for msg in msgs:
                seen.append(msg.subject)
                if len(seen) == 1:
                    await msg.nak(delay=0.1)  # a failed apply: redelivered
                else:
                    await msg.ack()
        await js.consumer_info("DOWN_gd", apply_durable)

        await js.add_consumer(
            "UP_gd",
            ConsumerConfig(
                durable_name=hub_durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.NEW,
                filter_subject=up_subject,
            ),
        )
        hub = await js.pull_subscribe_bind(hub_durable, "UP_gd")
        await js.publish(up_subject, b"probe")
        got = await hub.fetch(1, timeout=30.0)
        for msg in got:
            await msg.ack()
        await nc.flush()
        await nc.close()
        return seen, [m.subject for m in got] + errors

    async def cleanup() -> int | None:
        """Ack-pending of the probe consumer (None when it was never made), then delete both."""
        nc = await nats.connect(demo.fed.nats_url("gd"))
        js = nc.jetstream()
        pending: int | None = None
        try:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                pending = int((await js.consumer_info("DOWN_gd", apply_durable)).num_ack_pending or 0)
                await js.delete_consumer("DOWN_gd", apply_durable)
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_consumer("UP_gd", hub_durable)
            return pending
        finally:
            await nc.close()

    try:
        seen, hub_and_errors = _run(walk())
    finally:
        pending = _run(cleanup())
    assert seen == [down_subject, down_subject]  # delivered, nak'ed, redelivered
    assert hub_and_errors == [up_subject]  # the hub's message and no permission violation
    assert pending == 0


async def _raw_leaf(port: int, user: str, password: str, subject: str) -> bytes:
    """Speak the leafnode protocol by hand, as a compromised child's server could, ignoring the
    interest the parent advertises: authenticate, send one LMSG, and return what the parent answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await reader.readline()  # INFO
        hello = {"user": user, "pass": password, "name": "rogue", "headers": True, "compression": "off"}
        writer.write(f"CONNECT {json.dumps(hello)}\r\nPING\r\n".encode())
        await writer.drain()
        greeting = b""
        while b"PONG" not in greeting:
            chunk = await asyncio.wait_for(reader.read(4096), 10)
            assert chunk, greeting  # authentication refused
            greeting += chunk
        writer.write(f"LMSG {subject} $JSC.R.rogue 2\r\n{{}}\r\nPING\r\n".encode())
        await writer.drain()
        answer = b""
        while b"PONG" not in answer and b"-ERR" not in answer:
            chunk = await asyncio.wait_for(reader.read(4096), 10)
            if not chunk:
                break
            answer += chunk
        return answer
    finally:
        writer.close()


def test_the_parent_itself_refuses_what_a_rogue_child_server_sends_over_the_link(demo: Nodes) -> None:
    """A compromised gd-gz need not respect the interest gd advertises: with gd-gz's own leafnode
    credentials, a hand-made link sends the dangerous API requests of gd, hq and gd-sz and raw events
    anyway. gd refuses each with a permission violation (and drops the link); its own delivery prefix
    is still accepted, and gd's streams are untouched."""
    topology, creds = demo.fed.topology, demo.fed.credentials()
    parent = demo.fed.nats("gd")
    assert parent.leaf_port is not None
    password = creds.passwords["gd-gz"]["leaf"]
    needed = "$JS.gd.API.CONSUMER.CREATE.DOWN_gd.probe"  # gd-gz's source of gd's downward stream
    subjects = [f"$JS.{d}.API.{op}" for d in ("gd", "hq", "gd-sz") for op in _dangerous(topology, d)]
    subjects.remove(needed)
    subjects += ["up.gd.customer.customer.forged", "up.gd-sz.customer.customer.forged", "dlq.gd.customer"]
    subjects += [f"{deliver_prefix('gd-sz')}.forged", "$JS.FC.UP_gd-sz.x.y", "_INBOX.rogue"]
    own_delivery = f"{deliver_prefix('gd-gz')}.probe"

    async def gd_state() -> dict[str, int]:
        nc = await nats.connect(demo.fed.nats_url("gd"))
        try:
            js = nc.jetstream()
            return {spec.name: (await js.stream_info(spec.name)).state.messages for spec in plan(topology, "gd")}
        finally:
            await nc.close()

    async def scenario() -> tuple[dict[str, bytes], bytes, list[str]]:
        got: list[str] = []
        admin = await nats.connect(demo.fed.nats_url("gd"))

        async def collect(msg: Any) -> None:
            got.append(msg.subject)

        await admin.subscribe(own_delivery, cb=collect)
        await admin.flush()
        gate = asyncio.Semaphore(16)

        async def send(subject: str) -> bytes:
            async with gate:
                return await _raw_leaf(parent.leaf_port or 0, "leaf-gd-gz", password, subject)

        answers = await asyncio.gather(*(send(s) for s in subjects))
        control = await send(own_delivery)
        await admin.flush()
        await asyncio.sleep(0)  # let the subscription's callback run
        await admin.close()
        return dict(zip(subjects, answers, strict=True)), control, got

    before = _run(gd_state())
    answers, control, got = _run(scenario())
    accepted = {s: a for s, a in answers.items() if b"Permissions Violation for Publish to" not in a}
    assert accepted == {}, accepted
    assert b"PONG" in control and b"-ERR" not in control, control
    wait_until(lambda: got == [own_delivery], timeout=30, what="the link's own delivery at gd")
    after = _run(gd_state())
    assert after == before, (before, after)
