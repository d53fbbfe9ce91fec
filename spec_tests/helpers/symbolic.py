"""SymPy derivations for the spec suite: symbol arrays and cached, lambdified gradients.

Deriving a gradient symbolically is the slow part of a SymPy test; ``derive`` does it once per
process for a given builder (functools.cache) and hands back a NumPy function that evaluates the
expression and all its partial derivatives at any point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

__all__ = ["Derived", "derive", "elementwise", "sigma", "symbols"]


def symbols(name: str, shape: tuple[int, ...] | int, **assumptions: Any) -> np.ndarray:
    """An object array of real SymPy symbols named ``name_i_j``, of the given shape."""
    shape = (shape,) if isinstance(shape, int) else shape
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        suffix = "_".join(str(i) for i in idx)
        out[idx] = sp.Symbol(f"{name}_{suffix}" if suffix else name, real=True, **assumptions)
    return out


def sigma(t: Any) -> Any:
    """The logistic sigmoid σ(t) = 1/(1 + e^−t) of a SymPy expression (the lecture's formula)."""
    return 1 / (1 + sp.exp(-t))


def elementwise(fn: Callable[[Any], Any], a: Any) -> np.ndarray:
    """``fn`` applied to every entry of an object array of SymPy expressions (σ, tanh, ...)."""
    return np.vectorize(fn, otypes=[object])(a)


@dataclass(frozen=True)
class Derived:
    """A scalar expression in named symbol arrays, with its gradient, ready to evaluate."""

    expr: sp.Expr
    inputs: Mapping[str, np.ndarray]
    _fn: Callable[..., Any]

    def __call__(self, **values: Any) -> tuple[float, dict[str, np.ndarray]]:
        """The expression and its gradient with respect to every input array at ``values``."""
        flat = [float(v) for k in self.inputs for v in np.asarray(values[k], float).ravel()]
        result = self._fn(*flat)
        value, parts = float(result[0]), np.asarray(result[1:], dtype=float)
        grads, start = {}, 0
        for k, syms in self.inputs.items():
            grads[k] = parts[start:start + syms.size].reshape(syms.shape)
            start += syms.size
        return value, grads


@cache
def derive(builder: Callable[[], tuple[sp.Expr, Mapping[str, np.ndarray]]]) -> Derived:
    """Build (once) ``expr, inputs = builder()``, differentiate and lambdify.

    ``builder`` returns the scalar expression and the symbol arrays it is a function of, by name.
    """
    expr, inputs = builder()
    flat = [s for syms in inputs.values() for s in syms.ravel()]
    diffs = [sp.diff(expr, s) for s in flat]
    fn = sp.lambdify(flat, [expr, *diffs], modules="numpy", cse=True)
    return Derived(expr, dict(inputs), fn)
