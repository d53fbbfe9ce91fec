"""PyTorch as an independent oracle: one helper runs torch code and compares values and gradients.

The torch side is always written with torch's own ops (torch.nn.functional, nn modules) by the
test, never by wrapping nnspec's reference. Everything runs in float64; the tolerances come from
reference.tolerance (forward and gradient separately).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch

from reference.tolerance import Tolerance, assert_close, tolerance

torch.set_num_threads(1)  # two xdist workers on two cores: no oversubscription

__all__ = ["assert_matches_torch", "run_torch"]


def _tensor(value: Any, requires_grad: bool) -> torch.Tensor:
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.integer):
        return torch.tensor(arr, dtype=torch.long)
    return torch.tensor(arr, dtype=torch.float64, requires_grad=requires_grad)


def run_torch(
    fn: Callable[..., Any],
    inputs: Mapping[str, Any],
    upstream: Any = None,
    wrt: Iterable[str] = (),
) -> tuple[tuple[np.ndarray, ...], dict[str, np.ndarray]]:
    """Run ``fn(**tensors)`` in float64; return its outputs and the gradients of
    Σ upstream ∘ outputs with respect to the inputs named in ``wrt``.

    ``fn`` may return a tensor or a tuple of tensors; ``upstream`` then is an array or a tuple of
    arrays of the same shapes (None for a scalar output: its gradient is taken directly).
    """
    wrt = tuple(wrt)
    tensors = {k: _tensor(v, k in wrt) for k, v in inputs.items()}
    out = fn(**tensors)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    grads: dict[str, np.ndarray] = {}
    if wrt:
        if upstream is None:
            total = sum(o.sum() for o in outs)
        else:
            ups = upstream if isinstance(upstream, (tuple, list)) else (upstream,)
            if len(ups) != len(outs):
                raise ValueError(f"{len(ups)} upstream arrays for {len(outs)} outputs")
            total = sum((o * torch.as_tensor(np.asarray(u), dtype=torch.float64)).sum()
                        for o, u in zip(outs, ups))
        assert isinstance(total, torch.Tensor)
        total.backward()
        for k in wrt:
            g = tensors[k].grad
            grads[k] = np.zeros(np.shape(inputs[k])) if g is None else g.detach().numpy()
    return tuple(o.detach().numpy() for o in outs), grads


def assert_matches_torch(
    torch_fn: Callable[..., Any],
    inputs: Mapping[str, Any],
    ours: Any,
    ours_grads: Mapping[str, Any] | None = None,
    upstream: Any = None,
    *,
    terms: int = 1,
    depth: int = 1,
    forward_tol: Tolerance | None = None,
    gradient_tol: Tolerance | None = None,
    what: str = "",
) -> None:
    """Assert that our output(s) and gradients equal torch's on the same float64 inputs.

    ``ours`` is an array or a tuple of arrays (as torch_fn returns); ``ours_grads`` maps input
    names to our gradients of Σ upstream ∘ output. Tolerances default to the policy's for a
    computation summing ``terms`` products over ``depth`` steps.
    """
    grads = dict(ours_grads or {})
    t_out, t_grads = run_torch(torch_fn, inputs, upstream, wrt=grads)
    ours_t = tuple(ours) if isinstance(ours, (tuple, list)) else (ours,)
    if len(ours_t) != len(t_out):
        raise AssertionError(f"{what}: {len(ours_t)} outputs, torch gives {len(t_out)}")
    f_tol = forward_tol or tolerance(np.float64, terms=terms, depth=depth)
    g_tol = gradient_tol or tolerance(np.float64, terms=terms, depth=depth, gradient=True)
    for i, (a, e) in enumerate(zip(ours_t, t_out)):
        label = f"{what} output {i}" if len(t_out) > 1 else f"{what} output"
        assert_close(a, e, f_tol, what=label.strip())
    for k, g in grads.items():
        assert_close(g, t_grads[k], g_tol, what=f"{what} ∂/∂{k}".strip())
