"""Spec of reference.optim (lecture: "How to learn the weights", "How have we trained before?
Gradient Descent!").

    1. Make prediction  2. Calculate Loss  3. Calculate gradient of the loss function w.r.t.
    parameters  4. Update parameters by taking a step in the opposite direction  5. Iterate

Claims: gd.loop (gradient descent, its step, Adagrad, Adam, clipping), learn.loop, rnn.vanishing
(clipping, the remedy for exploding gradients).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import arrays, param_dicts
from reference import optim as O
from reference.activations import sigmoid
from reference.losses import binary_cross_entropy_with_logits
from reference.neuron import neuron, neuron_backward
from reference.tolerance import EXACT, assert_close, tolerance

Dicts = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]
F64 = tolerance(np.float64, terms=16)


def _quadratic(A: np.ndarray, c: np.ndarray) -> Any:
    """Steps 1-3 for J(θ) = ½‖Aθ − c‖²: ∂J/∂θ = Aᵀ(Aθ − c)."""
    def loss_and_grads(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        r = A @ p["theta"] - c                       # 1. predict and compare
        return 0.5 * float(r @ r), {"theta": A.T @ r}  # 2. loss, 3. gradient
    return loss_and_grads


# ---------------------------------------------------------------- properties
@pytest.mark.claim("gd.loop", "convention.no-mutation")
@pytest.mark.property
@given(param_dicts(), st.floats(1e-3, 10.0))
def test_a_step_moves_every_parameter_opposite_its_gradient(pg: Dicts, lr: float) -> None:
    params, grads = pg
    before = {k: v.copy() for k, v in params.items()}
    new = O.sgd_step(params, grads, lr)
    assert set(new) == set(params)
    for k in params:
        assert_close(new[k], params[k] - lr * grads[k], EXACT, what=f"θ − η ∂L/∂θ for {k}")
        assert np.array_equal(params[k], before[k]) and new[k] is not params[k]


@pytest.mark.claim("gd.loop")
@pytest.mark.property
@given(st.integers(1, 4).flatmap(lambda d: st.tuples(arrays((d + 2, d), bound=3.0),
                                                     arrays((d + 2,), bound=3.0),
                                                     arrays((d,), bound=3.0))))
def test_descent_with_a_safe_step_never_increases_a_convex_loss(case: Any) -> None:
    A, c, theta = case
    L = max(float(np.linalg.eigvalsh(A.T @ A).max()), 1e-3)   # the curvature bound
    result = O.gradient_descent(_quadratic(A, c), {"theta": theta}, lr=1.0 / L, steps=30)
    losses = np.array(result.losses)
    # 30 steps, unless the loss hit exactly 0 (tol = 0) and the loop stopped there
    assert len(losses) == 30 or (result.converged and losses[-1] == 0.0)
    # with η ≤ 1/L each step lowers J by at least η/2 ‖∇J‖² ≥ 0 (up to rounding)
    assert np.all(np.diff(losses) <= 1e-9 * (1.0 + losses[:-1])), losses


@pytest.mark.claim("gd.loop", "rnn.vanishing")
@pytest.mark.property
@given(param_dicts(), st.floats(1e-3, 100.0))
def test_clipping_never_increases_the_norm_and_keeps_the_direction(pg: Dicts,
                                                                   max_norm: float) -> None:
    # the remedy for exploding gradients (rnn.vanishing): g ← g · min(1, max_norm/‖g‖)
    _, grads = pg
    clipped, norm = O.clip_by_norm(grads, max_norm)
    assert norm == O.global_norm(grads)
    after = O.global_norm(clipped)
    assert after <= norm * (1 + 1e-12) and after <= max_norm * (1 + 1e-12)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    for k in grads:      # one common factor for every array: the direction is kept
        assert_close(clipped[k], grads[k] * scale, EXACT, what=f"clipped {k}")
    if norm <= max_norm:
        assert all(np.array_equal(clipped[k], grads[k]) for k in grads)


@pytest.mark.claim("gd.loop")
@pytest.mark.property
@given(param_dicts())
def test_global_norm_is_the_norm_of_all_gradients_laid_end_to_end(pg: Dicts) -> None:
    _, grads = pg
    flat = np.concatenate([g.ravel() for g in grads.values()])
    assert_close(O.global_norm(grads), np.linalg.norm(flat), F64, what="global norm")


@pytest.mark.claim("gd.loop")
@pytest.mark.property
@given(param_dicts(bound=5.0), param_dicts(bound=5.0), st.floats(1e-3, 1.0))
def test_adagrad_divides_each_step_by_the_root_of_the_summed_squared_gradients(
        pg: Dicts, second: Dicts, lr: float) -> None:
    params, g1 = pg
    g2 = {k: np.resize(second[1][next(iter(second[1]))], v.shape) for k, v in g1.items()}
    opt = O.Adagrad(lr)
    p1 = opt.step(params, g1)
    p2 = opt.step(p1, g2)
    for k in params:
        m1, m2 = g1[k] ** 2, g1[k] ** 2 + g2[k] ** 2
        assert_close(p1[k], params[k] - lr * g1[k] / np.sqrt(m1 + opt.eps), F64, what=k)
        assert_close(p2[k], p1[k] - lr * g2[k] / np.sqrt(m2 + opt.eps), F64, what=k)
        assert_close(opt.memory[k], m2, F64, what=f"memory of {k}")
        # no coordinate ever moves by more than η in one step: |g|/√(Σg²) ≤ 1
        assert np.all(np.abs(p1[k] - params[k]) <= lr * (1 + 1e-12))


# ---------------------------------------------------------------- behaviour
@pytest.mark.claim("gd.loop")
@pytest.mark.behaviour
def test_gradient_descent_runs_the_five_steps_and_finds_the_least_squares_line() -> None:
    """y = 2x − 1 + noise (σ = 0.1) on 50 points, seed 0, η = 0.5: within 500 steps the loss
    reaches the least-squares optimum to 1e-9 and the parameters match np.linalg.lstsq to 1e-4;
    the loss recorded first is that of the initial parameters, and steps 1-3 run once per
    iteration."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 50)
    A = np.column_stack([x, np.ones_like(x)])
    c = 2 * x - 1 + 0.1 * rng.normal(size=50)
    best = np.linalg.lstsq(A, c, rcond=None)[0]
    J_best = 0.5 * float(np.sum((A @ best - c) ** 2))
    calls = []
    quad = _quadratic(A / np.sqrt(50), c / np.sqrt(50))

    def counted(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        calls.append(p["theta"].copy())
        return quad(p)

    theta0 = rng.normal(size=2)
    result = O.gradient_descent(counted, {"theta": theta0}, lr=0.5, steps=500)
    assert len(calls) == len(result.losses) == 500
    assert np.array_equal(calls[0], theta0) and result.losses[0] == quad({"theta": theta0})[0]
    assert abs(result.losses[-1] - J_best / 50) < 1e-9
    assert np.max(np.abs(result.params["theta"] - best)) < 1e-4, (result.params, best)


@pytest.mark.claim("gd.loop")
@pytest.mark.behaviour
def test_descent_stops_once_the_loss_reaches_tol_and_adagrad_plugs_in_as_step_four() -> None:
    """J = ½‖θ − (3, −2)‖² from 0: plain descent with η = 0.5 and tol = 1e-8 stops early
    (converged, fewer than 100 steps); Adagrad (η = 0.5) as the update rule gets J below 1e-3
    in 200 steps."""
    target = np.array([3.0, -2.0])
    quad = _quadratic(np.eye(2), target)
    plain = O.gradient_descent(quad, {"theta": np.zeros(2)}, lr=0.5, steps=100, tol=1e-8)
    assert plain.converged and len(plain.losses) < 100 and plain.losses[-1] <= 1e-8
    ada = O.gradient_descent(quad, {"theta": np.zeros(2)}, lr=1.0, steps=200,
                             update=O.Adagrad(0.5).step)
    assert ada.losses[-1] < 1e-3 < ada.losses[0], (ada.losses[0], ada.losses[-1])


@pytest.mark.claim("gd.loop")
@pytest.mark.behaviour
def test_descent_stops_at_a_loss_equal_to_tol_not_only_below_it() -> None:
    """The stopping rule is loss ≤ tol: a loss that is exactly 0.0 at the third prediction ends
    the loop there with tol = 0 (converged, 3 losses, no step after it), the parameters being
    those of that third prediction (two steps of η = 0.5 from θ = 4)."""
    seen: list[float] = []

    def exact_zero_at_third_call(params: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        seen.append(float(params["theta"][0]))
        loss = 0.0 if len(seen) == 3 else 1.0 / len(seen)
        return loss, {"theta": np.ones(1)}

    result = O.gradient_descent(exact_zero_at_third_call, {"theta": np.array([4.0])}, lr=0.5,
                                steps=10, tol=0.0)
    assert result.converged and result.losses == [1.0, 0.5, 0.0], result
    assert seen == [4.0, 3.5, 3.0] and result.params["theta"][0] == 3.0


@pytest.mark.claim("learn.loop")
@pytest.mark.behaviour
@pytest.mark.parametrize("seed", [0, 1])
def test_learning_from_random_weights_feeds_the_error_back_until_predictions_are_right(
        seed: int) -> None:
    """A sigmoid neuron on 100 points labelled by x1 + x2 > 0, seeds 0-1: start from random
    weights, predict, compare with the truth (cross-entropy), send the error back as the
    gradient, update; after 300 steps of η = 1 the error rate is below 3% and the loss has
    fallen to under a third of its start."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(float)

    def loss_and_grads(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        z = neuron(X, p["w"], p["b"], "identity")                # predict (the logit)
        loss = binary_cross_entropy_with_logits(z, y)            # compare with the truth
        error = (sigmoid(z) - y) / len(y)              # the error, ∂J/∂z = (ŷ − y)/N
        _, dw, db = neuron_backward(error, X, p["w"], p["b"], "identity")   # fed back
        return loss, {"w": dw, "b": np.array(db)}

    init = {"w": rng.normal(size=2), "b": np.array(rng.normal())}   # random initial weights
    result = O.gradient_descent(loss_and_grads, init, lr=1.0, steps=300)
    p = result.params
    wrong = np.mean(neuron(X, p["w"], p["b"], "step") != y)
    assert wrong < 0.03 and result.losses[-1] < result.losses[0] / 3, (wrong, result.losses[0],
                                                                         result.losses[-1])


# ---------------------------------------------------------------- bad input
@pytest.mark.claim("gd.loop", "convention.errors")
@pytest.mark.errors
def test_sgd_step_refuses_mismatched_gradients_and_bad_rates() -> None:
    p = {"W": np.ones((2, 3)), "b": np.ones(2)}
    with pytest.raises(ValueError, match=r"^sgd_step: grads must have the same names as params: "
                                         r"params \['W', 'b'\], grads \['W'\]"):
        O.sgd_step(p, {"W": np.ones((2, 3))}, 0.1)
    with pytest.raises(ValueError, match=r"^sgd_step: grads must have the same names as params: "
                                         r"params \['W', 'b'\], grads \['W', 'b', 'c'\]"):
        O.sgd_step(p, {**p, "c": np.ones(1)}, 0.1)          # an extra gradient is refused too
    with pytest.raises(ValueError, match=r"^sgd_step: grads\['b'\] has shape \(3,\) but "
                                         r"params\['b'\] has \(2,\)"):
        O.sgd_step(p, {"W": np.ones((2, 3)), "b": np.ones(3)}, 0.1)
    with pytest.raises(ValueError, match=r"^sgd_step: lr must be a finite number > 0, got -0.1"):
        O.sgd_step(p, p, -0.1)
    with pytest.raises(TypeError, match=r"^sgd_step: params must be a non-empty mapping"):
        O.sgd_step({}, {}, 0.1)
    with pytest.raises(TypeError, match=r"^sgd_step: params must be a non-empty mapping"):
        O.sgd_step([np.ones(2)], [np.ones(2)], 0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^sgd_step: params\['b'\] must be finite"):
        O.sgd_step({"b": np.array([np.nan])}, {"b": np.ones(1)}, 0.1)
    with pytest.raises(TypeError, match=r"^sgd_step: grads\['b'\] must hold real numbers"):
        O.sgd_step({"b": np.ones(1)}, {"b": np.array([True])}, 0.1)


@pytest.mark.claim("gd.loop", "convention.errors")
@pytest.mark.errors
def test_gradient_descent_refuses_bad_settings_and_reports_divergence() -> None:
    quad = _quadratic(np.eye(2), np.ones(2))
    with pytest.raises(ValueError, match=r"^gradient_descent: steps must be at least 1, got 0"):
        O.gradient_descent(quad, {"theta": np.zeros(2)}, lr=0.1, steps=0)
    with pytest.raises(ValueError, match=r"^gradient_descent: lr must be a finite number > 0"):
        O.gradient_descent(quad, {"theta": np.zeros(2)}, lr=float("inf"), steps=3)
    # η = 3 > 2/L makes every step overshoot: the loss grows until it overflows, reported
    quad = _quadratic(np.eye(2) * 1e3, np.ones(2))

    def overshooting(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        with np.errstate(over="ignore", invalid="ignore"):
            return quad(p)

    with pytest.raises(FloatingPointError, match=r"^gradient_descent: the loss became inf "
                                                 r"\(diverged; lower lr = 3.0\)"):
        O.gradient_descent(overshooting, {"theta": np.ones(2)}, lr=3.0, steps=1000)


@pytest.mark.claim("gd.loop", "convention.errors")
@pytest.mark.errors
def test_adagrad_and_clipping_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"^Adagrad: lr must be a finite number > 0, got 0"):
        O.Adagrad(0)
    with pytest.raises(ValueError, match=r"^Adagrad: eps must be a finite number > 0"):
        O.Adagrad(0.1, eps=-1.0)
    with pytest.raises(ValueError, match=r"^Adagrad.step: grads must have the same names"):
        O.Adagrad(0.1).step({"W": np.ones(2)}, {"U": np.ones(2)})
    with pytest.raises(ValueError, match=r"^clip_by_norm: max_norm must be a finite number > 0"):
        O.clip_by_norm({"W": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match=r"^clip_by_norm: the gradient norm is inf; clipping "
                                         r"cannot repair it"):
        O.clip_by_norm({"W": np.array([np.inf, 1.0])}, 1.0)
    with pytest.raises(TypeError, match=r"^global_norm: W must be a real array, got str"):
        O.global_norm({"W": "1.0"})


# ---------------------------------------------------------------- Adam
@pytest.mark.claim("gd.loop")
@pytest.mark.torch
def test_adam_takes_the_same_steps_as_torch_optim_adam() -> None:
    rng = np.random.default_rng(3)
    p0 = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=3)}
    grads = [{k: rng.normal(size=v.shape) for k, v in p0.items()} for _ in range(5)]
    adam, p = O.Adam(0.1), p0
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in p0.items()}
    opt = torch.optim.Adam(list(tensors.values()), lr=0.1)
    for g in grads:
        p = adam.step(p, g)
        for k, t in tensors.items():
            t.grad = torch.tensor(g[k])
        opt.step()
        for k, t in tensors.items():
            assert_close(p[k], t.detach().numpy(), tolerance(np.float64, terms=4),
                         what=f"Adam {k} after step {adam.t}")


@pytest.mark.claim("convention.errors")
@pytest.mark.errors
def test_adam_refuses_bad_settings_and_mismatched_gradients() -> None:
    with pytest.raises(ValueError, match=r"^Adam: lr must be a finite number > 0, got 0"):
        O.Adam(0.0)
    with pytest.raises(ValueError, match=r"^Adam: beta2 must be a number in \[0, 1\), got 1"):
        O.Adam(0.1, beta2=1)
    with pytest.raises(ValueError, match=r"^Adam: beta1 must be a number in \[0, 1\), got True"):
        O.Adam(0.1, beta1=True)
    with pytest.raises(ValueError, match=r"^Adam.step: grads must have the same names"):
        O.Adam(0.1).step({"W": np.ones(2)}, {"V": np.ones(2)})
