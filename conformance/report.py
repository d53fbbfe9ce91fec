"""Results and the Report of a run: the terminal table, the JSON report and JUnit XML.

The JSON report's layout is versioned (``SCHEMA_VERSION``) and described by the JSON Schema in
conformance.schema; it records the spec version, the backend's name and version, the dtype, the
seeds, and for every check its status, reason, achieved error, worst element and tolerance.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

import reference
from conformance.cases import Case
from conformance.contract import Check
from reference.tolerance import Tolerance

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from conformance.anatomy import Anatomy
    from conformance.consistency import Consistency
    from conformance.diagnosis import Named
    from conformance.narrowing import Narrowing

__all__ = ["SCHEMA_NAME", "SCHEMA_VERSION", "Check", "Report", "Result", "Status", "failed_on"]

Status = Literal["pass", "fail", "skip", "timeout", "xfail", "xpass"]
"""A check's outcome: "timeout" is a call that outlived its time limit (or a check not run
because an earlier call of its op did): neither a pass nor a wrong result. "xfail" is a failure
(or timeout) the run's expected-failures list names, "xpass" a pass it names, which fails the
run (conformance.xfail)."""
SCHEMA_NAME = "nnspec-conformance-report"
SCHEMA_VERSION = 6
"""The version of the JSON report's layout; bumped on any incompatible change (2: per result
``diagnosis``, ``reproducer`` and ``examples``; ``seeds.property`` in property mode; 3: per
failing result ``consistency`` (is it the forward or the backward?), ``anatomy`` (where and how
each failing array is wrong) and ``mistakes`` (the named mistakes behind ``diagnosis``). 4: the
status "timeout" and ``summary.timed_out``; per result ``skipped_examples`` (drawn cases the
backend raised NotImplementedError for); ``interrupted``, true for a run stopped by Ctrl-C;
per result ``warnings``, the numeric warnings the backend emitted during the call). 5: declared
conventions: the report's ``conventions`` and per result ``declared``, the variants a check was
judged under where they changed what it expects; expected failures: the statuses "xfail" and
"xpass", per result ``expected_failure`` (the listed reason), ``summary.xfailed`` and
``summary.xpassed``, and the report's ``xfail`` (the list's file and its stale entries)). 6: per
failing result ``narrowing`` (conformance.narrowing: the simplifications of the case under which
the backend is right, those under which it stays wrong, and the smallest failing case's
anatomy), where no well-known mistake explains the failure)."""


_DTYPE_REASON = re.compile(r"^\w+: dtype \w+")
_NOT_FINITE = re.compile(r"^\w+: \d+ (nan|inf)(?: and \d+ (inf))? where finite values are "
                         r"expected")


def failed_on(reason: str, warnings: Iterable[str], error_ratio: float | None) -> str:
    """What a failing check failed on where its error cannot show it: with values within
    tolerance (error ratio ≤ 1) "dtype" (an array of another dtype), "warned" (the call emitted
    numeric warnings) or both; with no ratio, "nan", "inf" or "nan, inf" (where finite values are
    expected); else "" (its values are what is wrong, or it raised, or returned another
    shape)."""
    if error_ratio is None:
        found = _NOT_FINITE.match(reason)
        return ", ".join(k for k in found.groups() if k) if found else ""
    if error_ratio > 1:
        return ""
    kinds = (["dtype"] if _DTYPE_REASON.match(reason) else []) + (
        ["warned"] if list(warnings) else [])
    return ", ".join(kinds)


@dataclass(frozen=True)
class Result:
    """The outcome of one check (forward or gradient) of one case, passing or not.

    ``diagnosis`` names the well-known mistakes that explain a failure (or says none does),
    ``mistakes`` holds them one by one, ``consistency`` says whether the backend's backward is
    the derivative of its own forward and which of the two is wrong, and ``anatomy`` describes
    where and how each failing array is wrong (conformance.diagnosis); ``reproducer`` is a
    self-contained Python script that repeats a property-mode failure; ``examples`` is how many
    cases the check covers (property mode: drawn cases); ``max_rel_error`` is None where the
    relative error is undefined (every error sits where 0 is expected); ``skipped_examples``
    how many drawn cases were skipped (NotImplementedError) besides. ``declared`` holds the
    conventions (name, variant) the backend declares that changed what this check expects (it
    was judged under them, conformance.conventions); ``expected_failure`` the reason the run's
    expected-failures list gives for it (status "xfail" or "xpass").
    """

    case: Case
    check: Check
    status: Status
    reason: str
    tolerance: Tolerance | None = None
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    error_ratio: float | None = None
    worst_array: str | None = None
    worst_index: tuple[int, ...] | None = None
    style: str | None = None
    seconds: float = 0.0
    diagnosis: str | None = None
    reproducer: str | None = None
    examples: int = 1
    warnings: tuple[str, ...] = ()
    mistakes: tuple[Named, ...] = ()
    consistency: Consistency | None = None
    anatomy: tuple[Anatomy, ...] = ()
    narrowing: Narrowing | None = None
    skipped_examples: int = 0
    declared: tuple[tuple[str, str], ...] = ()
    expected_failure: str | None = None

    def __post_init__(self) -> None:
        # a relative error of 0 beside an absolute one that is not: every error sits where 0 is
        # expected, where the relative error is undefined (the reason says so): None, not 0
        if self.max_rel_error == 0.0 and self.max_abs_error:
            object.__setattr__(self, "max_rel_error", None)

    @property
    def id(self) -> str:
        """``conv2d[forward-golden-07]``."""
        return f"{self.case.op}[{self.check}-{self.case.source}-{self.case.name}]"

    @property
    def column(self) -> str:
        """The table column: "slides" and "property" by source, else the check."""
        return {"slide": "slides", "property": "property"}.get(self.case.source, self.check)

    @property
    def says_declared(self) -> str:
        """``declared: max-pool ties split`` for a check judged under declared variants, else
        ""."""
        if not self.declared:
            return ""
        from conformance.conventions import says

        return f"declared: {says(self.declared)}"

    def line(self) -> str:
        """``PASS conv2d[forward-golden-07]: y: max abs error ... (x[2, 3, 8, 9]; ...)``, the
        declared variants it was judged under and an expected failure's reason added."""
        declared = f" ({self.says_declared})" if self.declared else ""
        why = (f" (expected failure: {self.expected_failure})" if self.status == "xfail"
               else "")
        return f"{self.status.upper():4} {self.id}{declared}: {self.reason}{why}"

    def findings(self) -> list[str]:
        """The diagnosis in lines: ``consistency: ...``, one ``anatomy: ...`` per failing array,
        ``narrowed: ...``, ``diagnosis: ...`` (each present only if found)."""
        lines = [f"consistency: {self.consistency.text}"] if self.consistency else []
        lines += [f"anatomy: {a.text}" for a in self.anatomy]
        lines += [f"narrowed: {self.narrowing.text}"] if self.narrowing else []
        return lines + ([f"diagnosis: {self.diagnosis}"] if self.diagnosis else [])

    def explain(self, reproducer: bool = True) -> str:
        """``line()``, then the diagnosis (``findings``) and (unless ``reproducer`` is False) the
        reproducer, if any, on lines of their own."""
        lines = [self.line(), *(f"     {f}" for f in self.findings())]
        if self.reproducer and reproducer:
            lines.append("     reproducer:")
            lines += [f"       {row}".rstrip() for row in self.reproducer.splitlines()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        acc = self.case.accumulation()
        return {
            "id": self.id,
            "op": self.case.op,
            "case": self.case.name,
            "source": self.case.source,
            "check": self.check,
            "status": self.status,
            "reason": self.reason,
            "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error,
            "error_ratio": self.error_ratio,
            "worst_array": self.worst_array,
            "worst_index": None if self.worst_index is None else list(self.worst_index),
            "tolerance": None if self.tolerance is None else {
                "rtol": self.tolerance.rtol, "atol": self.tolerance.atol},
            "terms": acc.terms_of(self.check),
            "depth": acc.depth,
            "gradient_style": self.style,
            "geometry": self.case.geometry(),
            "claims": list(self.case.claims),
            "seed": self.case.seed,
            "seconds": round(self.seconds, 6),
            "diagnosis": self.diagnosis,
            "warnings": list(self.warnings),
            "mistakes": [m.to_dict() for m in self.mistakes],
            "consistency": None if self.consistency is None else self.consistency.to_dict(),
            "anatomy": [a.to_dict() for a in self.anatomy],
            "narrowing": None if self.narrowing is None else self.narrowing.to_dict(),
            "reproducer": self.reproducer,
            "examples": self.examples,
            "skipped_examples": self.skipped_examples,
            "declared": dict(self.declared),
            "expected_failure": self.expected_failure,
        }


@dataclass
class Report:
    """Everything a run found, in the order it ran."""

    backend: str
    backend_version: str
    dtype: str
    ops: list[str]
    results: list[Result]
    device: str | None = None
    required: list[str] = field(default_factory=list)
    seeds: dict[str, int | None] = field(default_factory=dict)
    started: str = ""
    seconds: float = 0.0
    interrupted: bool = False
    conventions: dict[str, str] = field(default_factory=dict)
    xfail_source: str | None = None
    stale: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ counts
    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def passed(self) -> int:
        return self.count("pass")

    @property
    def failed(self) -> int:
        return self.count("fail")

    @property
    def skipped(self) -> int:
        return self.count("skip")

    @property
    def timed_out(self) -> int:
        return self.count("timeout")

    @property
    def xfailed(self) -> int:
        return self.count("xfail")

    @property
    def xpassed(self) -> int:
        return self.count("xpass")

    @property
    def ok(self) -> bool:
        """No failures, timeouts or unexpected passes (skips and listed failures are not
        failures), no stale expected-failure entry, and not interrupted."""
        return (self.failed == 0 and self.timed_out == 0 and self.xpassed == 0
                and not self.stale and not self.interrupted)

    def failures(self) -> list[Result]:
        return [r for r in self.results if r.status == "fail"]

    def listed_not_run(self) -> list[Result]:
        """The skipped checks the expected-failures list names (an op the backend lacks): listed
        but not run, so neither an expected failure nor a stale entry."""
        return [r for r in self.results if r.status == "skip" and r.expected_failure]

    def problems(self) -> list[Result]:
        """The failures, the timeouts and the unexpected passes, in the order they ran."""
        return [r for r in self.results if r.status in ("fail", "timeout", "xpass")]

    # ------------------------------------------------------------ text
    def summary(self) -> str:
        """One line: ``torch 2.13.0, float64: 212 passed, 0 failed, 8 skipped in 1.3 s``."""
        device = f" on {self.device}" if self.device else ""
        version = "(version unknown)" if self.backend_version == "unknown" else (
            self.backend_version)
        verdict = "PASSED" if self.ok else "FAILED"
        if not self.passed and not self.failed and not self.timed_out:
            verdict = "NOTHING CHECKED"
        if self.interrupted:
            verdict = "INTERRUPTED"
        declared = sum(r.status == "pass" and bool(r.declared) for r in self.results)
        notes = [f"{declared} under declared conventions"] if declared else []
        drawn = [r for r in self.results if r.case.source == "property"]
        if passing := [r for r in drawn if r.status == "pass"]:  # one op and direction each
            notes.append(f"{len(passing)} of them property checks, "
                         f"{sum(r.examples for r in passing):,} drawn cases")
        under = f" ({'; '.join(notes)})" if notes else ""
        failing = sum(r.status == "fail" for r in drawn)
        of_failed = f" ({failing} of them property checks)" if failing else ""
        extra = "".join(f", {n} {what}" for n, what in (
            (self.timed_out, "timed out"),
            (self.xfailed, f"expected failure{'s' * (self.xfailed != 1)} (--xfail)"),
            (self.xpassed, "passed unexpectedly (listed in --xfail)"),
            (len(self.stale), f"stale --xfail entr{'ies' if len(self.stale) != 1 else 'y'} "
                              f"(matching no check)"),
            (len(self.listed_not_run()), "listed in --xfail but not run")) if n)
        return (f"{verdict}: {self.backend} {version}{device}, {self.dtype}: "
                f"{self.passed} passed{under}, {self.failed} failed{of_failed}{extra}, "
                f"{self.skipped} skipped (not implemented) in {self.seconds:.1f} s")

    def columns(self) -> list[str]:
        present = {r.column for r in self.results}
        return ["forward", "gradient", "slides"] + (["property"] if "property" in present
                                                    else [])

    def not_implemented(self) -> list[str]:
        """The ops every check of which was skipped: the backend does not implement them."""
        return [op for op in self.ops
                if (mine := [r for r in self.results if r.case.op == op])
                and all(r.status == "skip" for r in mine)]

    def table(self) -> str:
        """The op × forward/gradient/slides table: pass/fail/skip and the largest error. The
        ops the backend does not implement at all are one line under it, not rows of skips; in
        property mode a line says what the property column counts."""
        cols = self.columns()
        rows = [["op", *cols]]
        missing = self.not_implemented()
        for op in self.ops:
            if op not in missing:
                rows.append([op, *(_cell([r for r in self.results if r.case.op == op and
                                          r.column == col]) for col in cols)])
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                 for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        if "property" in cols:
            lines.append("(property: drawn cases, forward and gradient together; a check stops "
                         "drawing at its first failing case, which it shrinks: FAIL n/m is n "
                         "failing cases of the m drawn)")
        if missing:
            skipped = sum(r.case.op in missing for r in self.results)
            lines.append(f"not implemented by the backend ({skipped} checks skipped): "
                         f"{', '.join(missing)}")
        return "\n".join(lines)

    # ------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        """The JSON report (see conformance.schema.REPORT_SCHEMA)."""
        return {
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "spec_version": reference.SPEC_VERSION,
            "nnspec_version": reference.__version__,
            "backend": {"name": self.backend, "version": self.backend_version,
                        "device": self.device},
            "dtype": self.dtype,
            "seeds": dict(self.seeds),
            "ops": list(self.ops),
            "required": list(self.required),
            "started": self.started,
            "seconds": round(self.seconds, 6),
            "platform": {"python": platform.python_version(), "numpy": np.__version__},
            "summary": {"passed": self.passed, "failed": self.failed,
                        "timed_out": self.timed_out, "skipped": self.skipped,
                        "xfailed": self.xfailed, "xpassed": self.xpassed,
                        "total": len(self.results)},
            "interrupted": self.interrupted,
            "conventions": dict(self.conventions),
            "xfail": None if self.xfail_source is None else {
                "file": self.xfail_source, "stale": list(self.stale)},
            "results": [r.to_dict() for r in self.results],
        }

    def write_json(self, path: str | Path) -> None:
        """Write the JSON report to ``path`` (its folder is made if missing)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n",
                              encoding="utf-8")

    def junit(self) -> ET.ElementTree:
        """JUnit XML: one testcase per check, classname ``nnspec.<op>``."""
        import xml.etree.ElementTree as ET  # only when JUnit XML is asked for

        suite = ET.Element("testsuite", {
            "name": f"nnspec[{self.backend}-{self.dtype}]",
            "tests": str(len(self.results) + len(self.stale)),
            "failures": str(self.failed + self.xpassed),
            "errors": str(self.timed_out + len(self.stale)),
            "skipped": str(self.skipped + self.xfailed),
            "time": f"{self.seconds:.3f}", "timestamp": self.started})
        props = ET.SubElement(suite, "properties")
        for key, value in (("spec_version", reference.SPEC_VERSION),
                           ("backend", self.backend), ("backend_version", self.backend_version),
                           ("dtype", self.dtype), ("seeds", json.dumps(self.seeds)),
                           *((f"convention.{k}", v) for k, v in self.conventions.items()),
                           *((("xfail", self.xfail_source),) if self.xfail_source else ())):
            ET.SubElement(props, "property", {"name": key, "value": str(value)})
        for r in self.results:
            case = ET.SubElement(suite, "testcase", {
                "classname": f"nnspec.{r.case.op}",
                "name": f"{r.check}-{r.case.source}-{r.case.name}", "time": f"{r.seconds:.6f}"})
            if r.declared:
                ET.SubElement(ET.SubElement(case, "properties"), "property", {
                    "name": "declared", "value": r.says_declared.removeprefix("declared: ")})
            if r.status == "xfail":                # as pytest's junitxml writes an xfail
                ET.SubElement(case, "skipped", {
                    "type": "xfail", "message": f"expected failure: {r.expected_failure}"}
                ).text = r.reason
            elif r.status == "xpass":             # strict: a listed check that passes fails
                ET.SubElement(case, "failure", {"type": "xpass", "message": r.reason})
            elif r.status == "fail":
                ET.SubElement(case, "failure", {"message": r.reason}).text = "\n".join(
                    [r.reason, *r.findings(),
                     r.case.about, r.case.geometry(), *([r.reproducer] if r.reproducer else [])])
            elif r.status == "timeout":           # not a wrong result: an error of the run
                ET.SubElement(case, "error", {"type": "timeout", "message": r.reason}).text = (
                    "\n".join([r.reason, r.case.about, r.case.geometry()]))
            elif r.status == "skip":
                ET.SubElement(case, "skipped", {"message": r.reason})
            else:
                ET.SubElement(case, "system-out").text = (
                    f"{r.reason} ({r.says_declared})" if r.declared else r.reason)
        for stale in self.stale:                  # an entry of the list that matched nothing
            ET.SubElement(ET.SubElement(suite, "testcase", {
                "classname": "nnspec.xfail", "name": stale.split(" ", 1)[0], "time": "0"}),
                "error", {"type": "stale-xfail", "message": f"stale --xfail entry: {stale}"})
        root = ET.Element("testsuites")
        root.append(suite)
        return ET.ElementTree(root)

    def write_junit(self, path: str | Path) -> None:
        """Write JUnit XML to ``path`` (its folder is made if missing)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        import xml.etree.ElementTree as ET

        tree = self.junit()
        ET.indent(tree)
        tree.write(path, encoding="utf-8", xml_declaration=True)


def _cell(results: Iterable[Result]) -> str:
    """``pass 12  3.1e-16`` / ``FAIL 2/12  4.5e-02`` / ``TIMEOUT 9/9`` / ``XPASS 1/12`` /
    ``skip`` / ``-`` (no cases).

    The counts are of checked cases (a property-mode result counts its examples; drawn cases the
    backend skipped are added as ``+N skip``). The error is the largest of the failures where
    there are any (none shown if no failure has values to compare: it raised, or returned another
    shape or no array; ``dtype``, ``warned``, ``nan`` or ``inf`` where every failure failed so,
    see failed_on), else of the passes. Timeouts are ``TIMEOUT n/total``, or ``+n timeout``
    after the failures; expected failures (--xfail) ``+n xfail``; passes judged under declared
    conventions add ``(n declared: ...)``.
    """
    results = list(results)
    if not results:
        return "-"
    checked = [r for r in results if r.status != "skip"]
    if not checked:
        return "skip"
    failed = sum(r.status == "fail" for r in checked)
    timed_out = sum(r.status == "timeout" for r in checked)
    xpassed = sum(r.status == "xpass" for r in checked)
    xfailed = sum(r.status == "xfail" for r in checked)
    judged = [r for r in checked if r.status == "fail"] if failed else [
        r for r in checked if r.status != "xfail"]
    errors = [r.max_abs_error for r in judged if r.max_abs_error is not None]
    worst = f"  {max(errors):.1e}" if errors else ""
    on = {failed_on(r.reason, r.warnings, r.error_ratio) for r in judged} if failed else set()
    if on and "" not in on:               # every failure's values within tolerance: say why
        worst = f"  {', '.join(sorted(on))}"
    total = sum(r.examples for r in checked)
    skipped = len(results) - len(checked) + sum(r.skipped_examples for r in checked)
    tail = (f" +{xfailed} xfail" if xfailed else "") + (f" +{skipped} skip" if skipped else "")
    declared = [r for r in checked if r.status == "pass" and r.declared]
    if declared:
        from conformance.conventions import says

        shown = says(dict.fromkeys(m for r in declared for m in r.declared))
        tail += f" ({len(declared)} declared: {shown})"
    if failed:
        return f"FAIL {failed}/{total}{worst}" + (f" +{timed_out} timeout" if timed_out
                                                  else "") + tail
    if xpassed:
        return f"XPASS {xpassed}/{total}{tail}"
    if timed_out:
        return f"TIMEOUT {timed_out}/{total}{tail}"
    passed = total - xfailed
    return f"pass {passed}{worst}{tail}" if passed else f"xfail {xfailed}/{total}" + (
        f" +{skipped} skip" if skipped else "")
