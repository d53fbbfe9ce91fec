"""Strategies for fully connected layers and networks of several layers (and the punchline
network).

A dense layer (``dense_cases``): sizes first (N, D, M), then x [N, D], W [M, D] and b [M]. A
network: sizes first (N, the widths D = M_0, M_1, ..., M_L), then each layer's
W_l [M_l, M_{l−1}] and b_l [M_l], an activation per layer, and an upstream gradient for the
output [N, M_L]."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays
from conformance.strategies.draws import Draws, HypothesisDraws

__all__ = ["DenseCase", "NetworkCase", "dense_cases", "network_cases"]


@dataclass(frozen=True)
class DenseCase:
    """A fully connected layer with consistent shapes: x [N, D], W [M, D], b [M]."""

    x: np.ndarray
    W: np.ndarray
    b: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        return {"x": self.x, "W": self.W, "b": self.b}


def dense_case(d: Draws, *, max_n: int = 4, max_width: int = 6, bound: float = 3.0) -> DenseCase:
    """One dense layer's inputs from ``d`` (see ``dense_cases``)."""
    n = d.integer(1, max_n, "N")
    width = d.integer(1, max_width, "D")
    m = d.integer(1, max_width, "M")
    return DenseCase(d.array((n, width), bound, "x"), d.array((m, width), bound, "W"),
                     d.array((m,), bound, "b"))


@st.composite
def dense_cases(draw: st.DrawFn, *, max_n: int = 4, max_width: int = 6,
                bound: float = 3.0) -> DenseCase:
    """A dense layer's inputs: sizes first (N in 1..``max_n``, D and M in 1..``max_width``), then
    float64 arrays x [N, D], W [M, D], b [M] with finite values in [−bound, bound] (``bound`` = 3
    by default)."""
    return dense_case(HypothesisDraws(draw, arrays), max_n=max_n, max_width=max_width,
                      bound=bound)


@dataclass(frozen=True)
class NetworkCase:
    """x [N, D]; layers as (W_l [M_l, M_{l−1}], b_l [M_l]); activations; upstream [N, M_L]."""

    x: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    activations: tuple[str, ...]
    upstream: np.ndarray


@st.composite
def network_cases(draw: st.DrawFn, *, min_layers: int = 1, max_layers: int = 3, max_n: int = 4,
                  max_width: int = 5, bound: float = 2.0,
                  activations: tuple[str, ...] = ("sigmoid", "tanh", "relu", "identity"),
                  biases: bool = True) -> NetworkCase:
    """A network of L dense layers, L in ``min_layers``..``max_layers`` (1..3 by default).

    N in 1..``max_n`` and every width M_0..M_L in 1..``max_width``; float64 x [N, M_0], W_l, b_l
    (``biases=False``: every b = 0) and upstream [N, M_L] with finite values in [−bound, bound]
    (``bound`` = 2 by default); each layer's activation drawn from ``activations``.
    """
    depth = draw(st.integers(min_layers, max_layers), label="L")
    n = draw(st.integers(1, max_n), label="N")
    widths = [draw(st.integers(1, max_width), label=f"M_{i}") for i in range(depth + 1)]
    layers = []
    for i in range(1, depth + 1):
        W = draw(arrays((widths[i], widths[i - 1]), bound=bound), label=f"W_{i}")
        b = (draw(arrays((widths[i],), bound=bound), label=f"b_{i}") if biases
             else np.zeros(widths[i]))
        layers.append((W, b))
    acts = tuple(draw(st.sampled_from(activations), label=f"f_{i}") for i in range(1, depth + 1))
    return NetworkCase(
        x=draw(arrays((n, widths[0]), bound=bound), label="x"),
        layers=tuple(layers),
        activations=acts,
        upstream=draw(arrays((n, widths[-1]), bound=bound), label="upstream"),
    )
