"""Tests of the pytest plugin (conformance.pytest_plugin, entry point pytest11): with
``--nnspec-backend`` the conformance cases are the test items (-k, -x, --lf and -n work);
without it the plugin adds nothing to a run. Inner runs use pytester in-process; one subprocess
runs ``pytest --nnspec-backend torch -n 2`` in the project itself."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import conformance.adapters.torch_backend  # noqa: F401 - see below
from conformance.runner import default_cases

# torch is imported here, outside the inner runs: pytester drops the modules an inner run
# imports, and torch's extension modules cannot be imported a second time in one process

pytestmark = pytest.mark.infrastructure
pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[1]
BUGGY = "conformance.examples.student_buggy"


def _checks(ops: list[str]) -> int:
    return sum(1 + c.has_gradient for c in default_cases(ops))


def test_without_the_option_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = pytester.runpytest_inprocess("-q")
    result.assert_outcomes(passed=1)
    assert "nnspec" not in result.stdout.str()
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, conformance.pytest_plugin; "
                               "print(sorted(m for m in ('numpy', 'conformance.runner', "
                               "'hypothesis') if m in sys.modules))"],
        capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"                 # importing the plugin costs nothing


def test_k_selects_the_cases_of_one_op(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--nnspec-backend", "torch", "--nnspec-ops",
                                          "conv2d,relu", "-k", "conv2d", "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if line.startswith("nnspec::")]
    assert len(ids) == _checks(["conv2d"]) and "nnspec::conv2d[forward-golden-07]" in ids
    assert all(i.startswith("nnspec::conv2d[") for i in ids)


@pytest.mark.parametrize(("option", "message"), [
    (["--nnspec-backend", "nope"], "ERROR: --nnspec-backend: unknown backend 'nope'"),
    (["--nnspec-backend", "torch", "--nnspec-ops", "conv3d"],
     "ERROR: --nnspec-ops: unknown op(s) conv3d"),
    (["--nnspec-backend", "torch", "--nnspec-require=relu,conv3d"],
     "ERROR: --nnspec-require: unknown op(s) conv3d"),
])
def test_unknown_backends_and_ops_are_usage_errors(pytester: pytest.Pytester, option: list[str],
                                                   message: str) -> None:
    result = pytester.runpytest_inprocess(*option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any(line.startswith(message) for line in result.errlines)


def test_the_cases_run_as_tests_and_test_files_do_not(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_theirs="def test_theirs():\n    raise AssertionError\n")
    pytester.mkpydir("sub").joinpath("conftest.py").write_text(
        "def pytest_collection_modifyitems(items):\n    raise RuntimeError('not for us')\n")
    result = pytester.runpytest_inprocess("--nnspec-backend", "torch", "--nnspec-ops",
                                          "relu,conv2d", "--nnspec-dtype", "float32")
    result.assert_outcomes(passed=_checks(["relu", "conv2d"]))


def test_failures_show_reason_and_diagnosis_and_x_stops_at_the_first(
        pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--nnspec-backend", BUGGY, "--nnspec-ops", "conv2d",
                                          "-x")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "FAIL conv2d[forward-slide-sobel_patch]: y: max abs error 4" in text
    assert "diagnosis: matches a true convolution (kernel flipped 180°)" in text


def test_last_failed_reruns_only_the_failures(pytester: pytest.Pytester) -> None:
    first = pytester.runpytest_inprocess("--nnspec-backend", BUGGY, "--nnspec-ops", "conv2d")
    first.assert_outcomes(failed=15, passed=_checks(["conv2d"]) - 15)
    again = pytester.runpytest_inprocess("--nnspec-backend", BUGGY, "--nnspec-ops", "conv2d",
                                         "--lf")
    again.assert_outcomes(failed=15, deselected=_checks(["conv2d"]) - 15)


def test_property_items_and_skips(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(
        "--nnspec-backend", BUGGY, "--nnspec-ops", "conv2d,sigmoid", "--nnspec-property",
        "--nnspec-examples", "20", "-k", "property", "-rs", "--nnspec-timeout", "5")
    result.assert_outcomes(failed=1, skipped=1)
    text = result.stdout.str()
    assert "FAIL conv2d[forward-property-seed-0]" in text and "reproducer:" in text
    assert f"not implemented: {BUGGY} has no sigmoid" in text


def test_required_ops_fail_and_isolated_backends_run_in_a_child(
        pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--nnspec-backend", "conformance.examples.student",
                                          "--nnspec-ops", "relu,tanh", "--nnspec-require",
                                          "--nnspec-isolate", "--nnspec-timeout", "0")
    result.assert_outcomes(passed=_checks(["relu"]), failed=_checks(["tanh"]))


def test_require_takes_an_optional_list_of_ops_as_nnspec_run_does(
        pytester: pytest.Pytester) -> None:
    """--nnspec-require=OPS fails the missing checks of OPS only; the others stay skips."""
    result = pytester.runpytest_inprocess("--nnspec-backend", "conformance.examples.student",
                                          "--nnspec-ops", "relu,tanh,sigmoid",
                                          "--nnspec-require=tanh")
    result.assert_outcomes(passed=_checks(["relu"]), failed=_checks(["tanh"]),
                           skipped=_checks(["sigmoid"]))
    result = pytester.runpytest_inprocess("--nnspec-backend", "conformance.examples.student",
                                          "--nnspec-ops", "tanh,sigmoid", "--nnspec-property",
                                          "--nnspec-examples", "2", "-k", "property",
                                          "--nnspec-require", "sigmoid")
    result.assert_outcomes(failed=1, skipped=1)
    assert "has no sigmoid (required)" in result.stdout.str()


def test_xdist_runs_the_cases_in_the_project_itself() -> None:
    """``pytest --nnspec-backend torch -n 2`` from the checkout: the spec suite's own tests and
    its conftest stay out; every case passes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nnspec-backend", "torch", "-n",
                           "2", "-p", "no:cacheprovider", "-q"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1].startswith(f"{_checks(list_ops())} passed")


def list_ops() -> list[str]:
    from conformance.contract import OPS

    return list(OPS)


def test_the_xdist_controller_collects_nothing_itself() -> None:
    from conformance.pytest_plugin import NnspecSession

    class Manager:
        def has_plugin(self, name: str) -> bool:
            return name == "dsession"

    config = types.SimpleNamespace(pluginmanager=Manager())
    assert NnspecSession(config).pytest_collection(session=None) is None  # type: ignore[arg-type]


def test_an_error_of_nnspec_itself_shows_as_a_plain_traceback(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import conformance.pytest_plugin as P\n"
        "def pytest_configure(config):\n"
        "    P.NnspecSession.check = lambda self, case, check: 1 / 0\n")
    result = pytester.runpytest_inprocess("--nnspec-backend", "torch", "--nnspec-ops", "step",
                                          "-x", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "ZeroDivisionError" in result.stdout.str()


def test_the_plugin_and_the_package_import_lazily() -> None:
    """Reloaded here (pytest imported them before coverage could watch): the package's names
    resolve on first use; an unknown one is an AttributeError."""
    import conformance
    import conformance.pytest_plugin

    importlib.reload(conformance)
    importlib.reload(conformance.pytest_plugin)
    from conformance.runner import run

    assert conformance.run is run
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        conformance.nope
