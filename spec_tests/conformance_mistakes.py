"""Purpose-built backends that each make one well-known mistake, for the diagnosis tests.

Each mistake sits in an otherwise independent implementation (PyTorch through nnspec's torch
adapter, or a few lines of NumPy), never in the reference itself, so that a diagnosis cannot
match by construction. ``_autodiff`` turns a mistaken torch forward into a backend whose gradient
(by torch.autograd) makes the same mistake.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from conformance.adapters.torch_backend import TorchBackend, _gru, _lstm, _rnn
from conformance.contract import op_spec

TORCH = TorchBackend()
Arrays = tuple[np.ndarray, ...]


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    return dy * (x > 0)


def _tensor(value: Any, grad: bool = False) -> torch.Tensor:
    arr = np.array(value)
    if np.issubdtype(arr.dtype, np.integer):
        return torch.as_tensor(arr, dtype=torch.long)
    return torch.as_tensor(arr).requires_grad_(grad)


def _autodiff(op: str, fn: Callable[..., Any]) -> types.SimpleNamespace:
    """A backend of ``op`` computed by the torch function ``fn`` (tensors and attributes in),
    its gradients by torch.autograd: a mistake written in torch, forward and backward."""
    spec = op_spec(op)

    def forward(*args: Any) -> Any:
        n = len(spec.inputs)
        with torch.no_grad():
            out = fn(*(_tensor(a) for a in args[:n]), *args[n:])
        return tuple(o.numpy() for o in out) if isinstance(out, tuple) else out.numpy()

    def vjp(name: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
        tensors = [_tensor(v, a.differentiable) for a, v in zip(spec.inputs, inputs)]
        out = fn(*tensors, *(attrs[a.name] for a in spec.attrs))
        outs = out if isinstance(out, tuple) else (out,)
        wrt = [t for a, t in zip(spec.inputs, tensors) if a.differentiable]
        grads = torch.autograd.grad(outs, wrt, [_tensor(c) for c in cots], allow_unused=True)
        return tuple(np.zeros(t.shape) if g is None else g.numpy() for g, t in zip(grads, wrt))

    return types.SimpleNamespace(**{op: forward, "vjp": vjp})


def _blocks(w: torch.Tensor, h: int, order: list[int]) -> torch.Tensor:
    return torch.cat([w[j * h:(j + 1) * h] for j in order])


def _negate_z(w: torch.Tensor, h: int) -> torch.Tensor:
    sign = torch.ones(w.shape[0], dtype=w.dtype)
    sign[h:2 * h] = -1.0                                 # σ(−a) = 1 − σ(a): z becomes 1 − z
    return w * (sign[:, None] if w.ndim == 2 else sign)


def _pad_after_only(x: Any, w: Any, b: Any, stride: Any, padding: Any) -> Any:
    (ph, pw) = padding
    return F.conv2d(F.pad(x, (0, 2 * pw, 0, 2 * ph)), w, b, stride)   # all zeros at the end


def _stride_one_cropped(x: Any, w: Any, b: Any, stride: Any, padding: Any) -> Any:
    (sh, sw), (ph, pw), (fh, fw) = stride, padding, w.shape[2:]
    oh = (x.shape[2] + 2 * ph - fh) // sh + 1
    ow = (x.shape[3] + 2 * pw - fw) // sw + 1
    return F.conv2d(x, w, b, 1, padding)[:, :, :oh, :ow]       # the right size, no steps


def _float32(x: Any, w: Any, b: Any) -> Any:
    return F.linear(x.float(), w.float(), b.float()).double()


flipped_kernel = _autodiff("conv2d", lambda x, w, b, s, p: F.conv2d(x, w.flip(2, 3), b, s, p))
transposed_recurrent_weight = _autodiff(
    "rnn", lambda x, h0, w_ih, w_hh, b_ih, b_hh: _rnn(x, h0, w_ih, w_hh.T, b_ih, b_hh))
# an LSTM reading the stacked rows as ONNX's i, o, f, c; a GRU as Keras's z, r, h
lstm_onnx_gate_order = _autodiff("lstm", lambda x, h0, c0, *w: _lstm(
    x, h0, c0, *(_blocks(v, h0.shape[1], [0, 2, 3, 1]) for v in w)))
gru_keras_gate_order = _autodiff("gru", lambda x, h0, *w: _gru(
    x, h0, *(_blocks(v, h0.shape[1], [1, 0, 2]) for v in w)))
gru_update_negated = _autodiff("gru", lambda x, h0, *w: _gru(
    x, h0, *(_negate_z(v, h0.shape[1]) for v in w)))
l2_pool_without_sqrt = _autodiff("lp_pool2d", lambda x, k, s: F.lp_pool2d(x, 2.0, k, s) ** 2)
avg_pool_not_divided = _autodiff("avg_pool2d",
                                 lambda x, k, s: F.avg_pool2d(x, k, s) * (k[0] * k[1]))
cross_entropy_summed = _autodiff("cross_entropy",
                                 lambda z, t: F.cross_entropy(z, t, reduction="sum"))
one_sided_padding = _autodiff("conv2d", _pad_after_only)
stride_ignored = _autodiff("conv2d", _stride_one_cropped)
pool_stride_is_window = _autodiff("max_pool2d", lambda x, k, s: F.max_pool2d(x, k))
def _gru_loop(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
               b_ih: torch.Tensor, b_hh: torch.Tensor,
               reset_after: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """A GRU written step by step in torch, the reset gate after the product (torch.nn.GRU) or
    before it (the original GRU, Keras's reset_after=False)."""
    outs = []
    H = h.shape[1]
    for x_t in x:
        gi = x_t @ w_ih.T + b_ih
        r = torch.sigmoid(gi[:, :H] + h @ w_hh[:H].T + b_hh[:H])
        z = torch.sigmoid(gi[:, H:2 * H] + h @ w_hh[H:2 * H].T + b_hh[H:2 * H])
        hn = (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:] if not reset_after else r * (
            h @ w_hh[2 * H:].T + b_hh[2 * H:])
        n = torch.tanh(gi[:, 2 * H:] + hn)
        h = (1 - z) * n + z * h
        outs.append(h)
    return torch.stack(outs), h


gru_reset_before = _autodiff("gru", lambda x, h0, *w: _gru_loop(x, h0, *w, reset_after=False))


def _pool_windows(x: torch.Tensor, k: Any, s: Any) -> torch.Tensor:
    return x.unfold(2, k[0], s[0]).unfold(3, k[1], s[1])  # [N, C, OH, OW, KH, KW]


# torch's amax shares the gradient between equal values; max(dim) sends it to the index it
# returns, the first maximum, here of the window read backwards: the last one
max_pool_ties_split = _autodiff("max_pool2d",
                                lambda x, k, s: _pool_windows(x, k, s).amax(dim=(-2, -1)))
max_pool_ties_last = _autodiff("max_pool2d", lambda x, k, s: _pool_windows(x, k, s).flip(
    -2, -1).flatten(-2).max(dim=-1).values)
softmax_over_columns = _autodiff("softmax", lambda x: torch.softmax(x, dim=0))


def _embedding_add(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
    dE = np.zeros_like(E)
    np.add.at(dE, ids.reshape(-1), dy.reshape(-1, E.shape[1]))
    return dE


def _embedding_overwrite(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
    dE = np.zeros_like(E)
    dE[ids.reshape(-1)] = dy.reshape(-1, E.shape[1])       # repeated ids: one share survives
    return dE


embedding_overwritten = types.SimpleNamespace(embedding=lambda ids, E: E[ids],
                                              embedding_backward=_embedding_overwrite)


def _final_states_dropped(op: str) -> types.SimpleNamespace:
    """torch's vjp with the upstream gradients of h_n (and c_n) set to zero."""
    def vjp(name: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
        return TORCH.vjp(name, inputs, attrs, (cots[0], *(np.zeros_like(c) for c in cots[1:])))
    return types.SimpleNamespace(**{op: getattr(TORCH, op), "vjp": vjp})


rnn_h_n_dropped = _final_states_dropped("rnn")
lstm_final_states_dropped = _final_states_dropped("lstm")
conv_stride_swapped = _autodiff("conv2d", lambda x, w, b, s, p: F.conv2d(x, w, b, s[::-1], p))
conv_padding_swapped = _autodiff("conv2d", lambda x, w, b, s, p: F.conv2d(x, w, b, s, p[::-1]))
pool_window_swapped = _autodiff("avg_pool2d", lambda x, k, s: F.avg_pool2d(x, k[::-1], s))
float32_linear = _autodiff("linear", _float32)


def _linear_dw_transposed(dy: np.ndarray, x: np.ndarray, w: np.ndarray,
                          b: np.ndarray) -> Arrays:
    return dy @ w, x.T @ dy, dy.sum(axis=0)              # dw = xᵀ dy: [D, M], not [M, D]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _gru_swapped_update(x: np.ndarray, h0: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
                        b_ih: np.ndarray, b_hh: np.ndarray) -> Arrays:
    """A GRU written from a source that keeps h' = z ∘ n + (1 − z) ∘ h."""
    h, outs = h0, []
    for x_t in x:
        r_i, z_i, n_i = np.split(x_t @ w_ih.T + b_ih, 3, axis=1)
        r_h, z_h, n_h = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = _sigmoid(r_i + r_h), _sigmoid(z_i + z_h)
        n = np.tanh(n_i + r * n_h)
        h = z * n + (1 - z) * h
        outs.append(h)
    return np.stack(outs), h


transposed_weight_gradient = types.SimpleNamespace(linear=TORCH.linear,
                                                   linear_backward=_linear_dw_transposed)
gru_update_swapped = types.SimpleNamespace(gru=_gru_swapped_update)
gradient_doubled = types.SimpleNamespace(relu=_relu,
                                         relu_backward=lambda dy, x: 2 * _relu_backward(dy, x))
gradient_sign_flipped = types.SimpleNamespace(relu=_relu,
                                              relu_backward=lambda dy, x: -_relu_backward(dy, x))
gradients_swapped = types.SimpleNamespace(
    linear=TORCH.linear,
    linear_backward=lambda dy, x, w, b: (dy.T @ x, dy @ w, dy.sum(axis=0)))   # (dw, dx, db)
unknown_mistake = types.SimpleNamespace(relu=lambda x: _relu(x) + 1e-3)
unknown_softmax = types.SimpleNamespace(softmax=lambda x: TORCH.softmax(x) + 1e-3)
unknown_embedding = types.SimpleNamespace(embedding=lambda ids, E: E[ids],
                                          embedding_backward=lambda dy, ids, E: _embedding_add(
                                              dy, ids, E) + 1e-3)
relu_flattened = types.SimpleNamespace(relu=lambda x: _relu(x).reshape(-1))
sigmoid_stub = types.SimpleNamespace(                       # "not written yet": zeros out
    sigmoid=np.zeros_like, sigmoid_backward=lambda dy, x: np.zeros_like(x))
linear_dx_never_filled = types.SimpleNamespace(
    linear=TORCH.linear,
    linear_backward=lambda dy, x, w, b: (np.zeros_like(x), dy.T @ x, dy.sum(axis=0)))
linear_weight_transposed = _autodiff("linear", lambda x, w, b: F.linear(x, w.T, b))
transposed_input_weight = _autodiff(
    "rnn", lambda x, h0, w_ih, w_hh, b_ih, b_hh: _rnn(x, h0, w_ih.T, w_hh, b_ih, b_hh))
lstm_states_swapped = types.SimpleNamespace(
    lstm=lambda *args: (lambda out, h_n, c_n: (out, c_n, h_n))(*TORCH.lstm(*args)))
padded_before_only = types.SimpleNamespace(
    conv2d=lambda x, w, b, s, p: TORCH.conv2d(np.pad(x, ((0, 0), (0, 0), (p[0], 0), (p[1], 0))),
                                              w, b, s, (0, 0)))
padding_ignored = types.SimpleNamespace(conv2d=lambda x, w, b, s, p: TORCH.conv2d(x, w, b, s,
                                                                                  (0, 0)))
stride_one_whole = types.SimpleNamespace(conv2d=lambda x, w, b, s, p: TORCH.conv2d(x, w, b,
                                                                                   (1, 1), p))
conv1d_reversed = _autodiff("conv1d", lambda x, w, b, s, p: F.conv1d(x, w.flip(2), b, s, p))
relu_gradient_doubled_by_vjp = types.SimpleNamespace(
    relu=_relu, vjp=lambda op, inputs, attrs, cots: (2 * cots[0] * (inputs[0] > 0),))
max_pool_gradient_doubled = types.SimpleNamespace(
    max_pool2d=TORCH.max_pool2d,
    vjp=lambda op, inputs, attrs, cots: tuple(2 * g for g in TORCH.vjp(op, inputs, attrs, cots)))
avg_pool_divided_by_stride = _autodiff(      # the window sum over SH·SW: right where they agree
    "avg_pool2d", lambda x, k, s: F.avg_pool2d(x, k, s) * (k[0] * k[1]) / (s[0] * s[1]))
lstm_dc0_zero = types.SimpleNamespace(       # c0's gradient never filled in, the rest right
    lstm=TORCH.lstm, vjp=lambda op, inputs, attrs, cots: (
        *TORCH.vjp(op, inputs, attrs, cots)[:2],
        np.zeros_like(inputs[2]), *TORCH.vjp(op, inputs, attrs, cots)[3:]))


def _softmax_whole_max(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())                  # the whole batch's max, not each row's
    return e / e.sum(axis=-1, keepdims=True)


softmax_shifted_by_whole_max = types.SimpleNamespace(
    softmax=_softmax_whole_max,
    softmax_backward=lambda dy, x: _softmax_whole_max(x) * (
        dy - np.sum(dy * _softmax_whole_max(x), axis=-1, keepdims=True)))
linear_parameter_gradients_averaged = types.SimpleNamespace(   # dw and db as means over N
    linear=TORCH.linear, vjp=lambda op, inputs, attrs, cots: (
        lambda g, n: (g[0], g[1] / n, g[2] / n))(TORCH.vjp(op, inputs, attrs, cots),
                                                 len(inputs[0])))
conv_channels_last = types.SimpleNamespace(                    # y returned as [N, OH, OW, K]
    conv2d=lambda x, w, b, s, p: TORCH.conv2d(x, w, b, s, p).transpose(0, 2, 3, 1))


def _dw_read_back_kernel_last(op: str, inputs: Arrays, attrs: dict[str, Any],
                              cots: Arrays) -> Arrays:
    """conv2d's gradients with dw's [C·FH·FW] columns read back as (FH, FW, C)."""
    dx, dw, db = TORCH.vjp(op, inputs, attrs, cots)
    k, c, fh, fw = dw.shape
    return dx, dw.reshape(k, fh, fw, c).transpose(0, 3, 1, 2), db


conv_dw_columns_misread = types.SimpleNamespace(conv2d=TORCH.conv2d,
                                                vjp=_dw_read_back_kernel_last)
linear_db_of_the_first_example = types.SimpleNamespace(        # db = dy[0], not Σ_n dy[n]
    linear=TORCH.linear, vjp=lambda op, inputs, attrs, cots: (
        *TORCH.vjp(op, inputs, attrs, cots)[:2], np.array(cots[0][0])))
conv_kernel_mirrored = _autodiff("conv2d",                     # w[..., ::-1]: half of a flip
                                 lambda x, w, b, s, p: F.conv2d(x, w.flip(3), b, s, p))


def _relu_rnn(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    outs = []
    for x_t in x:                                               # relu where tanh belongs
        h = torch.relu(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        outs.append(h)
    return torch.stack(outs), h


rnn_relu_cell = _autodiff("rnn", _relu_rnn)


def _max_pool_backward_assigned(dy: np.ndarray, x: np.ndarray, kernel_size: Any,
                                stride: Any) -> np.ndarray:
    """A loop over the windows that assigns each one's gradient to its first maximum."""
    (fh, fw), (sh, sw) = kernel_size, stride
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*dy.shape):
        window = x[n, c, i * sh:i * sh + fh, j * sw:j * sw + fw]
        u, v = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i * sh + u, j * sw + v] = dy[n, c, i, j]          # = where += belongs
    return dx


max_pool_gradient_assigned = types.SimpleNamespace(max_pool2d=TORCH.max_pool2d,
                                                   max_pool2d_backward=_max_pool_backward_assigned)


def _conv_dx_cut_at_zero(op: str, inputs: Arrays, attrs: dict[str, Any],
                         cots: Arrays) -> Arrays:
    """conv2d's gradients with dx cut from the padded input's gradient at offset 0, not P."""
    x, w, b = (torch.as_tensor(np.asarray(a, np.float64)) for a in inputs)
    (ph, pw), (h, wd) = attrs["padding"], x.shape[2:]
    xp = F.pad(x, (pw, pw, ph, ph)).requires_grad_(True)
    w.requires_grad_(True)
    b.requires_grad_(True)
    y = F.conv2d(xp, w, b, attrs["stride"], 0)
    dxp, dw, db = torch.autograd.grad(y, (xp, w, b), torch.as_tensor(cots[0]))
    return dxp[:, :, :h, :wd].numpy(), dw.numpy(), db.numpy()


conv_dx_padding_kept = types.SimpleNamespace(conv2d=TORCH.conv2d, vjp=_conv_dx_cut_at_zero)


def _conv1d_dx_stride_ignored(op: str, inputs: Arrays, attrs: dict[str, Any],
                              cots: Arrays) -> Arrays:
    """conv1d's gradients with window i's share of dx added at i instead of S·i."""
    _, dw, db = TORCH.vjp(op, inputs, attrs, cots)
    x, w = (np.asarray(a, np.float64) for a in inputs[:2])
    dy, p = np.asarray(cots[0], np.float64), attrs["padding"]
    dxp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * p))
    for i in range(dy.shape[2]):
        dxp[:, :, i:i + w.shape[2]] += np.einsum("nk,kcf->ncf", dy[:, :, i], w)
    return dxp[:, :, p:p + x.shape[2]], dw, db


conv1d_dx_stride_ignored = types.SimpleNamespace(conv1d=TORCH.conv1d,
                                                 vjp=_conv1d_dx_stride_ignored)


def _ce_block(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return np.asarray(-log_p[:, targets].mean())                 # [:, t]: an N×N block


def _ce_eps(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return np.asarray(-np.log(p[np.arange(len(targets)), targets] + 1e-10).mean())


cross_entropy_target_block = types.SimpleNamespace(cross_entropy=_ce_block)
cross_entropy_log_epsilon = types.SimpleNamespace(cross_entropy=_ce_eps)
avg_pool_floor_divided = types.SimpleNamespace(                # the window sum // (FH·FW)
    avg_pool2d=lambda x, k, s: np.floor(TORCH.avg_pool2d(x, k, s) * (k[0] * k[1]))
    // (k[0] * k[1]))


def _rnn_backwards_in_time(x: torch.Tensor, h0: torch.Tensor, *w: torch.Tensor) -> Any:
    out, h_n = _rnn(x.flip(0), h0, *w)                          # x_(T−1) first
    return out.flip(0), h_n


def _gru_from_h0_each_step(x: torch.Tensor, h0: torch.Tensor, *w: torch.Tensor) -> Any:
    out = torch.cat([_gru(x[t:t + 1], h0, *w)[0] for t in range(len(x))])
    return out, out[-1]


def _rnn_out_behind(x: torch.Tensor, h0: torch.Tensor, *w: torch.Tensor) -> Any:
    out, h_n = _rnn(x, h0, *w)
    return torch.cat([h0[None], out[:-1]]), h_n                 # appended before the update


rnn_backwards_in_time = _autodiff("rnn", _rnn_backwards_in_time)
gru_from_h0_each_step = _autodiff("gru", _gru_from_h0_each_step)
rnn_out_one_step_behind = _autodiff("rnn", _rnn_out_behind)


def _ce_keras(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = np.clip(e / e.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)   # Keras's epsilon
    return np.asarray(-np.log(p[np.arange(len(targets)), targets]).mean())


def _ce_backward_columns(dloss: np.ndarray, logits: np.ndarray,
                         targets: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    g = e / e.sum(axis=1, keepdims=True)
    g[:, targets] -= 1                                            # every row, every target
    return dloss * g / len(logits)


cross_entropy_keras_clip = types.SimpleNamespace(cross_entropy=_ce_keras)
cross_entropy_onehot_columns = types.SimpleNamespace(cross_entropy=TORCH.cross_entropy,
                                                     cross_entropy_backward=_ce_backward_columns)
linear_weight_reshaped = types.SimpleNamespace(                # reshape where .T belongs
    linear=lambda x, w, b: x @ w.reshape(w.shape[1], w.shape[0]) + b)
avg_pool_divided_by_fh_squared = types.SimpleNamespace(
    avg_pool2d=lambda x, k, s: TORCH.avg_pool2d(x, k, s) * (k[0] * k[1]) / (k[0] * k[0]))
relu_shifted_and_scaled = _autodiff("relu", lambda x: 1.01 * torch.relu(x) + 0.1)  # in no catalogue
max_pool_from_zero = types.SimpleNamespace(                    # a running maximum started at 0
    max_pool2d=lambda x, k, s: np.maximum(TORCH.max_pool2d(x, k, s), 0.0))
tanh_derivative_bracket = types.SimpleNamespace(               # (1 − tanh x)², not 1 − tanh² x
    tanh=np.tanh, tanh_backward=lambda dy, x: dy * (1 - np.tanh(x)) ** 2)
conv_dx_kernel_not_rotated = types.SimpleNamespace(            # dx through w as it is
    conv2d=TORCH.conv2d, vjp=lambda op, inputs, attrs, cots: (
        TORCH.vjp(op, (inputs[0], np.flip(inputs[1], (2, 3)).copy(), inputs[2]), attrs, cots)[0],
        *TORCH.vjp(op, inputs, attrs, cots)[1:]))


def _avg_pool_backward_assigned(dy: np.ndarray, x: np.ndarray, kernel_size: Any,
                                stride: Any) -> np.ndarray:
    (fh, fw), (sh, sw) = kernel_size, stride
    dx = np.zeros_like(x)
    for i, j in np.ndindex(*dy.shape[2:]):                      # = where += belongs
        dx[:, :, i * sh:i * sh + fh, j * sw:j * sw + fw] = dy[:, :, i:i + 1, j:j + 1] / (fh * fw)
    return dx


avg_pool_gradient_assigned = types.SimpleNamespace(avg_pool2d=TORCH.avg_pool2d,
                                                   avg_pool2d_backward=_avg_pool_backward_assigned)


def _lstm_dc_not_times_f(op: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
    """An LSTM backward whose ∂L/∂c goes back to c_(t−1) without × f: torch's autograd through
    a forward whose cell update is f ∘ c_(t−1) in value but c_(t−1) in gradient."""
    x, h, c, w_ih, w_hh, b_ih, b_hh = (torch.as_tensor(np.asarray(a, np.float64)).requires_grad_()
                                       for a in inputs)
    hs, hn, cn = [], h, c
    for x_t in x:
        i, f, g, o = (x_t @ w_ih.T + b_ih + hn @ w_hh.T + b_hh).chunk(4, dim=1)
        # f ∘ c_(t−1) in value; its gradient to c_(t−1) × 1, not × f (to f: × c_(t−1), right)
        kept = torch.sigmoid(f) * cn.detach() + (cn - cn.detach())
        cn = kept + torch.sigmoid(i) * torch.tanh(g)
        hn = torch.sigmoid(o) * torch.tanh(cn)
        hs.append(hn)
    outs = (torch.stack(hs), hn, cn)
    grads = torch.autograd.grad(outs, (x, h, c, w_ih, w_hh, b_ih, b_hh),
                                [torch.as_tensor(np.asarray(v, np.float64)) for v in cots])
    return tuple(g.numpy() for g in grads)


lstm_dc_not_times_f = types.SimpleNamespace(lstm=TORCH.lstm, vjp=_lstm_dc_not_times_f)


class _LayerWithCache:
    """A sigmoid "layer" whose backward uses the output its forward kept (self.y), not the x
    it is given: right in a training loop, wrong when backward is called on its own."""

    def __init__(self) -> None:
        self.y: np.ndarray | None = None

    def sigmoid(self, x: np.ndarray) -> np.ndarray:
        self.y = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
        return self.y

    def sigmoid_backward(self, dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = self.y if self.y is not None else self.sigmoid(x)      # never called forward?
        return dy * y * (1 - y)


sigmoid_layer_with_cache = _LayerWithCache()
sigmoid_clipped_at_30 = _autodiff("sigmoid",                     # an overflow guard on x
                                  lambda x: torch.sigmoid(torch.clamp(x, -30, 30)))


def _sigmoid_clip30(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -30, 30)))


sigmoid_clip30_by_hand = types.SimpleNamespace(                  # σ' from the clipped σ
    sigmoid=_sigmoid_clip30,
    sigmoid_backward=lambda dy, x: dy * _sigmoid_clip30(x) * (1 - _sigmoid_clip30(x)))
cross_entropy_one_based_targets = _autodiff(                     # the ids read from 1
    "cross_entropy", lambda z, t: F.cross_entropy(z, (t - 1) % z.shape[1]))
tanh_derivative_unsquared = types.SimpleNamespace(             # 1 − tanh x, the square lost
    tanh=np.tanh, tanh_backward=lambda dy, x: dy * (1 - np.tanh(x)))
relu_gradient_times_output = types.SimpleNamespace(            # dy ∘ relu(x), not the mask
    relu=_relu, relu_backward=lambda dy, x: dy * _relu(x))


def _gru_db_hh_copied(op: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
    """torch's GRU gradients with db_hh returned equal to db_ih (the RNN's and LSTM's rule)."""
    dx, dh0, dw_ih, dw_hh, db_ih, _ = TORCH.vjp(op, inputs, attrs, cots)
    return dx, dh0, dw_ih, dw_hh, db_ih, db_ih.copy()


gru_db_hh_copied = types.SimpleNamespace(gru=TORCH.gru, vjp=_gru_db_hh_copied)


def _margin_ds_c_copied(op: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
    ds, _ = TORCH.vjp(op, inputs, attrs, cots)
    return ds, ds.copy()


max_margin_ds_c_copied = types.SimpleNamespace(max_margin=TORCH.max_margin,
                                               vjp=_margin_ds_c_copied)


lp_pool_root_mean_square = _autodiff(                            # √(mean x²), not √(Σ x²)
    "lp_pool2d", lambda x, k, s: F.lp_pool2d(x, 2.0, k, s) / float(np.sqrt(k[0] * k[1])))


def _linear_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, ...]:
    return dy @ w, dy.T @ x, dy.sum(axis=0)


linear_squeezed = types.SimpleNamespace(                         # y.squeeze(): N = 1, M = 1
    linear=lambda x, w, b: (x @ w.T + b).squeeze(), linear_backward=_linear_backward)


def _relu_vjp_on_the_tuple(op: str, inputs: Arrays, attrs: dict[str, Any],
                           cots: Arrays) -> Arrays:
    dy = np.asarray(cots)                           # the tuple of cotangents used as dy
    return (dy * (inputs[0] > 0),)


relu_vjp_cotangents_as_array = types.SimpleNamespace(relu=_relu, vjp=_relu_vjp_on_the_tuple)


def _conv_dx_cut_minus_p(op: str, inputs: Arrays, attrs: dict[str, Any], cots: Arrays) -> Arrays:
    """torch's gradients with dx cut from the padded gradient as [P:−P] (empty at P = 0)."""
    dx, dw, db = TORCH.vjp(op, inputs, attrs, cots)
    ph, pw = attrs["padding"]
    padded = np.pad(dx, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return padded[:, :, ph:-ph, pw:-pw], dw, db


conv_dx_cut_minus_p = types.SimpleNamespace(conv2d=TORCH.conv2d, vjp=_conv_dx_cut_minus_p)


class _MemoisedLayer:
    """A sigmoid "layer" that keeps the output of its first forward of each shape and reuses it
    in backward whenever the shapes match (a memo meant for speed): stale from the second case
    of a shape on."""

    def __init__(self) -> None:
        self.memo: dict[tuple[int, ...], np.ndarray] = {}

    def sigmoid(self, x: np.ndarray) -> np.ndarray:
        y = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
        self.memo.setdefault(x.shape, y)
        return y

    def sigmoid_backward(self, dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = self.memo.get(x.shape)
        y = self.sigmoid(x) if y is None else y
        return dy * y * (1 - y)


def sigmoid_memoised_by_shape() -> _MemoisedLayer:
    return _MemoisedLayer()
