"""Tests of the ``nnspec`` command (conformance.cli), run in-process through main(argv)."""

from __future__ import annotations

import importlib.metadata
import io
import json
import runpy
import sys
import time
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import conformance
import reference
from conformance.backends import BUILTIN, ENTRY_POINT_GROUP
from conformance.cli import main
from conformance.contract import OPS
from conformance.runner import default_cases
from conformance.schema import validate

pytestmark = pytest.mark.infrastructure

# a backend with one wrong op, loadable as spec_tests.test_conformance_cli:wrong_relu
wrong_relu = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0) + 1e-3)
WRONG = "spec_tests.test_conformance_cli:wrong_relu"
# a backend whose gradients come from a vjp, with one forward op
autodiff = types.SimpleNamespace(relu=lambda x: x, vjp=lambda op, inputs, attrs, cotangents: ())


# the backend names an unknown one is told about: the shipped ones and whatever else this
# environment registers (a test may not depend on what else is installed)
KNOWN = ", ".join(sorted({*BUILTIN,
                          *importlib.metadata.entry_points(group=ENTRY_POINT_GROUP).names}))


def nnspec(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_run_without_a_backend_checks_the_reference_and_says_so() -> None:
    code, text = nnspec("run", "--ops", "relu,conv2d")
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == ("No --backend given: checking the reference itself (the numpy backend) "
                        "against its golden and slide cases.")
    assert lines[1] == f"nnspec {reference.__version__} (spec {reference.SPEC_VERSION}): " \
                       "backend numpy, float64"
    assert lines[3].split() == ["op", "forward", "gradient", "slides"]
    assert [line.split()[0] for line in lines[5:7]] == ["relu", "conv2d"]
    assert lines[-1].startswith("PASSED: numpy nnspec reference")


def test_run_writes_json_and_junit_and_quiet_prints_one_line(tmp_path: Path) -> None:
    js, xml = tmp_path / "r.json", tmp_path / "r.xml"
    code, text = nnspec("run", "--backend", "torch", "--ops", "softmax", "--dtype", "float32",
                        "--json", str(js), "--junit", str(xml), "-q")
    assert code == 0
    assert text.count("\n") == 1 and text.startswith("PASSED: torch ")
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert validate(doc) == [] and doc["dtype"] == "float32"
    assert ET.parse(xml).getroot().find("testsuite") is not None


def test_a_failing_backend_exits_1_and_lists_its_failures() -> None:
    code, text = nnspec("run", "--backend", WRONG,
                        "--ops", "relu,tanh")
    assert code == 1
    first = "FAIL relu[forward-slide-neuron_weighted_sum_relu]: y: max abs error 0.001"
    assert f"\nfailures:\n  {first}" in text
    assert text.splitlines()[-1].startswith(f"FAILED: {WRONG} (version unknown), float64: ")


def test_verbose_prints_every_check_and_require_turns_skips_into_failures() -> None:
    code, text = nnspec("run", "--backend", WRONG,
                        "--ops", "tanh", "--require", "-v")
    assert code == 1
    assert f"FAIL tanh[forward-golden-01]: not implemented: {WRONG} has no tanh (required)" in text
    assert "failures:" not in text                      # -v already showed each one
    code, text = nnspec("run", "--backend", WRONG,
                        "--ops", "tanh,step", "--require", "step", "-q")
    step = sum(1 + c.has_gradient for c in default_cases(["step"]))   # required: failures
    tanh = sum(1 + c.has_gradient for c in default_cases(["tanh"]))   # not required: skips
    assert code == 1 and f"0 passed, {step} failed, {tanh} skipped" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--backend", "nosuch"], "nnspec: error: unknown backend 'nosuch'"),
    (["run", "--backend", "numpy", "--device", "cuda"], "has no device option"),
    (["run", "--ops", "conv3d"], "unknown op(s) conv3d; the contract's ops are step"),
    (["run", "--require", "conv3d"], "unknown op(s) conv3d"),
    (["run", "--dtype", "float16"], "invalid choice: 'float16'"),
    (["run", "--timeout", "-1"], "argument --timeout: must be at least 0 and finite (seconds; "
     "0: no limit), got -1"),
    (["run", "--timeout", "inf"], "argument --timeout: must be at least 0 and finite"),
    (["run", "--timeout", "nan"], "argument --timeout: must be at least 0 and finite"),
    (["explain", "conv3d"], "nnspec: error: no op 'conv3d' in the contract"),
    (["run", "--backend", "nosuchmodule"], "nnspec: error: unknown backend 'nosuchmodule': use "
     f"one of {KNOWN}, a module (package.module) or package.module:attribute; no "
     "module 'nosuchmodule' can be imported from here"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_usage_and_loading_errors_exit_2_with_a_message(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = nnspec(*argv)
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--seed", "3"], ["--examples", "5"],
                                  ["--reproducers", "out"], ["--examples", "2", "--seed", "1"]])
def test_property_options_without_property_are_usage_errors(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, text = nnspec("run", "--ops", "step", *argv)
    assert code == 2 and text == ""
    err = capsys.readouterr().err
    assert err.startswith("usage: nnspec run ")
    given = ", ".join(a for a in argv if a.startswith("--"))
    verb = "applies" if given.count("--") == 1 else "apply"
    assert f"nnspec run: error: {given} only {verb} with --property" in err
    # with --property they are taken
    code, text = nnspec("run", "--ops", "step", "--property", "--examples", "2", "--seed", "5")
    assert code == 0 and "property mode: 2 examples per op, seed 5" in text


def test_a_module_of_the_current_directory_is_a_backend_by_its_bare_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``nnspec run --backend mylayers`` next to mylayers.py, as ``python -m`` would import it
    (a console script's sys.path holds its own folder, not the current one)."""
    (tmp_path / "nnspec_cwd_layers.py").write_text(
        "import numpy as np\n\ndef relu(x):\n    return np.maximum(x, 0.0)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    code, text = nnspec("run", "--backend", "nnspec_cwd_layers", "--ops", "relu", "-q")
    assert code == 0 and text.startswith("PASSED: nnspec_cwd_layers"), text
    assert sys.path[-1] == str(tmp_path)


misnamed = types.SimpleNamespace(Relu=lambda x: x, maxpool2d=lambda x, k, s: x,
                                 conv2d_forward=lambda *a: a, sigmoid_grad=lambda dy, x: dy,
                                 helper=lambda x: x, tanh=np.tanh)


def test_a_backend_with_nothing_checked_exits_1_and_names_its_near_misses() -> None:
    code, text = nnspec("run", "--backend", "spec_tests.test_conformance_cli:misnamed", "--ops",
                        "relu,max_pool2d,conv2d,sigmoid", "-q")
    assert code == 1 and text.splitlines()[1].startswith("NOTHING CHECKED: ")
    assert text.splitlines()[0] == (
        "hint: some functions look misnamed (Relu → relu, conv2d_forward → conv2d, maxpool2d → "
        "max_pool2d, sigmoid_grad → sigmoid_backward): nnspec calls the contract's names "
        "exactly (nnspec list)")
    # tanh is checked: no longer "nothing checked", and the hint stays
    code, text = nnspec("run", "--backend", "spec_tests.test_conformance_cli:misnamed",
                        "--ops", "tanh,relu", "-q")
    assert code == 0 and "hint: some functions look misnamed (Relu → relu, " in text


class _Touchy:
    """A backend whose property raises when read: the hint passes it over."""

    relu = staticmethod(lambda x: np.maximum(x, 0.0))

    @property
    def Relu_grad(self) -> object:        # the near miss of relu_backward, as a property
        raise RuntimeError("do not touch")

    def Tanh(self, x: np.ndarray) -> np.ndarray:      # a near miss of tanh
        return np.tanh(x)


touchy = _Touchy()


def test_the_hint_passes_over_attributes_that_fail_to_read() -> None:
    code, text = nnspec("run", "--backend", "spec_tests.test_conformance_cli:touchy", "--ops",
                        "relu,tanh", "-q")
    assert code == 0 and text.startswith("hint: some functions look misnamed (Tanh → tanh)")


def test_shipped_and_example_backends_have_no_near_misses() -> None:
    from conformance.backends import load_backend

    for name in ("numpy", "torch", "jax", "conformance.examples.student"):
        if name == "jax":
            try:
                import jax  # noqa: F401
            except ImportError:
                continue                              # an optional framework that is not here
        assert load_backend(name).near_misses() == {}, name


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize(("argv", "status"), [(["list"], 0), (["run", "--ops", "relu"], 1)])
def test_a_closed_pipe_in_process_points_stdout_away_and_exits(
        argv: list[str], status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance.cli

    quieted: list[bool] = []
    monkeypatch.setattr(conformance.cli, "_quiet_stdout", lambda: quieted.append(True))
    assert main(argv, out=_ClosedPipe()) == status and quieted == [True]


def test_a_timeout_is_taken_in_seconds_and_0_means_none() -> None:
    for seconds in ("2.5", "0"):
        code, text = nnspec("run", "--ops", "relu", "--timeout", seconds, "-q")
        assert code == 0 and text.startswith("PASSED: numpy "), text


def test_the_timeout_option_limits_each_call() -> None:
    """--timeout reaches the calls: a relu that sleeps 60 s on one case fails at 0.2 s (not at the
    default 10 s), and the run is over well within 5 s."""
    start = time.perf_counter()
    code, text = nnspec("run", "--backend", "spec_tests.conformance_faults:sleeps", "--ops",
                        "relu", "--timeout", "0.2")
    assert time.perf_counter() - start < 5.0
    assert code == 1
    assert ("TIMEOUT relu[forward-golden-03]: relu timed out after 0.2 s (the limit per call; "
            "--timeout changes it)") in text


def test_quieting_a_stdout_that_is_no_file_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.cli import _quiet_stdout

    monkeypatch.setattr(sys, "stdout", io.StringIO())     # fileno(): UnsupportedOperation
    _quiet_stdout()
    assert sys.stdout.write("still here") == 10


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    """``nnspec list | head -1``: the reader goes away; no "Broken pipe" error, exit 0 (a run
    cut short this way exits 1: it did not pass)."""
    import subprocess

    for argv, status in ((["list"], 0), (["run", "--ops", "relu"], 1)):
        child = subprocess.Popen([sys.executable, "-m", "conformance", *argv],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()                          # before the child writes anything
        err = child.stderr.read().decode()
        assert child.wait(timeout=60) == status and err == "", err


def test_a_backend_that_cannot_be_loaded_prints_nothing_but_the_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, text = nnspec("run", "--backend", "nosuch.mod")
    assert code == 2 and text == "", "no run header before the backend is loaded"
    assert capsys.readouterr().err.startswith("nnspec: error: cannot import 'nosuch.mod'")
    code, text = nnspec("run", "--backend", "nosuch.mod", "--isolate")
    assert code == 2 and text == ""
    assert "cannot load backend 'nosuch.mod' in its process" in capsys.readouterr().err


def test_an_isolated_run_loads_once_and_closes_its_child(monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance.cli as cli

    opened = []

    class Child(cli.Isolated):
        def close(self) -> None:
            opened.append("closed")
            super().close()

    monkeypatch.setattr(cli, "Isolated", Child)
    monkeypatch.setattr(cli, "open_backend", lambda backend, device, isolate: Child(backend))
    code, text = nnspec("run", "--backend", "conformance.examples.student", "--ops", "relu",
                        "--isolate", "-q")
    assert code == 0 and text.startswith("PASSED: ") and opened == ["closed"]


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert nnspec("--version")[0] == 0
    assert f"nnspec {reference.__version__}" in capsys.readouterr().out
    assert nnspec("run", "--help")[0] == 0
    assert "--require [OPS]" in capsys.readouterr().out


def test_list_shows_signatures_and_what_the_backend_implements() -> None:
    code, text = nnspec("list")
    assert code == 0
    rows = {line.split()[0]: line for line in text.splitlines()[4:4 + len(OPS)]}
    assert list(rows) == list(OPS)
    assert "conv2d(x, w, b, stride, padding) -> y" in rows["conv2d"]
    assert rows["conv2d"].split()[-2:] == ["yes", "conv2d_backward"]
    code, text = nnspec("list", "--backend", "torch")
    styles = {tuple(line.split()[-2:]) for line in text.splitlines()[4:4 + len(OPS)]}
    assert styles == {("yes", "vjp")}
    code, text = nnspec("list", "--backend", WRONG)
    rows = {line.split()[0]: line.split()[-2:] for line in text.splitlines()[4:4 + len(OPS)]}
    assert rows["relu"] == ["yes", "-"] and rows["tanh"] == ["-", "-"]
    code, text = nnspec("list", "--backend", "spec_tests.test_conformance_cli:autodiff")
    rows = {line.split()[0]: line.split()[-2:] for line in text.splitlines()[4:4 + len(OPS)]}
    assert rows["relu"] == ["yes", "vjp"] and rows["tanh"] == ["-", "-"]


def test_list_markdown_is_the_contract_table() -> None:
    code, text = nnspec("list", "--markdown")
    assert code == 0 and text.startswith("| op | signature |") and "| lstm |" in text


def test_mistakes_lists_what_the_diagnosis_looks_for_with_what_each_means() -> None:
    code, text = nnspec("mistakes", "max_pool2d")
    assert code == 0 and text.startswith("the well-known mistakes the diagnosis tries for "
                                         "max_pool2d, in order")
    assert "\n  tie rule " in text and "split between tied maxima" in text
    assert "flipped kernel" not in text
    assert text.index("\n  constant factor ") < text.index("\n  shape ")    # the last two
    code, every = nnspec("mistakes")
    assert code == 0 and "flipped kernel" in every and "tie rule" in every


def test_explain_gives_formula_conventions_claims_and_slides() -> None:
    code, text = nnspec("explain", "conv2d")
    assert code == 0
    assert text.startswith("conv2d (convolution)\n\n  conv2d(x, w, b, stride, padding) -> y\n")
    assert "forward:   y[n,k,i,j] = b[k] + Σ_{c,p,q} w[k,c,p,q]" in text
    assert "  - Cross-correlation: the kernel is not flipped" in text
    assert "  convention.cross-correlation [" in text
    assert "  sobel_patch: The Sobel kernel laid over a 3×3 patch" in text
    assert "golden cases: 9\n" in text
    assert "reference: reference.conv.conv2d, reference.conv.conv2d_backward" in text
    code, text = nnspec("explain", "cross_entropy")
    assert "slide cases: none" in text and "targets [N]: class ids in [0, C) (int64, no gradient)" \
        in text
    assert ("declarable (cross_entropy_reduction, --convention cross_entropy_reduction=VARIANT): "
            "how cross-entropy reduces over the batch\n  * mean: the mean over the N rows of the "
            "batch\n    sum: the sum over the N rows of the batch (N times the mean)\n") in text
    assert "declarable" not in nnspec("explain", "conv2d")[1]     # nothing to declare there


def test_explain_an_op_without_golden_cases_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance.cli as cli

    monkeypatch.setattr(cli, "golden_cases", lambda ops: [])
    _, text = nnspec("explain", "gru")
    assert "golden cases: none (the reference does not implement this op yet)" in text


def test_python_dash_m_conformance_is_the_command(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["nnspec", "run", "--ops", "step", "-q"])
    with pytest.raises(SystemExit) as exit_info:
        # run_path, not run_module: pytest rewrites the plugin's package (conformance), and its
        # import hook cannot hand runpy the code of conformance.__main__
        runpy.run_path(str(Path(conformance.__file__).with_name("__main__.py")),
                       run_name="__main__")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("PASSED: numpy")
    with pytest.raises(SystemExit) as exit_info:              # python -m conformance.cli too
        runpy.run_path(str(Path(conformance.__file__).with_name("cli.py")), run_name="__main__")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("PASSED: numpy")
