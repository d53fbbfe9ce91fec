"""A small ConvNet (lecture: "ConvNet: CONV, RELU, POOL and FC Layers", "A Basic ConvNet",
"ReLU (Rectified Linear Units) Layer", "Convolutional Neural Networks").

    z_j = f(V_{1:n} * K_j + b_j)    where ReLU is used as f.
    ConvNet is a sequence of Convolutional Layers, interspersed with activation functions.

The stack is CONV → RELU → POOL → FC, built from the project's layers (reference.conv,
reference.activations, reference.pooling, reference.feedforward.dense) and trained with its
gradient descent (reference.optim) on cross-entropy (reference.losses). The task is the
lecture's "kernels as feature detectors" turned round: told only which images show a vertical
and which a horizontal bar, the network learns kernels that tell them apart.

The slide's z_j (after f) is ``a[:, j]`` here; ``z`` is the value before the ReLU, and "*" is
reference.conv's conv2d, cross-correlation (CONVENTIONS: Convolution), as in every framework.

Notation
--------
N              batch size
C, H, Wd       input channels, height, width (Wd: W names the FC weights below)
J              number of kernels K_j (the conv layer's output depth)
F              kernel size (F × F), stride 1, zero padding P = (F − 1)/2 (the size is kept)
Q              pooling window and stride (Q × Q max pool)
D              flattened size J·(H/Q)·(Wd/Q) of the pooled maps
M              number of classes
V              input images [N, C, H, Wd]
K, b           kernels [J, C, F, F] and their biases [J]
z              V * K_j + b_j, the conv layer's output before f [N, J, H, Wd]
a              a = f(z) = ReLU(z), same shape: elementwise, so every unit keeps the receptive
               field of its z (the slide: "without affecting the receptive fields")
p              max-pooled maps [N, J, H/Q, Wd/Q]
h              p flattened per example [N, D] (channel-major, as torch.flatten on NCHW)
W, b_fc        the FC layer's weights [M, D] (slide orientation, logits = W h + b_fc) and bias
logits         class scores [N, M]

A stack of any depth (the second half of this module)
----------------------------------------------------
"ConvNet is a sequence of Convolutional Layers, interspersed with activation functions":
``conv_stack_forward`` runs L conv layers a_l = f(a_{l−1} * K_l + b_l) (a_0 = V) before the
POOL and FC, with parameters {"K1", "b1", ..., "KL", "bL", "W", "b_fc"}. A unit of layer l sees
a (1 + l(F − 1)) × (1 + l(F − 1)) patch of the image (``receptive_field``): features are built
up from ever larger parts of it. With f = identity and average pooling the whole stack is one
affine map of the image, and with valid (unpadded) convolutions the L layers are exactly one conv
layer with the composed kernel (``linear_stack_kernel``): depth without a nonlinearity adds
nothing a single layer cannot compute. ``signed_bars_dataset`` is a task that needs the
nonlinearity (a bar may be bright or dark): no affine map of the image gets more than 75 % of
it right, the ReLU stack learns it (``train_signed_bars``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import numpy as np

from reference._checks import (
    FloatArray,
    IntArray,
    as_float_array,
    as_index_array,
    as_named_arrays,
    fail,
    positive_int,
    positive_number,
    rng_from,
)
from reference.activations import activation, relu, relu_grad
from reference.conv import conv2d, conv2d_backward, output_size, same_padding
from reference.feedforward import dense, dense_backward
from reference.losses import cross_entropy, cross_entropy_backward
from reference.optim import Adam, DescentResult, Params, gradient_descent
from reference.pooling import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

__all__ = [
    "PARAMETER_NAMES",
    "ConvNetOutputs",
    "ConvStackOutputs",
    "TrainedConvNet",
    "bars_dataset",
    "conv_stack_backward",
    "conv_stack_forward",
    "conv_stack_loss_and_grads",
    "convnet_backward",
    "convnet_forward",
    "convnet_loss_and_grads",
    "init_conv_stack",
    "init_convnet",
    "linear_stack_kernel",
    "receptive_field",
    "signed_bars_dataset",
    "train_bars_convnet",
    "train_signed_bars",
]

PARAMETER_NAMES = ("K", "b", "W", "b_fc")


class ConvNetOutputs(NamedTuple):
    """Every intermediate of the forward pass, for reading and for the backward pass."""

    z: FloatArray        # V * K_j + b_j      [N, J, H, Wd]
    a: FloatArray        # ReLU(z)            [N, J, H, Wd]
    p: FloatArray        # max pool of a      [N, J, H/Q, Wd/Q]
    h: FloatArray        # p flattened        [N, D]
    logits: FloatArray   # W h + b_fc         [N, M]


def _params(func: str, params: Mapping[str, Any]) -> dict[str, FloatArray]:
    return as_named_arrays(func, "params", params, PARAMETER_NAMES)


def _padding(func: str, K: FloatArray) -> int:
    if K.ndim != 4 or K.shape[2] != K.shape[3]:
        raise fail(func, f"params['K'] must be square kernels [J, C, F, F], got shape {K.shape}")
    return same_padding(K.shape[2])


def convnet_forward(V: Any, params: Mapping[str, Any], *, pool: int = 2) -> ConvNetOutputs:
    """CONV → RELU → POOL → FC: z = V * K_j + b_j, a = ReLU(z) (the slide's z_j = f(V * K_j +
    b_j)), p = maxpool(a), logits = W·flatten(p) + b_fc.

    Shapes: V [N, C, H, Wd]; params K [J, C, F, F] (F odd), b [J], W [M, D], b_fc [M] with
    D = J·(H/pool)·(Wd/pool) → ConvNetOutputs (logits [N, M]). The conv layer uses stride 1 and
    zero padding (F − 1)/2, so z keeps the image size.

    Raises: ValueError for inconsistent shapes (named by the layer that finds them), an even F,
    a pool window that doesn't fit, missing parameters.
    """
    P = _params("convnet_forward", params)
    pad = _padding("convnet_forward", P["K"])
    q = positive_int("convnet_forward", "pool", pool)
    z = conv2d(V, P["K"], P["b"], 1, pad)             # z_j = V * K_j + b_j
    a = relu(z)                                       # f = ReLU
    p = max_pool2d(a, q)                              # POOL
    h = p.reshape(p.shape[0], -1)                     # flatten each example
    logits = dense(h, P["W"], P["b_fc"], "identity")  # FC: W h + b_fc
    return ConvNetOutputs(z, a, p, h, logits)


def convnet_backward(dlogits: Any, V: Any, params: Mapping[str, Any], *,
                     pool: int = 2) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Backpropagation through FC, POOL, RELU and CONV, in reverse order.

    Shapes: dlogits = ∂L/∂logits [N, M], V and params as convnet_forward → (∂L/∂V [N, C, H, Wd],
    {"K": ∂L/∂K, "b": ∂L/∂b, "W": ∂L/∂W, "b_fc": ∂L/∂b_fc}).
    """
    P = _params("convnet_backward", params)
    pad = _padding("convnet_backward", P["K"])
    return _backward(dlogits, V, P, convnet_forward(V, P, pool=pool), pad, pool)


def _backward(dlogits: Any, V: Any, P: Mapping[str, FloatArray], out: ConvNetOutputs, pad: int,
              pool: int) -> tuple[FloatArray, dict[str, FloatArray]]:
    """convnet_backward from the forward pass's outputs ``out`` (params already checked)."""
    dh, dW, db_fc = dense_backward(dlogits, out.h, P["W"], P["b_fc"], "identity")  # FC
    dp = dh.reshape(out.p.shape)                                                   # unflatten
    da = max_pool2d_backward(dp, out.a, pool)                                      # POOL
    dz = da * relu_grad(out.z)                                                     # RELU
    dV, dK, db = conv2d_backward(dz, V, P["K"], P["b"], 1, pad)                    # CONV
    return dV, {"K": dK, "b": cast(FloatArray, db), "W": dW, "b_fc": db_fc}  # db: b is given


def convnet_loss_and_grads(params: Mapping[str, Any], V: Any, targets: Any, *,
                           pool: int = 2) -> tuple[float, dict[str, FloatArray]]:
    """Steps 1-3 of gradient descent: the mean cross-entropy of the logits and its gradients.

    Shapes: params and V [N, C, H, Wd] as convnet_forward, targets [N] class ids in [0, M) →
    (loss, grads keyed like params).

    Raises: ValueError / TypeError, naming convnet_loss_and_grads, for params without the four
    parameters, a V that is not finite 4-D images, targets that are not one id in [0, M) per
    image; then as convnet_forward.
    """
    func = "convnet_loss_and_grads"
    P = _params(func, params)
    V = as_float_array(func, "V", V, ndim=4, finite=True)
    W = P["W"]
    if W.ndim != 2:
        raise fail(func, f"params['W'] must be 2-D [M, D], got shape {W.shape}")
    t = as_index_array(func, "targets", targets, ndim=1, size=W.shape[0])
    if t.shape[0] != V.shape[0]:
        raise fail(func, f"targets has {t.shape[0]} labels but V has {V.shape[0]} images "
                         f"(V.shape = {V.shape})")
    out = convnet_forward(V, P, pool=pool)
    loss = cross_entropy(out.logits, t)
    dlogits = cross_entropy_backward(out.logits, t)
    _, grads = _backward(dlogits, V, P, out, _padding(func, P["K"]), pool)  # (forward done once)
    return loss, grads


def init_convnet(in_shape: tuple[int, int, int], kernels: int, kernel_size: int, classes: int,
                 *, pool: int = 2, rng: Any) -> Params:
    """Random initial parameters ("initialise the weights with random values"): He-scaled
    normal weights, zero biases. ``in_shape`` is (C, H, Wd)."""
    gen = rng_from("init_convnet", rng)
    c, h, w = (positive_int("init_convnet", "in_shape", s) for s in in_shape)
    j = positive_int("init_convnet", "kernels", kernels)
    f = positive_int("init_convnet", "kernel_size", kernel_size)
    same_padding(f)
    q = positive_int("init_convnet", "pool", pool)
    d = j * (h // q) * (w // q)
    m = positive_int("init_convnet", "classes", classes)
    return {
        "K": gen.normal(0.0, np.sqrt(2.0 / (c * f * f)), (j, c, f, f)),
        "b": np.zeros(j),
        "W": gen.normal(0.0, np.sqrt(2.0 / d), (m, d)),
        "b_fc": np.zeros(m),
    }


def bars_dataset(n: int, size: int = 8, *, noise: float = 0.2,
                 rng: Any) -> tuple[FloatArray, IntArray]:
    """n noisy images [n, 1, size, size] of one bar each, label 0 = vertical, 1 = horizontal.

    A bar is a line of 1s half the image long (rounded up) at a random row or column and
    offset, on Gaussian noise of standard deviation ``noise``.
    """
    gen = rng_from("bars_dataset", rng)
    n = positive_int("bars_dataset", "n", n)
    size = positive_int("bars_dataset", "size", size)
    if size < 3:
        raise fail("bars_dataset", f"size must be at least 3, got {size}")
    length = (size + 1) // 2
    labels = gen.integers(0, 2, n)
    line = gen.integers(0, size, n)                 # the bar's row or column
    start = gen.integers(0, size - length + 1, n)   # where along it the bar begins
    along = start[:, None] + np.arange(length)      # [n, length] positions along the bar
    across = np.broadcast_to(line[:, None], along.shape)
    rows = np.where(labels[:, None] == 0, along, across)
    cols = np.where(labels[:, None] == 0, across, along)
    images = gen.normal(0.0, noise, (n, 1, size, size))
    images[np.arange(n)[:, None], 0, rows, cols] += 1.0
    return images, labels.astype(np.int64)


@dataclass
class TrainedConvNet:
    """What train_bars_convnet returns: the descent (parameters, losses) and the accuracies."""

    descent: DescentResult
    train_accuracy: float
    test_accuracy: float


def _accuracy(params: Params, V: FloatArray, labels: IntArray) -> float:
    predicted = np.argmax(convnet_forward(V, params).logits, axis=1)
    return float(np.mean(predicted == labels))


def train_bars_convnet(*, seed: int = 0, n_train: int = 200, n_test: int = 200,
                       size: int = 8, kernels: int = 4, lr: float = 0.3,
                       steps: int = 150) -> TrainedConvNet:
    """Train CONV(3×3) → RELU → POOL(2×2) → FC on bars_dataset with full-batch gradient descent.

    Everything random (data, initial weights) comes from ``seed``. With the defaults (lr 0.3 and
    150 steps, chosen by hand for the spec's seeded runs) the test accuracy reaches at least 95 %
    (spec_tests/test_convnet.py).

    Raises: TypeError / ValueError, naming train_bars_convnet, for a seed that is not an int or
    Generator, counts that are not integers ≥ 1, lr not a finite number > 0, an odd size or one
    below 4.
    """
    func = "train_bars_convnet"
    gen = rng_from(func, seed)
    n_train, n_test = positive_int(func, "n_train", n_train), positive_int(func, "n_test", n_test)
    size, kernels = positive_int(func, "size", size), positive_int(func, "kernels", kernels)
    steps, lr = positive_int(func, "steps", steps), positive_number(func, "lr", lr)
    if size < 4 or size % 2:
        raise fail(func, f"size must be an even number ≥ 4 (the 2×2 pool must tile the "
                         f"size × size images), got {size}")
    V, labels = bars_dataset(n_train, size, rng=gen)
    V_test, labels_test = bars_dataset(n_test, size, rng=gen)
    params = init_convnet((1, size, size), kernels, 3, 2, rng=gen)
    descent = gradient_descent(lambda p: convnet_loss_and_grads(p, V, labels), params,
                               lr=lr, steps=steps)
    return TrainedConvNet(descent, _accuracy(descent.params, V, labels),
                          _accuracy(descent.params, V_test, labels_test))


# ---------------------------------------------------------------- a stack of any depth
_POOLS = {"max": (max_pool2d, max_pool2d_backward), "avg": (avg_pool2d, avg_pool2d_backward)}


class ConvStackOutputs(NamedTuple):
    """Every intermediate of conv_stack_forward: per layer l = 1..L (index l − 1) z_l and a_l."""

    z: tuple[FloatArray, ...]   # z_l = a_{l−1} * K_l + b_l   [N, J_l, H_l, W_l]
    a: tuple[FloatArray, ...]   # a_l = f(z_l), same shapes
    p: FloatArray               # pooled a_L             [N, J_L, H_L/Q, W_L/Q]
    h: FloatArray               # p flattened            [N, D]
    logits: FloatArray          # W h + b_fc             [N, M]


def _stack_params(func: str, params: Mapping[str, Any]) -> tuple[list[tuple[FloatArray,
                                                                        FloatArray]], FloatArray,
                                                                   FloatArray]:
    """[(K_1, b_1), ..., (K_L, b_L)], W, b_fc from {"K1", "b1", ..., "KL", "bL", "W", "b_fc"}."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{func}: params must be a mapping of K1, b1, ..., KL, bL, W, b_fc to "
                        f"arrays, got {type(params).__name__}")
    L = sum(1 for k in params if isinstance(k, str) and k.startswith("K"))
    names = [n for l in range(1, L + 1) for n in (f"K{l}", f"b{l}")] + ["W", "b_fc"]
    if L < 1:
        raise fail(func, f"params must hold at least one conv layer K1, b1, got {sorted(params)}")
    P = as_named_arrays(func, "params", params, names)
    return [(P[f"K{l}"], P[f"b{l}"]) for l in range(1, L + 1)], P["W"], P["b_fc"]


def _pad_of(func: str, padding: str, K: FloatArray) -> int:
    if padding not in ("same", "valid"):
        raise fail(func, f"padding must be 'same' or 'valid', got {padding!r}")
    if K.ndim != 4 or K.shape[2] != K.shape[3]:
        raise fail(func, f"kernels must be square [J, C, F, F], got shape {K.shape}")
    return same_padding(K.shape[2]) if padding == "same" else 0


def _pool_of(func: str, pool_kind: str) -> tuple[Any, Any]:
    if pool_kind not in _POOLS:
        raise fail(func, f"pool_kind must be one of {sorted(_POOLS)}, got {pool_kind!r}")
    return _POOLS[pool_kind]


def conv_stack_forward(V: Any, params: Mapping[str, Any], *, f: str = "relu", pool: int = 2,
                       pool_kind: str = "max", padding: str = "same") -> ConvStackOutputs:
    """L conv layers, interspersed with f, then POOL and FC: a_0 = V, z_l = a_{l−1} * K_l + b_l,
    a_l = f(z_l) for l = 1..L, p = pool(a_L), logits = W·flatten(p) + b_fc.

    Shapes: V [N, C, H, Wd]; params K_l [J_l, J_{l−1}, F, F] (J_0 = C, F odd for "same"), b_l
    [J_l], W [M, D], b_fc [M] → ConvStackOutputs. Stride 1; padding "same" ((F − 1)/2, the size
    is kept) or "valid" (none, each layer takes F − 1 off each side's total); pool_kind "max" or
    "avg", window and stride ``pool``.
    """
    func = "conv_stack_forward"
    layers, W, b_fc = _stack_params(func, params)
    act = activation(func, f)
    pool_f, _ = _pool_of(func, pool_kind)
    q = positive_int(func, "pool", pool)
    a = as_float_array(func, "V", V, ndim=4, finite=True)
    zs, acts = [], []
    for K, b in layers:
        z = conv2d(a, K, b, 1, _pad_of(func, padding, K))    # z_l = a_{l−1} * K_l + b_l
        a = act.f(z)                                        # a_l = f(z_l)
        zs.append(z)
        acts.append(a)
    p = pool_f(a, q)                                        # POOL
    h = p.reshape(p.shape[0], -1)
    logits = dense(h, W, b_fc, "identity")                  # FC: W h + b_fc
    return ConvStackOutputs(tuple(zs), tuple(acts), p, h, logits)


def conv_stack_backward(dlogits: Any, V: Any, params: Mapping[str, Any], *, f: str = "relu",
                        pool: int = 2, pool_kind: str = "max",
                        padding: str = "same") -> tuple[FloatArray, dict[str, FloatArray]]:
    """Backpropagation through FC, POOL and the L conv layers in reverse: δ_l = ∂L/∂a_l ∘ f'(z_l),
    (∂L/∂a_{l−1}, ∂L/∂K_l, ∂L/∂b_l) = conv2d_backward(δ_l, a_{l−1}, K_l, b_l).

    Shapes: dlogits [N, M]; V, params and options as conv_stack_forward → (∂L/∂V, grads keyed
    like params).
    """
    func = "conv_stack_backward"
    _stack_params(func, params)
    out = conv_stack_forward(V, params, f=f, pool=pool, pool_kind=pool_kind, padding=padding)
    return _stack_backward(func, dlogits, V, params, out, f, pool, pool_kind, padding)


def _stack_backward(func: str, dlogits: Any, V: Any, params: Mapping[str, Any],
                    out: ConvStackOutputs, f: str, pool: int, pool_kind: str,
                    padding: str) -> tuple[FloatArray, dict[str, FloatArray]]:
    """conv_stack_backward from the forward pass's outputs ``out``."""
    layers, W, b_fc = _stack_params(func, params)
    act = activation(func, f)
    _, pool_b = _pool_of(func, pool_kind)
    dh, dW, db_fc = dense_backward(dlogits, out.h, W, b_fc, "identity")        # FC
    da = pool_b(dh.reshape(out.p.shape), out.a[-1], pool)                       # POOL
    grads: dict[str, FloatArray] = {"W": dW, "b_fc": db_fc}
    inputs = (as_float_array(func, "V", V), *out.a[:-1])                        # a_0 .. a_{L−1}
    for l in range(len(layers), 0, -1):
        K, b = layers[l - 1]
        dz = da * act.df(out.z[l - 1])                                          # δ_l
        da, dK, db = conv2d_backward(dz, inputs[l - 1], K, b, 1, _pad_of(func, padding, K))
        grads[f"K{l}"], grads[f"b{l}"] = dK, cast(FloatArray, db)
    return da, grads


def conv_stack_loss_and_grads(params: Mapping[str, Any], V: Any, targets: Any, *,
                              f: str = "relu", pool: int = 2, pool_kind: str = "max",
                              padding: str = "same") -> tuple[float, dict[str, FloatArray]]:
    """The mean cross-entropy of conv_stack_forward's logits and its gradients (keyed like
    params). Shapes: V [N, C, H, Wd], targets [N] class ids in [0, M)."""
    func = "conv_stack_loss_and_grads"
    _, W, _ = _stack_params(func, params)
    V = as_float_array(func, "V", V, ndim=4, finite=True)
    t = as_index_array(func, "targets", targets, ndim=1, size=max(W.shape[0], 1))
    if t.shape[0] != V.shape[0]:
        raise fail(func, f"targets has {t.shape[0]} labels but V has {V.shape[0]} images")
    out = conv_stack_forward(V, params, f=f, pool=pool, pool_kind=pool_kind, padding=padding)
    _, grads = _stack_backward(func, cross_entropy_backward(out.logits, t), V, params, out, f,
                               pool, pool_kind, padding)               # (forward done once)
    return cross_entropy(out.logits, t), grads


def init_conv_stack(in_shape: tuple[int, int, int], channels: Sequence[int], kernel_size: int,
                    classes: int, *, pool: int = 2, padding: str = "same",
                    rng: Any) -> Params:
    """Random initial parameters of conv_stack_forward: He-scaled normal kernels and FC weights,
    zero biases; ``channels`` = (J_1, ..., J_L), one entry per conv layer."""
    func = "init_conv_stack"
    gen = rng_from(func, rng)
    c, h, w = (positive_int(func, "in_shape", s) for s in in_shape)
    f = positive_int(func, "kernel_size", kernel_size)
    q = positive_int(func, "pool", pool)
    js = [positive_int(func, "channels", j) for j in channels]
    if not js:
        raise fail(func, "channels must name at least one conv layer, got none")
    pad = _pad_of(func, padding, np.zeros((1, 1, f, f)))
    params: Params = {}
    for l, j in enumerate(js, start=1):
        params[f"K{l}"] = gen.normal(0.0, np.sqrt(2.0 / (c * f * f)), (j, c, f, f))
        params[f"b{l}"] = np.zeros(j)
        c, h, w = j, output_size(h, f, 1, pad), output_size(w, f, 1, pad)
    d = c * (h // q) * (w // q)
    m = positive_int(func, "classes", classes)
    params["W"] = gen.normal(0.0, np.sqrt(2.0 / d), (m, d))
    params["b_fc"] = np.zeros(m)
    return params


def receptive_field(depth: int, kernel_size: int) -> int:
    """The side 1 + L(F − 1) of the image patch a unit of conv layer L sees (stride 1, F × F
    kernels): each layer widens the field by F − 1, so 3×3 kernels give 3, 5, 7, ..."""
    L = positive_int("receptive_field", "depth", depth)
    return 1 + L * (positive_int("receptive_field", "kernel_size", kernel_size) - 1)


def linear_stack_kernel(params: Mapping[str, Any]) -> tuple[FloatArray, FloatArray]:
    """The one conv layer (K, b) that the conv layers of a linear (f = identity), valid-padded
    stack add up to: a_L = V * K + b exactly.

    Composing two layers, (V * K_1 + b_1) * K_2 + b_2 = V * (K_1 ⊛ K_2) + (b_2 + Σ K_2 b_1), where
    (K_1 ⊛ K_2)[k, c, u, v] = Σ_{m,p,q} K_2[k, m, p, q] K_1[m, c, u − p, v − q] is the full
    (zero-padded) convolution of the kernels and the bias term sums K_2's taps over b_1.

    Shapes: params as conv_stack_forward (W, b_fc ignored) → (K [J_L, C, F_L, F_L], b [J_L]) with
    F_L = 1 + Σ_l (F_l − 1). Kernels need not be odd.
    """
    layers, _, _ = _stack_params("linear_stack_kernel", params)
    K, b = layers[0]
    for K2, b2 in layers[1:]:
        if K2.ndim != 4 or K2.shape[1] != K.shape[0]:
            raise fail("linear_stack_kernel", f"a kernel of shape {K2.shape} cannot follow one "
                                              f"with {K.shape[0]} output channels")
        f2h, f2w = K2.shape[2] - 1, K2.shape[3] - 1
        # full convolution as cross-correlation with the flipped K_2 over the zero-padded K_1,
        # K_1's input channels c playing the batch: [C, M, F1, F1] → [C, K, F1 + F2 − 1, ...]
        full = conv2d(K.transpose(1, 0, 2, 3), K2[:, :, ::-1, ::-1], None, 1, (f2h, f2w))
        K, b = full.transpose(1, 0, 2, 3), b2 + np.einsum("kmpq,m->k", K2, b)
    return np.ascontiguousarray(K), b


def signed_bars_dataset(n: int, size: int = 8, *, noise: float = 0.2,
                        rng: Any) -> tuple[FloatArray, IntArray]:
    """bars_dataset with each bar bright (+1) or dark (−1) at random: label 0 vertical,
    1 horizontal, whatever the sign.

    For any affine classifier (logit difference d(V) = a·V + e), an image and its negative −V
    have d(V) + d(−V) = 2e: unless e has the sign of their label, at most one of the two is
    right. With V and −V equally likely in both classes, no affine map of the image classifies
    more than 75 % correctly on average (100 % of one class, 50 % of the other).

    Shapes: → (images [n, 1, size, size], labels [n]).
    """
    gen = rng_from("signed_bars_dataset", rng)
    V, labels = bars_dataset(n, size, noise=noise, rng=gen)
    sign = np.where(gen.integers(0, 2, n) == 1, 1.0, -1.0)
    return V * sign[:, None, None, None], labels


def train_signed_bars(*, f: str = "relu", seed: int = 0, n_train: int = 100, n_test: int = 200,
                      size: int = 8, channels: Sequence[int] = (4, 4), lr: float = 0.05,
                      steps: int = 100) -> TrainedConvNet:
    """Train the stack CONV(3×3) → f → CONV(3×3) → f → AVG POOL(2×2) → FC (``channels`` sets the
    depth) on signed_bars_dataset (Adam, full batch). The held-out set is ``n_test`` images
    together with their negatives (2·n_test in all), so that the bound of signed_bars_dataset
    holds on it exactly: with f = "identity" the network is an affine map of the image (average
    pooling is linear too) and gets at most (1 + the larger class's share)/2 of it right; with
    f = "relu" it is not bound. Data and initial weights from ``seed``."""
    func = "train_signed_bars"
    gen = rng_from(func, seed)
    n_train, n_test = positive_int(func, "n_train", n_train), positive_int(func, "n_test", n_test)
    steps, lr = positive_int(func, "steps", steps), positive_number(func, "lr", lr)
    activation(func, f)
    V, labels = signed_bars_dataset(n_train, size, rng=gen)
    V_test, labels_test = signed_bars_dataset(n_test, size, rng=gen)
    V_test, labels_test = np.concatenate([V_test, -V_test]), np.tile(labels_test, 2)
    params = init_conv_stack((1, size, size), channels, 3, 2, rng=gen)
    opts: dict[str, Any] = {"f": f, "pool_kind": "avg"}
    descent = gradient_descent(lambda p: conv_stack_loss_and_grads(p, V, labels, **opts),
                               params, lr=lr, steps=steps, update=Adam(lr).step)

    def accuracy(V: FloatArray, labels: IntArray) -> float:
        logits = conv_stack_forward(V, descent.params, **opts).logits
        return float(np.mean(np.argmax(logits, axis=1) == labels))

    return TrainedConvNet(descent, accuracy(V, labels), accuracy(V_test, labels_test))
