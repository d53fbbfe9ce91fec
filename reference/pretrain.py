"""Greedy layer-wise pre-training (lecture: "Going from Shallow to Deep Neural Networks").

    Instead we train layerwise on unannotated data (a.k.a. pre-training):
      - Train the first hidden layer
      - Fix the parameters for the first layer and train the second layer.
      - Fix the parameters for the first & second layer, train the third layer
    After the pre-training, train all layers using your annotated data.

Each hidden layer is trained as the encoder of an autoencoder: h = f(W x + b) must let a linear
decoder x̂ = W_dec h + c reconstruct its input, under J = 1/(2N) Σ_n ‖x̂_n − x_n‖². No label is
used. The layer is then frozen, the data are pushed through it, and its codes are the next
layer's unlabelled data. Fine-tuning puts a softmax output layer on top and trains every layer on
labelled data with cross-entropy.

Notation
--------
N         number of examples
D         input width
M_l       width of hidden layer l (``sizes``)
C         number of classes of the labelled data
X         unlabelled inputs [N, D]; for fine-tuning, labelled inputs [N, D] with targets t [N]
W, b      an encoder layer, W [M, D], b [M]: h = f(W x + b)
W_dec, c  its decoder, W_dec [D, M], c [D]: x̂ = W_dec h + c (linear)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from reference._checks import (
    FloatArray,
    as_float_array,
    as_index_array,
    fail,
    positive_int,
    positive_number,
    rng_from,
)
from reference.activations import activation
from reference.feedforward import Network, dense, init_mlp, mlp_backward, mlp_forward
from reference.losses import (
    cross_entropy,
    cross_entropy_backward,
    squared_error,
    squared_error_backward,
)
from reference.optim import Params, gradient_descent

__all__ = ["Autoencoder", "FineTuned", "Pretrained", "fine_tune", "pretrain_layerwise",
           "train_autoencoder"]


class Autoencoder(NamedTuple):
    """One pre-trained layer: the encoder (W, b), its decoder (W_dec, c), the loss curve."""

    W: FloatArray
    b: FloatArray
    W_dec: FloatArray
    c: FloatArray
    losses: list[float]


class Pretrained(NamedTuple):
    """The stack of frozen encoders (a Network of the hidden layers) and each layer's
    autoencoder, in order."""

    network: Network
    autoencoders: tuple[Autoencoder, ...]


class FineTuned(NamedTuple):
    """The fine-tuned network (hidden layers and a linear output layer giving logits [N, C])
    and the labelled loss before each step."""

    network: Network
    losses: list[float]


def train_autoencoder(X: Any, hidden: int, rng: Any, *, f: str = "sigmoid", steps: int = 300,
                      lr: float = 0.5) -> Autoencoder:
    """Train one layer h = f(W x + b) to reconstruct x through x̂ = W_dec h + c, without labels.

    Random initial weights (init_mlp, from ``rng``), then ``steps`` steps of gradient descent on
    J = 1/(2N) Σ_n ‖x̂_n − x_n‖². Shapes: X [N, D], ``hidden`` = M → W [M, D], b [M],
    W_dec [D, M], c [D].
    """
    X = as_float_array("train_autoencoder", "X", X, ndim=2, finite=True)
    hidden = positive_int("train_autoencoder", "hidden", hidden)
    steps = positive_int("train_autoencoder", "steps", steps)
    lr = positive_number("train_autoencoder", "lr", lr)
    activation("train_autoencoder", f)
    fs = (f, "identity")
    init = init_mlp((X.shape[1], hidden, X.shape[1]), fs, rng)

    def loss_and_grads(p: Params) -> tuple[float, Params]:
        x_hat, cache = mlp_forward(X, (p["W"], p["W_dec"]), (p["b"], p["c"]), fs)
        g = mlp_backward(squared_error_backward(x_hat, X), cache)  # ∂J/∂x̂ = (x̂ − x)/N
        return (squared_error(x_hat, X),
                {"W": g.dWs[0], "b": g.dbs[0], "W_dec": g.dWs[1], "c": g.dbs[1]})

    params = {"W": init.Ws[0], "b": init.bs[0], "W_dec": init.Ws[1], "c": init.bs[1]}
    result = gradient_descent(loss_and_grads, params, lr=lr, steps=steps)
    p = result.params
    return Autoencoder(p["W"], p["b"], p["W_dec"], p["c"], result.losses)


def _sizes(func: str, sizes: Any) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) == 0:
        raise fail(func, f"sizes must list the hidden layer widths (at least one), got "
                         f"{sizes!r}")
    return tuple(positive_int(func, f"sizes[{i}]", s) for i, s in enumerate(sizes))


def pretrain_layerwise(X: Any, sizes: Sequence[int], rng: Any, *, f: str = "sigmoid",
                       steps: int = 300, lr: float = 0.5) -> Pretrained:
    """Greedy layer-wise pre-training on unlabelled X: train layer 1 as an autoencoder, freeze
    it, train layer 2 on its codes, freeze it, and so on.

    Shapes: X [N, D]; sizes (M_1, ..., M_L) → Pretrained: ``network``, the frozen encoders with
    W_l [M_l, M_{l−1}] (M_0 = D), and each layer's autoencoder.
    The layers draw their random initial weights from ``rng`` one after the other, so the first
    k layers of a deeper stack equal a stack of k layers trained from the same seed: training a
    later layer never touches an earlier one.
    """
    X = as_float_array("pretrain_layerwise", "X", X, ndim=2, finite=True)
    widths = _sizes("pretrain_layerwise", sizes)
    steps = positive_int("pretrain_layerwise", "steps", steps)
    lr = positive_number("pretrain_layerwise", "lr", lr)
    activation("pretrain_layerwise", f)
    gen = rng_from("pretrain_layerwise", rng)
    codes = X
    stack = []
    for width in widths:
        ae = train_autoencoder(codes, width, gen, f=f, steps=steps, lr=lr)  # train layer l
        stack.append(ae)
        codes = dense(codes, ae.W, ae.b, f)      # freeze it: its codes are the next layer's data
    network = Network(tuple(ae.W for ae in stack), tuple(ae.b for ae in stack),
                      (f,) * len(stack))
    return Pretrained(network, tuple(stack))


def fine_tune(network: Network, X: Any, t: Any, rng: Any, *, classes: int, steps: int = 300,
              lr: float = 0.5) -> FineTuned:
    """Put a linear output layer on the hidden layers and train ALL layers on labelled data.

    The output layer z = W_out a_L + b_out (random, from ``rng``) gives C logits; the loss is the
    softmax cross-entropy (mean over N) against the integer targets t, minimised by gradient
    descent over every layer's weights, the pre-trained ones included.

    Shapes: X [N, D], t [N] with ids in [0, C) → a Network with the hidden layers and the output
    layer (activation "identity", logits [N, C]).
    """
    if not isinstance(network, Network):
        raise TypeError(f"fine_tune: network must be a Network (e.g. pretrain_layerwise(...)"
                        f".network), got {type(network).__name__}")
    X = as_float_array("fine_tune", "X", X, ndim=2, finite=True)
    classes = positive_int("fine_tune", "classes", classes)
    t = as_index_array("fine_tune", "t", t, ndim=1, size=classes)
    if t.shape[0] != X.shape[0]:
        raise fail("fine_tune", f"X has {X.shape[0]} examples but t has {t.shape[0]} targets")
    steps = positive_int("fine_tune", "steps", steps)
    lr = positive_number("fine_tune", "lr", lr)
    width = network.Ws[-1].shape[0]
    head = init_mlp((width, classes), "identity", rng)
    Ws = (*network.Ws, head.Ws[0])
    bs = (*network.bs, head.bs[0])
    fs = (*network.fs, "identity")
    L = len(Ws)

    def loss_and_grads(p: Params) -> tuple[float, Params]:
        z, cache = mlp_forward(X, [p[f"W{l}"] for l in range(L)],
                               [p[f"b{l}"] for l in range(L)], fs)
        g = mlp_backward(cross_entropy_backward(z, t), cache)
        grads = {f"W{l}": g.dWs[l] for l in range(L)} | {f"b{l}": g.dbs[l] for l in range(L)}
        return cross_entropy(z, t), grads

    params = {f"W{l}": np.asarray(Ws[l]) for l in range(L)} | {f"b{l}": np.asarray(bs[l])
                                                                for l in range(L)}
    result = gradient_descent(loss_and_grads, params, lr=lr, steps=steps)
    p = result.params
    return FineTuned(Network(tuple(p[f"W{l}"] for l in range(L)),
                             tuple(p[f"b{l}"] for l in range(L)), fs), result.losses)
