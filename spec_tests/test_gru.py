"""Spec of reference.gru (lecture: "Conclusion": "LSTMs, GRUs are special kind of RNNs").

Claims: gru; conventions gate-order (r, z, n) and gru-reset-after (PyTorch's form by default, the
"reset before" GRU behind ``reset_after=False``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import RecurrentCase, arrays, recurrent_cases
from reference.gradcheck import check_gradients
from reference.gru import GRUCache, gru_backward, gru_forward, gru_step
from reference.tolerance import EXACT, assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch
from spec_tests.helpers.symbolic import derive, elementwise, sigma, symbols

BIG = 1e4   # σ(±1e4) is exactly 1 or 0 in float64


# ---------------------------------------------------------------- sympy
G_H = np.array([[1.5, -1.0]])   # upstream ∂L/∂h_t of the symbolic step


def _gru_step_loss(reset_after: bool) -> tuple[sp.Expr, dict[str, np.ndarray]]:
    """L = Σ G_H ∘ h_t for one GRU step, D = 1, H = 2, N = 1, written from the equations."""
    H = 2
    x, h = symbols("x", (1, 1)), symbols("h", (1, H))
    W_ih, W_hh = symbols("W_ih", (3 * H, 1)), symbols("W_hh", (3 * H, H))
    b_ih, b_hh = symbols("b_ih", 3 * H), symbols("b_hh", 3 * H)
    blk = {k: slice(j * H, (j + 1) * H) for j, k in enumerate("rzn")}   # gate order (r, z, n)
    r = elementwise(sigma, x @ W_ih[blk["r"]].T + b_ih[blk["r"]] + h @ W_hh[blk["r"]].T
                     + b_hh[blk["r"]])
    z = elementwise(sigma, x @ W_ih[blk["z"]].T + b_ih[blk["z"]] + h @ W_hh[blk["z"]].T
                     + b_hh[blk["z"]])
    if reset_after:     # n = tanh(W_in x + b_in + r ∘ (W_hn h + b_hn))
        a_n = x @ W_ih[blk["n"]].T + b_ih[blk["n"]] + r * (h @ W_hh[blk["n"]].T + b_hh[blk["n"]])
    else:               # n = tanh(W_in x + b_in + W_hn (r ∘ h) + b_hn)
        a_n = x @ W_ih[blk["n"]].T + b_ih[blk["n"]] + (r * h) @ W_hh[blk["n"]].T + b_hh[blk["n"]]
    n = elementwise(sp.tanh, a_n)
    h_t = (1 - z) * n + z * h
    return sum((G_H * h_t).ravel()), {"x": x, "h": h, "W_ih": W_ih, "W_hh": W_hh,
                                      "b_ih": b_ih, "b_hh": b_hh}


_AFTER = partial(_gru_step_loss, True)
_BEFORE = partial(_gru_step_loss, False)


@pytest.mark.claim("gru", "convention.gru-reset-after")
@pytest.mark.sympy
@pytest.mark.parametrize("reset_after", [True, False], ids=["reset-after", "reset-before"])
def test_one_gru_step_and_all_its_gradients_match_sympy(reset_after: bool) -> None:
    derived = derive(_AFTER if reset_after else _BEFORE)
    rng = np.random.default_rng(5)
    tol = tolerance(np.float64, terms=4, gradient=True)
    for _ in range(3):
        point = {k: rng.normal(0, 1, v.shape) for k, v in derived.inputs.items()}
        value, grads = derived(**point)
        args = (point["W_ih"], point["W_hh"], point["b_ih"], point["b_hh"])
        h_t = gru_step(point["x"], point["h"], *args, reset_after=reset_after)
        assert_close(np.sum(G_H * h_t), value, tolerance(np.float64, terms=4), what="L")
        _, _, gru_cache = gru_forward(point["x"][None], point["h"], *args,
                                      reset_after=reset_after)
        g = gru_backward(G_H[None], gru_cache)
        for name, ours in [("x", g.dx[0]), ("h", g.dh0), ("W_ih", g.dW_ih), ("W_hh", g.dW_hh),
                           ("b_ih", g.db_ih), ("b_hh", g.db_hh)]:
            assert_close(ours, grads[name], tol, what=f"∂L/∂{name} ({reset_after=})")


# ---------------------------------------------------------------- torch
def _torch_gru(x: torch.Tensor, h0: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
               b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[Any, ...]:
    """torch.nn.GRU with our arrays as its weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0."""
    module = torch.nn.GRU(W_ih.shape[1], W_hh.shape[1]).double()
    weights = {"weight_ih_l0": W_ih, "weight_hh_l0": W_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    out, h_n = torch.func.functional_call(module, weights, (x, h0[None]))
    return out, h_n[0]


def _case(rng: np.random.Generator, T: int, N: int, D: int = 3, H: int = 4) -> dict[str, Any]:
    return {"x": rng.normal(size=(T, N, D)), "h0": rng.normal(size=(N, H)),
            "W_ih": rng.normal(0, 0.7, (3 * H, D)), "W_hh": rng.normal(0, 0.7, (3 * H, H)),
            "b_ih": rng.normal(size=3 * H), "b_hh": rng.normal(size=3 * H)}


@pytest.mark.claim("gru", "convention.gate-order", "convention.gru-reset-after")
@pytest.mark.torch
@pytest.mark.parametrize(("T", "N"), [(1, 1), (2, 3), (5, 2), (12, 1), (12, 3)])
def test_gru_outputs_final_state_and_every_gradient_match_torch_nn_gru(T: int, N: int) -> None:
    rng = np.random.default_rng(100 + T * 10 + N)
    inputs = _case(rng, T, N)
    H, D = inputs["h0"].shape[1], inputs["x"].shape[2]
    upstream = (rng.normal(size=(T, N, H)), rng.normal(size=(N, H)))
    out, h_T, gru_cache = gru_forward(**inputs)
    g = gru_backward(upstream[0], gru_cache, dh_T=upstream[1])
    assert_matches_torch(_torch_gru, inputs, (out, h_T), dict(zip(inputs, g)), upstream,
                         terms=H + D, depth=T, what=f"GRU T={T} N={N}")


@pytest.mark.claim("convention.gru-reset-after", "gru")
@pytest.mark.torch
def test_reset_before_is_a_different_cell_from_torch_nn_gru() -> None:
    # the variant is not what torch computes: on a generic case the outputs differ visibly
    inputs = _case(np.random.default_rng(7), 4, 2)
    out_before, _, _ = gru_forward(**inputs, reset_after=False)
    out_after, _, _ = gru_forward(**inputs)
    torch_out = _torch_gru(**{k: torch.tensor(v) for k, v in inputs.items()})[0].detach().numpy()
    assert_close(out_after, torch_out, tolerance(np.float64, terms=7, depth=4), what="after")
    step = gru_step(inputs["x"][0], inputs["h0"], inputs["W_ih"], inputs["W_hh"], inputs["b_ih"],
                    inputs["b_hh"])                 # gru_step's default is torch's cell too
    assert_close(step, torch_out[0], tolerance(np.float64, terms=7), what="gru_step's default")
    assert np.max(np.abs(out_before - torch_out)) > 1e-2, "reset before should differ from torch"


# ---------------------------------------------------------------- properties
def _force(case: RecurrentCase, gate: str, sign: int) -> np.ndarray:
    """b_ih with one gate's block pushed to ±BIG: that gate is exactly 1 or 0."""
    b = case.b_ih.copy()
    H, j = case.sizes["H"], "rzn".index(gate)
    b[j * H:(j + 1) * H] = sign * BIG
    return b


@pytest.mark.claim("gru", "convention.gru-reset-after")
@pytest.mark.property
@given(recurrent_cases(gates=3, bound=2.0))
def test_the_two_gru_variants_agree_where_the_reset_gate_is_one(
        case: RecurrentCase) -> None:
    # r = 1: r ∘ (W_hn h + b_hn) = W_hn (r ∘ h) + b_hn, so "after" and "before" are one cell
    args = (case.x, case.h0, case.W_ih, case.W_hh, _force(case, "r", +1), case.b_hh)
    after, _, _ = gru_forward(*args)
    before, _, _ = gru_forward(*args, reset_after=False)
    H, D = case.sizes["H"], case.sizes["D"]
    assert_close(before, after, tolerance(np.float64, terms=H + D, depth=case.sizes["T"]),
                 what="reset before vs after with r = 1")


@pytest.mark.claim("gru")
@pytest.mark.property
@given(recurrent_cases(gates=3, max_t=1, bound=2.0), st.booleans(), st.data())
def test_update_gate_one_carries_the_state_unchanged_over_100_steps(
        case: RecurrentCase, reset_after: bool, data: st.DataObject) -> None:
    # z = 1: h_t = (1 − 1) ∘ n + 1 ∘ h_{t−1} = h_{t−1}, the GRU's "forget nothing" gate
    N, D = case.sizes["N"], case.sizes["D"]
    x = data.draw(arrays((100, N, D), bound=2.0), label="x over 100 steps")
    out, h_T, _ = gru_forward(x, case.h0, case.W_ih, case.W_hh, _force(case, "z", +1), case.b_hh,
                              reset_after=reset_after)
    assert_close(out, np.broadcast_to(case.h0, out.shape), EXACT, what="h_t with z = 1")
    assert_close(h_T, case.h0, EXACT, what="h_100 with z = 1")


@pytest.mark.claim("gru")
@pytest.mark.property
@given(recurrent_cases(gates=3, max_t=4, max_d=3, max_h=3), st.booleans())
def test_gru_gradients_match_finite_differences(case: RecurrentCase, reset_after: bool) -> None:
    dh_T = case.h0[::-1].copy()
    upstream = np.concatenate([case.d_out.ravel(), dh_T.ravel()])
    inputs = {"x": case.x, "h0": case.h0, "W_ih": case.W_ih, "W_hh": case.W_hh,
              "b_ih": case.b_ih, "b_hh": case.b_hh}

    def f(**kw: np.ndarray) -> np.ndarray:
        out, h_T, _ = gru_forward(**kw, reset_after=reset_after)
        return np.concatenate([out.ravel(), h_T.ravel()])

    _, _, gru_cache = gru_forward(**inputs, reset_after=reset_after)
    g = gru_backward(case.d_out, gru_cache, dh_T=dh_T)
    check_gradients(f, inputs, upstream, dict(zip(inputs, g)))


@pytest.mark.claim("gru", "convention.no-mutation")
@pytest.mark.property
@given(recurrent_cases(gates=3, max_t=3), st.booleans())
def test_gru_step_is_one_step_of_gru_forward_and_nothing_is_modified(
        case: RecurrentCase, reset_after: bool) -> None:
    inputs = (case.x, case.h0, case.W_ih, case.W_hh, case.b_ih, case.b_hh)
    before = [a.copy() for a in inputs]
    out, h_T, gru_cache = gru_forward(*inputs, reset_after=reset_after)
    h = case.h0
    for t in range(case.sizes["T"]):
        h = gru_step(case.x[t], h, *inputs[2:], reset_after=reset_after)
        assert_close(out[t], h, tolerance(np.float64, terms=case.sizes["H"] + case.sizes["D"]),
                     what=f"gru_step vs gru_forward at t = {t}")
    saved = [a.copy() for a in gru_cache[:-1]]
    first = gru_backward(case.d_out, gru_cache)
    for owned in (out, h_T):                # the caller owns its outputs: not views of the cache
        owned[...] = 0.0
    second = gru_backward(case.d_out, gru_cache)
    for a, b in zip([*inputs, *gru_cache[:-1], *first], [*before, *saved, *second]):
        assert np.array_equal(a, b), "an input or the cache was modified"


# ---------------------------------------------------------------- bad input
def _good() -> dict[str, Any]:
    return _case(np.random.default_rng(8), 3, 2, D=4, H=5)


@pytest.mark.claim("convention.errors", "gru")
@pytest.mark.errors
@pytest.mark.parametrize(("name", "bad", "kind", "words"), [
    ("x", np.ones((3, 2, 4, 1)), ValueError, "x must be 3-D, got 4-D"),
    ("x", np.ones((3, 0, 4)), ValueError, r"x must be a non-empty sequence .* \(3, 0, 4\)"),
    ("x", np.full((3, 2, 4), np.inf), ValueError, "x must be finite"),
    ("W_hh", np.ones((20, 5)), ValueError, r"W_hh must have shape \(3H, H\) .* got \(20, 5\)"),
    ("W_hh", np.full((15, 5), np.nan), ValueError, "W_hh must be finite"),
    ("W_ih", np.ones((15, 5)), ValueError, r"W_ih must have shape \(15, 4\), got \(15, 5\)"),
    ("h0", np.ones((2, 4)), ValueError, r"h0 must have shape \(2, 5\), got \(2, 4\)"),
    ("b_hh", np.ones(20), ValueError, r"b_hh must have shape \(15,\), got \(20,\)"),
    ("b_ih", "zeros", TypeError, "b_ih must be a real array, got str"),
    ("reset_after", 1, TypeError, r"reset_after must be True .* or False .* got int 1"),
])
def test_gru_forward_refuses_bad_sequences_and_mismatched_sizes(name: str, bad: Any, kind: type,
                                                                words: str) -> None:
    args = _good()
    args[name] = bad
    with pytest.raises(kind, match=rf"^gru_forward: {words}"):
        gru_forward(**args)


@pytest.mark.claim("convention.errors", "gru")
@pytest.mark.errors
def test_gru_step_and_backward_refuse_bad_input() -> None:
    a = _good()
    weights = (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
    with pytest.raises(ValueError, match=r"^gru_step: x_t must be 2-D, got 3-D"):
        gru_step(a["x"], a["h0"], *weights)
    with pytest.raises(ValueError, match=r"^gru_step: h_prev must have shape \(2, 5\)"):
        gru_step(a["x"][0], a["h0"].T, *weights)
    with pytest.raises(TypeError, match=r"^gru_step: reset_after must be True"):
        gru_step(a["x"][0], a["h0"], *weights, reset_after="after")  # type: ignore[arg-type]
    out, _, gru_cache = gru_forward(**a)
    assert isinstance(gru_cache, GRUCache)
    with pytest.raises(TypeError, match=r"^gru_backward: cache must be the GRUCache .* got dict"):
        gru_backward(out, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^gru_backward: d_out must have shape \(3, 2, 5\)"):
        gru_backward(out[:, :1], gru_cache)
    with pytest.raises(ValueError, match=r"^gru_backward: dh_T must have shape \(2, 5\)"):
        gru_backward(out, gru_cache, dh_T=np.ones((5, 2)))
