"""The ``tinygrad`` backend: tinygrad's Tensor ops behind the contract, gradients by its autograd.

Each op is the tinygrad call a tinygrad user would write (``Tensor.conv2d``, ``Tensor.max_pool2d``,
``Tensor.sparse_categorical_crossentropy``, ``nn.LSTMCell``, ``nn.Embedding``, ...); gradients come
from ``Tensor.gradient`` of Σ cotangent ∘ output. The adapter only maps layouts: tinygrad's
``Tensor.linear`` takes its weight as [D, M] (``nn.Linear`` passes ``weight.T``, so does the
adapter); ``nn.LSTMCell`` keeps PyTorch's layout and gate order i, f, g, o, and the adapter steps it
over time (tinygrad has no sequence-level LSTM). tinygrad has no step function, no Lp pooling and no
plain RNN or GRU cell: those ops are not implemented (skipped).

Device: tinygrad's "CPU" device by default. It compiles each kernel with ``clang`` (Debian's
``clang`` package; gcc cannot stand in, tinygrad passes clang's ``--target``); its LLVM renderer
(``CPU_LLVM=1``) still builds the device's worker programs with clang. ``--device PYTHON``
(``TinygradBackend(device="PYTHON")``) runs tinygrad's pure-Python emulator instead, which needs
no compiler and computes the same kernels, more slowly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from importlib.metadata import version as _version
from typing import Any

import numpy as np
from tinygrad import nn
from tinygrad.device import Device
from tinygrad.tensor import Tensor

from conformance.contract import OPS, op_spec

__all__ = ["TinygradBackend"]


def _max_margin(s: Tensor, s_c: Tensor, delta: float) -> Tensor:
    return (s_c - s + delta).relu()             # tinygrad has no ranking-margin loss


def _lstm(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,
          b_hh: Tensor) -> tuple[Tensor, ...]:
    cell = nn.LSTMCell(int(x.shape[2]), int(h0.shape[1]))
    cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh = w_ih, w_hh, b_ih, b_hh
    h, c, out = h0, c0, []
    for t in range(x.shape[0]):                 # the cell, stepped over time
        h, c = cell(x[t], (h, c))
        out.append(h)
    return Tensor.stack(*out), h, c


def _embedding(ids: Tensor, E: Tensor) -> Tensor:
    layer = nn.Embedding(int(E.shape[0]), int(E.shape[1]))
    layer.weight = E
    return layer(ids)


OPS_TINYGRAD: dict[str, Callable[..., Any]] = {
    "sigmoid": Tensor.sigmoid,
    "tanh": Tensor.tanh,
    "relu": Tensor.relu,
    "linear": lambda x, w, b: x.linear(w.T, b),                 # weight [D, M], as nn.Linear
    "softmax": partial(Tensor.softmax, axis=-1),
    "cross_entropy": lambda logits, targets: logits.sparse_categorical_crossentropy(targets),
    "max_margin": _max_margin,
    "conv2d": lambda x, w, b, stride, padding: x.conv2d(w, b, stride=tuple(stride),
                                                        padding=tuple(padding)),
    "conv1d": lambda x, w, b, stride, padding: x.conv2d(w, b, stride=stride, padding=padding),
    "max_pool2d": lambda x, kernel_size, stride: x.max_pool2d(tuple(kernel_size), tuple(stride)),
    "avg_pool2d": lambda x, kernel_size, stride: x.avg_pool2d(tuple(kernel_size), tuple(stride)),
    "lstm": _lstm,
    "embedding": _embedding,
}


class TinygradBackend:
    """tinygrad on ``device`` ("CPU" by default), one method per op tinygrad has, plus ``vjp``."""

    name = "tinygrad"

    def __init__(self, device: str | None = None) -> None:
        self.device = Device.canonicalize(device or "CPU")
        Device[self.device]                     # fails here, with tinygrad's message, if unusable
        self.version = f"tinygrad {_version('tinygrad')} ({self.device})"
        # declared (conformance.conventions): tinygrad's max pool is ``max`` over a window axis,
        # whose gradient shares a tie equally (docs/scoreboard-notes-frameworks.md, T1)
        self.conventions = {"max_pool_ties": "split"}
        for op in OPS_TINYGRAD:
            setattr(self, op, partial(self._forward, op))

    def _tensor(self, value: np.ndarray) -> Tensor:
        arr = np.array(value, order="C")        # (np.ascontiguousarray makes a 0-d array 1-d)
        return Tensor(arr, device=self.device)

    def _run(self, op: str, inputs: tuple[np.ndarray, ...], attrs: tuple[Any, ...]
             ) -> tuple[list[Tensor], tuple[Tensor, ...]]:
        tensors = [self._tensor(v) for v in inputs]
        out = OPS_TINYGRAD[op](*tensors, *attrs)
        return tensors, tuple(out) if isinstance(out, tuple) else (out,)

    def _forward(self, op: str, *args: Any) -> tuple[np.ndarray, ...] | np.ndarray:
        n = len(OPS[op].inputs)
        _, outs = self._run(op, args[:n], args[n:])
        arrays = self._numpy(outs)
        return arrays if len(arrays) > 1 else arrays[0]

    def vjp(self, op: str, inputs: tuple[np.ndarray, ...], attrs: Mapping[str, Any],
            cotangents: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """Gradients of Σ cotangent ∘ output by tinygrad's ``Tensor.gradient``."""
        if op not in OPS_TINYGRAD:
            raise NotImplementedError(f"tinygrad backend: no op {op!r}")
        spec = op_spec(op)
        tensors, outs = self._run(op, inputs, tuple(attrs[a.name] for a in spec.attrs))
        wrt = [t for a, t in zip(spec.inputs, tensors) if a.differentiable]
        total = sum(((o * self._tensor(c)).sum() for o, c in zip(outs, cotangents)),
                    start=Tensor.zeros((), dtype=outs[0].dtype, device=self.device))
        return self._numpy(total.gradient(*wrt))

    @staticmethod
    def _numpy(tensors: tuple[Tensor, ...] | list[Tensor]) -> tuple[np.ndarray, ...]:
        """The tensors' values, realized together: one schedule for the graph they share (one
        at a time, each would schedule and compute the shared part again: an LSTM's seven
        gradients took seven times its backward)."""
        Tensor.realize(*tensors)
        return tuple(t.numpy() for t in tensors)
