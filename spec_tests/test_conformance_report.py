"""Tests of conformance.report: the terminal table, the summary line, JSON and JUnit XML."""

from __future__ import annotations

import json
import types
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conformance.report import SCHEMA_VERSION, Report, Result, _cell
from conformance.runner import default_cases, run

pytestmark = pytest.mark.infrastructure


def _broken_tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x) + ((np.abs(x) > 5) & (np.abs(x) < 20))   # wrong on cases 01 and 02 only


# every step case passes its forward check (no gradient: skipped), tanh all but 2
PASSED = len(default_cases(["step"])) + len(default_cases(["tanh"])) - 2


@pytest.fixture(scope="module")
def report() -> Report:
    backend = types.SimpleNamespace(step=lambda x: (x >= 0).astype(x.dtype), tanh=_broken_tanh,
                                    name="mixed", version="9.9")
    return run(backend, ops=["step", "tanh", "conv2d"])


def test_the_table_has_an_op_per_row_and_a_cell_per_column(report: Report) -> None:
    lines = report.table().splitlines()
    assert lines[0].split() == ["op", "forward", "gradient", "slides"]
    assert set(lines[1]) <= {"-", " "}
    rows = {line.split()[0]: line for line in lines[2:-1]}
    assert list(rows) == ["step", "tanh"]
    assert rows["step"].split()[1:3] == ["pass", "4"] and "skip" in rows["step"]
    assert "FAIL 2/5" in rows["tanh"]
    # an op the backend does not implement at all: one line, not a row of skips
    conv2d = sum(r.case.op == "conv2d" for r in report.results)
    assert lines[-1] == f"not implemented by the backend ({conv2d} checks skipped): conv2d"


def test_the_summary_line_counts_and_judges(report: Report) -> None:
    assert report.summary().startswith(f"FAILED: mixed 9.9, float64: {PASSED} passed, 2 failed, ")
    assert report.summary().endswith(" skipped (not implemented) in "
                                     f"{report.seconds:.1f} s")
    good = replace(report, results=[r for r in report.results if r.status != "fail"],
                   device="cuda")
    assert good.summary().startswith("PASSED: mixed 9.9 on cuda, float64:")
    nothing = replace(report, results=[r for r in report.results if r.status == "skip"])
    assert nothing.summary().startswith("NOTHING CHECKED:") and nothing.ok


def test_cells_show_counts_errors_and_skips(report: Report) -> None:
    assert _cell([]) == "-"
    tanh = [r for r in report.results if r.case.op == "tanh"]
    forward = [r for r in tanh if r.check == "forward"]
    assert _cell(forward).startswith("FAIL 2/5  ")
    assert _cell(tanh).endswith("+5 skip")
    shape = replace(forward[0], status="fail", max_abs_error=None)
    assert _cell([shape]) == "FAIL 1/1"
    # a failure without values beside passes shows no error: the passes' would read as its own
    passed = [replace(r, status="pass", max_abs_error=1e-16) for r in forward[1:]]
    assert _cell([shape, *passed]) == "FAIL 1/5"
    failed = replace(forward[1], status="fail", max_abs_error=0.5)
    assert _cell([shape, failed, *passed[1:]]) == "FAIL 2/5  5.0e-01"
    assert _cell(passed) == "pass 4  1.0e-16"
    drawn = replace(forward[0], case=replace(forward[0].case, source="property"))
    assert drawn.column == "property"
    assert replace(report, results=[drawn]).columns()[-1] == "property"


def test_the_json_report_records_run_and_cases(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    report.write_json(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["backend"] == {"name": "mixed", "version": "9.9", "device": None}
    assert doc["dtype"] == "float64" and isinstance(doc["seeds"]["golden"], int)
    assert doc["summary"] == {"passed": PASSED, "failed": 2, "timed_out": 0,
                              "skipped": len(report.results) - PASSED - 2, "xfailed": 0,
                              "xpassed": 0, "total": len(report.results)}
    assert doc["conventions"] == {} and doc["xfail"] is None
    failed = next(r for r in doc["results"] if r["status"] == "fail")
    assert failed["op"] == "tanh" and failed["check"] == "forward"
    assert failed["max_abs_error"] > failed["tolerance"]["atol"]
    assert failed["worst_array"] == "y" and isinstance(failed["worst_index"], list)
    assert failed["error_ratio"] > 1 and "exceeds" in failed["reason"]
    # each result's own status agrees with the summary, skips included
    statuses = [r["status"] for r in doc["results"]]
    assert {k: statuses.count(s) for k, s in (("passed", "pass"), ("failed", "fail"),
                                              ("skipped", "skip"))} == {
        k: doc["summary"][k] for k in ("passed", "failed", "skipped")}
    assert statuses == [r.status for r in report.results]


def test_junit_has_a_testcase_per_check(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    report.write_junit(path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(report.results)) and suite.get("failures") == "2"
    cases = suite.findall("testcase")
    assert len(cases) == len(report.results)
    assert cases[0].get("classname") == "nnspec.step"
    assert len(suite.findall("testcase/failure")) == 2
    assert len(suite.findall("testcase/skipped")) == report.skipped
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["backend"] == "mixed" and props["dtype"] == "float64"


def test_result_lines_name_the_check() -> None:
    from conformance.cases import golden_cases

    case = golden_cases(["relu"])[0]
    line = Result(case, "gradient", "skip", "not implemented").line()
    assert line == "SKIP relu[gradient-golden-01]: not implemented"
