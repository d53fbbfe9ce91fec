"""Gradient descent and its helpers (lecture: "How have we trained before? Gradient Descent!").

    1. Make prediction
    2. Calculate Loss
    3. Calculate gradient of the loss function w.r.t. parameters
    4. Update parameters by taking a step in the opposite direction
    5. Iterate

Parameters travel as a ``dict`` of named arrays (``{"W": ..., "b": ...}``); the model supplies one
function that does steps 1-3, ``loss_and_grads(params) -> (loss, grads)``, and this module does
steps 4 and 5. Updates build new arrays: nothing here writes into the caller's parameters.

Also here, written once for every model: Adagrad (the char-RNN's optimiser), Adam (the LSTM's
long-range training) and gradient clipping by the global norm (the usual remedy for exploding
gradients).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reference._checks import FloatArray, as_float_array, fail, positive_int, positive_number

__all__ = [
    "Adagrad",
    "Adam",
    "DescentResult",
    "Params",
    "clip_by_norm",
    "global_norm",
    "gradient_descent",
    "sgd_step",
]

Params = dict[str, FloatArray]
LossAndGrads = Callable[[Params], tuple[float, Mapping[str, Any]]]


def _params(func: str, params: Mapping[str, Any]) -> Params:
    if not isinstance(params, Mapping) or not params:
        raise TypeError(f"{func}: params must be a non-empty mapping of name → array, got "
                        f"{type(params).__name__}")
    return {k: as_float_array(func, f"params[{k!r}]", v, finite=True) for k, v in params.items()}


def _grads_for(func: str, params: Params, grads: Mapping[str, Any]) -> Params:
    if set(grads) != set(params):
        raise fail(func, f"grads must have the same names as params: params {sorted(params)}, "
                         f"grads {sorted(grads)}")
    out = {}
    for k, p in params.items():
        g = as_float_array(func, f"grads[{k!r}]", grads[k])
        if g.shape != p.shape:
            raise fail(func, f"grads[{k!r}] has shape {g.shape} but params[{k!r}] has {p.shape}")
        out[k] = g
    return out


def sgd_step(params: Mapping[str, Any], grads: Mapping[str, Any], lr: float) -> Params:
    """Step 4: θ ← θ − η ∂L/∂θ for every named parameter; returns new arrays."""
    lr = positive_number("sgd_step", "lr", lr)
    p = _params("sgd_step", params)
    g = _grads_for("sgd_step", p, grads)
    return {k: p[k] - lr * g[k] for k in p}


@dataclass
class DescentResult:
    """What gradient descent returns: the final parameters and the loss before each step."""

    params: Params
    losses: list[float] = field(default_factory=list)
    converged: bool = False


def gradient_descent(
    loss_and_grads: LossAndGrads,
    params: Mapping[str, Any],
    *,
    lr: float,
    steps: int,
    tol: float = 0.0,
    update: Callable[[Params, Mapping[str, Any]], Params] | None = None,
) -> DescentResult:
    """The five-step loop of the slides, for ``steps`` iterations or until the loss ≤ ``tol``.

    Parameters
    ----------
    loss_and_grads : steps 1-3, params → (loss, grads with the same names and shapes).
    params : the initial parameters (step 0: "initialise the weights with random values" is the
        caller's, with an explicit rng).
    lr : the learning rate η of plain gradient descent (unused when ``update`` is given: that
        rule carries its own).
    steps : the largest number of iterations.
    tol : stop as soon as a loss ≤ tol is seen (``converged`` then says so).
    update : another update rule for step 4 (e.g. ``Adagrad(...).step``); plain
        ``sgd_step(·, ·, lr)`` by default.

    Returns
    -------
    DescentResult with the last parameters and the loss of every prediction made.
    """
    lr = positive_number("gradient_descent", "lr", lr)
    steps = positive_int("gradient_descent", "steps", steps)
    current = _params("gradient_descent", params)
    result = DescentResult(params=current)
    for _ in range(steps):                                   # 5. iterate
        loss, grads = loss_and_grads(current)                 # 1.-3. predict, loss, gradient
        if not np.isfinite(loss):
            raise FloatingPointError(f"gradient_descent: the loss became {loss} (diverged; "
                                     f"lower lr = {lr})")
        result.losses.append(float(loss))
        if loss <= tol:
            result.converged = True
            break
        if update is None:
            current = sgd_step(current, grads, lr)           # 4. step opposite the gradient
        else:
            current = update(current, grads)
    result.params = current
    return result


def global_norm(grads: Mapping[str, Any]) -> float:
    """‖g‖ = √(Σ_k ‖g_k‖²) over every named gradient array."""
    return float(np.sqrt(sum(float(np.sum(np.square(as_float_array("global_norm", k, g))))
                             for k, g in grads.items())))


def clip_by_norm(grads: Mapping[str, Any], max_norm: float) -> tuple[Params, float]:
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    g ← g · min(1, max_norm / ‖g‖): the direction is kept, the length never grows. Returns the
    clipped gradients (new arrays) and the norm before clipping.
    """
    max_norm = positive_number("clip_by_norm", "max_norm", max_norm)
    g = {k: as_float_array("clip_by_norm", f"grads[{k!r}]", v) for k, v in grads.items()}
    norm = global_norm(g)
    if not np.isfinite(norm):
        raise fail("clip_by_norm", f"the gradient norm is {norm}; clipping cannot repair it")
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: v * scale for k, v in g.items()}, norm


class Adagrad:
    """Adagrad: m ← m + g², θ ← θ − η g / √(m + ε), with m kept per parameter.

    ``step`` returns new parameter arrays; the accumulated m lives in this object.
    """

    def __init__(self, lr: float, eps: float = 1e-8) -> None:
        self.lr = positive_number("Adagrad", "lr", lr)
        self.eps = positive_number("Adagrad", "eps", eps)
        self.memory: Params = {}

    def step(self, params: Mapping[str, Any], grads: Mapping[str, Any]) -> Params:
        """One Adagrad update of every named parameter."""
        p = _params("Adagrad.step", params)
        g = _grads_for("Adagrad.step", p, grads)
        new = {}
        for k in p:
            m = self.memory.get(k, np.zeros_like(p[k])) + g[k] * g[k]
            self.memory[k] = m
            new[k] = p[k] - self.lr * g[k] / np.sqrt(m + self.eps)
        return new


class Adam:
    """Adam (Kingma and Ba, 2015): m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
    θ ← θ − η m̂ / (√v̂ + ε) with the bias corrections m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ).

    The same update as torch.optim.Adam with its defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, no
    weight decay). ``step`` returns new parameter arrays; m, v and the step count t live in this
    object.
    """

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        self.lr = positive_number("Adam", "lr", lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 <= beta < 1:
                raise fail("Adam", f"{name} must be a number in [0, 1), got {beta!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = positive_number("Adam", "eps", eps)
        self.t = 0
        self.m: Params = {}
        self.v: Params = {}

    def step(self, params: Mapping[str, Any], grads: Mapping[str, Any]) -> Params:
        """One Adam update of every named parameter."""
        p = _params("Adam.step", params)
        g = _grads_for("Adam.step", p, grads)
        self.t += 1
        new = {}
        for k in p:
            m = self.beta1 * self.m.get(k, np.zeros_like(p[k])) + (1.0 - self.beta1) * g[k]
            v = self.beta2 * self.v.get(k, np.zeros_like(p[k])) + (1.0 - self.beta2) * g[k] ** 2
            self.m[k], self.v[k] = m, v
            m_hat = m / (1.0 - self.beta1 ** self.t)
            v_hat = v / (1.0 - self.beta2 ** self.t)
            new[k] = p[k] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return new
