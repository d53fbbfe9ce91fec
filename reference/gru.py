"""The gated recurrent unit (lecture: "Conclusion": "LSTMs, GRUs are special kind of RNNs").

The lecture names the GRU as the other gated RNN without giving its equations; the specification
takes PyTorch's (torch.nn.GRU), gate blocks stacked in the order (r, z, n)::

    r = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)            reset gate
    z = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)            update gate
    n = tanh(W_in x_t + b_in + r ∘ (W_hn h_{t−1} + b_hn))   candidate state ("reset after")
    h_t = (1 − z) ∘ n + z ∘ h_{t−1}

With ``reset_after=False`` the candidate is the original GRU's (Cho et al., 2014), the reset
applied to the state *before* the matrix::

    n = tanh(W_in x_t + b_in + W_hn (r ∘ h_{t−1}) + b_hn)    ("reset before")

The two differ whenever r ≠ 1 and agree when r = 1. (Keras calls the switch ``reset_after``;
ONNX calls the first form ``linear_before_reset = 1``.) Only "reset after" is torch.nn.GRU.

Notation
--------
T, N, D, H   time steps, batch size, input width, hidden width
t            the steps count t = 1..T, as in PyTorch, from h_0 (reference.rnn counts from 0 and
             calls its initial state s_{−1}); the arrays are indexed from 0: x_t = x[t − 1]
x            the input sequence [T, N, D], time-major; x_t = x[t − 1] is [N, D]
h_t          the hidden state [N, H]; h0 (h_0) the initial state
r, z, n      reset gate, update gate, candidate state, each [N, H]
W_ih, W_hh   stacked weights [3H, D] and [3H, H], gate blocks (r, z, n) of H rows (PyTorch's
             weight_ih_l0, weight_hh_l0); W_in is the n block of W_ih, and so on
b_ih, b_hh   stacked biases [3H] (bias_ih_l0, bias_hh_l0). Unlike the LSTM's, b_hn is not
             interchangeable with b_in: it sits inside r ∘ (...) (or after the reset, before)
hn           the hidden side of the candidate [N, H]: W_hn h_{t−1} + b_hn ("after") or
             W_hn (r ∘ h_{t−1}) + b_hn ("before")

The matrices are in the column orientation of the rest of the lecture (W_ih x_t), written
``x @ W_ih.T``; the input projection of all T steps is one matrix product before the time loop.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from reference._checks import FloatArray, as_float_array, as_sequence, as_state, check_shape
from reference.activations import sigmoid, tanh
from reference.lstm import Array, _stacked_weights

__all__ = ["GRUCache", "GRUGrads", "gru_backward", "gru_forward", "gru_step"]


def _reset_flag(func: str, reset_after: Any) -> bool:
    if not isinstance(reset_after, (bool, np.bool_)):
        raise TypeError(f"{func}: reset_after must be True (PyTorch's GRU) or False (the "
                        f"original \"reset before\" GRU), got {type(reset_after).__name__} "
                        f"{reset_after!r}")
    return bool(reset_after)


def _step(xg: FloatArray, h_prev: FloatArray, W_hh: FloatArray, b_hh: FloatArray,
          reset_after: bool) -> tuple[FloatArray, ...]:
    """One step from the input side xg = W_ih x_t + b_ih [N, 3H] → (h_t, r, z, n, hn)."""
    H = h_prev.shape[1]
    if reset_after:
        hg = h_prev @ W_hh.T + b_hh                 # W_h· h_{t−1} + b_h·, all three blocks
        rz = sigmoid(xg[:, :2 * H] + hg[:, :2 * H])     # r, z = σ(W_i· x_t + b_i· + W_h· h + b_h·)
        r, z = rz[:, :H], rz[:, H:]
        hn = hg[:, 2 * H:]                          # W_hn h_{t−1} + b_hn
        n = tanh(xg[:, 2 * H:] + r * hn)            # n = tanh(W_in x_t + b_in + r ∘ hn)
    else:
        rz = sigmoid(xg[:, :2 * H] + h_prev @ W_hh[:2 * H].T + b_hh[:2 * H])
        r, z = rz[:, :H], rz[:, H:]
        hn = (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:]   # W_hn (r ∘ h_{t−1}) + b_hn
        n = tanh(xg[:, 2 * H:] + hn)                # n = tanh(W_in x_t + b_in + hn)
    h = (1.0 - z) * n + z * h_prev                  # h_t = (1 − z) ∘ n + z ∘ h_{t−1}
    return h, r, z, n, hn


def gru_step(x_t: Any, h_prev: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any,
             reset_after: bool = True) -> FloatArray:
    """One GRU step: h_t = (1 − z) ∘ n + z ∘ h_{t−1} with r, z, n as in the module docstring.

    Shapes: x_t [N, D], h_prev [N, H], W_ih [3H, D], W_hh [3H, H], b_ih and b_hh [3H] (blocks
    r, z, n) → h_t [N, H].

    Notes
    -----
    ``reset_after=True`` (the default) is torch.nn.GRU's cell; ``False`` the "reset before" GRU.

    Raises
    ------
    TypeError if reset_after is not a bool; ValueError on shapes that do not fit together or
    non-finite values.
    """
    func = "gru_step"
    reset_after = _reset_flag(func, reset_after)
    x_t = as_float_array(func, "x_t", x_t, ndim=2, finite=True)
    W_ih, W_hh, b_ih, b_hh = _stacked_weights(func, 3, x_t.shape[1], W_ih, W_hh, b_ih, b_hh)
    h_prev = as_state(func, "h_prev", h_prev, x_t.shape[0], W_hh.shape[1])
    return _step(x_t @ W_ih.T + b_ih, h_prev, W_hh, b_hh, reset_after)[0]


class GRUCache(NamedTuple):
    """What ``gru_backward`` needs from ``gru_forward``. h[t] is h_t for t = 0..T (h[0] = h_0,
    the initial state), so step t reads h[t − 1] and writes h[t]; r[t − 1], z[t − 1] ... hold
    the gates of step t."""

    x: Array          # [T, N, D]
    h: Array          # [T + 1, N, H]
    r: Array          # [T, N, H]
    z: Array          # [T, N, H]
    n: Array          # [T, N, H]
    hn: Array         # [T, N, H], the hidden side of the candidate (see Notation)
    W_ih: Array       # [3H, D]
    W_hh: Array       # [3H, H]
    reset_after: bool


class GRUGrads(NamedTuple):
    """Gradients of the loss with respect to ``gru_forward``'s arguments, in their order."""

    dx: Array         # [T, N, D]
    dh0: Array        # [N, H]
    dW_ih: Array      # [3H, D]
    dW_hh: Array      # [3H, H]
    db_ih: Array      # [3H]
    db_hh: Array      # [3H]


def gru_forward(x: Any, h0: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any,
                reset_after: bool = True) -> tuple[FloatArray, FloatArray, GRUCache]:
    """A GRU over a sequence: h_t = gru_step(x_t, h_{t−1}) for t = 1..T.

    Shapes: x [T, N, D] (time-major), h0 [N, H], W_ih [3H, D], W_hh [3H, H], b_ih and b_hh [3H]
    (blocks r, z, n) → (out [T, N, H] = h_1..h_T, h_T [N, H], cache).

    Notes
    -----
    With ``reset_after=True`` this is torch.nn.GRU(D, H), batch_first=False, with
    weight_ih_l0 = W_ih, weight_hh_l0 = W_hh, bias_ih_l0 = b_ih, bias_hh_l0 = b_hh.

    Raises
    ------
    TypeError if reset_after is not a bool; ValueError on a sequence that is not [T, N, D] with
    T, N, D ≥ 1, weights whose shapes do not match x and each other, or non-finite values.
    """
    func = "gru_forward"
    reset_after = _reset_flag(func, reset_after)
    x = as_sequence(func, "x", x)
    W_ih, W_hh, b_ih, b_hh = _stacked_weights(func, 3, x.shape[2], W_ih, W_hh, b_ih, b_hh)
    T, N, D = x.shape
    H = W_hh.shape[1]
    h = np.empty((T + 1, N, H))
    h[0] = as_state(func, "h0", h0, N, H)
    r, z, n, hn = (np.empty((T, N, H)) for _ in range(4))
    xg = (x.reshape(T * N, D) @ W_ih.T + b_ih).reshape(T, N, 3 * H)  # W_ih x_t + b_ih, all t
    for t in range(T):
        h[t + 1], r[t], z[t], n[t], hn[t] = _step(xg[t], h[t], W_hh, b_hh, reset_after)
    cache = GRUCache(x, h, r, z, n, hn, W_ih, W_hh, reset_after)
    return h[1:].copy(), h[T].copy(), cache          # not views into the cache


def gru_backward(d_out: Any, cache: GRUCache, dh_T: Any = None) -> GRUGrads:
    """Backpropagation through time for ``gru_forward``: the gradients of L with respect to x,
    h0, W_ih, W_hh, b_ih and b_hh, given ∂L/∂out and ∂L/∂h_T.

    Going back from t = T with the carry ∂L/∂h_t (∂L/∂out_t added)::

        ∂L/∂n = ∂L/∂h_t ∘ (1 − z)        ∂L/∂z = ∂L/∂h_t ∘ (h_{t−1} − n)
        ∂L/∂a_n = ∂L/∂n ∘ (1 − n²)       (a_n the argument of n's tanh)
        after:  ∂L/∂r = ∂L/∂a_n ∘ hn,                ∂L/∂hn = ∂L/∂a_n ∘ r
        before: ∂L/∂r = (W_hnᵀ ∂L/∂a_n) ∘ h_{t−1},   ∂L/∂hn = ∂L/∂a_n
        after:  ∂L/∂h_{t−1} = ∂L/∂h_t ∘ z + W_hhᵀ [∂L/∂a_r, ∂L/∂a_z, ∂L/∂hn]
        before: ∂L/∂h_{t−1} = ∂L/∂h_t ∘ z + W_hrᵀ ∂L/∂a_r + W_hzᵀ ∂L/∂a_z + (W_hnᵀ ∂L/∂a_n) ∘ r

    Shapes: d_out [T, N, H]; cache from ``gru_forward``; dh_T [N, H] (None means 0)
    → GRUGrads(dx [T, N, D], dh0 [N, H], dW_ih [3H, D], dW_hh [3H, H], db_ih [3H], db_hh [3H]).

    Raises
    ------
    TypeError if cache is not a GRUCache; ValueError if d_out or dh_T has the wrong shape or is
    not finite.
    """
    func = "gru_backward"
    if not isinstance(cache, GRUCache):
        raise TypeError(f"{func}: cache must be the GRUCache returned by gru_forward, got "
                        f"{type(cache).__name__}")
    x, h, r, z, n, hn, W_ih, W_hh, reset_after = cache
    T, N, H = r.shape
    D = x.shape[2]
    d_out = as_float_array(func, "d_out", d_out, ndim=3, finite=True)
    check_shape(func, "d_out", d_out, (T, N, H), "the shape of gru_forward's out [T, N, H]")
    dh = np.zeros((N, H)) if dh_T is None else as_state(func, "dh_T", dh_T, N, H)
    W_hn = W_hh[2 * H:]
    d_xg = np.empty((T, N, 3 * H))                  # ∂L/∂(W_ih x_t + b_ih), blocks r, z, n
    d_hg = np.empty((T, N, 3 * H))                  # ∂L/∂(W_hh h_in + b_hh), blocks r, z, n
    h_in_n = np.empty((T, N, H))                    # what W_hn multiplies: h_{t−1} or r ∘ h_{t−1}
    for t in range(T - 1, -1, -1):
        dh = dh + d_out[t]                          # ∂L/∂h_t: this step's output + the carry
        h_prev = h[t]
        dn = dh * (1.0 - z[t])                      # h_t = (1 − z) ∘ n + z ∘ h_{t−1}
        dz = dh * (h_prev - n[t])
        dh_prev = dh * z[t]
        da_n = dn * (1.0 - n[t] ** 2)               # through n = tanh(a_n)
        if reset_after:                             # a_n = W_in x + b_in + r ∘ hn
            dr = da_n * hn[t]
            d_hn = da_n * r[t]
            h_in_n[t] = h_prev
        else:                                       # a_n = W_in x + b_in + W_hn (r ∘ h) + b_hn
            d_rh = da_n @ W_hn                      # ∂L/∂(r ∘ h_{t−1})
            dr = d_rh * h_prev
            dh_prev += d_rh * r[t]
            d_hn = da_n
            h_in_n[t] = r[t] * h_prev
        da_r = dr * r[t] * (1.0 - r[t])             # through σ
        da_z = dz * z[t] * (1.0 - z[t])
        d_xg[t] = np.concatenate([da_r, da_z, da_n], axis=1)
        d_hg[t] = np.concatenate([da_r, da_z, d_hn], axis=1)
        if reset_after:
            dh = dh_prev + d_hg[t] @ W_hh           # + W_hhᵀ [∂L/∂a_r, ∂L/∂a_z, ∂L/∂hn]
        else:                                       # the n block reached h through r ∘ h above
            dh = dh_prev + d_hg[t][:, :2 * H] @ W_hh[:2 * H]
    d_xg_flat, d_hg_flat = d_xg.reshape(T * N, 3 * H), d_hg.reshape(T * N, 3 * H)
    dx = (d_xg_flat @ W_ih).reshape(T, N, D)        # ∂L/∂x_t = W_ihᵀ ∂L/∂(W_ih x_t + b_ih)
    dW_ih = d_xg_flat.T @ x.reshape(T * N, D)
    dW_hh = np.empty_like(W_hh)
    dW_hh[:2 * H] = d_hg_flat[:, :2 * H].T @ h[:T].reshape(T * N, H)      # r, z: Σ_t δ h_{t−1}ᵀ
    dW_hh[2 * H:] = d_hg_flat[:, 2 * H:].T @ h_in_n.reshape(T * N, H)    # n: Σ_t δ h_inᵀ
    return GRUGrads(dx, dh, dW_ih, dW_hh, d_xg_flat.sum(axis=0), d_hg_flat.sum(axis=0))
