"""Building blocks of the mutant backends: torch forwards with their autograd gradients, correct
torch ops to put a buggy hand-written backward next to, and recurrent cells written step by step
in torch with the switches the recurrent mutants flip.

Nothing here calls reference/: the correct parts are PyTorch (nnspec's torch adapter or
torch.nn.functional), so that no mutant can agree with the reference by construction.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from conformance.adapters.torch_backend import TorchBackend
from conformance.contract import op_spec
from spec_tests.mutant_corpus import Mutant

TORCH = TorchBackend()
Arrays = tuple[np.ndarray, ...]
Tensor = torch.Tensor

F, G, FG = frozenset({"forward"}), frozenset({"gradient"}), frozenset({"forward", "gradient"})
"""What fails: the forward check, the gradient check, both."""


def mutant(id: str, op: str, mistake: str, kind: str, backend: Any, fails: frozenset[str],
           verdict: str, arrays: Sequence[str], named: str | None = None,
           where: Sequence[str] = (), how: Sequence[str] = (), dtype: str = "float64") -> Mutant:
    return Mutant(id=id, op=op, mistake=mistake, kind=kind, backend=backend, fails=fails,
                  verdict=verdict, arrays=tuple(arrays), named=named, where=tuple(where),
                  how=tuple(how), dtype=dtype)


def tensor(value: Any, grad: bool = False) -> Tensor:
    arr = np.array(value)
    if np.issubdtype(arr.dtype, np.integer):
        return torch.as_tensor(arr, dtype=torch.long)
    return torch.as_tensor(arr).requires_grad_(grad)


def _numpy(out: Any) -> Any:
    if isinstance(out, tuple):
        return tuple(o.detach().numpy() for o in out)
    return out.detach().numpy()


def _forward(op: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    n = len(op_spec(op).inputs)

    def forward(*args: Any) -> Any:
        with torch.no_grad():
            return _numpy(fn(*(tensor(a) for a in args[:n]), *args[n:]))
    return forward


def _autograd_vjp(op: str, fn: Callable[..., Any]) -> Callable[..., Arrays]:
    spec = op_spec(op)

    def vjp(name: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
        tensors = [tensor(v, a.differentiable) for a, v in zip(spec.inputs, inputs)]
        out = fn(*tensors, *(attrs[a.name] for a in spec.attrs))
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [(o, tensor(c)) for o, c in zip(outs, cots) if o.requires_grad]
        wrt = [t for a, t in zip(spec.inputs, tensors) if a.differentiable]
        if not pairs:
            return tuple(np.zeros(t.shape, dtype=t.detach().numpy().dtype) for t in wrt)
        grads = torch.autograd.grad([o for o, _ in pairs], wrt, [c for _, c in pairs],
                                    allow_unused=True)
        return tuple(np.zeros(t.shape, dtype=t.detach().numpy().dtype) if g is None
                     else g.numpy() for g, t in zip(grads, wrt))
    return vjp


def autodiff(op: str, fn: Callable[..., Any]) -> types.SimpleNamespace:
    """A backend computing ``op`` by the torch function ``fn`` (tensors, then attributes), its
    gradient by torch.autograd: a mistake in ``fn`` is made by the forward and the backward."""
    return types.SimpleNamespace(**{op: _forward(op, fn), "vjp": _autograd_vjp(op, fn)})


def forward_only(op: str, fn: Callable[..., Any]) -> types.SimpleNamespace:
    """The buggy forward ``fn`` next to a correct gradient (torch's own)."""
    return types.SimpleNamespace(**{op: _forward(op, fn), "vjp": TORCH.vjp})


def gradient_of(op: str, fn: Callable[..., Any]) -> types.SimpleNamespace:
    """torch's correct forward, the gradient by autograd through ``fn``, a function with the
    same values whose graph is wrong (a detach, a dropped path)."""
    return types.SimpleNamespace(**{op: getattr(TORCH, op), "vjp": _autograd_vjp(op, fn)})


def backward(op: str, fn: Callable[..., Any], forward: Callable[..., Any] | None = None
             ) -> types.SimpleNamespace:
    """A hand-written ``<op>_backward`` ``fn`` next to torch's correct forward (or ``forward``)."""
    return types.SimpleNamespace(**{op: forward or getattr(TORCH, op), f"{op}_backward": fn})


def patched(op: str, change: Callable[..., Arrays]) -> types.SimpleNamespace:
    """torch's forward; the gradient is torch's, then ``change(grads, inputs, attrs, cots)``:
    a backward that computes every gradient right but one."""
    def vjp(name: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
        return change(TORCH.vjp(name, inputs, attrs, cots), inputs, attrs, cots)
    return types.SimpleNamespace(**{op: getattr(TORCH, op), "vjp": vjp})


def replace_at(grads: Arrays, i: int, value: np.ndarray) -> Arrays:
    return tuple(value if j == i else g for j, g in enumerate(grads))


# ---------------------------------------------------------------- precision
def in_float32(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` computed in float32 whatever the inputs' dtype, the result cast back (a backend
    that calls .float() somewhere in a float64 run)."""
    def run(*args: Any) -> Any:
        dtype = next(a.dtype for a in args if isinstance(a, Tensor) and a.is_floating_point())
        cast = [a.float() if isinstance(a, Tensor) and a.is_floating_point() else a
                for a in args]
        out = fn(*cast)
        return tuple(o.to(dtype) for o in out) if isinstance(out, tuple) else out.to(dtype)
    return run


def tf32(t: Tensor) -> Tensor:
    """A float32 tensor rounded to TF32's 10-bit mantissa (what a GPU's tensor cores do to a
    matmul's inputs when TF32 is on); float64 is left alone. The gradient passes straight
    through the rounding."""
    if t.dtype != torch.float32:
        return t
    m, e = torch.frexp(t.detach())
    rounded = torch.ldexp(torch.round(m * 2048.0) / 2048.0, e)
    return t + (rounded - t.detach())


def on_tf32(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with every float input rounded to TF32 in a float32 run."""
    def run(*args: Any) -> Any:
        return fn(*(tf32(a) if isinstance(a, Tensor) and a.is_floating_point() else a
                    for a in args))
    return run


# ---------------------------------------------------------------- recurrent cells, step by step
def split(v: Tensor, parts: int) -> list[Tensor]:
    return list(torch.chunk(v, parts, dim=0))


def blocks(v: Tensor, h: int, order: Sequence[int]) -> Tensor:
    """The gate blocks of a stacked weight or bias, in another order."""
    return torch.cat([v[j * h:(j + 1) * h] for j in order])


def rnn_steps(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor,
              act: Callable[[Tensor], Tensor] = torch.tanh, steps: int | None = None,
              carry: Callable[[Tensor, int], Tensor] = lambda h, t: h,
              last: int = -1) -> tuple[Tensor, Tensor]:
    """s_t = act(w_ih x_t + b_ih + w_hh carry(s_{t−1}) + b_hh); ``steps`` time steps (all by
    default); ``carry`` is what the next step sees of the state (a detach drops BPTT)."""
    h, outs = h0, []
    for t in range(x.shape[0] if steps is None else steps):
        h = act(x[t] @ w_ih.T + b_ih + carry(h, t) @ w_hh.T + b_hh)
        outs.append(h)
    out = torch.stack(outs)
    return out, out[last]


def lstm_steps(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,
               b_hh: Tensor, acts: Sequence[Callable[[Tensor], Tensor]] | None = None,
               out_act: Callable[[Tensor], Tensor] = torch.tanh,
               cell: Callable[..., Tensor] | None = None,
               carry_h: Callable[[Tensor], Tensor] = lambda h: h,
               carry_c: Callable[[Tensor], Tensor] = lambda c: c,
               forget_bias: float = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """The LSTM of the contract (gates i, f, g, o), with switches for the mutants: the gates'
    non-linearities ``acts``, the output's ``out_act``, the cell update ``cell(i, f, g, c)``,
    what the next step sees of h and c, a bias added to the forget gate."""
    sig = torch.sigmoid
    acts = acts or (sig, sig, torch.tanh, sig)
    h, c, outs = h0, c0, []
    for x_t in x:
        a = x_t @ w_ih.T + b_ih + carry_h(h) @ w_hh.T + b_hh
        ai, af, ag, ao = torch.chunk(a, 4, dim=1)
        i, f, g, o = acts[0](ai), acts[1](af + forget_bias), acts[2](ag), acts[3](ao)
        c_prev = carry_c(c)
        c = cell(i, f, g, c_prev) if cell is not None else f * c_prev + i * g
        h = o * out_act(c)
        outs.append(h)
    return torch.stack(outs), h, c


def gru_steps(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor,
              acts: Sequence[Callable[[Tensor], Tensor]] | None = None,
              candidate: Callable[..., Tensor] | None = None,
              update: Callable[[Tensor, Tensor, Tensor], Tensor] | None = None,
              carry: Callable[[Tensor], Tensor] = lambda h: h) -> tuple[Tensor, Tensor]:
    """The GRU of the contract (gates r, z, n; reset after), with switches: the gates'
    non-linearities, the candidate ``candidate(n_i, n_h_parts, r, h)``, the update
    ``update(z, n, h)``, what the next step sees of h."""
    sig = torch.sigmoid
    acts = acts or (sig, sig, torch.tanh)
    hidden = h0.shape[1]
    h, outs = h0, []
    for x_t in x:
        hp = carry(h)
        r_i, z_i, n_i = torch.chunk(x_t @ w_ih.T + b_ih, 3, dim=1)
        r_h, z_h, n_h = torch.chunk(hp @ w_hh.T + b_hh, 3, dim=1)
        r, z = acts[0](r_i + r_h), acts[1](z_i + z_h)
        if candidate is None:
            n = acts[2](n_i + r * n_h)
        else:
            n = candidate(n_i, hp, w_hh[2 * hidden:], b_hh[2 * hidden:], r)
        h = update(z, n, hp) if update is not None else (1 - z) * n + z * hp
        outs.append(h)
    return torch.stack(outs), h
