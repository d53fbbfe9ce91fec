"""The ``mygrad`` backend: MyGrad, a NumPy autodiff library, behind the contract for its ops.

Each op is MyGrad's own: ``mygrad.nnet`` for activations, softmax, the softmax cross-entropy,
``conv_nd`` and ``max_pool``; ``mygrad.matmul`` for the linear map and tensor indexing for the
embedding. Gradients come from MyGrad's ``Tensor.backward`` of Σ cotangent ∘ output. MyGrad's
convolution has no bias argument: the adapter adds the bias with MyGrad's broadcasting add, as a
MyGrad user would.

MyGrad has no step function, no average or Lp pooling, no plain RNN and no LSTM: those ops are not
implemented (skipped). Its ``mygrad.nnet.layers.gru`` (which needs numba) is a different GRU
from the contract's: it resets *before* the hidden matrix product, H_t = tanh(X_t Uh + (R_t ∘
S_{t−1}) Wh + bh), with one bias per gate, while the contract's GRU is PyTorch's "reset after"
with separate input and hidden biases; no setting of its weights computes the contract's GRU, so
the adapter does not offer gru (docs/scoreboard-notes-frameworks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import mygrad as mg
import numpy as np
from mygrad import nnet
from mygrad.tensor_base import Tensor

from conformance.contract import OPS, op_spec

__all__ = ["MyGradBackend"]


def _conv(x: Tensor, w: Tensor, b: Tensor, stride: Any, padding: Any) -> Tensor:
    y = nnet.conv_nd(x, w, stride=stride, padding=padding)      # no bias in MyGrad's conv
    return y + b.reshape((1, -1) + (1,) * (x.ndim - 2))


OPS_MYGRAD: dict[str, Callable[..., Any]] = {
    "sigmoid": nnet.sigmoid,
    "tanh": nnet.tanh,
    "relu": nnet.relu,
    "linear": lambda x, w, b: mg.matmul(x, w.T) + b,            # x wᵀ + b
    "softmax": partial(nnet.softmax, axis=-1),
    "cross_entropy": nnet.softmax_crossentropy,                 # the mean over N
    # Δ in the inputs' dtype: a Python float would promote a float32 run's J to float64
    "max_margin": lambda s, s_c, delta: nnet.relu(np.asarray(delta, dtype=s.dtype) + s_c - s),
    "conv2d": _conv,
    "conv1d": _conv,
    "max_pool2d": lambda x, kernel_size, stride: nnet.max_pool(x, tuple(kernel_size),
                                                               tuple(stride)),
    "embedding": lambda ids, E: E[ids],
}


class MyGradBackend:
    """MyGrad, one method per op MyGrad has, plus ``vjp``."""

    name = "mygrad"
    version = f"mygrad {mg.__version__}"

    def __init__(self) -> None:
        for op in OPS_MYGRAD:
            setattr(self, op, partial(self._forward, op))

    @staticmethod
    def _tensor(value: np.ndarray) -> Tensor:
        arr = np.array(value)                   # a copy: MyGrad may keep a reference
        return Tensor(arr, constant=not np.issubdtype(arr.dtype, np.floating))

    def _run(self, op: str, inputs: tuple[np.ndarray, ...], attrs: tuple[Any, ...]
             ) -> tuple[list[Tensor], tuple[Tensor, ...]]:
        tensors = [self._tensor(v) for v in inputs]
        out = OPS_MYGRAD[op](*tensors, *attrs)
        return tensors, tuple(out) if isinstance(out, tuple) else (out,)

    def _forward(self, op: str, *args: Any) -> tuple[np.ndarray, ...] | np.ndarray:
        n = len(OPS[op].inputs)
        _, outs = self._run(op, args[:n], args[n:])
        arrays = tuple(np.array(o.data) for o in outs)
        return arrays if len(arrays) > 1 else arrays[0]

    def vjp(self, op: str, inputs: tuple[np.ndarray, ...], attrs: Mapping[str, Any],
            cotangents: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """Gradients of Σ cotangent ∘ output by MyGrad's ``backward``."""
        if op not in OPS_MYGRAD:
            raise NotImplementedError(f"mygrad backend: no op {op!r}")
        spec = op_spec(op)
        tensors, outs = self._run(op, inputs, tuple(attrs[a.name] for a in spec.attrs))
        wrt = [t for a, t in zip(spec.inputs, tensors) if a.differentiable]
        total = mg.add_sequence(*(mg.sum(o * c) for o, c in zip(outs, cotangents))) if len(
            outs) > 1 else mg.sum(outs[0] * cotangents[0])
        total.backward()
        return tuple(np.zeros_like(t.data) if t.grad is None else np.array(t.grad) for t in wrt)
