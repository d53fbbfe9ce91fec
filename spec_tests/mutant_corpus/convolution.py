"""Mutants of the convolutions: conv2d and conv1d."""

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
    forward_only,
    gradient_of,
    in_float32,
    mutant,
    on_tf32,
    patched,
    replace_at,
)

Tensor = torch.Tensor


# ---------------------------------------------------------------- conv2d
def _pad_after(x: Tensor, w: Tensor, b: Tensor, s: Any, p: Any) -> Tensor:
    return tF.conv2d(tF.pad(x, (0, 2 * p[1], 0, 2 * p[0])), w, b, s)


def _stride_one_cropped(x: Tensor, w: Tensor, b: Tensor, s: Any, p: Any) -> Tensor:
    oh = (x.shape[2] + 2 * p[0] - w.shape[2]) // s[0] + 1
    ow = (x.shape[3] + 2 * p[1] - w.shape[3]) // s[1] + 1
    return tF.conv2d(x, w, b, 1, p)[:, :, :oh, :ow]


def _replicate_pad(x: Tensor, w: Tensor, b: Tensor, s: Any, p: Any) -> Tensor:
    return tF.conv2d(tF.pad(x, (p[1], p[1], p[0], p[0]), mode="replicate"), w, b, s)


def _subsample_first(x: Tensor, w: Tensor, b: Tensor, s: Any, p: Any) -> Tensor:
    return tF.conv2d(tF.pad(x, (p[1], p[1], p[0], p[0]))[:, :, ::s[0], ::s[1]], w, b)


def _last_output_row_col_dropped(x: Tensor, w: Tensor, b: Tensor, s: Any, p: Any) -> Tensor:
    """The backward loop `for i in range(OH − 1)`: the last output row and column send no
    gradient (the forward values are untouched)."""
    y = tF.conv2d(x, w, b, s, p)
    keep = torch.ones_like(y)
    keep[:, :, -1, :] = 0
    keep[:, :, :, -1] = 0
    return y * keep + (y * (1 - keep)).detach()


def _dw_first_image(grads: tuple[np.ndarray, ...], inputs: Any, attrs: Any, cots: Any
                    ) -> tuple[np.ndarray, ...]:
    x, w, b = (torch.as_tensor(v) for v in inputs)
    xs = x[:1].requires_grad_()
    ws = w.clone().requires_grad_()
    y = tF.conv2d(xs, ws, b, attrs["stride"], attrs["padding"])
    dw = torch.autograd.grad(y, ws, torch.as_tensor(cots[0][:1]))[0].numpy()
    return replace_at(grads, 1, dw)


def _dx_unflipped(grads: tuple[np.ndarray, ...], inputs: Any, attrs: Any, cots: Any
                  ) -> tuple[np.ndarray, ...]:
    """dx = the full correlation of dy with the kernel as it is (not rotated by 180°)."""
    x, w, b = (torch.as_tensor(v) for v in inputs)
    xs = x.clone().requires_grad_()
    y = tF.conv2d(xs, w.flip(2, 3), b, attrs["stride"], attrs["padding"])
    dx = torch.autograd.grad(y, xs, torch.as_tensor(cots[0]))[0].numpy()
    return replace_at(grads, 0, dx)


def _dw_flipped(grads: tuple[np.ndarray, ...], *_: Any) -> tuple[np.ndarray, ...]:
    return replace_at(grads, 1, grads[1][:, :, ::-1, ::-1].copy())


CONV2D = [
    mutant("conv2d-flipped-kernel", "conv2d", "true convolution: the kernel rotated by 180°",
           "consistent-forward", autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(
               x, w.flip(2, 3), b, s, p)), FG, "forward", ["y", "dx", "dw"],
           named="flipped kernel"),
    mutant("conv2d-flipped-kernel-forward", "conv2d",
           "forward with the kernel rotated by 180°, next to a correct backward", "forward-only",
           forward_only("conv2d", lambda x, w, b, s, p: tF.conv2d(x, w.flip(2, 3), b, s, p)), F,
           "forward-only", ["y"], named="flipped kernel"),
    mutant("conv2d-pad-after-only", "conv2d", "2P zeros after the end of each axis, none before",
           "geometry", autodiff("conv2d", _pad_after), FG, "forward", ["y", "dx", "dw"],
           named="one-sided padding"),
    mutant("conv2d-padding-ignored", "conv2d", "the padding argument never used", "geometry",
           autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(x, w, b, s)), FG, "forward",
           ["y"], named="one-sided padding", how=["shape"]),
    mutant("conv2d-stride-ignored", "conv2d",
           "stride 1 whatever S (the output cropped to the expected size)", "geometry",
           autodiff("conv2d", _stride_one_cropped), FG, "forward", ["y", "dx", "dw"],
           named="stride ignored"),
    mutant("conv2d-stride-axes-swapped", "conv2d", "the stride read as (SW, SH)", "geometry",
           autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(x, w, b, s[::-1], p)), FG,
           "forward", ["y"], named="axes swapped"),
    mutant("conv2d-padding-axes-swapped", "conv2d", "the padding read as (PW, PH)", "geometry",
           autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(x, w, b, s, p[::-1])), FG,
           "forward", ["y"], named="axes swapped"),
    mutant("conv2d-output-one-short", "conv2d",
           "OH = (H + 2P − F)/S, the +1 forgotten: the last output row and column missing",
           "geometry", autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(
               x, w, b, s, p)[:, :, :-1, :-1]), FG, "forward", ["y"],
           named="output size", how=["shape"]),
    mutant("conv2d-replicate-padding", "conv2d", "the border replicated instead of zero padding",
           "geometry", autodiff("conv2d", _replicate_pad), FG, "forward", ["y", "dx", "dw"],
           named="padding mode"),                        # (named since: blind review #8, m08)
    mutant("conv2d-subsample-then-correlate", "conv2d",
           "the padded input subsampled by S first, then correlated with stride 1", "geometry",
           autodiff("conv2d", _subsample_first), FG, "forward", ["y"]),
    mutant("conv2d-kernel-layout", "conv2d", "the kernel read as [C, K, FH, FW]", "geometry",
           autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(
               x, w.transpose(0, 1).reshape(w.shape), b, s, p)), FG, "forward",
           ["y", "dx", "dw"]),
    mutant("conv2d-bias-ignored", "conv2d", "the bias never added", "consistent-forward",
           autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(x, w, None, s, p) + 0 * b.sum()),
           FG, "forward", ["y", "db"], named="bias ignored"),
    mutant("conv2d-bias-last-axis", "conv2d",
           "y + b: the bias broadcast along the last axis, not per kernel (b[:, None, None])",
           "consistent-forward", autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(
               x, w, None, s, p) + b), FG, "forward", ["y"]),
    mutant("conv2d-db-batch-mean", "conv2d", "db averaged over the batch, not summed",
           "backward-only", patched("conv2d", lambda g, i, a, c: replace_at(
               g, 2, g[2] / len(i[0]))), G, "backward", ["db"], named="constant factor"),
    mutant("conv2d-dw-first-image", "conv2d",
           "dw accumulated over the first image of the batch only", "backward-only",
           patched("conv2d", _dw_first_image), G, "backward", ["dw"], named="one example"),
    mutant("conv2d-dx-kernel-not-rotated", "conv2d",
           "dx: dy correlated with the kernel as is, not rotated by 180°", "backward-only",
           patched("conv2d", _dx_unflipped), G, "backward", ["dx"], named="dx kernel not rotated"),
    mutant("conv2d-dw-flipped", "conv2d", "dw returned rotated by 180°", "backward-only",
           patched("conv2d", _dw_flipped), G, "backward", ["dw"]),
    mutant("conv2d-backward-loop-one-short", "conv2d",
           "backward loops over range(OH − 1) × range(OW − 1): the last output row and column "
           "send no gradient", "backward-only", gradient_of(
               "conv2d", _last_output_row_col_dropped), G, "backward", ["dx", "dw", "db"],
           named="last window skipped"),
    mutant("conv2d-squeezed", "conv2d", "y.squeeze(): one image or one kernel loses its axis",
           "edge-only", autodiff("conv2d", lambda x, w, b, s, p: tF.conv2d(
               x, w, b, s, p).squeeze()), FG, "forward", ["y"],
           how=["shape"], named="shape"),
    mutant("conv2d-float32", "conv2d", "computed in float32 in a float64 run", "float32-only",
           autodiff("conv2d", in_float32(tF.conv2d)), FG, "both", ["y", "dx", "dw", "db"],
           named="float32 rounding"),
    mutant("conv2d-tf32", "conv2d", "a float32 run with TF32 convolutions", "float32-only",
           autodiff("conv2d", on_tf32(tF.conv2d)), FG, "both", ["y", "dx", "dw"],
           dtype="float32"),
]


# ---------------------------------------------------------------- conv1d
def _circular(x: Tensor, w: Tensor, b: Tensor, s: int, p: int) -> Tensor:
    return tF.conv1d(tF.pad(x, (p, p), mode="circular"), w, b, s)


CONV1D = [
    mutant("conv1d-reversed-kernel", "conv1d", "true convolution: the kernel reversed",
           "consistent-forward", autodiff("conv1d", lambda x, w, b, s, p: tF.conv1d(
               x, w.flip(2), b, s, p)), FG, "forward", ["y", "dx", "dw"],
           named="flipped kernel"),
    mutant("conv1d-padding-ignored", "conv1d", "no padding whatever P", "geometry",
           autodiff("conv1d", lambda x, w, b, s, p: tF.conv1d(x, w, b, s)), FG, "forward",
           ["y"], named="one-sided padding", how=["shape"]),
    mutant("conv1d-pad-before-only", "conv1d", "2P zeros before the sequence, none after",
           "geometry", autodiff("conv1d", lambda x, w, b, s, p: tF.conv1d(
               tF.pad(x, (2 * p, 0)), w, b, s)), FG, "forward", ["y", "dx", "dw"],
           named="one-sided padding"),
    mutant("conv1d-stride-ignored", "conv1d", "stride 1 whatever S", "geometry",
           autodiff("conv1d", lambda x, w, b, s, p: tF.conv1d(x, w, b, 1, p)), FG, "forward",
           ["y"], named="stride ignored", how=["shape"]),
    mutant("conv1d-output-one-short", "conv1d", "OL = (L + 2P − F)/S: the last position missing",
           "geometry", autodiff("conv1d", lambda x, w, b, s, p: tF.conv1d(
               x, w, b, s, p)[:, :, :-1]), FG, "forward", ["y"],
           named="output size", how=["shape"]),
    mutant("conv1d-circular-padding", "conv1d", "the sequence padded circularly, not with zeros",
           "geometry", autodiff("conv1d", _circular), FG, "forward", ["y", "dx", "dw"]),
    mutant("conv1d-channels-last", "conv1d", "x read as [N, L, C] (a channels-last layout)",
           "geometry", autodiff("conv1d", lambda x, w, b, s, p: tF.conv1d(
               x.transpose(1, 2).reshape(x.shape), w, b, s, p)), FG, "forward",
           ["y", "dx", "dw"]),
    mutant("conv1d-bias-ignored", "conv1d", "the bias never added", "consistent-forward",
           autodiff("conv1d", lambda x, w, b, s, p: tF.conv1d(x, w, None, s, p) + 0 * b.sum()),
           FG, "forward", ["y", "db"], named="bias ignored"),
    mutant("conv1d-db-stub", "conv1d", "db never filled in: zeros", "backward-only",
           patched("conv1d", lambda g, i, a, c: replace_at(g, 2, np.zeros_like(g[2]))), G,
           "backward", ["db"], named="all zeros", where=["everywhere"], how=["zeros"]),
    mutant("conv1d-db-first-position", "conv1d",
           "db summed over the batch at the first position only", "backward-only",
           patched("conv1d", lambda g, i, a, c: replace_at(g, 2, c[0][:, :, 0].sum(0))), G,
           "backward", ["db"]),
    mutant("conv1d-tf32", "conv1d", "a float32 run with TF32 convolutions", "float32-only",
           autodiff("conv1d", on_tf32(tF.conv1d)), FG, "both", ["y", "dx", "dw"],
           dtype="float32"),
]

MUTANTS = (*CONV2D, *CONV1D)
