"""Strategies for values, shapes and fully connected layers.

Values are bounded (|x| ≤ 10 by default) so that gradients checked by finite differences stay
well conditioned; ``wide_floats`` draws the extreme finite inputs that the stability conventions
speak of (|x| up to 1e300).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "DenseCase",
    "arrays",
    "dense_cases",
    "finite_floats",
    "shapes",
    "wide_floats",
]


def finite_floats(bound: float = 10.0) -> st.SearchStrategy[float]:
    """Finite float64 values in [−bound, bound] (``bound`` = 10 by default; no nan, no inf,
    subnormals allowed)."""
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=64)


def wide_floats() -> st.SearchStrategy[float]:
    """Any finite float64 up to |x| = 1e300: for stability properties (no overflow, no nan)."""
    return st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False, width=64)


def shapes(
    *, min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 5
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes (tuples of ints) of ``min_dims``..``max_dims`` axes (1..3 by default), each of
    ``min_side``..``max_side`` (1..5 by default)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(
    shape: int | tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    *,
    bound: float = 10.0,
    elements: st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` (an int, a tuple or a strategy of shapes) with finite values in
    [−bound, bound] (``bound`` = 10 by default), or values from ``elements`` if given."""
    values = finite_floats(bound) if elements is None else elements
    return hnp.arrays(np.float64, shape, elements=values)


@dataclass(frozen=True)
class DenseCase:
    """A fully connected layer with consistent shapes: x [N, D], W [M, D], b [M]."""

    x: np.ndarray
    W: np.ndarray
    b: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        return {"x": self.x, "W": self.W, "b": self.b}


@st.composite
def dense_cases(draw: st.DrawFn, *, max_n: int = 4, max_width: int = 6,
                bound: float = 3.0) -> DenseCase:
    """A dense layer's inputs: sizes first (N in 1..``max_n``, D and M in 1..``max_width``), then
    float64 arrays x [N, D], W [M, D], b [M] with finite values in [−bound, bound] (``bound`` = 3
    by default)."""
    n = draw(st.integers(1, max_n), label="N")
    d = draw(st.integers(1, max_width), label="D")
    m = draw(st.integers(1, max_width), label="M")
    x = draw(arrays((n, d), bound=bound), label="x")
    W = draw(arrays((m, d), bound=bound), label="W")
    b = draw(arrays((m,), bound=bound), label="b")
    return DenseCase(x, W, b)
