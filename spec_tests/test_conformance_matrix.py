"""Tests of ``nnspec matrix`` (conformance.matrix): the cells, the Markdown table, the SVG plot and
the HTML page built from synthetic and real JSON reports, the child processes (a backend that
cannot be loaded, hangs or crashes), the command, and the page in a real headless browser."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import types
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reference
from conformance.cli import main
from conformance.matrix import (
    STATUSES,
    Run,
    Scoreboard,
    _marker,
    attach_reproducers,
    cell_of,
    html_page,
    look,
    markdown,
    progress_line,
    ratio_text,
    read_run,
    run_matrix,
    run_one,
    svg_plot,
    write,
)
from conformance.report import SCHEMA_NAME, SCHEMA_VERSION
from conformance.runner import run
from conformance.schema import validate

pytestmark = pytest.mark.infrastructure

# a backend whose relu is off by 1e-3 everywhere (loadable by the child processes of the CLI test)
wrong_relu = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0) + 1e-3, version="0.0.1")
WRONG = "spec_tests.test_conformance_matrix:wrong_relu"
BUGGY = "conformance.examples.student_buggy"      # conv2d flips its kernel (true convolution)
REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- synthetic reports
def result(op: str, status: str, ratio: float | None = 0.0, *, case: str = "01",
           check: str = "forward", source: str = "golden", **extra: Any) -> dict[str, Any]:
    """One result as Report.to_dict writes it (status and extra keys as given)."""
    return {"id": f"{op}[{check}-{source}-{case}]", "op": op, "case": case, "source": source,
            "check": check, "status": status, "reason": f"{op} {status} reason",
            "max_abs_error": None if ratio is None else ratio * 1e-6,
            "max_rel_error": None, "error_ratio": ratio, "worst_array": "y",
            "worst_index": [0], "tolerance": {"rtol": 1e-6, "atol": 1e-6}, "terms": 1,
            "depth": 1, "gradient_style": None, "geometry": "x[3]", "claims": [], "seed": None,
            "seconds": 0.001, "diagnosis": None, "mistakes": [], "consistency": None,
            "anatomy": [], "narrowing": None, "reproducer": None, "examples": 1,
            "skipped_examples": 0, "warnings": [], "declared": {},
            "expected_failure": None} | extra


def report(backend: str, dtype: str, results: list[dict[str, Any]], *,
           version: str = "1.2.3", started: str = "2026-01-02T03:04:05+0000") -> dict[str, Any]:
    ops = list(dict.fromkeys(r["op"] for r in results))
    counts = {s: sum(r["status"] == s for r in results)
              for s in ("pass", "fail", "skip", "timeout", "xfail", "xpass")}
    return {"schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION,
            "spec_version": reference.SPEC_VERSION, "nnspec_version": reference.__version__,
            "backend": {"name": backend, "version": version, "device": None}, "dtype": dtype,
            "seeds": {"golden": 0}, "ops": ops, "required": [], "started": started,
            "seconds": 0.5, "platform": {"python": "3.11.7", "numpy": "2.4.6"},
            "summary": {"passed": counts["pass"], "failed": counts["fail"],
                        "timed_out": counts["timeout"], "skipped": counts["skip"],
                        "xfailed": counts["xfail"], "xpassed": counts["xpass"],
                        "total": len(results)},
            "interrupted": False, "conventions": {}, "xfail": None, "results": results}


REPRODUCER = "# the property failure's own reproducer\nprint('FAIL')\n"


@pytest.fixture(scope="module")
def board() -> Scoreboard:
    """Two backends in two dtypes: every status, a failure with diagnosis and reproducer, a
    status this version does not know, and a backend that could not be loaded."""
    good64 = report("good", "float64", [
        result("relu", "pass", 0.0), result("relu", "pass", 0.0, check="gradient"),
        result("conv2d", "pass", 0.0031), result("conv2d", "pass", 2.5e-5, case="02"),
        result("lstm", "skip", None), result("lstm", "skip", None, check="gradient")])
    good32 = report("good", "float32", [
        result("tanh", "pass", 0.0), result("relu", "pass", 0.0), result("conv2d", "pass", 0.42),
        result("conv2d", "skip", None, check="gradient"),
        result("lstm", "pass", 0.2, declared={"gru_reset": "before"})])
    odd64 = report("odd", "float64", [
        result("relu", "fail", 1234.0, diagnosis="a flipped kernel", source="property",
               reproducer=REPRODUCER, consistency={"verdict": "forward", "text": "the forward "
                                                   "is wrong"},
               anatomy=[{"array": "y", "text": "y wrong at all 3 elements"}, {"text": None}]),
        result("relu", "fail", None, case="02", diagnosis="a flipped kernel",
               declared={"max_pool_ties": "split"}),
        result("relu", "pass", 0.01, case="03"),
        result("conv2d", "timeout", None, reason="conv2d timed out after 10 s"),
        result("lstm", "weird", 0.5)], version="")
    runs = [Run("good", "float64", report=good64, seconds=1.0),
            Run("good", "float32", report=good32, seconds=2.0),
            Run("odd", "float64", report=odd64, seconds=3.0),
            Run("gone", "float64", "unavailable", message="cannot import 'gone'", seconds=0.2),
            Run("gone", "float32", "unavailable", message="cannot import 'gone'", seconds=0.2)]
    return Scoreboard(runs, command="nnspec matrix --out x", generated="2026-01-02 03:04 UTC")


# ---------------------------------------------------------------- cells
def test_a_cell_shows_its_highest_ranked_status_and_its_worst_error_ratio() -> None:
    order = ["fail", "timeout", "weird", "declared", "pass", "skip"]
    for i, status in enumerate(order):
        cell = cell_of([result("relu", s, 0.5) for s in order[i:]])
        assert cell is not None and cell.status == status
    passing = cell_of([result("relu", "pass", 0.25), result("relu", "pass", 0.003),
                       result("relu", "skip", None)])
    assert passing is not None
    assert (passing.ratio, passing.low, passing.checked) == (0.25, 0.003, 2)
    assert passing.summary() == "2 pass, 1 skip" and passing.partial() == "+1 skip"
    forward_only = cell_of([result("relu", "pass", 0.25),
                            result("relu", "skip", None, check="gradient"),
                            result("relu", "skip", None, check="gradient", case="02")])
    assert forward_only is not None and forward_only.partial() == "forward only"
    assert cell_of([result("relu", "skip", None)]).partial() == ""      # type: ignore[union-attr]
    assert cell_of([result("relu", "pass", 0.1)]).partial() == ""       # type: ignore[union-attr]
    # a failing cell shows its failures' worst ratio, not the passes'
    failing = cell_of([result("relu", "pass", 0.9), result("relu", "fail", 3.0),
                       result("relu", "fail", 7.0)])
    assert failing is not None and failing.ratio == 7.0 and len(failing.problems()) == 2
    # failures without values (raised, wrong shape) have no ratio, whatever passed
    raised = cell_of([result("relu", "pass", 0.9), result("relu", "fail", None)])
    assert raised is not None and raised.ratio is None
    assert cell_of([]) is None


def test_statuses_are_data_and_an_unknown_one_shows_its_name() -> None:
    assert [s for s in STATUSES if STATUSES[s].detailed] == ["fail", "timeout", "xpass",
                                                             "xfail"]
    # a pass judged under a declared convention shows as "declared"; an xfail above both
    assert cell_of([result("relu", "pass", 0.1, declared={"relu_grad_at_zero": "one"}),
                    result("relu", "pass", 0.2)]).status == "declared"   # type: ignore[union-attr]
    assert cell_of([result("relu", "xfail", 3.0), result("relu", "pass", 0.1,
                                                         declared={"step_at_zero": "half"})]
                   ).status == "xfail"                                  # type: ignore[union-attr]
    assert look("pass") is STATUSES["pass"]
    weird = look("weird")
    assert weird.meaning == "status 'weird'" and weird.detailed
    assert STATUSES["pass"].rank < weird.rank < STATUSES["fail"].rank


@pytest.mark.parametrize(("ratio", "text"), [
    (None, ""), (0.0, "exact"), (5.8e-3, "0.006"), (0.31, "0.31"), (0.999, "1"), (12.4, "12"),
    (99.0, "99"), (1234.0, "1e+03"), (2.4e-5, "2e-05"), (34567.0, "3e+04"),
    (float("inf"), "∞")])
def test_the_error_ratio_reads_with_two_digits_at_most(ratio: float | None, text: str) -> None:
    assert ratio_text(ratio) == text


# ---------------------------------------------------------------- Markdown
def test_the_markdown_table_has_an_op_per_row_and_a_run_per_column(board: Scoreboard) -> None:
    text = markdown(board)
    lines = text.splitlines()
    head = lines.index("| op | good<br>float64 | good<br>float32 | odd<br>float64 |")
    rows = {line.split(" | ")[0][2:]: line.split(" | ")[1:] for line in lines[head + 2:head + 6]}
    assert list(rows) == ["`tanh`", "`relu`", "`conv2d`", "`lstm`"]      # the contract's order
    assert rows["`tanh`"] == ["—", "✓ pass exact", "— |"]                 # no checks: —
    assert rows["`relu`"] == ["✓ pass exact", "✓ pass exact",
                              "[✗ fail 2/3 1e+03](#odd-float64-relu) |"]
    assert rows["`conv2d`"] == ["✓ pass 0.003", "✓ pass 0.42 (forward only)",
                                "[◷ timeout 1/1](#odd-float64-conv2d) |"]
    assert rows["`lstm`"] == ["– skip", "◐ declared 0.2", "[? weird 1/1 0.5](#odd-float64-lstm) |"]
    assert "nnspec matrix --out x" in text and "generated 2026-01-02 03:04 UTC" in text
    assert f"nnspec {reference.__version__} (spec {reference.SPEC_VERSION})" in text
    assert "![worst error ÷ tolerance per op and backend, log scale](scoreboard.svg)" in text
    for status, lk in STATUSES.items():                  # the legend
        assert f"| {lk.symbol} | {status} | {lk.meaning} |" in text
    assert "| ? | weird | status 'weird' |" in text


def test_the_markdown_lists_each_run_with_versions_and_the_missing_backend(
        board: Scoreboard) -> None:
    text = markdown(board)
    assert ("| good | 1.2.3 | float64 | 4 pass, 2 skip | "
            f"{reference.__version__} | 2026-01-02 03:04:05+0000 | 1 |") in text
    assert "| odd | unknown | float64 | 2 fail, 1 timeout, 1 weird, 1 pass |" in text
    assert ("| gone | — | float64, float32 | **not available**: cannot import 'gone' | — | — "
            "| — |") in text
    assert ("Not in the table: gone float64, float32 (not available: cannot import "
            "'gone').") in text
    assert "Platform: Python 3.11.7, NumPy 2.4.6." in text


def test_a_failing_cell_links_to_its_reasons_diagnosis_and_reproducer(board: Scoreboard) -> None:
    assert [f.anchor for f in board.failures] == ["odd-float64-relu", "odd-float64-conv2d",
                                                  "odd-float64-lstm"]
    text = markdown(board)
    section = text[text.index('<a id="odd-float64-relu"></a>'):
                   text.index('<a id="odd-float64-conv2d"></a>')]
    assert "### relu · odd (version unknown) · float64: 2 of 3 checks failed" in section
    assert "**diagnosis** (2 checks): a flipped kernel" in section
    assert ("- `relu[forward-property-01]` (fail): relu fail reason\n"
            "  - consistency: the forward is wrong\n"
            "  - anatomy: y wrong at all 3 elements\n") in section
    assert ("- `relu[forward-golden-02]` (fail): relu fail reason (declared: max-pool ties "
            "split)") in section
    assert "relu[forward-golden-03]" not in section          # a pass is no problem
    assert "reproducer" not in section                        # not attached yet
    assert "### conv2d · odd (version unknown) · float64: 1 of 1 checks timed out" in text
    assert "- `conv2d[forward-golden-01]` (timeout): conv2d timed out after 10 s" in text
    assert "### lstm · odd (version unknown) · float64: 1 of 1 checks with status weird" in text


def test_the_reproducer_of_a_property_failure_is_its_own(board: Scoreboard,
                                                         tmp_path: Path) -> None:
    fresh = Scoreboard(board.runs, command=board.command, generated=board.generated)
    attach_reproducers(fresh, tmp_path / "reproducers")
    relu = fresh.failures[0]
    assert relu.reproducer == REPRODUCER and relu.reproducer_of == "relu[forward-property-01]"
    assert relu.reproducer_path == "reproducers/odd-float64-relu.py"
    assert (tmp_path / relu.reproducer_path).read_text(encoding="utf-8") == REPRODUCER
    text = markdown(fresh)
    assert ("<details><summary>reproducer of relu[forward-property-01], "
            "`reproducers/odd-float64-relu.py`</summary>") in text
    assert f"```python\n{REPRODUCER}```" in text
    # the synthetic cases 01 of conv2d and lstm exist, the timeout and the unknown status get
    # a reproducer built from their case (checked in the next test)
    assert fresh.failures[1].reproducer_path == ("reproducers/odd-float64-conv2d/"
                                                 "conv2d_forward.py")


def test_a_golden_or_slide_failure_gets_a_reproducer_that_fails_as_the_check_did(
        tmp_path: Path) -> None:
    """From the real report of a backend that flips its kernel, the reproducer is built anew
    (golden and slide results carry none); run, it fails, as the check did."""
    doc = json.loads(json.dumps(run(BUGGY, ops=["conv2d", "relu"]).to_dict()))
    board = Scoreboard([Run(BUGGY, "float64", report=doc)])
    (failure,) = board.failures
    attach_reproducers(board, tmp_path / "reproducers")
    assert failure.reproducer_of == "conv2d[forward-slide-sobel_patch]"
    assert failure.reproducer is not None and f"import {BUGGY} as backend" in failure.reproducer
    script = tmp_path / str(failure.reproducer_path)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 1 and done.stdout.splitlines()[-1] == "FAIL: y"
    text = markdown(board)
    assert "matches a true convolution" in text       # the real diagnosis
    assert "  - consistency: the backward gives the spec's gradient, but the forward is wrong" \
        in text                                        # and self-consistency, anatomy
    assert "  - anatomy: y wrong: got -2, expected 2 (×−1)" in text


def test_a_reproducer_that_cannot_be_built_is_left_out(tmp_path: Path) -> None:
    runs = [Run("x", "float64", report=report("x", "float64", [
        result("relu", "fail", 2.0, case="no-such-case"),
        result("conv2d", "fail", 2.0, tolerance=None),
        result("lstm", "fail", 2.0, tolerance={"rtol": "?", "atol": 0})]))]
    board = Scoreboard(runs)
    attach_reproducers(board, tmp_path)
    assert [f.reproducer for f in board.failures] == [None, None, None]
    assert "<details>" not in markdown(board)


def test_anchors_stay_unique_when_backend_names_differ_only_in_punctuation() -> None:
    runs = [Run(name, "float64", report=report(name, "float64", [result("relu", "fail", 2.0)]))
            for name in ("my.backend", "my:backend", "my backend")]
    board = Scoreboard(runs)
    assert [f.anchor for f in board.failures] == ["my-backend-float64-relu",
                                                  "my-backend-float64-relu-2",
                                                  "my-backend-float64-relu-3"]
    page = _parse(html_page(board))
    assert sorted(h[1:] for h in page.hrefs if "relu" in h) == sorted(
        f.anchor for f in board.failures for _ in range(2))       # the table and the plot


def test_dtypes_beyond_two_get_markers_of_their_own() -> None:
    shapes = [_marker(i, 10, 10, 3, "#000000", "#000000") for i in range(4)]
    assert shapes[0].startswith("<circle") and all(s.startswith("<polygon") for s in shapes[1:])
    assert [s.count(",") for s in shapes[1:]] == [4, 4, 3]        # diamond, square, triangle
    assert len(set(shapes)) == 4


def test_a_real_report_reads_as_its_run_and_matches_the_schema_of_the_synthetic_ones() -> None:
    doc = json.loads(json.dumps(run("numpy", ops=["relu", "tanh"]).to_dict()))
    synthetic = report("good", "float64", [result("relu", "pass"), result("relu", "skip")])
    assert validate(doc) == [] and validate(synthetic) == []
    board = Scoreboard([Run("numpy", "float64", report=doc)])
    assert board.ops == ["tanh", "relu"] and board.failures == []   # the contract's order
    assert "| `relu` | ✓ pass exact |" in markdown(board)


def test_a_report_without_runs_says_so() -> None:
    board = Scoreboard([Run("gone", "float64", "crashed", message="killed by SIGSEGV")])
    text = markdown(board)
    assert "No backend produced a report." in text and "scoreboard.svg" not in text
    page = html_page(board)
    assert "No backend produced a report." in page and "<svg" not in page


# ---------------------------------------------------------------- SVG and HTML
class _Page(HTMLParser):
    """Every tag, id and href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for key, value in attrs:
            self.attrs.append((key, value or ""))
            if key == "id":
                self.ids.append(value or "")
            if key == "href":
                self.hrefs.append(value or "")


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_the_plot_has_a_marker_per_checked_cell_on_a_log_scale(board: Scoreboard) -> None:
    svg = svg_plot(board, links=False)
    page = _parse(svg)
    # checked cells: good64 relu, conv2d; good32 tanh, relu, conv2d, lstm; odd64 relu, conv2d,
    # lstm
    assert svg.count("<title>") == 1 + 9
    assert "<a " not in svg
    assert "relu, odd float64: fail, worst error ÷ tolerance 1e+03 (2 fail, 1 pass)" in svg
    assert "conv2d, odd float64: timeout, worst error ÷ tolerance none (no values)" in svg
    assert ">no ratio</text>" in svg and ">exact</text>" in svg
    assert ">10⁻⁵</text>" in svg and ">1</text>" in svg and ">10⁴</text>" in svg
    assert ">10⁻⁶</text>" not in svg and ">10⁵</text>" not in svg      # 2.5e-5 to 1234
    assert ">tolerance</text>" in svg and ">fails →</text>" in svg
    assert page.tags.count("circle") >= 1 and page.tags.count("polygon") >= 1
    # the tolerance line sits at ratio 1: on the axis tick labelled 1
    one = re.search(r'<line x1="([\d.]+)" y1="\d+" x2="\1" y2="\d+" stroke="#c0392b"', svg)
    tick = re.search(r'<text x="([\d.]+)" y="\d+" text-anchor="middle" fill="#444444">1</text>',
                     svg)
    assert one is not None and tick is not None and one.group(1) == tick.group(1)
    linked = svg_plot(board)
    assert _parse(linked).hrefs == ["#odd-float64-relu", "#odd-float64-conv2d",
                                    "#odd-float64-lstm"]


def test_the_plot_spans_ten_to_the_minus_eight_to_a_hundred_at_least() -> None:
    tiny = Scoreboard([Run("x", "float32", report=report("x", "float32", [
        result("relu", "pass", 1e-12), result("relu", "pass", 0.5, case="02")]))])
    svg = svg_plot(tiny)
    ticks = re.findall(r'fill="#444444">([^<]+)</text>', svg)
    assert ticks == ["≤10⁻⁸", "10⁻⁷", "10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "1", "10",
                     "10²", "exact"]
    assert ">no ratio</text>" not in svg and "<a " not in svg       # nothing failed


def test_the_html_page_is_self_contained_and_its_links_resolve(board: Scoreboard) -> None:
    text = html_page(board)
    page = _parse(text)
    assert {"table", "svg", "style"} <= set(page.tags)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert not [v for k, v in page.attrs if k in ("src", "srcset")]
    assert "url(" not in text and "@import" not in text
    assert page.hrefs and all(h.startswith("#") for h in page.hrefs)
    assert {h[1:] for h in page.hrefs} <= set(page.ids)
    assert len(page.ids) == len(set(page.ids))
    for status in (*STATUSES, "weird"):                 # a style per status, unknown included
        assert re.search(rf"\.st-{status} {{ background: #[0-9a-f]{{6}}; color: ", text)
    for status in ("pass", "declared", "skip", "fail", "timeout", "weird"):
        assert f'class="c st-{status}"' in text
    assert "<b>gone</b> float64, float32 (not available: cannot import &#x27;gone&#x27;)" in text
    assert '<section class="failure" id="odd-float64-relu">' in text
    assert "a flipped kernel" in text and "<small>1.2.3</small>" in text
    assert '0.42</span><span class="p">forward only</span></td>' in text
    assert ('relu fail reason<br><span class="finding">consistency: the forward is wrong</span>'
            '<br><span class="finding">anatomy: y wrong at all 3 elements</span></li>') in text
    assert ('title="lstm, good float32: 1 declared; worst error ÷ tolerance 0.2; declared: '
            'GRU reset before"') in text


def test_write_puts_the_three_pages_and_the_reproducers_in_the_folder(
        board: Scoreboard, tmp_path: Path) -> None:
    fresh = Scoreboard(board.runs, command=board.command, generated=board.generated)
    stale = tmp_path / "out" / "reproducers" / "gone-float64-relu.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("# an earlier board's\n", encoding="utf-8")
    paths = write(fresh, tmp_path / "out")
    assert not stale.exists()
    assert [p.name for p in paths] == ["scoreboard.md", "scoreboard.svg", "scoreboard.html"]
    assert (tmp_path / "out" / "reproducers" / "odd-float64-relu.py").exists()
    assert "scoreboard-notes.md" not in paths[0].read_text(encoding="utf-8")
    (tmp_path / "out" / "scoreboard-notes.md").write_text("# notes\n", encoding="utf-8")
    write(fresh, tmp_path / "out")                    # notes next to it: linked
    assert ("Why a framework differs from the spec, each finding with a reproducer: "
            "[scoreboard-notes.md](scoreboard-notes.md).") in paths[0].read_text(encoding="utf-8")
    assert "reproducers/odd-float64-relu.py" in paths[2].read_text(encoding="utf-8")
    assert paths[1].read_text(encoding="utf-8").startswith("<svg xmlns=")


# ---------------------------------------------------------------- child processes
def test_a_backend_that_cannot_be_loaded_is_unavailable(tmp_path: Path) -> None:
    found = run_one("no_such_backend_here", "float64", tmp_path / "r.json", ops=["relu"])
    assert found.state == "unavailable" and found.report is None
    assert found.message.startswith("unknown backend 'no_such_backend_here'")


def test_a_run_past_its_time_limit_is_killed_with_what_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    code = ("import subprocess, sys, time\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
            f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
            "time.sleep(120)\n")
    start = time.perf_counter()
    found = run_one("hangs", "float64", tmp_path / "r.json", run_timeout=5.0,
                    command=[sys.executable, "-c", code])
    assert found.state == "timeout" and found.message == "did not finish within 5 s: killed"
    assert 5.0 <= found.seconds < 60 and time.perf_counter() - start < 60
    grandchild = int(pid_file.read_text())
    for _ in range(100):                        # reaped by init once killed
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the hanging run's own child outlived it")


def test_an_interrupted_matrix_leaves_no_run_behind(tmp_path: Path, monkeypatch: Any) -> None:
    """Ctrl-C reaches the matrix, not its runs (each in a session of its own): it ends them."""
    started: list[subprocess.Popen[str]] = []

    class Interrupted(subprocess.Popen):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

        def communicate(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout"):
                raise KeyboardInterrupt
            return super().communicate(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_one("hangs", "float64", tmp_path / "r.json", run_timeout=60.0,
                command=[sys.executable, "-c", "import time; time.sleep(120)"])
    (child,) = started
    assert child.returncode == -9                              # killed, and waited for


@pytest.mark.parametrize(("code", "message"), [
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "killed by SIGSEGV"),
    ("import sys; print('boom', file=sys.stderr); sys.exit(3)", "exit status 3: boom"),
    ("pass", "exit status 0 without a report"),
])
def test_a_run_that_ends_without_a_report_crashed(tmp_path: Path, code: str,
                                                  message: str) -> None:
    found = run_one("b", "float64", tmp_path / "r.json", command=[sys.executable, "-c", code])
    assert (found.state, found.message) == ("crashed", message)


def test_a_report_that_is_not_nnspec_s_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("{not json", encoding="utf-8")
    assert read_run("b", "float64", path).state == "crashed"
    assert "no readable report" in read_run("b", "float64", path).message
    path.write_text('{"schema": "something else"}', encoding="utf-8")
    found = read_run("b", "float64", path)
    assert (found.state, found.message) == ("crashed", f"{path} is not an {SCHEMA_NAME}")
    # a child that exits 1 with a report is read (a failing check is a result) ...
    content = json.dumps(report("b", "float64", [result("relu", "fail", 2.0)]))
    code = f"import sys; open({str(path)!r}, 'w').write({content!r}); sys.exit(1)"
    found = run_one("b", "float64", path, command=[sys.executable, "-c", code])
    assert found.state == "ran" and found.results[0]["status"] == "fail"
    # ... but not a stale report of an earlier run
    found = run_one("b", "float64", path, command=[sys.executable, "-c", "raise SystemExit(1)"])
    assert (found.state, found.message) == ("crashed", "exit status 1")


# ---------------------------------------------------------------- the command
def nnspec(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_nnspec_matrix_runs_each_backend_and_writes_the_pages(tmp_path: Path,
                                                             monkeypatch: Any) -> None:
    monkeypatch.chdir(REPO)                     # the children import spec_tests from here
    out = tmp_path / "board"
    code, text = nnspec("matrix", "--backend", "numpy", "--backend", f"{WRONG},no_such_one",
                        "--dtype", "float64", "--ops", "relu", "--timeout", "20",
                        "--out", str(out))
    assert code == 0                             # failing checks are results, not errors
    lines = text.splitlines()
    assert lines[0].startswith("nnspec matrix: numpy, spec_tests.test_conformance_matrix:"
                               "wrong_relu, no_such_one × float64, each run in its own process")
    assert lines[1].startswith("numpy float64: nnspec reference ")
    assert re.match(rf"{re.escape(WRONG)} float64: 0\.0\.1: 0 passed, \d+ failed", lines[2])
    assert lines[3].startswith("no_such_one float64: not available: unknown backend")
    md = (out / "scoreboard.md").read_text(encoding="utf-8")
    assert ("nnspec matrix --backend numpy --backend "
            f"{WRONG},no_such_one --dtype float64 --ops relu --timeout 20 --out") in md
    anchor = "spec_tests-test_conformance_matrix-wrong_relu-float64-relu"
    assert "[✗ fail " in md and f"](#{anchor})" in md
    assert f'<a id="{anchor}"></a>' in md and "**diagnosis** (" in md
    assert "| no_such_one | — | float64 | **not available**: unknown backend" in md
    assert "from spec_tests.test_conformance_matrix import wrong_relu as backend" in md
    for name in ("numpy-float64.json", "spec_tests-test_conformance_matrix-wrong_relu-float64"
                 ".json"):
        assert validate(json.loads((out / "reports" / name).read_text(encoding="utf-8"))) == []
    page = _parse((out / "scoreboard.html").read_text(encoding="utf-8"))
    assert {h[1:] for h in page.hrefs} <= set(page.ids)


@pytest.mark.parametrize(("argv", "message"), [
    (["--dtype", "float16"], "unknown dtype(s) float16; use float64, float32"),
    (["--ops", "relu,nope"], "unknown op(s) nope"),
    (["--backend", " , "], "expected one or more comma-separated names"),
    (["--run-timeout", "-1"], "must be at least 0 and finite"),
    ([], "the following arguments are required: --out"),
])
def test_nnspec_matrix_refuses_bad_options_with_exit_2(argv: list[str], message: str,
                                                       capsys: Any, tmp_path: Path) -> None:
    out = [] if not argv else ["--out", str(tmp_path)]
    code, text = nnspec("matrix", *argv, *out)
    assert code == 2 and text == ""
    assert message in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_nnspec_matrix_cannot_write_into_a_file(tmp_path: Path, capsys: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    code, _ = nnspec("matrix", "--backend", "numpy", "--out", str(blocker / "sub"))
    assert code == 2 and "nnspec: error:" in capsys.readouterr().err


def test_docs_scoreboard_is_made_by_the_documented_command_for_every_shipped_adapter() -> None:
    """docs/scoreboard.md stays current: made by ``nnspec matrix --out docs --xfail-dir
    docs/xfail`` of this nnspec version, from reports of this schema, with a row (a run, or why
    none) for every adapter nnspec ships."""
    from conformance.backends import BUILTIN

    text = (REPO / "docs" / "scoreboard.md").read_text(encoding="utf-8")
    assert "```sh\nnnspec matrix --out docs --xfail-dir docs/xfail\n```" in text
    for path in (REPO / "docs" / "reports").glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["schema_version"] == SCHEMA_VERSION, f"{path}: run the documented command"
    assert text.startswith(f"# nnspec conformance scoreboard\n\nnnspec {reference.__version__} ")
    backends = text[text.index("## Backends"):].split("\n## ")[0]
    rows = {line.split(" | ")[0].removeprefix("| ") for line in backends.splitlines()[4:]
            if line.startswith("| ")}
    stale = sorted(set(BUILTIN) - rows)
    assert not stale, (f"docs/scoreboard.md lacks the shipped adapter(s) {', '.join(stale)}: "
                       f"run `nnspec matrix --out docs --xfail-dir docs/xfail`")
    assert (REPO / "docs" / "scoreboard.svg").exists() and (REPO / "docs" /
                                                            "scoreboard.html").exists()


# ---------------------------------------------------------------- a real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True,
                          timeout=180)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                    "chromium; .ci/run installs it)")
def test_the_page_renders_in_headless_chromium_and_its_links_resolve(
        board: Scoreboard, tmp_path: Path) -> None:
    fresh = Scoreboard(board.runs, command=board.command, generated=board.generated)
    page = write(fresh, tmp_path / "out")[2]
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    parsed = _parse(dom.stdout)                     # the DOM as the browser built it
    assert {"table", "svg", "circle", "section", "details"} <= set(parsed.tags)
    assert parsed.tags.count("tr") == 2 + 4 + 1 + 4    # matrix: 2 head, 4 ops; runs: 1 + 4
    assert parsed.hrefs and {h[1:] for h in parsed.hrefs if h.startswith("#")} <= set(parsed.ids)
    assert all(h.startswith("#") for h in parsed.hrefs)
    shot = tmp_path / "page.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 1600)
    assert len(png) > 20_000                        # not a blank page


def test_a_backend_runs_with_its_expected_failures_list_from_the_xfail_dir(tmp_path: Path) -> None:
    """``--xfail-dir DIR``: DIR/<backend>.txt is the backend's list; the reference passes relu,
    so a listed relu check is an unexpected pass, and the board shows it (a backend without a
    list runs as always)."""
    lists = tmp_path / "xfail"
    lists.mkdir()
    (lists / "numpy.txt").write_text("relu[forward-golden-01]  listed to show strictness\n",
                                     encoding="utf-8")
    runs = run_matrix(["numpy"], ["float64"], tmp_path / "board", ops=["relu"],
                      xfail_dir=lists)
    (run,) = runs
    statuses = {r["id"]: r["status"] for r in run.results}
    assert statuses["relu[forward-golden-01]"] == "xpass"
    assert {s for i, s in statuses.items() if i != "relu[forward-golden-01]"} == {"pass"}
    assert run.report is not None
    assert run.report["xfail"] == {"file": str(lists / "numpy.txt"), "stale": []}
    cell = cell_of(run.results)
    assert cell is not None and cell.status == "xpass"
    assert progress_line(run).endswith(", 0 skipped, 1 xpassed (" + progress_line(run).rsplit(
        " (", 1)[1])
    # the cell counts its own status only, not checks of another detailed one beside it
    failing = [result("relu", "xpass", 0.5), result("relu", "xfail", 3e13, case="02"),
               result("relu", "xfail", 7.0, case="03"), result("relu", "pass", 0.1, case="04")]
    text = markdown(Scoreboard([Run("odd", "float64", "ran", report("odd", "float64", failing))]))
    assert "| `relu` | [✗ xpass 1/4 0.5](#odd-float64-relu) |" in text
    assert "float64: 1 of 4 checks with status xpass" in text
