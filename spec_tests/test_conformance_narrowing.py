"""Tests of conformance.narrowing: a failing case taken apart one feature at a time says which
features the mistake needs and where it sits without them. Each mistake sits in a backend
written here in torch (never the reference), of a kind no catalogue names."""

from __future__ import annotations

import json
import types
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conformance.backends import load_backend
from conformance.cases import Case, complete
from conformance.checks import default_cases
from conformance.narrowing import Narrowing, narrow
from conformance.report import Report
from conformance.runner import run, run_case
from conformance.schema import validate
from spec_tests import conformance_mistakes as mistakes
from spec_tests.mutant_corpus.blind import _conv2d_columns_at_the_row_stride

pytestmark = pytest.mark.infrastructure

REF = load_backend("numpy")


def _golden(op: str, name: str) -> Case:
    return complete(next(c for c in default_cases([op]) if c.name == name), REF)


def _narrowed(backend: Any, case: Case, check: str = "gradient") -> Narrowing:
    found = narrow(load_backend(backend), case, check, np.float64, REF)  # type: ignore[arg-type]
    assert found is not None
    return found


def _lstm_o_from_the_previous_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
                                   w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor,
                                   b_hh: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """An LSTM whose values are right, but whose gradient through the output gate o is taken
    with tanh(c_{t−1}) in place of tanh(c_t) (a cache read one step early)."""
    H, outs = h.shape[1], []
    for x_t in x:
        a = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H])
        g, o = torch.tanh(a[:, 2 * H:3 * H]), torch.sigmoid(a[:, 3 * H:])
        previous, c = c, f * c + i * g
        fixed = o.detach()
        h = fixed * torch.tanh(c) + (o - fixed) * torch.tanh(previous).detach()
        outs.append(h)
    return torch.stack(outs), h, c


def _rnn_from_the_first_row(x: torch.Tensor, h0: torch.Tensor,
                            *w: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """An RNN that starts every sequence of the batch from h0[0] (a broadcast slip)."""
    from conformance.adapters.torch_backend import _rnn

    return _rnn(x, h0[:1].expand_as(h0), *w)


def _conv1d_kernel_channels_last(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor,
                                 stride: int, padding: int) -> torch.Tensor:
    """conv1d reading the kernels' memory as [K, F, C] (a channels-last port)."""
    k, c, f = w.shape
    return F.conv1d(x, w.reshape(k, f, c).permute(0, 2, 1), b, stride, padding)


lstm_o_early = mistakes._autodiff("lstm", _lstm_o_from_the_previous_cell)
rnn_first_row = mistakes._autodiff("rnn", _rnn_from_the_first_row)
conv1d_channels_last = mistakes._autodiff("conv1d", _conv1d_kernel_channels_last)


def test_an_lstm_gate_read_one_step_early_sits_in_gate_block_o_at_t_1() -> None:
    # T = 5, N = 2: every gate block of every weight is wrong; at T = 1 only block o is
    found = _narrowed(lstm_o_early, _golden("lstm", "02"))
    assert found.right == ()
    assert found.wrong[:2] == ("N = 1", "T = 1") and "h0 = c0 = 0" in found.wrong
    dw_ih = next(a for a in found.anatomy if a.array == "dw_ih")
    assert "gate:o" in dw_ih.where and "zeros" in dw_ih.how      # tanh(c0) = 0 there
    assert found.text.startswith("still wrong with N = 1, T = 1, h0 = c0 = 0")
    assert "gate block o" in found.text


def test_a_state_taken_from_the_first_row_needs_a_batch_and_a_state() -> None:
    found = _narrowed(rnn_first_row, _golden("rnn", "01"), "forward")
    assert found.right == ("N = 1", "h0 = 0")
    assert found.wrong == ("b_ih = b_hh = 0", "D = H")
    assert all(a.where == ("rows:1",) for a in found.anatomy)  # only batch row 1, of 2
    assert found.text == ("right once N = 1; right once h0 = 0; still wrong with b_ih = b_hh = "
                          f"0, D = H; there {found.anatomy[0].text} | {found.anatomy[1].text}")


def test_a_kernel_read_in_another_layout_needs_several_channels() -> None:
    case = _golden("conv1d", "01")
    assert case.inputs["x"].shape[1] > 1
    found = _narrowed(conv1d_channels_last, case)
    assert found.right == ("C = 1",)
    assert "N = 1" in found.wrong and "K = 1" in found.wrong


def test_window_and_upstream_simplifications() -> None:
    # max pool's gradient assigned where windows overlap: right once they do not
    overlapping = _golden("max_pool2d", next(
        c.name for c in default_cases(["max_pool2d"])
        if c.attrs["stride"][0] < c.attrs["kernel_size"][0] and c.has_gradient
        and (c.inputs["x"].shape[2] - c.attrs["kernel_size"][0]) % c.attrs["kernel_size"][0]
        == 0))
    found = _narrowed(mistakes.max_pool_gradient_assigned, overlapping)
    assert "stride = window" in found.right
    # an RNN backward that drops the final state's gradient: right with only dout upstream
    rnn = _golden("rnn", "02")
    dropped = _narrowed(mistakes._final_states_dropped("rnn"), rnn)
    assert "only dout upstream" in dropped.right and "only dh_n upstream" in dropped.wrong


def test_a_call_that_raises_on_a_simpler_case_says_nothing() -> None:
    def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        if x.shape[0] == 1:
            raise RuntimeError("this backend needs a batch")
        return x @ w.T + 2 * b                       # the bias counted twice

    backend = types.SimpleNamespace(linear=linear)
    case = _golden("linear", next(c.name for c in default_cases(["linear"])
                                  if c.inputs["x"].shape[0] > 1 and np.any(c.inputs["b"])))
    found = _narrowed(backend, case, "forward")
    assert found.right == ("b = 0",)
    assert "N = 1" not in found.wrong                              # N = 1 raised: left out
    assert found.text.startswith("right once b = 0")


def test_nothing_to_narrow() -> None:
    relu = complete(Case("relu", "property", "t", {"x": np.array([1.0, -2.0])},
                         upstream={"y": np.array([1.0, 1.0])}), REF)
    wrong = types.SimpleNamespace(relu=lambda x: x)
    assert narrow(load_backend(wrong), relu, "forward", np.float64, REF) is None
    small = complete(Case("linear", "property", "t", {"x": np.ones((1, 2)), "w": np.ones((2, 2)),
                                                     "b": np.zeros(2)}), REF)
    doubled = types.SimpleNamespace(linear=lambda x, w, b: 2 * (x @ w.T + b))
    assert narrow(load_backend(doubled), small, "forward", np.float64, REF) is None


def test_the_report_shows_the_narrowing_of_an_unknown_failure() -> None:
    [forward, _] = run_case(load_backend(rnn_first_row), _golden("rnn", "01"))
    assert forward.narrowing is not None
    assert forward.diagnosis is not None and forward.diagnosis.startswith("unknown")
    assert forward.diagnosis.endswith("see the consistency, anatomy and narrowed lines")
    lines = forward.findings()
    assert lines[-2] == f"narrowed: {forward.narrowing.text}"
    report = Report("t", "0", "float64", ["rnn"], [forward])
    doc = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert validate(doc) == []
    assert doc["results"][0]["narrowing"]["right"] == ["N = 1", "h0 = 0"]


def test_a_named_mistake_is_not_narrowed() -> None:
    report = run(mistakes.max_pool_gradient_assigned, ops=["max_pool2d"])
    named = [r for r in report.failures() if not (r.diagnosis or "").startswith("unknown")]
    assert named and all(r.narrowing is None for r in named)


def test_a_call_that_raises_is_narrowed_to_what_the_crash_needs() -> None:
    backend = types.SimpleNamespace(conv2d=_conv2d_columns_at_the_row_stride)
    report = run(backend, ops=["conv2d"])
    raised = [r for r in report.failures() if "raised ValueError" in r.reason]
    assert raised and all(r.narrowing is not None and r.narrowing.right == ("stride 1",)
                          and r.narrowing.anatomy == () for r in raised)
    assert all(f"narrowed: {r.narrowing.text}" in r.findings() for r in raised)
    assert all("mutant_corpus/blind.py, line" in r.reason for r in raised)        # its line


def _max_pool_stepping_by_the_window(x: np.ndarray, kernel_size: Any, stride: Any
                                     ) -> np.ndarray:
    """Windows stepped by their size (i·FH + p) where the stride belongs, over the stride's
    output grid (blind review #8, m16): raises where the stride is smaller than the window."""
    (fh, fw), (sh, sw) = kernel_size, stride
    oh, ow = (x.shape[2] - fh) // sh + 1, (x.shape[3] - fw) // sw + 1
    y = np.empty((*x.shape[:2], oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows, cols = np.arange(i * fh, i * fh + fh), np.arange(j * fw, j * fw + fw)
            y[:, :, i, j] = x[:, :, rows][:, :, :, cols].max(axis=(2, 3))   # IndexError past
    return y                                                                 # the end


def test_a_new_stride_or_window_that_does_not_fit_cuts_the_input_to_fit() -> None:
    """The golden cases whose windows overlap do not fit a stride equal to the window (5 rows,
    window 3): the input is cut to 3 rows, and the crash is said to need overlapping windows."""
    backend = types.SimpleNamespace(max_pool2d=_max_pool_stepping_by_the_window)
    report = run(backend, ops=["max_pool2d"])
    raised = [r for r in report.failures() if "raised IndexError" in r.reason]
    assert raised and all(r.narrowing is not None and "stride = window" in r.narrowing.right
                          for r in raised), [r.narrowing for r in raised]
    assert any((r.case.inputs["x"].shape[2] - r.case.attrs["kernel_size"][0])
               % r.case.attrs["kernel_size"][0] for r in raised)        # (one needed cutting)


def test_a_crash_that_a_square_weight_avoids_is_said_to_need_m_and_d_apart() -> None:
    """dx[n, d] += dy[n, m] · w[d, m] (blind review #8, m52): an IndexError wherever M ≠ D, and
    on a square w wrong values (dy wᵀ where dy w belongs), but no crash."""
    def linear_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray,
                        b: np.ndarray) -> tuple[np.ndarray, ...]:
        d = np.arange(x.shape[1])
        dx = dy @ w[d[:, None], np.arange(w.shape[0])].T          # w[d, m]: IndexError if M < D
        return dx, dy.T @ x, dy.sum(axis=0)

    backend = types.SimpleNamespace(linear=mistakes.TORCH.linear, linear_backward=linear_backward)
    raised = [r for r in run(backend, ops=["linear"]).failures() if "raised" in r.reason]
    assert raised and all(r.narrowing is not None for r in raised)
    assert all("M = D (where it no longer raises)" in r.narrowing.wrong
               or r.narrowing.right == ("M = D",) for r in raised), [r.narrowing for r in raised]
    assert any("M = D (where it no longer raises)" in r.narrowing.wrong for r in raised)


def test_a_recurrent_crash_on_d_and_h_apart_is_said_to_need_them_apart() -> None:
    """x_t w_ih where w_ih x_t belongs (the corpus's rnn-w_ih-transposed) raises wherever
    D ≠ H: with D = H the call runs (and is right where H = D = 1, a 1×1 weight)."""
    from spec_tests.mutant_corpus import by_id

    report = run(by_id("rnn-w_ih-transposed").backend, ops=["rnn"])
    raised = [r for r in report.failures() if "raised" in r.reason]
    assert raised and all(
        r.narrowing is not None and ("D = H" in r.narrowing.right
                                     or "D = H (where it no longer raises)" in r.narrowing.wrong)
        for r in raised), [r.narrowing for r in raised]


@pytest.mark.parametrize("op", ["rnn", "lstm", "gru"])
def test_d_equals_h_cuts_each_gate_block_and_the_reference_takes_the_case(op: str) -> None:
    from conformance.narrowing import _input_size_of_the_state

    for case in (c for c in default_cases([op]) if c.has_gradient):
        d, h = case.inputs["x"].shape[-1], case.inputs["h0"].shape[-1]
        cut = _input_size_of_the_state(complete(case, REF))
        if d == h:
            assert cut is None
            continue
        assert cut is not None
        small = complete(cut, REF)                  # the reference accepts it
        k = min(d, h)
        assert small.inputs["x"].shape[-1] == small.inputs["h0"].shape[-1] == k
        gates = case.inputs["w_ih"].shape[0] // h
        assert small.inputs["w_hh"].shape == (gates * k, k)
        if d < h:                                   # the first rows of each gate block
            block = case.inputs["w_ih"].reshape(gates, h, d)[:, :k].reshape(gates * k, d)
            assert np.array_equal(small.inputs["w_ih"], block)
            assert all(np.shape(v)[-1] == k for v in small.upstream.values())
