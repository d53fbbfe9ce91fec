"""The first hour of a new user (issue 12): the edges met first, each as the user meets it.

A folder holding only the user's ``mynn.py``, the ``nnspec`` command and pytest run there: loading
the backend (by name, by path; broken in every way a newcomer breaks it), reproducers that import
it, reports written where asked, options refused with plain words.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance.backends import load_backend
from conformance.checks import FIRST_CALL_FACTOR
from conformance.cli import main
from conformance.isolation import Isolated
from conformance.property import property_check
from conformance.runner import run
from conformance.schema import validate
from spec_tests import conformance_faults as faults

NUMPY = load_backend("numpy").obj

pytestmark = pytest.mark.infrastructure
pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[1]
RELU = "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(x, 0.0)\n"
WRONG_RELU = "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(x, 0.0) + 1e-3\n"


def nnspec(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


# ---------------------------------------------------------------- bug 1: the plugin and cwd
def test_the_plugin_loads_a_module_and_a_package_of_the_current_directory(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pytest --nnspec-backend mynn`` next to mynn.py, and the README's mypkg.mymodule, without
    PYTHONPATH, a conftest.py or ``python -m``."""
    pytester.makepyfile(first_hour_mynn=RELU)
    pytester.mkpydir("first_hour_pkg").joinpath("mymodule.py").write_text(RELU)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(pytester.path))])
    for name in ("first_hour_mynn", "first_hour_pkg.mymodule"):
        result = pytester.runpytest_inprocess("--nnspec-backend", name, "--nnspec-ops", "relu",
                                              "-q", "-p", "no:cacheprovider")
        assert result.ret == pytest.ExitCode.OK, result.outlines + result.errlines
        result.assert_outcomes(passed=8, skipped=5)     # 8 forward checks; no backward


# ---------------------------------------------------------------- bug 2: reproducers import it
def test_a_reproducer_imports_a_backend_of_the_folder_nnspec_ran_in(user_dir: Path) -> None:
    (user_dir / "first_hour_wrong.py").write_text(WRONG_RELU)
    code, _ = nnspec("run", "--backend", "first_hour_wrong", "--ops", "relu", "--property",
                     "--examples", "3", "--reproducers", "repro", "-q")
    assert code == 1
    script = user_dir / "repro" / "relu_forward.py"
    text = script.read_text()
    assert (f"# first_hour_wrong is a module of the folder nnspec ran in ({user_dir}): run this "
            f"script from there,\n# or from anywhere with PYTHONPATH={user_dir}\n") in text

    def python(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True,
                              text=True, check=False, timeout=60,
                              env={"PATH": "/usr/bin:/bin", **env})

    here = python(user_dir)                          # as the README shows it: from where it ran
    assert here.returncode == 1 and here.stdout.endswith("FAIL: y\n"), here.stderr
    elsewhere = python(user_dir / "repro", PYTHONPATH=str(user_dir))   # as its comment says
    assert elsewhere.returncode == 1 and elsewhere.stdout.endswith("FAIL: y\n"), elsewhere.stderr


def test_a_reproducer_of_an_installed_backend_imports_it_plainly(user_dir: Path) -> None:
    from conformance.reproducer import backend_import

    assert backend_import("conformance.examples.student") == (
        "import conformance.examples.student as backend")


# ---------------------------------------------------------------- bug 3: load errors
BROKEN = {
    "syntax": ("first_hour_syntax", "import numpy as np\n\ndef relu(x)\n    return x\n",
               "cannot import 'first_hour_syntax': SyntaxError: expected ':' "
               "(first_hour_syntax.py, line 3)"),
    "raises": ("first_hour_raises", "import numpy as np\n\nSCALE = 1 / 0\n",
               "cannot import 'first_hour_raises': ZeroDivisionError: division by zero "
               "(first_hour_raises.py, line 3)"),
    "imports": ("first_hour_imports", "import numpy as np\nimport first_hour_nosuchdep\n",
                "cannot import 'first_hour_imports': ModuleNotFoundError: No module named "
                "'first_hour_nosuchdep' (first_hour_imports.py, line 2)"),
    "constructor": ("first_hour_class:Backend",
                    "class Backend:\n    def __init__(self):\n        raise RuntimeError('no GPU "
                    "here')\n",
                    "cannot load backend 'first_hour_class:Backend': first_hour_class:Backend() "
                    "raised RuntimeError: no GPU here (first_hour_class.py, line 3)"),
    "no-file": ("./first_hour_nofile.py", None,
                "backend './first_hour_nofile.py': no Python file './first_hour_nofile.py'"),
}


@pytest.mark.parametrize("kind", BROKEN)
def test_a_backend_that_cannot_load_is_one_line_with_file_and_line_and_exit_2(
        kind: str, user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, source, message = BROKEN[kind]
    if source is not None:
        (user_dir / f"{name.partition(':')[0]}.py").write_text(source)
    code, out = nnspec("run", "--backend", name, "--ops", "relu")
    err = capsys.readouterr().err
    assert (code, out) == (2, "")
    assert err.startswith(f"nnspec: error: {message}") and err.count("\n") == 1, err


def test_a_device_the_framework_refuses_is_a_loading_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = nnspec("run", "--backend", "torch", "--device", "nonsense", "--ops", "relu")
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("nnspec: error: cannot load backend 'torch': conformance.adapters."
                          "torch_backend:TorchBackend(device='nonsense') raised RuntimeError: ")


@pytest.mark.parametrize("spelling", ["./first_hour_path.py", "first_hour_path.py",
                                      "sub/first_hour_path.py"])
def test_a_backend_given_as_a_file_path_loads(spelling: str, user_dir: Path) -> None:
    folder = user_dir / Path(spelling).parent
    folder.mkdir(exist_ok=True)
    (folder / "first_hour_path.py").write_text(RELU)
    sys.modules.pop("first_hour_path", None)
    code, text = nnspec("run", "--backend", spelling, "--ops", "relu", "-q")
    assert code == 0 and text.startswith(f"PASSED: {spelling} "), text
    sys.modules.pop("first_hour_path", None)


def test_a_file_whose_module_name_is_taken_is_refused(
        user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (user_dir / "textwrap.py").write_text(RELU)
    code, _ = nnspec("run", "--backend", "./textwrap.py", "--ops", "relu")
    assert code == 2
    assert (f"a module 'textwrap' is already imported from {textwrap.__file__}; rename the "
            f"file") in capsys.readouterr().err


def test_in_pytest_a_backend_that_cannot_load_is_a_usage_error(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(first_hour_boom="SCALE = 1 / 0\n")
    result = pytester.runpytest_inprocess("--nnspec-backend", "first_hour_boom", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: --nnspec-backend: cannot import 'first_hour_boom': ZeroDivisionError: " \
           "division by zero (first_hour_boom.py, line 1)" in result.errlines
    assert "INTERNALERROR" not in "\n".join(result.outlines + result.errlines)


# ---------------------------------------------------------------- bug 4: installed backends
def test_the_projects_tests_pass_with_another_backend_registered(tmp_path: Path) -> None:
    """A package registering an ``nnspec.backends`` entry point (as the README shows) must not
    break the tests that print the known backends."""
    info = tmp_path / "first_hour_extra-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: first-hour-extra\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[nnspec.backends]\nmine = numpy:linalg\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-o", "addopts=", "-k", "nosuch", "spec_tests/test_conformance_cli.py::"
         "test_usage_and_loading_errors_exit_2_with_a_message",
         "spec_tests/test_conformance_backends.py::test_backends_that_cannot_be_loaded_say_why"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " passed" in proc.stdout.splitlines()[-1]


# ---------------------------------------------------------------- bug 5: reports into new folders
def test_reports_go_into_folders_that_do_not_exist_yet(tmp_path: Path) -> None:
    js, xml = tmp_path / "out" / "json" / "r.json", tmp_path / "out" / "junit" / "r.xml"
    code, text = nnspec("run", "--ops", "relu", "--json", str(js), "--junit", str(xml), "-q")
    assert code == 0 and text.startswith("PASSED: numpy ")
    assert js.is_file() and xml.is_file()


def test_a_report_that_cannot_be_written_keeps_the_finished_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, text = nnspec("run", "--ops", "relu", "--json", str(blocker / "r.json"))
    assert code == 2
    assert "relu" in text and text.splitlines()[-1].startswith("PASSED: numpy ")   # not lost
    assert f"nnspec: error: cannot write {blocker / 'r.json'}: " in capsys.readouterr().err


# ---------------------------------------------------------------- bug 6 and wording: options
@pytest.mark.parametrize(("argv", "message"), [
    (["--max-failures", "-1"], "argument --max-failures: must be at least 0, got -1"),
    (["--max-failures", "x"], "argument --max-failures: expected a whole number, got 'x'"),
    (["--property", "--examples", "x"], "argument --examples: expected a whole number, got 'x'"),
    (["--property", "--seed", "1.5"], "argument --seed: expected a whole number, got '1.5'"),
    (["--timeout", "soon"], "argument --timeout: expected a number, got 'soon'"),
])
def test_bad_option_values_are_usage_errors_in_plain_words(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = nnspec("run", "--ops", "relu", *argv)
    err = capsys.readouterr().err
    assert (code, text) == (2, "")
    assert f"nnspec run: error: {message}" in err and "_" not in err.splitlines()[-1], err


def test_max_failures_0_lists_none() -> None:
    code, text = nnspec("run", "--backend", "spec_tests.test_conformance_cli:wrong_relu",
                        "--ops", "relu", "--max-failures", "0")
    assert code == 1 and "failures of golden and slide cases not listed" in text


def test_list_says_the_version_is_unknown_in_words(user_dir: Path) -> None:
    (user_dir / "first_hour_list.py").write_text(RELU)
    code, text = nnspec("list", "--backend", "first_hour_list")
    assert code == 0
    assert text.splitlines()[0] == ("The contract's 17 ops; forward and gradient as implemented "
                                    "by backend first_hour_list (version unknown):")
    (user_dir / "first_hour_versioned.py").write_text(RELU + "\n__version__ = '1.2'\n")
    _, text = nnspec("list", "--backend", "first_hour_versioned")
    assert "by backend first_hour_versioned (version 1.2):" in text


def test_the_readme_says_how_a_backend_states_its_version() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`__version__`" in readme and "(version unknown)" in readme


# ---------------------------------------------------------------- friction: crashes, Ctrl-C
def _as_a_shell_starts_it() -> None:
    """Ctrl-C's default in the command's process, as a shell gives it, whatever this test
    process inherited (a child keeps an ignored SIGINT ignored, and so does Python in it: a
    framework run earlier in the same pytest worker may have left it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _nnspec_process(*argv: str, **options: Any) -> subprocess.Popen[str]:
    """The ``nnspec`` command as a user runs it (its own process, stdout a pipe)."""
    return subprocess.Popen([sys.executable, "-m", "conformance", *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_a_shell_starts_it, **options)


def test_a_crash_without_isolate_names_the_check_and_suggests_isolate() -> None:
    child = _nnspec_process("run", "--backend", "spec_tests.conformance_faults:segfaults",
                            "--ops", "tanh,relu")
    out, err = child.communicate(timeout=120)
    assert child.returncode == 1
    assert out.startswith("nnspec ") and "backend spec_tests.conformance_faults:segfaults" in out
    assert err == ("nnspec: the backend crashed the Python process while checking "
                   "relu[forward-golden-03]: killed by SIGSEGV (Segmentation fault). Run with "
                   "--isolate to run the backend in a child process: a crash then fails that "
                   "one check and the run goes on.\n")


def test_ctrl_c_stops_the_run_and_reports_what_ran_with_status_130() -> None:
    """A real SIGINT to the command's process group, as a terminal sends it, while the backend
    hangs (no time limit)."""
    child = _nnspec_process("run", "--backend", "spec_tests.conformance_faults:sleeps", "--ops",
                            "tanh,relu", "--timeout", "0", start_new_session=True)
    assert child.stdout is not None
    assert child.stdout.readline().startswith("nnspec ")     # flushed before each call
    time.sleep(2.0)                                           # into relu's 60 s sleep
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert err.endswith("nnspec: interrupted (Ctrl-C): the table and summary show the checks "
                        "that ran\n")
    lines = out.splitlines()
    assert lines[-1].startswith("INTERRUPTED: spec_tests.conformance_faults:sleeps (version "
                                "unknown), float64: ")
    assert any(line.startswith("tanh  pass ") for line in lines)


class _Interrupts:
    """A backend whose relu is interrupted (Ctrl-C arrives during its call) on its 3rd call."""

    def __init__(self) -> None:
        self.calls = 0

    def relu(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return np.maximum(x, 0.0)


def test_an_interrupted_run_keeps_its_results_in_the_report(tmp_path: Path) -> None:
    report = run(_Interrupts(), ops=["relu", "tanh"])
    assert report.interrupted and not report.ok and report.passed == 2
    assert report.summary().startswith("INTERRUPTED: _Interrupts (version unknown), float64: 2 "
                                       "passed")
    doc = report.to_dict()
    assert doc["interrupted"] is True and validate(doc) == []


# ---------------------------------------------------------------- friction: timeouts
slow_first = types.SimpleNamespace(calls=0)


def _slow_first_relu(x: np.ndarray) -> np.ndarray:
    """Compiles on its first call (0.5 s), then is fast."""
    slow_first.calls += 1
    if slow_first.calls == 1:
        time.sleep(0.5)
    return np.maximum(x, 0.0)


slow_first.relu = _slow_first_relu


def test_a_slow_first_call_is_no_timeout() -> None:
    slow_first.calls = 0
    report = run(slow_first, ops=["relu"], timeout=0.2)
    assert report.ok and report.passed == 8 and report.results[0].seconds >= 0.5


def test_a_first_call_gets_a_generous_limit_but_a_limit() -> None:
    assert FIRST_CALL_FACTOR == 6
    hangs = types.SimpleNamespace(relu=lambda x: time.sleep(60))
    start = time.perf_counter()
    report = run(hangs, ops=["relu"], timeout=0.1)
    assert time.perf_counter() - start < 5.0                 # 0.6 s, then nothing waits
    first, *rest = report.results
    assert first.status == "timeout" and first.reason == (
        "relu timed out after 0.6 s (its first call, allowed 6× the limit per call for "
        "compiling on first use; --timeout changes it)")
    not_run = [r for r in rest if r.check == "forward"]     # (it has no gradient: skips)
    assert len(not_run) == 7 and {r.reason for r in not_run} == {
        f"not run: {first.id} timed out, and each of relu's checks would wait as long"}
    assert report.timed_out == 8 and report.failed == 0


def test_a_timeout_is_its_own_status_in_table_summary_json_and_junit(tmp_path: Path) -> None:
    report = run(faults.sleeps, ops=["relu"], timeout=0.1, property=True, examples=2)
    # golden-03's forward timed out (the forward of other values of its shapes, called before
    # its gradient: see run_case); its gradient, golden-04 and the property search: not run
    assert "relu  TIMEOUT 2/4  TIMEOUT 2/4  pass 5  0.0e+00  TIMEOUT 2/2" in report.table()
    assert ", 0 failed, 6 timed out, " in report.summary()
    assert report.summary().startswith("FAILED: ")
    doc = report.to_dict()
    assert validate(doc) == [] and doc["schema_version"] == 6
    assert doc["summary"]["timed_out"] == 6 and doc["summary"]["failed"] == 0
    assert [r["status"] for r in doc["results"]].count("timeout") == 6
    suite = report.junit().getroot()[0]
    assert suite.get("errors") == "6" and suite.get("failures") == "0"
    errors = suite.findall("testcase/error")
    assert len(errors) == 6 and {e.get("type") for e in errors} == {"timeout"}


def test_the_cli_lists_a_timeout_once_with_the_checks_it_stopped() -> None:
    code, text = nnspec("run", "--backend", "spec_tests.conformance_faults:sleeps", "--ops",
                        "relu", "--timeout", "0.1")
    assert code == 1
    assert "\nfailures and timeouts:\n  TIMEOUT relu[forward-golden-03]: relu timed out " in text
    assert ("  TIMEOUT relu[gradient-golden-03]: not run: relu[forward-golden-03] timed out, "
            "and each of relu's checks would wait as long\n       (and 2 more of relu's "
            "checks, for the same reason)\n") in text


def test_in_pytest_the_items_after_a_timeout_fail_at_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(first_hour_hangs="import time\n\ndef relu(x):\n    time.sleep(60)\n")
    pytester.syspathinsert()
    start = time.perf_counter()
    result = pytester.runpytest_inprocess("--nnspec-backend", "first_hour_hangs",
                                          "--nnspec-ops", "relu", "--nnspec-timeout", "0.05")
    assert time.perf_counter() - start < 10
    result.assert_outcomes(failed=8, skipped=5)
    assert "not run: relu[forward-slide-neuron_weighted_sum_relu] timed out" in (
        result.stdout.str())


# ---------------------------------------------------------------- friction: wrong signatures
def test_a_wrong_signature_is_said_plainly_and_listed_once_per_op() -> None:
    code, text = nnspec("run", "--backend", "spec_tests.test_conformance_first_hour:two_args",
                        "--ops", "relu,tanh")
    assert code == 1
    reason = ("relu cannot be called as the contract calls it (TypeError: "
              "_relu_with_alpha() missing 1 required positional argument: 'alpha'): nnspec "
              "calls relu(x) -> y, arguments by position (nnspec explain relu)")
    assert text.count(reason) == 1
    assert f"{reason}\n       (and 7 more of relu's checks, for the same reason)\n" in text
    # a TypeError raised inside the function is the backend's own error, as any other
    assert "tanh raised TypeError: object of type 'int' has no len()" in text


def _relu_with_alpha(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.maximum(x, alpha * x)


two_args = types.SimpleNamespace(relu=_relu_with_alpha, tanh=lambda x: len(5))


def test_a_wrong_vjp_signature_names_the_vjp_call() -> None:
    bad = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0),
                                vjp=lambda op, inputs: inputs)
    result = run(bad, ops=["relu"]).failures()[0]
    assert result.reason.startswith("vjp cannot be called as the contract calls it (TypeError: ")
    assert result.reason.endswith("nnspec calls vjp(op, inputs, attrs, cotangents), arguments "
                                  "by position (nnspec explain relu)")


# ---------------------------------------------------------------- friction: partial backends
def _conv2d_equal_strides(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Any,
                          padding: Any) -> np.ndarray:
    """The reference's conv2d, but only for equal strides per axis."""
    if stride[0] != stride[1]:
        raise NotImplementedError("unequal strides")
    return NUMPY.conv2d(x, w, b, stride, padding)


partial = types.SimpleNamespace(conv2d=_conv2d_equal_strides)


def test_property_mode_skips_the_drawn_cases_a_backend_lacks_and_goes_on() -> None:
    forward, _ = property_check(load_backend(partial), "conv2d", examples=30)
    assert forward.status == "pass"
    assert forward.skipped_examples > 0 and forward.examples > 0
    assert forward.examples + forward.skipped_examples == 30
    assert f"; {forward.skipped_examples} more skipped: not implemented: unequal strides)" in (
        forward.reason)
    report = run(partial, ops=["conv2d"], property=True, examples=30)
    row = report.table().splitlines()[2]
    # the drawn cases skipped, and the gradient check (partial has no conv2d_backward)
    assert f"pass {forward.examples}  0.0e+00 +{forward.skipped_examples + 1} skip" in row


def test_property_mode_skips_an_op_only_when_every_drawn_case_was() -> None:
    never = types.SimpleNamespace(conv2d=lambda *a: (_ for _ in ()).throw(
        NotImplementedError("not yet")))
    forward, _ = property_check(load_backend(never), "conv2d", examples=7)
    assert forward.status == "skip"
    assert forward.reason == "not implemented: not yet (every one of the 7 drawn cases)"


# ---------------------------------------------------------------- friction: progress
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_and_is_cleared() -> None:
    out = _Terminal()
    code = main(["run", "--ops", "relu"], out=out)
    text = out.getvalue()
    assert code == 0
    assert "\r\x1b[K0 checks done; running relu[forward-slide-neuron_weighted_sum_relu]" in text
    assert "\r\x1b[K11 checks done; running relu[forward-golden-04]" in text    # (its decoy,
    assert "\r\x1b[K11 checks done; running relu[gradient-golden-04]" in text   # then this,
    assert "\r\x1b[K12 checks done; running relu[forward-golden-04]" in text    # then this)
    table = text.index("op    forward")
    assert text[:table].endswith("\r\x1b[K\n")              # cleared before the table


def test_no_progress_when_not_a_terminal_or_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    code, text = nnspec("run", "--ops", "relu")
    assert code == 0 and "\r" not in text and "checks done" not in text
    monkeypatch.setenv("NO_COLOR", "1")      # (a terminal's colour and wrapping:
    monkeypatch.setenv("COLUMNS", "300")     # test_conformance_user_review)
    out = _Terminal()
    assert main(["run", "--ops", "relu", "-q"], out=out) == 0
    assert "\r" not in out.getvalue() and out.getvalue().startswith("PASSED: ")


# ---------------------------------------------------------------- the light install
BLOCKER = '''
import sys

BLOCKED = {BLOCKED}


class Block:
    """Test-only and optional packages are not installed (the light install)."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (light install)", name=name)
        return None


sys.meta_path.insert(0, Block())
'''
LIGHT_BLOCKED = {"jax", "jaxlib", "sympy", "mypy", "ruff", "pytest", "_pytest", "torch",
                 "xdist", "pytest_cov", "coverage", "hatchling"}


def test_the_cli_works_in_the_light_install(tmp_path: Path) -> None:
    """``pip install nnspec`` alone (numpy, hypothesis, threadpoolctl) checks a NumPy backend:
    the command never imports JAX, SymPy, mypy, ruff, pytest or torch. They are made
    unimportable in the command's process (and an isolated child's) by a meta-path finder."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER.format(BLOCKED=sorted(LIGHT_BLOCKED)))
    (tmp_path / "mynn.py").write_text(WRONG_RELU)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE"))}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])

    def nnspec_light(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "conformance", *argv], cwd=tmp_path,
                              env=env, capture_output=True, text=True, check=False, timeout=300)

    blocked = nnspec_light("run", "--backend", "torch")
    assert blocked.returncode == 2 and blocked.stderr == (
        "nnspec: error: backend 'torch' needs torch, which is not installed here (No module "
        "named 'torch'): pip install torch==2.13.0 (pinned: an unpinned torch pulls a multi-GB "
        "CUDA build; where that version is no CPU build, add --index-url "
        "https://download.pytorch.org/whl/cpu, as README.md's set-up says)\n")
    run_ = nnspec_light("run", "--backend", "mynn", "--ops", "relu,conv2d", "--property",
                        "--examples", "3", "--reproducers", "repro", "--json", "r.json",
                        "--junit", "r.xml", "--isolate")
    assert run_.returncode == 1 and run_.stderr == "", run_.stderr
    assert run_.stdout.splitlines()[-1].startswith("FAILED: mynn (version unknown), float64: ")
    assert (tmp_path / "repro" / "relu_forward.py").is_file() and (tmp_path / "r.xml").is_file()
    reference = nnspec_light("run", "--dtype", "float32", "-q")
    assert reference.returncode == 0 and reference.stdout.startswith("PASSED: numpy ")
    for argv in (["list"], ["explain", "lstm"]):
        done = nnspec_light(*argv)
        assert done.returncode == 0 and done.stderr == "", done.stderr


def test_the_readme_documents_the_light_install_next_to_the_full_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    full = readme.index('pip install torch==2.13.0 -e ".[dev')
    light = readme.index("**Light install, to check a backend only.**")
    assert full < light < readme.index("<!-- main-job:start -->")
    assert "pip install .                       # from the checkout" in readme


def test_a_shipped_adapter_without_its_framework_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real_import = __import__("importlib").import_module

    def import_module(name: str, package: str | None = None) -> Any:
        if name == "conformance.adapters.jax_backend":          # as without JAX installed
            raise ModuleNotFoundError("No module named 'jax'", name="jax")
        return real_import(name, package)

    monkeypatch.setattr("importlib.import_module", import_module)
    code, _ = nnspec("run", "--backend", "jax", "--ops", "relu")
    assert code == 2
    assert capsys.readouterr().err == ("nnspec: error: backend 'jax' needs jax, which is not "
                                       "installed here (No module named 'jax'): pip install "
                                       "jax\n")


def test_an_interrupted_isolated_run_stops_its_child_at_once() -> None:
    """Ctrl-C during a call in the child: the child (which leaves Ctrl-C to the parent) is
    killed at once, not asked to finish its call first."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # (see
    try:                                                   # _as_a_shell_starts_it)
        _interrupted_isolated_run()
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted_isolated_run() -> None:
    with Isolated("spec_tests.conformance_faults:sleeps") as backend:
        interrupt = threading.Timer(0.5, signal.pthread_kill,          # as Ctrl-C would
                                    (threading.main_thread().ident, signal.SIGINT))
        interrupt.start()
        start = time.perf_counter()
        report = run(backend, ops=["relu"], timeout=None, isolate=True)
        assert time.perf_counter() - start < 10.0             # not the 60 s sleep
        process = backend._process
        start = time.perf_counter()
        backend.close()
        assert time.perf_counter() - start < 2.0
    assert report.interrupted and process is not None and process.poll() is not None
