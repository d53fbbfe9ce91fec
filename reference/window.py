"""The window classifier (lecture: "Window classification", "Objective for a single window",
"Training with backpropagation").

    Classify 'Paris' in the context of "... museums in Paris are amazing ..." with window length 2:
    x_window = [x_museums  x_in  x_Paris  x_are  x_amazing]ᵀ ∈ R^{5d}, a column vector.
    s = Uᵀ f(Wx + b),   x ∈ R^{20×1}, W ∈ R^{8×20}, U ∈ R^{8×1}
    minimize J = max(Δ + s_c − s, 0);  objective for a single window: J = max(1 + s_c − s, 0)
    ∂s/∂W_ij = δ_i x_j  →  ∂s/∂W = δ xᵀ (an outer product),  f'(z) = f(z)(1 − f(z)) for logistic f

Notation
--------
N        batch of windows (optional: a single window is 1-D, as on the slide)
k        words per window (5 on the slide: two each side of the centre word)
d        width of a word vector (4 on the slide)
D        window width D = k·d (20 on the slide)
H        hidden units (8 on the slide)
x, x_c   a true window and a corrupt one, [D] or [N, D]
W        hidden weights [H, D], the slide's orientation: z = Wx + b is written ``x @ W.T + b``
b        hidden bias [H]
U        output weights [H]: s = Uᵀ a is written ``a @ U``
z, a     hidden pre-activation z = Wx + b and activation a = f(z), [H] or [N, H]
s, s_c   scores of the true and the corrupt window, scalar or [N]
δ        δ = U ∘ f'(z), [H] or [N, H]: ∂s/∂z
Δ        the margin (``delta``), 1 by default

The slide's sizes (k = 5, d = 4, H = 8) are the documented example; every size works. A batch
of N windows gives N scores; its gradients with respect to the shared W, b, U are the sums over
the batch of the single-window gradients, weighted by the upstream gradient ``grad``. As in
reference.losses, ``grad`` is the last argument and optional (1: the gradients of s or J
itself), unlike the layers' backward functions, which take their upstream gradient first.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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
from reference.activations import activation
from reference.embedding import embedding_backward
from reference.losses import max_margin, max_margin_backward
from reference.optim import Adagrad, Params, gradient_descent

__all__ = [
    "LOCATIONS",
    "PAD",
    "WINDOW_TEMPLATES",
    "WINDOW_WORDS",
    "ObjectiveGradients",
    "ScoreGradients",
    "WindowData",
    "WindowScorer",
    "objective",
    "objective_backward",
    "score",
    "score_backward",
    "toy_window_corpus",
    "train_window_scorer",
    "window_scores",
    "window_vector",
]


def window_vector(word_vectors: Any) -> FloatArray:
    """x_window = [x_1; x_2; ...; x_k]: the word vectors of a window stacked into one column.

    Shapes: word_vectors [k, d] (one window) or [N, k, d] (a batch) → x [k·d] or [N, k·d].
    The slide's window "museums in Paris are amazing" has k = 5 words of d = 4, so x ∈ R^20.

    Raises
    ------
    ValueError if word_vectors is not 2-D or 3-D or has no words.
    """
    words = as_float_array("window_vector", "word_vectors", word_vectors, ndim=(2, 3))
    k, d = words.shape[-2:]
    if k == 0 or d == 0:
        raise fail("window_vector", f"word_vectors must hold at least one word of width ≥ 1, "
                                    f"got shape {words.shape}")
    return words.reshape(*words.shape[:-2], k * d)   # [x_1ᵀ x_2ᵀ ... x_kᵀ]ᵀ, in word order


# ---------------------------------------------------------------- the score s = Uᵀ f(Wx + b)
def _window_inputs(func: str, x: Any, W: Any, b: Any,
                   U: Any) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    x = as_float_array(func, "x", x, ndim=(1, 2))
    W = as_float_array(func, "W", W, ndim=2, finite=True)
    b = as_float_array(func, "b", b, ndim=1, finite=True)
    U = as_float_array(func, "U", U, ndim=1, finite=True)
    if W.shape[1] != x.shape[-1]:
        raise fail(func, f"W expects windows of width {W.shape[1]} but x has width "
                         f"{x.shape[-1]} (x.shape = {x.shape}, W.shape = {W.shape})")
    if b.shape[0] != W.shape[0]:
        raise fail(func, f"b has {b.shape[0]} entries but W has {W.shape[0]} rows "
                         f"(W.shape = {W.shape}, b.shape = {b.shape})")
    if U.shape[0] != W.shape[0]:
        raise fail(func, f"U has {U.shape[0]} entries but W has {W.shape[0]} rows "
                         f"(W.shape = {W.shape}, U.shape = {U.shape})")
    return x, W, b, U


def score(x: Any, W: Any, b: Any, U: Any, f: str = "sigmoid") -> FloatArray:
    """s = Uᵀ f(Wx + b), the score of a window (slide: "Window classification").

    Shapes: x [D] or [N, D], W [H, D], b [H], U [H] → s [] (a 0-d array) or [N].
    ``f`` names an activation of reference.activations.ACTIVATIONS (the slides' f is logistic).

    Raises
    ------
    ValueError for mismatched sizes or non-finite W, b, U; TypeError for non-real input or an
    activation name that is not a string.
    """
    return _score("score", x, W, b, U, f)


def _score(func: str, x: Any, W: Any, b: Any, U: Any, f: str) -> FloatArray:
    act = activation(func, f)
    x, W, b, U = _window_inputs(func, x, W, b, U)
    z = x @ W.T + b          # z = Wx + b
    a = act.f(z)             # a = f(z)
    s = a @ U                # s = Uᵀ a
    return np.asarray(s)


class ScoreGradients(NamedTuple):
    """Gradients of ``grad · s`` in the order of score's arguments (x, W, b, U)."""

    dx: FloatArray   # ∂s/∂x = Wᵀδ        [D] or [N, D]
    dW: FloatArray   # ∂s/∂W = δxᵀ        [H, D]
    db: FloatArray   # ∂s/∂b = δ          [H]
    dU: FloatArray   # ∂s/∂U = f(z) = a   [H]


def _upstream(func: str, grad: Any, shape: tuple[int, ...]) -> FloatArray:
    g = as_float_array(func, "grad", grad)
    if g.shape not in ((), shape):
        raise fail(func, f"grad must be a scalar or have the scores' shape {shape}, "
                         f"got shape {g.shape}")
    return np.broadcast_to(g, shape)


def score_backward(x: Any, W: Any, b: Any, U: Any, f: str = "sigmoid",
                   grad: Any = 1.0) -> ScoreGradients:
    """∂s/∂U = f(z); δ = U ∘ f'(z); ∂s/∂W = δxᵀ; ∂s/∂b = δ; ∂s/∂x = Wᵀδ (slide: "Training with
    backpropagation"), each times the upstream gradient ``grad`` = ∂L/∂s.

    Shapes: as score; grad [] or s's shape ([N] for a batch: one ∂L/∂s per window).
    Returns ScoreGradients(dx, dW, db, dU) shaped like (x, W, b, U). For a batch, dW, db and dU
    sum the windows' contributions: ∂L/∂W = Σ_n grad_n δ_n x_nᵀ.

    Notes
    -----
    For logistic f, f'(z) = f(z)(1 − f(z)) (reference.activations.sigmoid_grad).
    """
    return _score_backward("score_backward", x, W, b, U, f, grad)


def _score_backward(func: str, x: Any, W: Any, b: Any, U: Any, f: str,
                    grad: Any) -> ScoreGradients:
    act = activation(func, f)
    x, W, b, U = _window_inputs(func, x, W, b, U)
    g = _upstream(func, grad, x.shape[:-1])
    rows = x.reshape(-1, x.shape[-1])        # a single window is a batch of one: [N, D]
    g = g.reshape(-1)                        # ∂L/∂s per window: [N]
    z = rows @ W.T + b                       # z = Wx + b
    a = act.f(z)                             # a = f(z)
    delta = U * act.df(z)                    # δ = U ∘ f'(z)     (∂s/∂z)
    g_delta = g[:, None] * delta             # ∂L/∂z = ∂L/∂s · δ
    dU = g @ a                               # ∂s/∂U = f(z)
    dW = g_delta.T @ rows                    # ∂s/∂W = δxᵀ, the outer product (Σ over windows)
    db = g_delta.sum(axis=0)                 # ∂s/∂b = δ
    dx = g_delta @ W                         # ∂s/∂x = Wᵀδ
    return ScoreGradients(dx.reshape(x.shape), dW, db, dU)


# ---------------------------------------------------------------- the objective J
def _pair_of_windows(func: str, x: Any, x_c: Any) -> tuple[FloatArray, FloatArray]:
    x = as_float_array(func, "x", x, ndim=(1, 2))
    x_c = as_float_array(func, "x_c", x_c, ndim=(1, 2))
    if x.shape != x_c.shape:
        raise fail(func, f"x and x_c must have the same shape (a corrupt window per true "
                         f"window), got {x.shape} and {x_c.shape}")
    return x, x_c


def objective(x: Any, x_c: Any, W: Any, b: Any, U: Any, f: str = "sigmoid",
              delta: float = 1.0) -> FloatArray:
    """J = max(0, Δ + s_c − s) with s = Uᵀf(Wx + b), s_c = Uᵀf(Wx_c + b) (slide: "Objective for a
    single window"; Δ = 1 by default, Δ = 0 is the objective without a safety margin).

    Shapes: x, x_c [D] or [N, D] (equal), W [H, D], b [H], U [H] → J [] or [N], one per window.

    Raises
    ------
    ValueError as score, for x and x_c of different shapes, or for Δ < 0 or not finite.
    """
    x, x_c = _pair_of_windows("objective", x, x_c)
    s = _score("objective", x, W, b, U, f)        # s = Uᵀ f(Wx + b)
    s_c = _score("objective", x_c, W, b, U, f)    # s_c = Uᵀ f(Wx_c + b)
    return max_margin(s, s_c, delta)  # J = max(0, Δ + s_c − s)


class ObjectiveGradients(NamedTuple):
    """Gradients of ``grad · J`` in the order of objective's arguments (x, x_c, W, b, U)."""

    dx: FloatArray     # ∂J/∂x   = −Wᵀδ       where J > 0, else 0
    dx_c: FloatArray   # ∂J/∂x_c = +Wᵀδ_c     where J > 0, else 0
    dW: FloatArray     # ∂J/∂W   = δ_c x_cᵀ − δ xᵀ
    db: FloatArray     # ∂J/∂b   = δ_c − δ
    dU: FloatArray     # ∂J/∂U   = f(z_c) − f(z)


def objective_backward(x: Any, x_c: Any, W: Any, b: Any, U: Any, f: str = "sigmoid",
                       delta: float = 1.0, grad: Any = 1.0) -> ObjectiveGradients:
    """∂J/∂(x, x_c, W, b, U) = ∂s_c/∂(·) − ∂s/∂(·) where J > 0, and 0 where J = 0.

    The slide: "assuming cost J is > 0, compute the derivatives of s and s_c with respect to the
    involved variables U, W, b, x". Where J = 0 the window already wins by the margin and nothing
    is updated (at the kink Δ + s_c − s = 0 the gradient is taken as 0, like relu'(0) = 0).

    Shapes: as objective; grad [] or J's shape. Returns ObjectiveGradients(dx, dx_c, dW, db, dU)
    shaped like (x, x_c, W, b, U); for a batch dW, db, dU sum over the windows.
    """
    func = "objective_backward"
    x, x_c = _pair_of_windows(func, x, x_c)
    s = _score(func, x, W, b, U, f)
    s_c = _score(func, x_c, W, b, U, f)
    g = _upstream(func, grad, s.shape)
    ds, ds_c = max_margin_backward(s, s_c, delta, g)        # (−1, +1)·grad where J > 0, else 0
    true = _score_backward(func, x, W, b, U, f, ds)         # ∂J/∂s · ∂s/∂(·)
    corrupt = _score_backward(func, x_c, W, b, U, f, ds_c)  # ∂J/∂s_c · ∂s_c/∂(·)
    return ObjectiveGradients(true.dx, corrupt.dx, true.dW + corrupt.dW,
                              true.db + corrupt.db, true.dU + corrupt.dU)


# ---------------------------------------------------------------- training the window scorer
LOCATIONS = ("Paris", "London", "Rome", "Vienna", "Madrid", "Berlin")
"""The named entities of the toy corpus: every one is a location."""
_SLOTS = {
    "NOUN": ("museums", "streets", "parks", "people", "prices", "trains"),
    "ADJ": ("amazing", "busy", "old", "quiet", "expensive", "famous"),
    "VERB": ("visited", "loved", "left", "saw", "remember", "liked"),
    "LOC": LOCATIONS,
}
WINDOW_TEMPLATES = (
    "the NOUN in LOC are ADJ",        # museums in Paris are amazing
    "we VERB LOC last year",
    "not all NOUN in LOC are ADJ",    # the slide's corrupt window: Not all museums in Paris
    "LOC has ADJ NOUN",
    "our NOUN VERB the ADJ NOUN",     # a sentence without a location
    "they VERB the NOUN of LOC",
)
"""Sentence templates of the toy corpus; each upper-case slot is filled with a random word."""
PAD = "<pad>"
WINDOW_WORDS = tuple(dict.fromkeys(
    [PAD, *(w for t in WINDOW_TEMPLATES for w in t.split() if w not in _SLOTS),
     *(w for words in _SLOTS.values() for w in words)]))
"""The vocabulary of the toy corpus, with the padding word that extends sentences at both ends."""


class WindowData(NamedTuple):
    """The windows of a corpus, as word ids: ``true`` [N_loc, k] have a location at their
    centre, ``corrupt`` [N_other, k] anything else that is not padding."""

    true: IntArray
    corrupt: IntArray


def toy_window_corpus(n: int, rng: Any, *, half: int = 2) -> WindowData:
    """``n`` random sentences of WINDOW_TEMPLATES cut into windows of k = 2·half + 1 words.

    Every word of every sentence is the centre of one window (sentences are padded with
    ``<pad>`` at both ends); windows whose centre is a location are the true windows, the others
    the corrupt ones ("any window without a named entity at its centre").

    Shapes: → WindowData(true [N_loc, k], corrupt [N_other, k]) of ids into WINDOW_WORDS.
    """
    n = positive_int("toy_window_corpus", "n", n)
    half = positive_int("toy_window_corpus", "half", half)
    g = rng_from("toy_window_corpus", rng)
    index = {w: i for i, w in enumerate(WINDOW_WORDS)}
    true: list[list[int]] = []
    corrupt: list[list[int]] = []
    for template in np.asarray(WINDOW_TEMPLATES)[g.integers(0, len(WINDOW_TEMPLATES), n)]:
        words = [w if w not in _SLOTS else _SLOTS[w][g.integers(0, len(_SLOTS[w]))]
                 for w in str(template).split()]
        ids = [index[PAD]] * half + [index[w] for w in words] + [index[PAD]] * half
        for i, w in enumerate(words):
            (true if w in LOCATIONS else corrupt).append(ids[i:i + 2 * half + 1])
    width = 2 * half + 1
    return WindowData(np.array(true, dtype=np.int64).reshape(-1, width),
                      np.array(corrupt, dtype=np.int64).reshape(-1, width))


class WindowScorer(NamedTuple):
    """A trained window scorer: word vectors E [K, d], W [H, k·d], b [H], U [H], and the mean
    objective before each step."""

    E: FloatArray
    W: FloatArray
    b: FloatArray
    U: FloatArray
    losses: list[float]


def window_scores(scorer: WindowScorer, windows: Any, f: str = "sigmoid") -> FloatArray:
    """s = Uᵀ f(W x + b) of windows given as word ids, x the concatenated word vectors E[ids].

    Shapes: windows [N, k] ids into E → s [N].
    """
    ids = as_index_array("window_scores", "windows", windows, ndim=2, size=scorer.E.shape[0])
    x = window_vector(scorer.E[ids])                      # [N, k, d] → [N, k·d]
    return score(x, scorer.W, scorer.b, scorer.U, f)


def train_window_scorer(data: WindowData, rng: Any, *, d: int = 4, hidden: int = 8,
                        steps: int = 300, lr: float = 0.1, negatives: int = 10,
                        delta: float = 1.0, f: str = "sigmoid") -> WindowScorer:
    """Train s = Uᵀ f(Wx + b) and the word vectors with J = max(0, Δ + s_c − s) (slides:
    "Objective for a single window", "Training with backpropagation").

    At each step every true window is paired with ``negatives`` corrupt windows drawn at random
    from ``data.corrupt``; the loss is the mean of J over the pairs, and its gradients (from
    objective_backward, ∂J/∂x and ∂J/∂x_c added into the rows of the words they came from)
    update E, W, b and U with Adagrad. Training stops early when every pair of a step already
    wins by the margin (J = 0 on all of them: nothing left to update). Random initial values
    from ``rng``: E ~ N(0, 1), W ~ N(0, 1/(k·d)), U ~ N(0, 1/H), b = 0. The slide's sizes are
    the defaults: d = 4, H = 8, windows of k = 5 words (x ∈ R^20).

    Shapes: data.true [N, k], data.corrupt [M, k] (ids into WINDOW_WORDS) → WindowScorer.
    """
    func = "train_window_scorer"
    if not isinstance(data, WindowData):
        raise TypeError(f"{func}: data must be a WindowData (toy_window_corpus(...)), got "
                        f"{type(data).__name__}")
    true = as_index_array(func, "data.true", data.true, ndim=2, size=len(WINDOW_WORDS))
    corrupt = as_index_array(func, "data.corrupt", data.corrupt, ndim=2,
                             size=len(WINDOW_WORDS))
    if true.shape[0] == 0 or corrupt.shape[0] == 0 or true.shape[1] != corrupt.shape[1]:
        raise fail(func, f"data needs true and corrupt windows of one width, got shapes "
                         f"{true.shape} and {corrupt.shape}")
    d = positive_int(func, "d", d)
    hidden = positive_int(func, "hidden", hidden)
    steps = positive_int(func, "steps", steps)
    lr = positive_number(func, "lr", lr)
    negatives = positive_int(func, "negatives", negatives)
    activation(func, f)
    g = rng_from(func, rng)
    k = true.shape[1]
    true = np.repeat(true, negatives, axis=0)            # each true window, once per negative
    params = {"E": g.normal(0.0, 1.0, (len(WINDOW_WORDS), d)),
              "W": g.normal(0.0, 1.0 / np.sqrt(k * d), (hidden, k * d)),
              "b": np.zeros(hidden), "U": g.normal(0.0, 1.0 / np.sqrt(hidden), hidden)}
    pairs = [corrupt[g.integers(0, corrupt.shape[0], true.shape[0])] for _ in range(steps)]
    step = iter(pairs)

    def loss_and_grads(p: Params) -> tuple[float, Params]:
        ids_c = next(step)                                # a fresh corrupt window per true one
        x, x_c = window_vector(p["E"][true]), window_vector(p["E"][ids_c])
        n = true.shape[0]
        J = objective(x, x_c, p["W"], p["b"], p["U"], f, delta)
        gr = objective_backward(x, x_c, p["W"], p["b"], p["U"], f, delta, 1.0 / n)
        dE = embedding_backward(gr.dx.reshape(n, k, d), true, p["E"]) \
            + embedding_backward(gr.dx_c.reshape(n, k, d), ids_c, p["E"])
        return float(np.mean(J)), {"E": dE, "W": gr.dW, "b": gr.db, "U": gr.dU}

    result = gradient_descent(loss_and_grads, params, lr=lr, steps=steps,
                              update=Adagrad(lr).step)
    p = result.params
    return WindowScorer(p["E"], p["W"], p["b"], p["U"], result.losses)
