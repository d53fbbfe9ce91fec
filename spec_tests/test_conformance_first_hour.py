"""The first hour of a new user (issue 12): the edges met first, each as the user meets it.

A folder holding only the user's ``mynn.py``, the ``nnspec`` command and pytest run there: loading
the backend (by name, by path; broken in every way a newcomer breaks it), reproducers that import
it, reports written where asked, options refused with plain words.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.cli import main

pytestmark = pytest.mark.infrastructure
pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[1]
RELU = "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(x, 0.0)\n"
WRONG_RELU = "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(x, 0.0) + 1e-3\n"


def nnspec(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder as the current directory, not on sys.path (as for a console script,
    whose sys.path holds its own folder, not the current one)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    return tmp_path


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
