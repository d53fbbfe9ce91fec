"""Spec of reference.vanishing (lecture: "Vanishing Gradients").

    Remember: σ'(z) = σ(z)(1 − σ(z)) ≤ .25. As we have more layers, the gradient gets very small
    at the early layers. [...] For this reason, other activations (such as ReLU) have become more
    common.

Claim: vanishing.sigmoid.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import sympy as sp

from reference import vanishing as V
from reference.tolerance import assert_close, tolerance
from spec_tests.helpers.symbolic import derive, sigma, symbols

DEPTH = 4


def _sigmoid_chain() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    """J = ½(a_4 − y)² for a chain of width 1: a_l = σ(w_l a_{l−1} + b_l), a_0 = x."""
    x, y, w, b = symbols("x", ()), symbols("y", ()), symbols("w", DEPTH), symbols("b", DEPTH)
    a = x[()]
    for l in range(DEPTH):
        a = sigma(w[l] * a + b[l])
    return (a - y[()]) ** 2 / 2, {"x": x, "y": y, "w": w, "b": b}


# ---------------------------------------------------------------- sympy
@pytest.mark.claim("vanishing.sigmoid")
@pytest.mark.sympy
def test_the_bound_is_the_maximum_of_the_sigmoid_derivative() -> None:
    z = sp.Symbol("z", real=True)
    d = sp.diff(sigma(z), z)
    # σ' has its only critical point at 0, where it is 1/4; it vanishes at ±∞
    assert sp.solve(sp.diff(d, z), z) == [0]
    assert sp.simplify(d.subs(z, 0)) == sp.Rational(1, 4) == sp.nsimplify(V.SIGMOID_GRAD_BOUND)
    assert sp.limit(d, z, sp.oo) == 0 and sp.limit(d, z, -sp.oo) == 0


@pytest.mark.claim("vanishing.sigmoid")
@pytest.mark.sympy
def test_first_layer_gradient_of_a_sigmoid_chain_carries_one_sigma_prime_per_layer() -> None:
    derived = derive(_sigmoid_chain)
    w, b = derived.inputs["w"], derived.inputs["b"]
    x, y = derived.inputs["x"][()], derived.inputs["y"][()]
    # ∂J/∂w_1 = (a_4 − y) · σ'(z_4) w_4 · σ'(z_3) w_3 · σ'(z_2) w_2 · σ'(z_1) · x, symbolically
    a, zs = x, []
    for l in range(DEPTH):
        zs.append(w[l] * a + b[l])
        a = sigma(zs[-1])
    s = [sigma(z) for z in zs]
    product = (a - y) * x * s[0] * (1 - s[0])
    for l in range(1, DEPTH):
        product *= w[l] * s[l] * (1 - s[l])
    assert sp.simplify(sp.diff(derived.expr, w[0]) - product) == 0
    rng = np.random.default_rng(9)
    tol = tolerance(np.float64, terms=2, depth=DEPTH, gradient=True)
    for _ in range(20):
        point = {"x": rng.normal(), "y": rng.normal(), "w": rng.normal(0, 2, DEPTH),
                 "b": rng.normal(size=DEPTH)}
        J, grads = derived(**point)
        # the reference measures |∂J/∂w_l| for the same chain (1×1 weight matrices)
        norms = V.layer_gradient_norms([[point["x"]]], [[point["y"]]],
                                       [np.array([[v]]) for v in point["w"]],
                                       [np.array([v]) for v in point["b"]], "sigmoid")
        assert_close(norms, np.abs(grads["w"]), tol, what="|∂J/∂w_l| against SymPy")
        # every layer passed costs at least a factor |w_l| / 4 (|a_4 − y| = √(2J)):
        # |∂J/∂w_1| ≤ |a_4 − y| · |x| · |w_2 w_3 w_4| · (1/4)^4
        bound = (np.sqrt(2 * J) * abs(point["x"]) * abs(np.prod(point["w"][1:]))
                 * V.SIGMOID_GRAD_BOUND ** DEPTH)
        assert abs(grads["w"][0]) <= bound * (1 + 1e-12), (grads["w"][0], bound)


# ---------------------------------------------------------------- behaviour
@pytest.mark.claim("vanishing.sigmoid")
@pytest.mark.behaviour
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_gradients_shrink_towards_the_early_layers_relu_far_less(seed: int) -> None:
    """10 hidden layers of 16 units, He-scaled weights shared by both, seeds 0-2: with sigmoid
    ‖∂J/∂W_l‖ grows layer by layer towards the output and the first layer gets under 1e-3 of the
    last layer's; with ReLU the first layer keeps more than 1e-1 of it."""
    norms = V.sigmoid_vs_relu(10, 16, seed)
    assert norms.sigmoid.shape == norms.relu.shape == (11,)
    assert all(a < b for a, b in pairwise(norms.sigmoid)), norms.sigmoid
    assert norms.sigmoid[0] < 1e-3 * norms.sigmoid[-1], norms.sigmoid
    assert norms.relu[0] > 1e-1 * norms.relu[-1], norms.relu


@pytest.mark.claim("vanishing.sigmoid")
@pytest.mark.behaviour
@pytest.mark.parametrize("seed", [0, 1])
def test_the_deeper_the_sigmoid_network_the_smaller_its_first_layer_gradient(seed: int) -> None:
    """Depths 2, 4, 8, 16 (width 16, seeds 0-1): the sigmoid network's first-layer gradient norm
    falls with every doubling and is below 1e-6 at depth 16, while the ReLU network's stays
    above 1e-2 and over 1e4 times the sigmoid's."""
    runs = [V.sigmoid_vs_relu(depth, 16, seed) for depth in (2, 4, 8, 16)]
    first = [r.sigmoid[0] for r in runs]
    assert all(a > b for a, b in pairwise(first)), first
    assert first[-1] < 1e-6 and runs[-1].relu[0] > 1e-2, (first[-1], runs[-1].relu[0])
    assert runs[-1].relu[0] > 1e4 * first[-1]


# ---------------------------------------------------------------- bad input
@pytest.mark.claim("vanishing.sigmoid", "convention.errors")
@pytest.mark.errors
def test_layer_gradient_norms_and_sigmoid_vs_relu_refuse_bad_arguments() -> None:
    Ws, bs = [np.ones((3, 2)), np.ones((1, 3))], [np.zeros(3), np.zeros(1)]
    with pytest.raises(ValueError, match=r"^layer_gradient_norms: y must have the network "
                                         r"output's shape \(4, 1\), got \(4, 2\)"):
        V.layer_gradient_norms(np.ones((4, 2)), np.ones((4, 2)), Ws, bs, "sigmoid")
    with pytest.raises(ValueError, match=r"^layer_gradient_norms: y must be 2-D, got 1-D"):
        V.layer_gradient_norms(np.ones((4, 2)), np.ones(4), Ws, bs, "sigmoid")
    with pytest.raises(ValueError, match=r"^mlp_forward: layer 1: W expects 2 inputs but gets 3"):
        V.layer_gradient_norms(np.ones((4, 3)), np.ones((4, 1)), Ws, bs, "sigmoid")
    with pytest.raises(ValueError, match=r"^sigmoid_vs_relu: depth must be at least 1, got 0"):
        V.sigmoid_vs_relu(0, 4, 0)
    with pytest.raises(ValueError, match=r"^sigmoid_vs_relu: width must be at least 1, got 0"):
        V.sigmoid_vs_relu(3, 0, 0)
    with pytest.raises(TypeError, match=r"^sigmoid_vs_relu: n must be an integer"):
        V.sigmoid_vs_relu(3, 4, 0, n=2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^sigmoid_vs_relu: rng must be a numpy.random.Generator"):
        V.sigmoid_vs_relu(3, 4, "0")


@pytest.mark.claim("vanishing.sigmoid")
@pytest.mark.behaviour
def test_sigmoid_vs_relu_measures_one_network_with_a_linear_output_unit() -> None:
    """The docstring's setup, replayed by hand: the function's draws repeated (He-scaled
    weights from init_mlp, then x ~ N(0, 1) [n, width], then y ~ N(0, 1) [n, 1]); ``depth``
    hidden layers of f, then a LINEAR output unit; J = ½‖a_L − y‖²/n; the gradient written
    out in NumPy here (δ_L = (a_L − y)/n, ∂J/∂W_l = δ_lᵀ a_{l−1}, δ_{l−1} = δ_l W_l ∘ f'(z_{l−1}))
    and its Frobenius norm per layer, for f = sigmoid and f = ReLU on the same weights."""
    from reference.feedforward import init_mlp

    depth, width, n, seed = 3, 5, 16, 4
    gen = np.random.default_rng(seed)
    net = init_mlp([width] * (depth + 1) + [1], "identity", gen, gain=float(np.sqrt(2.0)))
    x, y = gen.normal(size=(n, width)), gen.normal(size=(n, 1))
    got = V.sigmoid_vs_relu(depth, width, seed, n=n)

    def sig(z: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-z))

    hidden = {"sigmoid": (sig, lambda z: sig(z) * (1.0 - sig(z))),
              "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float))}
    for name, (f, df) in hidden.items():
        a, zs = [x], []
        for l, (W, b) in enumerate(zip(net.Ws, net.bs)):
            zs.append(a[-1] @ W.T + b)
            a.append(zs[-1] if l == depth else f(zs[-1]))    # the output unit is linear
        delta, norms = (a[-1] - y) / n, []
        for l in range(depth, -1, -1):
            norms.append(np.linalg.norm(delta.T @ a[l]))
            if l:
                delta = (delta @ net.Ws[l]) * df(zs[l - 1])
        assert_close(getattr(got, name), norms[::-1],
                     tolerance(np.float64, terms=width, depth=depth + 1, gradient=True),
                     what=f"‖∂J/∂W_l‖ with {name}")
