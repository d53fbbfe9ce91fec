"""Tests of the isolated mode (conformance.isolation.Isolated, ``nnspec run --isolate``): the
backend runs in a child process, so a segfault, an abort or a hang fails one check and the run
goes on in a fresh child. The faulty backends are in spec_tests/conformance_faults.py."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance.backends import BackendError, import_path
from conformance.cli import main
from conformance.isolation import Isolated, _describe_exit
from conformance.runner import open_backend, run
from spec_tests import conformance_faults

pytestmark = [pytest.mark.infrastructure,
              pytest.mark.skipif(sys.platform == "win32", reason="--isolate needs POSIX")]

FAULTS = "spec_tests.conformance_faults"


@pytest.mark.parametrize(("name", "how"), [
    ("segfaults", "killed by SIGSEGV (Segmentation fault)"),
    ("aborts", "killed by SIGABRT (Aborted)"),
    ("exits_hard", "exited with status 3"),
])
def test_a_crash_fails_one_check_and_the_run_goes_on_in_a_new_process(name: str,
                                                                       how: str) -> None:
    report = run(f"{FAULTS}:{name}", ops=["relu", "tanh"], isolate=True)
    assert [r.id for r in report.failures()] == ["relu[forward-golden-03]"]
    assert report.failures()[0].reason == (f"relu crashed its process: {how}; the run goes on "
                                           f"in a new one")
    assert report.passed == len(report.results) - 1          # every other check, tanh too
    assert report.backend == f"{FAULTS}:{name}" and report.backend_version == "unknown"


def test_a_hang_is_killed_at_the_timeout() -> None:
    with Isolated(f"{FAULTS}:sleeps") as backend:
        report = run(backend, ops=["relu"], timeout=0.3, isolate=True)
        assert backend.restarts == 1
    assert [r.reason for r in report.failures()] == [
        "relu timed out after 0.3 s (its process was killed; --timeout changes the limit)"]
    assert report.passed == len(report.results) - 1


def test_the_child_reports_what_the_backend_implements() -> None:
    with Isolated("numpy") as backend:
        assert backend.name == "numpy" and backend.forward_fn("conv2d")
        assert backend.gradient_style("conv2d") == "backward"
        outcome = backend.invoke("relu", "forward", {"x": np.array([-1.0, 2.0])}, {}, {})
        assert outcome.status == "ok" and outcome.values is not None
        assert outcome.values["y"].tolist() == [0.0, 2.0]


def test_backends_given_as_objects_are_isolated_by_where_they_live() -> None:
    with open_backend(conformance_faults.raises, isolate=True) as backend:   # type: ignore[union-attr]
        assert backend.target == f"{FAULTS}:raises"
    with pytest.raises(BackendError, match="isolate=True needs a backend the child process can "
                                           "import"):
        open_backend(type("Local", (), {})(), isolate=True)


def test_backends_that_cannot_load_in_the_child_are_loading_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "crashes_on_import.py").write_text("import os\nos.abort()\n")
    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(30)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(BackendError, match="cannot load backend 'no_such.module' in its "
                                           "process: BackendError: cannot import"):
        Isolated("no_such.module")
    with pytest.raises(BackendError, match="'crashes_on_import:b' crashed while loading in its "
                                           "process \\(killed by SIGABRT"):
        Isolated("crashes_on_import:b")
    with pytest.raises(BackendError, match="'slow_to_import:b' did not load within 0.3 s"):
        Isolated("slow_to_import:b", start_timeout=0.3)


def test_the_cli_isolates_on_request() -> None:
    out = io.StringIO()
    code = main(["run", "--backend", f"{FAULTS}:segfaults", "--ops", "relu", "--isolate", "-q"],
                out=out)
    assert code == 1 and " 1 failed, 0 skipped" in out.getvalue()


def test_exits_are_described_by_signal_name_or_status() -> None:
    assert _describe_exit(-9) == "killed by SIGKILL (Killed)"
    assert _describe_exit(-99) == "killed by signal 99"
    assert _describe_exit(0) == "exited with status 0"


def test_modules_are_found_by_their_own_name() -> None:
    from conformance.examples import student

    assert import_path(student) == "conformance.examples.student"
    assert import_path(object()) is None
