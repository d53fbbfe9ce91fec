"""Mutants of the recurrent ops: rnn, lstm, gru.

The forwards are the cells written step by step in torch (spec_tests.mutant_corpus._make), the
gradients autograd's through them; the RNN also has a hand-written NumPy backpropagation through
time, whose mistakes are the loop bugs people write.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch

from spec_tests.mutant_corpus._make import (
    FG,
    TORCH,
    Arrays,
    G,
    autodiff,
    blocks,
    gradient_of,
    gru_steps,
    in_float32,
    lstm_steps,
    mutant,
    on_tf32,
    patched,
    replace_at,
    rnn_steps,
)

Tensor = torch.Tensor
sig = torch.sigmoid


def _upstream_dropped(op: str, drop: tuple[int, ...]) -> types.SimpleNamespace:
    """torch's forward and gradient, the upstream gradients of the outputs ``drop`` (1: h_n,
    2: c_n) never used: the backward starts from ∂L/∂out alone."""
    def vjp(name: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
        kept = tuple(np.zeros_like(c) if i in drop else c for i, c in enumerate(cots))
        return TORCH.vjp(name, inputs, attrs, kept)
    return types.SimpleNamespace(**{op: getattr(TORCH, op), "vjp": vjp})


def _unstable_tanh(a: Tensor) -> Tensor:
    e = torch.exp(2 * a)
    return (e - 1) / (e + 1)


def _unstable_sigmoid(a: Tensor) -> Tensor:
    return torch.exp(a) / (1 + torch.exp(a))


def _every(k: int) -> Callable[[Tensor, int], Tensor]:
    """Truncated BPTT: the state detached at every k-th step."""
    return lambda h, t: h.detach() if t % k == 0 else h


# ---------------------------------------------------------------- rnn: a NumPy BPTT
def _np_rnn(x: np.ndarray, h0: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
            b_ih: np.ndarray, b_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, outs = h0, []
    for x_t in x:
        h = np.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        outs.append(h)
    return np.stack(outs), h


def _np_rnn_backward(mistake: str | None):
    """Backpropagation through time by hand; ``mistake`` is one loop bug (None: none)."""
    def grad(dout: np.ndarray, dh_n: np.ndarray, x: np.ndarray, h0: np.ndarray,
             w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray) -> Arrays:
        out, _ = _np_rnn(x, h0, w_ih, w_hh, b_ih, b_hh)
        states = np.concatenate([h0[None], out])               # s_{−1}, s_0, ..., s_{T−1}
        dx = np.zeros_like(x)
        dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
        db = np.zeros_like(b_ih)
        dh_next = dh_n
        for t in reversed(range(1 if mistake == "skips-first-step" else 0, len(x))):
            dh = dout[t] + (0 if mistake == "dh-overwritten" and t < len(x) - 1 else dh_next)
            if mistake == "dh-overwritten" and t == len(x) - 1:
                dh = dout[t] + dh_n
            s = states[t] if mistake == "stale-state" else states[t + 1]
            da = dh * (1 - s ** 2)
            step_dw_hh = da.T @ states[t + 1 if mistake == "dw_hh-current-state" else t]
            dw_hh = step_dw_hh if mistake == "dw-assigned" else dw_hh + step_dw_hh
            dw_ih += da.T @ x[t]
            db += da.sum(axis=0)
            dx[len(x) - 1 - t if mistake == "dx-reversed" else t] = da @ w_ih
            dh_next = da @ w_hh
        dh0 = da if mistake == "dh0-before-w_hh" else dh_next
        return dx, dh0, dw_ih, dw_hh, db, db.copy()
    return grad


def _np_rnn_backend(mistake: str | None) -> types.SimpleNamespace:
    return types.SimpleNamespace(rnn=TORCH.rnn, rnn_backward=_np_rnn_backward(mistake))


RNN_ALL = ["out", "h_n", "dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"]

RNN = [
    mutant("rnn-w_hh-transposed", "rnn", "s_{t−1} w_hh in place of w_hh s_{t−1}",
           "consistent-forward", autodiff("rnn", lambda x, h0, wi, wh, bi, bh: rnn_steps(
               x, h0, wi, wh.T, bi, bh)), FG, "forward",
           ["out", "h_n", "dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"],
           named="transposed weight"),
    mutant("rnn-w_ih-transposed", "rnn", "x_t w_ih in place of w_ih x_t", "consistent-forward",
           autodiff("rnn", lambda x, h0, wi, wh, bi, bh: rnn_steps(x, h0, wi.T, wh, bi, bh)),
           FG, "forward", [], named="transposed weight"),
    mutant("rnn-h_n-gradient-dropped", "rnn", "backward starts from ∂L/∂out only: ∂L/∂h_n unused",
           "backward-only", _upstream_dropped("rnn", (1,)), G, "backward",
           ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"], named="final state ignored"),
    mutant("rnn-no-bptt", "rnn", "the state detached between steps: no gradient through time",
           "backward-only", gradient_of("rnn", partial(rnn_steps, carry=lambda h, t: h.detach())),
           G, "backward", ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"],
           named="no backprop through time"),
    mutant("rnn-truncated-bptt", "rnn", "truncated BPTT: the state detached every 3 steps",
           "backward-only", gradient_of("rnn", partial(rnn_steps, carry=_every(3))), G,
           "backward", ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"]),
    mutant("rnn-np-stale-state", "rnn",
           "hand-written BPTT: tanh' taken at the previous state, 1 − s_{t−1}²",
           "backward-only", _np_rnn_backend("stale-state"), G, "backward",
           ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"],
           named="derivative of the wrong quantity"),
    mutant("rnn-np-dw-assigned", "rnn",
           "hand-written BPTT: dw_hh = (not +=) each step's term: only step 0's survives",
           "backward-only", _np_rnn_backend("dw-assigned"), G, "backward", ["dw_hh"]),
    mutant("rnn-np-dx-reversed", "rnn", "hand-written BPTT: dx[t] stored at T − 1 − t",
           "backward-only", _np_rnn_backend("dx-reversed"), G, "backward", ["dx"]),
    mutant("rnn-np-dh-overwritten", "rnn",
           "hand-written BPTT: dh = dout[t], the gradient from step t + 1 not added",
           "backward-only", _np_rnn_backend("dh-overwritten"), G, "backward",
           ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"],
           named="no backprop through time"),
    mutant("rnn-relu", "rnn", "relu as the non-linearity of the cell", "consistent-forward",
           autodiff("rnn", partial(rnn_steps, act=torch.relu)), FG, "forward",
           ["out", "h_n", "dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"], named="cell variant"),
    mutant("rnn-sigmoid", "rnn", "σ as the non-linearity of the cell", "consistent-forward",
           autodiff("rnn", partial(rnn_steps, act=sig)), FG, "forward",
           ["out", "h_n", "dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"], named="cell variant"),
    mutant("rnn-skips-last-step", "rnn", "the loop runs for t in range(T − 1)",
           "consistent-forward", autodiff("rnn", lambda x, h0, *w: rnn_steps(
               x, h0, *w, steps=max(len(x) - 1, 1))), FG, "forward", ["out", "h_n"]),
    mutant("rnn-h0-ignored", "rnn", "the state starts at zero, h0 unused", "consistent-forward",
           autodiff("rnn", lambda x, h0, *w: rnn_steps(x, 0 * h0, *w)), FG, "forward",
           RNN_ALL, named="state handling"),
    mutant("rnn-b_hh-ignored", "rnn", "only b_ih added: the hidden bias b_hh left out",
           "consistent-forward", autodiff("rnn", lambda x, h0, wi, wh, bi, bh: rnn_steps(
               x, h0, wi, wh, bi, 0 * bh)), FG, "forward", RNN_ALL,
           named="bias ignored"),
    mutant("rnn-b_ih-twice", "rnn", "b_ih added twice, b_hh not at all", "consistent-forward",
           autodiff("rnn", lambda x, h0, wi, wh, bi, bh: rnn_steps(
               x, h0, wi, wh, bi, bi + 0 * bh)), FG, "forward", RNN_ALL,
           named="bias twice"),                          # (blind review #7 m37)
    mutant("rnn-h_n-is-first", "rnn", "h_n = out[0], not out[T − 1]", "consistent-forward",
           autodiff("rnn", partial(rnn_steps, last=0)), FG, "forward",
           ["h_n", *RNN_ALL[2:]], named="cell variant"),
    mutant("rnn-unstable-tanh", "rnn", "tanh as (e^2a − 1)/(e^2a + 1): nan for large a",
           "edge-only", autodiff("rnn", partial(rnn_steps, act=_unstable_tanh)), FG, "forward",
           RNN_ALL, named="unstable", how=["nonfinite"]),
    mutant("rnn-out-squeezed", "rnn", "out.squeeze(): one step (T = 1) or one sequence (N = 1) "
           "loses its axis", "edge-only", autodiff("rnn", lambda *a: (lambda o, h: (
               o.squeeze(), h))(*rnn_steps(*a))), FG, "forward", ["out"], how=["shape"]),
    mutant("rnn-ten-step-buffer", "rnn", "states kept in a buffer of max_len = 10 steps: "
           "longer sequences are cut", "edge-only", autodiff("rnn", lambda x, h0, *w: rnn_steps(
               x, h0, *w, steps=min(len(x), 10))), FG, "forward", ["out", "h_n"]),
    mutant("rnn-float32", "rnn", "computed in float32 in a float64 run", "float32-only",
           autodiff("rnn", in_float32(rnn_steps)), FG, "both",
           ["out", "h_n", "dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"],
           named="float32 rounding"),
    mutant("rnn-tf32", "rnn", "a float32 run with TF32 matmuls", "float32-only",
           autodiff("rnn", on_tf32(rnn_steps)), FG, "both", RNN_ALL, dtype="float32"),
]


# ---------------------------------------------------------------- lstm
def _lstm_gates(order: list[int]) -> Callable[..., Any]:
    return lambda x, h0, c0, *w: lstm_steps(x, h0, c0, *(blocks(v, h0.shape[1], order)
                                                         for v in w))


def _lstm_f_block_transposed(x: Tensor, h0: Tensor, c0: Tensor, wi: Tensor, wh: Tensor,
                             bi: Tensor, bh: Tensor) -> tuple[Tensor, ...]:
    h = h0.shape[1]
    wh = torch.cat([wh[:h], wh[h:2 * h].T, wh[2 * h:]])
    return lstm_steps(x, h0, c0, wi, wh, bi, bh)


def _lstm_cell_gradient_without_tanh_slope(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor,
                                          w_hh: Tensor, b_ih: Tensor, b_hh: Tensor
                                          ) -> tuple[Tensor, Tensor, Tensor]:
    """The right LSTM, but ∂L/∂c_t taken from h_t as dh ∘ o, without tanh'(c_t)."""
    outs = []
    for x_t in x:
        ai, af, ag, ao = torch.chunk(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, dim=1)
        o = torch.sigmoid(ao)
        c = torch.sigmoid(af) * c + torch.sigmoid(ai) * torch.tanh(ag)
        h = o * (torch.tanh(c).detach() + c - c.detach())      # value tanh(c), slope 1
        outs.append(h)
    return torch.stack(outs), h, c


def _lstm_forget_gradient_from_the_new_cell(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor,
                                            w_hh: Tensor, b_ih: Tensor, b_hh: Tensor
                                            ) -> tuple[Tensor, Tensor, Tensor]:
    """The right LSTM, but the forget gate's gradient taken as dc ∘ c_t where dc ∘ c_{t−1}
    belongs (a stale variable)."""
    outs = []
    for x_t in x:
        ai, af, ag, ao = torch.chunk(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, dim=1)
        f, ig = torch.sigmoid(af), torch.sigmoid(ai) * torch.tanh(ag)
        new = (f * c + ig).detach()
        c = f.detach() * c + (f - f.detach()) * new + ig
        h = torch.sigmoid(ao) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs), h, c


LSTM_GRADS = ["dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh"]
LSTM_ALL = ["out", "h_n", "c_n", *LSTM_GRADS]

LSTM = [
    mutant("lstm-onnx-gate-order", "lstm", "the stacked rows read as ONNX's i, o, f, c",
           "consistent-forward", autodiff("lstm", _lstm_gates([0, 2, 3, 1])), FG, "forward",
           LSTM_ALL, named="gate order"),
    mutant("lstm-i-f-swapped", "lstm", "the rows of i and f read the other way round",
           "consistent-forward", autodiff("lstm", _lstm_gates([1, 0, 2, 3])), FG, "forward",
           LSTM_ALL, named="gate order"),
    mutant("lstm-final-states-dropped", "lstm",
           "backward starts from ∂L/∂out only: ∂L/∂h_n and ∂L/∂c_n unused", "backward-only",
           _upstream_dropped("lstm", (1, 2)), G, "backward", LSTM_GRADS,
           named="final state ignored"),
    mutant("lstm-c_n-dropped", "lstm", "∂L/∂c_n unused", "backward-only",
           _upstream_dropped("lstm", (2,)), G, "backward", LSTM_GRADS,
           named="final state ignored"),
    mutant("lstm-cell-path-dropped", "lstm", "no gradient from c_t to c_{t−1}",
           "backward-only", gradient_of("lstm", partial(lstm_steps, carry_c=lambda c: c.detach())),
           G, "backward", LSTM_GRADS, named="cell path dropped"),
    mutant("lstm-no-bptt", "lstm", "h detached between steps: no gradient through h_{t−1}",
           "backward-only", gradient_of("lstm", partial(lstm_steps, carry_h=lambda h: h.detach())),
           G, "backward", LSTM_GRADS, named="no backprop through time"),
    mutant("lstm-forget-bias-one", "lstm", "1 added to the forget gate's pre-activation (Keras's "
           "unit_forget_bias on top of the given biases)", "consistent-forward",
           autodiff("lstm", partial(lstm_steps, forget_bias=1.0)), FG, "forward", LSTM_ALL,
           named="cell variant"),
    mutant("lstm-no-output-tanh", "lstm", "h_t = o ∘ c_t: the tanh of the cell forgotten",
           "consistent-forward", autodiff("lstm", partial(lstm_steps, out_act=lambda c: c)), FG,
           "forward", LSTM_ALL, named="gate nonlinearity"),
    mutant("lstm-g-sigmoid", "lstm", "g = σ(·) instead of tanh(·)", "consistent-forward",
           autodiff("lstm", partial(lstm_steps, acts=(sig, sig, sig, sig))), FG, "forward",
           LSTM_ALL, named="gate nonlinearity"),
    mutant("lstm-i-tanh", "lstm", "i = tanh(·) instead of σ(·)", "consistent-forward",
           autodiff("lstm", partial(lstm_steps, acts=(torch.tanh, sig, torch.tanh, sig))), FG,
           "forward", LSTM_ALL, named="gate nonlinearity"),
    mutant("lstm-input-gate-forgotten", "lstm", "c_t = f ∘ c_{t−1} + g (i never applied)",
           "consistent-forward", autodiff("lstm", partial(
               lstm_steps, cell=lambda i, f, g, c: f * c + g + 0 * i)), FG, "forward",
           LSTM_ALL),
    mutant("lstm-coupled-forget", "lstm", "f = 1 − i (a coupled forget gate)",
           "consistent-forward", autodiff("lstm", partial(
               lstm_steps, cell=lambda i, f, g, c: (1 - i) * c + i * g + 0 * f)), FG, "forward",
           LSTM_ALL),
    mutant("lstm-states-swapped", "lstm", "returns (out, c_n, h_n)", "consistent-forward",
           autodiff("lstm", lambda *a: (lambda o, h, c: (o, c, h))(*lstm_steps(*a))), FG,
           "forward", ["h_n", "c_n", *LSTM_GRADS], named="wrong argument"),
    mutant("lstm-f-block-transposed", "lstm", "the forget gate's w_hh block used transposed",
           "consistent-forward", autodiff("lstm", _lstm_f_block_transposed), FG, "forward",
           LSTM_ALL, named="transposed weight"),
    mutant("lstm-c0-ignored", "lstm", "the cell starts at zero, c0 unused", "consistent-forward",
           autodiff("lstm", lambda x, h0, c0, *w: lstm_steps(x, h0, 0 * c0, *w)), FG, "forward",
           LSTM_ALL, named="state handling"),
    mutant("lstm-db_hh-stub", "lstm", "db_hh never filled in: zeros", "backward-only",
           patched("lstm", lambda g, i, a, c: replace_at(g, 6, np.zeros_like(g[6]))), G,
           "backward", ["db_hh"], named="all zeros", where=["everywhere"], how=["zeros"]),
    mutant("lstm-unstable-sigmoid", "lstm", "gates σ(a) = e^a/(1 + e^a): nan for large a",
           "edge-only", autodiff("lstm", partial(lstm_steps, acts=(
               _unstable_sigmoid, _unstable_sigmoid, torch.tanh, _unstable_sigmoid))), FG,
           "forward", LSTM_ALL, named="unstable", how=["nonfinite"]),
    mutant("lstm-float32", "lstm", "computed in float32 in a float64 run", "float32-only",
           autodiff("lstm", in_float32(lstm_steps)), FG, "both", LSTM_ALL,
           named="float32 rounding"),
    mutant("lstm-tf32", "lstm", "a float32 run with TF32 matmuls", "float32-only",
           autodiff("lstm", on_tf32(lstm_steps)), FG, "both", LSTM_ALL, dtype="float32"),
    mutant("lstm-cell-gradient-without-tanh-slope", "lstm", "∂L/∂c_t from h_t taken as dh ∘ o, "
           "without tanh'(c_t) (the forward right)", "backward-only",
           autodiff("lstm", _lstm_cell_gradient_without_tanh_slope), G, "backward", LSTM_GRADS),
    mutant("lstm-forget-gradient-from-the-new-cell", "lstm", "the forget gate's gradient dc ∘ "
           "c_t, where dc ∘ c_{t−1} belongs (the forward right)", "backward-only",
           autodiff("lstm", _lstm_forget_gradient_from_the_new_cell), G, "backward",
           LSTM_GRADS),
]


# ---------------------------------------------------------------- gru
def _gru_gates(order: list[int]) -> Callable[..., Any]:
    return lambda x, h0, *w: gru_steps(x, h0, *(blocks(v, h0.shape[1], order) for v in w))


def _reset_before(n_i: Tensor, h: Tensor, w_hn: Tensor, b_hn: Tensor, r: Tensor) -> Tensor:
    return torch.tanh(n_i + (r * h) @ w_hn.T + b_hn)


def _b_hn_outside(n_i: Tensor, h: Tensor, w_hn: Tensor, b_hn: Tensor, r: Tensor) -> Tensor:
    return torch.tanh(n_i + r * (h @ w_hn.T) + b_hn)


def _no_reset(n_i: Tensor, h: Tensor, w_hn: Tensor, b_hn: Tensor, r: Tensor) -> Tensor:
    return torch.tanh(n_i + h @ w_hn.T + b_hn + 0 * r)


GRU_GRADS = ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"]
GRU_ALL = ["out", "h_n", *GRU_GRADS]

GRU = [
    mutant("gru-keras-gate-order", "gru", "the stacked rows read as Keras's z, r, n",
           "consistent-forward", autodiff("gru", _gru_gates([1, 0, 2])), FG, "forward", GRU_ALL,
           named="gate order"),
    mutant("gru-update-swapped", "gru", "h_t = z ∘ n + (1 − z) ∘ h_{t−1}", "consistent-forward",
           autodiff("gru", partial(gru_steps, update=lambda z, n, h: z * n + (1 - z) * h)), FG,
           "forward", GRU_ALL, named="GRU update gate"),
    mutant("gru-reset-before", "gru", "n = tanh(W_in x + b_in + W_hn (r ∘ h) + b_hn)",
           "consistent-forward", autodiff("gru", partial(gru_steps, candidate=_reset_before)), FG,
           "forward", GRU_ALL, named="GRU reset before"),
    mutant("gru-b_hn-outside-reset", "gru", "n = tanh(W_in x + b_in + r ∘ (W_hn h) + b_hn)",
           "consistent-forward", autodiff("gru", partial(gru_steps, candidate=_b_hn_outside)), FG,
           "forward", GRU_ALL, named="cell variant"),
    mutant("gru-no-reset", "gru", "the reset gate never applied (r = 1)",
           "consistent-forward", autodiff("gru", partial(gru_steps, candidate=_no_reset)), FG,
           "forward", GRU_ALL),
    mutant("gru-h_n-gradient-dropped", "gru", "backward starts from ∂L/∂out only",
           "backward-only", _upstream_dropped("gru", (1,)), G, "backward", GRU_GRADS,
           named="final state ignored"),
    mutant("gru-no-bptt", "gru", "h detached between steps: no gradient through time",
           "backward-only", gradient_of("gru", partial(gru_steps, carry=lambda h: h.detach())), G,
           "backward", GRU_GRADS, named="no backprop through time"),
    mutant("gru-n-sigmoid", "gru", "n = σ(·) instead of tanh(·)", "consistent-forward",
           autodiff("gru", partial(gru_steps, acts=(sig, sig, sig))), FG, "forward", GRU_ALL,
           named="gate nonlinearity"),
    mutant("gru-r-tanh", "gru", "r = tanh(·) instead of σ(·)", "consistent-forward",
           autodiff("gru", partial(gru_steps, acts=(torch.tanh, sig, torch.tanh))), FG,
           "forward", GRU_ALL, named="gate nonlinearity"),
    mutant("gru-z-from-n-rows", "gru", "z read from the n rows (a copy-pasted block index)",
           "consistent-forward", autodiff("gru", _gru_gates([0, 2, 2])), FG, "forward", GRU_ALL),
    mutant("gru-h0-ignored", "gru", "the state starts at zero, h0 unused", "consistent-forward",
           autodiff("gru", lambda x, h0, *w: gru_steps(x, 0 * h0, *w)), FG, "forward",
           GRU_ALL, named="state handling"),
    mutant("gru-unstable-sigmoid", "gru", "gates σ(a) = e^a/(1 + e^a): nan for large a",
           "edge-only", autodiff("gru", partial(gru_steps, acts=(
               _unstable_sigmoid, _unstable_sigmoid, torch.tanh))), FG, "forward", GRU_ALL,
           named="unstable", how=["nonfinite"]),
    mutant("gru-ten-step-buffer", "gru", "states kept in a buffer of max_len = 10 steps: "
           "longer sequences are cut", "edge-only", autodiff("gru", lambda x, h0, *w: gru_steps(
               x[:10], h0, *w)), FG, "forward", ["out", "h_n"]),
    mutant("gru-float32", "gru", "computed in float32 in a float64 run", "float32-only",
           autodiff("gru", in_float32(gru_steps)), FG, "both", GRU_ALL,
           named="float32 rounding"),
    mutant("gru-tf32", "gru", "a float32 run with TF32 matmuls", "float32-only",
           autodiff("gru", on_tf32(gru_steps)), FG, "both", GRU_ALL, dtype="float32"),
]

MUTANTS = (*RNN, *LSTM, *GRU)

CONTROLS = {
    "rnn": autodiff("rnn", rnn_steps), "lstm": autodiff("lstm", lstm_steps),
    "gru": autodiff("gru", gru_steps), "rnn-numpy": _np_rnn_backend(None),
}
"""The cells and the NumPy BPTT above without a mistake: they must pass (the corpus test checks
it), so that every mutant's failure is its mistake's."""
