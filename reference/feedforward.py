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
from fractions import Fraction
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
    squared_error,
    squared_error_backward,
)
from reference.optim import Adam, Params, gradient_descent

__all__ = [
    "XOR_INPUTS",
    "XOR_NETWORK",
    "XOR_TARGETS",
    "MLPCache",
    "MLPGradients",
    "Network",
    "Regression",
    "TwoTwoOne",
    "TwoTwoOneWeights",
    "XORTraining",
    "dense",
    "dense_backward",
    "fit_one_hidden_layer",
    "init_mlp",
    "linear_pieces",
    "mlp_backward",
    "mlp_forward",
    "tent_network",
    "train_regression",
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


# ---------------------------------------------------------------- training by gradient descent
class Regression(NamedTuple):
    """What train_regression returns: the trained network and the loss before each step."""

    network: Network
    losses: list[float]


def train_regression(x: Any, y: Any, sizes: Sequence[int], rng: Any, *,
                     f: str = "tanh", steps: int = 2000, lr: float = 0.01,
                     gain: float = 1.0) -> Regression:
    """Fit a network with hidden layers ``sizes`` to samples of a function by gradient descent.

    The lecture's loop (slide "How to learn the weights"): random initial weights (init_mlp with
    ``gain``, from ``rng``), predict ŷ = W_{L+1} a_L + b_{L+1} (a linear output layer on hidden
    layers of activation ``f``), compare with y under J = 1/(2N) Σ_n ‖ŷ_n − y_n‖², and feed the
    gradient back to every weight at once, ``steps`` times. The step rule is Adam
    (reference.optim.Adam, learning rate ``lr``): plain gradient descent reaches the same fits
    only after many more steps.

    Shapes: x [N, D], y [N, K], sizes (M_1, ..., M_L) → a Network with activations
    (f, ..., f, "identity") giving ŷ [N, K].
    """
    func = "train_regression"
    x = as_float_array(func, "x", x, ndim=2, finite=True)
    y = as_float_array(func, "y", y, ndim=2, finite=True)
    if y.shape[0] != x.shape[0]:
        raise fail(func, f"x has {x.shape[0]} samples but y has {y.shape[0]}")
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) == 0:
        raise fail(func, f"sizes must list the hidden layer widths (at least one), got "
                         f"{sizes!r}")
    widths = [positive_int(func, f"sizes[{i}]", s) for i, s in enumerate(sizes)]
    steps = positive_int(func, "steps", steps)
    lr = positive_number(func, "lr", lr)
    activation(func, f)
    fs = (*(f,) * len(widths), "identity")
    init = init_mlp((x.shape[1], *widths, y.shape[1]), fs, rng, gain=gain)
    L = len(fs)

    def loss_and_grads(p: Params) -> tuple[float, Params]:
        y_hat, cache = mlp_forward(x, [p[f"W{l}"] for l in range(L)],
                                   [p[f"b{l}"] for l in range(L)], fs)        # 1. predict
        g = mlp_backward(squared_error_backward(y_hat, y), cache)            # 3. gradient
        grads = {f"W{l}": g.dWs[l] for l in range(L)} | {f"b{l}": g.dbs[l] for l in range(L)}
        return squared_error(y_hat, y), grads                                # 2. loss

    params = {f"W{l}": init.Ws[l] for l in range(L)} | {f"b{l}": init.bs[l] for l in range(L)}
    result = gradient_descent(loss_and_grads, params, lr=lr, steps=steps,
                              update=Adam(lr).step)                          # 4. and 5.
    p = result.params
    return Regression(Network(tuple(p[f"W{l}"] for l in range(L)),
                              tuple(p[f"b{l}"] for l in range(L)), fs), result.losses)


# ---------------------------------------------------------------- depth: the tent map
def tent_network(k: int) -> Network:
    """A deep ReLU network computing the tent map t composed k times, t^k = t ∘ ... ∘ t, on [0, 1].

    t(x) = 2x for x ≤ 1/2 and 2 − 2x for x ≥ 1/2, written with two ReLU units:
    t(x) = 2 relu(x) − 4 relu(x − 1/2). Each hidden layer holds those two units; the output
    combination 2 h_1 − 4 h_2 of one copy is folded into the weights of the next layer, so
    layer 1 has W = [[1], [1]], b = [0, −1/2], layers 2..k have W = [[2, −4], [2, −4]],
    b = [0, −1/2], and the linear output layer W = [[2, −4]], b = [0]. Every weight is a small
    binary fraction, exact in float64.

    t^k is a sawtooth with 2^k linear pieces (it goes 0 → 1 → 0 ... across each interval
    [j/2^k, (j + 1)/2^k]): 2^k pieces from 2k hidden units, where one hidden layer of H ReLU
    units has at most H + 1 pieces (linear_pieces) and so needs at least 2^k − 1 units.

    Shapes: → Network with k hidden layers of 2 units (activations "relu") and a linear output:
    Ws [2, 1], [2, 2] × (k − 1), [1, 2].
    """
    k = positive_int("tent_network", "k", k)
    first = (np.array([[1.0], [1.0]]), np.array([0.0, -0.5]))      # h = relu(x), relu(x − 1/2)
    later = (np.array([[2.0, -4.0], [2.0, -4.0]]), np.array([0.0, -0.5]))   # of t = 2h₁ − 4h₂
    output = (np.array([[2.0, -4.0]]), np.array([0.0]))              # t^k = 2h₁ − 4h₂
    layers = [first, *[later] * (k - 1), output]
    return Network(tuple(W.copy() for W, _ in layers), tuple(b.copy() for _, b in layers),
                   (*("relu",) * k, "identity"))


def linear_pieces(network: Network, lo: Any, hi: Any) -> int:
    """The number of linear pieces of a 1-input, 1-output network with ReLU (or identity)
    layers on [lo, hi], counted exactly.

    Every weight is turned into a Fraction (float64 numbers are binary fractions, so exactly),
    and the network is followed through the interval in exact rational arithmetic: on each
    sub-interval every unit is an affine function α x + β of the input; a ReLU unit whose
    pre-activation crosses 0 inside a sub-interval splits it there. At the end, neighbouring
    sub-intervals on which the output is the same affine function are one piece.
    """
    func = "linear_pieces"
    if not isinstance(network, Network):
        raise TypeError(f"{func}: network must be a Network, got {type(network).__name__}")
    for name in network.fs:
        if name not in ("relu", "identity"):
            raise fail(func, f"only relu and identity layers are piecewise linear, got {name!r}")
    if network.Ws[0].shape[1] != 1 or network.Ws[-1].shape[0] != 1:
        raise fail(func, f"the network must have 1 input and 1 output, got "
                         f"{network.Ws[0].shape[1]} and {network.Ws[-1].shape[0]}")
    a = Fraction(float(as_float_array(func, "lo", lo, ndim=0, finite=True)))
    z = Fraction(float(as_float_array(func, "hi", hi, ndim=0, finite=True)))
    if not a < z:
        raise fail(func, f"lo must be below hi, got lo = {lo}, hi = {hi}")
    # a piece: (start, end, [(α, β) per unit of the current layer]); the input is x = 1·x + 0
    pieces: list[tuple[Fraction, Fraction, list[tuple[Fraction, Fraction]]]] = [
        (a, z, [(Fraction(1), Fraction(0))])]
    for W, b, f in zip(network.Ws, network.bs, network.fs):
        Wq = [[Fraction(float(w)) for w in row] for row in np.asarray(W)]
        bq = [Fraction(float(v)) for v in np.asarray(b)]
        split = []
        for start, end, units in pieces:
            pre = [(sum((w * al for w, (al, _) in zip(row, units)), Fraction(0)),
                    sum((w * be for w, (_, be) in zip(row, units)), Fraction(0)) + b_i)
                   for row, b_i in zip(Wq, bq)]                   # z = W a + b, affine in x
            cuts = sorted({-be / al for al, be in pre if al != 0 and start < -be / al < end}
                          if f == "relu" else set())
            for s, e in zip([start, *cuts], [*cuts, end]):
                mid = (s + e) / 2
                units_out = [(al, be) if f == "identity" or al * mid + be > 0
                             else (Fraction(0), Fraction(0)) for al, be in pre]
                split.append((s, e, units_out))
        pieces = split
    count, previous = 0, None
    for _, _, units in pieces:
        if units[0] != previous:
            count += 1
            previous = units[0]
    return count
