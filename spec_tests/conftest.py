"""Spec-suite configuration: Hypothesis profiles, the claim marker and the claim report.

* Hypothesis profiles: ``fast`` (default, what CI runs) and ``thorough`` (many more examples).
  Choose with ``pytest --hypothesis-profile thorough`` or ``NNSPEC_HYPOTHESIS_PROFILE=thorough``.
* Every test names what it checks: ``@pytest.mark.claim("<id>")`` with an ID of
  reference.claims.REGISTRY and one oracle marker (slides, sympy, torch, property, behaviour,
  errors, or generator for a test of a data generator or initialiser); tests of the project's
  own machinery carry ``@pytest.mark.infrastructure`` instead.
  Collection stops with a usage error listing any test that breaks this rule.
* The jax adapter's compilation cache is off (NNSPEC_JAX_CACHE=off) unless the environment
  sets it.
* ``--claims-report PATH`` writes, at collection, a JSON list of every test with its claims and
  markers; spec_tests/test_claims.py builds the claim coverage check and the README table on it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from reference.claims import REGISTRY

ORACLE_MARKERS = ("slides", "sympy", "torch", "property", "behaviour", "errors", "generator")
"""The markers a spec test needs one of. ``generator`` marks a test of a data generator or an
initialiser that a behaviour relies on: it names the claim it serves but is counted apart in the
claim table, never as that claim's behaviour oracle."""
CLAIMS_REPORT = pytest.StashKey[list[dict[str, object]]]()
"""The claim report of this session's collection (before -k/-m deselection), for test_claims."""

settings.register_profile(
    "fast",
    max_examples=15,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
    print_blob=True,
)
settings.load_profile(os.environ.get("NNSPEC_HYPOTHESIS_PROFILE", "fast"))

# The jax adapter keeps compiled programs in the user's cache folder between runs: the suite (and
# the commands it runs in subprocesses) turns that off unless told otherwise, so that no test
# depends on a warm cache and none writes to the home folder (a test points it at tmp_path).
os.environ.setdefault("NNSPEC_JAX_CACHE", "off")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--claims-report",
        metavar="PATH",
        default=None,
        help="write every collected spec test with its claim IDs and markers to PATH (JSON)",
    )


def _claims_of(item: pytest.Item) -> list[str]:
    return [cid for mark in item.iter_markers("claim") for cid in mark.args]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = []
    report = []
    for item in items:
        claims = _claims_of(item)
        markers = sorted({m.name for m in item.iter_markers()} & {*ORACLE_MARKERS,
                                                                  "infrastructure"})
        unknown = [c for c in claims if c not in REGISTRY]
        if unknown:
            problems.append(f"{item.nodeid}: unknown claim ID(s) {unknown}")
        if "infrastructure" not in markers:
            if not claims:
                problems.append(f"{item.nodeid}: names no claim (@pytest.mark.claim(...))")
            if not set(markers) & set(ORACLE_MARKERS):
                problems.append(f"{item.nodeid}: has no oracle marker {ORACLE_MARKERS}")
        report.append({"nodeid": item.nodeid, "claims": claims, "markers": markers})
    if problems:
        raise pytest.UsageError("spec tests must name known claims:\n  " + "\n  ".join(problems))
    config.stash[CLAIMS_REPORT] = report
    path = config.getoption("--claims-report")
    if path:
        Path(path).write_text(json.dumps(report, indent=1), encoding="utf-8")


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder as the current directory, not on sys.path (as for a console script,
    whose sys.path holds its own folder, not the current one)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    return tmp_path
