"""Strategies for losses: classification batches (logits and integer targets).

Sizes are drawn first (N examples, C classes), then the logits [N, C] and the targets [N] in
[0, C). ``elements`` lets a stability property draw logits up to |z| = 1e300.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays
from conformance.strategies.draws import Draws, HypothesisDraws

__all__ = ["ClassificationCase", "classification_cases"]


@dataclass(frozen=True)
class ClassificationCase:
    """logits [N, C] and targets [N] (integer class ids in [0, C))."""

    logits: np.ndarray
    targets: np.ndarray


def classification_case(d: Draws, *, max_n: int = 4, max_c: int = 5,
                        bound: float = 10.0) -> ClassificationCase:
    """One batch of logits and targets from ``d`` (see ``classification_cases``)."""
    n = d.integer(1, max_n, "N")
    c = d.integer(1, max_c, "C")
    return ClassificationCase(d.array((n, c), bound, "logits"), d.indices((n,), c, "targets"))


@st.composite
def classification_cases(draw: st.DrawFn, *, max_n: int = 4, max_c: int = 5, bound: float = 10.0,
                         elements: st.SearchStrategy[float] | None = None) -> ClassificationCase:
    """A batch of logits and targets: sizes first (N in 1..``max_n``, C in 1..``max_c``), then
    float64 logits [N, C] with finite values in [−bound, bound] (``bound`` = 10 by default; values
    from ``elements`` instead if given) and int64 targets [N] in [0, C) (``packed_indices``)."""
    def logits(shape: tuple[int, ...], bound: float) -> st.SearchStrategy[np.ndarray]:
        return arrays(shape, bound=bound, elements=elements)

    return classification_case(HypothesisDraws(draw, logits), max_n=max_n, max_c=max_c,
                               bound=bound)
