"""Strategies for recurrent ops: time-major sequences and gate-stacked weights (PyTorch layout).

Sizes are drawn first (T, N, D, H), then arrays of those shapes. Weights of a cell with G gates are
stacked along the first axis as PyTorch stacks them: LSTM G = 4 (i, f, g, o), GRU G = 3
(r, z, n), vanilla RNN G = 1. Each gate gets its own random block, so that a swapped gate order
cannot go unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays, once
from conformance.strategies.draws import Draws, HypothesisDraws

__all__ = ["RecurrentCase", "recurrent_cases", "token_sequences"]


@dataclass(frozen=True)
class RecurrentCase:
    """A cell with G gates over a sequence: x [T, N, D], h0 and c0 [N, H], W_ih [G·H, D],
    W_hh [G·H, H], b_ih and b_hh [G·H], and an upstream gradient for the outputs [T, N, H]."""

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    d_out: np.ndarray
    sizes: dict[str, int] = field(default_factory=dict)


def recurrent_case(d: Draws, *, gates: int = 1, max_t: int = 6, max_n: int = 3, max_d: int = 4,
                   max_h: int = 4, bound: float = 1.0) -> RecurrentCase:
    """One recurrent case from ``d`` (see ``recurrent_cases``)."""
    T = d.integer(1, max_t, "T")
    N = d.integer(1, max_n, "N")
    D = d.integer(1, max_d, "D")
    H = d.integer(1, max_h, "H")
    G = gates
    return RecurrentCase(
        x=d.array((T, N, D), bound, "x"),
        h0=d.array((N, H), bound, "h0"),
        c0=d.array((N, H), bound, "c0"),
        W_ih=d.array((G * H, D), bound, "W_ih"),
        W_hh=d.array((G * H, H), bound, "W_hh"),
        b_ih=d.array((G * H,), bound, "b_ih"),
        b_hh=d.array((G * H,), bound, "b_hh"),
        d_out=d.array((T, N, H), bound, "d_out"),
        sizes={"T": T, "N": N, "D": D, "H": H, "G": G},
    )


@once
@st.composite
def recurrent_cases(draw: st.DrawFn, *, gates: int = 1, max_t: int = 6, max_n: int = 3,
                    max_d: int = 4, max_h: int = 4, bound: float = 1.0,
                    values: Callable[..., st.SearchStrategy[np.ndarray]] = arrays
                    ) -> RecurrentCase:
    """A recurrent case with G = ``gates`` stacked gate blocks (shapes as in RecurrentCase).

    Sizes first (T in 1..``max_t``, N in 1..``max_n``, D in 1..``max_d``, H in 1..``max_h``), then
    float64 arrays with finite values in [−bound, bound] (``bound`` = 1 by default), drawn by
    ``values(shape, bound=bound)`` (``arrays`` by default; property mode draws
    ``packed_arrays``); c0 is drawn whatever G is (only the LSTM uses it).
    """
    return recurrent_case(HypothesisDraws(draw, values), gates=gates, max_t=max_t, max_n=max_n,
                          max_d=max_d, max_h=max_h, bound=bound)


@st.composite
def token_sequences(draw: st.DrawFn, *, vocab: int = 5, max_t: int = 8,
                    max_n: int = 3) -> np.ndarray:
    """int64 token ids [T, N] in [0, ``vocab``), time-major; T in 1..``max_t``, N in
    1..``max_n``."""
    T = draw(st.integers(1, max_t), label="T")
    N = draw(st.integers(1, max_n), label="N")
    ids = draw(st.lists(st.integers(0, vocab - 1), min_size=T * N, max_size=T * N), label="ids")
    return np.array(ids, dtype=np.int64).reshape(T, N)
