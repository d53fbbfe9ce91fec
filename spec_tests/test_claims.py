"""Meta-tests of the claim registry: no claim without its tests, no test without a known claim,
and the README's claim table generated from both.

Regenerate the README table after adding tests with::

    NNSPEC_UPDATE_README=1 pytest spec_tests/test_claims.py
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from reference.claims import MARKER_OF_ORACLE, REGISTRY, claim
from spec_tests.conftest import CLAIMS_REPORT
from spec_tests.helpers.claims import ROOT, TABLE_END, TABLE_START, collect_report, render_table
from spec_tests.helpers.claims import tests_by_claim as group

pytestmark = pytest.mark.infrastructure


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The claim report of the whole suite: this session's own collection when it collected every
    spec test file (a plain or xdist run of the suite), else a fresh collection in a subprocess."""
    collected = request.config.stash.get(CLAIMS_REPORT, [])
    files = {str(row["nodeid"]).split("::")[0] for row in collected}
    everything = {f"spec_tests/{p.name}" for p in (ROOT / "spec_tests").glob("test_*.py")}
    if files == everything:
        return collected
    return collect_report()


def test_every_test_names_a_registered_claim(report: list[dict[str, Any]]) -> None:
    unknown = {c for row in report for c in row["claims"] if c not in REGISTRY}
    assert not unknown, f"tests name unknown claims {sorted(unknown)}"
    bare = [r["nodeid"] for r in report if not r["claims"] and "infrastructure" not in r["markers"]]
    assert not bare, f"tests without a claim: {bare}"


def test_every_active_claim_has_a_test_of_each_oracle_kind(report: list[dict[str, Any]]) -> None:
    by_claim = group(report)
    missing = []
    for c in REGISTRY.values():
        if c.status != "active":
            continue
        have = by_claim.get(c.id, {})
        if not c.oracles and not have:
            missing.append(f"{c.id}: no test at all")
        for oracle in c.oracles:
            if not have.get(MARKER_OF_ORACLE[oracle]):
                missing.append(f"{c.id}: no {MARKER_OF_ORACLE[oracle]} test (oracle {oracle})")
    assert not missing, "claims without the tests CLAIMS.md asks for:\n" + "\n".join(missing)


def test_pending_claims_are_reported() -> None:
    pending = sorted(c.id for c in REGISTRY.values() if c.status == "pending")
    if pending:
        warnings.warn(f"{len(pending)} claims are pending: {', '.join(pending)}", stacklevel=1)


def test_mentioned_entries_give_their_reason_and_claim_nothing_testable(
        report: list[dict[str, Any]]) -> None:
    """A "mentioned" entry (the slides name it without a method) must say why it is not
    specified, and can have no oracles, reference functions or tests: a test of it would mean it
    is specified after all (then it is an active claim)."""
    mentioned = [c for c in REGISTRY.values() if c.status == "mentioned"]
    bad = [c.id for c in mentioned if not c.reason.strip() or c.oracles or c.functions]
    assert not bad, f"mentioned entries need a reason and no oracles or functions: {bad}"
    tested = {cid for row in report for cid in row["claims"]} & {c.id for c in mentioned}
    assert not tested, f"tests name mentioned (unspecified) entries: {sorted(tested)}"
    stray = [c.id for c in REGISTRY.values() if c.reason and c.status != "mentioned"]
    assert not stray, f"only mentioned entries carry a reason: {stray}"
    table = render_table(report)
    for c in mentioned:
        assert f"| `{c.id}` *(mentioned, not specified)* |" in table and c.reason in table


def test_registry_functions_of_active_claims_exist() -> None:
    missing = []
    for c in REGISTRY.values():
        if c.status != "active":
            continue
        for dotted in c.functions:
            parts = dotted.split(".")
            obj: Any = None
            for cut in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:cut]))
                except ModuleNotFoundError:
                    continue
                try:
                    for attr in parts[cut:]:
                        obj = getattr(obj, attr)
                except AttributeError:
                    obj = None
                break
            if obj is None:
                missing.append(f"{c.id}: {dotted}")
    assert not missing, f"registry names functions that do not exist: {missing}"


def test_claim_lookup_names_close_matches() -> None:
    assert claim("act.sigmoid").oracles == ("Y", "T", "H")
    with pytest.raises(KeyError, match="act.sigmoid"):
        claim("act.sigmoi")


def test_readme_claim_table_is_generated_from_the_registry(report: list[dict[str, Any]]) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    table = render_table(report)
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    assert start >= 0 and end > start, "README.md lacks the claims-table markers"
    current = text[start:end + len(TABLE_END)]
    if current != table and os.environ.get("NNSPEC_UPDATE_README"):
        readme.write_text(text[:start] + table + text[end + len(TABLE_END):], encoding="utf-8")
        return
    assert current == table, (
        "README.md's claim table is out of date: run "
        "`NNSPEC_UPDATE_README=1 pytest spec_tests/test_claims.py`"
    )


def test_collection_without_jax_skips_its_tests_instead_of_failing(tmp_path: Path) -> None:
    """JAX is an optional extra. With a ``jax`` that cannot be imported first on the path (as
    on a machine without it), collecting the JAX adapter's tests and this file skips the former
    and still collects the latter (whose claim report collects the whole suite). Bug it catches
    (tried): test_conformance_jax_backend.py importing jax at module level, which made
    collection fail with an ImportError and took this file's report down with it."""
    fake = tmp_path / "jax"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'jax\'", name="jax")\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-p", "no:xdist", "--no-cov", "-rs", "spec_tests/test_conformance_jax_backend.py",
         "spec_tests/test_claims.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "SKIPPED [1] spec_tests/test_conformance_jax_backend.py" in out, out[-3000:]
    assert "test_claims.py::test_every_test_names_a_registered_claim" in out, out[-3000:]


def test_generator_tests_are_listed_apart_and_never_count_as_a_behaviour_oracle() -> None:
    """A test of a data generator or an initialiser (marker ``generator``) names the claim it
    serves, but the table lists it apart and the coverage check does not take it for the
    claim's behaviour test. Bug it catches: the table printing generator tests as
    **behaviour** (as it did when they carried that marker)."""
    from spec_tests.helpers.claims import GENERATOR_LABEL

    rows = [{"nodeid": "spec_tests/test_x.py::test_data", "claims": ["window.training"],
             "markers": ["generator"]}]
    by = group(rows)
    assert not by["window.training"].get("behaviour")
    line = next(r for r in render_table(rows).splitlines() if r.startswith("| `window.training`"))
    assert f"**{GENERATOR_LABEL}**: `test_x.py::test_data`" in line
    assert "**behaviour**" not in line
