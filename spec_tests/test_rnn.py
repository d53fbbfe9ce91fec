"""Spec of reference.rnn (lecture: "Recurrent neural networks", "No Magic Involved (in Theory)",
"Vanishing and exploding gradients"; the topologies are in test_topologies.py).

Claims: rnn.cell, rnn.unroll, rnn.bptt, rnn.vanishing, lm.memory; convention
time-major. Gradient clipping (reference.optim.clip_by_norm, the remedy for exploding gradients):
its properties are in test_optim.py, its effect on an exploding BPTT gradient is checked here.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.strategies import RecurrentCase, output_layers, recurrent_cases
from reference import rnn as R
from reference.gradcheck import check_gradients
from reference.optim import clip_by_norm, global_norm
from reference.tolerance import EXACT, assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch
from spec_tests.helpers.symbolic import derive, symbols


def _b(case: RecurrentCase) -> np.ndarray:
    """The slide's single bias b = b_ih + b_hh (torch's two biases only appear as their sum)."""
    return case.b_ih + case.b_hh


def _params(rng: np.random.Generator, T: int, N: int, D: int, H: int, K: int,
            scale: float = 0.6) -> dict[str, Any]:
    return {"x": rng.normal(size=(T, N, D)), "h0": rng.normal(size=(N, H)),
            "U": rng.normal(0, scale, (H, D)), "W": rng.normal(0, scale, (H, H)),
            "b_ih": rng.normal(0, scale, H), "b_hh": rng.normal(0, scale, H),
            "V": rng.normal(0, scale, (K, H)), "c": rng.normal(0, scale, K),
            "y": rng.integers(0, K, (T, N))}


def _fwd_tol(case_terms: int, depth: int, gradient: bool = False) -> Any:
    return tolerance(np.float64, terms=case_terms, depth=depth, gradient=gradient)


# ---------------------------------------------------------------- sympy
T3, H2, D1, K2 = 4, 2, 1, 2   # the slide's s_0 .. s_3 (four steps), 2 units, 1 input, 2 classes


def _two_unit_rnn(per_step_W: bool) -> tuple[sp.Expr, dict[str, np.ndarray]]:
    """L_3 = −log softmax(V s_3 + c)[0] with s_t = tanh(W s_{t−1} + U x_t + b), s_{−1} = s.

    With ``per_step_W`` every step gets its own copy W^(k) of W: ∂L_3/∂W^(k), evaluated where all
    copies equal W, is by definition the k-th term ∂L_3/∂s_3 · ∂s_3/∂s_k · ∂s_k/∂W of the slide's
    sum (the derivative through step k alone, s_{k−1} held fixed).
    """
    x, s_init = symbols("x", (T3, D1)), symbols("s", (H2,))
    U, b, V, c = symbols("U", (H2, D1)), symbols("b", (H2,)), symbols("V", (K2, H2)), \
        symbols("c", (K2,))
    Ws = [symbols(f"W{k}", (H2, H2)) for k in range(T3)] if per_step_W else \
        [symbols("W", (H2, H2))] * T3
    s = sp.Matrix(s_init)
    for t in range(T3):
        s = (sp.Matrix(Ws[t]) * s + sp.Matrix(U) * sp.Matrix(x[t]) + sp.Matrix(b)).applyfunc(
            sp.tanh)
    z = sp.Matrix(V) * s + sp.Matrix(c)
    L3 = sp.log(sum(sp.exp(zi) for zi in z)) - z[0]
    inputs = {"x": x, "s": s_init, "U": U, "b": b, "V": V, "c": c}
    inputs.update({f"W{k}": Ws[k] for k in range(T3)} if per_step_W else {"W": Ws[0]})
    return L3, inputs


def _tied() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    return _two_unit_rnn(per_step_W=False)


def _untied() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    return _two_unit_rnn(per_step_W=True)


def _point(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(T3, D1)), "s": rng.normal(size=H2),
            "U": rng.normal(size=(H2, D1)), "W": rng.normal(size=(H2, H2)),
            "b": rng.normal(size=H2), "V": rng.normal(size=(K2, H2)), "c": rng.normal(size=K2)}


def _reference_L3(p: dict[str, np.ndarray]) -> tuple[float, R.RNNGrads, np.ndarray, np.ndarray,
                                                      R.RNNCache]:
    """L_3 alone through the reference: its value, BPTT gradients and ∂L_3/∂V, ∂L_3/∂c."""
    y3 = np.zeros((1, 1), dtype=np.int64)
    s, cache = R.rnn_forward(p["x"][:, None, :], p["s"][None], p["U"], p["W"], p["b"])
    loss = R.rnn_loss(s[3:], p["V"], p["c"], y3)
    ds3, dV, dc = R.rnn_loss_backward(s[3:], p["V"], p["c"], y3)
    ds = np.zeros_like(s)
    ds[3] = ds3[0]                              # only L_3: no gradient from s_0 .. s_2's outputs
    return loss, R.rnn_backward(ds, cache), dV, dc, cache


@pytest.mark.claim("rnn.bptt", "rnn.cell")
@pytest.mark.sympy
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bptt_gradients_of_L3_for_a_two_unit_rnn_match_sympy(seed: int) -> None:
    p = _point(seed)
    value, expected = derive(_tied)(**p)
    loss, grads, dV, dc, _ = _reference_L3(p)
    tol = _fwd_tol(H2 + D1, T3, gradient=True)
    assert_close(loss, value, _fwd_tol(H2 + D1, T3), what="L_3")
    for name, ours in [("x", grads.dx[:, 0]), ("s", grads.ds0[0]), ("U", grads.dU),
                       ("W", grads.dW), ("b", grads.db), ("V", dV), ("c", dc)]:
        assert_close(ours, expected[name], tol, what=f"∂L_3/∂{name} against SymPy")


@pytest.mark.claim("rnn.bptt")
@pytest.mark.sympy
@pytest.mark.parametrize("seed", [3, 4])
def test_the_slides_sum_for_dL3_dW_matches_sympy_term_by_term(seed: int) -> None:
    # ∂L_3/∂W = Σ_{k=0..3} ∂L_3/∂o_3 · ∂o_3/∂s_3 · ∂s_3/∂s_k · ∂s_k/∂W
    p = _point(seed)
    point = {k: v for k, v in p.items() if k != "W"} | {f"W{k}": p["W"] for k in range(T3)}
    _, per_copy = derive(_untied)(**point)
    _, total = derive(_tied)(**p)
    _, grads, _, _, cache = _reference_L3(p)
    terms = R.bptt_contributions(cache, p["V"], p["c"], np.zeros(1, dtype=np.int64), t=3)
    tol = _fwd_tol(H2 + D1, T3, gradient=True)
    assert terms.dW.shape == (T3, H2, H2), f"{terms.dW.shape=}, but should be (4, 2, 2)"
    for k in range(T3):
        assert_close(terms.dW[k], per_copy[f"W{k}"], tol, what=f"term k = {k} of ∂L_3/∂W")
    # the four terms add up to the whole derivative, symbolically and in the reference's BPTT
    assert_close(sum(per_copy[f"W{k}"] for k in range(T3)), total["W"], tol,
                 what="Σ_k ∂L_3/∂W^(k) vs ∂L_3/∂W (SymPy)")
    assert_close(terms.dW.sum(axis=0), grads.dW, tol, what="Σ_k terms vs rnn_backward's dW")


@cache
def _jacobian_s3_s0() -> Callable[..., Any]:
    """∂s_3/∂s_0 for s_j = tanh(W s_{j−1} + U x_j + b), derived by SymPy, lambdified."""
    s0, W, U, b = symbols("s", (H2,)), symbols("W", (H2, H2)), symbols("U", (H2, D1)), \
        symbols("b", (H2,))
    xs = symbols("x", (3, D1))
    s = sp.Matrix(s0)
    for j in range(3):
        s = (sp.Matrix(W) * s + sp.Matrix(U) * sp.Matrix(xs[j]) + sp.Matrix(b)).applyfunc(sp.tanh)
    J = s.jacobian(sp.Matrix(s0))
    args = [*s0.ravel(), *W.ravel(), *U.ravel(), *b.ravel(), *xs.ravel()]
    return sp.lambdify(args, J, "numpy")


@pytest.mark.claim("rnn.vanishing")
@pytest.mark.sympy
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_jacobian_is_the_product_of_one_step_jacobians_as_sympy_derives(seed: int) -> None:
    # ∂s_3/∂s_0 = ∂s_3/∂s_2 · ∂s_2/∂s_1 · ∂s_1/∂s_0
    rng = np.random.default_rng(seed)
    x, s_init = rng.normal(size=(T3, 2, D1)), rng.normal(size=(2, H2))
    U, W, b = rng.normal(size=(H2, D1)), rng.normal(size=(H2, H2)), rng.normal(size=H2)
    _, cache = R.rnn_forward(x, s_init, U, W, b)
    J = R.state_jacobian(cache, 3, 0)
    for n in range(2):
        s0 = np.tanh(W @ s_init[n] + U @ x[0, n] + b)     # s_0, computed here independently
        expected = _jacobian_s3_s0()(*s0, *W.ravel(), *U.ravel(), *b, *x[1:, n].ravel())
        assert_close(J[n], np.asarray(expected, float), _fwd_tol(H2, 3, gradient=True),
                     what=f"∂s_3/∂s_0 of example {n} against SymPy")
    assert np.array_equal(R.state_jacobian(cache, 2, 2), np.broadcast_to(np.eye(H2), (2, H2, H2)))


# ---------------------------------------------------------------- torch
def _torch_rnn(x: torch.Tensor, h0: torch.Tensor, U: torch.Tensor, W: torch.Tensor,
               b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """torch.nn.RNN(tanh), time-major, with the slide's U, W and the bias split in two."""
    module = torch.nn.RNN(U.shape[1], U.shape[0], nonlinearity="tanh", dtype=torch.float64)
    weights = {"weight_ih_l0": U, "weight_hh_l0": W, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    out, h_T = torch.func.functional_call(module, weights, (x, h0[None]))
    return out, h_T[0]


@pytest.mark.claim("rnn.cell", "rnn.bptt", "convention.time-major")
@pytest.mark.torch
@pytest.mark.parametrize("N", [1, 2, 3])
@pytest.mark.parametrize("T", range(1, 13))
def test_states_final_state_and_every_gradient_match_torch_nn_rnn(T: int, N: int) -> None:
    rng = np.random.default_rng(100 * T + N)
    D, H = 3, 4
    p = _params(rng, T, N, D, H, 2)
    inputs = {k: p[k] for k in ("x", "h0", "U", "W", "b_ih", "b_hh")}
    d_out, d_hT = rng.normal(size=(T, N, H)), rng.normal(size=(N, H))
    s, cache = R.rnn_forward(p["x"], p["h0"], p["U"], p["W"], p["b_ih"] + p["b_hh"])
    ds = d_out.copy()
    ds[-1] += d_hT                              # h_T is s_{T−1}: its gradient joins ds[T−1]
    g = R.rnn_backward(ds, cache)
    assert_matches_torch(_torch_rnn, inputs, (s, s[-1]),
                         {"x": g.dx, "h0": g.ds0, "U": g.dU, "W": g.dW, "b_ih": g.db,
                          "b_hh": g.db},
                         (d_out, d_hT), terms=D + H, depth=T, what=f"nn.RNN T={T} N={N}")


def _torch_rnn_loss(x: torch.Tensor, h0: torch.Tensor, U: torch.Tensor, W: torch.Tensor,
                    b: torch.Tensor, V: torch.Tensor, c: torch.Tensor,
                    y: torch.Tensor) -> torch.Tensor:
    """L = Σ_t F.cross_entropy(V s_t + c, y_t), the states from torch.nn.RNN."""
    out, _ = _torch_rnn(x, h0, U, W, b, torch.zeros_like(b))
    logits = out @ V.T + c
    return sum(F.cross_entropy(logits[t], y[t]) for t in range(len(y)))  # type: ignore[return-value]


@pytest.mark.claim("rnn.cell", "rnn.bptt")
@pytest.mark.torch
@pytest.mark.parametrize(("T", "N", "K"), [(1, 1, 2), (3, 2, 5), (7, 3, 3), (12, 2, 4)])
def test_output_layer_loss_and_gradients_match_torch_cross_entropy(T: int, N: int,
                                                                   K: int) -> None:
    rng = np.random.default_rng(T * N * K)
    D, H = 2, 3
    p = _params(rng, T, N, D, H, K)
    b = p["b_ih"] + p["b_hh"]
    s, cache = R.rnn_forward(p["x"], p["h0"], p["U"], p["W"], b)
    loss = R.rnn_loss(s, p["V"], p["c"], p["y"])
    ds, dV, dc = R.rnn_loss_backward(s, p["V"], p["c"], p["y"])
    g = R.rnn_backward(ds, cache)
    o = R.rnn_output(s, p["V"], p["c"])
    assert_close(o, F.softmax(torch.tensor(s @ p["V"].T + p["c"]), dim=-1).numpy(),
                 _fwd_tol(H, 1), what="o_t = softmax(V s_t + c)")
    inputs = {"x": p["x"], "h0": p["h0"], "U": p["U"], "W": p["W"], "b": b, "V": p["V"],
              "c": p["c"], "y": p["y"]}
    assert_matches_torch(_torch_rnn_loss, inputs, np.array(loss),
                         {"x": g.dx, "h0": g.ds0, "U": g.dU, "W": g.dW, "b": g.db, "V": dV,
                          "c": dc},
                         terms=D + H + K, depth=T, what=f"Σ_t cross-entropy T={T} N={N} K={K}")


@pytest.mark.claim("rnn.unroll")
@pytest.mark.torch
@pytest.mark.parametrize(("T", "N"), [(1, 1), (4, 3), (12, 2)])
def test_unrolled_network_matches_torch_nn_rnn(T: int, N: int) -> None:
    rng = np.random.default_rng(T + 10 * N)
    p = _params(rng, T, N, 3, 5, 2)
    inputs = {k: p[k] for k in ("x", "h0", "U", "W", "b_ih", "b_hh")}
    s = R.rnn_unrolled(p["x"], p["h0"], p["U"], p["W"], p["b_ih"] + p["b_hh"])
    assert_matches_torch(_torch_rnn, inputs, (s, s[-1]), terms=8, depth=T,
                         what=f"unrolled network T={T}")


def _torch_bptt_terms(x: torch.Tensor, h0: torch.Tensor, U: torch.Tensor, W: torch.Tensor,
                      b: torch.Tensor, V: torch.Tensor, c: torch.Tensor, y_t: torch.Tensor,
                      t: int) -> tuple[torch.Tensor, ...]:
    """∂L_t/∂W^(k) for a copy W^(k) of W used at step k only: the k-th term of the slide's sum."""
    copies = [W.detach().clone().requires_grad_(True) for _ in range(t + 1)]
    s = h0
    for k in range(t + 1):
        s = torch.tanh(x[k] @ U.T + s @ copies[k].T + b)
    F.cross_entropy(s @ V.T + c, y_t).backward()
    return tuple(w.grad for w in copies)  # type: ignore[misc]


@pytest.mark.claim("rnn.bptt")
@pytest.mark.torch
@pytest.mark.parametrize(("T", "t"), [(1, 0), (4, 3), (8, 5), (12, 11)])
def test_each_term_of_the_bptt_sum_matches_torch_with_one_weight_copy_per_step(T: int,
                                                                               t: int) -> None:
    rng = np.random.default_rng(T + t)
    N, D, H, K = 2, 3, 4, 3
    p = _params(rng, T, N, D, H, K)
    b = p["b_ih"] + p["b_hh"]
    _, cache = R.rnn_forward(p["x"], p["h0"], p["U"], p["W"], b)
    terms = R.bptt_contributions(cache, p["V"], p["c"], p["y"][t], t)
    tt = {k: torch.tensor(v) for k, v in [("x", p["x"]), ("h0", p["h0"]), ("U", p["U"]),
                                           ("W", p["W"]), ("b", b), ("V", p["V"]),
                                           ("c", p["c"])]}
    expected = _torch_bptt_terms(**tt, y_t=torch.tensor(p["y"][t]), t=t)
    tol = _fwd_tol(D + H, T, gradient=True)
    for k in range(t + 1):
        assert_close(terms.dW[k], expected[k].numpy(), tol, what=f"term k = {k} of ∂L_{t}/∂W")


# ---------------------------------------------------------------- properties: the cell
@pytest.mark.claim("rnn.unroll")
@pytest.mark.property
@given(recurrent_cases(max_t=8))
def test_unrolled_network_of_shared_layers_computes_the_recurrence(case: RecurrentCase) -> None:
    s, _ = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    unrolled = R.rnn_unrolled(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    sz = case.sizes
    assert_close(unrolled, s, _fwd_tol(sz["D"] + sz["H"], sz["T"]),
                 what="unrolled layers vs the recurrence")


@pytest.mark.claim("rnn.cell")
@pytest.mark.property
@given(recurrent_cases(max_t=8), st.data())
def test_the_same_cell_runs_every_step_and_passes_its_state_on(case: RecurrentCase,
                                                                data: st.DataObject) -> None:
    U, W, b = case.W_ih, case.W_hh, _b(case)
    s, _ = R.rnn_forward(case.x, case.h0, U, W, b)
    tol = _fwd_tol(case.sizes["D"] + case.sizes["H"], case.sizes["T"])
    # s_t = f(U x_t + W s_{t−1} + b), one rnn_step at a time, the same U, W, b throughout
    state = case.h0
    for t in range(case.sizes["T"]):
        state = R.rnn_step(case.x[t], state, U, W, b)
        assert_close(s[t], state, tol, what=f"s_{t} vs rnn_step")
        prev = case.h0 if t == 0 else s[t - 1]
        assert_close(s[t], np.tanh(case.x[t] @ U.T + prev @ W.T + b), tol,
                     what=f"s_{t} vs tanh(U x_t + W s_(t−1) + b)")
    # the state is all the past there is: resuming from s_{k−1} continues the same run
    k = data.draw(st.integers(0, case.sizes["T"] - 1), label="k")
    start = case.h0 if k == 0 else s[k - 1]
    rest, _ = R.rnn_forward(case.x[k:], start, U, W, b)
    assert_close(rest, s[k:], tol, what=f"resumed at step {k}")


@pytest.mark.claim("rnn.cell", "rnn.bptt")
@pytest.mark.property
@settings(max_examples=10)
@given(recurrent_cases(max_t=4, max_d=3, max_h=3), st.data())
def test_bptt_gradients_match_finite_differences(case: RecurrentCase,
                                                 data: st.DataObject) -> None:
    T, N, H = case.sizes["T"], case.sizes["N"], case.sizes["H"]
    out = data.draw(output_layers(T, N, H), label="output layer")

    def loss(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any) -> float:
        s, _ = R.rnn_forward(x, s0, U, W, b)
        return R.rnn_loss(s, V, c, out.y)

    inputs = {"x": case.x, "s0": case.h0, "U": case.W_ih, "W": case.W_hh, "b": _b(case),
              "V": out.V, "c": out.c}
    s, cache = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    ds, dV, dc = R.rnn_loss_backward(s, out.V, out.c, out.y)
    g = R.rnn_backward(ds, cache)
    check_gradients(loss, inputs, 1.0, {"x": g.dx, "s0": g.ds0, "U": g.dU, "W": g.dW,
                                        "b": g.db, "V": dV, "c": dc})


@pytest.mark.claim("rnn.cell", "rnn.bptt")
@pytest.mark.property
@given(recurrent_cases(max_t=1), st.sampled_from(["tanh", "sigmoid", "identity"]))
def test_one_step_gradients_match_finite_differences(case: RecurrentCase, f: str) -> None:
    x_t, ds_t = case.x[0], case.d_out[0]
    inputs = {"x_t": x_t, "s_prev": case.h0, "U": case.W_ih, "W": case.W_hh, "b": _b(case)}
    dx, ds_prev, dU, dW, db = R.rnn_step_backward(ds_t, **inputs, f=f)
    check_gradients(lambda **kw: R.rnn_step(**kw, f=f), inputs, ds_t,
                    {"x_t": dx, "s_prev": ds_prev, "U": dU, "W": dW, "b": db})


@pytest.mark.claim("rnn.cell", "convention.no-mutation")
@pytest.mark.property
@given(recurrent_cases(max_t=4), st.data())
def test_outputs_are_distributions_and_no_input_is_modified(case: RecurrentCase,
                                                           data: st.DataObject) -> None:
    T, N, H = case.sizes["T"], case.sizes["N"], case.sizes["H"]
    out = data.draw(output_layers(T, N, H, max_k=5), label="output layer")
    args = [case.x, case.h0, case.W_ih, case.W_hh, _b(case), out.V, out.c, case.d_out]
    before = [a.copy() for a in args]
    s, cache = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    o = R.rnn_output(s, out.V, out.c)
    assert o.shape == (T, N, out.V.shape[0]) and np.all(o >= 0)
    assert_close(o.sum(axis=-1), np.ones((T, N)), _fwd_tol(out.V.shape[0], 1),
                 what="Σ_k o_t[k]")
    R.rnn_backward(case.d_out, cache)
    R.rnn_loss_backward(s, out.V, out.c, out.y)
    for a, b in zip(args, before):
        assert np.array_equal(a, b), "an input was modified in place"


@pytest.mark.claim("rnn.bptt", "convention.no-mutation")
@pytest.mark.property
@given(recurrent_cases(max_t=4))
def test_the_caller_owns_the_states_writing_into_them_leaves_bptt_alone(
        case: RecurrentCase) -> None:
    """rnn_forward's states are the caller's array, not a view into the cache: zeroing them
    after the forward pass changes neither the cache nor rnn_backward's gradients."""
    s, cache = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    saved = [np.copy(a) for a in cache[:-1]]
    first = R.rnn_backward(case.d_out, cache)
    s[...] = 0.0
    second = R.rnn_backward(case.d_out, cache)
    for a, b in zip(cache[:-1], saved):
        assert np.array_equal(a, b), "writing into the states changed the cache"
    for a, b in zip(first, second):
        assert np.array_equal(a, b), "writing into the states changed the gradients"


@pytest.mark.claim("convention.time-major")
@pytest.mark.property
@given(recurrent_cases(max_t=6, max_n=3), st.data())
def test_sequences_are_time_major_axis_0_is_time_axis_1_the_batch(case: RecurrentCase,
                                                                 data: st.DataObject) -> None:
    T, N = case.sizes["T"], case.sizes["N"]
    s, _ = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    assert s.shape == (T, N, case.sizes["H"]), f"{s.shape=}, but should be (T, N, H)"
    # permuting axis 1 permutes the sequences and nothing else: it is the batch
    perm = np.array(data.draw(st.permutations(range(N)), label="perm"))
    s_perm, _ = R.rnn_forward(case.x[:, perm], case.h0[perm], case.W_ih, case.W_hh, _b(case))
    assert_close(s_perm, s[:, perm], EXACT, what="states of permuted sequences")
    # changing x along axis 0 at step t changes only s_t, s_{t+1}, ...: it is time
    t = data.draw(st.integers(0, T - 1), label="t")
    x2 = case.x.copy()
    x2[t] += 1.0
    s2, _ = R.rnn_forward(x2, case.h0, case.W_ih, case.W_hh, _b(case))
    assert np.array_equal(s2[:t], s[:t]), "a later input changed an earlier state"


# ---------------------------------------------------------------- properties: memory
def _bytes(cache: R.RNNCache) -> int:
    return sum(a.nbytes for a in cache if isinstance(a, np.ndarray))


@pytest.mark.claim("lm.memory")
@pytest.mark.property
@given(recurrent_cases(max_t=1), st.lists(st.integers(1, 40), min_size=3, max_size=3,
                                          unique=True))
def test_activation_memory_is_linear_in_T_and_the_parameters_do_not_grow(
        case: RecurrentCase, lengths: list[int]) -> None:
    N, D, H = case.sizes["N"], case.sizes["D"], case.sizes["H"]
    U, W, b = case.W_ih, case.W_hh, _b(case)
    parameters = U.size + W.size + b.size
    rng = np.random.default_rng(0)
    for T in lengths:
        s, cache = R.rnn_forward(rng.normal(size=(T, N, D)), case.h0, U, W, b)
        # x, z and s per step, plus s0 and the parameters: 8 bytes each, linear in T
        assert _bytes(cache) == 8 * (T * N * (D + 2 * H) + N * H + parameters), T
        grads = R.rnn_backward(np.ones_like(s), cache)
        assert (grads.dU.shape, grads.dW.shape, grads.db.shape) == (U.shape, W.shape, b.shape)


def _peak_bytes(T: int, N: int = 4, D: int = 8, H: int = 16) -> int:
    """The peak of the memory Python allocates (tracemalloc) during rnn_forward and
    rnn_backward on a sequence of length T, everything else allocated before it starts."""
    rng = np.random.default_rng(T)
    x, s0, ds = rng.normal(size=(T, N, D)), np.zeros((N, H)), rng.normal(size=(T, N, H))
    U, W, b = rng.normal(size=(H, D)), 0.1 * rng.normal(size=(H, H)), np.zeros(H)
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        s, cache = R.rnn_forward(x, s0, U, W, b)
        R.rnn_backward(ds, cache)
        del s, cache
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.claim("lm.memory")
@pytest.mark.property
@settings(max_examples=2)
@given(st.integers(2, 8), st.integers(2, 16), st.integers(4, 32))
def test_measured_memory_of_forward_and_backward_grows_linearly_with_T(N: int, D: int,
                                                                       H: int) -> None:
    """Memory measured, not counted from the cache: tracemalloc's peak over rnn_forward +
    rnn_backward at T = 100, 200, 400, 800 (N, D, H drawn). Each doubling of T adds
    about as much again as the one before (increments within a factor 1.5 of each other; a
    memory quadratic in T quadruples them), and per step the peak stays between the stored
    activations x, z, s, (D + 2H)·N floats, and 4 times that (the gradients dx and the step's
    temporaries come on top). Bug it catches (tried): a forward pass that keeps a snapshot of
    the states so far at every step (``history.append(s.copy())``, in a local list, so the
    cache's arrays and the byte count of the test above are unchanged) — quadratic."""
    lengths = (100, 200, 400, 800)
    peaks = [_peak_bytes(T, N, D, H) for T in lengths]
    increments = np.diff(peaks)
    assert np.all(increments > 0), peaks
    ratios = increments[1:] / increments[:-1]
    assert np.all((ratios > 2 / 1.5) & (ratios < 2 * 1.5)), f"peaks {peaks}, ratios {ratios}"
    stored = 8 * N * (D + 2 * H)                      # bytes of x_t, z_t, s_t per step
    per_step = np.array(peaks) / np.array(lengths)
    assert np.all((per_step >= stored) & (per_step <= 4 * stored)), (per_step, stored)


# ---------------------------------------------------------------- vanishing and exploding
def _orthogonal(H: int, gain: float, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(H, H)))
    return gain * q                              # spectral radius = ‖W‖₂ = gain


def _norms(J: np.ndarray) -> float:
    return float(np.linalg.norm(J, ord=2, axis=(1, 2)).max())


@pytest.mark.claim("rnn.vanishing")
@pytest.mark.behaviour
def test_far_contributions_vanish_for_a_contracting_W() -> None:
    """W = 0.5·Q (spectral radius 0.5), tanh, T = 30, inputs N(0, 1), seed 0.

    Thresholds: ‖∂s_29/∂s_k‖ ≤ 0.5^(29−k) (|tanh'| ≤ 1) and falls at every step back; the W, U
    and b contributions 20 or more steps back are below 1e-4 of the nearest one's.
    """
    rng = np.random.default_rng(0)
    T, N, D, H, K = 30, 2, 3, 8, 4
    W = _orthogonal(H, 0.5, 1)
    x, U, b = rng.normal(size=(T, N, D)), rng.normal(0, 0.5, (H, D)), rng.normal(0, 0.1, H)
    _, cache = R.rnn_forward(x, np.zeros((N, H)), U, W, b)
    t = T - 1
    norms = [_norms(R.state_jacobian(cache, t, k)) for k in range(t, -2, -1)]   # t − k = 0, 1, …
    for gap, n in enumerate(norms):
        assert n <= 0.5 ** gap * (1 + 1e-9), f"‖∂s_t/∂s_k‖ = {n} > 0.5^{gap}"
    assert all(a > b for a, b in pairwise(norms)), "the Jacobian norm did not fall"
    assert norms[20] < 1e-6
    terms = R.bptt_contributions(cache, rng.normal(size=(K, H)), np.zeros(K),
                                 rng.integers(0, K, N), t)
    for name, term in zip(terms._fields, terms):
        size = np.linalg.norm(term.reshape(t + 1, -1), axis=1)   # ‖term_k‖, k = 0 .. t
        assert size[: t - 19].max() < 1e-4 * size[t], f"{name}: far terms did not vanish"


@pytest.mark.claim("rnn.vanishing")
@pytest.mark.behaviour
def test_far_contributions_explode_for_an_expanding_W() -> None:
    """W = 1.5·Q (spectral radius 1.5), tanh in its linear range (inputs 1e-9·N(0, 1)), T = 30.

    Thresholds: ‖∂s_29/∂s_k‖ ≥ 0.99·1.5^(29−k); the U and b contributions 20 steps back are more
    than 1e3 times the nearest one's (1.5^20 ≈ 3325). (The W contributions also carry s_{k−1},
    which here grows with k, so they are not used to show the growth.)
    """
    rng = np.random.default_rng(0)
    T, N, D, H, K = 30, 2, 3, 8, 4
    W = _orthogonal(H, 1.5, 1)
    x, U = 1e-9 * rng.normal(size=(T, N, D)), rng.normal(0, 0.5, (H, D))
    _, cache = R.rnn_forward(x, np.zeros((N, H)), U, W, np.zeros(H))
    t = T - 1
    for k in range(-1, t + 1):
        n = _norms(R.state_jacobian(cache, t, k))
        assert n >= 0.99 * 1.5 ** (t - k), f"‖∂s_t/∂s_k‖ = {n} < 0.99·1.5^{t - k}"
    terms = R.bptt_contributions(cache, rng.normal(size=(K, H)), np.zeros(K),
                                 rng.integers(0, K, N), t)
    for name in ("dU", "db"):
        term = getattr(terms, name)
        size = np.linalg.norm(term.reshape(t + 1, -1), axis=1)
        assert size[t - 20] > 1e3 * size[t], f"{name}: far terms did not explode"


@pytest.mark.claim("rnn.vanishing")
@pytest.mark.behaviour
def test_clipping_bounds_an_exploding_bptt_gradient() -> None:
    """W = 3·Q, T = 40, seed 0: the raw BPTT gradient norm exceeds 1e3; clipped to 5 it is 5."""
    rng = np.random.default_rng(0)
    T, N, D, H, K = 40, 2, 2, 6, 3
    x = 1e-6 * rng.normal(size=(T, N, D))
    U, W = rng.normal(size=(H, D)), _orthogonal(H, 3.0, 2)
    s, cache = R.rnn_forward(x, np.zeros((N, H)), U, W, np.zeros(H))
    V, c, y = rng.normal(size=(K, H)), np.zeros(K), rng.integers(0, K, (T, N))
    ds, _, _ = R.rnn_loss_backward(s, V, c, y)
    g = R.rnn_backward(ds, cache)
    grads = {"U": g.dU, "W": g.dW, "b": g.db}
    clipped, norm = clip_by_norm(grads, 5.0)
    assert norm > 1e3, f"the gradient did not explode: ‖g‖ = {norm}"
    assert_close(global_norm(clipped), 5.0, tolerance(np.float64, terms=H * H), what="‖clip‖")


# ---------------------------------------------------------------- bad input
_rng = np.random.default_rng(7)
T_, N_, D_, H_, K_ = 3, 2, 4, 5, 3
X, S0 = _rng.normal(size=(T_, N_, D_)), _rng.normal(size=(N_, H_))
U_, W_, B_ = _rng.normal(size=(H_, D_)), _rng.normal(size=(H_, H_)), _rng.normal(size=H_)
V_, C_, Y_ = _rng.normal(size=(K_, H_)), _rng.normal(size=K_), _rng.integers(0, K_, (T_, N_))
S_, CACHE = R.rnn_forward(X, S0, U_, W_, B_)
W_NAN = W_.copy()
W_NAN[1, 2] = np.nan

BAD_INPUT: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("rank", lambda: R.rnn_forward(X[0], S0, U_, W_, B_), ValueError,
     r"^rnn_forward: x must be 3-D, got 2-D with shape \(2, 4\)"),
    ("empty T", lambda: R.rnn_forward(X[:0], S0, U_, W_, B_), ValueError,
     r"^rnn_forward: x must be a non-empty sequence \[T, N, D\] with T, N, D ≥ 1, got shape "
     r"\(0, 2, 4\)"),
    ("empty N", lambda: R.rnn_forward(X[:, :0], S0[:0], U_, W_, B_), ValueError,
     r"^rnn_forward: x must be a non-empty sequence \[T, N, D\] .* got shape \(3, 0, 4\)"),
    ("D", lambda: R.rnn_forward(X[..., :3], S0, U_, W_, B_), ValueError,
     r"^rnn_forward: x has D = 3 features per step but U expects 4"),
    ("W not square", lambda: R.rnn_forward(X, S0, U_, W_[:, :4], B_), ValueError,
     r"^rnn_forward: W must be square \(H, H\) = \(5, 5\) to match U's H = 5 rows, got \(5, 4\)"),
    ("s0 width", lambda: R.rnn_forward(X, S0[:, :4], U_, W_, B_), ValueError,
     r"^rnn_forward: s0 must have shape \(2, 5\), got \(2, 4\) \(N = 2, H = 5\)"),
    ("b", lambda: R.rnn_forward(X, S0, U_, W_, B_[:4]), ValueError,
     r"^rnn_forward: b must have shape \(5,\) to match U's H = 5 rows, got \(4,\)"),
    ("U empty", lambda: R.rnn_forward(X, S0, np.zeros((0, 4)), W_, B_), ValueError,
     r"^rnn_forward: U must have shape \(H, D\) with H, D ≥ 1"),
    ("nan W", lambda: R.rnn_forward(X, S0, U_, W_NAN, B_), ValueError,
     r"^rnn_forward: W must be finite, got nan at index \(1, 2\)"),
    ("dtype", lambda: R.rnn_forward(X > 0, S0, U_, W_, B_), TypeError,
     r"^rnn_forward: x must hold real numbers"),
    ("activation", lambda: R.rnn_forward(X, S0, U_, W_, B_, f="softsign"), ValueError,
     r"^rnn_forward: activation must be one of"),
    ("step D", lambda: R.rnn_step(X[0, :, :3], S0, U_, W_, B_), ValueError,
     r"^rnn_step: x_t has D = 3 features but U expects 4"),
    ("step s", lambda: R.rnn_step(X[0], S0[:1], U_, W_, B_), ValueError,
     r"^rnn_step: s_prev must have shape \(2, 5\), got \(1, 5\) \(N = 2, H = 5\)"),
    ("step rank", lambda: R.rnn_step(X, S0, U_, W_, B_), ValueError,
     r"^rnn_step: x_t must be 2-D, got 3-D"),
    ("step backward ds", lambda: R.rnn_step_backward(S0[:, :2], X[0], S0, U_, W_, B_),
     ValueError, r"^rnn_step_backward: ds_t must have shape \(2, 5\), got \(2, 2\)"),
    ("step backward D", lambda: R.rnn_step_backward(S0, X[0, :, :1], S0, U_, W_, B_),
     ValueError, r"^rnn_step_backward: x_t has D = 1 features but U expects 4"),
    ("backward cache", lambda: R.rnn_backward(S_, tuple(CACHE)), TypeError,  # type: ignore[arg-type]
     r"^rnn_backward: cache must be the RNNCache of rnn_forward, got tuple"),
    ("backward ds", lambda: R.rnn_backward(S_[:2], CACHE), ValueError,
     r"^rnn_backward: ds must have the states' shape \(T, N, H\) = \(3, 2, 5\), got \(2, 2, 5\)"),
    ("unrolled rank", lambda: R.rnn_unrolled(X[0], S0, U_, W_, B_), ValueError,
     r"^rnn_unrolled: x must be 3-D"),
    ("output V", lambda: R.rnn_output(S_, V_[:, :4], C_), ValueError,
     r"^rnn_output: V must have shape \(K, H\) with H = 5 \(the state width\), got \(3, 4\)"),
    ("output c", lambda: R.rnn_output(S_, V_, C_[:2]), ValueError,
     r"^rnn_output: c must have shape \(3,\) to match V's K = 3 rows, got \(2,\)"),
    ("output rank", lambda: R.rnn_output(S_[0, 0], V_, C_), ValueError,
     r"^rnn_output: s must be 2-D or 3-D"),
    ("loss y range", lambda: R.rnn_loss(S_, V_, C_, Y_ + 3), ValueError,
     r"^rnn_loss: y holds id [3-5], outside \[0, 3\)"),
    ("loss y shape", lambda: R.rnn_loss(S_, V_, C_, Y_[:2]), ValueError,
     r"^rnn_loss: y must have shape \(3, 2\) \(one target per step and sequence\)"),
    ("loss y dtype", lambda: R.rnn_loss(S_, V_, C_, Y_ * 1.0), TypeError,
     r"^rnn_loss: y must hold integer ids"),
    ("loss empty", lambda: R.rnn_loss(S_[:0], V_, C_, Y_[:0]), ValueError,
     r"^rnn_loss: s must hold at least one step and one sequence, got \(0, 2, 5\)"),
    ("loss backward V", lambda: R.rnn_loss_backward(S_, V_.T, C_, Y_), ValueError,
     r"^rnn_loss_backward: V must have shape \(K, H\) with H = 5"),
    ("jacobian t", lambda: R.state_jacobian(CACHE, 3, 0), ValueError,
     r"^state_jacobian: t must be a step in \[0, 3\) of the cached sequence, got 3"),
    ("jacobian k", lambda: R.state_jacobian(CACHE, 1, 2), ValueError,
     r"^state_jacobian: k must be in \[−1, t\] = \[−1, 1\] \(−1 is the initial state\), got 2"),
    ("jacobian k < −1", lambda: R.state_jacobian(CACHE, 1, -2), ValueError,
     r"^state_jacobian: k must be in \[−1, t\]"),
    ("jacobian type", lambda: R.state_jacobian(CACHE, 1.0, 0), TypeError,  # type: ignore[arg-type]
     r"^state_jacobian: t must be an integer step, got 1.0"),
    ("jacobian cache", lambda: R.state_jacobian(None, 1, 0), TypeError,  # type: ignore[arg-type]
     r"^state_jacobian: cache must be the RNNCache of rnn_forward, got NoneType"),
    ("bptt cache", lambda: R.bptt_contributions([], V_, C_, Y_[0], 1), TypeError,  # type: ignore[arg-type]
     r"^bptt_contributions: cache must be the RNNCache"),
    ("bptt y_t", lambda: R.bptt_contributions(CACHE, V_, C_, Y_, 1), ValueError,
     r"^bptt_contributions: y must be 1-D, got 2-D"),
    ("bptt y_t size", lambda: R.bptt_contributions(CACHE, V_, C_, Y_[0, :1], 1), ValueError,
     r"^bptt_contributions: y must have shape \(2,\)"),
    ("bptt t", lambda: R.bptt_contributions(CACHE, V_, C_, Y_[0], -1), ValueError,
     r"^bptt_contributions: t must be a step in \[0, 3\)"),
]


@pytest.mark.claim("rnn.cell", "rnn.bptt", "rnn.unroll", "rnn.vanishing", "convention.errors",
                   "convention.time-major")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "message"), [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_an_error_naming_function_argument_and_shape(
        call: Callable[[], Any], kind: type[Exception], message: str) -> None:
    with pytest.raises(kind, match=message):
        call()


@pytest.mark.claim("rnn.cell", "rnn.bptt", "convention.errors")
@pytest.mark.errors
def test_non_finite_inputs_give_errors_not_nan() -> None:
    U_inf = U_.copy()
    U_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"^rnn_step: U must be finite, got inf at index \(0, 0\)"):
        R.rnn_step(X[0], S0, U_inf, W_, B_)
    with pytest.raises(ValueError, match=r"^rnn_loss: V must be finite"):
        R.rnn_loss(S_, np.full_like(V_, np.nan), C_, Y_)
    with pytest.raises(ValueError, match=r"^rnn_step_backward: W must be finite"):
        R.rnn_step_backward(S0, X[0], S0, U_, W_NAN, B_)
    # never a nan: inputs and states are refused like weights (as lstm and gru do)
    x_nan, s_inf = X.copy(), S0.copy()
    x_nan[2, 1, 3], s_inf[1, 4] = np.nan, -np.inf
    for func in (R.rnn_forward, R.rnn_unrolled):
        with pytest.raises(ValueError, match=rf"^{func.__name__}: x must be finite, got nan at "
                                             r"index \(2, 1, 3\)"):
            func(x_nan, S0, U_, W_, B_)
        with pytest.raises(ValueError, match=rf"^{func.__name__}: s0 must be finite, got -inf at "
                                             r"index \(1, 4\)"):
            func(X, s_inf, U_, W_, B_)
    with pytest.raises(ValueError, match=r"^rnn_step: x_t must be finite, got nan"):
        R.rnn_step(x_nan[2], S0, U_, W_, B_)
    with pytest.raises(ValueError, match=r"^rnn_step: s_prev must be finite, got -inf"):
        R.rnn_step(X[0], s_inf, U_, W_, B_)
    with pytest.raises(ValueError, match=r"^rnn_step_backward: ds_t must be finite"):
        R.rnn_step_backward(s_inf, X[0], S0, U_, W_, B_)
    with pytest.raises(ValueError, match=r"^rnn_backward: ds must be finite"):
        R.rnn_backward(np.where(np.isnan(x_nan), np.nan, 1.0)[..., 3:] * S_, CACHE)
    with pytest.raises(ValueError, match=r"^rnn_output: s must be finite"):
        R.rnn_output(np.full_like(S_, np.inf), V_, C_)
    with pytest.raises(ValueError, match=r"^rnn_loss_backward: s must be finite"):
        R.rnn_loss_backward(np.full_like(S_, np.nan), V_, C_, Y_)
