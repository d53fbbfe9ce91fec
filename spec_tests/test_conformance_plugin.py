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
    result = pytester.runpytest_inprocess("--nnspec-backend", "torch", "--nnspec-ops",
                                          "conv2d,relu", "-k", "nnspec and relu",
                                          "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if line.startswith("nnspec::")]
    assert len(ids) == _checks(["relu"])                 # "nnspec" is a keyword of every item


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


@pytest.mark.parametrize(("option", "message"), [
    (["--nnspec-property", "--nnspec-examples", "0"],
     "ERROR: --nnspec-examples: must be at least 1, got 0"),
    (["--nnspec-property", "--nnspec-examples", "-3"],
     "ERROR: --nnspec-examples: must be at least 1, got -3"),
    (["--nnspec-timeout", "-1"],
     "ERROR: --nnspec-timeout: must be at least 0 and finite (seconds; 0: no limit), got -1"),
    (["--nnspec-timeout", "inf"], "ERROR: --nnspec-timeout: must be at least 0 and finite"),
    (["--nnspec-examples", "5"], "ERROR: --nnspec-examples only applies with --nnspec-property "
                                 "(property mode draws the cases they choose and keep); add "
                                 "--nnspec-property or leave it out"),
    (["--nnspec-seed", "1", "--nnspec-examples", "5"],
     "ERROR: --nnspec-examples, --nnspec-seed only apply with --nnspec-property"),
    (["--nnspec-device", "cuda"], "ERROR: --nnspec-backend: backend "
                                  "'conformance.examples.student' has no device option (got "
                                  "--nnspec-device cuda)"),
], ids=["examples-0", "examples-negative", "timeout-negative", "timeout-inf",
        "examples-without-property", "two-without-property", "device-named-as-ours"])
def test_bad_option_values_are_usage_errors_as_with_nnspec_run(
        pytester: pytest.Pytester, option: list[str], message: str) -> None:
    """What ``nnspec run`` refuses (--examples below 1, property options without --property)
    is a usage error naming the option here too, rather than 100 examples for 0, a Hypothesis
    traceback for -3 or a timer error blamed on the backend for a negative timeout."""
    result = pytester.runpytest_inprocess("--nnspec-backend", "conformance.examples.student",
                                          "--nnspec-ops", "relu", *option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any(line.startswith(message) for line in result.errlines), result.errlines


@pytest.mark.parametrize(("options", "message"), [
    (["--nnspec-ops", "relu"], "ERROR: --nnspec-ops only applies with --nnspec-backend NAME (the "
                               "backend to check)"),
    (["--nnspec-dtype", "float32", "--nnspec-property"],
     "ERROR: --nnspec-dtype, --nnspec-property only apply with --nnspec-backend NAME"),
])
def test_nnspec_options_without_a_backend_are_usage_errors_not_ignored(
        pytester: pytest.Pytester, options: list[str], message: str) -> None:
    """Forgetting --nnspec-backend would otherwise run the project's own tests in silence."""
    pytester.makepyfile("def test_own():\n    pass\n")
    result = pytester.runpytest_inprocess(*options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any(line.startswith(message) for line in result.errlines), result.errlines
    assert pytester.runpytest_inprocess().ret == pytest.ExitCode.OK    # no options: untouched


@pytest.mark.parametrize("paths", ["none", "testpaths", "argument"])
def test_hooks_of_the_root_conftest_apply_and_fixtures_and_subfolder_conftests_do_not(
        pytester: pytest.Pytester, paths: str) -> None:
    """As the module docstring says: the rootdir's conftest hooks see the items however the run
    names its paths; its autouse fixture does not run; tests/conftest.py never sees them."""
    pytester.makeini("[pytest]\n" + ("testpaths = tests\n" if paths == "testpaths" else ""))
    pytester.makeconftest(
        "import pytest\n"
        "def pytest_collection_modifyitems(items):\n"
        "    del items[1:]\n"
        "def pytest_runtest_call(item):\n"
        "    pytest.skip(f'root conftest ran {item.name}')\n"
        "@pytest.fixture(autouse=True)\n"
        "def everywhere():\n"
        "    raise RuntimeError('an autouse fixture ran')\n")
    pytester.mkdir("tests").joinpath("conftest.py").write_text(
        "def pytest_collection_modifyitems(items):\n"
        "    raise RuntimeError('tests/conftest.py saw the items')\n"
        "def pytest_runtest_setup(item):\n"
        "    raise RuntimeError('tests/conftest.py saw an item')\n")
    args = ["tests"] if paths == "argument" else []
    result = pytester.runpytest_inprocess("--nnspec-backend", "torch", "--nnspec-ops", "relu",
                                          "-rs", *args)
    result.assert_outcomes(skipped=1)
    first = default_cases(["relu"])[0]
    assert f"root conftest ran relu[forward-{first.source}-{first.name}]" in result.stdout.str()


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


def test_a_timeout_names_the_plugins_option(pytester: pytest.Pytester) -> None:
    """The harness's reason says "--timeout changes it" (``nnspec run``'s option): the plugin
    names its own."""
    pytester.makepyfile(slow="import time\ndef relu(x):\n    time.sleep(5)\n    return x\n")
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("--nnspec-backend", "slow:", "--nnspec-ops", "relu",
                                          "--nnspec-timeout", "0.05", "-x")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert ("relu timed out after 0.3 s (its first call, allowed 6× the limit per call for "
            "compiling on first use; --nnspec-timeout changes it)") in text
    assert " --timeout" not in text


def test_an_error_of_nnspec_itself_shows_short_and_says_it_is_no_failed_check(
        pytester: pytest.Pytester) -> None:
    """An exception of the harness (not a failed check) shows its type and message, a line saying
    what it is, and the frames from the item's runtest on: none of pytest's or pluggy's (some
    900 lines of them before); --fulltrace still shows them."""
    pytester.makeconftest(
        "import conformance.checks as R\n"
        "def pytest_configure(config):\n"
        "    config.saved = R._invoke\n"
        "    R._invoke = lambda *args: 1 / 0\n"
        "def pytest_unconfigure(config):\n"
        "    R._invoke = config.saved\n")
    result = pytester.runpytest_inprocess("--nnspec-backend", "torch", "--nnspec-ops", "step",
                                          "-x", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert ("ZeroDivisionError: division by zero\n(an error of nnspec's harness or of its call "
            "of the backend, not a failed check; --fulltrace shows pytest's frames too)") in text
    assert "pytest_plugin.py:" in text and "checks.py:" in text and "in check_case" in text
    assert "pluggy" not in text.replace("pluggy-", "") and "_pytest" not in text
    failure = text[text.index("= FAILURES ="):text.index("short test summary info")]
    assert len(failure.splitlines()) < 30, failure          # (the header varies: CI's profile)
    full = pytester.runpytest_inprocess("--nnspec-backend", "torch", "--nnspec-ops", "step",
                                        "-x", "-p", "no:cacheprovider", "--fulltrace")
    assert "_pytest" in full.stdout.str()


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


def test_declared_conventions_and_expected_failures_work_in_the_plugin_too(
        pytester: pytest.Pytester) -> None:
    """torch sends a max-pool tie to the first maximum: declared "split" on the command line, the
    tie case fails (judged under the declaration); listed in --nnspec-xfail, it is an xfail
    item; and a listed check that passes fails its item (strict)."""
    args = ["--nnspec-backend", "torch", "--nnspec-ops", "max_pool2d", "-q", "-p",
            "no:cacheprovider"]
    declared = pytester.runpytest_inprocess(*args, "--nnspec-convention", "max_pool_ties=split")
    declared.assert_outcomes(passed=_checks(["max_pool2d"]) - 1, failed=1)
    assert any("FAIL max_pool2d[gradient-golden-07] (declared: max-pool ties split)" in line
               for line in declared.outlines)
    listed = pytester.makefile(".txt", xfail="max_pool2d[gradient-golden-07]  torch sends "
                                             "ties to the first maximum\n"
                                             "max_pool2d[forward-golden-01]  passes: strict\n")
    result = pytester.runpytest_inprocess(*args, "--nnspec-convention", "max_pool_ties=split",
                                          "--nnspec-xfail", str(listed))
    result.assert_outcomes(passed=_checks(["max_pool2d"]) - 2, failed=1, xfailed=1)
    assert any("XPASS max_pool2d[forward-golden-01]: passed, but" in line
               for line in result.outlines)
    bad = pytester.runpytest_inprocess(*args, "--nnspec-convention", "max_pool_ties=middle")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert any(line.startswith("ERROR: --nnspec-convention: convention max_pool_ties has no "
                               "variant 'middle'") for line in bad.errlines), bad.errlines


BUFFER = '''
import numpy as np
import torch

_dE = {}


def embedding(ids, E):
    return E[ids]


def embedding_backward(dy, ids, E):
    dE = _dE.setdefault(E.shape, np.zeros_like(E))      # kept between calls, never zeroed
    np.add.at(dE, ids.reshape(-1), dy.reshape(-1, E.shape[1]))
    return dE
'''


def test_a_gradient_item_runs_after_the_decoy_as_nnspec_run_does(
        pytester: pytest.Pytester) -> None:
    """Each gradient item is checked right after a forward and a backward of other values of
    its shapes, as in ``nnspec run``: a backward adding into a buffer kept between calls, and
    one reading what the last forward left, fail here too (each passed every item before)."""
    pytester.makepyfile(buffered=BUFFER)
    result = pytester.runpytest_inprocess("--nnspec-backend", "buffered", "--nnspec-ops",
                                          "embedding", "-q", "-p", "no:cacheprovider")
    gradients = sum(c.has_gradient for c in default_cases(["embedding"]))
    result.assert_outcomes(failed=gradients, passed=_checks(["embedding"]) - gradients)
    assert "keeps state between calls" in result.stdout.str()
    cached = pytester.runpytest_inprocess(
        "--nnspec-backend", "spec_tests.conformance_mistakes:sigmoid_layer_with_cache",
        "--nnspec-ops", "sigmoid", "-q", "-p", "no:cacheprovider")
    assert cached.ret == pytest.ExitCode.TESTS_FAILED
    assert "it reads what a forward call left" in cached.stdout.str()
