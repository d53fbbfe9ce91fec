"""Mutants from the blind reviews: mistakes that reviewers who had not read the diagnosis wrote
into their own backends (the unmerged branches h18-mutants … h25-mutants keep their originals),
re-expressed here in torch and NumPy like the rest of the corpus: no reading named them when
they were added, which is what keeps the corpus honest about the mistakes nobody has catalogued.
Those a reading names since say which (``named``)."""

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
    gru_steps,
    mutant,
    patched,
    tensor,
)
from spec_tests.mutant_corpus.recurrent import LSTM_GRADS, _np_rnn_backend

Tensor = torch.Tensor
Arrays = tuple[np.ndarray, ...]


def _softmax(x: np.ndarray) -> np.ndarray:
    return torch.softmax(torch.as_tensor(x), dim=-1).numpy()


def _softmax_eps(x: Tensor) -> Tensor:
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)
    return e / (e.sum(dim=-1, keepdim=True) + 1e-8)          # an ε against a zero sum


def _margin_backward_without_delta(dJ: np.ndarray, s: np.ndarray, s_c: np.ndarray,
                                   delta: float) -> Arrays:
    active = (s_c - s > 0).astype(dJ.dtype)                   # Δ + s_c − s > 0 belongs
    return -dJ * active, dJ * active


def _avg_pool_backward_kron(dy: np.ndarray, x: np.ndarray, kernel_size: Any,
                            stride: Any) -> np.ndarray:
    """Each output's share spread over an S×S block (np.kron by the stride), not its window."""
    (fh, fw), (sh, sw) = kernel_size, stride
    up = np.kron(dy, np.ones((1, 1, sh, sw), dtype=dy.dtype)) / (fh * fw)
    dx = np.zeros_like(x)
    h, w = min(up.shape[2], x.shape[2]), min(up.shape[3], x.shape[3])
    dx[:, :, :h, :w] = up[:, :, :h, :w]
    return dx


def _lstm_h_from_previous_cell(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor,
                               b_ih: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """h_t = o ∘ tanh(c_{t−1}): the output read from the cell before its update."""
    outs = []
    for x_t in x:
        ai, af, ag, ao = torch.chunk(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, dim=1)
        previous = c
        c = torch.sigmoid(af) * c + torch.sigmoid(ai) * torch.tanh(ag)
        h = torch.sigmoid(ao) * torch.tanh(previous)
        outs.append(h)
    return torch.stack(outs), h, c


def _candidate_gradient_without_r(n_i: Tensor, h: Tensor, w_hn: Tensor, b_hn: Tensor,
                                  r: Tensor) -> Tensor:
    """The right n, but its gradient into W_hn h + b_hn taken without the factor r."""
    n_h = h @ w_hn.T + b_hn
    return torch.tanh(n_i + r * n_h.detach() + (n_h - n_h.detach()))


def _conv2d_dw_at_stride_one(grads: Arrays, inputs: Arrays, attrs: dict[str, Any],
                             cots: Arrays) -> Arrays:
    """dw read from the padded input at stride 1 (a line from before strides), dx and db
    right."""
    dx, _, db = grads
    x, w = np.asarray(inputs[0]), np.asarray(inputs[1])
    dy = np.asarray(cots[0])
    (ph, pw), (oh, ow) = attrs["padding"], dy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dw = np.zeros_like(w)
    for p in range(w.shape[2]):
        for q in range(w.shape[3]):
            dw[:, :, p, q] = np.einsum("nkij,ncij->kc", dy, xp[:, :, p:p + oh, q:q + ow])
    return dx, dw, db


def _conv1d_db_over_channels(grads: Arrays, inputs: Arrays, attrs: dict[str, Any],
                             cots: Arrays) -> Arrays:
    dx, dw, _ = grads
    return dx, dw, np.asarray(cots[0]).sum(axis=(0, 1))      # (0, 2) belongs: [K]


def _lstm_do_from_previous_cell(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor,
                                b_ih: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The right LSTM, but the output gate's gradient taken as dh ∘ tanh(c_{t−1}) where
    dh ∘ tanh(c_t) belongs (blind reviews #6 m45, #7 m44)."""
    outs = []
    for x_t in x:
        ai, af, ag, ao = torch.chunk(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, dim=1)
        o, previous = torch.sigmoid(ao), c
        c = torch.sigmoid(af) * c + torch.sigmoid(ai) * torch.tanh(ag)
        h = o.detach() * torch.tanh(c) + (o - o.detach()) * torch.tanh(previous).detach()
        outs.append(h)
    return torch.stack(outs), h, c


def _reset_gradient_from_n(n_i: Tensor, h: Tensor, w_hn: Tensor, b_hn: Tensor,
                           r: Tensor) -> Tensor:
    """The right n = tanh(n_i + r ∘ n_h), but ∂L/∂r taken as ∂L/∂a_n ∘ n where ∂L/∂a_n ∘ n_h
    belongs (blind review #6 m51)."""
    n_h = h @ w_hn.T + b_hn
    n = torch.tanh(n_i + r * n_h).detach()
    return torch.tanh(n_i + r.detach() * n_h + (r - r.detach()) * n)


def _update_gradient_negated(z: Tensor, n: Tensor, h: Tensor) -> Tensor:
    """h' = (1 − z) ∘ n + z ∘ h, its ∂L/∂z negated: dh ∘ (n − h) where dh ∘ (h − n) belongs
    (blind review #7 m49)."""
    z = 2 * z.detach() - z                                   # the value z, the slope −1
    return (1 - z) * n + z * h


def _conv2d_dx_crop_pads_swapped(grads: Arrays, inputs: Arrays, attrs: dict[str, Any],
                                 cots: Arrays) -> Arrays:
    """dx cut from the padded input's gradient as [PW:PW + H, PH:PH + W] (blind review #6
    m24); dw and db right."""
    _, dw, db = grads
    x, w = tensor(inputs[0]), tensor(inputs[1])
    (ph, pw), (h, wd) = attrs["padding"], inputs[0].shape[2:]
    xp = tF.pad(x, (pw, pw, ph, ph)).requires_grad_(True)
    y = tF.conv2d(xp, w, stride=tuple(attrs["stride"]))
    (dxp,) = torch.autograd.grad(y, xp, tensor(cots[0]))
    return dxp[:, :, pw:pw + h, ph:ph + wd].numpy(), dw, db


def _conv1d_backward_without_last_tap(grads: Arrays, inputs: Arrays, attrs: dict[str, Any],
                                      cots: Arrays) -> Arrays:
    """The backward's loop over the kernel's taps as range(F − 1): the last tap's dw stays 0
    and dx misses its part (blind review #6 m27); db right."""
    x = tensor(inputs[0], grad=True)
    w = tensor(inputs[1]).clone()
    w[:, :, -1] = 0.0
    y = tF.conv1d(x, w, stride=int(attrs["stride"]), padding=int(attrs["padding"]))
    (dx,) = torch.autograd.grad(y, x, tensor(cots[0]))
    dw = grads[1].copy()
    dw[:, :, -1] = 0.0
    return dx.numpy(), dw, grads[2]


def _embedding_backward_dy_reshaped(dy: np.ndarray, ids: np.ndarray, E: np.ndarray
                                    ) -> np.ndarray:
    """dy flattened as dy.reshape(D, −1).T, a reshape where dy.reshape(−1, D) belongs (blind
    review #6 m56)."""
    dE = np.zeros_like(E)
    np.add.at(dE, ids.reshape(-1), dy.reshape(E.shape[1], -1).T)
    return dE


def _reset_gradient_without_b_hn(n_i: Tensor, h: Tensor, w_hn: Tensor, b_hn: Tensor,
                                  r: Tensor) -> Tensor:
    """The right n = tanh(n_i + r ∘ n_h), but ∂L/∂r taken against W_hn h without b_hn (blind
    review #8 m36)."""
    n_h = h @ w_hn.T + b_hn
    return torch.tanh(n_i + r.detach() * n_h + (r - r.detach()) * (h @ w_hn.T).detach())


def _l2_pool_without_last_column(x: Tensor, k: Any, s: Any) -> Tensor:
    """Each window's last column left out of Σ x² (a loop over range(FW − 1); blind review #8
    m20)."""
    (fh, fw), (sh, sw) = k, s
    trimmed = tF.avg_pool2d(x * x, (fh, fw - 1), (sh, sw)) * (fh * (fw - 1))
    out_w = (x.shape[3] - fw) // sw + 1
    return torch.sqrt(trimmed[..., :out_w])


def _avg_pool_window_sizes_swapped(x: Tensor, k: Any, s: Any) -> Tensor:
    """Each window's mean over x[i·SH : i·SH + FW, j·SW : j·SW + FH], the window's sizes
    exchanged in the slice (clipped at the edge, as NumPy slices are; blind review #8 m62)."""
    (fh, fw), (sh, sw) = k, s
    oh, ow = (x.shape[2] - fh) // sh + 1, (x.shape[3] - fw) // sw + 1
    rows = [torch.stack([x[:, :, i * sh:i * sh + fw, j * sw:j * sw + fh].mean(dim=(2, 3))
                         for j in range(ow)], dim=-1) for i in range(oh)]
    return torch.stack(rows, dim=-2)


def _conv2d_offset_times_stride(x: Tensor, w: Tensor, b: Tensor, s: Any, p: Any) -> Tensor:
    """Window (i, j) reading x at (i + p·SH, j + q·SW) where (i·SH + p, j·SW + q) belongs: the
    stride multiplying the kernel's offset (blind review #8 m01). Reads past the end raise, as
    NumPy's indexing does."""
    (sh, sw), (ph, pw) = s, p
    xp = tF.pad(x, (pw, pw, ph, ph))
    fh, fw = w.shape[2:]
    oh, ow = (xp.shape[2] - fh) // sh + 1, (xp.shape[3] - fw) // sw + 1
    if oh + (fh - 1) * sh > xp.shape[2] or ow + (fw - 1) * sw > xp.shape[3]:
        raise IndexError("index out of bounds for the padded input")
    y = tF.conv2d(xp, w, b, stride=1, dilation=(sh, sw))
    return y[:, :, :oh, :ow]


def _relu_into_a_reshape(x: np.ndarray) -> np.ndarray:
    """Writes through y.reshape(-1), a copy where y (made like x) is not C-contiguous: y
    stays 0 for a transposed x (blind review #8 m58)."""
    y = np.zeros_like(x)
    flat = y.reshape(-1)
    flat[:] = np.maximum(x.reshape(-1), 0.0)
    return y


def _softmax_backward_sum_over_axis_1(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Σ dy ∘ y taken over axis 1, not the last axis: right for 2-D x (blind review #6 m13)."""
    y = _softmax(x)
    return y * (dy - (dy * y).sum(axis=1, keepdims=True))


def _conv2d_columns_at_the_row_stride(x: np.ndarray, w: np.ndarray, b: np.ndarray,
                                      stride: Any, padding: Any) -> np.ndarray:
    """A convolution by kernel offsets whose column slice steps by the row stride (blind
    review #6 m22): wrong where SH ≠ SW, or raises where the columns run out."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    k, _, fh, fw = w.shape
    oh, ow = (xp.shape[2] - fh) // sh + 1, (xp.shape[3] - fw) // sw + 1
    y = np.zeros((x.shape[0], k, oh, ow)) + b[None, :, None, None]
    for p in range(fh):
        for q in range(fw):
            patch = xp[:, :, p:p + sh * oh:sh, q:q + sw * ow:sh]
            y = y + np.einsum("nchw,kc->nkhw", patch, w[:, :, p, q])
    return y


def _conv1d_channel_index_split(x: Tensor, w: Tensor, b: Tensor, s: int, p: int) -> Tensor:
    """einsum 'ncif,kdf->nki': the kernel's channel index renamed, so the windows and the kernel
    are summed over their channels apart, a product of sums (blind review #9 m09)."""
    windows = tF.pad(x, (p, p)).unfold(-1, w.shape[2], s)          # [N, C, OL, F]
    return torch.einsum("ncif,kdf->nki", windows, w) + b[None, :, None]


def _l2_pool_of_row_norms(x: Tensor, k: Any, s: Any) -> Tensor:
    """Σ_p √(Σ_q x²): the root taken of each window row, then summed (blind review #9 m22)."""
    (fh, fw), (sh, sw) = k, s
    windows = x.unfold(2, fh, sh).unfold(3, fw, sw)                # [N, C, OH, OW, FH, FW]
    return torch.sqrt((windows ** 2).sum(dim=-1)).sum(dim=-1)


RNN_GRADS = ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"]

ACTIVATIONS = [
    mutant("tanh-backward-at-dy", "tanh", "tanh' taken at the upstream gradient: dx = dy ∘ (1 − "
           "tanh(dy)²)", "backward-only",
           backward("tanh", lambda dy, x: dy * (1 - np.tanh(dy) ** 2)), G, "backward", ["dx"]),
    mutant("sigmoid-abs-trick", "sigmoid", "σ(x) as 1/(1 + e^−|x|): the overflow guard without "
           "its branch for x < 0", "consistent-forward",
           autodiff("sigmoid", lambda x: torch.sigmoid(torch.where(x >= 0, x, -x))), FG, "forward",
           ["y", "dx"], named="absolute input"),
    mutant("tanh-via-sigmoid", "tanh", "tanh(x) as 2σ(x) − 1, which is tanh(x/2) (the identity "
           "is 2σ(2x) − 1)", "consistent-forward",
           autodiff("tanh", lambda x: 2 * torch.sigmoid(x) - 1), FG, "forward", ["y", "dx"],
           named="input scaled"),                        # (blind reviews #5 m06, #6 m05)
    mutant("sigmoid-backward-without-one-minus", "sigmoid", "σ' taken as σ: dx = dy ∘ σ(x), "
           "the (1 − σ) forgotten", "backward-only",
           backward("sigmoid", lambda dy, x: dy * torch.sigmoid(torch.as_tensor(x)).numpy()), G,
           "backward", ["dx"], named="derivative of the wrong quantity"),   # (#7 m02)
    mutant("relu-into-a-reshape-copy", "relu", "y = zeros_like(x) filled through y.reshape(-1): "
           "a copy where x is not C-contiguous, so y stays 0 (#8 m58)", "forward-only",
           forward_only("relu", lambda x: torch.as_tensor(_relu_into_a_reshape(x.numpy()))),
           F, "forward-only", ["y"]),
]

LOSSES = [
    mutant("softmax-backward-unweighted-sum", "softmax", "dx = y ∘ (dy − Σ dy): the y_k weight "
           "inside the sum left out", "backward-only",
           backward("softmax", lambda dy, x: _softmax(x) * (dy - dy.sum(axis=-1,
                                                                          keepdims=True))),
           G, "backward", ["dx"], named="softmax sum unweighted"),   # (blind review #6, m14)
    mutant("softmax-backward-sum-over-axis-1", "softmax", "Σ dy ∘ y over axis 1, not the last "
           "axis: right for 2-D x only (#6 m13)", "backward-only",
           backward("softmax", _softmax_backward_sum_over_axis_1), G, "backward", ["dx"]),
    mutant("ce-logits-as-log-probabilities", "cross_entropy", "the loss −mean z[n, t_n]: the "
           "logits used as log-probabilities, the log-softmax forgotten", "consistent-forward",
           autodiff("cross_entropy", lambda z, t: -z[torch.arange(len(t)), t].mean()), FG,
           "forward", ["loss", "dlogits"], named="log-softmax left out"),   # (#7 m16)
    mutant("ce-take-without-axis", "cross_entropy", "log p picked with a flat take(log p, t) "
           "(no axis): every row's target read from row 0", "consistent-forward",
           autodiff("cross_entropy", lambda z, t: -torch.take(torch.log_softmax(z, dim=-1),
                                                              t).mean()),
           FG, "forward", ["loss", "dlogits"]),
    mutant("softmax-eps-denominator", "softmax", "e / (Σ e + 1e-8): an ε against a zero sum",
           "consistent-forward", autodiff("softmax", _softmax_eps), FG, "forward", ["y"]),
    mutant("margin-mask-without-delta", "max_margin", "the backward's mask s_c − s > 0: Δ left "
           "out of the active set (the forward right)", "backward-only",
           backward("max_margin", _margin_backward_without_delta), G, "backward",
           ["ds", "ds_c"], named="mask left out"),     # (named since: blind review #6, m19)
]

POOLING = [
    mutant("maxpool-window-and-stride-wh", "max_pool2d", "kernel_size and stride both read as "
           "(W, H), as OpenCV orders sizes", "geometry",
           autodiff("max_pool2d", lambda x, k, s: tF.max_pool2d(x, tuple(k)[::-1],
                                                                tuple(s)[::-1])),
           FG, "forward", ["y"]),
    mutant("avgpool-backward-kron", "avg_pool2d", "dx as np.kron(dy, ones(S×S)) / (FH·FW): each "
           "share spread over a stride's block, not over its window", "backward-only",
           backward("avg_pool2d", _avg_pool_backward_kron), G, "backward", ["dx"]),
    mutant("lppool-gradient-through-abs", "lp_pool2d", "the L2 pool's dx = dy ∘ |x| / y: the "
           "sign of negative inputs lost", "backward-only",
           patched("lp_pool2d", lambda grads, inputs, attrs, cots: (
               grads[0] * np.sign(inputs[0]),)), G, "backward", ["dx"], where=["x<0"],
           how=["factor:-1"]),
    mutant("lppool-eps-inside-sqrt", "lp_pool2d", "y = √(Σ x² + 1e-6), an ε inside the root "
           "'for stability' (#6 m37)", "consistent-forward",
           autodiff("lp_pool2d", lambda x, k, s: torch.sqrt(
               tF.avg_pool2d(x * x, k, s) * (k[0] * k[1]) + 1e-6)), FG, "forward", ["y", "dx"]),
    mutant("lppool-window-without-last-column", "lp_pool2d", "each window's last column left "
           "out (range(FW − 1)), forward and backward (#8 m20)", "consistent-forward",
           autodiff("lp_pool2d", _l2_pool_without_last_column), FG, "forward", ["y", "dx"],
           named="window one short"),
    mutant("lppool-of-row-norms", "lp_pool2d", "Σ_p √(Σ_q x²): the root of each window row, "
           "then summed, forward and backward (#9 m22)", "consistent-forward",
           autodiff("lp_pool2d", _l2_pool_of_row_norms), FG, "forward", ["y", "dx"]),
    mutant("avgpool-window-sizes-swapped-in-slice", "avg_pool2d", "each window's mean over "
           "x[i·SH : i·SH + FW, j·SW : j·SW + FH] (#8 m62)", "forward-only",
           forward_only("avg_pool2d", _avg_pool_window_sizes_swapped), F, "forward-only",
           ["y"]),

]

CONVOLUTION = [
    mutant("conv2d-dw-at-stride-one", "conv2d", "dw read from the input at stride 1 (a line "
           "from before strides), dx right", "backward-only",
           patched("conv2d", _conv2d_dw_at_stride_one), G, "backward", ["dw"],
           named="dw stride ignored"),                   # (named since: #6 m25, #8 m12)
    mutant("conv1d-db-over-channels", "conv1d", "db summed over the batch and the kernels, "
           "axes (0, 1), where (0, 2) belongs", "backward-only",
           patched("conv1d", _conv1d_db_over_channels), G, "backward", ["db"]),
    mutant("conv2d-dx-crop-pads-swapped", "conv2d", "dx cut from the padded input's gradient "
           "with the pads swapped, [PW:PW + H, PH:PH + W] (#6 m24)", "backward-only",
           patched("conv2d", _conv2d_dx_crop_pads_swapped), G, "backward", ["dx"]),
    mutant("conv1d-backward-without-last-tap", "conv1d", "the backward loops over range(F − 1) "
           "taps: the last tap's dw 0, dx without it (#6 m27)", "backward-only",
           patched("conv1d", _conv1d_backward_without_last_tap), G, "backward", ["dx", "dw"],
           named="window one short"),
    mutant("conv2d-offset-times-stride", "conv2d", "window (i, j) reads x at (i + p·SH, j + q·SW), "
           "the stride multiplying the kernel's offset (#8 m01)", "forward-only",
           forward_only("conv2d", _conv2d_offset_times_stride), F, "forward-only", ["y"],
           named="offset times stride"),
    mutant("conv1d-channel-index-split", "conv1d", "einsum 'ncif,kdf->nki': the channels of x "
           "and w summed apart, a product of sums (#9 m09)", "forward-only",
           forward_only("conv1d", _conv1d_channel_index_split), F, "forward-only", ["y"]),
    mutant("conv2d-columns-at-the-row-stride", "conv2d", "the column slice steps by SH where SW "
           "belongs (#6 m22)", "forward-only",
           forward_only("conv2d", lambda x, w, b, s, p: torch.as_tensor(
               _conv2d_columns_at_the_row_stride(x.numpy(), w.numpy(), b.numpy(), s, p))),
           F, "forward-only", []),                       # (it raises on every failing case)
]

RECURRENT = [
    mutant("rnn-bptt-skips-first-step", "rnn", "the BPTT loop runs t = T − 1 … 1: step 0 "
           "skipped, and ∂L/∂s_0 returned as dh0", "backward-only",
           _np_rnn_backend("skips-first-step"), G, "backward", RNN_GRADS),
    mutant("rnn-dh0-before-w_hh", "rnn", "dh0 returned as step 0's da, before its last "
           "product with w_hh", "backward-only", _np_rnn_backend("dh0-before-w_hh"), G,
           "backward", ["dh0"]),
    mutant("rnn-dw_hh-current-state", "rnn", "dw_hh accumulates da_t s_tᵀ, the step's own state "
           "where s_{t−1} belongs", "backward-only", _np_rnn_backend("dw_hh-current-state"), G,
           "backward", ["dw_hh"], named="dw_hh state"),      # (blind reviews #5 m47, #6 m40)
    mutant("lstm-h-from-previous-cell", "lstm", "h_t = o ∘ tanh(c_{t−1}): the output read from "
           "the cell before its update", "consistent-forward",
           autodiff("lstm", _lstm_h_from_previous_cell), FG, "forward", ["out", "h_n"]),
    mutant("gru-candidate-gradient-without-r", "gru", "the backward of n = tanh(n_i + r ∘ n_h) "
           "passes ∂L/∂n_h without the factor r (the forward right)", "backward-only",
           autodiff("gru", lambda x, h0, *w: gru_steps(
               x, h0, *w, candidate=_candidate_gradient_without_r)), G, "backward",
           ["dh0", "dw_hh", "db_hh"]),
    mutant("lstm-do-from-previous-cell", "lstm", "the backward's do = dh ∘ tanh(c_{t−1}), where "
           "tanh(c_t) belongs (#6 m45, #7 m44)", "backward-only",
           autodiff("lstm", _lstm_do_from_previous_cell), G, "backward", LSTM_GRADS),
    mutant("gru-reset-gradient-from-n", "gru", "the backward's dr = da_n ∘ n, where da_n ∘ "
           "(W_hn h + b_hn) belongs (#6 m51)", "backward-only",
           autodiff("gru", lambda x, h0, *w: gru_steps(x, h0, *w,
                                                       candidate=_reset_gradient_from_n)),
           G, "backward", RNN_GRADS),
    mutant("gru-update-gradient-negated", "gru", "the backward's dz = dh ∘ (n − h), the sign of "
           "h − n flipped (#7 m49)", "backward-only",
           autodiff("gru", lambda x, h0, *w: gru_steps(x, h0, *w,
                                                       update=_update_gradient_negated)),
           G, "backward", RNN_GRADS),
    mutant("gru-reset-gradient-without-b_hn", "gru", "the backward's dr = da_n ∘ (W_hn h), "
           "b_hn left out of the product the reset gate scales (#8 m36)", "backward-only",
           autodiff("gru", lambda x, h0, *w: gru_steps(
               x, h0, *w, candidate=_reset_gradient_without_b_hn)), G, "backward",
           ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"]),

]

EMBEDDING = [
    mutant("embedding-dy-reshaped", "embedding", "dy flattened as dy.reshape(D, −1).T where "
           "dy.reshape(−1, D) belongs (#6 m56)", "backward-only",
           backward("embedding", _embedding_backward_dy_reshaped), G, "backward", ["dE"]),
]

MUTANTS = [*ACTIVATIONS, *LOSSES, *POOLING, *CONVOLUTION, *RECURRENT, *EMBEDDING]
