"""Tests of conformance.diagnosis: each well-known mistake, made on purpose by one backend
(spec_tests/conformance_mistakes.py), is named with the claim it breaks, on the forward and on
the gradient, and the run goes on; a failure no mistake explains says so plainly."""

from __future__ import annotations

import types
from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conformance.backends import load_backend
from conformance.cases import Case, complete
from conformance.checks import check_case
from conformance.diagnosis import MISTAKES, Context, _as_sizes, _factor, diagnose
from conformance.runner import default_cases, run, run_case
from reference.tolerance import Tolerance, tolerance
from spec_tests import conformance_mistakes as mistakes

pytestmark = pytest.mark.infrastructure

FLIPPED = ("matches a true convolution (kernel flipped 180°): nnspec's conv2d is "
           "cross-correlation, as in the Sobel example [breaks conv.kernel, "
           "convention.cross-correlation]")
W_HH = ("matches w_hh used transposed in every gate (h w_hh where nnspec, like PyTorch, "
        "computes w_hh h, i.e. h w_hhᵀ) [breaks rnn.cell]")
ONNX = ("matches the LSTM gates read in the order (i, o, f, g) (ONNX's i, o, f, c): nnspec, "
        "like PyTorch, stacks the gate weights as i, f, g, o [breaks lstm.slide, "
        "convention.gate-order]")
KERAS = ("matches the GRU gates read in the order (z, r, n) (Keras's and ONNX's z, r, h): "
         "nnspec, like PyTorch, stacks the gate weights as r, z, n [breaks gru, "
         "convention.gate-order]")
UPDATE = ("matches h' = z ∘ n + (1 − z) ∘ h (the update gate's roles swapped): nnspec, like "
          "PyTorch, computes h' = (1 − z) ∘ n + z ∘ h [breaks gru, convention.gru-reset-after]")
SQRT = ("matches Σ x² without the square root: L2 pooling keeps √(Σ x²) of each window "
        "[breaks pool.l2, convention.pooling]")
F32 = ("matches float32 arithmetic (errors the size of float32 rounding): a float64 run "
       "expects the backend to compute in float64 throughout [breaks convention.float64]")
SQRT_GRADIENT = ("matches the gradient of Σ x² without the square root, dx = 2x·dy: the root's "
                 "chain factor 1/(2y) left out (L2 pooling keeps √(Σ x²), whose dx is x·dy/y) "
                 "[breaks pool.l2, graph.backprop]")


def _avg(k: int) -> str:
    return (f"matches the window sum, not divided by the window size FH·FW = {k}: average "
            f"pooling keeps the mean of each window [breaks pool.avg, convention.pooling]")


CE_SUM = ("matches the sum over the N rows of the batch (N times the mean) (reduction='sum'), "
          "the convention cross_entropy_reduction=sum; the spec takes the mean over the N rows "
          "of the batch: if your backend does this by design, declare it (--convention "
          "cross_entropy_reduction=sum, or conventions = {'cross_entropy_reduction': 'sum'} on "
          "the backend) [breaks convention.ce-mean]")


def _padding(p: str) -> str:
    return (f"matches padding on one side only (2·P zeros after the end of each axis, none "
            f"before): nnspec pads P = {p} zeros on both sides of each axis [breaks "
            f"conv.padding]")


def _stride(s: str) -> str:
    return (f"matches stride 1 (the stride {s} is ignored): each window must move S elements "
            f"along each axis (the output cropped to the right size) [breaks conv.stride]")


def _diagnoses(backend: Any, op: str, **options: Any) -> dict[str, set[str | None]]:
    """check → the set of diagnoses of its failures; asserts the run checked every case."""
    report = run(backend, ops=[op], **options)
    assert len(report.results) == sum(1 + c.has_gradient for c in default_cases([op]))
    found: dict[str, set[str | None]] = {"forward": set(), "gradient": set()}
    for r in report.failures():
        found[r.check].add(r.diagnosis)
    return found


@pytest.mark.parametrize(("backend", "op", "forward", "gradient"), [
    (mistakes.flipped_kernel, "conv2d", {FLIPPED}, {FLIPPED}),
    (mistakes.transposed_recurrent_weight, "rnn", {W_HH}, {W_HH}),
    (mistakes.lstm_onnx_gate_order, "lstm", {ONNX}, {ONNX}),
    (mistakes.gru_keras_gate_order, "gru", {KERAS}, {KERAS}),
    (mistakes.gru_update_negated, "gru", {UPDATE}, {UPDATE}),
    (mistakes.gru_update_swapped, "gru", {UPDATE}, set()),           # forward only
    (mistakes.l2_pool_without_sqrt, "lp_pool2d", {SQRT}, {SQRT}),
    (mistakes.avg_pool_not_divided, "avg_pool2d", {_avg(k) for k in (4, 6, 9, 15)},
     {_avg(k) for k in (4, 6, 9, 15)}),
    (mistakes.cross_entropy_summed, "cross_entropy", {CE_SUM}, {CE_SUM}),
    (mistakes.one_sided_padding, "conv2d", {_padding(p) for p in ("(1, 1)", "(1, 0)",
                                                                   "(2, 1)", "(0, 1)")},
     {_padding(p) for p in ("(1, 1)", "(1, 0)", "(2, 1)", "(0, 1)")}),
    (mistakes.stride_ignored, "conv2d", {_stride(s) for s in ("(2, 2)", "(2, 1)", "(3, 3)",
                                                              "(1, 2)")},
     {_stride(s) for s in ("(2, 1)", "(3, 3)", "(1, 2)")}),
    (mistakes.float32_linear, "linear", {F32}, {F32}),
], ids=["flipped-kernel", "transposed-w_hh", "lstm-gate-order", "gru-gate-order",
        "gru-update-gate", "gru-update-numpy", "l2-without-sqrt", "avg-not-divided",
        "ce-sum-not-mean", "one-sided-padding", "stride-ignored", "float32"])
def test_each_well_known_mistake_is_named_on_forward_and_gradient(
        backend: Any, op: str, forward: set[str], gradient: set[str]) -> None:
    assert _diagnoses(backend, op) == {"forward": forward, "gradient": gradient}


@pytest.mark.parametrize(("backend", "op", "gradient"), [
    (mistakes.transposed_weight_gradient, "linear",
     {f"matches dw returned transposed: a weight's gradient has the weight's own shape ({s}) "
      f"[breaks ff.layers]" for s in ("[5, 3]", "[3, 7]", "[8, 16]",
                                       "[8, 20]", "[1, 8]")}),    # the last two: slides
    (mistakes.gradients_swapped, "linear",
     {"matches the gradient of the wrong argument (dx holds ∂/∂w, dw holds ∂/∂x): the backward "
      "returns the gradients in the order of the forward's arguments (dx, dw, db) [breaks "
      "graph.backprop, ff.layers]"}),
], ids=["dw-transposed", "wrong-argument"])
def test_gradient_mistakes_are_named_and_the_forward_still_passes(backend: Any, op: str,
                                                                  gradient: set[str]) -> None:
    assert _diagnoses(backend, op) == {"forward": set(), "gradient": gradient}


@pytest.mark.parametrize(("backend", "text"), [
    (mistakes.gradient_doubled, "scaled by a constant (dx × 2)"),
    (mistakes.gradient_sign_flipped, "with its sign flipped (dx × −1)"),
])
def test_a_gradient_scaled_by_a_constant_is_named_where_two_elements_can_tell(
        backend: Any, text: str) -> None:
    """A whole-number factor (or its inverse) is evidence even on one element (golden-04): a
    wrong value is next to never exactly twice the right one."""
    report = run(backend, ops=["relu"])
    by_id = {r.id: r.diagnosis for r in report.failures()}
    assert "relu[gradient-golden-04]" in by_id
    assert set(by_id.values()) == {f"matches the true gradient {text}: the backward has a "
                                   f"factor too many or too few [breaks graph.backprop, "
                                   f"act.relu]"}


def test_a_factor_that_is_no_whole_number_needs_many_elements() -> None:
    """× 1.37 on four elements is no evidence of a factor (any few numbers are nearly
    proportional to a few others); on eight or more it is."""
    from conformance.cases import complete
    from conformance.diagnosis import diagnose

    for n, named in ((4, False), (9, True)):
        case = complete(_case("relu", {"x": np.linspace(0.5, 2.0, n)}))
        got = {"y": 1.37 * np.asarray((case.expected or {})["y"])}
        found = diagnose(case, "forward", got, np.float64, tolerance(np.float64))
        assert bool(found.mistakes) is named, found.text
        if named:
            assert found.text.startswith("matches the true output scaled by a constant (y × 1.37)")


def test_expected_values_whose_squares_underflow_do_not_break_the_diagnosis() -> None:
    """Expected values near 1e-170 square to 0 in float64: the constant factor's least squares
    are computed on values scaled to 1 (they divided by 0, and the diagnosis of a softmax
    gradient expected all but 0 failed). Far-off values are no factor of them."""
    from conformance.cases import complete

    case = complete(_case("relu", {"x": np.linspace(1.0, 3.0, 9) * 1e-170}))
    got = {"y": np.asarray((case.expected or {})["y"]) + np.linspace(1.0, 2.0, 9) ** 2}
    found = diagnose(case, "forward", got, np.float64, tolerance(np.float64))
    assert found.text.startswith("unknown: no well-known mistake explains all of it"), found.text


def test_of_readings_with_the_same_numbers_the_one_explaining_every_case_is_named() -> None:
    """A window sum divided by the stride SH·SW is, with a stride of 1, the sum not divided at
    all, and with a stride of 2 × 1 and a window 2 high, the sum divided by FH: every failing
    case names the reading they all share, none "on this case only" (each case named its own
    coincidence, as though the backend did not divide, or divided by FH)."""
    found = _diagnoses(mistakes.avg_pool_divided_by_stride, "avg_pool2d")
    texts = found["forward"] | found["gradient"]
    assert found["forward"] and found["gradient"] and all(
        str(t).startswith("matches the window sum divided by the stride's SH·SW (")
        and "on this case only" not in str(t) and "FH only" not in str(t)
        and "not divided" not in str(t) for t in texts), texts
    assert {str(t).split("(")[1].split(")")[0] for t in texts} >= {"1", "2"}, texts


def test_a_symptom_shared_by_every_case_wins_over_a_coincidence_of_one() -> None:
    """dc0 never filled in: on a one-step case that is also an LSTM backward without the cell
    path (c0's gradient flows only through it), but "all zeros" explains every failing case,
    so it is named on all of them and nothing is "on this case only"."""
    found = _diagnoses(mistakes.lstm_dc0_zero, "lstm")
    assert found["forward"] == set() and found["gradient"]
    assert all(str(t).startswith("returns all zeros: dc0 is entirely 0 where the true gradient")
               and "cell path" not in str(t) and "on this case only" not in str(t)
               for t in found["gradient"]), found["gradient"]


def test_softmax_shifted_by_the_whole_batchs_max_is_named_as_underflow_not_overflow() -> None:
    """Rows far below the batch's largest value underflow to 0/0: nothing overflows, so the
    diagnosis must not send the student looking for a shift that is there."""
    with np.errstate(all="ignore"):
        found = _diagnoses(mistakes.softmax_shifted_by_whole_max, "softmax")
    texts = found["forward"] | found["gradient"]
    assert found["forward"] and found["gradient"] and all(str(t).startswith(
        "matches softmax shifted by the largest value of the whole array (x − max x) instead of "
        "each row's own: in a row that lies more than about 744 below it every exp underflows "
        "to 0, and 0/0 is nan") and "overflow" not in str(t) for t in texts), texts


def test_a_factor_that_is_a_size_of_the_case_says_which() -> None:
    """dw and db divided by the batch size: the factor 1/N is read as 1/N wherever N ≥ 3 (a 2 is
    too often something else), and the reading is the same on every case (nothing "on this
    case only")."""
    report = run(mistakes.linear_parameter_gradients_averaged, ops=["linear"])
    failures = [r for r in report.failures() if r.check == "gradient"]
    assert failures and all(r.check == "gradient" for r in report.failures())
    for r in failures:
        n = len(r.case.inputs["x"])
        text = str(r.diagnosis)
        assert text.startswith(f"matches the true gradient scaled by a constant (dw, db × 1/{n}")
        assert "on this case only" not in text
        assert (f"which is 1/N here (N = {n}: the batch size)" in text) == (n >= 3), text
    assert any(len(r.case.inputs["x"]) >= 3 for r in failures)


def test_the_right_values_in_another_layout_are_named_with_the_axis_orders() -> None:
    """An output in channels-last order, and a weight gradient whose flattened columns are read
    back in another axis order: the values are all there, in the wrong places."""
    found = _diagnoses(mistakes.conv_channels_last, "conv2d")
    assert found["forward"] == {
        "matches the right values in another layout: y is the right array with its axes in the "
        "order [N, OH, OW, K], where the contract's is [N, K, OH, OW] (a transpose too many or "
        "too few: another framework's layout?) [breaks conv.kernel]"}
    found = _diagnoses(mistakes.conv_dw_columns_misread, "conv2d")
    assert found["forward"] == set() and found["gradient"] == {
        "matches the right values in another layout: dw holds the right values, flattened in "
        "the contract's order [K, C, FH, FW], read back as [K, FH, FW, C] and transposed to "
        "[K, C, FH, FW]: a reshape (or view) in another axis order [breaks graph.backprop, "
        "conv.kernel]"}


def test_a_parameter_gradient_of_one_example_only_is_named() -> None:
    """db = dy[0]: right for a batch of one, the first example's share otherwise."""
    report = run(mistakes.linear_db_of_the_first_example, ops=["linear"])
    failures = report.failures()
    assert failures and all(r.check == "gradient" for r in failures)
    assert all(len(r.case.inputs["x"]) > 1 for r in failures)
    assert {r.diagnosis for r in failures} == {
        f"matches db of the first example of the batch only (batch row 0 of "
        f"{len(r.case.inputs['x'])}): a parameter's gradient sums the contributions of every "
        f"example, Σ_n [breaks graph.backprop, ff.layers]" for r in failures}


def _swapped(name: str, pairs: str) -> set[str]:
    return {f"matches the {name} ({a}, {b}) applied the other way round, as ({b}, {a}): a pair "
            f"is (H, W), its first number along the rows (axis 2 of NCHW), as in torch [breaks "
            f"convention.nchw]" for a, b in (p.split(",") for p in pairs.split())}


@pytest.mark.parametrize(("backend", "op", "forward"), [
    (mistakes.conv_stride_swapped, "conv2d", _swapped("stride", "2,1 1,2")),
    (mistakes.conv_padding_swapped, "conv2d", _swapped("padding", "2,1 0,1 1,0")),
    (mistakes.pool_window_swapped, "avg_pool2d", _swapped("kernel_size", "2,3") | {None}),
], ids=["stride", "padding", "window"])
def test_a_pair_read_as_w_h_is_named_where_the_axes_differ(backend: Any, op: str,
                                                           forward: set[str | None]) -> None:
    """Swapped geometries that change the output's shape crop what does not fit, as torch
    does; their gradients cannot take the case's upstream gradient (the backend raises: no
    diagnosis), and a swapped window that does not fit at all is not diagnosed either."""
    found = _diagnoses(backend, op)
    assert found["forward"] == forward
    assert found["gradient"] <= {None} | forward


@pytest.mark.parametrize(("backend", "variant", "how", "who"), [
    (mistakes.max_pool_ties_split, "split", "split equally between its k tied maxima (1/k each)",
     " (tinygrad)"),
    (mistakes.max_pool_ties_last, "last", "sent whole to its last maximum in row-major order",
     ""),
], ids=["split", "last"])
def test_a_max_pool_gradient_breaking_the_tie_rule_is_named(backend: Any, variant: str, how: str,
                                                            who: str) -> None:
    found = _diagnoses(backend, "max_pool2d")
    assert found == {"forward": set(), "gradient": {
        f"matches a window's gradient {how}{who}, the convention max_pool_ties={variant}; the "
        f"spec takes a window's gradient sent whole to its first maximum in row-major order: if "
        f"your backend does this by design, declare it (--convention max_pool_ties={variant}, "
        f"or conventions = {{'max_pool_ties': '{variant}'}} on the backend) [breaks pool.max, "
        f"convention.pooling]"}}


def test_softmax_over_the_first_axis_is_named() -> None:
    found = _diagnoses(mistakes.softmax_over_columns, "softmax")
    axis = ("matches softmax over the first axis (each column summing to 1): nnspec, like "
            "torch's softmax(dim=-1), normalises over the last axis (each row a distribution) "
            "[breaks {}rnn.cell]")
    assert found["forward"] == {axis.format("")}
    assert found["gradient"] == {axis.format("graph.backprop, ")}


def test_an_embedding_gradient_assigned_not_added_is_named_where_ids_repeat() -> None:
    found = _diagnoses(mistakes.embedding_overwritten, "embedding")
    assert found == {"forward": set(), "gradient": {
        "matches ∂L/∂E assigned row by row (dE[ids] = dy), so a repeated id keeps one share: a "
        "row read k times gets the sum of its k upstream gradients (np.add.at) [breaks "
        "graph.backprop, embedding]"}}


@pytest.mark.parametrize(("backend", "op", "dropped", "claim"), [
    (mistakes.rnn_h_n_dropped, "rnn", "∂L/∂h_n", "rnn.cell"),
    (mistakes.lstm_final_states_dropped, "lstm", "∂L/∂h_n and ∂L/∂c_n", "lstm.slide"),
], ids=["rnn", "lstm"])
def test_a_backward_that_drops_the_final_states_gradient_is_named(backend: Any, op: str,
                                                                  dropped: str,
                                                                  claim: str) -> None:
    found = _diagnoses(backend, op)
    assert found == {"forward": set(), "gradient": {
        f"matches gradients that ignore {dropped}: the final state is an output of its own, "
        f"and its upstream gradient adds to the last step's [breaks graph.backprop, {claim}]"}}


def test_a_stub_returning_zeros_is_named_and_the_run_goes_on() -> None:
    """The most common unfinished backend: zeros where the values should be (factor 0 is not
    "scaled by a constant": it used to divide by zero and end the run)."""
    report = run(mistakes.sigmoid_stub, ops=["sigmoid"])
    zeros = ("returns all zeros: {} is entirely 0 where the true {} is non-zero at {} of {} "
             "elements (not computed yet, a stub?, an array allocated and never filled, or a "
             "computation that gives 0 here) [breaks {}act.sigmoid]")
    assert report.failures() and report.failed == len(report.results)
    for r in report.failures():
        forward = r.check == "forward"
        expected = np.asarray((r.case.expected or {})["y"] if forward else
                               (r.case.expected_grads or {})["x"])
        assert r.diagnosis == zeros.format("y" if forward else "dx",
                                           "output" if forward else "gradient",
                                           np.count_nonzero(expected), expected.size,
                                           "" if forward else "graph.backprop, ")


def test_one_gradient_never_filled_is_named_by_its_name() -> None:
    found = _diagnoses(mistakes.linear_dx_never_filled, "linear")
    assert found["forward"] == set() and found["gradient"]
    assert all(text.startswith("returns all zeros: dx is entirely 0 where the true gradient is "
                               "non-zero at ") and text.endswith("[breaks graph.backprop, "
                                                                 "ff.layers]")
               and " dw " not in text for text in found["gradient"])


def test_a_diagnosis_that_fails_itself_leaves_the_failure_and_the_run_standing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance.diagnosis

    def broken(*args: Any, **kwargs: Any) -> str:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(conformance.diagnosis, "diagnose", broken)
    report = run(mistakes.unknown_mistake, ops=["relu"])
    assert report.failures() and {r.diagnosis for r in report.failures()} == {
        "unknown: the diagnosis itself failed (ZeroDivisionError: float division by zero); the "
        "check's failure above stands (please report this to nnspec)"}
    assert len(report.results) == sum(1 + c.has_gradient for c in default_cases(["relu"]))


def test_a_max_pool_gradient_scaled_by_a_constant_is_named_past_the_stride_checks() -> None:
    found = _diagnoses(mistakes.max_pool_gradient_doubled, "max_pool2d")
    assert found["forward"] == set()
    assert found["gradient"] == {"matches the true gradient scaled by a constant (dx × 2): the "
                                 "backward has a factor too many or too few [breaks "
                                 "graph.backprop, pool.max]"}


def test_padding_that_a_kernel_needs_to_fit_at_all_is_still_diagnosed() -> None:
    """Without its padding the input is smaller than the kernel: that variant is skipped."""
    case = _case("conv2d", {"x": (1, 1, 2, 2), "w": (1, 1, 3, 3), "b": (1,)},
                 {"stride": (1, 1), "padding": (1, 1)})
    assert _diagnosis(mistakes.one_sided_padding, case) == _padding("(1, 1)")


def test_max_pooling_with_the_window_as_stride_is_named() -> None:
    found = _diagnoses(mistakes.pool_stride_is_window, "max_pool2d")
    assert found["forward"] == {
        f"matches stride = the window size {k} (torch's default when the stride is left out), "
        f"not the stride {s} given [breaks conv.stride]" for k, s in (("(3, 3)", "(1, 1)"),
                                                                      ("(2, 3)", "(1, 2)"))}
    assert found["gradient"] == {None}       # its backward cannot take dy: it raises


def test_an_unknown_mistake_says_so_plainly() -> None:
    found = _diagnoses(mistakes.unknown_mistake, "relu")          # (forward only: no gradient)
    assert found["forward"] == {"unknown: no well-known mistake explains all of it (tried float32"
                                " rounding, relu at zero, unstable, upstream ignored, one "
                                "example, input negated, absolute input, mask left out, leaky "
                                "relu, clipped, "
                                "wrong argument, rounded, layout, all zeros, constant factor: "
                                "nnspec mistakes relu says what each is); see the anatomy line"}


def test_an_unknown_mistake_of_shape_points_at_the_shapes() -> None:
    assert _diagnoses(mistakes.relu_flattened, "relu")["forward"] == {
        "returns the right values flattened (y): a ravel() or reshape(-1) of the result; keep "
        "the contract's shape"}                   # (a [1, n] case: its size-1 axis dropped too)
    cut = types.SimpleNamespace(relu=lambda x: mistakes._relu(x)[..., 1:])
    found = _diagnoses(cut, "relu")
    assert found["forward"] == {"unknown: no well-known mistake explains all of it (tried float32"
                                " rounding, relu at zero, unstable, upstream ignored, one "
                                "example, input negated, absolute input, mask left out, leaky "
                                "relu, clipped, "
                                "wrong argument, rounded, layout, all zeros, constant factor, "
                                "shape: nnspec mistakes relu says what each is); see the shapes "
                                "above"}


def test_a_float32_run_still_names_the_mistake_but_never_float32_rounding() -> None:
    found = _diagnoses(mistakes.flipped_kernel, "conv2d", dtype="float32")
    assert found == {"forward": {FLIPPED}, "gradient": {FLIPPED}}


# ---------------------------------------------------------------- variants on hand-made cases
def _case(op: str, inputs: dict[str, Any], attrs: dict[str, Any] | None = None,
          upstream: bool = True) -> Case:
    rng = np.random.default_rng(0)
    arrays = {k: rng.normal(size=v) if isinstance(v, tuple) else v for k, v in inputs.items()}
    case = Case(op=op, source="property", name="t", inputs=arrays, attrs=attrs or {})
    if not upstream:
        return case
    from conformance.cases import complete

    outs = complete(case).expected or {}
    return Case(op=op, source="property", name="t", inputs=arrays, attrs=attrs or {},
                upstream={k: rng.normal(size=np.shape(v)) for k, v in outs.items()})


def _diagnosis(backend: Any, case: Case, check: int = 0) -> str | None:
    return run_case(load_backend(backend), case)[check].diagnosis


def test_variants_that_would_change_nothing_are_not_offered() -> None:
    """softmax over the first axis of a vector, or an overwritten ∂L/∂E where no id repeats,
    is the right answer: a wrong result there is not blamed on them."""
    vector = _case("softmax", {"x": (4,)})
    assert _diagnosis(mistakes.softmax_over_columns, vector) is None       # passes
    assert (_diagnosis(mistakes.unknown_softmax, vector) or "").startswith("unknown: ")
    row = _case("softmax", {"x": (1, 4)})                  # over the column: ones
    assert (_diagnosis(mistakes.softmax_over_columns, row) or "").startswith(
        "matches softmax over the first axis")
    once = _case("embedding", {"ids": np.array([2, 0, 1]), "E": (3, 2)})
    assert _diagnosis(mistakes.embedding_overwritten, once, 1) is None     # passes
    assert (_diagnosis(mistakes.unknown_embedding, once, 1) or "").startswith("unknown: ")


def test_a_square_weight_used_transposed_is_named() -> None:
    case = _case("linear", {"x": (2, 3), "w": (3, 3), "b": (3,)})
    text = ("matches x w + b, the weight used transposed: nnspec keeps w as [M, D] (the slide's "
            "W, torch.nn.Linear.weight) and computes x wᵀ + b; or, with the same numbers on this "
            "case, matches x · reshape(w, [D, M]) + b, the weight reshaped where a transpose "
            "belongs (wᵀ has the same shape, other values in each place): nnspec computes x wᵀ "
            "+ b [breaks ff.layers]")          # (a square w reshaped is w itself)
    assert _diagnosis(mistakes.linear_weight_transposed, case) == text
    assert _diagnosis(mistakes.linear_weight_transposed, case, 1) == text


def test_an_input_weight_used_transposed_is_named_when_d_equals_h() -> None:
    case = _case("rnn", {"x": (3, 2, 2), "h0": (2, 2), "w_ih": (2, 2), "w_hh": (2, 2),
                         "b_ih": (2,), "b_hh": (2,)})
    assert _diagnosis(mistakes.transposed_input_weight, case) == (
        "matches w_ih used transposed in every gate (h w_ih where nnspec, like PyTorch, "
        "computes w_ih h, i.e. h w_ihᵀ) [breaks rnn.cell]")


def test_outputs_in_the_wrong_order_are_named() -> None:
    case = _case("lstm", {"x": (2, 1, 2), "h0": (1, 3), "c0": (1, 3), "w_ih": (12, 2),
                          "w_hh": (12, 3), "b_ih": (12,), "b_hh": (12,)})
    assert _diagnosis(mistakes.lstm_states_swapped, case) == (
        "matches the outputs in the wrong order (h_n holds c_n, c_n holds h_n): the "
        "contract's order is (out, h_n, c_n) [breaks lstm.slide]")


@pytest.mark.parametrize(("backend", "text"), [
    (mistakes.padded_before_only,
     "matches padding on one side only (1·P zeros before the start of each axis, none after)"),
    (mistakes.padding_ignored,       # (the 3×3 output is the first rows and columns of
     # P zeros after the end only: the shape leaves out the windows that reach them)
     "matches no padding at all (the padding is ignored): nnspec pads P = (1, 1) zeros on both "
     "sides of each axis; or, with the same numbers on this case, matches padding on one side "
     "only (1·P zeros after the end of each axis, none before): nnspec pads P = (1, 1) zeros on "
     "both sides of each axis [breaks conv.padding]"),
    (mistakes.stride_one_whole,
     "matches stride 1 (the stride (2, 2) is ignored): each window must move S elements along "
     "each axis [breaks conv.stride]"),
], ids=["before", "none", "stride-1-whole"])
def test_outputs_of_another_shape_are_matched_by_their_own_shape(backend: Any,
                                                                 text: str) -> None:
    case = _case("conv2d", {"x": (1, 2, 7, 7), "w": (2, 2, 3, 3), "b": (2,)},
                 {"stride": (2, 2), "padding": (1, 1)}, upstream=False)
    found = _diagnosis(backend, case)
    assert found is not None and found.startswith(text)


def test_the_diagnosis_of_conv1d_speaks_of_a_reversed_kernel() -> None:
    case = _case("conv1d", {"x": (2, 2, 6), "w": (3, 2, 3), "b": (3,)},
                 {"stride": 1, "padding": 1})
    assert _diagnosis(mistakes.conv1d_reversed, case) == (
        "matches a true convolution (kernel reversed): nnspec's conv1d is cross-correlation, "
        "the slides' convention [breaks conv.kernel, convention.cross-correlation]")


def test_a_kernel_mirrored_along_one_axis_is_named_as_half_a_flip() -> None:
    case = _case("conv2d", {"x": (2, 2, 5, 6), "w": (3, 2, 3, 3), "b": (3,)},
                 {"stride": (1, 1), "padding": (1, 1)})
    assert _diagnosis(mistakes.conv_kernel_mirrored, case) == (
        "matches the kernel mirrored left to right only (a true convolution flips it both "
        "ways): nnspec's conv2d is cross-correlation, as in the Sobel example, the kernel as "
        "given [breaks conv.kernel, convention.cross-correlation]")


def test_a_gradient_that_follows_a_wrong_forward_carries_the_forwards_mistake() -> None:
    """relu in an RNN cell, its gradient by autodiff: the forward is named, and each gradient
    failure, whose backward is the derivative of that forward (the consistency verdict), says
    it follows from it, rather than "unknown"."""
    found = _diagnoses(mistakes.rnn_relu_cell, "rnn")
    cell = ("matches the RNN cell with relu instead of tanh: h_t = tanh(w_ih x_t + b_ih + w_hh "
            "h_(t−1) + b_hh) [breaks rnn.cell]")
    assert found["forward"] == {cell}
    assert found["gradient"] == {"follows from the forward (your backward is its derivative), "
                                 "which " + cell}


def test_a_max_pool_gradient_assigned_where_windows_overlap_is_named() -> None:
    found = _diagnoses(mistakes.max_pool_gradient_assigned, "max_pool2d")
    assert found["forward"] == set() and found["gradient"] == {
        "matches each window's gradient assigned to its maximum (dx[argmax] = dy), not added: a "
        "pixel that is the maximum of several overlapping windows gets the sum of their "
        "gradients (dx[argmax] += dy, np.add.at), not the last one's [breaks pool.max, "
        "graph.backprop]"}


def test_geometry_mistakes_of_dx_alone_are_named() -> None:
    """dx cut from the padded input's gradient at offset 0, and dx with the stride ignored:
    the forward, dw and db right."""
    found = _diagnoses(mistakes.conv_dx_padding_kept, "conv2d")
    assert found["forward"] == set() and found["gradient"] == {
        "matches dx cut from the padded input's gradient at offset 0 (the start of the padded "
        "input) instead of P: dxp[..., P:P + H] removes the padding's border on both sides "
        "[breaks conv.padding]"}
    found = _diagnoses(mistakes.conv1d_dx_stride_ignored, "conv1d")
    assert found["forward"] == set() and found["gradient"] and all(str(t).startswith(
        "matches dx with each window's gradient added at i instead of S·i (the stride ")
        and str(t).endswith("ignored in dx only): window i reads x from S·i on, so its gradient "
                            "goes back there [breaks conv.stride]") for t in found["gradient"])


@pytest.mark.parametrize(("backend", "op", "begins"), [
    (mistakes.cross_entropy_target_block, "cross_entropy",
     "matches log p indexed as log_p[:, targets], the mean of an N×N block"),
    (mistakes.cross_entropy_log_epsilon, "cross_entropy",
     "matches −log(p_t + ε) with ε = 1e-10: the ε biases every loss and caps it at −log ε ≈ 23"),
    (mistakes.avg_pool_floor_divided, "avg_pool2d",
     "matches the true values rounded down (floor) to whole numbers: an integer division (//)"),
    (mistakes.cross_entropy_one_based_targets, "cross_entropy",
     "matches the targets read as 1-based class ids, t − 1"),
    (mistakes.cross_entropy_keras_clip, "cross_entropy",
     "matches −log p_t with p clipped to [ε, 1 − ε], ε = 1e-07 (Keras's epsilon)"),
    (mistakes.linear_weight_reshaped, "linear",
     "matches x · reshape(w, [D, M]) + b, the weight reshaped where a transpose belongs"),
    (mistakes.avg_pool_divided_by_fh_squared, "avg_pool2d",
     "matches the window sum divided by FH² (FH·FH) ("),
], ids=["ce-target-block", "ce-log-epsilon", "avg-floor-division", "ce-one-based",
        "ce-keras-clip", "linear-reshaped", "avg-fh-squared"])
def test_forward_mistakes_of_indexing_epsilon_and_rounding_are_named(backend: Any, op: str,
                                                                     begins: str) -> None:
    found = _diagnoses(backend, op)
    assert found["forward"] and all(str(t).startswith(begins) for t in found["forward"]), found


@pytest.mark.parametrize(("backend", "op", "begins"), [
    (mistakes.rnn_backwards_in_time, "rnn", "matches the sequence run backwards (from x_(T−1) to "
                                            "x_0; out reversed back"),
    (mistakes.gru_from_h0_each_step, "gru", "matches every step started from the initial state"),
    (mistakes.rnn_out_one_step_behind, "rnn", "matches out holding the state before each step"),
], ids=["time-reversed", "h0-each-step", "out-behind"])
def test_a_recurrence_that_handles_its_state_or_time_otherwise_is_named(
        backend: Any, op: str, begins: str) -> None:
    """The forward named; its gradient, the derivative of that forward, follows from it (where
    the consistency check can tell: at saturated states it may find a kink and say nothing)."""
    found = _diagnoses(backend, op)
    assert found["forward"] and all(str(t).startswith(begins) for t in found["forward"]), found
    follows = "follows from the forward (your backward is its derivative), which " + begins
    assert any(follows in str(t) for t in found["gradient"]), found
    assert all(follows in str(t) or str(t).startswith("unknown") for t in found["gradient"])


def test_a_one_hot_subtracted_in_every_row_is_named() -> None:
    found = _diagnoses(mistakes.cross_entropy_onehot_columns, "cross_entropy")
    assert found["forward"] == set() and found["gradient"] and all(str(t).startswith(
        "matches the one-hot subtracted as g[:, targets] −= 1 (every row gets −1 in every "
        "target's column)") for t in found["gradient"]), found


def test_a_gradient_that_follows_an_unexplained_forward_points_at_the_forward() -> None:
    """A forward in no catalogue, its gradient by autodiff: the gradient failures say they
    follow from the forward instead of a second "unknown" with its own list."""
    found = _diagnoses(mistakes.relu_shifted_and_scaled, "relu")
    assert found["forward"] and all(str(t).startswith("unknown") for t in found["forward"])
    assert found["gradient"] == {"follows from the forward (your backward is its derivative): "
                                 "the forward's failure on this case is what to fix"}


def test_the_catalogue_says_what_every_mistake_is_in_the_order_tried() -> None:
    """nnspec mistakes prints the module's table: it must hold every mistake, in MISTAKES's
    order, each with what it means (a mistake added without a line fails here)."""
    from conformance import diagnosis

    rows = diagnosis.catalogue()
    assert [name for name, _ in rows] == [m.name for m in MISTAKES] + [diagnosis.SHAPE]
    assert all(meaning for _, meaning in rows), [name for name, meaning in rows if not meaning]
    table = (diagnosis.__doc__ or "").split("================================  ")
    listed = [line[:34].strip() for line in table[1].splitlines()[1:]
              if line.strip() and not line.startswith(" ")]
    assert listed == [m.name for m in MISTAKES] + [diagnosis.SHAPE]
    relu = dict(diagnosis.catalogue("relu"))
    assert "relu at zero" in relu and "flipped kernel" not in relu and "constant factor" in relu


def test_values_floored_at_zero_are_named_as_a_floor_not_a_cap() -> None:
    found = _diagnoses(mistakes.max_pool_from_zero, "max_pool2d")
    assert found["forward"] == {
        "matches y floored at 0 (the true values below it raised to it: a max(0, ·) too many, or "
        "a running maximum started at 0 instead of −∞) [breaks pool.max]"}


@pytest.mark.parametrize(("backend", "op", "begins"), [
    (mistakes.tanh_derivative_bracket, "tanh", "matches the derivative written as (1 − y)²"),
    (mistakes.tanh_derivative_unsquared, "tanh", "matches the derivative written as 1 − y, "),
    (mistakes.relu_gradient_times_output, "relu", "matches dx = dy ∘ relu(x), the output"),
    (mistakes.conv_dx_kernel_not_rotated, "conv2d", "matches dx with the kernel not rotated"),
    (mistakes.avg_pool_gradient_assigned, "avg_pool2d",
     "matches each window's share of dx assigned (dx[window] = share), not added"),
], ids=["tanh-bracket", "tanh-unsquared", "relu-times-y", "conv-dx-unrotated", "avg-assigned"])
def test_backward_only_mistakes_of_formula_kernel_and_overlap_are_named(
        backend: Any, op: str, begins: str) -> None:
    found = _diagnoses(backend, op)
    assert found["forward"] == set() and found["gradient"] and all(
        str(t).startswith(begins) for t in found["gradient"]), found


def test_an_lstm_backward_passing_dc_back_without_the_forget_gate_is_named() -> None:
    """∂L/∂c_t passed to c_(t−1) as it is, not × f; also on the saturated case, where f
    underflows (a candidate dividing by f would fail there)."""
    found = _diagnoses(mistakes.lstm_dc_not_times_f, "lstm")
    assert found["forward"] == set() and found["gradient"] == {
        "matches ∂L/∂c_t passed back to c_{t−1} without × f (∂c_t/∂c_{t−1} = f_t, the forget "
        "gate) [breaks lstm.slide]"}


def test_a_backward_that_keeps_state_from_the_last_forward_is_caught_and_named() -> None:
    """The gradient is checked before the forward of the same case, so a backward reading
    what the last forward left fails; calling the forward first makes it right, which the
    diagnosis says."""
    report = run(mistakes.sigmoid_layer_with_cache, ops=["sigmoid"])
    failures = report.failures()
    assert failures and all(r.check == "gradient" for r in failures)
    cached = ("it reads what a forward call left (a cache such as self.cache) instead of the "
              "inputs it is given; a caller may call backward(dy, x, ...) on its own [breaks "
              "graph.backprop]")
    assert {r.diagnosis for r in failures} == {
        f"your backward gives the right gradient right after a forward of the same inputs, and a "
        f"wrong one otherwise: {cached}"}
    assert all(r.consistency is None for r in failures)   # (its probes cannot see it)
    # a cache of another shape makes the backward raise: named all the same
    layer = mistakes.sigmoid_layer_with_cache
    [case] = [complete(c) for c in default_cases(["sigmoid"]) if c.name == "01"]
    layer.sigmoid(np.ones(np.shape(case.inputs["x"])[-1] + 1))   # another shape, last
    raised = check_case(load_backend(layer), case, "gradient")
    assert "raised" in raised.reason and raised.diagnosis == (
        f"your backward raises when called on its own, and gives the right gradient right "
        f"after a forward of the same inputs: {cached}")


def test_a_backward_that_raises_for_its_own_reasons_is_not_blamed_on_a_cache() -> None:
    def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise ValueError("not written yet")

    backend = types.SimpleNamespace(relu=mistakes._relu, relu_backward=relu_backward)
    failures = run(backend, ops=["relu"]).failures()
    assert failures and all(r.diagnosis is None for r in failures)


def test_right_values_in_float64_in_a_float32_run_are_named_as_the_dtype_alone() -> None:
    """A bias gradient made with np.zeros(M), float64, in a float32 run: the values are right,
    so the dtype is the whole diagnosis (never a cache, never "unknown")."""
    def linear_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray,
                        b: np.ndarray) -> tuple[np.ndarray, ...]:
        db = np.zeros(w.shape[0])
        db += dy.sum(axis=0)
        return dy @ w, dy.T @ x, db

    backend = types.SimpleNamespace(linear=lambda x, w, b: x @ w.T + b,
                                    linear_backward=linear_backward)
    failures = run(backend, ops=["linear"], dtype="float32").failures()
    assert failures and all(r.check == "gradient" for r in failures)
    assert {r.diagnosis for r in failures} == {
        "the values are right, but it returns db as float64 in a float32 run: an array made "
        "without the input's dtype (np.zeros(n) is float64; np.zeros(n, dtype=x.dtype) is not) "
        "or a float64 constant promoting the result; a float32 run checks float32 arithmetic, "
        "so return float32"}


def test_a_clip_of_the_input_is_named_as_such_and_never_as_float32_arithmetic() -> None:
    """σ of x clipped to ±30: errors only where |x| > 30, of any size relative to the tiny
    true values: no rounding; a gradient failure follows from the clipped forward (torch's
    clamp passes no gradient beyond ±30, where the true σ' is 0 too: those pass)."""
    found = _diagnoses(mistakes.sigmoid_clipped_at_30, "sigmoid")
    by_hand = _diagnoses(mistakes.sigmoid_clip30_by_hand, "sigmoid")    # σ' ≠ 0 beyond ±30
    assert by_hand["gradient"] and all(str(t).startswith("follows from the forward")
                                       for t in by_hand["gradient"]), by_hand
    texts = found["forward"] | found["gradient"] | by_hand["forward"] | by_hand["gradient"]
    assert found["forward"], found
    assert all("float32" not in str(t) for t in texts), texts
    assert all(str(t).startswith("matches y clipped to [") for t in found["forward"])
    assert all(str(t).startswith("follows from the forward") for t in found["gradient"])


def test_factors_read_as_integers_fractions_or_decimals() -> None:
    assert [_factor(c) for c in (2.0, -3.0, 0.25, -0.5, 0.731234)] == [
        "2", "−3", "1/4", "−1/2", "0.7312"]


def test_every_mistake_has_a_name_and_the_diagnosis_needs_only_the_case_and_values() -> None:
    assert Counter(m.name for m in MISTAKES).most_common(1)[0][1] == 1
    case = _case("relu", {"x": np.array([-1.0, 2.0, 3.0])})
    from conformance.cases import complete

    case = complete(case)
    got = {"y": np.array([0.0, 4.0, 6.0])}
    assert diagnose(case, "forward", got, np.float64, tolerance(np.float64)).text.startswith(
        "matches the true output scaled by a constant (y × 2)")


def test_a_gradient_returned_equal_to_a_right_one_is_a_copy_never_an_order() -> None:
    """A GRU's db_hh returned equal to db_ih (the RNN's rule): db_ih is right, so no order of
    the gradients explains it (blind review #5, m55); on the saturated case the joint probe's
    reach, set by a dx in the thousands, no longer vouches for db_hh: its own probe shows the
    backward is what is wrong."""
    report = run(mistakes.gru_db_hh_copied, ops=["gru"])
    failures = report.failures()
    assert len(failures) == 5 and all(r.check == "gradient" for r in failures)
    assert all(r.diagnosis is not None and r.diagnosis.startswith(
        "matches db_hh returned equal to db_ih, as in an RNN or LSTM") for r in failures)
    assert all("wrong order" not in str(r.diagnosis) for r in failures)
    assert {r.consistency.verdict for r in failures if r.consistency} == {"backward"}
    margin = run(mistakes.max_margin_ds_c_copied, ops=["max_margin"]).failures()
    assert margin and all(str(r.diagnosis).startswith(
        "matches one array returned for two (ds_c equals ds, which is right)") for r in margin)


def test_a_factor_is_read_as_the_size_the_other_cases_agree_on() -> None:
    """A root mean square where the L2 norm belongs: on a 3×3 window the factor 1/3 is 1/FH,
    1/FW and 1/√(FH·FW) alike; the other windows say which (blind review #5, m43, was "1/FH")."""
    found = _diagnoses(mistakes.lp_pool_root_mean_square, "lp_pool2d")
    texts = found["forward"] | found["gradient"]
    sizes = [t for t in texts if t and "which is" in t]
    assert len(sizes) >= 3 and all("which is 1/√(FH·FW) here" in t for t in sizes), texts
    assert any("(FH = 3, FW = 3: the window size)" in t for t in sizes), texts
    assert all("on this case only" not in str(t) for t in texts), texts


def test_shapes_explained_axes_of_size_1_and_a_crop_empty_without_padding() -> None:
    """Blind review #5 (m13, m29) and the new user's vjp: arrays of another shape whose
    values are right, or whose emptiness follows the padding, are named; the consistency
    line does not blame a backward that cannot take the forward's wrong shape."""
    squeezed = run(mistakes.linear_squeezed, ops=["linear"]).failures()
    assert squeezed and {r.diagnosis for r in squeezed} == {
        "returns the right values with axes of size 1 dropped (y): a squeeze() (or an index "
        "such as [:, 0]) drops every axis of size 1, a batch of one included; keep the "
        "contract's shape"}
    blind = [r.consistency for r in squeezed if r.consistency]
    assert blind and all(c.verdict == "unknown" and c.text.startswith(
        "your forward returns another shape than the contract's (y [") for c in blind)
    tupled = run(mistakes.relu_vjp_cotangents_as_array, ops=["relu"]).failures()
    assert tupled and {r.diagnosis for r in tupled} == {
        "returns the right values with an axis of size 1 added (dx): vjp(op, inputs, attrs, "
        "cotangents) gets the cotangents as a tuple, one array per output, so dy is "
        "cotangents[0]; used as one array, the tuple adds a leading axis of size 1"}
    cut = run(mistakes.conv_dx_cut_minus_p, ops=["conv2d"])
    unpadded = [c for c in default_cases(["conv2d"]) if c.has_gradient
                and 0 in tuple(c.attrs["padding"])]
    failing = [r for r in cut.failures() if r.check == "gradient"]
    assert unpadded and len(failing) == len(unpadded) and {r.diagnosis for r in failing} == {
        "dx is empty on exactly the axes whose padding is 0: the padded gradient cut with "
        "[P:−P], which is [0:0] when P = 0 (−0 is 0); cut it with [P:P + H] [breaks "
        "conv.padding]"}


def test_a_backward_reading_a_forward_memoised_by_shape_is_caught() -> None:
    """Blind review #5, m60: y kept from the first forward of each shape and reused by the
    backward; every case has its own shape, so only a forward of other values of the same
    shapes before each gradient (the run's decoy) shows it."""
    failures = run(mistakes.sigmoid_memoised_by_shape(), ops=["sigmoid"]).failures()
    assert failures and all(r.check == "gradient" for r in failures)
    assert {r.diagnosis for r in failures} == {
        "your backward returns the gradient at the values of an earlier forward call (the run "
        "calls a forward of other values of the same shapes before each gradient): it reads "
        "what a forward call left (a cache such as self.cache) instead of the inputs it is "
        "given; a caller may call backward(dy, x, ...) on its own [breaks graph.backprop]"}


def test_a_small_epsilon_on_a_few_elements_is_not_float32_arithmetic() -> None:
    """√(Σ x² + 1e-6) on one window (blind reviews #4 m59 and #6 m37): one element cannot show
    errors both ways, and 2.00000025 is no float32 number: not named float32 arithmetic."""
    backend = mistakes._autodiff("lp_pool2d", lambda x, k, s: torch.sqrt(
        F.avg_pool2d(x * x, k, s) * (k[0] * k[1]) + 1e-6))
    one = _case("lp_pool2d", {"x": np.array([[[[1.0, 1.0], [1.0, 1.0]]]])},
                {"kernel_size": (2, 2), "stride": (2, 2)})
    [forward, _] = run_case(load_backend(backend), one)
    assert forward.status == "fail" and forward.max_abs_error is not None    # values, no raise
    assert "matches float32 arithmetic" not in str(forward.diagnosis)
    rounded = types.SimpleNamespace(lp_pool2d=lambda x, kernel_size, stride: F.lp_pool2d(
        torch.as_tensor(x, dtype=torch.float32), 2.0, kernel_size,
        stride).double().numpy())                            # float32 numbers, cast back
    assert str(_diagnosis(rounded, _case("lp_pool2d", {"x": np.array(
        [[[[0.3, 1.7], [2.9, 0.1]]]])}, {"kernel_size": (2, 2), "stride": (2, 2)}))).startswith(
        "matches float32 arithmetic")


def test_an_l2_pool_backward_without_the_roots_chain_factor_is_named() -> None:
    """Blind review #6, m36: the forward right, the backward 2x·dy (the derivative of Σ x²)."""
    backend = mistakes._autodiff("lp_pool2d", lambda x, k, s: F.lp_pool2d(x, 2.0, k, s))
    backend.vjp = mistakes._autodiff(
        "lp_pool2d", lambda x, k, s: F.avg_pool2d(x * x, k, s) * (k[0] * k[1])).vjp
    found = _diagnoses(backend, "lp_pool2d")
    assert not found["forward"] and found["gradient"] == {SQRT_GRADIENT}


def _avg_pool_backward_square(dy: np.ndarray, x: np.ndarray, kernel_size: Any,
                              stride: Any) -> np.ndarray:
    """Each window's share dy / FH² (a square window assumed), added at every offset."""
    (fh, fw), (sh, sw) = kernel_size, stride
    oh, ow = dy.shape[2:]
    dx = np.zeros_like(x)
    for p in range(fh):
        for q in range(fw):
            dx[:, :, p:p + sh * oh:sh, q:q + sw * ow:sw] += dy / (fh * fh)
    return dx


def test_a_factor_of_fw_over_fh_is_read_as_a_square_window_assumed() -> None:
    """Blind review #6, m33: an average pool's backward divided by FH², right on square
    windows, off by FW/FH on the others: named as the average's share; a factor FW/FH alone
    reads as a window assumed square."""
    backend = types.SimpleNamespace(avg_pool2d=mistakes.TORCH.avg_pool2d,
                                    avg_pool2d_backward=_avg_pool_backward_square)
    found = _diagnoses(backend, "avg_pool2d")
    assert not found["forward"] and found["gradient"]        # the specific reading first
    assert all(str(t).startswith("matches each window's share of dy divided by FH² (FH·FH)")
               for t in found["gradient"]), found
    case = complete(next(c for c in default_cases(["avg_pool2d"])
                         if c.attrs["kernel_size"] == (2, 3)))
    ctx = Context(case, "gradient", {}, np.dtype(np.float64),
                  tolerance(np.float64, terms=1, gradient=True), load_backend("numpy"))
    assert _as_sizes(ctx, 1.5) == [                   # the factor alone, as a size
        ", which is FW/FH here (FH = 2, FW = 3: divided by FH² where FH·FW belongs, a square "
        "window assumed)"]



def test_a_row_with_one_wrong_element_is_no_evidence_of_a_partial_mistake() -> None:
    """One wrong number matches many a formula (blind review #6, m05: tanh(x/2)'s gradient
    'partly' tanh(−x)'s on a saturated row with one wrong element): a reading that explains
    failing rows holding a single wrong element between them is not offered as partial."""
    from conformance.diagnosis import _rows_explained

    case = complete(_case("tanh", {"x": (2, 3)}))
    expected = (case.expected_grads or {})["x"]
    tol = tolerance(np.float64, terms=1, gradient=True)
    loose = Tolerance(4 * tol.rtol, 4 * tol.atol)
    for wrong_in_row_1, partial in ((1, False), (2, True)):
        got = expected.copy()
        got[0] = 2 * got[0]                        # row 0: wrong, another way
        got[1, :wrong_in_row_1] = -got[1, :wrong_in_row_1]
        reading = {"x": np.where(np.arange(2)[:, None] == 1, got, expected)}  # explains row 1
        ctx = Context(case, "gradient", {"x": got}, np.dtype(np.float64), tol,
                      load_backend("numpy"))
        found = _rows_explained(ctx, reading, loose)
        assert (found is not None) == partial, found
        if partial:
            assert found == "the failing batch row 1 of 2, not 0"


def test_a_relu_mask_taken_from_the_upstream_gradient_is_named() -> None:
    """Blind review #6, m07: dx = dy ∘ [dy > 0] where dy ∘ [x > 0] belongs."""
    backend = types.SimpleNamespace(relu=mistakes._relu, relu_backward=lambda dy, x: dy * (dy > 0))
    found = _diagnoses(backend, "relu")
    assert not found["forward"] and found["gradient"] == {
        "matches dx = dy ∘ [dy > 0], the mask taken from the upstream gradient where x belongs: "
        "relu'(x) is 1 where x > 0 [breaks graph.backprop, act.relu]"}


def test_a_softmax_backward_summing_dy_without_its_weights_is_named() -> None:
    """Two blind reviewers wrote it (#5 m59, #6 m14): dx = y ∘ (dy − Σ dy)."""
    def softmax_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = mistakes.TORCH.softmax(x)
        return y * (dy - dy.sum(axis=-1, keepdims=True))

    backend = types.SimpleNamespace(softmax=mistakes.TORCH.softmax,
                                    softmax_backward=softmax_backward)
    found = _diagnoses(backend, "softmax")
    assert not found["forward"] and found["gradient"] == {
        "matches dx = y ∘ (dy − Σ_k dy_k), the sum without its weights y_k: ∂y_k/∂x_j = "
        "y_k(δ_kj − y_j), so dx = y ∘ (dy − Σ_k dy_k y_k) [breaks graph.backprop]"}


def test_an_rnn_dw_hh_from_the_wrong_state_is_named() -> None:
    """Blind reviews #5 (m47: s_t) and #6 (m40: out[t − 1] at t = 0, the last state)."""
    from spec_tests.mutant_corpus.recurrent import _np_rnn_backend

    found = _diagnoses(_np_rnn_backend("dw_hh-current-state"), "rnn")
    assert not found["forward"] and found["gradient"] == {
        "matches dw_hh accumulated with the step's own state, Σ_t da_t s_tᵀ, where Σ_t da_t "
        "s_(t−1)ᵀ belongs; every other gradient right [breaks rnn.bptt]"}


def test_an_average_pool_backward_dividing_by_the_stride_is_named() -> None:
    """Blind review #7, m33: the share of dy divided by SH·SW where FH·FW belongs."""
    def backward(dy: np.ndarray, x: np.ndarray, kernel_size: Any, stride: Any) -> np.ndarray:
        (fh, _), (sh, sw) = kernel_size, stride
        return _avg_pool_backward_square(dy, x, kernel_size, stride) * fh * fh / (sh * sw)

    backend = types.SimpleNamespace(avg_pool2d=mistakes.TORCH.avg_pool2d,
                                    avg_pool2d_backward=backward)
    found = _diagnoses(backend, "avg_pool2d")
    assert not found["forward"] and found["gradient"] and all(
        str(t).startswith("matches each window's share of dy divided by the stride's SH·SW (")
        or str(t).startswith("matches each window's share dy, not divided")
        for t in found["gradient"]), found


def test_an_activation_of_a_scaled_input_is_named() -> None:
    """tanh as 2σ(x) − 1, which is tanh(x/2) (the corpus, and blind reviews #5 m06 and #6
    m05); σ(2x)."""
    tanh_half = mistakes._autodiff("tanh", lambda x: 2 * torch.sigmoid(x) - 1)
    found = _diagnoses(tanh_half, "tanh")
    assert found["forward"] == {
        "matches tanh(x/2), the input scaled by 1/2 (2σ(x) − 1 is tanh(x/2): the identity is "
        "tanh(x) = 2σ(2x) − 1) [breaks act.tanh]"}
    sigmoid_double = mistakes._autodiff("sigmoid", lambda x: torch.sigmoid(2 * x))
    assert all(str(t).startswith("matches sigmoid(2x), the input scaled by 2")
               for t in _diagnoses(sigmoid_double, "sigmoid")["forward"])


def test_a_sigmoid_derivative_with_one_of_its_factors_is_named() -> None:
    """Blind review #7, m02: σ'(x) written as σ(x), the factor 1 − σ(x) forgotten (read as ×2
    on the slide case, where σ = ½, and unknown elsewhere)."""
    for slope, text in ((lambda y: y, "y alone, the factor 1 − y left out"),
                        (lambda y: 1 - y, "1 − y alone, the factor y left out")):
        backend = types.SimpleNamespace(
            sigmoid=mistakes.TORCH.sigmoid,
            sigmoid_backward=lambda dy, x, slope=slope: dy * slope(mistakes.TORCH.sigmoid(x)))
        found = _diagnoses(backend, "sigmoid")
        assert not found["forward"] and found["gradient"] == {
            f"matches the derivative written as {text}: σ'(x) = y(1 − y) with y = σ(x) [breaks "
            f"graph.backprop]"}


def test_an_l2_pool_chain_rule_with_a_factor_2_left_out_is_named() -> None:
    """Blind review #7, m35: dx = x·dy/(2y), the 2 of d(x²) dropped (named as a bare ×1/2
    before); and 2x·dy/y, the ½ of the root dropped."""
    for factor, begins in ((0.5, "matches dx = x·dy/(2y): the root's 1/(2y) without the 2 of "
                                 "d(x²)"),
                           (2.0, "matches dx = 2x·dy/y: d(x²) = 2x dx without the ½ of the "
                                 "root's")):
        backend = mistakes._autodiff(
            "lp_pool2d", lambda x, k, s, a=factor: F.lp_pool2d(x, 2.0, k, s))
        torch_vjp = backend.vjp
        backend.vjp = lambda *args, a=factor, v=torch_vjp: tuple(a * g for g in v(*args))
        found = _diagnoses(backend, "lp_pool2d")
        assert not found["forward"] and found["gradient"] and all(
            str(t).startswith(begins) for t in found["gradient"]), found


def _ce_of(fn: Any) -> types.SimpleNamespace:
    """A cross-entropy backend computing ``fn(logits, targets)`` for each example, its mean over
    the batch the loss (torch autodiff for the gradient)."""
    return mistakes._autodiff("cross_entropy", lambda z, t: fn(z, t.long()).mean())


def test_a_cross_entropy_with_its_log_softmax_left_out_is_named() -> None:
    """Blind review #7, m16: the logits taken as log-probabilities, −mean z_t (and its own
    gradient −onehot/N); −mean p_t; and a backward giving ∂L/∂p, the softmax's Jacobian left
    out."""
    logits_as_log_p = _ce_of(lambda z, t: -z.gather(1, t[:, None])[:, 0])
    found = _diagnoses(logits_as_log_p, "cross_entropy")
    text = ("matches the logits taken as log-probabilities, L = −mean z_t (log-softmax left "
            "out; its gradient −onehot/N, without p): cross-entropy is −mean log p_t with p = "
            "softmax(z), whose gradient is (p − onehot)/N")
    assert found == {"forward": {text}, "gradient": {text}}
    without_log = _ce_of(lambda z, t: -torch.softmax(z, 1).gather(1, t[:, None])[:, 0])
    assert _diagnoses(without_log, "cross_entropy")["forward"] == {
        "matches L = −mean p_t, the probability without its log: cross-entropy is −mean log p_t"}

    def backward(dloss: np.ndarray, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        p = torch.softmax(torch.as_tensor(logits), 1).numpy()
        n = len(targets)
        g = np.zeros_like(p)
        g[np.arange(n), targets] = -1.0 / (n * p[np.arange(n), targets])
        return dloss * g

    d_probabilities = types.SimpleNamespace(cross_entropy=mistakes.TORCH.cross_entropy,
                                            cross_entropy_backward=backward)
    found = _diagnoses(d_probabilities, "cross_entropy")
    assert not found["forward"] and found["gradient"] == {
        "matches ∂L/∂p = −onehot/(N·p_t), the gradient with respect to the probabilities: the "
        "softmax's Jacobian left out (∂L/∂z = (p − onehot)/N) [breaks graph.backprop]"}


def _rnn_b_ih_twice(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                    b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    outs = []
    for x_t in x:
        h = torch.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_ih)     # b_ih where b_hh belongs
        outs.append(h)
    return torch.stack(outs), h


def test_a_bias_added_twice_is_named() -> None:
    """Blind review #7, m37: an RNN adding b_ih twice and b_hh never (named only by the narrowed
    line 'right once b_ih = b_hh = 0' before); a linear layer adding b twice."""
    found = _diagnoses(mistakes._autodiff("rnn", _rnn_b_ih_twice), "rnn")
    text = ("matches b_ih added twice and b_hh never (b_ih where b_hh belongs; db_ih the sum of "
            "both biases' gradients, db_hh 0) [breaks rnn.cell]")
    assert found == {"forward": {text}, "gradient": {text}}
    linear = mistakes._autodiff("linear", lambda x, w, b: x @ w.T + 2 * b)
    found = _diagnoses(linear, "linear")
    text = "matches the bias added twice (b as 2b, db = 2 Σ dy) [breaks ff.layers]"
    assert found == {"forward": {text}, "gradient": {text}}


def test_an_embedding_gradient_pairing_ids_and_dy_in_other_orders_is_named() -> None:
    """Blind review #7, m51: np.add.at(dE, ids.T.reshape(-1), dy.reshape(-1, D)), the ids
    flattened column-major against dy's rows in C order."""
    def backward(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
        dE = np.zeros_like(E)
        np.add.at(dE, ids.T.reshape(-1), dy.reshape(-1, E.shape[1]))
        return dE

    backend = types.SimpleNamespace(embedding=mistakes.TORCH.embedding,
                                    embedding_backward=backward)
    found = _diagnoses(backend, "embedding")
    assert not found["forward"] and found["gradient"] == {
        "matches the ids flattened in another order than dy (ids.T, or order='F', against dy's "
        "rows in C order): each upstream row is added at another position's id; dE[ids[n, t]] "
        "+= dy[n, t] pairs each position with its own row [breaks graph.backprop, embedding]"}


def _embedding_backward_into_one_buffer() -> types.SimpleNamespace:
    """Blind review #8, m40: dE allocated once per shape and never zeroed, each call adding
    into it and returning it (the same array each time)."""
    kept: dict[tuple[int, ...], np.ndarray] = {}

    def embedding_backward(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
        dE = kept.setdefault(E.shape, np.zeros_like(E))
        np.add.at(dE, ids.reshape(-1), dy.reshape(-1, E.shape[1]))
        return dE

    return types.SimpleNamespace(embedding=mistakes.TORCH.embedding,
                                 embedding_backward=embedding_backward)


def test_a_backward_adding_into_a_buffer_kept_between_calls_is_caught_and_named() -> None:
    """Each case has its own shapes, so only the run's decoy backward (other values of the same
    shapes, called before each gradient check) shows it; the check sees the values as returned
    (the buffer, changed by later calls, is copied), twice the true gradient here (the decoy's
    dE is the case's: an embedding's gradient does not depend on E)."""
    failures = run(_embedding_backward_into_one_buffer(), ops=["embedding"]).failures()
    assert failures and all(r.check == "gradient" for r in failures)
    for r in failures:
        expected = (r.case.expected_grads or {})["E"]
        assert r.max_abs_error == pytest.approx(float(np.max(np.abs(expected))))
    assert {r.diagnosis for r in failures} == {
        "your backward returns different values for the same inputs on two calls in a row (dE "
        "changed): it keeps state between calls — each call adds its result into an array kept "
        "from the calls before (made once, never reset to 0); each call must depend on its "
        "arguments only [breaks graph.backprop]"}


def test_a_forward_keeping_state_between_calls_is_named() -> None:
    """Blind review #8, m25: an RNN carrying its last state over into the next call."""
    kept: list[np.ndarray] = []

    def rnn(x: np.ndarray, h0: np.ndarray, *weights: np.ndarray) -> tuple[np.ndarray, ...]:
        start = kept[-1] if kept and kept[-1].shape == h0.shape else h0
        out, h_n = mistakes.TORCH.rnn(x, start, *weights)
        kept.append(np.asarray(h_n))
        return out, h_n

    backend = types.SimpleNamespace(rnn=rnn, vjp=mistakes.TORCH.vjp)
    found = _diagnoses(backend, "rnn")
    assert found["forward"] and all(str(t).startswith(
        "your forward returns different values for the same inputs on two calls in a row (out")
        and str(t).endswith(
        "changed): it keeps state between calls (a state, buffer or cache kept in self or a "
        "module-level variable and not reset) or draws random numbers; each call must depend on "
        "its arguments only") for t in found["forward"]), found


def _rnn_steps_short(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                     b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """range(T − 1): the last step never computed, out[T − 1] left 0 (blind review #8, m21)."""
    out = torch.zeros(x.shape[0], *h.shape, dtype=x.dtype) + 0 * x.sum()   # (in the graph)
    for t in range(x.shape[0] - 1):
        h = torch.tanh(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        out = out.index_put((torch.tensor([t]),), h[None])
    return out, h


def test_a_recurrence_one_step_short_is_named() -> None:
    found = _diagnoses(mistakes._autodiff("rnn", _rnn_steps_short), "rnn")
    text = ("matches the loop over time one step short (range(T − 1)): the last step never "
            "computed (out[T − 1] left 0, the final state the one after T − 1 steps); the "
            "recurrence runs t = 0 … T − 1 [breaks rnn.cell]")
    assert found["forward"] == {text}
    assert all(str(t).startswith("follows from the forward (your backward is its derivative), "
                                 "which matches the loop over time one step short")
               for t in found["gradient"]), found


def test_an_accumulator_not_reset_between_rows_or_windows_is_named() -> None:
    """Blind review #8, m49 (linear: one accumulator for the whole batch) and m10 (conv1d: one
    for all of a row's windows), forward and the backward that is its derivative."""
    linear = mistakes._autodiff("linear", lambda x, w, b: torch.cumsum(x @ w.T, dim=0) + b)
    text = ("matches an accumulator not reset between the batch's rows (set once before the "
            "loop): each output the running sum of its own and the earlier ones, b once [breaks "
            "ff.layers]")
    assert _diagnoses(linear, "linear") == {"forward": {text}, "gradient": {text}}
    conv1d = mistakes._autodiff("conv1d", lambda x, w, b, s, p: torch.cumsum(
        F.conv1d(x, w, None, s, p), dim=-1) + b[:, None])
    found = _diagnoses(conv1d, "conv1d")
    assert found["forward"] and all(str(t).startswith(
        "matches an accumulator not reset between the windows of each row") for t in
        found["forward"] | found["gradient"]), found


def test_a_cross_entropy_backward_without_the_one_hot_is_named() -> None:
    """Blind review #8, m43: dlogits = p/N."""
    def backward(dloss: np.ndarray, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return dloss * torch.softmax(torch.as_tensor(logits), 1).numpy() / len(targets)

    backend = types.SimpleNamespace(cross_entropy=mistakes.TORCH.cross_entropy,
                                    cross_entropy_backward=backward)
    found = _diagnoses(backend, "cross_entropy")
    assert not found["forward"] and found["gradient"] == {
        "matches dlogits = p/N, the one-hot never subtracted: the gradient of −log p_t is "
        "(p − onehot)/N [breaks graph.backprop, convention.ce-mean]"}


@pytest.mark.parametrize(("mode", "what"), [
    ("replicate", "copies of the edge (np.pad mode='edge', 'replicate')"),
    ("reflect", "a reflection of the input (np.pad mode='reflect')")])
def test_a_border_padded_with_the_edge_or_a_reflection_is_named(mode: str, what: str) -> None:
    """Blind review #8, m08 (np.pad's mode='edge'), forward and the backward its derivative."""
    backend = mistakes._autodiff("conv2d", lambda x, w, b, s, p: F.conv2d(F.pad(
        x, (p[1], p[1], p[0], p[0]), mode=mode), w, b, tuple(s)))
    found = _diagnoses(backend, "conv2d")
    texts = found["forward"] | found["gradient"]
    assert found["forward"] and found["gradient"] and all(
        str(t).startswith(f"matches the border padded with {what} where zeros belong")
        for t in texts), found


def test_the_last_output_position_never_computed_is_named() -> None:
    """Blind review #8, m09: conv1d's loop over the windows to OL − 1, the last output left 0
    (and at OL = 1 the whole output)."""
    def conv1d(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, s: int, p: int) -> torch.Tensor:
        y = F.conv1d(x, w, b, s, p)
        return torch.cat([y[..., :-1], 0 * y[..., -1:]], dim=-1)

    found = _diagnoses(mistakes._autodiff("conv1d", conv1d), "conv1d")
    text = ("matches the loop over the output's OL one short (range(OL − 1)): the last output "
            "position along OL never computed, left 0 [breaks conv.grid-size]")
    assert found == {"forward": {text}, "gradient": {text}}


def test_h_n_from_the_state_entering_the_last_step_is_named() -> None:
    """Blind review #8, m38: a GRU returning the last step's h_{t−1} as h_n."""
    def gru(x: np.ndarray, h0: np.ndarray, *weights: np.ndarray) -> tuple[np.ndarray, ...]:
        out, _ = mistakes.TORCH.gru(x, h0, *weights)
        return out, (out[-2] if len(out) > 1 else h0)

    found = _diagnoses(types.SimpleNamespace(gru=gru, vjp=mistakes.TORCH.vjp), "gru")
    assert found["forward"] == {
        "matches h_n taken from the state entering the last step (out[T − 2], h0 when T = 1) "
        "instead of the one it leaves (out[T − 1]): h_n is the state after the whole sequence "
        "[breaks gru]"}


def test_log_sum_exp_with_its_max_not_added_back_is_named() -> None:
    """Blind review #6, m16: log p = z − log Σ e^(z − m) (a stale `logits` where the shifted z
    was meant), and a backward p = e^(log p), off by e^m."""
    def log_p(z: torch.Tensor) -> torch.Tensor:
        m = z.max(dim=1, keepdim=True).values
        return z - torch.log(torch.exp(z - m).sum(dim=1, keepdim=True))

    def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        lp = log_p(torch.as_tensor(logits))
        return -lp[torch.arange(len(targets)), torch.as_tensor(targets)].mean().numpy()

    def backward(dloss: np.ndarray, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        p = torch.exp(log_p(torch.as_tensor(logits))).numpy()
        p[np.arange(len(targets)), targets] -= 1.0
        return dloss * p / len(targets)

    backend = types.SimpleNamespace(cross_entropy=cross_entropy, cross_entropy_backward=backward)
    found = _diagnoses(backend, "cross_entropy")
    text = ("matches log p = z − log Σ_j e^(z_j − m), the max m taken out of the sum's exponent "
            "but not added back (log p = z − m − log Σ_j e^(z_j − m)): every log p off by m")
    assert found["forward"] == {text}
    assert found["gradient"] == {f"{text}, and p = e^(log p) off by the factor e^m"}, found


def test_a_softmax_shifted_per_row_but_normalised_per_column_is_named() -> None:
    """Blind review #9, m46: e = exp(x − max over the last axis), divided by e.sum(axis=0)."""
    def softmax(x: np.ndarray) -> np.ndarray:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    backend = types.SimpleNamespace(softmax=softmax, vjp=mistakes.TORCH.vjp)
    found = _diagnoses(backend, "softmax")["forward"]
    assert found and all(str(t).startswith(
        "matches e = exp(x − each row's max) divided by its sum over the first axis") or
        str(t).startswith("matches softmax over the first axis") for t in found), found
    assert any("the shift and the sum over different axes" in str(t) for t in found), found


def test_a_bias_gradient_summed_over_the_wrong_axes_is_named() -> None:
    """Blind review #9, m41: a linear layer's db = dy.sum(axis=1), of shape [N]."""
    backend = types.SimpleNamespace(linear=mistakes.TORCH.linear, linear_backward=lambda dy, x, w,
                                    b: (dy @ w, dy.T @ x, dy.sum(axis=1)))
    found = _diagnoses(backend, "linear")
    assert not found["forward"] and "db is dy summed over M (axis 1) where N (axis 0) belongs: a "\
        "bias gradient sums dy over every axis but its own [breaks graph.backprop]" in found[
            "gradient"], found


def test_a_transposed_kernel_is_named() -> None:
    """Blind review #9, m01: einsum 'kcqp' for the kernel, its rows and columns swapped (read
    as "×−2 on this case only" before), forward and the backward its derivative."""
    backend = mistakes._autodiff("conv2d", lambda x, w, b, s, p: F.conv2d(
        x, w.transpose(2, 3), b, tuple(s), tuple(p)))
    square = [r for r in run(backend, ops=["conv2d"]).failures()
              if r.case.inputs["w"].shape[2] == r.case.inputs["w"].shape[3]]
    assert square and all("matches the kernel transposed, its rows and columns swapped" in
                          str(r.diagnosis) for r in square), [r.diagnosis for r in square]
