"""Tests of conformance.runner: statuses, reasons, partial backends, and that the cases catch the
well-known mistakes (flipped kernels, swapped gates, sum for mean, float32 in a float64 run)."""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pytest

from conformance import runner as R
from conformance.backends import load_backend
from conformance.cases import Case, golden_cases
from conformance.report import Result
from conformance.runner import default_cases, run, run_case

pytestmark = pytest.mark.infrastructure

TORCH = load_backend("torch").obj


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _failed(report: Any) -> set[str]:
    return {r.id for r in report.failures()}


# ---------------------------------------------------------------- statuses and reasons
def test_a_partial_backend_is_skipped_where_it_has_nothing() -> None:
    partial = types.SimpleNamespace(relu=_relu)
    report = run(partial, ops=["relu", "sigmoid"])
    by_status = {s: {r.case.op for r in report.results if r.status == s}
                 for s in ("pass", "fail", "skip")}
    # relu's forward passes; its gradient and all of sigmoid are not implemented
    assert by_status == {"pass": {"relu"}, "fail": set(), "skip": {"relu", "sigmoid"}}
    assert report.ok
    skip = next(r for r in report.results if r.case.op == "sigmoid")
    assert skip.reason == "not implemented: SimpleNamespace has no sigmoid"


@pytest.mark.parametrize("require", [["sigmoid"], True, "all", "sigmoid"])
def test_required_ops_fail_when_missing(require: Any) -> None:
    report = run(types.SimpleNamespace(relu=_relu, relu_backward=lambda dy, x: dy * (x > 0)),
                 ops=["relu", "sigmoid"], require=require)
    assert not report.ok
    assert {r.case.op for r in report.failures()} == {"sigmoid"}
    assert all(r.reason.endswith("(required)") for r in report.failures())
    assert report.required == ["sigmoid"] if require in (["sigmoid"], "sigmoid") else [
        "relu", "sigmoid"]


def test_a_backend_that_raises_fails_that_case_and_the_run_goes_on() -> None:
    def relu(x: np.ndarray) -> np.ndarray:
        if x.ndim == 3:
            raise RuntimeError("boom\nsecond line")
        return _relu(x)

    def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    seen: list[Result] = []
    report = run(types.SimpleNamespace(relu=relu, relu_backward=relu_backward), ops=["relu"],
                 progress=seen.append)
    assert seen == report.results
    failed = report.failures()
    assert [r.id for r in failed] == ["relu[forward-golden-03]"]
    assert failed[0].reason == (f"relu raised RuntimeError: boom (spec_tests/"
                                f"test_conformance_runner.py, line "
                                f"{relu.__code__.co_firstlineno + 2})")   # the raise's line
    gradient = [r for r in report.results if r.check == "gradient"]
    assert {r.status for r in gradient} == {"skip"}
    assert gradient[0].reason == "not implemented: SimpleNamespace does not implement relu " \
                                 "(gradient)"


def test_an_exception_without_a_message_is_named() -> None:
    def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise KeyError

    results = run_case(load_backend(types.SimpleNamespace(relu=_relu, relu_backward=relu_backward)),
                       golden_cases(["relu"])[0])
    assert results[1].reason == (f"relu_backward raised KeyError (spec_tests/"
                                 f"test_conformance_runner.py, line "
                                 f"{relu_backward.__code__.co_firstlineno + 1})")


def test_a_result_reports_achieved_error_and_worst_element_even_when_passing() -> None:
    result = run_case(load_backend("torch"), golden_cases(["conv2d"])[0])[0]
    assert result.status == "pass" and result.tolerance is not None
    assert result.max_abs_error is not None and result.max_abs_error <= result.tolerance.atol * 10
    assert result.error_ratio is not None and result.error_ratio <= 1
    assert result.worst_array == "y" and result.worst_index is not None
    assert "within rtol=" in result.reason


def test_the_wrong_shape_is_a_failure_with_its_reason() -> None:
    results = run_case(load_backend(types.SimpleNamespace(relu=lambda x: x.ravel()[:1])),
                       golden_cases(["relu"])[1])
    assert results[0].status == "fail"
    assert results[0].reason == "y: shape (1,), but should be (3, 4)"
    assert results[0].max_abs_error is None


def test_several_wrong_outputs_are_all_named() -> None:
    def rnn(*args: Any) -> tuple[np.ndarray, np.ndarray]:
        out, h_n = TORCH.rnn(*args)
        return out + 1, h_n + 1

    results = run_case(load_backend(types.SimpleNamespace(rnn=rnn)), golden_cases(["rnn"])[1])
    assert results[0].status == "fail"
    assert "(also wrong: h_n)" in results[0].reason or "(also wrong: out)" in results[0].reason


def test_case_tolerances_loosen_but_never_tighten() -> None:
    from reference.tolerance import Tolerance

    case = Case(op="relu", source="slide", name="t", inputs={"x": np.array([1.0])},
                expected={"y": np.array([1.0 + 1e-9])}, tolerance=Tolerance(1e-6, 1e-6))
    (result,) = run_case(load_backend("numpy"), case)
    assert result.status == "pass" and result.tolerance == Tolerance(1e-6, 1e-6)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="ops: unknown op\\(s\\) conv3d"):
        run("numpy", ops=["conv3d"])
    with pytest.raises(ValueError, match="require: unknown op\\(s\\) nope"):
        run("numpy", ops=["relu"], require=["nope"])
    with pytest.raises(ValueError, match="dtype must be one of float64, float32, got float16"):
        run("numpy", dtype="float16")


def test_given_cases_are_filtered_by_op_and_seeds_survive_a_missing_manifest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cases = golden_cases(["relu", "tanh"])
    monkeypatch.setattr(R, "golden_manifest", lambda: (_ for _ in ()).throw(FileNotFoundError))
    report = run("numpy", ops=["tanh"], cases=cases)
    assert {r.case.op for r in report.results} == {"tanh"}
    assert report.seeds == {"golden": None}


def test_default_cases_put_slides_first_within_each_op() -> None:
    cases = default_cases(["conv2d", "step"])
    assert cases[0].op == "step"
    conv = [c.source for c in cases if c.op == "conv2d"]
    assert conv == sorted(conv, key=["slide", "golden"].index)


# ---------------------------------------------------------------- the cases catch mistakes
def test_a_true_convolution_fails_sobel_and_the_golden_cases() -> None:
    """A flipped kernel (convolution, not correlation) cannot pass the asymmetric kernels."""
    def conv2d(x: np.ndarray, w: np.ndarray, *rest: Any) -> np.ndarray:
        return TORCH.conv2d(x, np.ascontiguousarray(w[..., ::-1, ::-1]), *rest)

    report = run(types.SimpleNamespace(conv2d=conv2d), ops=["conv2d"])
    failed = _failed(report)
    assert "conv2d[forward-slide-sobel_patch]" in failed
    golden = [r for r in report.results if r.case.source == "golden" and r.check == "forward"]
    one_by_one = {r.id for r in golden if r.case.inputs["w"].shape[2:] == (1, 1)}
    assert {r.id for r in golden} - one_by_one <= failed     # every kernel bigger than 1×1


def test_swapped_lstm_gates_fail() -> None:
    """Distinct random weights per gate: the order i, f, g, o cannot be confused with f, i, g, o."""
    def lstm(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, *weights: np.ndarray) -> Any:
        h = h0.shape[1]
        order = np.r_[h:2 * h, 0:h, 2 * h:4 * h]                 # reads i as f and f as i
        return TORCH.lstm(x, h0, c0, *(w[order] for w in weights))

    report = run(types.SimpleNamespace(lstm=lstm), ops=["lstm"])
    forward = [r for r in report.results if r.check == "forward"]
    assert forward and all(r.status == "fail" for r in forward)


def test_last_maximum_on_ties_fails_only_the_tie_case() -> None:
    def vjp(op: str, inputs: tuple[np.ndarray, ...], attrs: dict[str, Any],
            cotangents: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        flip = (slice(None), slice(None), slice(None, None, -1), slice(None, None, -1))
        (dx,) = TORCH.vjp(op, (inputs[0][flip].copy(),), attrs, (cotangents[0][flip].copy(),))
        return (dx[flip],)

    report = run(types.SimpleNamespace(max_pool2d=TORCH.max_pool2d, vjp=vjp),
                 ops=["max_pool2d"], cases=[c for c in golden_cases(["max_pool2d"])
                                            if c.attrs["kernel_size"] == (2, 2)])
    assert [r.case.about.split(":")[1].strip()[:4] for r in report.failures()] == ["tied"]


def test_a_summed_cross_entropy_fails_except_for_one_row() -> None:
    def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return TORCH.cross_entropy(logits, targets) * len(targets)

    report = run(types.SimpleNamespace(cross_entropy=cross_entropy), ops=["cross_entropy"])
    assert {r.case.inputs["logits"].shape[0] for r in report.failures()} == {3, 4, 7}
    assert report.passed == 1


def test_a_float32_backend_fails_a_float64_run_and_passes_a_float32_run() -> None:
    def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        f32 = np.float32
        return TORCH.linear(x.astype(f32), w.astype(f32), b.astype(f32)).astype(x.dtype)

    backend = types.SimpleNamespace(linear=linear)
    assert not run(backend, ops=["linear"], dtype="float64").ok
    assert run(backend, ops=["linear"], dtype="float32").ok


# ---------------------------------------------------------------- the harness does not lie
# (gaps a mutation review of the harness found: each test fails if the harness skips the part)
def _last_doubled(op: str, forward: bool) -> types.SimpleNamespace:
    """torch's op with its LAST output (forward) or LAST gradient (vjp) doubled."""
    def fwd(*args: Any) -> Any:
        out = getattr(TORCH, op)(*args)
        return (*out[:-1], 2 * out[-1]) if forward else out

    def vjp(name: str, inputs: Any, attrs: Any, cots: Any) -> Any:
        grads = TORCH.vjp(name, inputs, attrs, cots)
        return grads if forward else (*grads[:-1], 2 * grads[-1])
    return types.SimpleNamespace(**{op: fwd, "vjp": vjp})


@pytest.mark.parametrize(("op", "forward"), [("linear", False), ("conv2d", False),
                                             ("rnn", False), ("lstm", False), ("gru", False),
                                             ("rnn", True), ("lstm", True), ("gru", True)])
def test_every_output_and_every_gradient_is_judged_the_last_included(op: str,
                                                                     forward: bool) -> None:
    check = "forward" if forward else "gradient"
    results = [r for r in run(_last_doubled(op, forward), ops=[op]).results if r.check == check]
    from conformance.contract import op_spec

    spec = op_spec(op)
    last = spec.outputs[-1].name if forward else spec.differentiable[-1].name
    for r in results:
        expected = (r.case.expected if forward else r.case.expected_grads) or {}
        if np.any(expected[last] != 0):
            assert r.status == "fail" and f"{'' if forward else 'd'}{last}:" in r.reason, r.line()
    assert any(r.status == "fail" for r in results)


def test_a_float32_run_hands_the_backend_float32_arrays_and_int64_ids() -> None:
    seen: dict[str, set[str]] = {"x": set(), "dy": set(), "ids": set(), "E": set()}

    def relu(x: np.ndarray) -> np.ndarray:
        seen["x"].add(x.dtype.name)
        return np.maximum(x, 0)

    def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        seen["dy"].add(dy.dtype.name)
        return dy * (x > 0)

    def embedding(ids: np.ndarray, E: np.ndarray) -> np.ndarray:
        seen["ids"].add(ids.dtype.name)
        seen["E"].add(E.dtype.name)
        return E[ids]

    backend = types.SimpleNamespace(relu=relu, relu_backward=relu_backward, embedding=embedding)
    assert run(backend, ops=["relu", "embedding"], dtype="float32").failed == 0
    assert seen == {"x": {"float32"}, "dy": {"float32"}, "ids": {"int64"}, "E": {"float32"}}


def test_a_backend_that_changes_its_inputs_cannot_corrupt_the_cases_for_the_next_run() -> None:
    def tanh(x: np.ndarray) -> np.ndarray:
        y = np.tanh(x)
        x *= 2.0                                 # in place: the harness must hand it a copy
        return y

    report = run(types.SimpleNamespace(tanh=tanh), ops=["tanh"])
    assert report.failed and all("modified its input" in r.reason for r in report.failures())
    assert run("numpy", ops=["tanh"]).failed == 0                  # the cases are intact


def test_the_reason_names_the_wrong_output_and_its_error_ratio_is_above_1() -> None:
    def rnn(*args: Any) -> Any:
        out, h_n = TORCH.rnn(*args)
        return out, h_n + 1.0                    # only h_n wrong

    failures = run(types.SimpleNamespace(rnn=rnn), ops=["rnn"]).failures()
    assert failures and all(r.reason.startswith("h_n: ") and r.worst_array == "h_n"
                            and (r.error_ratio or 0) > 1 for r in failures), failures[0].line()


def test_the_tolerance_of_a_check_is_the_policys_for_its_accumulation() -> None:
    from reference.tolerance import tolerance

    for dtype in ("float64", "float32"):
        report = run("torch", ops=["linear", "conv2d", "lstm"], dtype=dtype)
        for r in report.results:
            acc = r.case.accumulation()
            want = tolerance(dtype, terms=acc.terms_of(r.check), depth=acc.depth,
                             gradient=r.check == "gradient")
            if r.case.tolerance is not None:         # a slide's own may only loosen it
                want = type(want)(max(want.rtol, r.case.tolerance.rtol),
                                  max(want.atol, r.case.tolerance.atol))
            assert r.tolerance == want, r.id


def test_property_mode_turns_missing_checks_into_failures_when_required() -> None:
    partial = types.SimpleNamespace(relu=_relu)                    # no gradient
    report = run(partial, ops=["relu"], property=True, examples=2, require=True)
    drawn = [r for r in report.results if r.case.source == "property"]
    assert [r.check for r in drawn] == ["forward", "gradient"]
    assert [r.status for r in drawn] == ["pass", "fail"]
