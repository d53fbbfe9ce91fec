"""The scoreboard check of a real framework's adapter: a run of the default cases, given the
adapter's expected-failures list (docs/xfail/<backend>.txt, the ``--xfail`` file CI uses too),
passes, and skips exactly the ops the framework lacks.

Strict both ways, as pytest's ``xfail_strict`` (conformance.xfail): a listed failure that starts
passing (a fixed framework, a changed case) fails the run as much as a new failure does, and
every entry's reason names a finding of the scoreboard notes that explains it, so neither the
list nor the notes can rot.
"""

from __future__ import annotations

import re
from pathlib import Path

from conformance.report import Report
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
                                findings: list[str] | None = None) -> None:
    """``report`` ran with the adapter's list: nothing failed or timed out unlisted, nothing
    listed passed, no entry is stale; ``not_implemented``: the ops the adapter does not offer
    (every check of theirs a skip); ``findings``: the titles of the notes' findings, one of
    which each entry's reason must begin with (its ID, "K1.", or its whole title; default: the
    frameworks' notes)."""
    findings = titles() if findings is None else findings
    assert report.xfail_source is not None, "run with the adapter's expected-failures list"
    assert report.ok, "\n".join([r.line() for r in report.problems()] +
                                [f"stale: {e}" for e in report.stale])
    listed = load(report.xfail_source)
    for entry in listed.entries:
        assert any(entry.reason.startswith(f) or f.startswith(entry.reason.split(". ")[0] + ".")
                   for f in findings), f"{entry.text()}: no finding of the notes explains it"
    skipped = {r.case.op for r in report.results if r.status == "skip"}
    assert skipped == not_implemented, (f"skipped {sorted(skipped)}, expected "
                                        f"{sorted(not_implemented)}")
    partly = {r.case.op for r in report.results if r.status != "skip"} & not_implemented
    assert not partly, f"ops expected to be missing whole, but partly run: {sorted(partly)}"
    assert report.passed > 0
