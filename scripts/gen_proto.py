"""Generate libs/contracts Python code from proto/, or check it is current (--check).

Also (--check) refuses incompatible changes against the last commit: a field number that is removed
without being reserved, reused, or retyped.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
OUT = ROOT / "libs" / "contracts" / "src" / "kam_contracts" / "gen"


def generate(out: Path) -> None:
    from grpc_tools import protoc

    out.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    rc = protoc.main(["protoc", f"-I{PROTO}", f"-I{include}", f"--python_out={out}", f"--mypy_out={out}", *files])
    if rc != 0:
        raise SystemExit(f"protoc failed ({rc})")
    for d in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        (d / "__init__.py").touch()
    # generated modules import each other as top-level "kam.v1"; make them package-relative
    for py in out.rglob("*_pb2.py*"):
        text = py.read_text()
        text = re.sub(r"^from kam\.v1 import", "from kam_contracts.gen.kam.v1 import", text, flags=re.M)
        py.write_text(text)


FIELD_RE = re.compile(r"^\s*(repeated\s+|optional\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;", re.M)
MSG_RE = re.compile(r"message\s+(\w+)\s*\{([^{}]*)\}", re.S)


def fields(text: str) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    for msg, body in MSG_RE.findall(text):
        for rep, typ, _name, num in FIELD_RE.findall(body):
            out[(msg, int(num))] = (rep.strip() + " " + typ).strip()
        for m in re.finditer(r"reserved\s+([\d,\s]+);", body):
            for n in m.group(1).split(","):
                out[(msg, int(n))] = "reserved"
    return out


def compat_check() -> list[str]:
    problems = []
    for path in sorted(PROTO.rglob("*.proto")):
        rel = path.relative_to(ROOT)
        old = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=ROOT, capture_output=True, text=True)
        if old.returncode != 0:
            continue  # new file
        before, after = fields(old.stdout), fields(path.read_text())
        for key, typ in before.items():
            if typ == "reserved":
                if key in after and after[key] != "reserved":
                    problems.append(f"{rel}: {key[0]} field {key[1]} is reserved and must not be reused")
                continue
            if key not in after:
                problems.append(f"{rel}: {key[0]} field {key[1]} removed without `reserved {key[1]};`")
            elif after[key] not in (typ, "reserved"):
                problems.append(f"{rel}: {key[0]} field {key[1]} retyped {typ} -> {after[key]}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if not args.check:
        if OUT.exists():
            shutil.rmtree(OUT)
        generate(OUT)
        print(f"generated {OUT.relative_to(ROOT)}")
        return 0
    problems = compat_check()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        cmp = filecmp.dircmp(tmp, OUT)
        stale = _diff(cmp)
    if stale:
        problems.append("generated code is stale, run `make proto`: " + ", ".join(stale))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def _diff(cmp: filecmp.dircmp[str]) -> list[str]:
    out = list(cmp.left_only) + list(cmp.right_only) + list(cmp.diff_files)
    out = [x for x in out if x != "__pycache__"]
    for sub in cmp.subdirs.values():
        out.extend(_diff(sub))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
