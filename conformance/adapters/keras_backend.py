"""The ``keras`` backend: Keras 3 layers on its JAX backend, gradients by ``jax.vjp``.

Each op is the Keras layer a Keras user would build (Dense, Conv2D, MaxPooling2D, SimpleRNN, LSTM,
GRU, Embedding, ...), given the case's weights through ``Layer.stateless_call`` and differentiated
by JAX through that call (weights and inputs alike). Keras computes; the adapter only converts:

* layouts: images NCHW → channels_last NHWC (Keras's default), kernels [K, C, FH, FW] →
  [FH, FW, C, K], dense weights [M, D] → kernel [D, M]; sequences time-major [T, N, D] →
  batch-major [N, T, D]; padding (PH, PW) → a ZeroPadding2D layer before a "valid" Conv2D (Conv2D
  knows only "valid" and "same");
* recurrent weights: kernels transposed ([D, G·H], [H, G·H]); LSTM's gate order i, f, c, o is
  PyTorch's i, f, g, o; GRU's z, r, h is PyTorch's r, z, n permuted; SimpleRNN and LSTM keep one
  bias (b_ih + b_hh, summed inside the differentiated function so both get their gradient), GRU
  with ``reset_after=True`` keeps both as its bias [2, 3H].

Keras has no step layer (``keras.ops.heaviside(x, 1)`` is its step with step(0) = 1) and no Lp
pooling: lp_pool2d is not implemented (skipped). ``KERAS_BACKEND=jax`` is set before keras is
imported; a keras imported earlier on another backend is refused. float64 needs JAX's x64 mode,
switched on as the ``jax`` adapter does (conformance.adapters.jax_backend).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = "jax"

import jax
import jax.numpy as jnp
import keras

from conformance.adapters.jax_backend import JaxBackend

if keras.backend.backend() != "jax":     # pragma: no cover - keras imported before, elsewhere
    raise ImportError(f"the keras backend needs Keras on JAX; keras {keras.__version__} was "
                      f"imported on {keras.backend.backend()!r} before (set KERAS_BACKEND=jax)")

__all__ = ["KerasBackend"]

Array = jax.Array


def _call(layer: keras.Layer, x: Array, weights: Mapping[str, Array], **kwargs: Any) -> Any:
    """``layer(x, **kwargs)`` with its trainable variables set to ``weights`` (by name)."""
    if not layer.built:
        layer.build(x.shape)
    values = [weights[v.name] for v in layer.trainable_variables]
    state = [v.value for v in layer.non_trainable_variables]   # e.g. a dropout seed, unused
    out, _ = layer.stateless_call(values, state, x, **kwargs)
    return out


def _dtype(x: Array) -> str:
    return str(x.dtype)


# ---------------------------------------------------------------- feed-forward, losses
def _linear(x: Array, w: Array, b: Array) -> Array:
    dense = keras.layers.Dense(w.shape[0], dtype=_dtype(x))
    return _call(dense, x, {"kernel": w.T, "bias": b})              # kernel [D, M]


def _cross_entropy(logits: Array, targets: Array) -> Array:
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype=_dtype(logits))
    return loss(targets, logits)                                    # "sum_over_batch_size": mean


def _max_margin(s: Array, s_c: Array, delta: float) -> Array:
    return keras.ops.relu(delta + s_c - s)       # Keras has no ranking-margin loss of this form


# ---------------------------------------------------------------- convolution, pooling (NHWC)
def _nhwc(x: Array) -> Array:
    return jnp.transpose(x, (0, 2, 3, 1))


def _nchw(y: Array) -> Array:
    return jnp.transpose(y, (0, 3, 1, 2))


def _conv2d(x: Array, w: Array, b: Array, stride: Any, padding: Any) -> Array:
    (ph, pw), dt = tuple(padding), _dtype(x)
    h = _nhwc(x)
    if ph or pw:
        h = keras.layers.ZeroPadding2D(((ph, ph), (pw, pw)), dtype=dt)(h)
    conv = keras.layers.Conv2D(w.shape[0], tuple(w.shape[2:]), strides=tuple(stride),
                               padding="valid", dtype=dt)
    return _nchw(_call(conv, h, {"kernel": jnp.transpose(w, (2, 3, 1, 0)), "bias": b}))


def _conv1d(x: Array, w: Array, b: Array, stride: int, padding: int) -> Array:
    dt = _dtype(x)
    h = jnp.transpose(x, (0, 2, 1))                                 # [N, L, C]
    if padding:
        h = keras.layers.ZeroPadding1D(padding, dtype=dt)(h)
    conv = keras.layers.Conv1D(w.shape[0], w.shape[2], strides=stride, padding="valid", dtype=dt)
    y = _call(conv, h, {"kernel": jnp.transpose(w, (2, 1, 0)), "bias": b})   # kernel [F, C, K]
    return jnp.transpose(y, (0, 2, 1))


def _pool(layer: type[keras.layers.Layer], x: Array, kernel_size: Any, stride: Any) -> Array:
    pool = layer(pool_size=tuple(kernel_size), strides=tuple(stride), padding="valid",
                 dtype=_dtype(x))
    return _nchw(pool(_nhwc(x)))


# ---------------------------------------------------------------- recurrent (batch-major)
def _recurrent(layer: keras.layers.Layer, x: Array, states: list[Array],
               weights: Mapping[str, Array]) -> tuple[Array, ...]:
    out, *last = _call(layer, jnp.transpose(x, (1, 0, 2)), weights, initial_state=states)
    return (jnp.transpose(out, (1, 0, 2)), *last)                   # out back to [T, N, H]


def _keyword(x: Array, h0: Array) -> dict[str, Any]:
    return {"units": h0.shape[1], "return_sequences": True, "return_state": True,
            "dtype": _dtype(x)}


def _rnn(x: Array, h0: Array, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array
         ) -> tuple[Array, ...]:
    layer = keras.layers.SimpleRNN(activation="tanh", **_keyword(x, h0))
    weights = {"kernel": w_ih.T, "recurrent_kernel": w_hh.T, "bias": b_ih + b_hh}
    return _recurrent(layer, x, [h0], weights)


def _lstm(x: Array, h0: Array, c0: Array, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array
          ) -> tuple[Array, ...]:
    layer = keras.layers.LSTM(**_keyword(x, h0))                    # gates i, f, c, o = i, f, g, o
    weights = {"kernel": w_ih.T, "recurrent_kernel": w_hh.T, "bias": b_ih + b_hh}
    return _recurrent(layer, x, [h0, c0], weights)


def _zrh(stacked: Array) -> Array:
    """PyTorch's gate blocks r, z, n (along the first axis) in Keras's order z, r, h."""
    r, z, n = jnp.split(stacked, 3, axis=0)
    return jnp.concatenate([z, r, n], axis=0)


def _gru(x: Array, h0: Array, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array
         ) -> tuple[Array, ...]:
    layer = keras.layers.GRU(reset_after=True, **_keyword(x, h0))
    weights = {"kernel": _zrh(w_ih).T, "recurrent_kernel": _zrh(w_hh).T,
               "bias": jnp.stack([_zrh(b_ih), _zrh(b_hh)])}   # [2, 3H]: input, recurrent
    return _recurrent(layer, x, [h0], weights)


def _embedding(ids: Array, E: Array) -> Array:
    layer = keras.layers.Embedding(E.shape[0], E.shape[1], dtype=_dtype(E))
    return _call(layer, ids, {"embeddings": E})


OPS_KERAS: dict[str, Callable[..., Any]] = {
    "step": lambda x: keras.ops.heaviside(x, jnp.ones((), x.dtype)),   # step(0) = 1
    "sigmoid": keras.activations.sigmoid,
    "tanh": keras.activations.tanh,
    "relu": keras.activations.relu,
    "linear": _linear,
    "softmax": partial(keras.activations.softmax, axis=-1),
    "cross_entropy": _cross_entropy,
    "max_margin": _max_margin,
    "conv2d": _conv2d,
    "conv1d": _conv1d,
    "max_pool2d": partial(_pool, keras.layers.MaxPooling2D),
    "avg_pool2d": partial(_pool, keras.layers.AveragePooling2D),
    "rnn": _rnn,
    "lstm": _lstm,
    "gru": _gru,
    "embedding": _embedding,
}


class KerasBackend(JaxBackend):
    """Keras 3 on JAX's CPU, one method per op Keras has, plus ``vjp``: the ``jax`` adapter's
    machinery (one jitted forward or ``jax.vjp`` per case) over Keras's layers."""

    name = "keras"
    version = f"keras {keras.__version__} (jax {jax.__version__})"
    ops = OPS_KERAS
