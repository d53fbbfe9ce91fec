"""The ``numpy`` backend: nnspec's reference behind the contract, with per-op backward functions.

This is what every other backend is compared with: golden cases are generated from it (and
checked against PyTorch before they are written), and drawn cases get their expected values from
it. Each function only maps the contract's names, layouts and argument order onto the reference
(reference.activations, .feedforward, .losses, .conv, .pooling, .rnn, .lstm, .gru, .embedding);
the arithmetic is the reference's own.

The functions an op's declared conventions touch take the variant as a keyword option (``ties``,
``at_zero``, ``at_kink``, ``reduction``, ``reset_after``), the spec's by default:
conformance.conventions binds them to make the reference of a backend's declared variants.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import numpy as np

import reference
from conformance.contract import OPS, op_spec
from reference import activations as A
from reference import conv, feedforward, losses, pooling
from reference import embedding as embedding_
from reference import gru as gru_
from reference import lstm as lstm_
from reference import rnn as rnn_
from reference._checks import FloatArray

name = "numpy"
version = f"nnspec reference {reference.__version__}"

Grads = tuple[FloatArray, ...]


# ---------------------------------------------------------------- activations: dx = dy ∘ f'(x)
def step(x: Any, *, at_zero: float = 1.0) -> FloatArray:
    return A.step(x, at_zero)


def step_backward(dy: Any, x: Any) -> FloatArray:
    return np.asarray(dy) * A.step_grad(x)


def sigmoid(x: Any) -> FloatArray:
    return A.sigmoid(x)


def sigmoid_backward(dy: Any, x: Any) -> FloatArray:
    return np.asarray(dy) * A.sigmoid_grad(x)


def tanh(x: Any) -> FloatArray:
    return A.tanh(x)


def tanh_backward(dy: Any, x: Any) -> FloatArray:
    return np.asarray(dy) * A.tanh_grad(x)


def relu(x: Any) -> FloatArray:
    return A.relu(x)


def relu_backward(dy: Any, x: Any, *, at_zero: float = 0.0) -> FloatArray:
    return np.asarray(dy) * A.relu_grad(x, at_zero)


# ---------------------------------------------------------------- linear = dense with f = identity
def linear(x: Any, w: Any, b: Any) -> FloatArray:
    return feedforward.dense(x, w, b, "identity")          # z = Wx + b


def linear_backward(dy: Any, x: Any, w: Any, b: Any) -> Grads:
    return feedforward.dense_backward(dy, x, w, b, "identity")


# ---------------------------------------------------------------- losses
def softmax(x: Any) -> FloatArray:
    return losses.softmax(x, axis=-1)


def softmax_backward(dy: Any, x: Any) -> FloatArray:
    """dx = y ∘ (dy − Σ_k dy_k y_k): the reference has no softmax_backward, so the vector-Jacobian
    product of ∂y_k/∂x_j = y_k(δ_kj − y_j) is written here."""
    y = losses.softmax(x, axis=-1)
    dy = np.asarray(dy, dtype=np.float64)
    return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


def cross_entropy(logits: Any, targets: Any, *, reduction: str = "mean") -> FloatArray:
    return np.asarray(losses.cross_entropy(logits, targets, reduction))


def cross_entropy_backward(dloss: Any, logits: Any, targets: Any, *,
                           reduction: str = "mean") -> FloatArray:
    return losses.cross_entropy_backward(logits, targets, float(dloss), reduction)


def max_margin(s: Any, s_c: Any, delta: float) -> FloatArray:
    return losses.max_margin(s, s_c, delta)


def max_margin_backward(dJ: Any, s: Any, s_c: Any, delta: float, *,
                        at_kink: float = 0.0) -> Grads:
    return losses.max_margin_backward(s, s_c, delta, dJ, at_kink)


# ---------------------------------------------------------------- convolution (NCHW / NCL)
def conv2d(x: Any, w: Any, b: Any, stride: Any, padding: Any) -> FloatArray:
    return conv.conv2d(x, w, b, stride, padding)


def conv2d_backward(dy: Any, x: Any, w: Any, b: Any, stride: Any, padding: Any) -> Grads:
    dx, dw, db = conv.conv2d_backward(dy, x, w, b, stride, padding)
    return dx, dw, cast(FloatArray, db)                     # db is None only when b is None


def conv1d(x: Any, w: Any, b: Any, stride: Any, padding: Any) -> FloatArray:
    return conv.conv1d(x, w, b, stride, padding)


def conv1d_backward(dy: Any, x: Any, w: Any, b: Any, stride: Any, padding: Any) -> Grads:
    dx, dw, db = conv.conv1d_backward(dy, x, w, b, stride, padding)
    return dx, dw, cast(FloatArray, db)

# ---------------------------------------------------------------- pooling (no padding)
def max_pool2d(x: Any, kernel_size: Any, stride: Any) -> FloatArray:
    return pooling.max_pool2d(x, kernel_size, stride)


def max_pool2d_backward(dy: Any, x: Any, kernel_size: Any, stride: Any, *,
                        ties: str = "first") -> FloatArray:
    return pooling.max_pool2d_backward(dy, x, kernel_size, stride, ties)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any) -> FloatArray:
    return pooling.avg_pool2d(x, kernel_size, stride)


def avg_pool2d_backward(dy: Any, x: Any, kernel_size: Any, stride: Any) -> FloatArray:
    return pooling.avg_pool2d_backward(dy, x, kernel_size, stride)


def lp_pool2d(x: Any, kernel_size: Any, stride: Any) -> FloatArray:
    return pooling.l2_pool2d(x, kernel_size, stride)       # p = 2: the reference's L2 pooling


def lp_pool2d_backward(dy: Any, x: Any, kernel_size: Any, stride: Any) -> FloatArray:
    return pooling.l2_pool2d_backward(dy, x, kernel_size, stride)

# ---------------------------------------------------------------- recurrent (time-major)
def rnn(x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Grads:
    """U = w_ih, W = w_hh, b = b_ih + b_hh (torch keeps two biases that only meet as a sum)."""
    s, _ = rnn_.rnn_forward(x, h0, w_ih, w_hh, np.add(b_ih, b_hh))
    return s, s[-1].copy()                                  # out, h_n = s_{T−1} (not a view)


def rnn_backward(d_out: Any, d_h_n: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any,
                 b_hh: Any) -> Grads:
    _, cache = rnn_.rnn_forward(x, h0, w_ih, w_hh, np.add(b_ih, b_hh))
    ds = np.array(d_out, dtype=np.float64)
    ds[-1] += np.asarray(d_h_n)                             # h_n is s_{T−1}: its gradient joins
    dx, dh0, dU, dW, db = rnn_.rnn_backward(ds, cache)
    return dx, dh0, dU, dW, db, db.copy()                   # ∂/∂b_ih = ∂/∂b_hh = ∂/∂b


# ---------------------------------------------------------------- embedding
def embedding(ids: Any, E: Any) -> FloatArray:
    return embedding_.embedding(ids, E)                     # y = E[ids]


def embedding_backward(dy: Any, ids: Any, E: Any) -> FloatArray:
    return embedding_.embedding_backward(dy, ids, E)       # dE: scatter-add of dy


# ---------------------------------------------------------------- gated cells (PyTorch's layout)
def lstm(x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Grads:
    out, h_n, c_n, _ = lstm_.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)   # gates i, f, g, o
    return out, h_n, c_n


def lstm_backward(d_out: Any, d_h_n: Any, d_c_n: Any, x: Any, h0: Any, c0: Any, w_ih: Any,
                  w_hh: Any, b_ih: Any, b_hh: Any) -> Grads:
    *_, cache = lstm_.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    return tuple(lstm_.lstm_backward(d_out, cache, d_h_n, d_c_n))


def gru(x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, *,
        reset_after: bool = True) -> Grads:
    out, h_n, _ = gru_.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reset_after)  # gates r, z, n
    return out, h_n


def gru_backward(d_out: Any, d_h_n: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any,
                 b_hh: Any, *, reset_after: bool = True) -> Grads:
    *_, cache = gru_.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reset_after)
    return tuple(gru_.gru_backward(d_out, cache, d_h_n))


# ---------------------------------------------------------------- results in the run's dtype
def _in_input_dtype(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` returning its float results in the dtype of its float arrays: the reference
    computes in float64 whatever it is given, and a float32 run asks for float32 results (the
    contract: results come in the run's dtype). The numpy backend is the oracle, not a float32
    implementation: in a float32 run it rounds its float64 results to float32."""

    @functools.wraps(fn)
    def in_dtype(*args: Any, **options: Any) -> Any:
        dtype = next((a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"),
                     None)
        out = fn(*args, **options)
        if dtype is None or dtype == np.float64:
            return out

        def cast(value: Any) -> Any:
            array = np.asarray(value)
            return array.astype(dtype) if array.dtype.kind == "f" else value

        return tuple(cast(v) for v in out) if isinstance(out, tuple) else cast(out)

    return in_dtype


for _op in OPS:
    for _name in (_op, op_spec(_op).backward_name):
        if callable(globals().get(_name)):
            globals()[_name] = _in_input_dtype(globals()[_name])
