"""Feed-forward networks (lecture: "Feed Forward Neural Networks", "Feed forward example",
"Hidden-Layer").

    Layers are usually fully connected; numbers of hidden units typically chosen by hand.

Notation
--------
N        batch size (rows of x; the slides' column vectors are the rows here)
D, M     input and output width of a layer
x        layer input [N, D]
W        weights [M, D], in the slide's orientation: z = Wx + b is written ``x @ W.T + b``
b        bias [M]
z        pre-activation [N, M]
a        activation a = f(z) [N, M]
L        number of layers of a general network; layer l has W_l [M_l, D_l], b_l [M_l], f_l,
         a_0 = x and a_l = f_l(W_l a_{l−1} + b_l)
a1..a5   the units of the slide's 2-2-1 network: inputs a1, a2, hidden a3, a4, output a5
W_ji     the weight from unit j to unit i (W13, W23, W14, W24, W35, W45), the slide's names
H        number of hidden units of a one-hidden-layer network
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np

from reference._checks import (
    FloatArray,
    as_float_array,
    fail,
    positive_int,
    positive_number,
    rng_from,
)
from reference.activations import activation
from reference.losses import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_backward,
)
from reference.optim import Params, gradient_descent

__all__ = [
    "XOR_INPUTS",
    "XOR_NETWORK",
    "XOR_TARGETS",
    "MLPCache",
    "MLPGradients",
    "Network",
    "TwoTwoOne",
    "TwoTwoOneWeights",
    "XORTraining",
    "dense",
    "dense_backward",
    "fit_one_hidden_layer",
    "init_mlp",
    "mlp_backward",
    "mlp_forward",
    "train_xor",
    "two_two_one",
    "two_two_one_backward",
]


def _dense_inputs(func: str, x: Any, W: Any, b: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = as_float_array(func, "x", x, ndim=2)
    W = as_float_array(func, "W", W, ndim=2, finite=True)
    b = as_float_array(func, "b", b, ndim=1, finite=True)
    if W.shape[1] != x.shape[1]:
        raise fail(func, f"W expects {W.shape[1]} inputs but x has {x.shape[1]} "
                         f"(x.shape = {x.shape}, W.shape = {W.shape})")
    if b.shape[0] != W.shape[0]:
        raise fail(func, f"b has {b.shape[0]} entries but W has {W.shape[0]} rows "
                         f"(W.shape = {W.shape}, b.shape = {b.shape})")
    return x, W, b


def dense(x: Any, W: Any, b: Any, f: str = "sigmoid") -> FloatArray:
    """A fully connected layer: a = f(Wx + b).

    Shapes: x [N, D], W [M, D], b [M] → a [N, M]. ``f`` names an activation of
    reference.activations.ACTIVATIONS ("identity" gives the linear layer z = Wx + b).
    """
    act = activation("dense", f)
    x, W, b = _dense_inputs("dense", x, W, b)
    z = x @ W.T + b          # z = Wx + b
    return act.f(z)          # a = f(z)


def dense_backward(
    da: Any, x: Any, W: Any, b: Any, f: str = "sigmoid"
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of a dense layer: δ = ∂L/∂a ∘ f'(z); ∂L/∂x = δW, ∂L/∂W = δᵀx, ∂L/∂b = Σ_n δ.

    Shapes: da [N, M] (the upstream gradient ∂L/∂a), x [N, D], W [M, D], b [M] →
    (dx [N, D], dW [M, D], db [M]). In the slides' column form ∂L/∂W = δ xᵀ summed over examples.
    """
    act = activation("dense_backward", f)
    x, W, b = _dense_inputs("dense_backward", x, W, b)
    da = as_float_array("dense_backward", "da", da, ndim=2)
    if da.shape != (x.shape[0], W.shape[0]):
        raise fail("dense_backward", f"da must have shape {(x.shape[0], W.shape[0])} (N, M), "
                                     f"got {da.shape}")
    z = x @ W.T + b
    delta = da * act.df(z)   # δ = ∂L/∂a ∘ f'(z)
    dx = delta @ W           # ∂L/∂x = Wᵀδ   (columns; rows: δW)
    dW = delta.T @ x         # ∂L/∂W = δxᵀ   (columns; rows: δᵀx, summed over examples)
    db = delta.sum(axis=0)   # ∂L/∂b = δ     (summed over examples)
    return dx, dW, db


# ---------------------------------------------------------------- the slide's 2-2-1 network
class TwoTwoOneWeights(NamedTuple):
    """The weights of the slide's 2-2-1 network, named W_ji for the edge from unit j to unit i.

    The slide has no biases; b3, b4, b5 (default 0) add one to each non-input unit, as
    in_i = Σ_j W_ji a_j + b_i. A dict with these keys is accepted wherever this is.
    """

    W13: float
    W23: float
    W14: float
    W24: float
    W35: float
    W45: float
    b3: float = 0.0
    b4: float = 0.0
    b5: float = 0.0


class TwoTwoOne(NamedTuple):
    """The units of the 2-2-1 network after a forward pass, each [N] (or 0-d)."""

    a3: FloatArray
    a4: FloatArray
    a5: FloatArray


def _two_two_one_inputs(func: str, a1: Any, a2: Any,
                        W: Any) -> tuple[FloatArray, FloatArray, TwoTwoOneWeights]:
    a1 = as_float_array(func, "a1", a1, ndim=(0, 1))
    a2 = as_float_array(func, "a2", a2, ndim=(0, 1))
    if a1.shape != a2.shape:
        raise fail(func, f"a1 and a2 must have the same shape, got {a1.shape} and {a2.shape}")
    if isinstance(W, TwoTwoOneWeights):
        given = W._asdict()
    elif isinstance(W, dict):
        given = dict(W)
    else:
        raise TypeError(f"{func}: W must be a TwoTwoOneWeights or a dict with keys "
                        f"{TwoTwoOneWeights._fields}, got {type(W).__name__}")
    unknown = set(given) - set(TwoTwoOneWeights._fields)
    missing = set(TwoTwoOneWeights._fields[:6]) - set(given)
    if unknown or missing:
        raise fail(func, f"W must have the keys W13, W23, W14, W24, W35, W45 (and optionally "
                         f"b3, b4, b5); missing {sorted(missing)}, unknown {sorted(unknown)}")
    values = {k: float(as_float_array(func, f"W[{k!r}]", v, ndim=0, finite=True))
              for k, v in given.items()}
    return a1, a2, TwoTwoOneWeights(**values)


def two_two_one(a1: Any, a2: Any, W: Any, g: str = "sigmoid") -> TwoTwoOne:
    """The slide's network: a5 = g(W35·g(W13·a1 + W23·a2) + W45·g(W14·a1 + W24·a2)).

    Shapes: a1, a2 [N] (or scalars) → a3, a4, a5 [N]. W: TwoTwoOneWeights (or a dict of them).
    ``g`` names an activation of reference.activations.ACTIVATIONS, shared by all three units.
    """
    act = activation("two_two_one", g)
    a1, a2, W = _two_two_one_inputs("two_two_one", a1, a2, W)
    a3 = act.f(W.W13 * a1 + W.W23 * a2 + W.b3)     # a3 = g(W13·a1 + W23·a2)
    a4 = act.f(W.W14 * a1 + W.W24 * a2 + W.b4)     # a4 = g(W14·a1 + W24·a2)
    a5 = act.f(W.W35 * a3 + W.W45 * a4 + W.b5)     # a5 = g(W35·a3 + W45·a4)
    return TwoTwoOne(a3, a4, a5)


def two_two_one_backward(
    da5: Any, a1: Any, a2: Any, W: Any, g: str = "sigmoid"
) -> tuple[FloatArray, FloatArray, TwoTwoOneWeights]:
    """Gradients of the 2-2-1 network by the chain rule, unit by unit.

    δ5 = ∂L/∂a5 · g'(in5); δ3 = δ5 W35 g'(in3); δ4 = δ5 W45 g'(in4);
    ∂L/∂W_ji = Σ_n δ_i a_j, ∂L/∂b_i = Σ_n δ_i, ∂L/∂a1 = δ3 W13 + δ4 W14, ∂L/∂a2 = δ3 W23 + δ4 W24.

    Shapes: da5 shaped like a1 → (da1, da2 shaped like a1, dW a TwoTwoOneWeights of floats).
    """
    act = activation("two_two_one_backward", g)
    a1, a2, W = _two_two_one_inputs("two_two_one_backward", a1, a2, W)
    da5 = as_float_array("two_two_one_backward", "da5", da5)
    if da5.shape != a1.shape:
        raise fail("two_two_one_backward", f"da5 must have the shape of a1 {a1.shape}, got "
                                           f"{da5.shape}")
    in3 = W.W13 * a1 + W.W23 * a2 + W.b3
    in4 = W.W14 * a1 + W.W24 * a2 + W.b4
    a3, a4 = act.f(in3), act.f(in4)
    in5 = W.W35 * a3 + W.W45 * a4 + W.b5
    d5 = da5 * act.df(in5)                 # δ5 = ∂L/∂a5 · g'(in5)
    d3 = d5 * W.W35 * act.df(in3)          # δ3 = δ5 · W35 · g'(in3)
    d4 = d5 * W.W45 * act.df(in4)          # δ4 = δ5 · W45 · g'(in4)
    dW = TwoTwoOneWeights(
        W13=float(np.sum(d3 * a1)), W23=float(np.sum(d3 * a2)),
        W14=float(np.sum(d4 * a1)), W24=float(np.sum(d4 * a2)),
        W35=float(np.sum(d5 * a3)), W45=float(np.sum(d5 * a4)),
        b3=float(np.sum(d3)), b4=float(np.sum(d4)), b5=float(np.sum(d5)),
    )
    return d3 * W.W13 + d4 * W.W14, d3 * W.W23 + d4 * W.W24, dW


# ---------------------------------------------------------------- networks of any depth
class Network(NamedTuple):
    """A fully connected network: layer l computes a_l = f_l(W_l a_{l−1} + b_l)."""

    Ws: tuple[FloatArray, ...]     # W_l [M_l, D_l], D_1 = D and D_{l+1} = M_l
    bs: tuple[FloatArray, ...]     # b_l [M_l]
    fs: tuple[str, ...]            # f_l, names of reference.activations.ACTIVATIONS


class MLPCache(NamedTuple):
    """What mlp_backward needs from mlp_forward: every layer's input, pre-activation, weights."""

    inputs: tuple[FloatArray, ...]     # a_{l−1}, the input of layer l [N, D_l]
    zs: tuple[FloatArray, ...]         # z_l = W_l a_{l−1} + b_l [N, M_l]
    Ws: tuple[FloatArray, ...]
    fs: tuple[str, ...]


class MLPGradients(NamedTuple):
    """Gradients of a network in the order of mlp_forward's arguments: x, Ws, bs."""

    dx: FloatArray                 # [N, D]
    dWs: tuple[FloatArray, ...]    # ∂L/∂W_l [M_l, D_l]
    dbs: tuple[FloatArray, ...]    # ∂L/∂b_l [M_l]


def _layer_functions(func: str, fs: Any, L: int) -> tuple[str, ...]:
    names = (fs,) * L if isinstance(fs, str) else tuple(fs)
    if len(names) != L:
        raise fail(func, f"fs must name one activation per layer ({L}), got {len(names)}")
    for name in names:
        activation(func, name)
    return names


def mlp_forward(
    x: Any, Ws: Sequence[Any], bs: Sequence[Any], fs: str | Sequence[str] = "sigmoid"
) -> tuple[FloatArray, MLPCache]:
    """A fully connected network of any depth: a_0 = x, a_l = f_l(W_l a_{l−1} + b_l), out = a_L.

    Shapes: x [N, D]; W_l [M_l, D_l] with D_1 = D and D_{l+1} = M_l; b_l [M_l] → a_L [N, M_L].
    ``fs`` is one activation name for every layer or a sequence with one per layer.

    Returns
    -------
    a_L and an MLPCache for mlp_backward.
    """
    func = "mlp_forward"
    if isinstance(Ws, np.ndarray) or isinstance(bs, np.ndarray):
        raise TypeError(f"{func}: Ws and bs must be sequences of arrays (one per layer), "
                        f"not a single array")
    if len(Ws) == 0 or len(Ws) != len(bs):
        raise fail(func, f"Ws and bs must hold one array per layer (at least one), got "
                         f"{len(Ws)} weight matrices and {len(bs)} biases")
    names = _layer_functions(func, fs, len(Ws))
    a = as_float_array(func, "x", x, ndim=2)
    inputs, zs, weights = [], [], []
    for l, (W_l, b_l, f_l) in enumerate(zip(Ws, bs, names), start=1):
        W = as_float_array(func, f"Ws[{l - 1}]", W_l, ndim=2, finite=True)
        b = as_float_array(func, f"bs[{l - 1}]", b_l, ndim=1, finite=True)
        if W.shape[1] != a.shape[1]:
            raise fail(func, f"layer {l}: W expects {W.shape[1]} inputs but gets {a.shape[1]} "
                             f"(Ws[{l - 1}].shape = {W.shape}, input shape {a.shape})")
        if b.shape[0] != W.shape[0]:
            raise fail(func, f"layer {l}: b has {b.shape[0]} entries but W has {W.shape[0]} "
                             f"rows (Ws[{l - 1}].shape = {W.shape}, bs[{l - 1}].shape = "
                             f"{b.shape})")
        z = a @ W.T + b                          # z_l = W_l a_{l−1} + b_l
        inputs.append(a)
        zs.append(z)
        weights.append(W)
        a = activation(func, f_l).f(z)           # a_l = f_l(z_l)
    return a, MLPCache(tuple(inputs), tuple(zs), tuple(weights), names)


def mlp_backward(da: Any, cache: MLPCache) -> MLPGradients:
    """Backpropagation through mlp_forward: δ_l = ∂L/∂a_l ∘ f_l'(z_l), ∂L/∂W_l = δ_l a_{l−1}ᵀ,
    ∂L/∂b_l = δ_l, ∂L/∂a_{l−1} = W_lᵀ δ_l, from the last layer to the first.

    Shapes: da [N, M_L] (∂L/∂a_L) → MLPGradients(dx [N, D], dWs, dbs) shaped like x, Ws, bs.
    """
    if not isinstance(cache, MLPCache):
        raise TypeError(f"mlp_backward: cache must be the MLPCache of mlp_forward, got "
                        f"{type(cache).__name__}")
    da = as_float_array("mlp_backward", "da", da, ndim=2)
    out_shape = cache.zs[-1].shape
    if da.shape != out_shape:
        raise fail("mlp_backward", f"da must have the output's shape {out_shape}, got "
                                   f"{da.shape}")
    dWs: list[FloatArray] = []
    dbs: list[FloatArray] = []
    for a_prev, z, W, f in reversed(list(zip(cache.inputs, cache.zs, cache.Ws, cache.fs))):
        delta = da * activation("mlp_backward", f).df(z)   # δ_l = ∂L/∂a_l ∘ f_l'(z_l)
        dWs.append(delta.T @ a_prev)                        # ∂L/∂W_l = δ_l a_{l−1}ᵀ
        dbs.append(delta.sum(axis=0))                       # ∂L/∂b_l = δ_l
        da = delta @ W                                      # ∂L/∂a_{l−1} = W_lᵀ δ_l
    return MLPGradients(da, tuple(reversed(dWs)), tuple(reversed(dbs)))


def init_mlp(sizes: Sequence[int], fs: str | Sequence[str], rng: Any, *,
             gain: float = 1.0) -> Network:
    """A network with random weights W_l ~ N(0, gain²/D_l) and zero biases.

    ``sizes`` = (D, M_1, ..., M_L) are the layer widths, chosen by hand; gain 1 keeps the
    pre-activations of unit scale (LeCun), gain √2 suits ReLU (He).
    """
    if isinstance(sizes, (str, bytes)) or len(sizes) < 2:
        raise fail("init_mlp", f"sizes must list the input width and at least one layer "
                               f"width, got {sizes!r}")
    widths = [positive_int("init_mlp", f"sizes[{i}]", s) for i, s in enumerate(sizes)]
    gain = positive_number("init_mlp", "gain", gain)
    names = _layer_functions("init_mlp", fs, len(widths) - 1)
    gen = rng_from("init_mlp", rng)
    Ws = tuple(gen.normal(0.0, gain / np.sqrt(d), (m, d)) for d, m in pairwise(widths))
    bs = tuple(np.zeros(m) for m in widths[1:])
    return Network(Ws, bs, names)


# ---------------------------------------------------------------- the hidden layer
def _frozen(*arrays: FloatArray) -> tuple[FloatArray, ...]:
    for arr in arrays:
        arr.setflags(write=False)
    return arrays


XOR_NETWORK = Network(
    Ws=_frozen(np.array([[1.0, 1.0],      # hidden unit 1: OR,  fires when x1 + x2 ≥ 0.5
                         [1.0, 1.0]]),    # hidden unit 2: AND, fires when x1 + x2 ≥ 1.5
               np.array([[1.0, -1.0]])),  # output: OR and not AND, fires when h1 − h2 ≥ 0.5
    bs=_frozen(np.array([-0.5, -1.5]), np.array([-0.5])),
    fs=("step", "step"),
)
"""XOR with one hidden layer of two step units: XOR(x) = OR(x) ∧ ¬AND(x). The hidden units fire
only for some combinations of the inputs; the output unit combines them (slide "Hidden-Layer")."""


class XORTraining(NamedTuple):
    """What train_xor returns: the learned network (sigmoid output = P(XOR = 1)) and the loss
    before each gradient step."""

    network: Network
    losses: list[float]


XOR_INPUTS = _frozen(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]))[0]
XOR_TARGETS = _frozen(np.array([[0.0], [1.0], [1.0], [0.0]]))[0]
"""XOR's four inputs [4, 2] and targets [4, 1], the data train_xor learns from."""


def train_xor(rng: Any, *, hidden: int = 3, f: str = "sigmoid", steps: int = 2000,
              lr: float = 2.0) -> XORTraining:
    """Learn XOR with one hidden layer by gradient descent (reference.optim.gradient_descent).

    Random initial weights (init_mlp with gain 2, drawn from ``rng``), a hidden layer of
    ``hidden`` units with activation ``f``, one output logit, and the binary cross-entropy of
    σ(logit) against XOR on its four inputs, minimised by plain full-batch gradient descent.
    The returned network's output activation is the sigmoid, so mlp_forward gives P(XOR = 1).
    The defaults (gain 2, lr 2, 2000 steps) were chosen by hand: larger initial weights than
    LeCun's break the hidden units' symmetry sooner, and with them the spec's seeded runs learn
    XOR well within the steps (spec_tests/test_feedforward.py); nothing else depends on them.
    """
    hidden = positive_int("train_xor", "hidden", hidden)
    steps = positive_int("train_xor", "steps", steps)
    lr = positive_number("train_xor", "lr", lr)
    activation("train_xor", f)
    init = init_mlp((2, hidden, 1), (f, "identity"), rng, gain=2.0)
    params = {"W1": init.Ws[0], "b1": init.bs[0], "W2": init.Ws[1], "b2": init.bs[1]}

    def loss_and_grads(p: Params) -> tuple[float, Params]:
        z, cache = mlp_forward(XOR_INPUTS, (p["W1"], p["W2"]), (p["b1"], p["b2"]),
                               (f, "identity"))                             # 1. predict
        loss = binary_cross_entropy_with_logits(z, XOR_TARGETS)             # 2. loss
        g = mlp_backward(binary_cross_entropy_with_logits_backward(z, XOR_TARGETS), cache)
        return loss, {"W1": g.dWs[0], "b1": g.dbs[0],                       # 3. gradient
                      "W2": g.dWs[1], "b2": g.dbs[1]}

    result = gradient_descent(loss_and_grads, params, lr=lr, steps=steps)   # 4. and 5.
    p = result.params
    return XORTraining(Network((p["W1"], p["W2"]), (p["b1"], p["b2"]), (f, "sigmoid")),
                       result.losses)


def fit_one_hidden_layer(x: Any, y: Any, hidden: int, rng: Any, *, f: str = "tanh",
                         scale: float = 2.0) -> Network:
    """One hidden layer fitted to samples of a function: ŷ = W2 f(W1 x + b1) + b2.

    The hidden layer is drawn at random and the output layer is solved exactly by least squares
    (random features): W1 ~ N(0, (scale/std x)²) per input (scale 2: each unit's transition is
    about half a standard deviation of x wide), and b1 = −W1 c with each unit's
    centre c a randomly chosen sample, so the units' transitions spread over the data; then
    (W2, b2) minimises Σ_n ‖ŷ_n − y_n‖². This is fast and deterministic given ``rng``, and it
    still shows the lecture's claim: the universal approximation theorem says that SOME one-hidden
    -layer network is within ε of the target, and this one is an explicit witness whose error
    falls as ``hidden`` grows; gradient descent on all weights could only lower the training
    error further.

    Shapes: x [N, D], y [N, K] → a Network with W1 [H, D], b1 [H], W2 [K, H], b2 [K] and
    activations (f, "identity").
    """
    x = as_float_array("fit_one_hidden_layer", "x", x, ndim=2, finite=True)
    y = as_float_array("fit_one_hidden_layer", "y", y, ndim=2, finite=True)
    if y.shape[0] != x.shape[0]:
        raise fail("fit_one_hidden_layer", f"x has {x.shape[0]} samples but y has {y.shape[0]}")
    hidden = positive_int("fit_one_hidden_layer", "hidden", hidden)
    scale = positive_number("fit_one_hidden_layer", "scale", scale)
    act = activation("fit_one_hidden_layer", f)
    gen = rng_from("fit_one_hidden_layer", rng)
    spread = np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    W1 = gen.normal(0.0, 1.0, (hidden, x.shape[1])) * (scale / spread)
    centres = x[gen.integers(0, x.shape[0], hidden)]
    b1 = -np.einsum("hd,hd->h", W1, centres)            # unit h switches at its centre
    h = act.f(x @ W1.T + b1)                             # h = f(W1 x + b1)
    design = np.hstack([h, np.ones((x.shape[0], 1))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]  # [W2ᵀ; b2] by least squares
    W2, b2 = solution[:-1].T.copy(), solution[-1].copy()
    return Network((W1, W2), (b1, b2), (f, "identity"))
