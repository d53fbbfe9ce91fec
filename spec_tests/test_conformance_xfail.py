"""Tests of conformance.xfail: an expected-failures list (``--xfail FILE``), strict as pytest's
``xfail_strict`` (issue #13 §2).

The backend with known failures is the walkthrough's student_buggy (its conv2d flips the kernel:
every conv2d check fails) together with correct ops from the torch backend.
"""

from __future__ import annotations

import json
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import conformance
from conformance.adapters.torch_backend import TorchBackend
from conformance.cli import main
from conformance.schema import validate
from conformance.xfail import load, parse
from spec_tests import conformance_mistakes as mistakes

pytestmark = pytest.mark.infrastructure



def _conv2d_vjp(op: str, *args: Any) -> Any:
    if op != "conv2d":
        raise NotImplementedError(op)
    return mistakes.flipped_kernel.vjp(op, *args)


buggy = types.SimpleNamespace(conv2d=mistakes.flipped_kernel.conv2d, vjp=_conv2d_vjp,
                              relu=TorchBackend().relu)
"""conv2d with its kernel flipped, relu right (forward only)."""
FLIPPED = [f"conv2d[forward-slide-{name}]" for name in (
    "sobel_patch", "classic_kernels_on_sobel_patch", "detectors_on_their_patterns",
    "conv_5x5_no_padding", "conv_5x5_padding_1", "conv_5x5_stride_2",
    "conv_5x5_stride_2_padding_1")] + [f"conv2d[{check}-golden-0{k}]" for k in
                                       (1, 2, 3, 5, 6, 7, 8, 9) for check in ("forward",
                                                                              "gradient")]
"""The checks the flipped kernel fails: all but the symmetric ones (golden-04's 1×1 kernel, the
slide's vertical detector)."""
LISTED = "".join(f"{check_id}  the kernel is flipped (a known bug)\n" for check_id in FLIPPED)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xfail.txt"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the file
def test_entries_are_patterns_with_reasons_wildcards_and_an_optional_dtype() -> None:
    listed = parse("# a comment, then two entries\n"
                   "\n"
                   "conv2d[*]   the kernel is flipped (issue #3)\n"
                   "  float32:relu[forward-golden-0?]  float32 only\n", "list.txt")
    first, second = listed.entries
    assert (first.pattern, first.dtype, first.reason, first.where) == (
        "conv2d[*]", None, "the kernel is flipped (issue #3)", "list.txt:3")   # (# in a reason)
    assert (second.pattern, second.dtype, second.where) == (
        "relu[forward-golden-0?]", "float32", "list.txt:4")
    assert first.matches("conv2d[gradient-golden-07]", "float64")
    assert not first.matches("conv1d[forward-golden-01]", "float64")
    assert second.matches("relu[forward-golden-02]", "float32")
    assert not second.matches("relu[forward-golden-02]", "float64")        # its dtype only
    assert not second.matches("relu[forward-golden-12]", "float32")        # ? is one character
    # brackets are literal, not a character class as in fnmatch
    assert not parse("relu[forward-golden-01]  x").entries[0].matches("relu[f]", "float64")


@pytest.mark.parametrize(("text", "message"), [
    ("conv2d[*]\n", "list.txt:1: 'conv2d[*]' has no reason; every expected failure says why"),
    ("float16:relu[*]  why\n", "list.txt:1: 'float16' is not a dtype (float64, float32)"),
    ("convolution[*]  why\n", "list.txt:1: 'convolution' matches no op of the contract"),
    ("relu[forward golden]  why\n", "list.txt:1: 'relu[forward' is not a check id or a pattern"),
], ids=["no-reason", "bad-dtype", "unknown-op", "not-an-id"])
def test_a_bad_entry_is_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("*", r"\*")):
        parse(text, "list.txt")


def test_an_unreadable_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"--xfail: cannot read .*missing\.txt"):
        load(tmp_path / "missing.txt")


# ---------------------------------------------------------------- a run
def test_listed_failures_are_expected_and_the_run_passes(tmp_path: Path) -> None:
    path = _file(tmp_path, LISTED)
    report = conformance.run(buggy, ops=["conv2d", "relu"], xfail=path)
    assert [r.id for r in report.results if r.status == "xfail"] == FLIPPED
    assert report.ok and report.failed == 0 and report.xfailed == 23
    assert all(r.expected_failure == "the kernel is flipped (a known bug)"
               for r in report.results if r.status == "xfail")
    assert "expected failures (--xfail)" in report.summary() and report.summary().startswith(
        "PASSED")
    conv2d = report.table().splitlines()[2].split()
    assert conv2d.count("+8") == 2 and conv2d.count("+7") == 1 and conv2d.count("xfail") == 3
    without = conformance.run(buggy, ops=["conv2d"])
    assert [r.id for r in without.failures()] == FLIPPED and not without.ok  # unlisted


def test_a_listed_check_that_passes_fails_the_run(tmp_path: Path) -> None:
    path = _file(tmp_path, "conv2d[*]  the kernel is flipped, so every conv2d check fails?\n")
    report = conformance.run(buggy, ops=["conv2d", "relu"], xfail=path)
    xpass = [r for r in report.results if r.status == "xpass"]
    assert [r.id for r in xpass] == ["conv2d[forward-slide-vertical_detector_on_an_image]",
                                     "conv2d[forward-golden-04]", "conv2d[gradient-golden-04]"]
    assert not report.ok and report.xfailed == 23
    assert xpass[0].reason.startswith(
        f"passed, but {path}:1 lists it as an expected failure (the kernel is flipped, so every "
        f"conv2d check fails?): remove the entry; [y: max abs error 0")
    assert all(r in report.problems() for r in xpass)
    assert report.table().count("XPASS 1/") == 3 and "3 passed unexpectedly" in report.summary()


def test_an_entry_matching_no_check_is_stale_unless_the_run_leaves_it_out(tmp_path: Path) -> None:
    path = _file(tmp_path, LISTED + "conv2d[forward-golden-99]  a case that no longer exists\n"
                           "float32:relu[*]  float32 only\n"
                           "lstm[*]  an op this run does not check\n")
    report = conformance.run(buggy, ops=["conv2d", "relu"], xfail=path)
    assert report.stale == [f"conv2d[forward-golden-99] ({path}:24: a case that no longer "
                            f"exists)"]
    assert not report.ok and "1 stale --xfail entry (matching no check)" in report.summary()


def test_the_json_and_junit_reports_carry_the_expected_failures(tmp_path: Path) -> None:
    path = _file(tmp_path, LISTED + "relu[forward-golden-01]  listed by mistake\n"
                           "conv2d[forward-golden-99]  stale\n")
    report = conformance.run(buggy, ops=["conv2d", "relu"], xfail=path)
    doc = json.loads(json.dumps(report.to_dict()))
    assert validate(doc) == []
    assert doc["summary"]["xfailed"] == 23 and doc["summary"]["xpassed"] == 1
    assert doc["xfail"] == {"file": str(path), "stale": report.stale}
    assert {r["status"] for r in doc["results"]} == {"xfail", "xpass", "pass", "skip"}
    report.write_junit(tmp_path / "junit.xml")
    suite = ET.parse(tmp_path / "junit.xml").getroot()[0]
    assert suite.get("failures") == "1" and suite.get("errors") == "1"     # xpass; stale
    assert suite.get("skipped") == str(23 + report.skipped)
    kinds = [(child.tag, child.get("type")) for case in suite.iter("testcase") for child in case
             if child.tag in ("skipped", "failure", "error")]
    assert kinds.count(("skipped", "xfail")) == 23
    assert kinds.count(("failure", "xpass")) == 1 and kinds.count(("error", "stale-xfail")) == 1


def test_the_command_line_lists_expected_failures_and_exits_by_strictness(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    backend = "spec_tests.test_conformance_xfail:buggy"
    path = _file(tmp_path, LISTED)
    assert main(["run", "--backend", backend, "--ops", "conv2d,relu", "--xfail", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"expected failures: {path} (23 entries)" in out
    assert (f"expected failures ({path}):\n  XFAIL conv2d[forward-slide-sobel_patch]: the kernel "
            f"is flipped (a known bug)\n") in out
    stale = _file(tmp_path, LISTED + "relu[gradient-golden-77]  gone\n")
    assert main(["run", "--backend", backend, "--ops", "conv2d,relu", "--xfail", str(stale)]) == 1
    out = capsys.readouterr().out
    assert f"stale entries of {stale} (they match no check of this run; remove or fix them):" \
           f"\n  relu[gradient-golden-77] ({stale}:24: gone)" in out


def test_a_listed_timeout_is_expected_too() -> None:
    from conformance.cases import Case
    from conformance.report import Result

    listed = parse("lstm[forward-golden-05]  T9: hangs on saturated gates\n")
    case = Case("lstm", "golden", "05", {})
    timed_out = Result(case, "forward", "timeout", "timed out after 10 s")
    assert listed.apply(timed_out, "float64").status == "xfail"
    skipped = Result(case, "forward", "skip", "not implemented")
    kept = listed.apply(skipped, "float64")                   # a skip stays a skip, with the
    assert kept.status == "skip" and kept.expected_failure == "T9: hangs on saturated gates"
