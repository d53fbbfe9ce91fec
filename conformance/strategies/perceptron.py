"""Strategies for single neurons and for the labelled point sets of the perceptron.

Sizes first (N, D), then arrays of those shapes. Point sets live on a small integer grid, so that
exact (rational) arithmetic on them is cheap and a drawn separator has a known margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays

__all__ = [
    "LabelledPoints",
    "NeuronCase",
    "labelled_points",
    "neuron_cases",
    "separable_points",
]


@dataclass(frozen=True)
class NeuronCase:
    """One neuron's inputs: x [N, D], w [D], b a scalar, an upstream gradient do [N]."""

    x: np.ndarray
    w: np.ndarray
    b: float
    do: np.ndarray


@st.composite
def neuron_cases(draw: st.DrawFn, *, max_n: int = 4, max_d: int = 5,
                 bound: float = 3.0) -> NeuronCase:
    """A neuron's inputs: sizes first (N in 1..``max_n``, D in 1..``max_d``), then float64
    x [N, D], w [D], b (a Python float) and an upstream gradient do [N], all finite in
    [−bound, bound] (``bound`` = 3 by default)."""
    n = draw(st.integers(1, max_n), label="N")
    d = draw(st.integers(1, max_d), label="D")
    return NeuronCase(
        x=draw(arrays((n, d), bound=bound), label="x"),
        w=draw(arrays((d,), bound=bound), label="w"),
        b=draw(st.floats(-bound, bound, allow_nan=False, width=64), label="b"),
        do=draw(arrays((n,), bound=bound), label="do"),
    )


@dataclass(frozen=True)
class LabelledPoints:
    """Points X [N, D] on an integer grid with labels y [N] in {0, 1}. For separable_points,
    ``separator`` = (w*, b*) labels them (y = 1 where w*·x + b* > 0) with |w*·x + b*| ≥ 1/2."""

    X: np.ndarray
    y: np.ndarray
    separator: tuple[np.ndarray, float] | None = None


def _grid_points(draw: st.DrawFn, n: int, d: int, side: int) -> np.ndarray:
    coords = draw(st.lists(st.integers(-side, side), min_size=n * d, max_size=n * d),
                  label="X")
    return np.array(coords, dtype=np.float64).reshape(n, d)


@st.composite
def labelled_points(draw: st.DrawFn, *, max_n: int = 8, max_d: int = 3,
                    side: int = 2) -> LabelledPoints:
    """Any labelling of a few grid points (separable or not; repeated points allowed): N in
    1..``max_n``, D in 1..``max_d``, X [N, D] float64 with integer coordinates in
    [−side, side] (``side`` = 2 by default), y [N] float64 in {0, 1}; ``separator`` None."""
    n = draw(st.integers(1, max_n), label="N")
    d = draw(st.integers(1, max_d), label="D")
    X = _grid_points(draw, n, d, side)
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n), label="y"),
                 dtype=np.float64)
    return LabelledPoints(X, y)


@st.composite
def separable_points(draw: st.DrawFn, *, max_n: int = 12, max_d: int = 3,
                     side: int = 3) -> LabelledPoints:
    """Points labelled by a drawn separator w* (integers in [−2, 2], not all 0) and
    b* = k + 1/2, k an integer in [−side, side]: w*·x + b* is a half-integer, so every point is
    at least 1/2 from the line. N in 1..``max_n``, D in 1..``max_d``, X [N, D] float64 with integer
    coordinates in [−side, side] (``side`` = 3 by default), y [N] float64 in {0, 1} (one class
    only is possible), ``separator`` = (w*, b*)."""
    n = draw(st.integers(1, max_n), label="N")
    d = draw(st.integers(1, max_d), label="D")
    w = np.array(draw(st.lists(st.integers(-2, 2), min_size=d, max_size=d)
                      .filter(lambda v: any(v)), label="w*"), dtype=np.float64)
    b = draw(st.integers(-side, side), label="k") + 0.5
    X = _grid_points(draw, n, d, side)
    y = (X @ w + b > 0).astype(np.float64)
    return LabelledPoints(X, y, (w, b))
