"""Mutants from the blind reviews: mistakes that reviewers who had not read the diagnosis wrote
into their own backends (the unmerged branches h18-mutants … h21-mutants keep their originals),
re-expressed here in torch and NumPy like the rest of the corpus: no reading named them when
they were added, which is what keeps the corpus honest about the mistakes nobody has catalogued.
One a later blind review wrote again is named since (its ``named`` says which reading)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as tF

from spec_tests.mutant_corpus._make import (
    FG,
    G,
    autodiff,
    backward,
    gru_steps,
    mutant,
    patched,
)
from spec_tests.mutant_corpus.recurrent import _np_rnn_backend

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


RNN_GRADS = ["dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh"]

ACTIVATIONS = [
    mutant("tanh-backward-at-dy", "tanh", "tanh' taken at the upstream gradient: dx = dy ∘ (1 − "
           "tanh(dy)²)", "backward-only",
           backward("tanh", lambda dy, x: dy * (1 - np.tanh(dy) ** 2)), G, "backward", ["dx"]),
    mutant("sigmoid-abs-trick", "sigmoid", "σ(x) as 1/(1 + e^−|x|): the overflow guard without "
           "its branch for x < 0", "consistent-forward",
           autodiff("sigmoid", lambda x: torch.sigmoid(torch.where(x >= 0, x, -x))), FG, "forward",
           ["y", "dx"]),
    mutant("tanh-via-sigmoid", "tanh", "tanh(x) as 2σ(x) − 1, which is tanh(x/2) (the identity "
           "is 2σ(2x) − 1)", "consistent-forward",
           autodiff("tanh", lambda x: 2 * torch.sigmoid(x) - 1), FG, "forward", ["y", "dx"],
           named="input scaled"),                        # (blind reviews #5 m06, #6 m05)
    mutant("sigmoid-backward-without-one-minus", "sigmoid", "σ' taken as σ: dx = dy ∘ σ(x), "
           "the (1 − σ) forgotten", "backward-only",
           backward("sigmoid", lambda dy, x: dy * torch.sigmoid(torch.as_tensor(x)).numpy()), G,
           "backward", ["dx"]),
]

LOSSES = [
    mutant("softmax-backward-unweighted-sum", "softmax", "dx = y ∘ (dy − Σ dy): the y_k weight "
           "inside the sum left out", "backward-only",
           backward("softmax", lambda dy, x: _softmax(x) * (dy - dy.sum(axis=-1,
                                                                          keepdims=True))),
           G, "backward", ["dx"], named="softmax sum unweighted"),   # (blind review #6, m14)
    mutant("ce-logits-as-log-probabilities", "cross_entropy", "the loss −mean z[n, t_n]: the "
           "logits used as log-probabilities, the log-softmax forgotten", "consistent-forward",
           autodiff("cross_entropy", lambda z, t: -z[torch.arange(len(t)), t].mean()), FG,
           "forward", ["loss", "dlogits"]),
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
]

CONVOLUTION = [
    mutant("conv2d-dw-at-stride-one", "conv2d", "dw read from the input at stride 1 (a line "
           "from before strides), dx right", "backward-only",
           patched("conv2d", _conv2d_dw_at_stride_one), G, "backward", ["dw"]),
    mutant("conv1d-db-over-channels", "conv1d", "db summed over the batch and the kernels, "
           "axes (0, 1), where (0, 2) belongs", "backward-only",
           patched("conv1d", _conv1d_db_over_channels), G, "backward", ["db"]),
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
]

MUTANTS = [*ACTIVATIONS, *LOSSES, *POOLING, *CONVOLUTION, *RECURRENT]
