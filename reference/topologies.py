"""The topologies of a recurrent network (lecture: "Topologies of Recurrent Neural Network"):
thin compositions of the one cell of reference.rnn, s_t = f(U x_t + W s_{t−1} + b), read out by
o_t = softmax(V s_t + c).

    one to one            x → o                    a feed-forward network (the zero state)
    one to many           x, 0, 0, ... → o_0 .. o_{S−1}      e.g. predicting future states
    many to one           x_0 .. x_{T−1} → o_{T−1}          e.g. sentiment classification
    many to many, delayed x_0 .. x_{T−1}, 0, ... → S outputs after the input, e.g. translation
    many to many, synced  x_t → o_t for every t               e.g. sequence labelling

Notation and shapes as reference.rnn: x [T, N, D] time-major (one step: [N, D]), s0 [N, H],
U [H, D], W [H, H], b [H], V [K, H], c [K]; outputs o [..., N, K]; ``steps`` = S ≥ 1.

The applications, trained (the second half of this module)
---------------------------------------------------------
* many to one, "sentiment classification": ``sentiment_sentences`` generates short sentences of
  filler words with one sentiment word and one "not", which negates it when it stands right
  before it; the label is the polarity, flipped by the negation. Every sentence holds the same
  kinds of words, so no bag of words gives the answer: the state must carry "was the previous
  word *not*?" into the sentiment word and the verdict to the end.
* many to many, delayed, "translation": ``reversal_data`` asks for the input sequence of symbols
  in reverse order, written after the whole input has been read (the output of step 0 needs the
  last input, the last output the first: nothing can be written before everything was read).

Both train the one cell with its readout, L = Σ over the read steps of cross-entropy
(reference.rnn.rnn_loss), by BPTT (reference.rnn.rnn_backward) and Adam (reference.optim).
Training parameters are a dict {"U", "W", "b", "V", "c"}.
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
    as_named_arrays,
    as_sequence,
    fail,
    positive_int,
    positive_number,
    rng_from,
)
from reference.activations import activation
from reference.embedding import one_hot
from reference.losses import softmax
from reference.optim import Adam, DescentResult, Params, gradient_descent
from reference.rnn import (
    _forward,
    _output_params,
    _sequence_inputs,
    _weights,
    rnn_backward,
    rnn_forward,
    rnn_loss,
    rnn_loss_backward,
)

__all__ = [
    "SENTIMENT_WORDS",
    "TrainedTopology",
    "init_topology_rnn",
    "many_to_many_delayed",
    "many_to_many_synced",
    "many_to_one",
    "one_to_many",
    "one_to_one",
    "readout_loss_and_grads",
    "reversal_data",
    "sentiment_sentences",
    "train_reverser",
    "train_sentiment_rnn",
]


def _synced(func: str, x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any,
            f: str) -> FloatArray:
    act = activation(func, f)
    x, s0, U, W, b = _sequence_inputs(func, x, s0, U, W, b)
    V, c = _output_params(func, V, c, U.shape[0])
    s, _ = _forward(x, s0, U, W, b, act)
    return softmax(s[:-1] @ V.T + c)                        # o_t = softmax(V s_t + c)


def many_to_many_synced(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any,
                        f: str = "tanh") -> FloatArray:
    """Many to many, synced (sequence labelling): an output o_t for every input x_t.

    Shapes: x [T, N, D], s0 [N, H], U, W, b as rnn_forward, V [K, H], c [K] → o [T, N, K].
    """
    return _synced("many_to_many_synced", x, s0, U, W, b, V, c, f)


def many_to_one(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any,
                f: str = "tanh") -> FloatArray:
    """Many to one (sentiment classification): read the sequence, one output from s_{T−1}.

    Shapes: as many_to_many_synced → o [N, K].
    """
    return _synced("many_to_one", x, s0, U, W, b, V, c, f)[-1]


def one_to_one(x: Any, U: Any, W: Any, b: Any, V: Any, c: Any, f: str = "tanh") -> FloatArray:
    """One to one (a feed-forward network): one step from the zero state,
    o = softmax(V f(U x + b) + c); W meets only the zero state, so it plays no part.

    Shapes: x [N, D], U, W, b, V, c as many_to_one → o [N, K].
    """
    U, W, b = _weights("one_to_one", U, W, b)
    x = as_float_array("one_to_one", "x", x, ndim=2, finite=True)
    return _synced("one_to_one", x[None], np.zeros((x.shape[0], U.shape[0])), U, W, b, V, c,
                   f)[0]


def _positive_steps(func: str, steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"{func}: steps must be an integer, got {steps!r}")
    if steps < 1:
        raise fail(func, f"steps must be at least 1, got {steps}")
    return int(steps)


def one_to_many(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any, steps: int,
                f: str = "tanh") -> FloatArray:
    """One to many (predict future states from a single observation): x at step 0, then zero
    inputs, an output at each of ``steps`` steps.

    Shapes: x [N, D], s0 [N, H], U, W, b, V, c as many_to_one → o [steps, N, K].
    """
    steps = _positive_steps("one_to_many", steps)
    x = as_float_array("one_to_many", "x", x, ndim=2, finite=True)
    inputs = np.zeros((steps, *x.shape))
    inputs[0] = x                                           # [x, 0, ..., 0]
    return _synced("one_to_many", inputs, s0, U, W, b, V, c, f)


def many_to_many_delayed(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any, steps: int,
                         f: str = "tanh") -> FloatArray:
    """Many to many, delayed (machine translation): read all of x, then write ``steps`` outputs
    while the inputs are zero.

    Shapes: x [T, N, D], s0, U, W, b, V, c as many_to_one → o [steps, N, K].
    """
    steps = _positive_steps("many_to_many_delayed", steps)
    x = as_sequence("many_to_many_delayed", "x", x)
    inputs = np.concatenate([x, np.zeros((steps, *x.shape[1:]))])  # [x_0 .. x_{T−1}, 0, ..., 0]
    return _synced("many_to_many_delayed", inputs, s0, U, W, b, V, c, f)[-steps:]


# ---------------------------------------------------------------- the applications, trained
SENTIMENT_WORDS = ("good", "great", "bad", "awful", "not", "the", "film", "plot", "was", "very")
"""The toy vocabulary: two positive, two negative words, the negation, five fillers."""
_POSITIVE, _NEGATIVE, _NOT, _FILLERS = (0, 1), (2, 3), 4, (5, 6, 7, 8, 9)


def sentiment_sentences(n: int, length: int = 6, *, rng: Any) -> tuple[IntArray, IntArray]:
    """``n`` sentences of ``length`` word ids (of SENTIMENT_WORDS) and their sentiment.

    Each sentence is filler words with one sentiment word (positive or negative with equal
    odds) at a random position ≥ 1 and exactly one "not": in half the sentences right before the
    sentiment word (negating it), in the others anywhere else. Label 1 = positive: the word's
    polarity, flipped when the "not" stands right before it. Every sentence holds the same kinds
    of words (one "not", one sentiment word of either polarity), so its bag of words says nothing
    about the label (50 %): only the order — "not" immediately before the word — decides.

    Shapes: → (ids [n, length] batch-major, labels [n] in {0, 1}).
    """
    func = "sentiment_sentences"
    gen = rng_from(func, rng)
    n, length = positive_int(func, "n", n), positive_int(func, "length", length)
    if length < 3:
        raise fail(func, f"length must be at least 3 (a \"not\" away from the sentiment word "
                         f"must fit), got {length}")
    ids = np.asarray(_FILLERS)[gen.integers(0, len(_FILLERS), (n, length))]
    positive = gen.integers(0, 2, n).astype(bool)
    negated = gen.integers(0, 2, n).astype(bool)
    where = gen.integers(1, length, n)                      # the sentiment word's position
    word = np.where(positive, np.asarray(_POSITIVE)[gen.integers(0, 2, n)],
                    np.asarray(_NEGATIVE)[gen.integers(0, 2, n)])
    elsewhere = gen.integers(0, length - 2, n)              # a position not in {where − 1, where}
    elsewhere += 2 * (elsewhere >= where - 1)
    rows = np.arange(n)
    ids[rows, where] = word
    ids[rows, np.where(negated, where - 1, elsewhere)] = _NOT
    return ids.astype(np.int64), (positive ^ negated).astype(np.int64)


def reversal_data(length: int = 4, symbols: int = 4) -> tuple[FloatArray, IntArray]:
    """Every sequence of ``length`` symbols (symbols^length of them), one-hot, with its reverse
    as the targets: the whole (small) task, for a train / held-out split.

    Shapes: → (x [length, M, symbols] time-major one-hot, y [length, M] with y_k = the symbol
    read at step length − 1 − k), M = symbols^length, in lexicographic order.
    """
    func = "reversal_data"
    length, symbols = positive_int(func, "length", length), positive_int(func, "symbols", symbols)
    if symbols ** length > 100_000:
        raise fail(func, f"symbols^length = {symbols}^{length} sequences is too many to list "
                         f"(at most 100000)")
    ids = np.indices((symbols,) * length).reshape(length, -1)   # [length, M], all sequences
    return one_hot(ids, symbols), ids[::-1].copy()


_TOPOLOGY_PARAMS = ("U", "W", "b", "V", "c")


def init_topology_rnn(D: int, H: int, K: int, *, rng: Any) -> Params:
    """Random initial parameters of the cell and its readout, PyTorch's U(−1/√H, 1/√H) for every
    weight and bias: {"U" [H, D], "W" [H, H], "b" [H], "V" [K, H], "c" [K]}."""
    func = "init_topology_rnn"
    gen = rng_from(func, rng)
    D, H, K = (positive_int(func, k, v) for k, v in (("D", D), ("H", H), ("K", K)))
    shapes = {"U": (H, D), "W": (H, H), "b": (H,), "V": (K, H), "c": (K,)}
    return {k: gen.uniform(-1.0, 1.0, shape) / np.sqrt(H) for k, shape in shapes.items()}


def readout_loss_and_grads(params: Mapping[str, Any], x: Any, y: Any,
                           f: str = "tanh") -> tuple[float, dict[str, FloatArray]]:
    """The loss of the outputs read at the last S = len(y) steps, and its gradients.

    L = Σ_{t ≥ T−S} cross_entropy(V s_t + c, y_{t−(T−S)}) over s = rnn_forward(x, 0): many to one
    is S = 1 (y [1, N]); many to many delayed is x = [input, S zero steps] and y the S targets;
    synced is S = T. Only the read states get a gradient from the loss (ds = 0 elsewhere); BPTT
    carries it back through every step.

    Shapes: params {"U" [H, D], "W" [H, H], "b" [H], "V" [K, H], "c" [K]}, x [T, N, D], y [S, N]
    with 1 ≤ S ≤ T → (L, grads keyed like params).
    """
    func = "readout_loss_and_grads"
    P = as_named_arrays(func, "params", params, _TOPOLOGY_PARAMS)
    x = as_sequence(func, "x", x)
    y = as_index_array(func, "y", y, ndim=2, size=max(P["V"].shape[0], 1))
    T, N, _ = x.shape
    if not 1 <= y.shape[0] <= T or y.shape[1] != N:
        raise fail(func, f"y must have shape (S, N) with 1 ≤ S ≤ T = {T} and N = {N}, got "
                         f"{y.shape}")
    S = y.shape[0]
    s, cache = rnn_forward(x, np.zeros((N, P["W"].shape[0])), P["U"], P["W"], P["b"], f)
    loss = rnn_loss(s[T - S:], P["V"], P["c"], y)
    ds_read, dV, dc = rnn_loss_backward(s[T - S:], P["V"], P["c"], y)
    ds = np.zeros_like(s)
    ds[T - S:] = ds_read                                    # the loss sees the read steps only
    g = rnn_backward(ds, cache)
    return loss, {"U": g.dU, "W": g.dW, "b": g.db, "V": dV, "c": dc}


@dataclass
class TrainedTopology:
    """What the trainers return: the descent (parameters, losses) and held-out accuracies."""

    descent: DescentResult
    accuracy: float            # per output: the fraction of held-out outputs that are right
    sequence_accuracy: float   # per sequence: the fraction whose outputs are all right


def _accuracies(o: FloatArray, y: IntArray) -> tuple[float, float]:
    right = np.argmax(o, axis=-1) == y                      # [S, N]
    return float(right.mean()), float(right.all(axis=0).mean())


def _train(x: FloatArray, y: IntArray, H: int, K: int, lr: float, steps: int,
           gen: np.random.Generator) -> DescentResult:
    params = init_topology_rnn(x.shape[2], H, K, rng=gen)
    return gradient_descent(lambda p: readout_loss_and_grads(p, x, y), params, lr=lr,
                            steps=steps, update=Adam(lr).step)


def train_sentiment_rnn(*, seed: int = 0, n_train: int = 512, n_test: int = 500,
                        length: int = 6, H: int = 8, lr: float = 0.02,
                        steps: int = 150) -> TrainedTopology:
    """Many to one: read a sentence of sentiment_sentences word by word (one-hot inputs), classify
    it from the last state, o = softmax(V s_{T−1} + c). Full-batch Adam on the cross-entropy;
    data and initial weights from ``seed``. Accuracies on ``n_test`` new sentences."""
    func = "train_sentiment_rnn"
    gen = rng_from(func, seed)
    n_train, n_test = positive_int(func, "n_train", n_train), positive_int(func, "n_test", n_test)
    H, steps = positive_int(func, "H", H), positive_int(func, "steps", steps)
    lr = positive_number(func, "lr", lr)
    ids, labels = sentiment_sentences(n_train, length, rng=gen)
    vocab = len(SENTIMENT_WORDS)
    descent = _train(one_hot(ids.T, vocab), labels[None], H, 2, lr, steps, gen)
    ids_test, labels_test = sentiment_sentences(n_test, length, rng=gen)
    p = descent.params
    o = many_to_one(one_hot(ids_test.T, vocab), np.zeros((n_test, H)), p["U"], p["W"], p["b"],
                    p["V"], p["c"])
    return TrainedTopology(descent, *_accuracies(o[None], labels_test[None]))


def train_reverser(*, seed: int = 0, n_train: int = 160, length: int = 4, symbols: int = 4,
                   H: int = 16, lr: float = 0.03, steps: int = 300) -> TrainedTopology:
    """Many to many, delayed: read ``length`` one-hot symbols, then, on zero inputs, write them in
    reverse order. Of the symbols^length sequences (reversal_data), a random ``n_train`` are
    for training (full-batch Adam on Σ_k cross-entropy of the ``length`` delayed outputs), the
    others held out: the accuracies are on sequences never seen in training. Data split and
    initial weights from ``seed``."""
    func = "train_reverser"
    gen = rng_from(func, seed)
    n_train = positive_int(func, "n_train", n_train)
    H, steps = positive_int(func, "H", H), positive_int(func, "steps", steps)
    lr = positive_number(func, "lr", lr)
    x, y = reversal_data(length, symbols)
    if n_train >= x.shape[1]:
        raise fail(func, f"n_train must leave sequences to hold out: {n_train} ≥ "
                         f"{symbols}^{length} = {x.shape[1]}")
    order = gen.permutation(x.shape[1])
    train, test = order[:n_train], order[n_train:]
    delayed = np.concatenate([x[:, train], np.zeros_like(x[:, train])])  # [input, S zero steps]
    descent = _train(delayed, y[:, train], H, symbols, lr, steps, gen)
    p = descent.params
    o = many_to_many_delayed(x[:, test], np.zeros((test.size, H)), p["U"], p["W"], p["b"],
                             p["V"], p["c"], steps=length)
    return TrainedTopology(descent, *_accuracies(o, y[:, test]))
