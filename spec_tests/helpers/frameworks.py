"""The scoreboard check of a real framework's adapter: a run of the default cases passes everything
except exactly the failures docs/scoreboard-notes-frameworks.md records and explains, and skips
exactly the ops the framework lacks.

Strict both ways, as pytest's ``xfail_strict``: a recorded failure that starts passing (a fixed
framework, a changed case) fails the test as much as a new failure does, so the notes cannot rot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.contract import OPS
from conformance.report import Report
from conformance.runner import run

NOTES = "docs/scoreboard-notes-frameworks.md"


def assert_only_recorded_failures(report: Report, recorded: Mapping[str, str],
                                  not_implemented: set[str], *, a_pass: bool = True) -> None:
    """``recorded``: check id → the finding of NOTES that explains it; ``not_implemented``: the
    ops the adapter does not offer (every check of theirs a skip); ``a_pass``: some check
    passes (a whole run; one op's checks may all fail as recorded)."""
    failed = {r.id: r for r in report.results if r.status == "fail"}
    new = [failed[i].line() for i in sorted(set(failed) - set(recorded))]
    fixed = sorted(set(recorded) - set(failed))
    assert not new, f"failures {NOTES} does not record:\n" + "\n".join(new)
    assert not fixed, f"recorded in {NOTES} but passing now (update the notes): {fixed}"
    skipped = {r.case.op for r in report.results if r.status == "skip"}
    assert skipped == not_implemented, (f"skipped {sorted(skipped)}, expected "
                                        f"{sorted(not_implemented)}")
    partly = {r.case.op for r in report.results if r.status != "skip"} & not_implemented
    assert not partly, f"ops expected to be missing whole, but partly run: {sorted(partly)}"
    if a_pass:
        assert report.passed > 0


def run_op_as_recorded(backend: str, op: str, dtype: str, recorded: Mapping[str, str],
                       not_implemented: set[str], **options: Any) -> Report:
    """The default cases of one op (``nnspec run --backend BACKEND --op OP``), checked by
    ``assert_only_recorded_failures`` against the failures ``recorded`` for that op.

    The adapters' tests run one op per test item (over every op of the contract), so that pytest
    -n spreads a framework's minutes of compiling over the workers instead of one item taking
    them all; together the items run exactly the cases of a whole run. The diagnosis is off (a
    status is the same with it: it only adds to a failing result): it calls the backend again
    and again on each failing check, which took Keras's float64 recurrent ops, compiling each
    call, five times as long as their run; a test of each adapter diagnoses one op."""
    report = run(backend, ops=[op], dtype=dtype, diagnose=False, **options)
    assert report.results, f"no default cases of {op}"
    assert {r.case.op for r in report.results} == {op}
    mine = {check: why for check, why in recorded.items() if check.startswith(f"{op}[")}
    assert_only_recorded_failures(report, mine, not_implemented & {op}, a_pass=False)
    return report


def assert_lists_name_ops(recorded: Mapping[str, str], not_implemented: set[str]) -> None:
    """Every recorded failure names a check of an op of the contract, and every op said to be
    missing is one: a typo in a test's lists would otherwise check nothing when split by op."""
    assert {check.split("[")[0] for check in recorded} <= set(OPS), sorted(recorded)
    assert not_implemented <= set(OPS), sorted(not_implemented)
