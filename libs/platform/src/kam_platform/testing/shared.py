"""Expensive fixtures shared by several test modules (a federation of nodes): started by the first module
that uses one, stopped right after the last such module of the run is done — not at the end of the session
or of the directory, so two of them are never up while unrelated tests run (a federation left up slows and
breaks the tests of others on a 2-core machine).

    @shared_fixture
    def trio() -> Iterator[Nodes]:
        with start_trio() as nodes:
            yield nodes

defines a module-scoped fixture `trio`; the plugin (kam_platform.testing.plugin) orders the collected
modules so that those using the same shared fixture run one after another (in their collected order, at
the place of the first), and counts which modules use each. Each test still arranges its own data
(its own customers and ids), never relying on what another module left.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

_ATTR = "_kam_shared_fixture"


class _Registry:
    def __init__(self) -> None:
        self.factories: dict[str, Callable[[], Iterator[Any]]] = {}
        self.users: dict[str, set[str]] = {}  # name → node ids of the modules still to use it
        self.running: dict[str, tuple[Any, contextlib.ExitStack]] = {}
        self.failed: dict[str, BaseException] = {}  # a start that failed is not tried again by each module

    def acquire(self, name: str) -> Any:
        if name in self.failed:
            earlier = self.failed[name]
            raise RuntimeError(f"the shared fixture {name!r} failed to start earlier in this run") from earlier
        if name not in self.running:
            stack = contextlib.ExitStack()
            try:
                value = stack.enter_context(contextlib.contextmanager(self.factories[name])())
            except BaseException as e:
                stack.close()
                if isinstance(e, Exception):
                    self.failed[name] = e
                raise
            self.running[name] = (value, stack)
        return self.running[name][0]

    def module_done(self, module: str) -> None:
        """A module's last test is torn down (run, failed or skipped): stop what no later module uses."""
        errors: list[BaseException] = []
        for name, users in self.users.items():
            users.discard(module)
            if not users:
                try:
                    self.stop(name)
                except Exception as e:  # stop the others too, then report the first failure
                    errors.append(e)
        if errors:
            raise errors[0]

    def stop(self, name: str) -> None:
        if name in self.running:
            _value, stack = self.running.pop(name)
            stack.close()

    def stop_all(self) -> None:
        errors: list[BaseException] = []
        for name in list(self.running):
            try:
                self.stop(name)
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]


REGISTRY = _Registry()


def shared_fixture(factory: Callable[[], Iterator[T]]) -> Any:
    """A module-scoped fixture named as `factory` whose value (what `factory` yields) is made once for
    every module that uses it in a row and torn down (the rest of `factory`) after the last of them."""
    name = factory.__name__
    if name in REGISTRY.factories and REGISTRY.factories[name] is not factory:
        raise ValueError(f"two shared fixtures named {name!r}")
    REGISTRY.factories[name] = factory

    def fixture() -> T:
        value: T = REGISTRY.acquire(name)
        return value

    fixture.__doc__ = factory.__doc__
    setattr(fixture, _ATTR, name)
    return pytest.fixture(scope="module", name=name)(fixture)


def shared_names(item: pytest.Item) -> list[str]:
    """The shared fixtures a test uses (those its fixture names resolve to, not an override of the name)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    names: list[str] = []
    for name in item.fixturenames:  # type: ignore[attr-defined]
        defs = info.name2fixturedefs.get(name)
        if defs and getattr(defs[-1].func, _ATTR, None) == name:
            names.append(name)
    return names


def group_by_shared_fixture(items: list[pytest.Item]) -> None:
    """Reorder `items` in place: modules using the same shared fixture one after another, at the place of
    the first of them; every other module and the order within a module as collected."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(module_id(item), []).append(item)
    group_of: dict[str, str] = {}
    for module, its in modules.items():
        names = [n for item in its for n in shared_names(item)]
        if names:
            group_of[module] = names[0]
    ordered: list[pytest.Item] = []
    placed: set[str] = set()
    for module, its in modules.items():
        group = group_of.get(module)
        if group is None:
            ordered.extend(its)
        elif group not in placed:
            placed.add(group)
            for other, theirs in modules.items():
                if group_of.get(other) == group:
                    ordered.extend(theirs)
    items[:] = ordered


def module_id(item: pytest.Item) -> str:
    module = item.getparent(pytest.Module)
    return module.nodeid if module is not None else item.nodeid


def count_users(items: list[pytest.Item]) -> None:
    """Which modules of the run use each shared fixture (after deselection: the items that will run)."""
    REGISTRY.users = {}
    for item in items:
        for name in shared_names(item):
            REGISTRY.users.setdefault(name, set()).add(module_id(item))
