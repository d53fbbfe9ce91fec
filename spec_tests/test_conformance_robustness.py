"""Tests of the harness's robustness: a backend that raises, returns None, a list, the wrong shape
or dtype, nan or inf, modifies its inputs or hangs fails that check with a one-line reason, and
the run goes on (conformance.isolation, conformance.runner). One purpose-built backend per fault
(spec_tests/conformance_faults.py); each breaks relu and keeps tanh right."""

from __future__ import annotations

import signal
import threading
import time
import types
from typing import Any

import numpy as np
import pytest

from conformance.backends import load_backend
from conformance.isolation import DEFAULT_TIMEOUT, CallTimeout, deadline, deadlines, invoke
from conformance.report import Report
from conformance.runner import run
from spec_tests import conformance_faults as faults

pytestmark = pytest.mark.infrastructure

NO_MUTATION = "(nothing may change its inputs: convention.no-mutation)"


def _checked(backend: Any, **options: Any) -> tuple[Report, dict[str, Any]]:
    report = run(backend, ops=["relu", "tanh"], **options)
    return report, {r.id: r for r in report.results}


def _the_run_went_on(report: Report) -> None:
    tanh = [r for r in report.results if r.case.op == "tanh"]
    assert len(tanh) == 10 and all(r.status == "pass" for r in tanh)   # 5 cases × 2 checks


@pytest.mark.parametrize(("backend", "check", "reason"), [
    (faults.raises, "forward", "relu raised RuntimeError: boom (spec_tests/conformance_faults.py, "
     f"line {faults._raise.__code__.co_firstlineno + 1})"),
    (faults.exits, "forward", "relu raised SystemExit: 3 (spec_tests/conformance_faults.py, line "
     f"{faults._exit.__code__.co_firstlineno + 1})"),
    (faults.returns_none, "forward", "relu returned None"),
    (faults.returns_list, "forward",
     "relu returned a list, not an array (return np.asarray(...) of it)"),
    (faults.returns_string, "forward", "relu returned a str, not an array"),
    (faults.wrong_shape, "forward", "y: shape (1,), but should be (3, 4)"),
    (faults.returns_float32, "forward", "y: dtype float32 in a float64 run (a float64 run "
     "checks float64 arithmetic: compute in float64 and return it)"),
    (faults.returns_integers, "forward", "y: dtype int64, expected float64"),
    (faults.non_finite, "forward",
     "y: 1 nan and 1 inf where finite values are expected (first at index (0, 0))"),
    (faults.mutates_input, "forward", f"relu modified its input x in place {NO_MUTATION}"),
    (faults.mutates_upstream, "gradient",
     f"relu_backward modified its input dy in place {NO_MUTATION}"),
], ids=["raises", "exits", "None", "list", "str", "shape", "float32", "int64", "nan-inf",
        "mutates-x", "mutates-dy"])
def test_a_broken_backend_fails_that_check_with_one_line_and_the_run_goes_on(
        backend: Any, check: str, reason: str) -> None:
    report, results = _checked(backend)
    result = results[f"relu[{check}-golden-02]"]             # x [3, 4]
    assert result.status == "fail" and result.reason == reason
    assert "\n" not in result.reason
    _the_run_went_on(report)


@pytest.mark.parametrize("backend", [faults.sleeps, faults.spins], ids=["sleeps", "spins"])
def test_a_hanging_backend_times_out_on_that_case_only(backend: Any) -> None:
    """The limit interrupts a sleep and a busy loop that swallows every Exception."""
    start = time.perf_counter()
    report, results = _checked(backend, timeout=0.2)
    assert time.perf_counter() - start < 5
    hung = results["relu[forward-golden-03]"]               # the one 3-D case
    assert hung.status == "timeout"
    assert hung.reason == "relu timed out after 0.2 s (the limit per call; --timeout changes it)"
    assert report.failures() == []                           # a timeout is no wrong result
    assert report.problems()[0].id == "relu[forward-golden-03]"
    # the op's later checks are not run (each would wait as long), at once; tanh goes on; the
    # case's own gradient check comes after a forward of other values of its shapes (which
    # hung: the forward's timeout) and is not run either
    relu = [r for r in report.results if r.case.op == "relu"]
    later = [r for r in relu[relu.index(hung) + 1:]]
    assert results["relu[gradient-golden-03]"] in later
    assert later and all(r.status == "timeout" and r.reason == (
        "not run: relu[forward-golden-03] timed out, and each of relu's checks would wait as "
        "long") for r in later)
    assert not report.ok and "timed out" in report.summary()
    _the_run_went_on(report)


def test_the_default_timeout_is_ten_seconds_and_none_switches_it_off() -> None:
    assert DEFAULT_TIMEOUT == 10.0
    bound = load_backend(faults.raises)
    outcome = invoke(bound, "tanh", "forward", {"x": np.zeros(2)}, {}, {}, timeout=None)
    assert outcome.status == "ok" and outcome.values is not None


def test_the_timer_is_only_armed_in_the_main_thread() -> None:
    """Elsewhere SIGALRM cannot reach the call: it runs unlimited (--isolate limits it)."""
    seen: list[str] = []

    def call() -> None:
        with deadline(0.01):
            time.sleep(0.05)
        seen.append("finished")

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert seen == ["finished"]
    with pytest.raises(CallTimeout), deadline(0.01):
        time.sleep(1)


def _own_handler(signum: int, frame: Any) -> None:
    raise AssertionError("the caller's SIGALRM handler ran")


def test_a_block_of_deadlines_installs_the_handler_once_and_restores_the_callers() -> None:
    """Within ``deadlines`` each call is still timed out on its own, and its timer cleared
    after it; the caller's own SIGALRM handler is back after the block, as after a lone
    deadline, and a nested block changes nothing."""
    previous = signal.signal(signal.SIGALRM, _own_handler)
    try:
        with deadline(1.0):
            assert signal.getsignal(signal.SIGALRM) is not _own_handler
        assert signal.getsignal(signal.SIGALRM) is _own_handler
        with deadlines():
            held = signal.getsignal(signal.SIGALRM)
            assert held is not _own_handler
            for _ in range(2):
                with pytest.raises(CallTimeout), deadline(0.01):
                    time.sleep(1)
                assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
                assert signal.getsignal(signal.SIGALRM) is held       # still installed
            with deadlines(), deadline(5.0):
                assert 4.0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 5.0
            assert signal.getsignal(signal.SIGALRM) is held
        assert signal.getsignal(signal.SIGALRM) is _own_handler
        between: list[Any] = []                   # a run holds it too, between its calls
        report = run(faults.raises, ops=["tanh"],
                     before=lambda case, check: between.append(signal.getsignal(signal.SIGALRM)))
        assert report.passed and len(between) > 1 and _own_handler not in between
        assert signal.getsignal(signal.SIGALRM) is _own_handler
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_the_float32_returning_backend_is_also_diagnosed() -> None:
    _, results = _checked(faults.returns_float32)
    assert results["relu[forward-golden-02]"].diagnosis == (
        "matches float32 arithmetic (returned float32 arrays): a float64 run expects the "
        "backend to compute in float64 throughout [breaks convention.float64]")


def test_a_float32_run_wants_float32_results_and_float64_ones_fail_it() -> None:
    """A float32 run exists to check float32 arithmetic: float64 results (computed in float64,
    as a backend that upcasts does) fail it, right values or not; float32 results pass. The
    numpy backend, the oracle, rounds the reference's float64 results to float32."""
    assert run(faults.returns_float32, ops=["relu"], dtype="float32").ok
    upcast = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0).astype(np.float64))
    report = run(upcast, ops=["relu"], dtype="float32")
    assert report.passed == 0 and report.failed == 8           # the forward checks
    assert report.failures()[0].reason == (
        "y: dtype float64 in a float32 run (a float32 run checks float32 arithmetic: compute in "
        "float32 and return it)")
    reference = run("numpy", ops=["relu", "conv2d", "lstm"], dtype="float32")
    assert reference.ok and reference.passed == len(reference.results)


def test_a_lower_precision_dtype_fails_even_with_right_values_and_is_not_explained() -> None:
    report = run(faults.step_in_float16, ops=["step"], dtype="float32")
    result = next(r for r in report.failures() if r.id == "step[forward-golden-02]")
    assert result.reason == ("y: dtype float16 in a float32 run (a float32 run checks float32 "
                             "arithmetic: compute in float32 and return it)")
    assert result.diagnosis is not None and result.diagnosis.startswith("unknown: ")
