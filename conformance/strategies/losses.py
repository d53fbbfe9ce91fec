"""Strategies for losses: classification batches (logits and integer targets).

Sizes are drawn first (N examples, C classes), then the logits [N, C] and the targets [N] in
[0, C). ``elements`` lets a stability property draw logits up to |z| = 1e300.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays

__all__ = ["ClassificationCase", "classification_cases"]


@dataclass(frozen=True)
class ClassificationCase:
    """logits [N, C] and targets [N] (integer class ids in [0, C))."""

    logits: np.ndarray
    targets: np.ndarray


@st.composite
def classification_cases(draw: st.DrawFn, *, max_n: int = 4, max_c: int = 5, bound: float = 10.0,
                         elements: st.SearchStrategy[float] | None = None) -> ClassificationCase:
    """A batch of logits and targets: sizes first (N in 1..``max_n``, C in 1..``max_c``), then
    float64 logits [N, C] with finite values in [−bound, bound] (``bound`` = 10 by default; values
    from ``elements`` instead if given) and int64 targets [N] in [0, C)."""
    n = draw(st.integers(1, max_n), label="N")
    c = draw(st.integers(1, max_c), label="C")
    logits = draw(arrays((n, c), bound=bound, elements=elements), label="logits")
    ids = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), label="targets")
    return ClassificationCase(logits, np.array(ids, dtype=np.int64))
