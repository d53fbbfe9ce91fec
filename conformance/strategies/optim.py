"""Strategies for optimisers: named parameters with gradients of the same names and shapes."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays, shapes

__all__ = ["param_dicts"]


@st.composite
def param_dicts(draw: st.DrawFn, *, max_params: int = 3,
                bound: float = 10.0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(params, grads): 1..``max_params`` distinct names drawn from W, b, U, V, W1, b1, each a
    float64 array of 1..2 axes of 1..4; ``grads`` has the same names and shapes. Values finite in
    [−bound, bound] (``bound`` = 10 by default)."""
    names = draw(st.lists(st.sampled_from(["W", "b", "U", "V", "W1", "b1"]), min_size=1,
                          max_size=max_params, unique=True), label="names")
    params, grads = {}, {}
    for name in names:
        shape = draw(shapes(max_dims=2, max_side=4), label=f"shape of {name}")
        params[name] = draw(arrays(shape, bound=bound), label=name)
        grads[name] = draw(arrays(shape, bound=bound), label=f"d{name}")
    return params, grads
