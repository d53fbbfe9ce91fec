"""Self-consistency and the catalogue's guards (conformance.consistency, conformance.diagnosis).

Each backend here makes one mistake in a few lines of NumPy, or in torch with torch.autograd's
gradient (a wrong forward with the backward that is its derivative), never through the
reference. The tests pin what the diagnosis must say, and what it must never say: a mechanism
that does not explain the failure.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pytest
import torch

from conformance.checks import default_cases
from conformance.consistency import kinks, self_consistency
from conformance.runner import run
from spec_tests.conformance_mistakes import _autodiff, gru_reset_before

pytestmark = pytest.mark.infrastructure


def _failures(backend: Any, op: str, dtype: str = "float64") -> list[Any]:
    report = run(backend, ops=[op], dtype=dtype)
    assert report.failures(), f"the {op} mistake was not caught"
    return report.failures()


def _verdicts(backend: Any, op: str, check: str = "gradient", dtype: str = "float64",
              source: str | None = None) -> set[str]:
    return {r.consistency.verdict for r in _failures(backend, op, dtype)
            if r.check == check and r.consistency is not None
            and (source is None or r.case.source == source)}


def _diagnoses(backend: Any, op: str, check: str, dtype: str = "float64") -> set[str]:
    return {r.diagnosis for r in _failures(backend, op, dtype) if r.check == check}


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _linear_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, ...]:
    return dy @ w, dy.T @ x, dy.sum(axis=0)


SIGMOID_OF_MINUS_X = _autodiff("sigmoid", lambda x: torch.sigmoid(-x))
RELU_GRADIENT_DOUBLED = types.SimpleNamespace(relu=_relu,
                                              relu_backward=lambda dy, x: 2 * dy * (x > 0))
BIAS_TWICE_RIGHT_BACKWARD = types.SimpleNamespace(linear=lambda x, w, b: x @ w.T + 2 * b,
                                                  linear_backward=_linear_backward)
BIAS_TWICE_DW_TRIPLED = types.SimpleNamespace(
    linear=lambda x, w, b: x @ w.T + 2 * b,
    linear_backward=lambda dy, x, w, b: (dy @ w, 3 * dy.T @ x, dy.sum(axis=0)))
CONV_FLIPPED = _autodiff("conv2d", lambda x, w, b, s, p: torch.nn.functional.conv2d(
    x, torch.flip(w, (2, 3)), b, stride=s, padding=p))


def _conv_dw_doubled() -> Any:
    def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, s: Any, p: Any) -> np.ndarray:
        return torch.nn.functional.conv2d(torch.as_tensor(x), torch.as_tensor(w),
                                          torch.as_tensor(b), stride=s, padding=p).numpy()

    def vjp(op: str, inputs: Any, attrs: Any, cots: Any) -> tuple[np.ndarray, ...]:
        x, w, b = (torch.as_tensor(v).requires_grad_(True) for v in inputs)
        y = torch.nn.functional.conv2d(x, w, b, stride=attrs["stride"], padding=attrs["padding"])
        dx, dw, db = torch.autograd.grad(y, (x, w, b), torch.as_tensor(cots[0]))
        return dx.numpy(), 2 * dw.numpy(), db.numpy()

    return types.SimpleNamespace(conv2d=conv2d, vjp=vjp)


# ---------------------------------------------------------------- the verdicts
@pytest.mark.parametrize(("backend", "op", "verdict"), [
    (SIGMOID_OF_MINUS_X, "sigmoid", "forward"),
    (CONV_FLIPPED, "conv2d", "forward"),
    (RELU_GRADIENT_DOUBLED, "relu", "backward"),
    (_conv_dw_doubled(), "conv2d", "backward"),
    (BIAS_TWICE_RIGHT_BACKWARD, "linear", "forward-only"),
    (BIAS_TWICE_DW_TRIPLED, "linear", "both"),
], ids=["sigmoid-of-minus-x", "conv-flipped", "relu-dx-doubled", "conv-dw-doubled",
        "bias-twice-right-backward", "bias-twice-dw-tripled"])
def test_each_failure_says_whether_the_forward_or_the_backward_is_wrong(
        backend: Any, op: str, verdict: str) -> None:
    failures = _failures(backend, op)
    assert {r.consistency.verdict for r in failures if r.consistency is not None
            and r.case.source == "golden"} == {verdict}
    assert all(r.findings()[0].startswith("consistency: ") for r in failures)


def test_the_verdict_names_the_gradients_that_disagree_and_those_that_are_right() -> None:
    texts = {r.consistency.text for r in _failures(_conv_dw_doubled(), "conv2d")
             if r.consistency is not None and r.check == "gradient"}
    assert texts and all("the forward is right; the backward is not its derivative: dw differs"
                         in t and t.endswith("; dx, db are right") for t in texts)
    texts = {r.consistency.text for r in _failures(BIAS_TWICE_DW_TRIPLED, "linear")
             if r.consistency is not None and r.case.source == "golden"}
    assert texts == {"the forward is wrong, and the backward is neither its derivative nor the "
                     "spec's gradient for dw (central differences); dx, db are right"}
    texts = {r.consistency.text for r in _failures(BIAS_TWICE_RIGHT_BACKWARD, "linear")
             if r.consistency is not None and r.case.source == "golden"}
    assert texts == {"the backward gives the spec's gradient, but the forward is wrong: for db "
                     "your backward is not the derivative of your forward (central differences)"}


def test_a_forward_right_only_at_the_case_is_still_the_forward() -> None:
    """σ(−x) equals σ(x) at x = 0 (the slide's input): the forward check passes there, yet its
    derivative is −σ'(x). Skipping the differentiation because the forward passed would blame
    the backward, which is the derivative of the backend's forward."""
    failures = [r for r in _failures(SIGMOID_OF_MINUS_X, "sigmoid") if r.case.source == "slide"]
    assert failures and all(r.check == "gradient" for r in failures)
    assert {r.consistency.verdict for r in failures if r.consistency} == {"forward"}
    assert all("right at this case's inputs but not around them" in r.consistency.text
               for r in failures if r.consistency)


def test_a_consistent_backward_of_a_wrong_forward_gets_no_mechanism_of_its_own() -> None:
    """The issue's example: sign flipped "because the backward has a factor too many" was named
    for σ(−x), whose backward is right for its forward."""
    for text in _diagnoses(SIGMOID_OF_MINUS_X, "sigmoid", "gradient"):
        assert "factor too many" not in text and "sign flipped" not in text, text


def test_a_kink_of_a_wrong_forward_is_found_by_its_slopes() -> None:
    """max(0, s_c − s) (Δ dropped) kinks where s_c = s, not where the spec's does; the slide
    case sits there. Central differences across it would blame a consistent backward."""
    dropped = _autodiff("max_margin", lambda s, s_c, d: torch.clamp(s_c - s, min=0))
    assert _verdicts(dropped, "max_margin") == {"forward"}


def test_a_difference_only_on_the_spec_kink_is_said_to_sit_there() -> None:
    backend = types.SimpleNamespace(relu=_relu, relu_backward=lambda dy, x: dy * (x >= 0))
    failures = [r for r in _failures(backend, "relu") if r.check == "gradient"]
    for failure in failures:             # (a slide case with one x = 0, a golden one with 3)
        assert failure.consistency is not None and failure.consistency.verdict == "agree"
        zeros = int(np.count_nonzero(failure.case.inputs["x"] == 0))
        assert failure.consistency.kinks == zeros >= 1
        many = "s" if zeros > 1 else ""
        assert failure.consistency.text == (
            f"the forward is right, and along every direction tried your backward agrees with "
            f"the spec's gradient (leaving out the {zeros} element{many} on a kink): so the "
            f"difference sits on the element{many} on a kink, which they leave out (the anatomy "
            f"says where)")
    assert {r.case.source for r in failures} == {"slide", "golden"}


def test_a_backend_computing_in_float32_is_probed_in_float32() -> None:
    def sigmoid(x: np.ndarray) -> np.ndarray:
        return (1 / (1 + np.exp(np.float32(x)))).astype(np.float32)      # σ(−x), in float32

    def sigmoid_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = sigmoid(x)
        return (-dy * y * (1 - y)).astype(np.float32)

    backend = types.SimpleNamespace(sigmoid=sigmoid, sigmoid_backward=sigmoid_backward)
    probed = {r.consistency.dtype: r.consistency.verdict for r in _failures(backend, "sigmoid",
                                                                            "float32")
              if r.consistency is not None and r.case.source == "golden"}
    assert probed == {"float32": "forward"}


def test_a_forward_of_another_shape_is_differentiated_along_its_own_shape() -> None:
    """A relu returning its output flattened (a reshape slip), its backward written for that
    output: the case's upstream gradient does not fit, so the probe draws one of the backend's
    own output shape, and the backward is found to be the derivative of the forward."""
    flat = types.SimpleNamespace(relu=lambda x: _relu(x).ravel(),
                                 relu_backward=lambda dy, x: np.reshape(dy, x.shape) * (x > 0))
    failures = [r for r in _failures(flat, "relu") if r.check == "forward"
                and np.ndim(r.case.inputs["x"]) > 1]
    assert failures
    for r in failures:
        assert r.consistency is not None and r.consistency.verdict == "forward"
        size = int(np.size(r.case.inputs["x"]))
        assert r.consistency.text.endswith(f"(differentiated along an upstream gradient of your "
                                           f"output's shape (y [{size}]))")


def test_what_cannot_be_called_is_said() -> None:
    def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        return dy / 0.0 if dy.size < 0 else 1 / 0         # (always raises, on its own line)

    raising = types.SimpleNamespace(relu=lambda x: 2 * _relu(x), relu_backward=relu_backward)
    texts = {r.consistency.text for r in _failures(raising, "relu")
             if r.consistency is not None and r.check == "forward"}
    line = relu_backward.__code__.co_firstlineno + 1
    assert texts == {f"the backend's gradient could not be evaluated: relu_backward raised "
                     f"ZeroDivisionError: division by zero (spec_tests/"
                     f"test_conformance_consistency.py, line {line})"}


def test_a_backend_without_gradients_gets_no_consistency_line() -> None:
    forward_only = types.SimpleNamespace(relu=lambda x: 2 * _relu(x))
    failures = _failures(forward_only, "relu")
    assert all(r.consistency is None and r.findings()[0].startswith("anatomy: ")
               and not any(f.startswith("consistency") for f in r.findings()) for r in failures)


def test_an_isolated_backend_is_probed_in_its_own_process() -> None:
    report = run("conformance.examples.student_buggy", ops=["conv2d"], isolate=True)
    verdicts = {r.consistency.verdict for r in report.failures() if r.consistency is not None}
    assert verdicts == {"forward-only"}     # a flipped kernel next to the right backward


def test_kinks_of_each_op_are_where_the_subgradient_conventions_apply() -> None:
    x = np.array([[[[1.0, 1.0, 0.0], [0.5, -1.0, 2.0], [2.0, 0.0, 3.0]]]])
    mask = kinks("max_pool2d", {"x": x}, {"kernel_size": (2, 2), "stride": (1, 1)}, 1e-9)
    # the windows of (0, 0) tie at 1.0; (1, 0) holds 2.0 once... only the top-left window ties
    assert mask["x"][0, 0].tolist() == [[True, True, False], [True, True, False],
                                        [False, False, False]]
    zeros = kinks("lp_pool2d", {"x": np.zeros((1, 1, 2, 2))},
                  {"kernel_size": (2, 2), "stride": (2, 2)}, 1e-9)
    assert zeros["x"].all()
    assert kinks("relu", {"x": np.array([0.0, 1e-12, 1.0])}, {}, 1e-9)["x"].tolist() == [
        True, True, False]
    margin = kinks("max_margin", {"s": np.array([2.0, 0.0]), "s_c": np.array([1.0, 0.0])},
                   {"delta": 1.0}, 1e-9)
    assert margin["s"].tolist() == margin["s_c"].tolist() == [True, False]
    assert kinks("sigmoid", {"x": np.zeros(3)}, {}, 1e-9) == {}


def test_the_probe_is_deterministic() -> None:
    case = next(c for c in default_cases(["conv2d"]) if c.source == "golden")
    from conformance.backends import load_backend
    from conformance.cases import complete

    case = complete(case)
    backend = load_backend(_conv_dw_doubled())
    assert self_consistency(backend, case) == self_consistency(backend, case)


# ---------------------------------------------------------------- named mistakes
def _tied_every(dy: np.ndarray, x: np.ndarray, k: Any, s: Any) -> np.ndarray:
    """The max-pool gradient sent whole to every element equal to its window's maximum."""
    (fh, fw), (sh, sw) = k, s
    dx = np.zeros_like(x)
    oh, ow = dy.shape[2:]
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * sh:i * sh + fh, j * sw:j * sw + fw]
            top = window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * sh:i * sh + fh, j * sw:j * sw + fw] += (window == top) * dy[:, :, i:i + 1,
                                                                                     j:j + 1]
    return dx


def _max_pool(x: np.ndarray, k: Any, s: Any) -> np.ndarray:
    return torch.nn.functional.max_pool2d(torch.as_tensor(x), k, s).numpy()


@pytest.mark.parametrize(("backend", "op", "check", "begins"), [
    (types.SimpleNamespace(relu=_relu, relu_backward=lambda dy, x: dy * (x >= 0)), "relu",
     "gradient", "matches relu'(0) = 1 (the gradient passed where x = 0), the convention "
     "relu_grad_at_zero=one"),
    (types.SimpleNamespace(relu=_relu, relu_backward=lambda dy, x: dy * np.where(x == 0, 0.5,
                                                                                  x > 0)),
     "relu", "gradient", "matches relu'(0) = ½, the convention relu_grad_at_zero=half"),
    (types.SimpleNamespace(step=lambda x: (x > 0).astype(x.dtype)), "step", "forward",
     "matches step(0) = 0 (step(x) = 1 only where x > 0) (torch.heaviside(x, 0)), the "
     "convention step_at_zero=zero"),
    (types.SimpleNamespace(softmax=_softmax,
                           softmax_backward=lambda dy, x: dy * _softmax(x) * (1 - _softmax(x))),
     "softmax", "gradient", "matches the Jacobian's diagonal only"),
    (types.SimpleNamespace(max_pool2d=_max_pool, max_pool2d_backward=_tied_every), "max_pool2d",
     "gradient", "matches the gradient sent whole to every tied maximum"),
    (types.SimpleNamespace(sigmoid=lambda x: 1 / (1 + np.exp(-x)),
                           sigmoid_backward=lambda dy, x: dy * x * (1 - x)), "sigmoid",
     "gradient", "matches the derivative written as x(1 − x)"),
    (types.SimpleNamespace(tanh=np.tanh, tanh_backward=lambda dy, x: dy * (1 - np.tanh(
        np.tanh(x)) ** 2)), "tanh", "gradient", "matches the derivative written as 1 − tanh²(y)"),
    (_autodiff("max_margin", lambda s, s_c, d: torch.clamp(1.0 + s_c - s, min=0)),
     "max_margin", "forward", "matches the margin fixed at the lecture's 1"),
    (_autodiff("max_margin", lambda s, s_c, d: torch.clamp(2 * d + s_c - s, min=0)),
     "max_margin", "forward", "matches the margin doubled"),
    (_autodiff("max_margin", lambda s, s_c, d: torch.clamp(d + s - s_c, min=0)),
     "max_margin", "forward", "matches s and s_c exchanged"),
    (_autodiff("linear", lambda x, w, b: x @ w.T), "linear", "forward",
     "matches the bias left out (b never added, its gradient 0)"),
    (gru_reset_before, "gru",
     "forward", "matches the reset gate applied before the product, n = tanh(W_in x + b_in + W_hn "
     "(r ∘ h) + b_hn)"),
    (_autodiff("lstm", lambda x, h0, c0, *w: _torch_lstm(x, c0, h0, *w)), "lstm", "forward",
     "matches h0 and c0 exchanged"),
], ids=["relu-at-zero-1", "relu-at-zero-half", "step-at-zero", "softmax-diagonal", "tie-every",
        "sigmoid-derivative-of-x", "tanh-derivative-of-y", "margin-fixed-1", "margin-doubled",
        "margin-arguments-swapped", "bias-ignored", "gru-reset-before", "lstm-states-swapped"])
def test_each_new_mistake_is_named(backend: Any, op: str, check: str, begins: str) -> None:
    found = _diagnoses(backend, op, check)
    assert any(t is not None and t.startswith(begins) for t in found), found


def _torch_lstm(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_ih: torch.Tensor,
                w_hh: torch.Tensor, b_ih: torch.Tensor,
                b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    outs = []
    for x_t in x:
        i, f, g, o = (x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs), h, c


def test_output_sizes_one_too_long_or_short_are_named() -> None:
    def too_long(x: np.ndarray, k: Any, s: Any) -> np.ndarray:
        t = torch.as_tensor(x)
        return torch.nn.functional.avg_pool2d(torch.nn.functional.pad(t, (0, s[1], 0, s[0])),
                                              k, s).numpy()

    found = _diagnoses(types.SimpleNamespace(avg_pool2d=too_long), "avg_pool2d", "forward")
    assert any(t and t.startswith("matches an output one element too long along every "
                                  "spatial axis") for t in found), found

    def too_short(x: np.ndarray, w: np.ndarray, b: np.ndarray, s: Any, p: Any) -> np.ndarray:
        y = torch.nn.functional.conv2d(torch.as_tensor(x), torch.as_tensor(w),
                                       torch.as_tensor(b), stride=s, padding=p).numpy()
        return y[:, :, :-1, :]

    found = _diagnoses(types.SimpleNamespace(conv2d=too_short), "conv2d", "forward")
    assert any(t and t.startswith("matches an output one element too short along axis 2")
               for t in found), found


def test_an_unstable_softmax_is_named_where_it_overflows() -> None:
    def naive(x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x)
            return e / e.sum(axis=-1, keepdims=True)

    for dtype in ("float64", "float32"):
        found = _diagnoses(types.SimpleNamespace(softmax=naive), "softmax", "forward", dtype)
        assert any(t and t.startswith("matches the unshifted formula softmax(x) = eˣ / Σ eˣ")
                   for t in found), (dtype, found)


# ---------------------------------------------------------------- never misleading
def test_a_candidate_that_changes_nothing_is_never_named_in_a_float32_run() -> None:
    """With a 1×1 weight, w used transposed is w: in a float32 run the result's dtype made that
    no-op "explain" an unrelated bug (a bias off by 0.1 %)."""
    wrong_bias = types.SimpleNamespace(linear=lambda x, w, b: x @ w.T + 1.001 * b,
                                       linear_backward=_linear_backward)
    for dtype in ("float32", "float64"):
        failures = [r for r in _failures(wrong_bias, "linear", dtype) if r.check == "forward"]
        assert failures and all(r.diagnosis and r.diagnosis.startswith("unknown: ")
                                and not r.mistakes for r in failures)


def test_float32_rounding_is_named_only_for_errors_of_its_size() -> None:
    """A 1e-12 error in a float64 run is far beyond float64's tolerance and far below float32
    rounding (near 1e-7): it is no float32 arithmetic."""
    off = types.SimpleNamespace(linear=lambda x, w, b: x @ w.T + b + 1e-12,
                                linear_backward=_linear_backward)
    failures = [r for r in _failures(off, "linear") if r.check == "forward"]
    assert failures and all(not r.mistakes for r in failures)


def test_all_zeros_is_not_named_where_a_specific_mistake_explains_the_zeros() -> None:
    """Δ dropped makes J = 0 legitimately wherever s > s_c: "a stub?" would mislead."""
    dropped = _autodiff("max_margin", lambda s, s_c, d: torch.clamp(s_c - s, min=0))
    for text in _diagnoses(dropped, "max_margin", "forward"):
        assert text is not None and "all zeros" not in text, text
        assert text.startswith("matches the margin dropped"), text


def _truncated_backend(op: str, carry_h: bool, carry_c: bool) -> Any:
    """A recurrent backend (torch's forward) whose backward stops carrying ∂L/∂h (and/or ∂L/∂c)
    to the step before: torch.autograd through a forward with the carried states detached."""
    def step_detached(x: torch.Tensor, h0: torch.Tensor, *rest: torch.Tensor) -> Any:
        lstm = op == "lstm"
        c = rest[0] if lstm else None
        w = rest[1:] if lstm else rest
        h, outs = h0, []
        for t, x_t in enumerate(x):
            h_in = h if (carry_h or t == 0) else h.detach()
            if lstm:
                assert c is not None
                c_in = c if (carry_c or t == 0) else c.detach()
                _, h, c = _torch_lstm(x_t[None], h_in, c_in, *w)
            else:
                pre = x_t @ w[0].T + w[2] + h_in @ w[1].T + w[3]
                h = torch.tanh(pre)
            outs.append(h)
        return (torch.stack(outs), h, c) if lstm else (torch.stack(outs), h)

    return _autodiff(op, step_detached)


@pytest.mark.parametrize(("op", "carry_h", "carry_c", "begins"), [
    ("rnn", False, False, "matches a backward that does not pass ∂L/∂h_t back to step t − 1"),
    ("lstm", False, False, "matches a backward that does not pass ∂L/∂h_t back to step t − 1 "
                           "(nor ∂L/∂c_t)"),
    ("lstm", True, False, "matches a backward without the cell path"),
], ids=["rnn-no-bptt", "lstm-no-bptt", "lstm-cell-path"])
def test_a_backward_that_stops_at_each_step_is_named(op: str, carry_h: bool, carry_c: bool,
                                                      begins: str) -> None:
    failures = [r for r in _failures(_truncated_backend(op, carry_h, carry_c), op)
                if r.check == "gradient"]
    assert failures and all(r.case.inputs["x"].shape[0] > 1 for r in failures)
    assert all(r.diagnosis and r.diagnosis.startswith(begins) for r in failures), [
        r.diagnosis for r in failures]
    assert {r.consistency.verdict for r in failures if r.consistency} == {"backward"}


def test_an_lstm_without_the_tanh_of_its_cell_is_named() -> None:
    def no_tanh(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_ih: torch.Tensor,
                w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor) -> Any:
        outs = []
        for x_t in x:
            i, f, g, o = (x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * c
            outs.append(h)
        return torch.stack(outs), h, c

    failures = _failures(_autodiff("lstm", no_tanh), "lstm")
    forward = {r.diagnosis for r in failures if r.check == "forward"}
    assert forward and all(t and t.startswith("matches the LSTM with h_t = o ∘ c_t, without the "
                                              "tanh") for t in forward), forward
    assert {r.consistency.verdict for r in failures if r.consistency} == {"forward"}


def test_a_mistake_that_explains_some_batch_rows_only_is_labelled_partial() -> None:
    """A softmax backward that keeps the Jacobian's diagonal only for the first row (a loop that
    breaks early): the diagonal mistake explains that row and not the others, and says so."""
    def backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = _softmax(x)
        dx = y * (dy - np.sum(dy * y, axis=-1, keepdims=True))
        dx[0] = dy[0] * y[0] * (1 - y[0])
        return dx

    failures = [r for r in _failures(types.SimpleNamespace(softmax=_softmax,
                                                           softmax_backward=backward),
                                     "softmax") if r.check == "gradient"]
    assert failures
    for r in failures:
        assert r.diagnosis and r.diagnosis.startswith("partly matches the Jacobian's diagonal "
                                                      "only"), r.diagnosis
        assert "(it explains the failing batch row 0 of " in r.diagnosis
        assert "right where it would be wrong)" in r.diagnosis


def test_a_backward_off_by_float32_rounding_does_not_make_a_right_forward_wrong() -> None:
    """tanh exactly, its backward in float32: central differences of the forward land as near
    the spec's gradient as the backend's, so they cannot show the forward wrong around the
    inputs; the verdict is the backward's (it said "the forward is what is wrong")."""
    def backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        t = np.tanh(x.astype(np.float32))
        return (dy.astype(np.float32) * (1 - t * t)).astype(np.float64)

    failures = [r for r in _failures(types.SimpleNamespace(tanh=np.tanh, tanh_backward=backward),
                                     "tanh") if r.check == "gradient"]
    assert failures and all(r.consistency is not None and r.consistency.verdict == "backward"
                            for r in failures), [r.consistency for r in failures]
    assert all("forward is what is wrong" not in str(r.consistency) for r in failures)


def test_a_backward_off_by_less_than_central_differences_resolve_is_the_backwards() -> None:
    """σ' + 1e-12: central differences of the exact forward cannot tell it from the spec's
    gradient, so they do not make the forward "wrong around its inputs"."""
    def backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        s = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
        return dy * (s * (1 - s) + 1e-12)

    def sigmoid(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-np.clip(x, -500, 500)))

    verdicts = _verdicts(types.SimpleNamespace(sigmoid=sigmoid, sigmoid_backward=backward),
                         "sigmoid")
    assert verdicts == {"backward"}, verdicts


def test_a_warning_the_backend_emits_is_reported_with_its_check() -> None:
    """The textbook σ = 1 / (1 + e^−x) is right at x = −1e4 (e^1e4 = inf, 1/inf = 0) but numpy
    warns of the overflow: the contract promises sigmoid no warning (convention.stable), so the
    check carries it (reason and JSON), where it used to be swallowed, and fails, its values
    right, with a diagnosis that says so."""
    def sigmoid(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    report = run(types.SimpleNamespace(sigmoid=sigmoid), ops=["sigmoid"])
    warned = [r for r in report.results if r.warnings]
    overflowing = {r.id for r in report.results if r.check == "forward"      # (no backward)
                   and np.min(r.case.inputs["x"]) < -709.8}
    assert {r.id for r in warned} == overflowing            # e^−x beyond float64's range
    for r in warned:
        assert r.status == "fail" and r.max_abs_error == 0.0
        assert r.warnings == ("RuntimeWarning: overflow encountered in exp",)
        assert r.reason.endswith("[it warned: RuntimeWarning: overflow encountered in exp]")
        assert r.to_dict()["warnings"] == ["RuntimeWarning: overflow encountered in exp"]
        assert r.diagnosis == (
            "the values are right, but computing them warned (RuntimeWarning: overflow "
            "encountered in exp): an intermediate overflowed or divided by zero on the way "
            "(1 / (1 + e^−x) takes e^(1e4) at x = −1e4; a stable σ exponentiates −|x| only); "
            "the contract promises sigmoid warning-free for any finite input [breaks "
            "convention.stable]")
    quiet = [r for r in report.results if not r.warnings]
    assert quiet and all(r.to_dict()["warnings"] == [] and r.status != "fail" for r in quiet)


def test_a_warning_of_an_op_that_promises_no_stability_is_reported_and_passes() -> None:
    """relu makes no stability promise: a stray overflow on the way to right values is reported
    with the check, which passes."""
    def relu(x: np.ndarray) -> np.ndarray:
        np.exp(1000 * x)                                  # computed and thrown away
        return np.maximum(x, 0)

    report = run(types.SimpleNamespace(relu=relu), ops=["relu"])
    warned = [r for r in report.results if r.warnings]
    assert warned and all(r.status == "pass" and r.reason.endswith(
        "[it warned: RuntimeWarning: overflow encountered in exp]") for r in warned)


def _rnn_with_derivative(slope: str) -> Any:
    """A NumPy RNN whose hand-written BPTT takes tanh' = 1 − (·)² of ``slope``: "state" (right),
    "pre" (the pre-activation a_t) or "stale" (the state of the step before)."""
    def forward(x: np.ndarray, h0: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
                b_ih: np.ndarray, b_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, out = h0, []
        for x_t in x:
            h = np.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
            out.append(h)
        return np.stack(out), h

    def backward(d_out: np.ndarray, d_h_n: np.ndarray, x: np.ndarray, h0: np.ndarray,
                 w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray,
                 b_hh: np.ndarray) -> tuple[np.ndarray, ...]:
        out, _ = forward(x, h0, w_ih, w_hh, b_ih, b_hh)
        prev = np.concatenate([h0[None], out[:-1]])
        pre = x @ w_ih.T + b_ih + prev @ w_hh.T + b_hh
        which = {"state": out, "pre": pre, "stale": prev}[slope]
        dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
        db, carry = np.zeros_like(b_ih), d_h_n
        for t in reversed(range(len(x))):
            da = (d_out[t] + carry) * (1 - which[t] ** 2)
            dx[t], carry = da @ w_ih, da @ w_hh
            dw_ih += da.T @ x[t]
            dw_hh += da.T @ prev[t]
            db += da.sum(axis=0)
        return dx, carry, dw_ih, dw_hh, db, db.copy()

    return types.SimpleNamespace(rnn=forward, rnn_backward=backward)


def test_an_rnn_backward_taking_tanh_of_the_wrong_quantity_is_named() -> None:
    assert not run(_rnn_with_derivative("state"), ops=["rnn"]).failures()   # the scaffolding
    for slope, words in (("pre", "1 − a_t², the pre-activation"),
                         ("stale", "1 − s_{t−1}², the state of the step before")):
        failures = [r for r in _failures(_rnn_with_derivative(slope), "rnn")
                    if r.check == "gradient"]
        assert failures and all(r.diagnosis and r.diagnosis.startswith(
            f"matches tanh' written as {words}") for r in failures), [r.diagnosis
                                                                     for r in failures]
        assert {r.consistency.verdict for r in failures if r.consistency} == {"backward"}


def test_a_bool_result_is_named_by_its_dtype_without_a_verdict() -> None:
    """step returning x >= 0 as bool: the values are right, the dtype is the failure; no
    consistency line pretends the difference is elsewhere."""
    failures = _failures(types.SimpleNamespace(step=lambda x: x >= 0), "step")
    assert all(r.consistency is None and r.diagnosis == (
        "returns y as bool: the contract's arrays are floats of the run's dtype; the values "
        "themselves are right") for r in failures)


def test_a_margin_fixed_at_one_is_not_called_doubled_where_delta_is_one_half() -> None:
    fixed = _autodiff("max_margin", lambda s, s_c, d: torch.clamp(1.0 + s_c - s, min=0))
    for r in _failures(fixed, "max_margin"):
        if r.check == "forward" and r.diagnosis:
            assert r.diagnosis.startswith("matches the margin fixed at the lecture's 1"), (
                r.diagnosis)



def _linear_counting_its_calls() -> types.SimpleNamespace:
    """y = x wᵀ + b + 0.01·(calls so far): a forward keeping state between calls, its backward
    right."""
    calls = [0]

    def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        calls[0] += 1
        return x @ w.T + b + 0.01 * calls[0]

    return types.SimpleNamespace(linear=linear, linear_backward=_linear_backward)


def test_a_forward_keeping_state_between_calls_is_never_said_to_have_a_kink() -> None:
    """Blind review #8, m25 (a hidden state kept in a module-level variable): its slopes before
    and after differ at every step, as a kink's do; a fresh call at the same inputs tells them
    apart."""
    failures = _failures(_linear_counting_its_calls(), "linear")
    probed = [r.consistency for r in failures if r.consistency is not None
              and r.consistency.verdict not in ("agree",)]
    assert probed
    for consistency in probed:
        assert "kink" not in consistency.text, consistency.text
    assert any("it returns other values for the same inputs on another call (state kept "
               "between calls)" in c.text for c in probed), [c.text for c in probed]


def test_a_smooth_forward_curving_sharply_at_a_case_is_differentiated_not_called_kinked() -> None:
    """Blind review #8, m28 (LSTM gates read as i, f, o, g, the backward its derivative): on the
    saturated golden case the slopes before and after differ at the first two steps, and the
    jump shrinks with the step, as a smooth function's does; a smaller step measures it."""
    ifog = _autodiff("lstm", lambda x, h0, c0, w_ih, w_hh, b_ih, b_hh: _lstm_ifog(
        x, h0, c0, w_ih, w_hh, b_ih, b_hh))
    failures = _failures(ifog, "lstm")
    assert {r.consistency.verdict for r in failures if r.consistency is not None} == {
        "forward"}
    assert all("kink" not in r.consistency.text for r in failures if r.consistency is not None)


def _lstm_ifog(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_ih: torch.Tensor,
               w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    outs = []
    for x_t in x:
        ai, af, ao, ag = torch.chunk(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, dim=1)
        c = torch.sigmoid(af) * c + torch.sigmoid(ai) * torch.tanh(ag)
        h = torch.sigmoid(ao) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs), h, c


def test_a_forward_computing_in_float32_inside_a_float64_run_is_never_said_to_have_a_kink() -> None:
    """Keras's LSTM on JAX computes in float32 whatever it is given (the scoreboard's xfail):
    its difference quotients are rounding, whose jump between the slopes grows as the step
    shrinks; a kink's stays."""
    def rnn(x: np.ndarray, h0: np.ndarray, *weights: np.ndarray) -> tuple[np.ndarray, ...]:
        args = [torch.as_tensor(a, dtype=torch.float32) for a in (x, h0, *weights)]
        out, h_n = _rnn_in_torch(*args)
        return out.double().numpy(), h_n.double().numpy()

    backend = types.SimpleNamespace(rnn=rnn, vjp=_autodiff("rnn", _rnn_in_torch).vjp)
    texts = [r.consistency.text for r in _failures(backend, "rnn") if r.consistency is not None]
    assert texts and all("kink" not in t for t in texts), texts
    assert any("your forward could not be differentiated for" in t and "its values move in "
               "steps coarser than float64 rounding (it computes in a lower precision inside, "
               "such as float32)" in t for t in texts), texts


def _rnn_in_torch(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                  b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    outs = []
    for x_t in x:
        h = torch.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        outs.append(h)
    return torch.stack(outs), h


def test_a_kink_of_the_backends_forward_is_told_from_rounding_by_its_constant_jump() -> None:
    """Blind review #9, m14 (a max pool whose windows hold a tie): the slopes before and after
    a kink differ by the same amount at every step, where rounding's differ by irregular
    amounts; it was read as float32 arithmetic. Here y = x wᵀ + b + Σ_d |x_d − round(x_d)|,
    right on integer inputs, which sit on its kinks, next to a backward with db doubled."""
    def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        return x @ w.T + b + np.abs(x - np.round(x)).sum(axis=1, keepdims=True)

    def backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray
                 ) -> tuple[np.ndarray, ...]:
        dx, dw, db = _linear_backward(dy, x, w, b)
        return dx, dw, 2 * db

    failures = _failures(types.SimpleNamespace(linear=linear, linear_backward=backward),
                         "linear")
    on_integers = [r for r in failures if r.check == "gradient" and r.consistency is not None
                   and np.array_equal(r.case.inputs["x"], np.round(r.case.inputs["x"]))]
    assert on_integers and all("it has a kink at the case's inputs along the direction tried"
                               in r.consistency.text for r in on_integers), [
        r.consistency.text for r in on_integers]
    assert all("lower precision" not in r.consistency.text for r in failures
               if r.consistency is not None)
