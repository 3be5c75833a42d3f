"""One OpenAPI document and one Swagger UI per node (issue 10): what a TMF client, a conformance kit
and the console read at `<node URL>/openapi.json` and `/docs`, whichever way the node's services run.

Each service publishes its own document (kam_platform.openapi); `merge()` makes the node's from them:

- paths: every path of every service that the node routes to that service (the specs' routes,
  kam_cli.services.ROUTES); a path the node does not route there is left out, since the node would not
  serve it;
- components: a name defined alike by several services (e.g. the `Error` envelope) is kept once; a name
  that services define differently (e.g. two `Characteristic`s), or whose definition refers to such a
  name, is renamed in every one of them to `<service>.<Name>` and every `$ref` in that service's part is
  rewritten, so no operation changes its meaning;
- each operation keeps its tags and its security (a document-wide `security` is copied into each of
  its operations that has none); an `operationId` that two services use is prefixed `<service>.`;
- `info` names the node and lists the services; `x-kam-services` gives each one's title and version,
  and `x-kam-unavailable` the services whose document could not be read (their paths are missing).

The gateway (process per service) reads the documents over HTTP, the node app (process per node) in
process; both cache the merged document once every service answered.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from kam_platform.service import route

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REF = re.compile(r"^#/components/([^/]+)/(.+)$")

Document = dict[str, Any]


def _refs(node: Any) -> Iterator[tuple[str, str]]:
    """(component kind, name) of every local `$ref` under `node`."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (m := _REF.match(ref)):
            yield m.group(1), m.group(2)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _rewrite_refs(node: Any, renames: Mapping[tuple[str, str], str]) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite_refs(v, renames) for k, v in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and (m := _REF.match(ref)) and (m.group(1), m.group(2)) in renames:
            out["$ref"] = f"#/components/{m.group(1)}/{renames[(m.group(1), m.group(2))]}"
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _clashes(docs: Mapping[str, Document]) -> set[tuple[str, str]]:
    """The (kind, name) components that must be renamed: defined differently by two services, or
    referring (directly or not) to such a component."""
    defined: dict[tuple[str, str], dict[str, str]] = {}
    for service, doc in docs.items():
        for kind, items in (doc.get("components") or {}).items():
            if isinstance(items, dict):
                for name, value in items.items():
                    defined.setdefault((kind, name), {})[service] = json.dumps(value, sort_keys=True)
    shared = {key: texts for key, texts in defined.items() if len(texts) > 1}
    clash = {key for key, texts in shared.items() if len(set(texts.values())) > 1}
    changed = True
    while changed:  # a shared definition naming a renamed component differs in meaning: rename it too
        changed = False
        for key, texts in shared.items():
            if key in clash:
                continue
            for service in texts:
                body = docs[service]["components"][key[0]][key[1]]
                if any(ref in clash for ref in _refs(body)):
                    clash.add(key)
                    changed = True
                    break
    return clash


def merge(
    docs: Mapping[str, Document],
    routes: Mapping[str, str],
    *,
    title: str = "KAM node",
    unavailable: list[str] | None = None,
) -> Document:
    """The node's document from its services' (`service → document`, in start order)."""
    clash = _clashes(docs)
    versions = [str(d.get("openapi", "3.1.0")) for d in docs.values()]
    merged: Document = {
        "openapi": max(versions, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v))) if versions else "3.1.0",
        "info": {
            "title": title,
            "version": next((str(d.get("info", {}).get("version")) for d in docs.values()), "0.1.0"),
            "description": "\n\n".join(
                f"**{service}** — {d.get('info', {}).get('title', service)}: {d.get('info', {}).get('description', '')}"
                for service, d in docs.items()
            ),
        },
        "paths": {},
        "components": {},
        "x-kam-services": {
            service: {"title": d.get("info", {}).get("title", service), "version": d.get("info", {}).get("version")}
            for service, d in docs.items()
        },
    }
    if unavailable:
        merged["x-kam-unavailable"] = sorted(unavailable)
    tags: dict[str, Any] = {}
    operation_ids: set[str] = set()
    for service, original in docs.items():
        renames = {
            (kind, name): f"{service}.{name}"
            for kind, items in (original.get("components") or {}).items()
            if isinstance(items, dict)
            for name in items
            if (kind, name) in clash
        }
        doc = _rewrite_refs(copy.deepcopy(original), renames)
        for kind, items in (doc.get("components") or {}).items():
            if not isinstance(items, dict):
                continue
            target = merged["components"].setdefault(kind, {})
            for name, value in items.items():
                target.setdefault(renames.get((kind, name), name), value)
        security = doc.get("security")
        for path, item in (doc.get("paths") or {}).items():
            if route(path, routes) != service or path in merged["paths"]:
                continue
            for method, operation in item.items():
                if method not in OPERATIONS or not isinstance(operation, dict):
                    continue
                if security is not None and "security" not in operation:
                    operation["security"] = security
                op_id = operation.get("operationId")
                if isinstance(op_id, str):
                    if op_id in operation_ids:
                        op_id = operation["operationId"] = f"{service}.{op_id}"
                    operation_ids.add(op_id)
            merged["paths"][path] = item
        for tag in doc.get("tags") or ():
            if isinstance(tag, dict) and "name" in tag:
                tags.setdefault(tag["name"], tag)
        for name, hook in (doc.get("webhooks") or {}).items():
            merged.setdefault("webhooks", {}).setdefault(name, hook)
    if tags:
        merged["tags"] = list(tags.values())
    if not merged["components"]:
        del merged["components"]
    return merged


def swagger_ui(openapi_url: str, title: str) -> Any:
    """The Swagger UI page (the one FastAPI serves at a service's /docs), as a Starlette response."""
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} — Swagger UI")


def redoc(openapi_url: str, title: str) -> Any:
    from fastapi.openapi.docs import get_redoc_html

    return get_redoc_html(openapi_url=openapi_url, title=f"{title} — ReDoc")


def node_title(node: str | None) -> str:
    return f"KAM node {node}" if node else "KAM node"
