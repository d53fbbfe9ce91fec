"""Spec of reference.backprop (lecture: "Punchline"): the gradients of the 3-layer sigmoid
network, computed literally from the slide's formulas, are the true gradients of the loss that
makes (ŷ − y) exact.

Claims: backprop.punchline; conventions punchline-loss, errors, no-mutation, float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import NetworkCase, arrays, network_cases
from reference import backprop as B
from reference.activations import sigmoid, sigmoid_grad
from reference.feedforward import dense, dense_backward
from reference.gradcheck import check_gradients
from reference.tolerance import assert_close, compare, tolerance
from spec_tests.helpers.oracles import assert_matches_torch, run_torch
from spec_tests.helpers.symbolic import derive, elementwise, sigma, symbols

WEIGHTS = ("W1", "W2", "W3")


def _grads(g: B.PunchlineGradients) -> dict[str, np.ndarray]:
    return {"W1": g.dW1, "W2": g.dW2, "W3": g.dW3}


def _point(rng: np.random.Generator, n: int | None, sizes: tuple[int, ...]
           ) -> dict[str, np.ndarray]:
    """X [n, D] (or [D] when n is None), y in (0, 1) [n, K], W1, W2, W3 for widths D, H1, H2, K."""
    D, H1, H2, K = sizes
    batch = () if n is None else (n,)
    return {"X": rng.normal(size=(*batch, D)), "y": rng.uniform(size=(*batch, K)),
            "W1": rng.normal(size=(H1, D)), "W2": rng.normal(size=(H2, H1)),
            "W3": rng.normal(size=(K, H2))}


# ---------------------------------------------------------------- sympy
def _sym_network(output: str) -> tuple[sp.Expr, dict[str, np.ndarray]]:
    v = {"X": symbols("X", (2, 2)), "y": symbols("y", (2, 1)), "W1": symbols("W1", (2, 2)),
         "W2": symbols("W2", (2, 2)), "W3": symbols("W3", (1, 2))}
    def sig(a: np.ndarray) -> np.ndarray:
        return elementwise(sigma, a)

    a2 = sig(v["X"] @ v["W1"].T)                 # a(2) = σ(W(1) X)
    a3 = sig(a2 @ v["W2"].T)                     # a(3) = σ(W(2) a(2))
    z4 = a3 @ v["W3"].T                          # z(4) = W(3) a(3)
    y = v["y"]
    if output == "sigmoid":                      # J = −Σ [y log ŷ + (1 − y) log(1 − ŷ)]
        y_hat = sig(z4)
        J = -sum(y[i] * sp.log(y_hat[i]) + (1 - y[i]) * sp.log(1 - y_hat[i])
                 for i in np.ndindex(y.shape))
    else:                                        # J = ½ Σ (ŷ − y)², ŷ = z(4)
        J = sum((z4[i] - y[i]) ** 2 for i in np.ndindex(y.shape)) / 2
    return J, v


def _sym_sigmoid_bce() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    return _sym_network("sigmoid")


def _sym_linear_squared() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    return _sym_network("identity")


@pytest.mark.claim("backprop.punchline", "convention.punchline-loss")
@pytest.mark.sympy
@pytest.mark.parametrize(("output", "builder"), [("sigmoid", _sym_sigmoid_bce),
                                                 ("identity", _sym_linear_squared)])
def test_punchline_formulas_are_the_sympy_gradients_of_their_loss(output: str,
                                                                  builder: Any) -> None:
    derived = derive(builder)
    rng = np.random.default_rng(20)
    for _ in range(4):
        pt = _point(rng, 2, (2, 2, 2, 1))
        J, grads = derived(**pt)
        assert_close(B.punchline_loss(**pt, output=output), J, tolerance(terms=2, depth=3),
                     what=f"J ({output})")
        ours = _grads(B.punchline_gradients(**pt, output=output))
        for k in WEIGHTS:
            assert_close(ours[k], grads[k], tolerance(terms=2, depth=3, gradient=True),
                         what=f"∂J/∂{k} ({output}) against SymPy")


@pytest.mark.claim("convention.punchline-loss")
@pytest.mark.sympy
def test_y_hat_minus_y_is_exact_for_sigmoid_with_cross_entropy_but_not_with_squared_error(
        ) -> None:
    z, y = sp.symbols("z y", real=True)
    y_hat = sigma(z)
    bce = -(y * sp.log(y_hat) + (1 - y) * sp.log(1 - y_hat))
    assert sp.simplify(sp.diff(bce, z) - (y_hat - y)) == 0          # ∂J/∂z(4) = ŷ − y
    assert sp.simplify(sp.diff((z - y) ** 2 / 2, z) - (z - y)) == 0  # linear output, ½ SE
    squared = sp.diff((y_hat - y) ** 2 / 2, z)                      # sigmoid output, ½ SE
    assert sp.simplify(squared - (y_hat - y)) != 0
    assert sp.simplify(squared - (y_hat - y) * y_hat * (1 - y_hat)) == 0   # extra factor σ'
    # and the reference says which loss it uses
    for doc in (B.__doc__, B.punchline_gradients.__doc__):
        assert doc is not None and "binary cross-entropy" in doc


# ---------------------------------------------------------------- torch
def _torch_network(output: str) -> Callable[..., torch.Tensor]:
    def J(X: torch.Tensor, y: torch.Tensor, W1: torch.Tensor, W2: torch.Tensor,
          W3: torch.Tensor) -> torch.Tensor:
        z4 = F.linear(torch.sigmoid(F.linear(torch.sigmoid(F.linear(X, W1)), W2)), W3)
        if output == "sigmoid":
            return F.binary_cross_entropy_with_logits(z4, y, reduction="sum")
        return 0.5 * F.mse_loss(z4, y, reduction="sum")

    return J


@pytest.mark.claim("backprop.punchline", "convention.punchline-loss")
@pytest.mark.torch
@pytest.mark.parametrize("output", ["sigmoid", "identity"])
@pytest.mark.parametrize("n", [None, 1, 16], ids=["one example 1-D", "N=1", "N=16"])
def test_punchline_gradients_match_torch_autograd(output: str, n: int | None) -> None:
    pt = _point(np.random.default_rng(21), n, (5, 7, 4, 3))
    ours = B.punchline_loss(**pt, output=output)
    grads = _grads(B.punchline_gradients(**pt, output=output))
    assert_matches_torch(_torch_network(output), pt, ours, grads, terms=7, depth=3,
                         what=f"punchline ({output})")


@pytest.mark.claim("backprop.punchline")
@pytest.mark.torch
def test_punchline_forward_values_match_torch() -> None:
    pt = _point(np.random.default_rng(22), 6, (3, 4, 4, 2))

    def forward(X: torch.Tensor, W1: torch.Tensor, W2: torch.Tensor,
                W3: torch.Tensor) -> tuple[torch.Tensor, ...]:
        z2 = F.linear(X, W1)
        z3 = F.linear(torch.sigmoid(z2), W2)
        z4 = F.linear(torch.sigmoid(z3), W3)
        return z2, torch.sigmoid(z2), z3, torch.sigmoid(z3), z4, torch.sigmoid(z4)

    inputs = {k: pt[k] for k in ("X", *WEIGHTS)}
    assert_matches_torch(forward, inputs, tuple(B.punchline_forward(**inputs)), terms=4,
                         depth=3, what="punchline forward")


@pytest.mark.claim("convention.punchline-loss")
@pytest.mark.torch
def test_with_a_sigmoid_output_and_squared_error_the_punchline_is_off_by_sigma_prime() -> None:
    rng = np.random.default_rng(23)
    z4, y = rng.normal(0, 2, (8, 1)), rng.uniform(size=(8, 1))
    error = sigmoid(z4) - y                                    # the punchline's (ŷ − y)
    losses = {
        "bce": lambda z4, y: F.binary_cross_entropy_with_logits(z4, y, reduction="sum"),
        "squared": lambda z4, y: 0.5 * F.mse_loss(torch.sigmoid(z4), y, reduction="sum"),
    }
    _, bce = run_torch(losses["bce"], {"z4": z4, "y": y}, wrt=["z4"])
    _, squared = run_torch(losses["squared"], {"z4": z4, "y": y}, wrt=["z4"])
    gtol = tolerance(gradient=True)
    assert_close(bce["z4"], error, gtol, what="∂J/∂z(4) under BCE = ŷ − y")
    assert not compare(squared["z4"], error, tolerance(np.float32)).ok, \
        "under squared error ∂J/∂z(4) must differ from ŷ − y"
    assert_close(squared["z4"], error * sigmoid_grad(z4), gtol, what="(ŷ − y)·σ'(z(4))")


# ---------------------------------------------------------------- properties
_networks = network_cases(min_layers=3, max_layers=3, activations=("sigmoid",), biases=False)


@pytest.mark.claim("backprop.punchline")
@pytest.mark.property
@given(_networks, st.data())
def test_punchline_equals_finite_differences_and_dense_layers_without_bias(
        case: NetworkCase, data: st.DataObject) -> None:
    (W1, _), (W2, _), (W3, b3) = case.layers
    y = data.draw(arrays(case.upstream.shape, elements=st.floats(0, 1)), label="y")
    fwd = B.punchline_forward(case.x, W1, W2, W3)
    g = B.punchline_gradients(case.x, y, W1, W2, W3)
    # the network is three dense sigmoid layers with b = 0
    a, inputs = case.x, []
    for W, _ in case.layers:
        inputs.append(a)
        a = dense(a, W, np.zeros(W.shape[0]), "sigmoid")
    assert np.array_equal(fwd.y_hat, a), "punchline_forward != three dense layers with b = 0"
    # its gradients are dense_backward's, starting from ∂J/∂z(4) = ŷ − y at the output
    da, dW3, _ = dense_backward(fwd.y_hat - y, inputs[2], W3, b3, "identity")
    da, dW2, _ = dense_backward(da, inputs[1], W2, np.zeros(W2.shape[0]), "sigmoid")
    _, dW1, _ = dense_backward(da, inputs[0], W1, np.zeros(W1.shape[0]), "sigmoid")
    tol = tolerance(terms=5, depth=3, gradient=True)
    for ours, theirs, name in ((g.dW1, dW1, "W1"), (g.dW2, dW2, "W2"), (g.dW3, dW3, "W3")):
        assert_close(ours, theirs, tol, what=f"∂J/∂{name} against dense_backward")
    # and the finite differences of the loss itself
    check_gradients(lambda W1, W2, W3: B.punchline_loss(case.x, y, W1, W2, W3),
                    {"W1": W1, "W2": W2, "W3": W3}, 1.0, _grads(g))


@pytest.mark.claim("convention.float64", "convention.no-mutation")
@pytest.mark.property
@given(st.sampled_from([np.int32, np.int64, np.float32]))
def test_punchline_computes_in_float64_and_leaves_its_inputs_alone(dtype: type) -> None:
    args = [np.array(a, dtype=dtype) for a in ([[1, 0], [0, -1]], [[1], [0]], [[1, -1], [2, 0]],
                                               [[0, 1], [1, 1]], [[1, -2]])]
    before = [a.copy() for a in args]
    X, y, W1, W2, W3 = args
    outs = [*B.punchline_forward(X, W1, W2, W3), *B.punchline_gradients(X, y, W1, W2, W3),
            np.asarray(B.punchline_loss(X, y, W1, W2, W3))]
    assert all(o.dtype == np.float64 for o in outs)
    assert all(np.array_equal(a, c) and a.dtype == dtype for a, c in zip(args, before))


# ---------------------------------------------------------------- bad input
_X, _y = np.zeros((4, 3)), np.zeros((4, 2))
_W1, _W2, _W3 = np.zeros((5, 3)), np.zeros((6, 5)), np.zeros((2, 6))
BAD_CALLS = [
    (lambda: B.punchline_forward(np.zeros((4, 2)), _W1, _W2, _W3), ValueError,
     r"^punchline_forward: W1 expects 3 inputs but X has 2 features"),
    (lambda: B.punchline_forward(_X, _W1, np.zeros((6, 4)), _W3), ValueError,
     r"^punchline_forward: W2 expects 4 inputs but W1 has 5 rows"),
    (lambda: B.punchline_forward(_X, _W1, _W2, np.zeros((2, 5))), ValueError,
     r"^punchline_forward: W3 expects 5 inputs but W2 has 6 rows"),
    (lambda: B.punchline_forward(np.zeros((1, 4, 3)), _W1, _W2, _W3), ValueError,
     r"^punchline_forward: X must be 1-D or 2-D, got 3-D"),
    (lambda: B.punchline_forward(_X, np.full((5, 3), np.inf), _W2, _W3), ValueError,
     r"^punchline_forward: W1 must be finite, got inf"),
    (lambda: B.punchline_forward(_X, _W1, _W2, _W3, output="softmax"), ValueError,
     r"^punchline_forward: output must be one of \['sigmoid', 'identity'\], got 'softmax'"),
    (lambda: B.punchline_gradients(_X, np.zeros((4, 1)), _W1, _W2, _W3), ValueError,
     r"^punchline_gradients: y must have the output's shape \(4, 2\) \(N, K\), got \(4, 1\)"),
    (lambda: B.punchline_gradients(_X, np.full((4, 2), 2.0), _W1, _W2, _W3), ValueError,
     r"^punchline_gradients: y must lie in \[0, 1\] for binary cross-entropy"),
    (lambda: B.punchline_loss(_X, np.full((4, 2), -0.5), _W1, _W2, _W3), ValueError,
     r"^punchline_loss: y must lie in \[0, 1\] for binary cross-entropy, got values from -0.5"),
    (lambda: B.punchline_gradients(_X, np.full((4, 2), np.nan), _W1, _W2, _W3), ValueError,
     r"^punchline_gradients: y must be finite"),
    (lambda: B.punchline_gradients(_X, _y, _W1, _W2, _W3.T), ValueError,
     r"^punchline_gradients: W3 expects 2 inputs but W2 has 6 rows"),
    (lambda: B.punchline_loss(_X, np.zeros(4), _W1, _W2, _W3), ValueError,
     r"^punchline_loss: y must have the output's shape"),
    (lambda: B.punchline_loss(_X, _y, _W1, _W2, _W3, output=None), ValueError,
     r"^punchline_loss: output must be one of"),
    (lambda: B.punchline_gradients("X", _y, _W1, _W2, _W3), TypeError,
     r"^punchline_gradients: X must be a real array, got str"),
]


@pytest.mark.claim("backprop.punchline", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "words"), BAD_CALLS)
def test_punchline_functions_refuse_bad_input_by_name(call: Callable[[], Any], kind: type,
                                                      words: str) -> None:
    with pytest.raises(kind, match=words):
        call()
