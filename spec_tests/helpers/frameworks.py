"""The scoreboard check of a real framework's adapter: a run of the default cases, given the
adapter's expected-failures list (docs/xfail/<backend>.txt, the ``--xfail`` file CI and
``nnspec matrix --xfail-dir docs/xfail`` use too), passes, and skips exactly the ops the
framework lacks.

Strict both ways, as pytest's ``xfail_strict`` (conformance.xfail): a listed failure that starts
passing (a fixed framework, a changed case) fails the run as much as a new failure does, an entry
that matches no check is stale, and every entry's reason names a finding of the scoreboard notes
that explains it, so neither the list nor the notes can rot.

The adapters' tests run one op per test item (over every op of the contract), so that pytest -n
spreads a framework's minutes of compiling over the workers instead of one item taking them all;
together the items run exactly the cases of a whole run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conformance.report import Report
from conformance.runner import run
from conformance.xfail import load

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "docs" / "scoreboard-notes-frameworks.md"


def xfail_file(backend: str) -> Path:
    """The adapter's expected-failures list, docs/xfail/<backend>.txt."""
    return ROOT / "docs" / "xfail" / f"{backend}.txt"


def titles(notes: Path = NOTES) -> list[str]:
    """The titles of the findings (``### `` headings) of a scoreboard-notes file."""
    return re.findall(r"^### (.+)$", notes.read_text(encoding="utf-8"), flags=re.M)


def assert_only_listed_failures(report: Report, not_implemented: set[str],
                                findings: list[str] | None = None, *,
                                a_pass: bool = True) -> None:
    """``report`` ran with the adapter's list: nothing failed or timed out unlisted, nothing
    listed passed, no entry is stale; ``not_implemented``: the ops the adapter does not offer
    (every check of theirs a skip); ``findings``: the titles of the notes' findings, one of
    which each entry's reason must begin with (its ID, "K1.", or its whole title; default: the
    frameworks' notes); ``a_pass``: some check passes (a whole run; one op's checks may all
    fail as listed)."""
    assert report.xfail_source is not None, "run with the adapter's expected-failures list"
    assert report.ok, "\n".join([r.line() for r in report.problems()] +
                                [f"stale: {e}" for e in report.stale])
    findings = titles() if findings is None else findings
    for entry in load(report.xfail_source).entries:
        assert any(entry.reason.startswith(f) or f.startswith(entry.reason.split(". ")[0] + ".")
                   for f in findings), f"{entry.text()}: no finding of the notes explains it"
    skipped = {r.case.op for r in report.results if r.status == "skip"}
    assert skipped == not_implemented & set(report.ops), (
        f"skipped {sorted(skipped)}, expected {sorted(not_implemented)}")
    partly = {r.case.op for r in report.results if r.status != "skip"} & not_implemented
    assert not partly, f"ops expected to be missing whole, but partly run: {sorted(partly)}"
    if a_pass:
        assert report.passed > 0


def run_op_as_listed(backend: str, op: str, dtype: str, not_implemented: set[str],
                     **options: Any) -> Report:
    """The default cases of one op (``nnspec run --backend BACKEND --ops OP --xfail
    docs/xfail/BACKEND.txt``), checked by ``assert_only_listed_failures`` (the list's entries
    of other ops are out of this run, not stale).

    The diagnosis is off (a status is the same with it: it only adds to a failing result): it
    calls the backend again and again on each failing check, which took Keras's float64
    recurrent ops, compiling each call, five times as long as their run; a test of each adapter
    diagnoses one op."""
    report = run(backend, ops=[op], dtype=dtype, diagnose=False, xfail=xfail_file(backend),
                 **options)
    assert report.results, f"no default cases of {op}"
    assert {r.case.op for r in report.results} == {op}
    assert_only_listed_failures(report, not_implemented, a_pass=False)
    return report
