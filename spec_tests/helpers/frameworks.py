"""The scoreboard check of a real framework's adapter: a run of the default cases passes everything
except exactly the failures docs/scoreboard-notes-frameworks.md records and explains, and skips
exactly the ops the framework lacks.

Strict both ways, as pytest's ``xfail_strict``: a recorded failure that starts passing (a fixed
framework, a changed case) fails the test as much as a new failure does, so the notes cannot rot.
"""

from __future__ import annotations

from collections.abc import Mapping

from conformance.report import Report

NOTES = "docs/scoreboard-notes-frameworks.md"


def assert_only_recorded_failures(report: Report, recorded: Mapping[str, str],
                                  not_implemented: set[str]) -> None:
    """``recorded``: check id → the finding of NOTES that explains it; ``not_implemented``: the
    ops the adapter does not offer (every check of theirs a skip)."""
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
    assert report.passed > 0
