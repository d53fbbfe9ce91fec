"""Long short-term memory (lecture: "Long Short Term Memory [Hochreiter and Schmidhuber, 1997]",
"Forget-Gate", "Set-Gate", "Update Internal Cell State", "Compute Output h_t").

    LSTMs designed to combat vanishing gradients through gating mechanism

        i = σ(x_t U^i + s_{t−1} W^i)        f = σ(x_t U^f + s_{t−1} W^f)
        o = σ(x_t U^o + s_{t−1} W^o)        g = tanh(x_t U^g + s_{t−1} W^g)
        c_t = c_{t−1} ∘ f + g ∘ i           s_t = tanh(c_t) ∘ o

    f_t = σ(W_f · [h_{t−1}, x_t] + b_f)     (and i_t, C̃_t likewise, with their own W and b)

The same cell is written three ways, as the slides and PyTorch write it:

* the slide form (``lstm_slide_step``): one U and one W per gate, no biases;
* the concatenated form (``lstm_concat_step``): one matrix acting on [h_{t−1}, x_t], plus a bias;
* the stacked form (``lstm_step``, ``lstm_forward``, ``lstm_backward``), PyTorch's layout
  (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``), gate blocks in PyTorch's
  order (i, f, g, o). This is the main API: a sequence forward and backpropagation through time
  for every parameter, x, h_0 and c_0.

Notation
--------
T, N, D, H   time steps, batch size, input width, hidden width
t            the steps count t = 1..T, as on the gate slides and in PyTorch, from h_0 and c_0
             (the initial states; reference.rnn counts from 0 and calls its initial state
             s_{−1}); the arrays are indexed from 0: x_t = x[t − 1]
x_t          the input at step t [N, D]; x the whole sequence [T, N, D], time-major
s_t = h_t    the hidden state ("s" on the LSTM slide, "h" on the gate slides and in PyTorch) [N, H]
c_t          the cell state [N, H]
i, f, g, o   input ("set") gate, forget gate, candidate cell value (C̃ on the slides), output
             gate, each [N, H]
U^k, W^k     slide form, gate k ∈ {i, f, o, g}: U^k [D, H] and W^k [H, H]
W, b         concatenated form: W [4H, H + D] acting on [h_{t−1}, x_t], b [4H]
W_ih, W_hh   stacked form: W_ih [4H, D], W_hh [4H, H], gate blocks (i, f, g, o) of H rows each
b_ih, b_hh   stacked biases [4H] (PyTorch has two; only their sum b_ih + b_hh matters)
a            the stacked pre-activations W_ih x_t + b_ih + W_hh h_{t−1} + b_hh [N, 4H]

Orientation: how the three forms map onto each other
----------------------------------------------------
The LSTM slide multiplies *row* vectors from the left (x_t U^i), so its U^k is [D, H] and the
code writes it literally, ``x_t @ U["i"]``. The stacked form is in the column orientation of the
rest of the lecture (a = W_ih x_t + ...), so W_ih is [4H, D] and the code writes ``x @ W_ih.T``.
Hence, for each gate k, block by block::

    W_ih[k-th block of H rows] = (U^k)ᵀ        W_hh[k-th block] = (W^k)ᵀ       (order i, f, g, o)
    W (concatenated) = [W_hh | W_ih]  (columns: h_{t−1} first, as in [h_{t−1}, x_t])
    b (concatenated) = b_ih + b_hh

and the three forms compute the same cell when the biases are zero (the slide has none).

Conventions (CONVENTIONS.md)
----------------------------
* Gate order (i, f, g, o) in every stacked array, as torch.nn.LSTM; adapters for other orders
  (ONNX: i, o, f, c) permute explicitly.
* ``lstm_forward`` takes PyTorch's two biases so that weights copy over one to one; its backward
  returns the same gradient for both (∂L/∂b_ih = ∂L/∂b_hh).
* Public functions compute in float64. The time loop runs in a private kernel that keeps the dtype
  it is given (bench/bench_lstm.py times it in float32 too); there σ(a) is evaluated as
  ½ + ½·tanh(a/2), the same function, overflow-free, with one ``tanh`` for all four gates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from reference._checks import (
    FloatArray,
    IntArray,
    as_float_array,
    as_index_array,
    as_named_arrays,
    as_sequence,
    as_state,
    check_shape,
    fail,
    positive_int,
    positive_number,
    rng_from,
)
from reference.activations import sigmoid, tanh
from reference.embedding import one_hot
from reference.losses import cross_entropy, cross_entropy_backward
from reference.optim import Adam, DescentResult, clip_by_norm, gradient_descent

__all__ = [
    "SLIDE_GATES",
    "SUBJECT_WORDS",
    "LSTMCache",
    "LSTMGrads",
    "SubjectLSTM",
    "lstm_backward",
    "lstm_concat_step",
    "lstm_forward",
    "lstm_slide_step",
    "lstm_step",
    "subject_loss_and_grads",
    "subject_sequences",
    "train_subject_lstm",
]

Array = NDArray[Any]   # float64 through the public API; the kernel keeps any floating dtype

SLIDE_GATES = ("i", "f", "o", "g")
"""The gate names of the slide form, in the slide's order (the stacked order is i, f, g, o)."""
STACKED_GATES = ("i", "f", "g", "o")


# ---------------------------------------------------------------- input checks
def _stacked_weights(func: str, gates: int, D: int, W_ih: Any, W_hh: Any, b_ih: Any,
                     b_hh: Any) -> tuple[FloatArray, ...]:
    """Check a stacked-gate layer's weights (shared with reference.gru): W_hh [G·H, H],
    W_ih [G·H, D], b_ih and b_hh [G·H], all finite, for G = ``gates`` blocks of H rows."""
    W_hh = as_float_array(func, "W_hh", W_hh, ndim=2, finite=True)
    H = W_hh.shape[1]
    if H == 0 or W_hh.shape[0] != gates * H:
        raise fail(func, f"W_hh must have shape ({gates}H, H) with {gates} gate blocks of H rows, "
                         f"got {W_hh.shape}")
    W_ih = as_float_array(func, "W_ih", W_ih, ndim=2, finite=True)
    check_shape(func, "W_ih", W_ih, (gates * H, D),
                f"{gates}H = {gates * H} rows from W_hh, D = {D} columns from the input")
    b_ih = as_float_array(func, "b_ih", b_ih, ndim=1, finite=True)
    check_shape(func, "b_ih", b_ih, (gates * H,), f"{gates}H from W_hh")
    b_hh = as_float_array(func, "b_hh", b_hh, ndim=1, finite=True)
    check_shape(func, "b_hh", b_hh, (gates * H,), f"{gates}H from W_hh")
    return W_ih, W_hh, b_ih, b_hh


def _step_inputs(func: str, x_t: Any, h_prev: Any, c_prev: Any) -> tuple[FloatArray, ...]:
    x_t = as_float_array(func, "x_t", x_t, ndim=2, finite=True)
    h_prev = as_float_array(func, "h_prev", h_prev, ndim=2, finite=True)
    if x_t.shape[0] != h_prev.shape[0]:
        raise fail(func, f"x_t has {x_t.shape[0]} rows but h_prev has {h_prev.shape[0]} "
                         f"(x_t.shape = {x_t.shape}, h_prev.shape = {h_prev.shape})")
    c_prev = as_state(func, "c_prev", c_prev, *h_prev.shape)
    return x_t, h_prev, c_prev


# ---------------------------------------------------------------- the slide's form
def _slide_weights(func: str, name: str, value: Any, shape: tuple[int, int]) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != set(SLIDE_GATES):
        keys = sorted(value) if isinstance(value, Mapping) else type(value).__name__
        raise TypeError(f"{func}: {name} must map each gate {SLIDE_GATES} to its matrix, got "
                        f"{keys}")
    out = {}
    for k in SLIDE_GATES:
        out[k] = as_float_array(func, f"{name}[{k!r}]", value[k], ndim=2, finite=True)
        check_shape(func, f"{name}[{k!r}]", out[k], shape, "(D, H) for U, (H, H) for W")
    return out


def lstm_slide_step(x_t: Any, s_prev: Any, c_prev: Any, U: Mapping[str, Any],
                    W: Mapping[str, Any]) -> tuple[FloatArray, FloatArray]:
    """One LSTM step as on the slide: k = σ(x_t U^k + s_{t−1} W^k), c_t = c_{t−1}∘f + g∘i,
    s_t = tanh(c_t)∘o.

    Shapes: x_t [N, D], s_prev and c_prev [N, H], U = {"i", "f", "o", "g"} → [D, H] each,
    W = {"i", "f", "o", "g"} → [H, H] each → (s_t [N, H], c_t [N, H]).

    Notes
    -----
    The slide's row vectors are the rows of x_t and s_prev, so each line below is the slide's
    line as written. There are no biases (see ``lstm_concat_step`` for the form with biases).

    Raises
    ------
    TypeError if U or W is not a mapping of exactly the four gates; ValueError on shapes that do
    not fit together or non-finite values.
    """
    func = "lstm_slide_step"
    x_t, s_prev, c_prev = _step_inputs(func, x_t, s_prev, c_prev)
    D, H = x_t.shape[1], s_prev.shape[1]
    U = _slide_weights(func, "U", U, (D, H))
    W = _slide_weights(func, "W", W, (H, H))
    i = sigmoid(x_t @ U["i"] + s_prev @ W["i"])     # i = σ(x_t U^i + s_{t−1} W^i)
    f = sigmoid(x_t @ U["f"] + s_prev @ W["f"])     # f = σ(x_t U^f + s_{t−1} W^f)
    o = sigmoid(x_t @ U["o"] + s_prev @ W["o"])     # o = σ(x_t U^o + s_{t−1} W^o)
    g = tanh(x_t @ U["g"] + s_prev @ W["g"])        # g = tanh(x_t U^g + s_{t−1} W^g)
    c_t = c_prev * f + g * i                        # c_t = c_{t−1} ∘ f + g ∘ i
    s_t = tanh(c_t) * o                             # s_t = tanh(c_t) ∘ o
    return s_t, c_t


# ---------------------------------------------------------------- the concatenated form
def _gates_to_state(a: FloatArray, c_prev: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The cell from the four gates' pre-activations a [N, 4H], stacked as (i, f, g = C̃, o):
    the concatenated and the stacked forms differ only in how they compute a."""
    H = c_prev.shape[1]
    i_t = sigmoid(a[:, 0:H])                        # i_t = σ(a_i)
    f_t = sigmoid(a[:, H:2 * H])                    # f_t = σ(a_f)
    C_tilde = tanh(a[:, 2 * H:3 * H])               # C̃_t = tanh(a_C)
    o_t = sigmoid(a[:, 3 * H:4 * H])                # o_t = σ(a_o)
    c_t = f_t * c_prev + i_t * C_tilde              # C_t = f_t ∘ C_{t−1} + i_t ∘ C̃_t
    h_t = o_t * tanh(c_t)                           # h_t = o_t ∘ tanh(C_t)
    return h_t, c_t


def lstm_concat_step(x_t: Any, h_prev: Any, c_prev: Any, W: Any,
                     b: Any) -> tuple[FloatArray, FloatArray]:
    """One LSTM step in the concatenated form: k_t = σ(W_k·[h_{t−1}, x_t] + b_k) for k = i, f, o,
    C̃_t = tanh(W_C·[h_{t−1}, x_t] + b_C), C_t = f_t∘C_{t−1} + i_t∘C̃_t, h_t = o_t∘tanh(C_t).

    Shapes: x_t [N, D], h_prev and c_prev [N, H], W [4H, H + D] (the four W_k stacked as row
    blocks in the order i, f, g = C̃, o; columns for h_{t−1} first, then x_t), b [4H]
    → (h_t [N, H], c_t [N, H]).

    Notes
    -----
    With W = [W_hh | W_ih] and b = b_ih + b_hh this is ``lstm_step``; with b = 0 and
    W_k = [(W^k)ᵀ | (U^k)ᵀ] it is the slide form ``lstm_slide_step``.

    Raises
    ------
    ValueError on shapes that do not fit together or non-finite values.
    """
    func = "lstm_concat_step"
    x_t, h_prev, c_prev = _step_inputs(func, x_t, h_prev, c_prev)
    D, H = x_t.shape[1], h_prev.shape[1]
    W = as_float_array(func, "W", W, ndim=2, finite=True)
    check_shape(func, "W", W, (4 * H, H + D), f"4H rows, H + D columns for [h_(t-1), x_t]; "
                                              f"H = {H}, D = {D}")
    b = as_float_array(func, "b", b, ndim=1, finite=True)
    check_shape(func, "b", b, (4 * H,), f"4H, H = {H}")
    hx = np.concatenate([h_prev, x_t], axis=1)      # [h_{t−1}, x_t]
    a = hx @ W.T + b                                # a_k = W_k·[h_{t−1}, x_t] + b_k, all four
    return _gates_to_state(a, c_prev)


# ---------------------------------------------------------------- the stacked form: the kernel
def _activation_affine(H: int, dtype: Any) -> tuple[Array, Array]:
    """Per-column constants (scale, offset) so that one tanh gives all four gates, as
    offset + scale·tanh(scale·a): σ(a) = ½ + ½·tanh(½a) on the σ blocks (i, f, o), and
    tanh(a) = 0 + 1·tanh(1·a) on the g block. (The kernels' speed-up: one tanh call over [N, 4H]
    instead of four calls; lstm_step shows the gates as the slide writes them.)"""
    scale = np.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H:3 * H] = 1.0
    offset = np.full(4 * H, 0.5, dtype=dtype)
    offset[2 * H:3 * H] = 0.0
    return scale, offset


def _cell(a: Array, c_prev: Array, scale: Array, offset: Array, h: Array, c: Array,
          tanh_c: Array) -> None:
    """The step, in place: from the pre-activations a [N, 4H] *already multiplied by scale* and
    c_{t−1}, the gates (written over a, order i, f, g, o) and h_t, c_t, tanh(c_t) (written into
    h, c and tanh_c, each [N, H])."""
    H = c_prev.shape[1]
    np.tanh(a, out=a)
    a *= scale
    a += offset                                     # i, f, o = ½ + ½ tanh(½·) = σ(·); g = tanh(·)
    i, f, g, o = a[:, 0:H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:4 * H]
    np.multiply(c_prev, f, out=c)
    c += g * i                                      # c_t = c_{t−1} ∘ f + g ∘ i
    np.tanh(c, out=tanh_c)
    np.multiply(tanh_c, o, out=h)                   # h_t = tanh(c_t) ∘ o


class LSTMCache(NamedTuple):
    """What ``lstm_backward`` needs from ``lstm_forward``.

    h[t] is h_t for t = 0..T (h[0] = h_0, the initial state), so step t reads h[t − 1] and
    writes h[t]; c likewise; gates[t − 1] holds i, f, g, o of step t in stacked order, and
    tanh_c[t − 1] holds tanh(c_t).
    """

    x: Array          # [T, N, D]
    h: Array          # [T + 1, N, H]
    c: Array          # [T + 1, N, H]
    gates: Array      # [T, N, 4H], values after σ / tanh
    tanh_c: Array     # [T, N, H]
    W_ih: Array       # [4H, D]
    W_hh: Array       # [4H, H]


class LSTMGrads(NamedTuple):
    """Gradients of the loss with respect to ``lstm_forward``'s arguments, in their order."""

    dx: Array         # [T, N, D]
    dh0: Array        # [N, H]
    dc0: Array        # [N, H]
    dW_ih: Array      # [4H, D]
    dW_hh: Array      # [4H, H]
    db_ih: Array      # [4H]
    db_hh: Array      # [4H]


def _forward_kernel(x: Array, h0: Array, c0: Array, W_ih: Array, W_hh: Array,
                    b: Array) -> tuple[Array, Array, Array, LSTMCache]:
    """lstm_forward without checks, in the dtype of its (same-dtype) inputs; b = b_ih + b_hh."""
    T, N, D = x.shape
    H = h0.shape[1]
    scale, offset = _activation_affine(H, x.dtype)
    # the inner ½ of σ(a) = ½ + ½ tanh(½a) goes into the weights once, not into a at every step
    W_ih_scaled = W_ih * scale[:, None]
    W_hh_scaled_T = np.ascontiguousarray((W_hh * scale[:, None]).T)
    # the input projection of every step at once, hoisted out of the time loop
    gates = x.reshape(T * N, D) @ W_ih_scaled.T     # W_ih x_t for every t (σ rows halved)
    gates += b * scale                              # + b_ih + b_hh (in place: no second big array)
    gates = gates.reshape(T, N, 4 * H)
    h = np.empty((T + 1, N, H), dtype=x.dtype)
    c = np.empty((T + 1, N, H), dtype=x.dtype)
    tanh_c = np.empty((T, N, H), dtype=x.dtype)
    h[0], c[0] = h0, c0
    for t in range(T):                              # row t: step t + 1, from h[t] and c[t]
        a = gates[t]
        a += h[t] @ W_hh_scaled_T                   # a = W_ih x_t + b + W_hh h_{t−1} (σ halved)
        _cell(a, c[t], scale, offset, h[t + 1], c[t + 1], tanh_c[t])
    cache = LSTMCache(x, h, c, gates, tanh_c, W_ih, W_hh)
    return h[1:], h[T], c[T], cache


def _backward_kernel(d_out: Array, dh_T: Array, dc_T: Array, cache: LSTMCache) -> LSTMGrads:
    """lstm_backward without checks, in the dtype of the cache."""
    x, h, c, gates, tanh_c, W_ih, W_hh = cache
    T, N, D = x.shape
    H = h.shape[2]
    i, f, g, o = (gates[:, :, k * H:(k + 1) * H] for k in range(4))
    scale, offset = _activation_affine(H, gates.dtype)
    scale2 = scale * scale
    da = np.empty_like(gates)                       # ∂L/∂a for every step
    dh, dc = dh_T.copy(), dc_T.copy()               # carries: ∂L/∂h_t, ∂L/∂c_t from later steps
    for t in range(T - 1, -1, -1):                  # row t: step t + 1, whose c_{t−1} is c[t]
        dh += d_out[t]                              # ∂L/∂h_t: this step's output + the carry
        dtanh = tanh_c[t] * tanh_c[t]
        np.subtract(1.0, dtanh, out=dtanh)          # tanh'(c_t) = 1 − tanh²(c_t)
        dtanh *= o[t]
        dtanh *= dh
        dc += dtanh                                 # ∂L/∂c_t: through h_t = tanh(c_t)∘o + carry
        d = da[t]
        np.multiply(dc, g[t], out=d[:, 0:H])        # ∂L/∂i = ∂L/∂c_t ∘ g
        np.multiply(dc, c[t], out=d[:, H:2 * H])    # ∂L/∂f = ∂L/∂c_t ∘ c_{t−1}
        np.multiply(dc, i[t], out=d[:, 2 * H:3 * H])  # ∂L/∂g = ∂L/∂c_t ∘ i
        np.multiply(dh, tanh_c[t], out=d[:, 3 * H:4 * H])  # ∂L/∂o = ∂L/∂h_t ∘ tanh(c_t)
        # σ' = σ(1 − σ) = ¼ − (σ − ½)² and tanh' = 1 − g² = 1 − (g − 0)²: scale² − (gate −
        # offset)² for all four
        dact = gates[t] - offset
        dact *= dact
        np.subtract(scale2, dact, out=dact)
        d *= dact                                   # through σ and tanh: ∂L/∂a
        dc *= f[t]                                  # ∂L/∂c_{t−1} along the cell: ∘ f_t
        dh = d @ W_hh                               # ∂L/∂h_{t−1} = W_hhᵀ ∂L/∂a
    da_flat = da.reshape(T * N, 4 * H)
    dx = (da_flat @ W_ih).reshape(T, N, D)          # ∂L/∂x_t = W_ihᵀ ∂L/∂a_t
    dW_ih = da_flat.T @ x.reshape(T * N, D)         # Σ_t ∂L/∂a_t x_tᵀ
    dW_hh = da_flat.T @ h[:T].reshape(T * N, H)     # Σ_t ∂L/∂a_t h_{t−1}ᵀ
    db = da_flat.sum(axis=0)                        # Σ_t ∂L/∂a_t
    return LSTMGrads(dx, dh, dc, dW_ih, dW_hh, db, db.copy())


# ---------------------------------------------------------------- the stacked form: public API
def lstm_step(x_t: Any, h_prev: Any, c_prev: Any, W_ih: Any, W_hh: Any, b_ih: Any,
              b_hh: Any) -> tuple[FloatArray, FloatArray]:
    """One LSTM step, stacked: a = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh split into (i, f, g, o),
    c_t = c_{t−1}∘σ(a_f) + tanh(a_g)∘σ(a_i), h_t = tanh(c_t)∘σ(a_o).

    Shapes: x_t [N, D], h_prev and c_prev [N, H], W_ih [4H, D], W_hh [4H, H], b_ih and b_hh [4H]
    → (h_t [N, H], c_t [N, H]).

    Raises
    ------
    ValueError on shapes that do not fit together or non-finite values.
    """
    func = "lstm_step"
    x_t = as_float_array(func, "x_t", x_t, ndim=2, finite=True)
    W_ih, W_hh, b_ih, b_hh = _stacked_weights(func, 4, x_t.shape[1], W_ih, W_hh, b_ih, b_hh)
    h_prev = as_state(func, "h_prev", h_prev, x_t.shape[0], W_hh.shape[1])
    c_prev = as_state(func, "c_prev", c_prev, x_t.shape[0], W_hh.shape[1])
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh   # a = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh
    return _gates_to_state(a, c_prev)               # the gates (i, f, g, o) and the cell


def lstm_forward(x: Any, h0: Any, c0: Any, W_ih: Any, W_hh: Any, b_ih: Any,
                 b_hh: Any) -> tuple[FloatArray, FloatArray, FloatArray, LSTMCache]:
    """An LSTM over a sequence: (h_t, c_t) = lstm_step(x_t, h_{t−1}, c_{t−1}) for t = 1..T.

    Shapes: x [T, N, D] (time-major), h0 and c0 [N, H], W_ih [4H, D], W_hh [4H, H], b_ih and b_hh
    [4H], gate blocks (i, f, g, o) → (out [T, N, H] = h_1..h_T, h_T [N, H], c_T [N, H], cache).

    Notes
    -----
    The same contract as torch.nn.LSTM(D, H) with batch_first=False: weight_ih_l0 = W_ih,
    weight_hh_l0 = W_hh, bias_ih_l0 = b_ih, bias_hh_l0 = b_hh, (h0, c0) with the layer axis
    dropped. The input projection W_ih x_t + b_ih + b_hh is computed for all t in one matrix
    product before the time loop; the loop does only the recurrent part.

    Raises
    ------
    ValueError on a sequence that is not [T, N, D] with T, N, D ≥ 1, weights whose shapes do not
    match x and each other, or non-finite values.
    """
    func = "lstm_forward"
    x = as_sequence(func, "x", x)
    W_ih, W_hh, b_ih, b_hh = _stacked_weights(func, 4, x.shape[2], W_ih, W_hh, b_ih, b_hh)
    h0 = as_state(func, "h0", h0, x.shape[1], W_hh.shape[1])
    c0 = as_state(func, "c0", c0, x.shape[1], W_hh.shape[1])
    out, h_T, c_T, cache = _forward_kernel(x, h0, c0, W_ih, W_hh, b_ih + b_hh)
    return out.copy(), h_T.copy(), c_T.copy(), cache     # not views into the cache


def lstm_backward(d_out: Any, cache: LSTMCache, dh_T: Any = None, dc_T: Any = None) -> LSTMGrads:
    """Backpropagation through time for ``lstm_forward``: the gradients of L with respect to x,
    h0, c0, W_ih, W_hh, b_ih and b_hh, given ∂L/∂out, ∂L/∂h_T and ∂L/∂c_T.

    Going back from t = T, with the carries ∂L/∂h_t and ∂L/∂c_t from the later steps::

        ∂L/∂h_t += ∂L/∂out_t          ∂L/∂c_t += ∂L/∂h_t ∘ o ∘ (1 − tanh²(c_t))
        ∂L/∂a = [∂L/∂c_t∘g, ∂L/∂c_t∘c_{t−1}, ∂L/∂c_t∘i, ∂L/∂h_t∘tanh(c_t)] ∘ [σ', σ', tanh', σ']
        ∂L/∂c_{t−1} = ∂L/∂c_t ∘ f        ∂L/∂h_{t−1} = W_hhᵀ ∂L/∂a

    and ∂L/∂W_ih = Σ_t ∂L/∂a_t x_tᵀ, ∂L/∂W_hh = Σ_t ∂L/∂a_t h_{t−1}ᵀ, ∂L/∂b = Σ_t ∂L/∂a_t.

    Shapes: d_out [T, N, H]; cache from ``lstm_forward``; dh_T and dc_T [N, H] (None means 0)
    → LSTMGrads(dx [T, N, D], dh0 [N, H], dc0 [N, H], dW_ih [4H, D], dW_hh [4H, H], db_ih [4H],
    db_hh [4H]), with db_ih = db_hh.

    Notes
    -----
    Along the cell path alone ∂c_t/∂c_{t−1} = diag(f_t): when the gates do not depend on the
    state (W_hh = 0), ∂c_T/∂c_0 = Π_t f_t exactly — nothing squashes the carried gradient but the
    forget gates themselves (the "constant error carousel").

    Raises
    ------
    TypeError if cache is not an LSTMCache; ValueError if d_out, dh_T or dc_T has the wrong shape
    or is not finite.
    """
    func = "lstm_backward"
    if not isinstance(cache, LSTMCache):
        raise TypeError(f"{func}: cache must be the LSTMCache returned by lstm_forward, got "
                        f"{type(cache).__name__}")
    T, N, H = cache.tanh_c.shape
    d_out = as_float_array(func, "d_out", d_out, ndim=3, finite=True)
    check_shape(func, "d_out", d_out, (T, N, H), "the shape of lstm_forward's out [T, N, H]")
    zeros = np.zeros((N, H))
    dh_T = zeros if dh_T is None else as_state(func, "dh_T", dh_T, N, H)
    dc_T = zeros if dc_T is None else as_state(func, "dc_T", dc_T, N, H)
    return _backward_kernel(d_out, dh_T, dc_T, cache)


# ---------------------------------------------------------------- the forget gate at work
# "Example: When we see a new subject, forget gender of old subject" (slide "Forget-Gate").
SUBJECT_WORDS = ("he", "john", "she", "mary", "walked", "home", "and", "then", "sat", "down")
"""Two male subjects, two female subjects, six fillers."""
_MALE, _FEMALE, _SUBJECT_FILLERS = (0, 1), (2, 3), (4, 5, 6, 7, 8, 9)
_SUBJECT_PARAMS = ("W_ih", "W_hh", "b", "V", "c")


def subject_sequences(n: int, length: int = 12, *, p_new: float = 0.25,
                      rng: Any) -> tuple[IntArray, IntArray, NDArray[np.bool_]]:
    """``n`` word sequences of SUBJECT_WORDS: a subject first, then fillers, and at each later
    step a new subject with probability ``p_new``; the target at every step is the gender of the
    most recent subject (0 male, 1 female), so at a new subject the old one's must be forgotten.

    Shapes: → (ids [length, n] time-major, gender [length, n] in {0, 1}, new [length, n] bool:
    True where a subject appears at t ≥ 1).
    """
    func = "subject_sequences"
    gen = rng_from(func, rng)
    n, length = positive_int(func, "n", n), positive_int(func, "length", length)
    p_new = positive_number(func, "p_new", p_new)
    if p_new > 1:
        raise fail(func, f"p_new is a probability, at most 1, got {p_new}")
    subject = gen.random((length, n)) < p_new
    subject[0] = True                                       # every sequence opens with a subject
    female = gen.integers(0, 2, (length, n))
    names = np.where(female == 1, np.asarray(_FEMALE)[gen.integers(0, 2, (length, n))],
                     np.asarray(_MALE)[gen.integers(0, 2, (length, n))])
    fillers = np.asarray(_SUBJECT_FILLERS)[gen.integers(0, len(_SUBJECT_FILLERS), (length, n))]
    ids = np.where(subject, names, fillers)
    last = np.maximum.accumulate(np.where(subject, np.arange(length)[:, None], 0), axis=0)
    gender = np.take_along_axis(female, last, axis=0)       # the latest subject's gender
    new = subject.copy()
    new[0] = False
    return ids.astype(np.int64), gender.astype(np.int64), new


def subject_loss_and_grads(params: Mapping[str, Any], ids: Any,
                           gender: Any) -> tuple[float, dict[str, FloatArray]]:
    """The mean over steps and sequences of cross_entropy(V h_t + c, gender_t) for an LSTM reading
    one-hot words from h_0 = c_0 = 0, and its gradients by lstm_backward.

    Shapes: params {"W_ih" [4H, D], "W_hh" [4H, H], "b" [4H] (b_ih; b_hh = 0), "V" [2, H],
    "c" [2]}, ids and gender [T, N] → (L, grads keyed like params).
    """
    func = "subject_loss_and_grads"
    P = as_named_arrays(func, "params", params, _SUBJECT_PARAMS)
    x = one_hot(as_index_array(func, "ids", ids, ndim=2, size=len(SUBJECT_WORDS)),
                len(SUBJECT_WORDS))
    y = as_index_array(func, "gender", gender, ndim=2, size=2)
    T, N, _ = x.shape
    H = P["W_hh"].shape[1]
    zero = np.zeros((N, H))
    out, _, _, cache = lstm_forward(x, zero, zero, P["W_ih"], P["W_hh"], P["b"], np.zeros(4 * H))
    logits = (out @ P["V"].T + P["c"]).reshape(T * N, -1)   # V h_t + c at every step
    loss = cross_entropy(logits, y.reshape(-1))
    dlogits = cross_entropy_backward(logits, y.reshape(-1)).reshape(T, N, -1)
    g = lstm_backward(dlogits @ P["V"], cache)
    return loss, {"W_ih": g.dW_ih, "W_hh": g.dW_hh, "b": g.db_ih,
                  "V": np.einsum("tnk,tnh->kh", dlogits, out), "c": dlogits.sum(axis=(0, 1))}


@dataclass
class SubjectLSTM:
    """What train_subject_lstm returns: the descent and the held-out accuracy of the gender."""

    descent: DescentResult
    accuracy: float


def train_subject_lstm(*, seed: int = 0, n_train: int = 256, n_test: int = 500,
                       length: int = 12, H: int = 4, lr: float = 0.05,
                       steps: int = 100) -> SubjectLSTM:
    """Train an LSTM (PyTorch's U(−1/√H, 1/√H) initialisation, forget bias +1) with its
    readout on subject_sequences: full-batch Adam, gradients clipped to norm 1. Data and initial
    weights from ``seed``; the accuracy is over every step of ``n_test`` new sequences."""
    func = "train_subject_lstm"
    gen = rng_from(func, seed)
    n_train, n_test = positive_int(func, "n_train", n_train), positive_int(func, "n_test", n_test)
    H, steps = positive_int(func, "H", H), positive_int(func, "steps", steps)
    lr = positive_number(func, "lr", lr)
    D, k = len(SUBJECT_WORDS), 1.0 / np.sqrt(H)
    params = {name: gen.uniform(-k, k, shape) for name, shape in
              (("W_ih", (4 * H, D)), ("W_hh", (4 * H, H)), ("b", (4 * H,)), ("V", (2, H)),
               ("c", (2,)))}
    params["b"][H:2 * H] += 1.0                             # start out remembering
    ids, gender, _ = subject_sequences(n_train, length, rng=gen)
    adam = Adam(lr)
    descent = gradient_descent(lambda p: subject_loss_and_grads(p, ids, gender), params, lr=lr,
                               steps=steps,
                               update=lambda p, g: adam.step(p, clip_by_norm(g, 1.0)[0]))
    ids_test, gender_test, _ = subject_sequences(n_test, length, rng=gen)
    P = descent.params
    x = one_hot(ids_test, D)
    zero = np.zeros((n_test, H))
    out, *_ = lstm_forward(x, zero, zero, P["W_ih"], P["W_hh"], P["b"], np.zeros(4 * H))
    predicted = np.argmax(out @ P["V"].T + P["c"], axis=-1)
    return SubjectLSTM(descent, float(np.mean(predicted == gender_test)))
