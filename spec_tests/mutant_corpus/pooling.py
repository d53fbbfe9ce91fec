"""Mutants of pooling: max_pool2d, avg_pool2d, lp_pool2d."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as tF

from spec_tests.mutant_corpus._make import (
    FG,
    F,
    G,
    autodiff,
    backward,
    forward_only,
    mutant,
)

Tensor = torch.Tensor


def _windows(x: Tensor, k: Any, s: Any) -> Tensor:
    return x.unfold(2, k[0], s[0]).unfold(3, k[1], s[1])      # [N, C, OH, OW, FH, FW]


def _np_windows(x: np.ndarray, k: Any, s: Any) -> np.ndarray:
    return _windows(torch.as_tensor(x), k, s).numpy()


def _scatter(dx: np.ndarray, k: Any, s: Any, per_window: np.ndarray, add: bool = True
             ) -> np.ndarray:
    """Each window's [FH, FW] block of ``per_window`` [N, C, OH, OW, FH, FW] added (or, with
    ``add=False``, assigned as a loop over windows would) into dx at the window's place."""
    _, _, oh, ow, fh, fw = per_window.shape
    for i in range(oh):
        for j in range(ow):
            rows, cols = slice(i * s[0], i * s[0] + fh), slice(j * s[1], j * s[1] + fw)
            if add:
                dx[:, :, rows, cols] += per_window[:, :, i, j]
            else:
                dx[:, :, rows, cols] = per_window[:, :, i, j]
    return dx


def _max_backward(rule: str, add: bool = True):
    """A hand-written max-pool backward; ``rule`` says where each window's dy goes: "first"
    (the contract), "all" tied maxima, "top-left" element, "first-dy-not-added"."""
    def grad(dy: np.ndarray, x: np.ndarray, k: Any, s: Any) -> np.ndarray:
        win = _np_windows(x, k, s)
        flat = win.reshape(*win.shape[:4], -1)
        if rule == "all":
            mask = flat == flat.max(axis=-1, keepdims=True)
        elif rule == "top-left":
            mask = np.zeros_like(flat, dtype=bool)
            mask[..., 0] = True
        else:
            mask = np.zeros_like(flat, dtype=bool)
            np.put_along_axis(mask, flat.argmax(axis=-1)[..., None], True, axis=-1)
        share = (mask * dy[..., None]).reshape(win.shape)
        return _scatter(np.zeros_like(x), k, s, share, add)
    return grad


def _avg_backward(divide: bool = True, add: bool = True):
    def grad(dy: np.ndarray, x: np.ndarray, k: Any, s: Any) -> np.ndarray:
        n, c, oh, ow = dy.shape
        each = dy / (k[0] * k[1]) if divide else dy
        share = np.broadcast_to(each[..., None, None], (n, c, oh, ow, k[0], k[1]))
        return _scatter(np.zeros_like(x), k, s, share, add)
    return grad


def _lp_backward(kind: str):
    def grad(dy: np.ndarray, x: np.ndarray, k: Any, s: Any) -> np.ndarray:
        win = _np_windows(x, k, s)
        y = np.sqrt((win ** 2).sum(axis=(-2, -1)))[..., None, None]
        d = dy[..., None, None]
        share = {"no-divide": d * win, "abs": d * np.abs(win) / y,
                 "sqrt-only": d / (2 * y) + 0 * win, "y-squared": d * win / y ** 2}[kind]
        return _scatter(np.zeros_like(x), k, s, np.broadcast_to(share, win.shape).copy())
    return grad


def _drop_last_window(pool: Any):
    return lambda x, k, s: pool(x, k, s)[:, :, :-1, :-1]


def _avg_pool_backward_to_the_corner(dy: np.ndarray, x: np.ndarray, kernel_size: Any,
                                     stride: Any) -> np.ndarray:
    """Each window's share dy/(FH·FW) sent to its top-left element only."""
    (fh, fw), (sh, sw) = kernel_size, stride
    oh, ow = dy.shape[2:]
    dx = np.zeros_like(x)
    dx[:, :, :sh * oh:sh, :sw * ow:sw] += dy / (fh * fw)
    return dx


MAX_POOL = [
    mutant("maxpool-largest-magnitude", "max_pool2d",
           "each window's value of largest magnitude (max |x|, its sign kept), not its maximum",
           "consistent-forward", autodiff("max_pool2d", lambda x, k, s: _windows(
               x, k, s).flatten(-2).gather(-1, _windows(x, k, s).flatten(-2).abs().argmax(
                   -1, keepdim=True)).squeeze(-1)), FG, "forward", ["y", "dx"]),
    mutant("maxpool-ties-split", "max_pool2d",
           "amax over each window: the gradient shared between tied maxima", "edge-only",
           autodiff("max_pool2d", lambda x, k, s: _windows(x, k, s).amax(dim=(-2, -1))), G,
           "backward", ["dx"], named="tie rule", where=["ties"]),
    mutant("maxpool-ties-last", "max_pool2d", "the gradient sent to the last tied maximum",
           "edge-only", autodiff("max_pool2d", lambda x, k, s: _windows(x, k, s).flip(
               -2, -1).flatten(-2).max(dim=-1).values), G, "backward", ["dx"],
           named="tie rule", where=["ties"]),
    mutant("maxpool-ties-all", "max_pool2d",
           "the whole dy sent to every element equal to the window's max (x == max mask)",
           "edge-only", backward("max_pool2d", _max_backward("all")), G, "backward", ["dx"],
           named="tie rule", where=["ties"]),
    mutant("maxpool-overlap-assigned", "max_pool2d",
           "dx[window] = share (assigned in the window loop, not added): overlapping windows "
           "overwrite each other", "backward-only",
           backward("max_pool2d", _max_backward("first", add=False)), G, "backward", ["dx"]),
    mutant("maxpool-grad-top-left", "max_pool2d",
           "dy sent to the window's top-left element, not its maximum", "backward-only",
           backward("max_pool2d", _max_backward("top-left")), G, "backward", ["dx"]),
    mutant("maxpool-stride-is-window", "max_pool2d", "the stride ignored: windows never overlap",
           "geometry", autodiff("max_pool2d", lambda x, k, s: tF.max_pool2d(x, k)), FG,
           "forward", ["y"], named="stride ignored"),
    mutant("maxpool-window-axes-swapped", "max_pool2d", "the window read as (FW, FH)",
           "geometry", autodiff("max_pool2d", lambda x, k, s: tF.max_pool2d(x, k[::-1], s)),
           FG, "forward", ["y"], named="axes swapped"),
    mutant("maxpool-output-one-short", "max_pool2d",
           "OH = (H − FH)/SH: the last row and column of windows missing", "geometry",
           autodiff("max_pool2d", _drop_last_window(tF.max_pool2d)), FG, "forward", ["y"],
           named="output size", how=["shape"]),
    mutant("maxpool-squeezed", "max_pool2d", "y.squeeze(): one image, one channel or a 1×1 "
           "output loses its axes", "edge-only", autodiff("max_pool2d", lambda x, k, s: (
               tF.max_pool2d(x, k, s).squeeze())), FG, "forward", ["y"],
           how=["shape"], named="shape"),
    mutant("maxpool-is-average", "max_pool2d", "the window's mean in place of its max",
           "consistent-forward", autodiff("max_pool2d", tF.avg_pool2d), FG, "forward",
           ["y", "dx"]),
    mutant("maxpool-of-abs", "max_pool2d", "the max of |x| over the window (the sign dropped)",
           "consistent-forward", autodiff("max_pool2d", lambda x, k, s: tF.max_pool2d(
               x.abs(), k, s)), FG, "forward", ["y", "dx"]),
    mutant("maxpool-min", "max_pool2d", "min pooling", "consistent-forward",
           autodiff("max_pool2d", lambda x, k, s: -tF.max_pool2d(-x, k, s)), FG, "forward",
           ["y", "dx"]),
]

AVG_POOL = [
    mutant("avgpool-not-divided", "avg_pool2d", "the window sum, not divided by FH·FW",
           "consistent-forward", autodiff("avg_pool2d", lambda x, k, s: tF.avg_pool2d(
               x, k, s) * (k[0] * k[1])), FG, "forward", ["y", "dx"],
           named="average not divided"),
    mutant("avgpool-not-divided-forward", "avg_pool2d",
           "forward returns the window sum, next to a correct backward", "forward-only",
           forward_only("avg_pool2d", lambda x, k, s: tF.avg_pool2d(x, k, s) * (k[0] * k[1])),
           F, "forward-only", ["y"], named="average not divided"),
    mutant("avgpool-divided-by-fh", "avg_pool2d", "divided by FH only, not FH·FW",
           "consistent-forward", autodiff("avg_pool2d", lambda x, k, s: tF.avg_pool2d(
               x, k, s) * k[1]), FG, "forward", ["y", "dx"], named="average not divided"),
    mutant("avgpool-window-axes-swapped", "avg_pool2d", "the window read as (FW, FH)",
           "geometry", autodiff("avg_pool2d", lambda x, k, s: tF.avg_pool2d(x, k[::-1], s)), FG,
           "forward", ["y"], named="axes swapped"),
    mutant("avgpool-stride-axes-swapped", "avg_pool2d", "the stride read as (SW, SH)",
           "geometry", autodiff("avg_pool2d", lambda x, k, s: tF.avg_pool2d(x, k, s[::-1])), FG,
           "forward", ["y"], named="axes swapped"),
    mutant("avgpool-stride-is-window", "avg_pool2d", "the stride ignored (stride = window)",
           "geometry", autodiff("avg_pool2d", lambda x, k, s: tF.avg_pool2d(x, k)), FG,
           "forward", ["y"], named="stride ignored"),
    mutant("avgpool-output-one-short", "avg_pool2d", "the last row and column of windows missing",
           "geometry", autodiff("avg_pool2d", _drop_last_window(tF.avg_pool2d)), FG, "forward",
           ["y"], named="output size", how=["shape"]),
    mutant("avgpool-grad-not-divided", "avg_pool2d",
           "backward: each element of a window gets dy, not dy/(FH·FW)", "backward-only",
           backward("avg_pool2d", _avg_backward(divide=False)), G, "backward", ["dx"],
           named="average share"),
    mutant("avgpool-overlap-assigned", "avg_pool2d",
           "backward assigns each window's share (dx[window] = dy/(FH·FW)): overlaps lost",
           "backward-only", backward("avg_pool2d", _avg_backward(add=False)), G, "backward",
           ["dx"], named="windows assigned"),
    mutant("avgpool-rms", "avg_pool2d", "√(mean x²) of each window (RMS) in place of the mean",
           "consistent-forward", autodiff("avg_pool2d", lambda x, k, s: tF.avg_pool2d(
               x * x, k, s).sqrt()), FG, "forward", ["y", "dx"]),
    mutant("avgpool-backward-to-the-corner", "avg_pool2d", "each window's share dy/(FH·FW) sent "
           "to its top-left element only", "backward-only",
           backward("avg_pool2d", _avg_pool_backward_to_the_corner), G, "backward", ["dx"]),
]

LP_POOL = [
    mutant("lppool-missing-sqrt", "lp_pool2d", "Σ x² of each window: the square root forgotten",
           "consistent-forward", autodiff("lp_pool2d", lambda x, k, s: tF.lp_pool2d(
               x, 2.0, k, s) ** 2), FG, "forward", ["y", "dx"], named="missing sqrt"),
    mutant("lppool-l1", "lp_pool2d", "Σ |x| of each window (p = 1)", "consistent-forward",
           autodiff("lp_pool2d", lambda x, k, s: tF.avg_pool2d(x.abs(), k, s) * (k[0] * k[1])),
           FG, "forward", ["y", "dx"]),
    mutant("lppool-rms", "lp_pool2d", "√(mean x²): the window sum divided by FH·FW",
           "consistent-forward", autodiff("lp_pool2d", lambda x, k, s: tF.avg_pool2d(
               x * x, k, s).sqrt()), FG, "forward", ["y", "dx"], named="constant factor"),
    mutant("lppool-p3", "lp_pool2d", "p = 3 instead of 2", "consistent-forward",
           autodiff("lp_pool2d", lambda x, k, s: (tF.avg_pool2d(x.abs() ** 3, k, s) * (
               k[0] * k[1])) ** (1 / 3)), FG, "forward", ["y", "dx"]),
    mutant("lppool-window-axes-swapped", "lp_pool2d", "the window read as (FW, FH)", "geometry",
           autodiff("lp_pool2d", lambda x, k, s: tF.lp_pool2d(x, 2.0, k[::-1], s)), FG,
           "forward", ["y"], named="axes swapped"),
    mutant("lppool-stride-is-window", "lp_pool2d", "the stride ignored (stride = window)",
           "geometry", autodiff("lp_pool2d", lambda x, k, s: tF.lp_pool2d(x, 2.0, k)), FG,
           "forward", ["y"], named="stride ignored"),
    mutant("lppool-grad-no-divide", "lp_pool2d", "backward dx = dy · x (the 1/y forgotten)",
           "backward-only", backward("lp_pool2d", _lp_backward("no-divide")), G, "backward",
           ["dx"]),
    mutant("lppool-grad-abs", "lp_pool2d", "backward dx = dy · |x| / y: the sign of x lost",
           "backward-only", backward("lp_pool2d", _lp_backward("abs")), G, "backward", ["dx"]),
    mutant("lppool-grad-sqrt-only", "lp_pool2d",
           "backward dx = dy / (2y): the derivative of the square root, the chain through x² "
           "forgotten", "backward-only", backward("lp_pool2d", _lp_backward("sqrt-only")), G,
           "backward", ["dx"]),
    mutant("lppool-grad-over-y-squared", "lp_pool2d", "backward dx = dy · x / y²",
           "backward-only", backward("lp_pool2d", _lp_backward("y-squared")), G, "backward",
           ["dx"]),
]

MUTANTS = (*MAX_POOL, *AVG_POOL, *LP_POOL)
