"""The ``torch`` backend: PyTorch's own ops behind the contract, gradients by autograd (``vjp``).

Every op is the torch function a PyTorch user would call (torch.nn.functional, and nn.RNN / LSTM /
GRU run with the case's weights through torch.func.functional_call); nothing here re-implements
the arithmetic. Arrays are computed in the dtype they arrive in (float32 or float64) on
``device``: the CPU by default, ``TorchBackend(device="cuda")`` (``nnspec run --backend torch
--device cuda``) where CUDA is there; on CUDA the adapter turns TF32 off (a process-wide torch
setting), since TF32 rounds float32 inputs to 10-bit mantissas and could not pass a float32 run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from conformance.contract import OPS, op_spec

__all__ = ["TorchBackend"]

Tensor = torch.Tensor


def _step(x: Tensor) -> Tensor:
    return (x >= 0).to(x.dtype)                 # flat on both sides: no gradient flows


def _max_margin(s: Tensor, s_c: Tensor, delta: float) -> Tensor:
    # relu, not clamp(min=0): clamp passes the gradient at the kink, the contract gives it 0
    return torch.relu(delta + s_c - s)


def _cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    return F.cross_entropy(logits, targets)     # reduction="mean"


_CELLS: dict[str, Callable[[int, int], torch.nn.RNNBase]] = {
    "rnn": partial(torch.nn.RNN, nonlinearity="tanh"),
    "lstm": torch.nn.LSTM,
    "gru": torch.nn.GRU,
}


@lru_cache(maxsize=64)
def _cell(kind: str, input_size: int, hidden_size: int, dtype: torch.dtype,
          device: torch.device) -> torch.nn.RNNBase:
    """The module of a one-layer, time-major ``kind`` cell of these sizes, built once: every
    call runs it with the case's own weights in their place (functional_call), and building it
    (random initial weights included) took longer than a small case's arithmetic."""
    return _CELLS[kind](input_size, hidden_size).to(device, dtype)


def _recurrent(kind: str, x: Tensor, h0: Tensor, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
               b_ih: Tensor, b_hh: Tensor) -> tuple[Tensor, ...]:
    cell = _cell(kind, x.shape[2], h0.shape[1], x.dtype, x.device)
    weights = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih,
               "bias_hh_l0": b_hh}
    state: Any = h0.unsqueeze(0) if c0 is None else (h0.unsqueeze(0), c0.unsqueeze(0))
    out, last = functional_call(cell, weights, (x, state), tie_weights=False)  # none tied
    if c0 is None:
        return out, last[0]
    return out, last[0][0], last[1][0]


def _rnn(x: Tensor, h0: Tensor, *weights: Tensor) -> tuple[Tensor, ...]:
    return _recurrent("rnn", x, h0, None, *weights)


def _lstm(x: Tensor, h0: Tensor, c0: Tensor, *weights: Tensor) -> tuple[Tensor, ...]:
    return _recurrent("lstm", x, h0, c0, *weights)


def _gru(x: Tensor, h0: Tensor, *weights: Tensor) -> tuple[Tensor, ...]:
    return _recurrent("gru", x, h0, None, *weights)


OPS_TORCH: dict[str, Callable[..., Any]] = {
    "step": _step,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "linear": F.linear,                                         # x wᵀ + b
    "softmax": partial(torch.softmax, dim=-1),
    "cross_entropy": _cross_entropy,
    "max_margin": _max_margin,
    "conv2d": F.conv2d,                                         # (x, w, b, stride, padding)
    "conv1d": F.conv1d,
    "max_pool2d": F.max_pool2d,                                 # (x, kernel_size, stride)
    "avg_pool2d": F.avg_pool2d,
    "lp_pool2d": lambda x, kernel_size, stride: F.lp_pool2d(x, 2.0, kernel_size, stride),
    "rnn": _rnn,
    "lstm": _lstm,
    "gru": _gru,
    "embedding": lambda ids, E: F.embedding(ids, E),
}


class TorchBackend:
    """PyTorch on ``device`` (default "cpu"), one method per contract op plus ``vjp``."""

    name = "torch"
    version = torch.__version__

    def __init__(self, device: str | None = None) -> None:
        self.device = torch.device(device or "cpu")
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"torch backend: device {device!r} asked for, but CUDA is not "
                             f"available here (torch {torch.__version__})")
        if self.device.type == "cuda":  # pragma: no cover - needs a GPU
            # TF32 matmuls and convolutions round inputs to 10 bits: not float32 arithmetic
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        for op in OPS_TORCH:
            setattr(self, op, partial(self._forward, op))

    def _tensor(self, value: np.ndarray, requires_grad: bool = False) -> Tensor:
        """The array as a tensor on the device (on the CPU sharing its memory, as torch.as_tensor
        would: the autograd leaves are never written), index arrays as int64."""
        arr = np.asarray(value)
        if min(arr.strides, default=0) < 0:        # torch refuses negative strides (a[::-1])
            arr = arr.copy()
        if arr.dtype.kind in "iu":
            return torch.from_numpy(arr).to(self.device, torch.long)
        return torch.from_numpy(arr).to(self.device).requires_grad_(requires_grad)

    def _run(self, op: str, inputs: tuple[np.ndarray, ...], attrs: tuple[Any, ...],
             grad: bool) -> tuple[list[Tensor], tuple[Tensor, ...]]:
        spec = op_spec(op)
        tensors = [self._tensor(v, grad and a.differentiable) for a, v in zip(spec.inputs, inputs)]
        out = OPS_TORCH[op](*tensors, *attrs)
        return tensors, tuple(out) if isinstance(out, tuple) else (out,)

    def _forward(self, op: str, *args: Any) -> tuple[np.ndarray, ...] | np.ndarray:
        n = len(OPS[op].inputs)
        with torch.no_grad():
            _, outs = self._run(op, args[:n], args[n:], grad=False)
        arrays = tuple(o.cpu().numpy() for o in outs)
        return arrays if len(arrays) > 1 else arrays[0]

    def vjp(self, op: str, inputs: tuple[np.ndarray, ...], attrs: Mapping[str, Any],
            cotangents: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """Gradients of Σ cotangent ∘ output by torch.autograd, for the differentiable inputs."""
        if op not in OPS_TORCH:
            raise NotImplementedError(f"torch backend: no op {op!r}")
        spec = op_spec(op)
        tensors, outs = self._run(op, inputs, tuple(attrs[a.name] for a in spec.attrs), grad=True)
        wrt = [t for a, t in zip(spec.inputs, tensors) if a.differentiable]
        pairs = [(o, self._tensor(c)) for o, c in zip(outs, cotangents) if o.requires_grad]
        if not pairs:                              # e.g. step: the output does not depend on x
            return tuple(torch.zeros_like(t).detach().cpu().numpy() for t in wrt)
        # the gradient of the scalar Σ ⟨c, o⟩ is the vjp (its ∂/∂o is c exactly); given the
        # cotangents as grad_outputs, torch.autograd.grad would import SymPy (~0.3 s) to compare
        # their shapes with the outputs'
        mismatched = [(tuple(o.shape), tuple(c.shape)) for o, c in pairs if o.shape != c.shape]
        if mismatched:
            raise ValueError(f"torch backend: {op}'s outputs and cotangents differ in shape: "
                             f"{mismatched}")
        products = [(o * c).sum() for o, c in pairs]
        total = sum(products[1:], start=products[0])
        grads = torch.autograd.grad(total, wrt, allow_unused=True)
        return tuple((torch.zeros_like(t) if g is None else g).detach().cpu().numpy()
                     for g, t in zip(grads, wrt))
