"""Spec of reference.topologies (lecture: "Topologies of Recurrent Neural Network"): one to one,
one to many, many to one, many to many delayed and synced are the same cell of reference.rnn,
read out at different steps and fed zeros where there is no input.

Claim: rnn.topologies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import RecurrentCase, output_layers, recurrent_cases
from reference import rnn as R
from reference import topologies as TOP
from reference.feedforward import dense
from reference.losses import softmax
from reference.tolerance import assert_close, tolerance


def _b(case: RecurrentCase) -> np.ndarray:
    """The slide's single bias b = b_ih + b_hh (torch's two biases only appear as their sum)."""
    return case.b_ih + case.b_hh


def _fwd_tol(case_terms: int, depth: int) -> Any:
    return tolerance(np.float64, terms=case_terms, depth=depth)


# ---------------------------------------------------------------- properties
@pytest.mark.claim("rnn.topologies")
@pytest.mark.property
@given(recurrent_cases(max_t=6), st.data())
def test_synced_many_to_one_and_one_to_one_are_the_same_cell_read_at_different_steps(
        case: RecurrentCase, data: st.DataObject) -> None:
    T, N, H = case.sizes["T"], case.sizes["N"], case.sizes["H"]
    out = data.draw(output_layers(T, N, H), label="output layer")
    params = (case.W_ih, case.W_hh, _b(case), out.V, out.c)
    tol = _fwd_tol(case.sizes["D"] + H, T)
    synced = TOP.many_to_many_synced(case.x, case.h0, *params)
    assert synced.shape == (T, N, out.V.shape[0])
    # the readout o_t = softmax(V s_t + c) of the cell's states s_t
    s, _ = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    for t in range(T):
        assert_close(synced[t], softmax(dense(s[t], out.V, out.c, "identity")), tol,
                     what=f"synced o_{t} vs softmax(V s_{t} + c)")
    # an output for every input, each from the inputs up to its step only
    for t in range(T):
        assert_close(TOP.many_to_one(case.x[:t + 1], case.h0, *params), synced[t], tol,
                     what=f"many_to_one(x_0..x_{t}) vs synced o_{t}")
    # one to one is a feed-forward network: o = softmax(V f(U x + b) + c)
    U, _, b, V, c = params
    ffn = softmax(dense(dense(case.x[0], U, b, "tanh"), V, c, "identity"))
    assert_close(TOP.one_to_one(case.x[0], *params), ffn, tol, what="one_to_one vs a 2-layer net")
    # W meets only the zero state: any other W gives the same outputs
    assert_close(TOP.one_to_one(case.x[0], U, 3.0 * case.W_hh + 1.0, b, V, c), ffn, tol,
                 what="one_to_one with another W")


@pytest.mark.claim("rnn.topologies")
@pytest.mark.property
@given(recurrent_cases(max_t=5), st.integers(1, 4), st.data())
def test_one_to_many_and_delayed_outputs_continue_the_state_on_zero_inputs(
        case: RecurrentCase, steps: int, data: st.DataObject) -> None:
    T, N, H, D = case.sizes["T"], case.sizes["N"], case.sizes["H"], case.sizes["D"]
    out = data.draw(output_layers(T, N, H), label="output layer")
    params = (case.W_ih, case.W_hh, _b(case), out.V, out.c)
    tol = _fwd_tol(D + H, T + steps)
    zero = np.zeros((N, D))
    one_many = TOP.one_to_many(case.x[0], case.h0, *params, steps=steps)
    assert one_many.shape == (steps, N, out.V.shape[0])
    # one to many: the observation at step 0, then the state alone carries on
    assert_close(one_many[0], TOP.many_to_one(case.x[:1], case.h0, *params), tol, what="o_0")
    if steps > 1:
        s_0 = R.rnn_step(case.x[0], case.h0, case.W_ih, case.W_hh, _b(case))
        assert_close(one_many[1:], TOP.one_to_many(zero, s_0, *params, steps=steps - 1), tol,
                     what="one_to_many continued from s_0")
    # many to many, delayed: read everything, then write from the final state on zero inputs
    delayed = TOP.many_to_many_delayed(case.x, case.h0, *params, steps=steps)
    s, _ = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    assert_close(delayed, TOP.one_to_many(zero, s[-1], *params, steps=steps), tol,
                 what="delayed outputs vs one_to_many from s_{T−1}")


# ---------------------------------------------------------------- bad input
_rng = np.random.default_rng(7)
T_, N_, D_, H_, K_ = 3, 2, 4, 5, 3
X, S0 = _rng.normal(size=(T_, N_, D_)), _rng.normal(size=(N_, H_))
U_, W_, B_ = _rng.normal(size=(H_, D_)), _rng.normal(size=(H_, H_)), _rng.normal(size=H_)
V_, C_ = _rng.normal(size=(K_, H_)), _rng.normal(size=K_)
OUT = (V_, C_)

BAD_INPUT: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("synced rank", lambda: TOP.many_to_many_synced(X[0], S0, U_, W_, B_, *OUT), ValueError,
     r"^many_to_many_synced: x must be 3-D"),
    ("many_to_one H", lambda: TOP.many_to_one(X, S0, U_, W_, B_, V_[:, :2], C_), ValueError,
     r"^many_to_one: V must have shape \(K, H\) with H = 5"),
    ("one_to_one rank", lambda: TOP.one_to_one(X, U_, W_, B_, *OUT), ValueError,
     r"^one_to_one: x must be 2-D, got 3-D"),
    ("one_to_one U", lambda: TOP.one_to_one(X[0], U_[0], W_, B_, *OUT), ValueError,
     r"^one_to_one: U must be 2-D, got 1-D"),
    ("one_to_many steps", lambda: TOP.one_to_many(X[0], S0, U_, W_, B_, *OUT, steps=0),
     ValueError, r"^one_to_many: steps must be at least 1, got 0"),
    ("one_to_many steps type", lambda: TOP.one_to_many(X[0], S0, U_, W_, B_, *OUT, steps=2.0),  # type: ignore[arg-type]
     TypeError, r"^one_to_many: steps must be an integer, got 2.0"),
    ("one_to_many rank", lambda: TOP.one_to_many(X, S0, U_, W_, B_, *OUT, steps=2), ValueError,
     r"^one_to_many: x must be 2-D, got 3-D"),
    ("delayed empty", lambda: TOP.many_to_many_delayed(X[:0], S0, U_, W_, B_, *OUT, steps=2),
     ValueError, r"^many_to_many_delayed: x must be a non-empty sequence \[T, N, D\]"),
    ("delayed s0", lambda: TOP.many_to_many_delayed(X, S0.T, U_, W_, B_, *OUT, steps=2),
     ValueError, r"^many_to_many_delayed: s0 must have shape \(2, 5\), got \(5, 2\)"),
]


@pytest.mark.claim("rnn.topologies", "convention.errors", "convention.time-major")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "message"), [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_an_error_naming_function_argument_and_shape(
        call: Callable[[], Any], kind: type[Exception], message: str) -> None:
    with pytest.raises(kind, match=message):
        call()


@pytest.mark.claim("rnn.topologies", "convention.errors")
@pytest.mark.errors
def test_non_finite_inputs_give_errors_not_nan() -> None:
    x_nan, s_inf = X.copy(), S0.copy()
    x_nan[2, 1, 3], s_inf[1, 4] = np.nan, -np.inf
    with pytest.raises(ValueError, match=r"^many_to_one: x must be finite"):
        TOP.many_to_one(x_nan, S0, U_, W_, B_, *OUT)
    with pytest.raises(ValueError, match=r"^many_to_many_delayed: s0 must be finite"):
        TOP.many_to_many_delayed(X, s_inf, U_, W_, B_, *OUT, steps=2)
    with pytest.raises(ValueError, match=r"^one_to_one: x must be finite"):
        TOP.one_to_one(x_nan[2], U_, W_, B_, *OUT)
    with pytest.raises(ValueError, match=r"^one_to_many: x must be finite"):
        TOP.one_to_many(x_nan[2], S0, U_, W_, B_, *OUT, steps=2)
