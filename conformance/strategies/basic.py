"""Strategies for values and shapes, and the packed arrays every case builder draws.

Values are bounded (|x| ≤ 10 by default) so that gradients checked by finite differences stay
well conditioned; ``wide_floats`` draws the extreme finite inputs that the stability conventions
speak of (|x| up to 1e300).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance.cases import f32

__all__ = [
    "arrays",
    "finite_floats",
    "packed_arrays",
    "packed_indices",
    "packed_permutations",
    "shapes",
    "wide_floats",
]


StrategyFn = TypeVar("StrategyFn", bound=Callable[..., st.SearchStrategy[Any]])


def once(strategy: StrategyFn) -> StrategyFn:
    """``strategy`` (a function returning a strategy, such as an ``@st.composite``) building one
    strategy object per set of arguments, used again by every later call. A case strategy that
    calls its parts' strategies while it draws would otherwise build new ones at each draw, and
    Hypothesis validates and inspects every new strategy object before drawing from it: in
    property mode that cost more than the drawing itself. The arguments must be hashable."""
    return cast(StrategyFn, functools.lru_cache(maxsize=1024)(strategy))


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


def _reversed_15_bits(n: np.ndarray) -> np.ndarray:
    """n (0 ≤ n < 2¹⁵) with its 15 bits in reverse order: bit k moves to bit 14 − k."""
    reversed_n = np.zeros_like(n)
    for k in range(15):
        reversed_n |= ((n >> k) & 1) << (14 - k)
    return reversed_n


_CODES = np.arange(2**16, dtype=np.int64)
_FRACTIONS = np.where(_CODES & 0x8000, -1.0, 1.0) * _reversed_15_bits(_CODES & 0x7FFF) / 2.0**15
"""What each two-byte code spells, as a fraction of the bound: sign bit, then 15 bits read
backwards (see ``packed_arrays``), for all 2¹⁶ codes at once."""


def values_of(codes: bytes, shape: tuple[int, ...], bound: float) -> np.ndarray:
    """The values a byte string spells, two bytes an element (see ``packed_arrays``)."""
    pairs = np.frombuffer(codes, dtype=">u2").astype(np.int64)
    numbered = pairs ^ (np.arange(pairs.size) & 0x7FFF)        # zero bytes: 0, 1, 2, ...
    return f32(bound * _FRACTIONS[numbered]).reshape(shape)


@once
def packed_arrays(shape: tuple[int, ...], *, bound: float = 2.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` holding float32 numbers in [−bound, bound), every element its
    own value, drawn as one byte string of two bytes an element: one Hypothesis choice per array
    where ``arrays`` makes one per drawn element (property mode draws its values so).

    Element i's two bytes are a sign bit and a 15-bit number, which is XORed with i and read
    backwards as a fraction of ``bound``: value = ±bound·(b₁/2 + b₂/4 + … + b₁₅/2¹⁵), b₁ the
    number's last bit. Random bytes give values spread evenly over the range (a grid of
    bound/2¹⁵). Hypothesis shrinks a byte string towards zero bytes, which spell the simplest
    array that is not constant, the ramp 0, bound/2, bound/4, 3·bound/4, ... (with ``bound`` = 2:
    0, 1, 0.5, 1.5, 0.25, ...), each element a simple value. The same ramp stands in for an array
    whose size changed while Hypothesis shrank the sizes before it, so a failure that shows on
    varied values still shows and the sizes shrink on. Values are rounded to float32 numbers
    (exact for a ``bound`` of few significant bits, such as 1, 2 or 3)."""
    size = int(np.prod(shape, dtype=np.int64))
    return st.binary(min_size=2 * size, max_size=2 * size).map(
        lambda codes: values_of(codes, tuple(shape), bound))


def indices_of(codes: bytes, shape: tuple[int, ...], size: int) -> np.ndarray:
    """The int64 indices in [0, size) a byte string spells, two bytes an element (the number
    they spell, modulo ``size``; see ``packed_indices``)."""
    return (np.frombuffer(codes, dtype=">u2").astype(np.int64) % size).reshape(shape)


def order_of(codes: bytes) -> np.ndarray:
    """The permutation of 0..n−1 a byte string of 2n bytes spells: the positions of its two-byte
    numbers in ascending order, a tie in order of position (zero bytes: the identity)."""
    return np.argsort(np.frombuffer(codes, dtype=">u2"), kind="stable")


def packed_indices(shape: tuple[int, ...], size: int) -> st.SearchStrategy[np.ndarray]:
    """int64 arrays of ``shape`` with values in [0, ``size``), drawn as one byte string of two
    bytes an element (as ``packed_arrays``); Hypothesis shrinks them towards all zeros. Raises
    ValueError for a ``size`` that is not a positive int (no index would fit)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"packed_indices: size must be a positive int (the number of indices "
                         f"to choose from), got {size!r}")
    return _packed_indices(tuple(shape), int(size))


@once       # (after the check: the cache takes True for 1)
def _packed_indices(shape: tuple[int, ...], size: int) -> st.SearchStrategy[np.ndarray]:
    count = int(np.prod(shape, dtype=np.int64))
    return st.binary(min_size=2 * count, max_size=2 * count).map(
        lambda codes: indices_of(codes, shape, size))


@once
def packed_permutations(n: int) -> st.SearchStrategy[np.ndarray]:
    """int64 permutations of 0..``n``−1, drawn as one byte string of two bytes an element (see
    ``order_of``); Hypothesis shrinks them towards the identity."""
    return st.binary(min_size=2 * n, max_size=2 * n).map(order_of)
