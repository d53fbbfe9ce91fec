"""Strategies for word-level models: embedding lookups, output layers over sequences, and the
parameters of an embedding → RNN → softmax network (a language model or a tagger).

Sizes are drawn first, then arrays of those shapes. Vocabularies are small, so that repeated ids
(whose embedding gradients must add up) are common.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays, packed_indices
from conformance.strategies.draws import Draws, HypothesisDraws

__all__ = [
    "EmbeddingCase",
    "OutputLayer",
    "TokenModelCase",
    "embedding_cases",
    "output_layers",
    "token_model_cases",
]


def _ids(draw: st.DrawFn, shape: tuple[int, ...], size: int, label: str) -> np.ndarray:
    return draw(packed_indices(shape, size), label=label)


@dataclass(frozen=True)
class EmbeddingCase:
    """A lookup: ids [T, N] in [0, K), a table E [K, d], an upstream gradient de [T, N, d]."""

    ids: np.ndarray
    E: np.ndarray
    de: np.ndarray


def embedding_case(d: Draws, *, max_k: int = 5, max_d: int = 4, max_t: int = 6, max_n: int = 3,
                   bound: float = 3.0) -> EmbeddingCase:
    """One embedding lookup from ``d`` (see ``embedding_cases``)."""
    T = d.integer(1, max_t, "T")
    N = d.integer(1, max_n, "N")
    K = d.integer(1, max_k, "K")
    width = d.integer(1, max_d, "d")
    return EmbeddingCase(ids=d.indices((T, N), K, "ids"), E=d.array((K, width), bound, "E"),
                         de=d.array((T, N, width), bound, "de"))


@st.composite
def embedding_cases(draw: st.DrawFn, *, max_k: int = 5, max_d: int = 4, max_t: int = 6,
                    max_n: int = 3, bound: float = 3.0) -> EmbeddingCase:
    """An embedding lookup with (often) repeated ids: sizes first (T in 1..``max_t``, N in
    1..``max_n``, K in 1..``max_k``, d in 1..``max_d``), then int64 ids [T, N] in [0, K)
    (``packed_indices``) and float64 E [K, d] and de [T, N, d] with finite values in
    [−bound, bound] (``bound`` = 3 by default)."""
    return embedding_case(HypothesisDraws(draw, arrays), max_k=max_k, max_d=max_d, max_t=max_t,
                          max_n=max_n, bound=bound)


@dataclass(frozen=True)
class OutputLayer:
    """An output layer over a sequence of states: V [K, H], c [K] and targets y [T, N]."""

    V: np.ndarray
    c: np.ndarray
    y: np.ndarray


@st.composite
def output_layers(draw: st.DrawFn, T: int, N: int, H: int, *, max_k: int = 4,
                  bound: float = 1.0) -> OutputLayer:
    """o_t = softmax(V s_t + c) for states [T, N, H] of known sizes, with targets: K drawn in
    1..``max_k``, then float64 V [K, H] and c [K] with finite values in [−bound, bound]
    (``bound`` = 1 by default) and int64 targets y [T, N] in [0, K)."""
    K = draw(st.integers(1, max_k), label="K")
    return OutputLayer(V=draw(arrays((K, H), bound=bound), label="V"),
                       c=draw(arrays((K,), bound=bound), label="c"),
                       y=_ids(draw, (T, N), K, "y"))


@dataclass(frozen=True)
class TokenModelCase:
    """Parameters of embedding → RNN → softmax: E [K_in, d], U [H, d], W [H, H], b [H],
    V [K_out, H], c [K_out]."""

    params: dict[str, Any]
    sizes: dict[str, int]


@st.composite
def token_model_cases(draw: st.DrawFn, *, K_in: int, K_out: int, max_d: int = 3,
                      max_h: int = 4, bound: float = 2.0) -> TokenModelCase:
    """Random parameters of a token RNN with the given vocabularies ``K_in`` and ``K_out``.

    d in 1..``max_d`` and H in 1..``max_h`` are drawn first, then float64 E [K_in, d], U [H, d],
    W [H, H], b [H], V [K_out, H] and c [K_out] with finite values in [−bound, bound] (``bound`` =
    2 by default). A language model over K words has K_in = K + 1 (the start symbol) and
    K_out = K.
    """
    d = draw(st.integers(1, max_d), label="d")
    H = draw(st.integers(1, max_h), label="H")
    shapes = {"E": (K_in, d), "U": (H, d), "W": (H, H), "b": (H,), "V": (K_out, H),
              "c": (K_out,)}
    params = {k: draw(arrays(shape, bound=bound), label=k) for k, shape in shapes.items()}
    return TokenModelCase(params, {"K_in": K_in, "K_out": K_out, "d": d, "H": H})
