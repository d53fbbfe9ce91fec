"""Hand-chosen mutation review of reference/ (not part of the package).

Each mutant in mutants.py replaces one exact piece of a reference module's source (it must occur
exactly once) in a temporary copy of the worktree, runs that module's spec test file there
(``pytest -x -q -p no:cacheprovider``, the default fast Hypothesis profile) and records whether
a test failed (killed) or not (survived). The worktree itself is never written: the copy is made
afresh at the start of a run, each mutant is undone in a ``finally``, and bytecode caches are off
(PYTHONDONTWRITEBYTECODE, no __pycache__ in the copy), so no stale .pyc can hide a mutant.

    python tools/refmut/refmut.py [--only ID ...] [--module M ...] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from mutants import MUTANTS  # noqa: E402

IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".mypy_cache",
                                ".hypothesis", ".ruff_cache", ".pytest_cache", "tools",
                                "*.egg-info")


def copy_worktree(source: Path) -> Path:
    dest = Path(tempfile.mkdtemp(prefix="refmut-")) / "wt"
    shutil.copytree(source, dest, ignore=IGNORE)
    return dest


def run_tests(copy: Path, tests: list[str], timeout: float,
              select: str | None = None) -> tuple[str, str, float]:
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    env.pop("NNSPEC_HYPOTHESIS_PROFILE", None)              # the default (fast) profile
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests,
           *(["-k", select] if select else [])]
    shutil.rmtree(copy / ".hypothesis", ignore_errors=True)  # no examples replayed from before
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "killed", f"timeout after {timeout:.0f} s", time.monotonic() - start
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode == 0:
        return "survived", tail, time.monotonic() - start
    if proc.returncode == 1 or (proc.returncode == 2 and " error" in tail):  # failed / errored
        failed = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED")]
        return "killed", (failed[0] if failed else tail), time.monotonic() - start
    return "error", f"pytest exit {proc.returncode}: {tail}\n{proc.stderr[-2000:]}", \
        time.monotonic() - start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None, help="mutant ids")
    ap.add_argument("--module", nargs="*", default=None, help="reference module names")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--source", default=str(ROOT),
                    help="the tree to copy (e.g. `git archive` of the reviewed commit)")
    ap.add_argument("-k", dest="select", default=None,
                    help="run only these tests (pytest -k): does a new test kill the mutant?")
    args = ap.parse_args()
    chosen = [m for m in MUTANTS
              if (args.only is None or m["id"] in args.only)
              and (args.module is None or m["module"] in args.module)]
    copy = copy_worktree(Path(args.source))
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    try:
        baseline: dict[tuple[str, ...], str] = {}
        for m in chosen:
            path = copy / "reference" / f"{m['module']}.py"
            tests = m.get("tests") or [f"spec_tests/test_{m['module']}.py"]
            key = tuple(tests)
            if key not in baseline:                           # the unmutated code must pass
                status, detail, _ = run_tests(copy, list(tests), args.timeout, args.select)
                if status != "survived":
                    raise SystemExit(f"baseline of {tests} does not pass: {detail}")
                baseline[key] = detail
            original = path.read_text(encoding="utf-8")
            count = original.count(m["old"])
            if count != 1:
                results[m["id"]] = {"status": "error", "detail": f"old text found {count}×"}
                print(f"{m['id']:28} ERROR old text found {count}×", flush=True)
                continue
            try:
                path.write_text(original.replace(m["old"], m["new"]), encoding="utf-8")
                status, detail, secs = run_tests(copy, list(tests), args.timeout, args.select)
            finally:
                path.write_text(original, encoding="utf-8")
            results[m["id"]] = {"module": m["module"], "what": m["what"], "status": status,
                                "detail": detail, "seconds": round(secs, 1)}
            print(f"{m['id']:28} {status:8} {secs:6.1f}s  {detail[:110]}", flush=True)
            out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
