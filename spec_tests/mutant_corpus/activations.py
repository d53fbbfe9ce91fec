"""Mutants of the activations: step, sigmoid, tanh, relu."""

from __future__ import annotations

import types

import numpy as np
import torch
import torch.nn.functional as tF

from spec_tests.mutant_corpus._make import (
    FG,
    TORCH,
    F,
    G,
    autodiff,
    backward,
    in_float32,
    mutant,
)


def _sigma(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))          # σ(x) without overflow


def _naive_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return 1.0 / (1.0 + torch.exp(-x))


def _clipped_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return 1.0 / (1.0 + torch.exp(-x.clamp(-500.0, 500.0)))   # a guard sized for float64


def _clipped_tanh(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(2.0 * x.clamp(-300.0, 300.0))                # a guard sized for float64
    return (e - 1.0) / (e + 1.0)


def _sinh_over_cosh(x: np.ndarray) -> np.ndarray:
    t = torch.as_tensor(x)
    return (torch.sinh(t) / torch.cosh(t)).numpy()           # inf/inf = nan beyond |x| ≈ 710


def _half(op: str) -> types.SimpleNamespace:
    """torch's op, its outputs and gradients returned in float16 (an autocast left on)."""
    return types.SimpleNamespace(**{
        op: lambda x: getattr(TORCH, op)(x).astype(np.float16),
        "vjp": lambda name, inputs, attrs, cots: tuple(
            g.astype(np.float16) for g in TORCH.vjp(name, inputs, attrs, cots))})


STEP = [
    mutant("step-strict-threshold", "step", "y = 1 where x > 0 (strict), so step(0) = 0",
           "edge-only", autodiff("step", lambda x: (x > 0).to(x.dtype)), F, "forward", ["y"],
           named="step at zero", where=["x==0"], how=["zeros"]),
    mutant("step-heaviside-half", "step", "np.heaviside(x, 0.5): step(0) = ½",
           "edge-only", backward("step", lambda dy, x: np.zeros_like(x),
                                 forward=lambda x: np.heaviside(x, 0.5)), F, "forward", ["y"],
           named="step at zero", where=["x==0"], how=["factor:1/2"]),
    mutant("step-from-sign", "step", "y = (sign(x) + 1) / 2, which is ½ at x = 0",
           "edge-only", autodiff("step", lambda x: (torch.sign(x) + 1) / 2), F, "forward",
           ["y"], named="step at zero", where=["x==0"], how=["factor:1/2"]),
    mutant("step-inverted", "step", "the comparison reversed: y = 1 where x ≤ 0",
           "consistent-forward", autodiff("step", lambda x: (x <= 0).to(x.dtype)), F,
           "forward", ["y"], named="input negated"),
    mutant("step-straight-through", "step", "the gradient passed straight through: dx = dy",
           "backward-only", backward("step", lambda dy, x: dy.copy()), G, "backward", ["dx"],
           where=["everywhere"], named="mask left out"),
    mutant("step-surrogate-gradient", "step",
           "a surrogate gradient dx = dy ∘ σ(x)(1 − σ(x)) in place of 0",
           "backward-only", backward("step", lambda dy, x: dy * _sigma(x) * (1 - _sigma(x))), G,
           "backward", ["dx"]),
    mutant("step-flattened", "step", "the output flattened to one axis", "forward-only",
           backward("step", lambda dy, x: np.zeros_like(x),
                    forward=lambda x: (x >= 0).astype(x.dtype).reshape(-1)), F, "forward",
           ["y"], how=["shape"], named="shape"),
]

SIGMOID = [
    mutant("sigmoid-of-minus-x", "sigmoid", "y = 1/(1 + e^x): the minus sign lost",
           "consistent-forward", autodiff("sigmoid", lambda x: torch.sigmoid(-x)), FG,
           "forward", ["y", "dx"], named="input negated"),
    mutant("sigmoid-grad-of-input", "sigmoid", "dx = dy ∘ x(1 − x): σ' applied to x, not σ(x)",
           "backward-only", backward("sigmoid", lambda dy, x: dy * x * (1 - x)), G, "backward",
           ["dx"], named="derivative of the wrong quantity"),
    mutant("sigmoid-grad-of-output", "sigmoid",
           "dx = dy ∘ σ'(y): the derivative helper called on the output y = σ(x)",
           "backward-only", backward("sigmoid", lambda dy, x: dy * _sigma(_sigma(x)) * (
               1 - _sigma(_sigma(x)))), G, "backward", ["dx"],
           named="derivative of the wrong quantity"),
    mutant("sigmoid-grad-one-factor", "sigmoid", "dx = dy ∘ σ(x): the (1 − σ) factor forgotten",
           "backward-only", backward("sigmoid", lambda dy, x: dy * _sigma(x)), G, "backward",
           ["dx"], named="derivative of the wrong quantity"),
    mutant("sigmoid-grad-ignores-dy", "sigmoid", "dx = σ(x)(1 − σ(x)): the upstream dy ignored",
           "backward-only", backward("sigmoid", lambda dy, x: _sigma(x) * (1 - _sigma(x))), G,
           "backward", ["dx"], named="upstream ignored"),
    mutant("sigmoid-is-tanh", "sigmoid", "tanh used as the logistic function",
           "consistent-forward", autodiff("sigmoid", torch.tanh), FG, "forward", ["y", "dx"]),
    mutant("sigmoid-forward-sign", "sigmoid",
           "forward 1/(1 + e^x) (sign lost) next to a correct hand-written backward",
           "forward-only", backward("sigmoid", lambda dy, x: dy * _sigma(x) * (1 - _sigma(x)),
                                    forward=lambda x: _sigma(-x)), F, "forward-only", ["y"],
           named="input negated"),
    mutant("sigmoid-naive-gradient", "sigmoid",
           "y = 1/(1 + exp(−x)) by autodiff: the gradient exp(−x)/(1 + exp(−x))² is inf/inf = "
           "nan at large negative x", "edge-only", autodiff("sigmoid", _naive_sigmoid),
           G, "backward", ["dx"], named="unstable", where=["large"], how=["nonfinite"]),
    mutant("sigmoid-exp-ratio", "sigmoid", "y = e^x / (1 + e^x): inf/inf = nan at large x",
           "edge-only", autodiff("sigmoid", lambda x: torch.exp(x) / (1 + torch.exp(x))), FG,
           "forward", ["y", "dx"], named="unstable", where=["large"], how=["nonfinite"]),
    mutant("sigmoid-clip-500", "sigmoid",
           "x clipped to ±500 before 1/(1 + exp(−x)): safe in float64, the gradient is nan in "
           "float32 where exp(500) overflows", "float32-only",
           autodiff("sigmoid", _clipped_sigmoid), G, "backward", ["dx"], named="unstable",
           where=["large"], how=["nonfinite"], dtype="float32"),
    mutant("sigmoid-float32", "sigmoid", "computed in float32 in a float64 run", "float32-only",
           autodiff("sigmoid", in_float32(torch.sigmoid)), FG, "both", ["y", "dx"],
           named="float32 rounding"),
    mutant("sigmoid-float16", "sigmoid", "a float32 run answered in float16 (autocast left on)",
           "float32-only", _half("sigmoid"), FG, "both", ["y", "dx"], dtype="float32"),
]

TANH = [
    mutant("tanh-lecun-scaled", "tanh", "LeCun's scaled tanh, 1.7159 · tanh(2x/3)",
           "consistent-forward", autodiff("tanh", lambda x: 1.7159 * torch.tanh(2 * x / 3)), FG,
           "forward", ["y", "dx"]),
    mutant("tanh-grad-of-input", "tanh", "dx = dy ∘ (1 − x²): tanh' applied to x, not tanh(x)",
           "backward-only", backward("tanh", lambda dy, x: dy * (1 - x ** 2)), G, "backward",
           ["dx"], named="derivative of the wrong quantity"),
    mutant("tanh-grad-of-output", "tanh",
           "dx = dy ∘ (1 − tanh²(y)): the derivative helper called on y = tanh(x)",
           "backward-only", backward("tanh", lambda dy, x: dy * (1 - np.tanh(np.tanh(x)) ** 2)),
           G, "backward", ["dx"], named="derivative of the wrong quantity"),
    mutant("tanh-grad-not-squared", "tanh", "dx = dy ∘ (1 − tanh(x)): the square forgotten",
           "backward-only", backward("tanh", lambda dy, x: dy * (1 - np.tanh(x))), G, "backward",
           ["dx"], named="derivative of the wrong quantity"),
    mutant("tanh-grad-negated", "tanh", "dx = dy ∘ (tanh²(x) − 1)", "backward-only",
           backward("tanh", lambda dy, x: dy * (np.tanh(x) ** 2 - 1)), G, "backward", ["dx"],
           named="constant factor", how=["factor:-1", "sign"]),
    mutant("tanh-from-sigmoid", "tanh", "tanh(x) = 2σ(x) − 1 (that is tanh(x/2))",
           "consistent-forward", autodiff("tanh", lambda x: 2 * torch.sigmoid(x) - 1), FG,
           "forward", ["y", "dx"], named="input scaled"),
    mutant("tanh-exp-formula", "tanh", "(e^x − e^−x)/(e^x + e^−x): inf/inf = nan at large |x|",
           "edge-only", autodiff("tanh", lambda x: (torch.exp(x) - torch.exp(-x)) / (
               torch.exp(x) + torch.exp(-x))), FG, "forward", ["y", "dx"], named="unstable",
           where=["large"], how=["nonfinite"]),
    mutant("tanh-one-minus-ratio", "tanh",
           "y = 1 − 2/(e^2x + 1) by autodiff: right values, a nan gradient at large x",
           "edge-only", autodiff("tanh", lambda x: 1 - 2 / (torch.exp(2 * x) + 1)), G, "backward",
           ["dx"], named="unstable", where=["large"], how=["nonfinite"]),
    mutant("tanh-sinh-over-cosh", "tanh",
           "forward sinh(x)/cosh(x) (nan beyond |x| ≈ 710) next to a correct backward",
           "edge-only", backward("tanh", lambda dy, x: dy * (1 - np.tanh(x) ** 2),
                                 forward=_sinh_over_cosh), F,
           "forward-only", ["y"],
           named="unstable", where=["large"], how=["nonfinite"]),
    mutant("tanh-clip-300", "tanh",
           "x clipped to ±300 before (e^2x − 1)/(e^2x + 1): safe in float64, nan in float32",
           "float32-only", autodiff("tanh", _clipped_tanh), FG, "forward", ["y", "dx"],
           named="unstable", where=["large"], how=["nonfinite"], dtype="float32"),
]


def _relu_grad(mask: str):
    return {"ge": lambda dy, x: dy * (x >= 0), "half": lambda dy, x: dy * ((x > 0) + 0.5 * (
        x == 0)), "none": lambda dy, x: dy.copy(), "lt": lambda dy, x: dy * (x < 0),
        "mask": lambda dy, x: (x > 0).astype(x.dtype)}[mask]


RELU = [
    mutant("relu-grad-one-at-zero", "relu", "dx = dy where x ≥ 0: relu'(0) = 1", "edge-only",
           backward("relu", _relu_grad("ge")), G, "backward", ["dx"], named="relu at zero",
           where=["x==0"]),
    mutant("relu-grad-half-at-zero", "relu", "relu'(0) = ½ (the average of both sides)",
           "edge-only", backward("relu", _relu_grad("half")), G, "backward", ["dx"],
           named="relu at zero", where=["x==0"]),
    mutant("relu-clamp", "relu", "clamp(x, min=0) by autodiff: its gradient at x = 0 is 1",
           "edge-only", autodiff("relu", lambda x: x.clamp(min=0)), G, "backward", ["dx"],
           named="relu at zero", where=["x==0"]),
    mutant("relu-grad-no-mask", "relu", "dx = dy: the mask x > 0 forgotten", "backward-only",
           backward("relu", _relu_grad("none")), G, "backward", ["dx"], named="mask left out"),
    mutant("relu-grad-mask-inverted", "relu", "dx = dy where x < 0", "backward-only",
           backward("relu", _relu_grad("lt")), G, "backward", ["dx"]),
    mutant("relu-grad-mask-only", "relu", "dx = (x > 0): the upstream dy never multiplied",
           "backward-only", backward("relu", _relu_grad("mask")), G, "backward", ["dx"],
           named="upstream ignored"),
    mutant("relu-leaky", "relu", "a leaky relu (slope 0.01 for x < 0)", "consistent-forward",
           autodiff("relu", lambda x: tF.leaky_relu(x, 0.01)), FG, "forward", ["y", "dx"],
           named="leaky relu"),
    mutant("relu6", "relu", "relu6: the output capped at 6", "consistent-forward",
           autodiff("relu", lambda x: tF.relu6(x)), FG, "forward", ["y", "dx"], named="clipped"),
    mutant("relu-flattened", "relu", "the output flattened to one axis, backward correct",
           "forward-only", backward("relu", lambda dy, x: dy * (x > 0),
                                    forward=lambda x: np.maximum(x, 0).reshape(-1)), F,
           "forward-only", ["y"], how=["shape"], named="shape"),
    mutant("relu-softplus", "relu", "softplus log(1 + eˣ) as the rectifier",
           "consistent-forward", autodiff("relu", tF.softplus), FG, "forward", ["y", "dx"]),
    mutant("relu-squared", "relu", "a squared relu, max(0, x)²", "consistent-forward",
           autodiff("relu", lambda x: torch.relu(x) ** 2), FG, "forward", ["y", "dx"]),
]

MUTANTS = (*STEP, *SIGMOID, *TANH, *RELU)
