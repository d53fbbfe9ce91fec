"""Mutants of linear: y = x wᵀ + b."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as tF

from spec_tests.mutant_corpus._make import (
    FG,
    F,
    G,
    autodiff,
    backward,
    in_float32,
    mutant,
    on_tf32,
)


def _grads(dy: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    return dy @ w, dy.T @ x, dy.sum(axis=0)                      # dx, dw, db


def _half_matmul(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if x.dtype != torch.float32:
        return tF.linear(x, w, b)
    return tF.linear(x.half(), w.half(), b.half()).float()       # float16 matmul, float32 out


MUTANTS = [
    mutant("linear-weight-transposed", "linear", "y = x w + b: w used as [D, M]",
           "consistent-forward", autodiff("linear", lambda x, w, b: tF.linear(x, w.T, b)), FG,
           "forward", ["y"], named="transposed weight"),
    mutant("linear-bias-twice", "linear", "the bias added twice (once in the layer, once after)",
           "consistent-forward", autodiff("linear", lambda x, w, b: tF.linear(x, w, b) + b), FG,
           "forward", ["y", "db"], how=(), named="bias twice"),
    mutant("linear-bias-ignored", "linear", "y = x wᵀ: the bias left out", "consistent-forward",
           autodiff("linear", lambda x, w, b: x @ w.T + 0 * b), FG, "forward", ["y", "db"],
           named="bias ignored"),
    mutant("linear-bias-ignored-forward", "linear",
           "forward x wᵀ without the bias, next to a correct hand-written backward",
           "forward-only", backward("linear", lambda dy, x, w, b: _grads(dy, x, w),
                                    forward=lambda x, w, b: x @ w.T), F, "forward-only", ["y"],
           named="bias ignored"),
    mutant("linear-relu-fused", "linear", "the layer applies relu to its output",
           "consistent-forward", autodiff("linear", lambda x, w, b: torch.relu(
               tF.linear(x, w, b))), FG, "forward", ["y", "dx", "dw", "db"]),
    mutant("linear-db-mean", "linear", "db = mean of dy over the batch, not the sum",
           "backward-only", backward("linear", lambda dy, x, w, b: (
               dy @ w, dy.T @ x, dy.mean(axis=0))), G, "backward", ["db"],
           named="constant factor"),
    mutant("linear-db-wrong-axis", "linear", "db = dy.sum(axis=1): summed over the outputs",
           "backward-only", backward("linear", lambda dy, x, w, b: (
               dy @ w, dy.T @ x, dy.sum(axis=1))), G, "backward", ["db"], how=["shape"],
           named="shape"),                               # (named since: blind review #9 m41)
    mutant("linear-db-first-example", "linear", "db = dy[0]: the sum over the batch forgotten",
           "backward-only", backward("linear", lambda dy, x, w, b: (dy @ w, dy.T @ x, dy[0])),
           G, "backward", ["db"], named="one example"),
    mutant("linear-dw-transposed", "linear", "dw = xᵀ dy, [D, M] rather than [M, D]",
           "backward-only", backward("linear", lambda dy, x, w, b: (
               dy @ w, x.T @ dy, dy.sum(axis=0))), G, "backward", ["dw"],
           named="transposed weight"),
    mutant("linear-dw-averaged", "linear", "dw = dyᵀ x / N, as if the loss were a batch mean",
           "backward-only", backward("linear", lambda dy, x, w, b: (
               dy @ w, dy.T @ x / len(x), dy.sum(axis=0))), G, "backward", ["dw"],
           named="constant factor"),
    mutant("linear-gradients-swapped", "linear", "returns (dw, dx, db)", "backward-only",
           backward("linear", lambda dy, x, w, b: (dy.T @ x, dy @ w, dy.sum(axis=0))), G,
           "backward", ["dx", "dw"], named="wrong argument"),
    mutant("linear-dx-stub", "linear", "dx never filled in: zeros", "backward-only",
           backward("linear", lambda dy, x, w, b: (np.zeros_like(x), dy.T @ x, dy.sum(0))), G,
           "backward", ["dx"], named="all zeros", where=["everywhere"], how=["zeros"]),
    mutant("linear-dx-from-stale-weight", "linear",
           "dx = dy w_old with w_old = w after a step of SGD (w − 0.1·dw), a stale variable",
           "backward-only", backward("linear", lambda dy, x, w, b: (
               dy @ (w - 0.1 * dy.T @ x), dy.T @ x, dy.sum(0))), G, "backward", ["dx"]),
    mutant("linear-squeezed", "linear", "y.squeeze(): a batch of one loses its axes",
           "edge-only", autodiff("linear", lambda x, w, b: tF.linear(x, w, b).squeeze()), FG,
           "forward", ["y"], how=["shape"], named="shape"),
    mutant("linear-float32", "linear", "computed in float32 in a float64 run", "float32-only",
           autodiff("linear", in_float32(tF.linear)), FG, "both", ["y", "dx", "dw", "db"],
           named="float32 rounding"),
    mutant("linear-tf32", "linear",
           "a float32 run with TF32 matmuls (inputs rounded to a 10-bit mantissa)",
           "float32-only", autodiff("linear", on_tf32(tF.linear)), FG, "both",
           ["y", "dx", "dw"], dtype="float32"),
    mutant("linear-float16-matmul", "linear",
           "a float32 run with the matmul in float16 (half-precision autocast)",
           "float32-only", autodiff("linear", _half_matmul), FG, "both", ["y", "dx", "dw", "db"],
           dtype="float32"),
]
