"""Strategies for the window classifier: windows of k word vectors, weights, and corrupt windows.

Sizes are drawn first (N windows or a single one, k words of width d, H hidden units), then arrays
of those shapes: x and x_c [D] or [N, D] with D = k·d, W [H, D], b [H], U [H], and an upstream
gradient for the scores ([] or [N]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays

__all__ = ["WindowCase", "window_cases"]


@dataclass(frozen=True)
class WindowCase:
    """A window classifier's inputs: x, x_c [D] or [N, D], W [H, D], b, U [H], grad [] or [N]."""

    x: np.ndarray
    x_c: np.ndarray
    W: np.ndarray
    b: np.ndarray
    U: np.ndarray
    grad: np.ndarray
    sizes: dict[str, int] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The shared parameters W, b, U by name."""
        return {"W": self.W, "b": self.b, "U": self.U}


@st.composite
def window_cases(draw: st.DrawFn, *, max_n: int = 3, max_words: int = 5, max_d: int = 4,
                 max_h: int = 8, bound: float = 2.0) -> WindowCase:
    """A window case: sizes first (N in 0..``max_n``, k in 1..``max_words``, d in 1..``max_d``,
    H in 1..``max_h``, D = k·d), then float64 arrays (shapes as in WindowCase) with finite values
    in [−bound, bound] (``bound`` = 2 by default). ``N = 0`` in ``sizes`` means a single 1-D
    window, as on the slide: x, x_c [D] and a scalar grad []."""
    n = draw(st.integers(0, max_n), label="N (0: one 1-D window)")
    k = draw(st.integers(1, max_words), label="k words")
    d = draw(st.integers(1, max_d), label="d")
    h = draw(st.integers(1, max_h), label="H")
    batch: tuple[int, ...] = (n,) if n else ()
    return WindowCase(
        x=draw(arrays((*batch, k * d), bound=bound), label="x"),
        x_c=draw(arrays((*batch, k * d), bound=bound), label="x_c"),
        W=draw(arrays((h, k * d), bound=bound), label="W"),
        b=draw(arrays((h,), bound=bound), label="b"),
        U=draw(arrays((h,), bound=bound), label="U"),
        grad=draw(arrays(batch, bound=bound), label="grad"),
        sizes={"N": n, "k": k, "d": d, "D": k * d, "H": h},
    )
