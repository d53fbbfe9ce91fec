"""Classification + localisation (lecture: "Applications: Localization and Detection", "Computer
Vision Tasks": Classification, Classification + Localization, Object Detection, Instance
Segmentation).

The slides show these tasks only as pictures (results of Faster R-CNN, Ren et al. 2015) and give
no method; the claim registry lists object detection and instance segmentation as mentioned, not
specified. Classification + localisation of a single object has a small honest version, built
here from the project's own layers: the ConvNet of reference.convnet with a second head. One
image holds one bar (reference.convnet's bars task); the network says which way it lies (two
class scores) and where its centre is (two numbers, regressed):

    a = ReLU(V * K_1 + b_1) ... (conv_stack_forward, no pooling: pooling would blur the place)
    out = W·flatten(a) + b_fc = [class scores (2), centre row, centre column]
    L = cross_entropy(class scores, label) + ½‖centre − true centre‖² (mean over the batch)

Notation
--------
N, S          batch size, image side (S × S images, one channel)
V             images [N, 1, S, S]
labels        0 = vertical, 1 = horizontal [N]
centre        the bar's centre (row, column) in pixels [N, 2]
out           the network's four outputs [N, 4]: scores [:, :2], centre estimate [:, 2:]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reference._checks import (
    FloatArray,
    IntArray,
    as_float_array,
    as_index_array,
    fail,
    positive_int,
    positive_number,
    rng_from,
)
from reference.convnet import _stack_backward, conv_stack_forward, init_conv_stack
from reference.losses import (
    cross_entropy,
    cross_entropy_backward,
    squared_error,
    squared_error_backward,
)
from reference.optim import Adam, DescentResult, gradient_descent

__all__ = ["Localizer", "localization_loss_and_grads", "located_bars", "train_localizer"]

_OPTIONS: dict[str, Any] = {"f": "relu", "pool": 1, "pool_kind": "max", "padding": "same"}


def located_bars(n: int, size: int = 8, *, noise: float = 0.2,
                 rng: Any) -> tuple[FloatArray, IntArray, FloatArray]:
    """``n`` noisy images of one bar each (as reference.convnet.bars_dataset: ⌈size/2⌉ pixels
    long, on N(0, noise²) noise), its orientation and its centre.

    Shapes: → (V [n, 1, size, size], labels [n] (0 vertical, 1 horizontal), centre [n, 2] as
    (row, column) in pixels, the mean of the bar's pixel coordinates).
    """
    func = "located_bars"
    gen = rng_from(func, rng)
    n, size = positive_int(func, "n", n), positive_int(func, "size", size)
    if size < 3:
        raise fail(func, f"size must be at least 3, got {size}")
    length = (size + 1) // 2
    labels = gen.integers(0, 2, n)
    line = gen.integers(0, size, n)                         # the bar's row or column
    start = gen.integers(0, size - length + 1, n)           # where along it the bar begins
    along = start[:, None] + np.arange(length)              # [n, length]
    across = np.broadcast_to(line[:, None], along.shape)
    rows = np.where(labels[:, None] == 0, along, across)
    cols = np.where(labels[:, None] == 0, across, along)
    V = gen.normal(0.0, noise, (n, 1, size, size))
    V[np.arange(n)[:, None], 0, rows, cols] += 1.0
    centre = np.stack([rows.mean(axis=1), cols.mean(axis=1)], axis=1)
    return V, labels.astype(np.int64), centre


def localization_loss_and_grads(params: Mapping[str, Any], V: Any, labels: Any,
                                centre: Any) -> tuple[float, dict[str, FloatArray]]:
    """L = cross_entropy(out[:, :2], labels) + squared_error(out[:, 2:], centre), and ∂L/∂params.

    Shapes: params as reference.convnet.conv_stack_forward with W [4, D], b_fc [4];
    V [N, 1, S, S], labels [N], centre [N, 2] → (L, grads keyed like params).
    """
    func = "localization_loss_and_grads"
    V = as_float_array(func, "V", V, ndim=4, finite=True)
    t = as_index_array(func, "labels", labels, ndim=1, size=2)
    y = as_float_array(func, "centre", centre, ndim=2, finite=True)
    if t.shape[0] != V.shape[0] or y.shape != (V.shape[0], 2):
        raise fail(func, f"labels [N] and centre [N, 2] must match V's N = {V.shape[0]} images, "
                         f"got {t.shape} and {y.shape}")
    out = conv_stack_forward(V, params, **_OPTIONS)
    if out.logits.shape[1] != 4:
        raise fail(func, f"the network must have 4 outputs (2 scores, row, column), got "
                         f"{out.logits.shape[1]}")
    scores, where = out.logits[:, :2], out.logits[:, 2:]
    loss = cross_entropy(scores, t) + squared_error(where, y)
    dout = np.concatenate([cross_entropy_backward(scores, t), squared_error_backward(where, y)],
                          axis=1)
    _, grads = _stack_backward(func, dout, V, params, out, **_OPTIONS)
    return loss, grads


@dataclass
class Localizer:
    """What train_localizer returns: the descent and the held-out figures."""

    descent: DescentResult
    accuracy: float          # orientation right
    centre_rmse: float       # √(mean over images of the squared distance to the true centre)
    baseline_rmse: float     # the same for always answering the training images' mean centre


def train_localizer(*, seed: int = 0, n_train: int = 400, n_test: int = 500, size: int = 8,
                    kernels: int = 4, lr: float = 0.05, steps: int = 100) -> Localizer:
    """Train CONV(3×3) → ReLU → FC(4) on located_bars with full-batch Adam on
    localization_loss_and_grads. Data and initial weights from ``seed``."""
    func = "train_localizer"
    gen = rng_from(func, seed)
    n_train, n_test = positive_int(func, "n_train", n_train), positive_int(func, "n_test", n_test)
    steps, lr = positive_int(func, "steps", steps), positive_number(func, "lr", lr)
    kernels = positive_int(func, "kernels", kernels)
    V, labels, centre = located_bars(n_train, size, rng=gen)
    params = init_conv_stack((1, size, size), (kernels,), 3, 4, pool=1, rng=gen)
    descent = gradient_descent(lambda p: localization_loss_and_grads(p, V, labels, centre),
                               params, lr=lr, steps=steps, update=Adam(lr).step)
    V_t, labels_t, centre_t = located_bars(n_test, size, rng=gen)
    out = conv_stack_forward(V_t, descent.params, **_OPTIONS).logits

    def rmse(estimate: FloatArray) -> float:
        return float(np.sqrt(np.mean(np.sum((estimate - centre_t) ** 2, axis=1))))

    return Localizer(descent, float(np.mean(np.argmax(out[:, :2], axis=1) == labels_t)),
                     rmse(out[:, 2:]), rmse(np.broadcast_to(centre.mean(axis=0), centre_t.shape)))
