"""The tier tree of a federation: which nodes exist, their tier, parent and names.

Loaded from a topology YAML (deploy/topologies/*.yaml). Code asks the tree for capabilities and
relations (ancestors, subtree), never for a tier by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

NODE_CODE_RE = re.compile(r"^[a-z][a-z0-9]{1,7}(-[a-z0-9]{1,8})*$")


class Tier(StrEnum):
    GROUP = "group"  # 集团
    PROVINCE = "province"  # 省
    LOCAL = "local"  # 本地网


class TopologyError(ValueError):
    """The topology file is not a valid tier tree."""


@dataclass(frozen=True)
class Node:
    code: str
    tier: Tier
    parent: str | None
    name_zh: str
    name_en: str

    @property
    def can_author_reference_data(self) -> bool:
        """Catalogue, rules and the national key-account list are authored at the root."""
        return self.parent is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "tier": self.tier.value,
            "parent": self.parent,
            "name": {"zh": self.name_zh, "en": self.name_en},
        }


@dataclass
class Topology:
    nodes: dict[str, Node]
    _children: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        roots = [n for n in self.nodes.values() if n.parent is None]
        if len(roots) != 1:
            raise TopologyError(f"a topology has exactly one root node, found {len(roots)}")
        for node in self.nodes.values():
            if node.parent is not None and node.parent not in self.nodes:
                raise TopologyError(f"node {node.code!r} names unknown parent {node.parent!r}")
            self._children.setdefault(node.code, [])
            if node.parent is not None:
                self._children.setdefault(node.parent, []).append(node.code)
        # every node must reach the root (no cycles)
        for code in self.nodes:
            seen: set[str] = set()
            cur: str | None = code
            while cur is not None:
                if cur in seen:
                    raise TopologyError(f"cycle in topology at {cur!r}")
                seen.add(cur)
                cur = self.nodes[cur].parent

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Topology:
        raw_nodes = data.get("nodes")
        if not isinstance(raw_nodes, list) or not raw_nodes:
            raise TopologyError("topology needs a non-empty 'nodes' list")
        nodes: dict[str, Node] = {}
        for raw in raw_nodes:
            code = str(raw.get("code", ""))
            if not NODE_CODE_RE.match(code):
                raise TopologyError(f"invalid node code {code!r}")
            if code in nodes:
                raise TopologyError(f"duplicate node code {code!r}")
            try:
                tier = Tier(raw.get("tier"))
            except ValueError as exc:
                raise TopologyError(f"node {code!r}: unknown tier {raw.get('tier')!r}") from exc
            name = raw.get("name") or {}
            nodes[code] = Node(
                code=code,
                tier=tier,
                parent=raw.get("parent"),
                name_zh=str(name.get("zh", code)),
                name_en=str(name.get("en", code)),
            )
        return cls(nodes=nodes)

    @classmethod
    def load(cls, path: str | Path) -> Topology:
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(yaml.safe_load(fh))

    @classmethod
    def single(cls, code: str = "hq") -> Topology:
        """A one-node topology (for unit tests and stand-alone sites)."""
        return cls(nodes={code: Node(code, Tier.GROUP, None, code, code)})

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __contains__(self, code: object) -> bool:
        return code in self.nodes

    def node(self, code: str) -> Node:
        try:
            return self.nodes[code]
        except KeyError:
            raise TopologyError(f"unknown node {code!r}") from None

    @cached_property
    def root(self) -> Node:
        return next(n for n in self.nodes.values() if n.parent is None)

    def children(self, code: str) -> list[str]:
        return list(self._children.get(code, []))

    def ancestors(self, code: str) -> list[str]:
        """Parent first, root last."""
        out: list[str] = []
        cur = self.node(code).parent
        while cur is not None:
            out.append(cur)
            cur = self.nodes[cur].parent
        return out

    def subtree(self, code: str) -> list[str]:
        """The node itself and every descendant, depth first."""
        self.node(code)
        out: list[str] = []
        stack = [code]
        while stack:
            cur = stack.pop()
            out.append(cur)
            stack.extend(reversed(self._children.get(cur, [])))
        return out

    def is_in_subtree(self, code: str, of: str) -> bool:
        """True when `code` is `of` or one of its descendants."""
        if code not in self.nodes or of not in self.nodes:
            return False
        return code == of or of in self.ancestors(code)

    def ordered(self) -> list[Node]:
        """Root first, parents before children (start order)."""
        return [self.nodes[c] for c in self.subtree(self.root.code)]
