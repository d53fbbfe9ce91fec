"""What a passing ``nnspec run`` imports: only what checking needs (issue 14).

A run whose checks all pass diagnoses nothing, draws and shrinks nothing and writes no scoreboard,
so it does not import the modules that do: they are imported where a failure, property mode or
``nnspec matrix`` needs them, which keeps a default run's start-up close to the backend's own
import. Nor does it import SymPy, which ``torch.autograd.grad`` imports when it is given the
cotangents (the torch adapter differentiates Σ ⟨c, o⟩ instead). Each run is made in a fresh
interpreter, which then lists the modules it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.infrastructure

ROOT = Path(__file__).resolve().parents[1]

FAILURE_ONLY = (
    "conformance.diagnosis", "conformance.consistency", "conformance.anatomy",
    "conformance.property", "conformance.reproducer", "conformance.strategies",
    "conformance.matrix", "conformance.adapters.numpy_backend", "hypothesis", "sympy",
    "xml.etree",
)
"""Modules only a failure (diagnosis, the NumPy reference it recomputes with), property mode
(Hypothesis, strategies, reproducers), ``nnspec matrix`` or JUnit XML needs."""

SCRIPT = """
import io, json, sys
from conformance.cli import main
out = io.StringIO()
code = main(sys.argv[1:], out=out)
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def nnspec_modules(*argv: str) -> tuple[int, str, list[str]]:
    """The exit status, output and the modules imported by ``nnspec argv`` in a fresh
    interpreter (without coverage, whose own imports would be counted)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", SCRIPT, *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    return result["code"], result["out"], result["modules"]


def imported(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def test_a_passing_torch_run_imports_nothing_only_a_failure_needs(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    code, out, modules = nnspec_modules("run", "--backend", "torch", "--ops",
                                        "relu,conv2d,max_pool2d,lstm,cross_entropy", "--json",
                                        str(tmp_path / "report.json"))
    assert code == 0 and "PASSED: torch" in out, out
    assert "gradient" in (tmp_path / "report.json").read_text(encoding="utf-8")
    assert imported(modules, FAILURE_ONLY) == []


def test_a_failing_run_imports_the_diagnosis_it_prints() -> None:
    """The counterpart, so that the test above cannot pass by looking for the wrong names."""
    code, out, modules = nnspec_modules("run", "--backend", "conformance.examples.student_buggy",
                                        "--ops", "relu,conv2d")
    assert code == 1 and "FAILED" in out and "diagnos" in out, out
    found = imported(modules, FAILURE_ONLY)
    assert "conformance.diagnosis" in found and "conformance.adapters.numpy_backend" in found

