"""The JetStream layout of a federation node, derived from the topology (DESIGN §3).

The sync service declares it (`declare`); services use `inbound_streams` to know what to apply.

- every node: ``UP_<node>`` captures ``up.<node>.>``; a node with children also sources each child's
  ``UP_<child>`` across domains, filtered to the subjects of that child's subtree — so a child can only
  ever feed events of its own subtree upward, whatever its stream holds;
- the root: ``UP_ALL`` has no subjects and sources every child's ``UP_<child>`` the same way;
- the root: ``DOWN_ALL`` captures ``down.all.>``; any other node ``DOWN_<node>`` captures
  ``down.<node>.>`` and sources its parent's downward stream.
- every cross-domain source delivers under ``$JS.S.<child end of the link>`` (`deliver_prefix`), the
  only delivery subjects that link's NATS permissions let through (see ``embedded.natsauth``).

Inbound streams (what the node's services apply): ``UP_ALL`` at the root, ``UP_<node>`` at a node
with children (own events skipped by origin), and ``DOWN_<node>`` at every node but the root.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
    SubjectTransform,
)
from nats.js.errors import NotFoundError

from kam_platform.embedded.nats import nats_servers
from kam_platform.topology import Topology

DUPLICATE_WINDOW_SECONDS = 20 * 60
# Retention: a node away longer than this catches up by snapshot (resync).
MAX_AGE_SECONDS = 30 * 24 * 3600


def up_stream(code: str) -> str:
    return f"UP_{code}"


def down_stream(topology: Topology, code: str) -> str:
    return "DOWN_ALL" if topology.node(code).parent is None else f"DOWN_{code}"


def down_scope(topology: Topology, code: str) -> str:
    """The scope token a node publishes downward under: ``all`` at the root, else its code."""
    return "all" if topology.node(code).parent is None else code


def dlq_stream(code: str) -> str:
    return f"DLQ_{code}"


def deliver_prefix(link: str) -> str:
    """Where a source's upstream consumer delivers, per leafnode link (named by the link's child end):
    the link's permissions allow exactly this prefix, so a child cannot feed another link's source."""
    return f"$JS.S.{link}"


@dataclass(frozen=True)
class SourceSpec:
    stream: str
    domain: str
    subjects: tuple[str, ...]
    link: str  # the child end of the leafnode link the source crosses (see `deliver_prefix`)


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    sources: tuple[SourceSpec, ...] = field(default=())
    description: str = ""

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=list(self.subjects),
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            max_age=MAX_AGE_SECONDS,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            sources=[
                StreamSource(
                    name=s.stream,
                    external=ExternalStream(api=f"$JS.{s.domain}.API", deliver=deliver_prefix(s.link)),
                    subject_transforms=[SubjectTransform(src=subj, dest=subj) for subj in s.subjects],
                )
                for s in self.sources
            ]
            or None,
        )


def _child_source(topology: Topology, child: str) -> SourceSpec:
    return SourceSpec(
        stream=up_stream(child),
        domain=child,
        subjects=tuple(f"up.{d}.>" for d in topology.subtree(child)),
        link=child,
    )


def plan(topology: Topology, code: str) -> list[StreamSpec]:
    node = topology.node(code)
    children = topology.children(code)
    specs: list[StreamSpec] = []
    own_up_sources = () if node.parent is None else tuple(_child_source(topology, c) for c in children)
    specs.append(
        StreamSpec(
            up_stream(code),
            (f"up.{code}.>",),
            own_up_sources,
            f"events written at {code}" + (" and its subtree" if own_up_sources else ""),
        )
    )
    specs.append(StreamSpec(dlq_stream(code), (f"dlq.{code}.>",), (), f"dead letters of {code}'s apply consumers"))
    if node.parent is None:
        specs.append(
            StreamSpec(
                "UP_ALL",
                (),
                tuple(_child_source(topology, c) for c in children),
                "events of the whole federation below the root",
            )
        )
        specs.append(StreamSpec("DOWN_ALL", ("down.all.>",), (), "reference data published by the root"))
    else:
        parent = node.parent
        specs.append(
            StreamSpec(
                down_stream(topology, code),
                (f"down.{code}.>",),
                (
                    SourceSpec(
                        down_stream(topology, parent),
                        parent,
                        tuple(f"down.{s}.>" for s in _down_scopes_above(topology, code)),
                        link=code,
                    ),
                ),
                f"reference data for {code}'s subtree",
            )
        )
    return specs


def _down_scopes_above(topology: Topology, code: str) -> list[str]:
    """Scopes published by the ancestors of `code`: ``all`` and each non-root ancestor's code."""
    return [down_scope(topology, a) for a in topology.ancestors(code)]


def inbound_streams(topology: Topology, code: str) -> list[str]:
    """The streams this node's services apply replicated events from."""
    node = topology.node(code)
    out: list[str] = []
    if node.parent is None:
        out.append("UP_ALL")
    elif topology.children(code):
        out.append(up_stream(code))
    if node.parent is not None:
        out.append(down_stream(topology, code))
    return out


log = logging.getLogger("kam.federation")


def _normalized(cfg: StreamConfig) -> dict[str, Any]:
    sources = sorted(
        (
            s.name,
            (s.external.api if s.external else ""),
            ((s.external.deliver or "") if s.external else ""),
            tuple(sorted((t.src, t.dest) for t in (s.subject_transforms or []))),
        )
        for s in (cfg.sources or [])
    )
    return {
        "subjects": sorted(cfg.subjects or []),
        "sources": sources,
        "retention": str(getattr(cfg.retention, "value", cfg.retention)),
        "storage": str(getattr(cfg.storage, "value", cfg.storage)),
        "max_age": int(cfg.max_age or 0),
        "duplicate_window": int(cfg.duplicate_window or 0),
    }


def drifted(actual: StreamConfig, desired: StreamConfig) -> bool:
    return _normalized(actual) != _normalized(desired)


async def declare(js: JetStreamContext, topology: Topology, code: str) -> list[str]:
    """Create the node's missing streams and repair drifted ones; returns the names changed."""
    changed: list[str] = []
    for spec in plan(topology, code):
        desired = spec.config()
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(desired)
            changed.append(spec.name)
            log.info("created stream %s", spec.name)
            continue
        if drifted(info.config, desired):
            await js.update_stream(desired)
            changed.append(spec.name)
            log.warning("repaired drifted stream %s", spec.name)
    return changed


async def declare_node_streams(nats_url: str, topology: Topology, code: str) -> list[str]:
    """Connect to a node's own nats-server and `declare` its streams (sync service, tests)."""
    nc = await nats.connect(nats_servers(nats_url), connect_timeout=5, max_reconnect_attempts=3)
    try:
        return await declare(nc.jetstream(), topology, code)
    finally:
        await nc.close()
