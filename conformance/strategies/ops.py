"""Strategies for whole conformance cases: ``op_cases("conv2d")`` draws a Case of the contract.

Each op's case is built on the family strategies (``conv_cases``, ``pool_cases``,
``recurrent_cases``, ``dense_cases``, ...): a valid geometry first, then values, then an upstream
gradient for every output. Values are rounded to float32 numbers, so that a float32 run sees
exactly the inputs the float64 expected values come from (as the golden cases do), and cases keep
away from the points where the contract leaves the gradient undefined: max pooling draws distinct
values (no ties), L2 pooling no all-zero window, the margin loss no kink. This is what
``nnspec run --property`` draws; in a user's own tests::

    from hypothesis import given
    from conformance.strategies import op_cases

    @given(op_cases("conv2d"))
    def test_my_conv2d(case):
        x, w, b = case.inputs.values()
        (sh, sw), (ph, pw) = case.attrs["stride"], case.attrs["padding"]
        y = my_conv2d(x, w, b, (sh, sw), (ph, pw))
        oh = (x.shape[2] + 2 * ph - w.shape[2]) // sh + 1      # (H + 2P − F)/S + 1
        ow = (x.shape[3] + 2 * pw - w.shape[3]) // sw + 1
        assert y.shape == (x.shape[0], w.shape[0], oh, ow)

A drawn case's ``expected`` values are None until ``conformance.cases.complete`` computes them
with the reference (see ``op_cases``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

import numpy as np
from hypothesis import strategies as st

from conformance.cases import Case, f32
from conformance.contract import op_spec
from conformance.strategies.basic import once
from conformance.strategies.conv import axis, conv_case, conv_geometry, pool_case, pool_geometry
from conformance.strategies.draws import Draws, HypothesisDraws
from conformance.strategies.language import embedding_case
from conformance.strategies.losses import classification_case
from conformance.strategies.networks import dense_case
from conformance.strategies.recurrent import recurrent_case

__all__ = ["conv1d_cases", "op_case", "op_cases"]


def _case(op: str, inputs: dict[str, Any], upstream: dict[str, Any],
          attrs: dict[str, Any] | None = None) -> Case:
    spec = op_spec(op)
    kinds = {a.name: a.kind for a in spec.inputs}
    return Case(op=op, source="property", name="drawn",
                inputs={k: (np.asarray(v, dtype=np.int64) if kinds[k] == "index" else f32(v))
                        for k, v in inputs.items()},
                attrs=attrs or {}, upstream={k: f32(v) for k, v in upstream.items()},
                about=f"{op}: a drawn case", claims=spec.claims)


def _shape(d: Draws, min_axes: int, max_axes: int) -> tuple[int, ...]:
    """min_axes..max_axes axes, each of 1..5."""
    return tuple(d.integer(1, 5, f"side {i}") for i in range(d.integer(min_axes, max_axes, "axes")))


def _elementwise(op: str, d: Draws) -> Case:
    shape = _shape(d, 1, 3)
    return _case(op, {"x": d.array(shape, 10.0, "x")}, {"y": d.array(shape, 2.0, "dy")})


def _linear(d: Draws) -> Case:
    c = dense_case(d)
    dy = d.array((c.x.shape[0], c.W.shape[0]), 2.0, "dy")
    return _case("linear", {"x": c.x, "w": c.W, "b": c.b}, {"y": dy})


def _cross_entropy(d: Draws) -> Case:
    c = classification_case(d)
    return _case("cross_entropy", {"logits": c.logits, "targets": c.targets},
                 {"loss": d.array((), 2.0, "dloss")})


def _max_margin(d: Draws) -> Case:
    shape = _shape(d, 0, 2)
    delta = (1.0, 0.5, 0.0)[d.integer(0, 2, "delta")]
    s = d.array(shape, 3.0, "s")
    s_c = d.array(shape, 3.0, "s_c")
    s = np.where(np.abs(delta + s_c - s) < 1e-3, s + 0.5, s)   # away from the kink J = 0
    return _case("max_margin", {"s": s, "s_c": s_c}, {"J": d.array(shape, 2.0, "dJ")},
                 {"delta": delta})


def _conv2d(d: Draws) -> Case:
    c = conv_case(d, conv_geometry(d), bias=True)                    # b is an array
    return _case("conv2d", {"x": c.x, "w": c.w, "b": cast(np.ndarray, c.b)}, {"y": c.dy},
                 {"stride": c.stride, "padding": c.padding})


def _conv1d(d: Draws, *, max_batch: int = 3, max_channels: int = 4, max_kernels: int = 4,
            bound: float = 2.0) -> Case:
    n = d.integer(1, max_batch, "N")
    c = d.integer(1, max_channels, "C")
    k = d.integer(1, max_kernels, "K")
    length, f, s, p, out = axis(d, "L", 4, 3, 2, 5)
    return _case("conv1d", {"x": d.array((n, c, length), bound, "x"),
                            "w": d.array((k, c, f), bound, "w"),
                            "b": d.array((k,), bound, "b")},
                 {"y": d.array((n, k, out), bound, "dy")},
                 {"stride": s, "padding": p})


@once
@st.composite
def conv1d_cases(draw: st.DrawFn, *, max_batch: int = 3, max_channels: int = 4,
                 max_kernels: int = 4, bound: float = 2.0) -> Case:
    """A conv1d Case that fits: x [N, C, L], w [K, C, F], b [K], upstream y [N, K, OL], attrs
    stride S and padding P; ``expected`` None (see ``op_cases``).

    N in 1..``max_batch``, C in 1..``max_channels``, K in 1..``max_kernels``, OL in 1..5, F in
    1..4, S in 1..3, P in 0..2 with 2P < (OL − 1)·S + F (so L ≥ 1 and (L + 2P − F)/S + 1 = OL);
    values float32 numbers held in float64, in [−bound, bound) (``bound`` = 2 by default),
    drawn by ``packed_arrays``.
    """
    return _conv1d(HypothesisDraws(draw), max_batch=max_batch, max_channels=max_channels,
                   max_kernels=max_kernels, bound=bound)


def _pool(op: str, d: Draws) -> Case:
    c = pool_case(d, pool_geometry(d), distinct=op != "avg_pool2d")
    x = c.x
    if op == "lp_pool2d" and x.size % 2:      # an odd grid holds 0: shift it by half a step
        x = x + 2.0 / x.size                  # (the grid is 2·bound/size = 4/size apart)
    return _case(op, {"x": x}, {"y": c.dy}, {"kernel_size": c.kernel_size, "stride": c.stride})


def _recurrent(op: str, d: Draws) -> Case:
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[op]
    c = recurrent_case(d, gates=gates)
    n, h = c.h0.shape
    inputs = {"x": c.x, "h0": c.h0} | ({"c0": c.c0} if op == "lstm" else {}) | {
        "w_ih": c.W_ih, "w_hh": c.W_hh, "b_ih": c.b_ih, "b_hh": c.b_hh}
    upstream = {"out": c.d_out, "h_n": d.array((n, h), 1.0, "d_h_n")}
    if op == "lstm":
        upstream["c_n"] = d.array((n, h), 1.0, "d_c_n")
    return _case(op, inputs, upstream)


def _embedding(d: Draws) -> Case:
    c = embedding_case(d)
    return _case("embedding", {"ids": c.ids, "E": c.E}, {"y": c.de})


_BUILT_ON_DRAWS: dict[str, Callable[[Draws], Case]] = {
    **{op: partial(_elementwise, op) for op in ("step", "sigmoid", "tanh", "relu", "softmax")},
    "linear": _linear,
    "cross_entropy": _cross_entropy,
    "max_margin": _max_margin,
    "conv2d": _conv2d,
    "conv1d": _conv1d,
    **{op: partial(_pool, op) for op in ("max_pool2d", "avg_pool2d", "lp_pool2d")},
    **{op: partial(_recurrent, op) for op in ("rnn", "lstm", "gru")},
    "embedding": _embedding,
}


def op_case(op: str, d: Draws) -> Case:
    """One case of ``op`` (a contract op name) from ``d``: the case ``op_cases(op)`` draws when
    Hypothesis makes the same choices (property mode draws with ``RandomDraws``), float values
    float64 (float32 numbers), index inputs int64, ``expected`` None. Raises KeyError (listing
    the contract's ops) for an unknown op."""
    op_spec(op)
    return _BUILT_ON_DRAWS[op](d)


@once
@st.composite
def _on_hypothesis(draw: st.DrawFn, op: str) -> Case:
    return op_case(op, HypothesisDraws(draw))


def op_cases(op: str) -> st.SearchStrategy[Case]:
    """Conformance cases of ``op`` (a contract op name) drawn by Hypothesis, source "property"
    (property mode builds the same cases with ``op_case``).

    A drawn ``conformance.cases.Case`` holds ``inputs`` (in the contract's order), ``attrs`` and
    an ``upstream`` gradient for every output, but ``expected`` and ``expected_grads`` are None:
    ``conformance.cases.complete(case)`` computes them with the NumPy reference (outputs by output
    name; gradients of Σ upstream ∘ outputs by differentiable input name)::

        from conformance.cases import complete

        @given(op_cases("linear"))
        def test_my_linear(case):
            case = complete(case)                    # fills expected and expected_grads
            x, w, b = case.inputs.values()
            assert np.allclose(my_linear(x, w, b), case.expected["y"])

    Float values are float32 numbers held in float64, drawn by ``packed_arrays`` (every element
    its own value; half-open ranges [−bound, bound)), index inputs int64 (``packed_indices``).
    Per op (upstream gradients in [−2, 2) unless stated):

    - step, sigmoid, tanh, relu, softmax: x of 1..3 axes of 1..5, in [−10, 10).
    - linear: the sizes of ``dense_cases()`` (x [N, D], w [M, D], b [M], in [−3, 3)).
    - cross_entropy: the sizes of ``classification_cases()`` (logits in [−10, 10), int64
      targets); the upstream of the scalar loss in [−2, 2).
    - max_margin: s_c of 0..2 axes of 1..5 in [−3, 3), s of the same shape in [−3, 3.5) (moved
      by +0.5 where δ + s_c − s is within 1e-3 of the kink 0, so no case sits on it), attr delta
      in {1, 0.5, 0}.
    - conv2d: ``conv_cases(bias=True, values=packed_arrays)``; conv1d: ``conv1d_cases()``
      (values in [−2, 2)).
    - max_pool2d, lp_pool2d: ``pool_cases(distinct=True)`` (no ties; for lp_pool2d a grid that
      holds 0 is shifted by half a step, so no value is 0); avg_pool2d:
      ``pool_cases(values=packed_arrays)``; values in [−2, 2).
    - rnn, lstm, gru: ``recurrent_cases(gates=1, 4, 3, values=packed_arrays)``, values and
      upstream in [−1, 1).
    - embedding: the sizes of ``embedding_cases()`` (int64 ids, E and upstream in [−3, 3)).

    ``op_case(op, draws)`` builds the same cases from any ``Draws`` (property mode searches
    with ``RandomDraws`` and hands a failure's choices to this strategy to shrink).

    Raises KeyError (listing the contract's ops) for an unknown op.
    """
    op_spec(op)
    return _on_hypothesis(op)
