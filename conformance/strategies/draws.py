"""Where a case's sizes and values come from: Hypothesis, or a seeded random generator.

A case builder such as ``conv.conv_case`` or ``recurrent.recurrent_case`` is written once against
``Draws``: an integer in a closed range, a boolean, and arrays spelled by a byte string of two
bytes an element: float32 numbers (``basic.packed_arrays``), indices (``basic.packed_indices``)
or a permutation (``basic.packed_permutations``). Two sources implement it:

* ``HypothesisDraws`` turns each into one Hypothesis draw; the case strategies (``conv_cases``,
  ``op_cases``, ...) are the builders run on it, so Hypothesis draws, shrinks and prints them.
* ``RandomDraws`` takes each from a ``random.Random`` and records it as the choice Hypothesis
  itself records for that draw (an int, a bool, the bytes). Property mode searches so, at a small
  fraction of a Hypothesis example's cost, and hands a failing case's ``choices`` to Hypothesis,
  which replays them through the same builder, gets the same case, and shrinks it.

The two agree because each method makes exactly one Hypothesis choice: ``st.integers(low,
high)`` one integer, ``st.booleans()`` one boolean, a packed array one byte string (checked in
spec_tests/test_conformance_property.py for every op).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random
from typing import Protocol

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import (
    indices_of,
    order_of,
    packed_arrays,
    packed_indices,
    packed_permutations,
    values_of,
)

__all__ = ["Choice", "Draws", "HypothesisDraws", "RandomDraws"]

Choice = int | bool | bytes
"""One recorded choice, as Hypothesis records it (``hypothesis.database.choices_to_bytes``)."""


class Draws(Protocol):
    """A source of a case's sizes and values (see the module docstring)."""

    def integer(self, low: int, high: int, label: str) -> int:
        """An int in [low, high]."""

    def boolean(self, label: str) -> bool:
        """True or False."""

    def array(self, shape: tuple[int, ...], bound: float, label: str) -> np.ndarray:
        """float64 array of ``shape`` holding float32 numbers in [−bound, bound)."""

    def indices(self, shape: tuple[int, ...], size: int, label: str) -> np.ndarray:
        """int64 array of ``shape`` with values in [0, size)."""

    def permutation(self, n: int, label: str) -> np.ndarray:
        """A permutation of 0..n−1 (int64)."""


@dataclass(frozen=True)
class HypothesisDraws:
    """Draws made by Hypothesis inside an ``@st.composite`` (``draw``), arrays by ``values``
    (``packed_arrays`` by default; the public strategies take ``basic.arrays`` too)."""

    draw: st.DrawFn
    values: Callable[..., st.SearchStrategy[np.ndarray]] = packed_arrays

    def integer(self, low: int, high: int, label: str) -> int:
        return self.draw(st.integers(low, high), label=label)

    def boolean(self, label: str) -> bool:
        return self.draw(st.booleans(), label=label)

    def array(self, shape: tuple[int, ...], bound: float, label: str) -> np.ndarray:
        return self.draw(self.values(shape, bound=bound), label=label)

    def indices(self, shape: tuple[int, ...], size: int, label: str) -> np.ndarray:
        return self.draw(packed_indices(shape, size), label=label)

    def permutation(self, n: int, label: str) -> np.ndarray:
        return self.draw(packed_permutations(n), label=label)


@dataclass
class RandomDraws:
    """Draws taken from ``random``, each recorded in ``choices``. ``simplest=True`` takes the
    choices Hypothesis tries first instead (the int nearest 0, False, zero bytes: the smallest
    sizes, the ramp of ``packed_arrays``, index 0, the identity permutation)."""

    random: Random
    simplest: bool = False
    choices: list[Choice] = field(default_factory=list)

    def integer(self, low: int, high: int, label: str) -> int:
        value = min(max(0, low), high) if self.simplest else self.random.randint(low, high)
        self.choices.append(value)
        return value

    def boolean(self, label: str) -> bool:
        value = False if self.simplest else self.random.random() < 0.5
        self.choices.append(value)
        return value

    def array(self, shape: tuple[int, ...], bound: float, label: str) -> np.ndarray:
        return values_of(self._bytes(shape), shape, bound)

    def indices(self, shape: tuple[int, ...], size: int, label: str) -> np.ndarray:
        return indices_of(self._bytes(shape), shape, size)

    def permutation(self, n: int, label: str) -> np.ndarray:
        return order_of(self._bytes((n,)))

    def _bytes(self, shape: tuple[int, ...]) -> bytes:
        """Two bytes an element of ``shape``: one choice."""
        size = 2 * int(np.prod(shape, dtype=np.int64))
        codes = bytes(size) if self.simplest else self.random.randbytes(size)
        self.choices.append(codes)
        return codes
