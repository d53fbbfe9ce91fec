"""Language models with an RNN (lecture: "Language Model", "Language Models with RNN").

    Compute the probability of a sentence.
      Word ordering: p(the cat is small) > p(small the cat is)
      Word choice:   p(walking home after school) > p(walking house after school)
    Let x_0, x_1, x_2 ... denote words (input), o_0, o_1, o_2 ... the probability (output).

    p(w_1 .. w_L) = Π_{t=1..L} p(w_t | w_1 .. w_{t−1}),   p(w_t | w_<t) = o_t[w_t]

The network is a thin composition of reference.embedding and reference.rnn: the word read at a
step is looked up in E, the vanilla RNN carries the state, the output layer gives the
distribution of the next word:

    x_t = E[w_{t−1}] (w_0 = <s>),  s_t = tanh(U x_t + W s_{t−1} + b),  o_t = softmax(V s_t + c)

for the steps t = 1 .. L, from the state s_0 = 0. (reference.rnn counts its steps from 0 and calls
the initial state s_{−1}; the arrays here are indexed from 0 too: step t is row t − 1.) The
token-level functions read ``ids[t]`` at row t: x = E[ids], whatever the ids are.

The same network with other targets is the sequence tagger of reference.tagging, so the token-level
functions here (``token_rnn_*``) take any input and target ids.

Notation
--------
K      vocabulary size (words; the width of o_t)
d      embedding width
H      state width
L      sentence length (L time steps); ids are time-major [L, N], one sentence may be [L]
E      embedding table [K_in, d]; for a language model K_in = K + 1, row K being <s>
U, W, b, V, c as in reference.rnn: U [H, d], W [H, H], b [H], V [K, H], c [K]; s_0 = 0

The end of a sentence (a decision of this specification)
--------------------------------------------------------
The model scores a sentence of a given length L: after the start symbol <s> it predicts w_1 .. w_L
and no end symbol (<s> is an input only: it has a row of E, no entry in o_t). So p(w_1 .. w_L)
is the probability that a sentence begins with w_1 .. w_L, and for every L

    Σ_{w ∈ vocabulary^L} p(w) = 1

(Σ_{w_L} o_L[w_L] = 1 for every prefix, then the same for w_{L−1}, and so on inwards), which the
spec checks over a vocabulary of 3. A model that also predicted an end symbol would spread its
probability over all lengths together instead, and its sentences of one length would sum to less
than 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from reference._checks import (
    FloatArray,
    IntArray,
    as_index_array,
    as_named_arrays,
    fail,
    positive_int,
    positive_number,
    rng_from,
)
from reference.embedding import embedding, embedding_backward
from reference.losses import log_softmax, softmax
from reference.optim import Adagrad, Params, gradient_descent
from reference.rnn import (
    RNNCache,
    rnn_backward,
    rnn_forward,
    rnn_loss,
    rnn_loss_backward,
    rnn_output,
    rnn_step,
)

__all__ = [
    "PARAM_NAMES",
    "LanguageModel",
    "TokenRNNCache",
    "Vocabulary",
    "init_token_rnn",
    "lm_loss_and_grads",
    "next_word_probs",
    "sample_sentence",
    "sentence_log_prob",
    "token_rnn_forward",
    "token_rnn_loss_and_grads",
    "toy_corpus",
    "train_language_model",
]

PARAM_NAMES = ("E", "U", "W", "b", "V", "c")
START = "<s>"


# ---------------------------------------------------------------- words and ids
@dataclass(frozen=True)
class Vocabulary:
    """The words of a language model, id = position; the start symbol <s> gets id K."""

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.words or len(set(self.words)) != len(self.words):
            raise fail("Vocabulary", f"words must be a non-empty tuple of distinct words, got "
                                     f"{self.words!r}"[:200])
        if START in self.words or any(not w or w.split() != [w] for w in self.words):
            raise fail("Vocabulary", f"words must be single words other than {START!r}, got "
                                     f"{self.words!r}"[:200])

    @classmethod
    def from_sentences(cls, sentences: Sequence[str]) -> Vocabulary:
        """The sorted distinct words of whitespace-separated sentences."""
        return cls(tuple(sorted({w for sentence in sentences for w in sentence.split()})))

    @property
    def size(self) -> int:
        """K, the number of words (the start symbol not counted)."""
        return len(self.words)

    @property
    def start(self) -> int:
        """The id of <s>, an input-only symbol: K."""
        return len(self.words)

    def encode(self, sentence: str) -> IntArray:
        """The ids [L] of a whitespace-separated sentence of known words."""
        index = {w: i for i, w in enumerate(self.words)}
        unknown = [w for w in sentence.split() if w not in index]
        if unknown or not sentence.split():
            raise fail("Vocabulary.encode", f"sentence must be one or more known words, got "
                                            f"{sentence!r} (unknown: {unknown})")
        return np.array([index[w] for w in sentence.split()], dtype=np.int64)

    def decode(self, ids: Any) -> str:
        """The sentence of ids [L] in [0, K)."""
        ids = as_index_array("Vocabulary.decode", "ids", ids, ndim=1, size=self.size)
        return " ".join(self.words[i] for i in ids)


# ---------------------------------------------------------------- the token RNN
def init_token_rnn(K_in: int, K_out: int, d: int, H: int, rng: Any,
                   scale: float = 0.1) -> Params:
    """Random parameters for embedding → RNN → softmax: N(0, scale²) weights, zero biases."""
    func = "init_token_rnn"
    K_in, K_out = positive_int(func, "K_in", K_in), positive_int(func, "K_out", K_out)
    d, H = positive_int(func, "d", d), positive_int(func, "H", H)
    scale = positive_number(func, "scale", scale)
    g = rng_from(func, rng)
    return {"E": g.normal(0, scale, (K_in, d)), "U": g.normal(0, scale, (H, d)),
            "W": g.normal(0, scale, (H, H)), "b": np.zeros(H),
            "V": g.normal(0, scale, (K_out, H)), "c": np.zeros(K_out)}


def _params(func: str, params: Mapping[str, Any]) -> Params:
    p = as_named_arrays(func, "params", params, PARAM_NAMES,
                        {k: 2 if k in "EUWV" else 1 for k in PARAM_NAMES})
    (K_in, d), (H, _), K = p["E"].shape, p["U"].shape, p["V"].shape[0]
    expected = {"E": (K_in, d), "U": (H, d), "W": (H, H), "b": (H,), "V": (K, H), "c": (K,)}
    for k, shape in expected.items():
        if p[k].shape != shape or 0 in p[k].shape:
            raise fail(func, f"params[{k!r}] must have shape {shape} (from E [K_in, d], "
                             f"U [H, d], V [K, H]), got {p[k].shape}")
    return p


def _ids(func: str, name: str, ids: Any, size: int) -> IntArray:
    ids = as_index_array(func, name, ids, ndim=2, size=size)
    if ids.shape[0] < 1 or ids.shape[1] < 1:
        raise fail(func, f"{name} must hold at least one step and one sequence (time-major "
                         f"[T, N]), got shape {ids.shape}")
    return ids


class TokenRNNCache(NamedTuple):
    """What token_rnn_forward keeps for the backward pass."""

    ids: IntArray     # [T, N] the input ids
    s: FloatArray     # [T, N, H] the states
    rnn: RNNCache     # the RNN's own cache


def token_rnn_forward(params: Mapping[str, Any], ids: Any) -> tuple[FloatArray, TokenRNNCache]:
    """Logits V s_t + c of the network embedding → RNN (from a zero state) → output layer.

    Shapes: ids [T, N] in [0, K_in) → (logits [T, N, K_out], cache).
    """
    p = _params("token_rnn_forward", params)
    cache = _token_rnn_states(p, _ids("token_rnn_forward", "ids", ids, p["E"].shape[0]))
    return cache.s @ p["V"].T + p["c"], cache                # V s_t + c


def _token_rnn_states(p: Params, ids: IntArray) -> TokenRNNCache:
    """The states s_t of embedding → RNN from a zero state (checked inputs), in their cache."""
    x = embedding(ids, p["E"])                              # row t: E[ids[t]]
    s0 = np.zeros((ids.shape[1], p["W"].shape[0]))
    s, cache = rnn_forward(x, s0, p["U"], p["W"], p["b"])   # s_t = tanh(U x_t + W s_{t−1} + b)
    return TokenRNNCache(ids, s, cache)


def token_rnn_loss_and_grads(params: Mapping[str, Any], ids: Any,
                             targets: Any) -> tuple[float, Params]:
    """L = Σ_t cross_entropy(V s_t + c, targets_t) (mean over N) and ∂L/∂θ for every parameter.

    Shapes: ids [T, N] in [0, K_in), targets [T, N] in [0, K_out) → (L, grads named as params).
    """
    p = _params("token_rnn_loss_and_grads", params)
    ids = _ids("token_rnn_loss_and_grads", "ids", ids, p["E"].shape[0])
    targets = _ids("token_rnn_loss_and_grads", "targets", targets, p["V"].shape[0])
    if targets.shape != ids.shape:
        raise fail("token_rnn_loss_and_grads", f"targets must have the shape of ids "
                                               f"{ids.shape}, got {targets.shape}")
    cache = _token_rnn_states(p, ids)                       # (the loss computes V s_t + c)
    loss = rnn_loss(cache.s, p["V"], p["c"], targets)
    ds, dV, dc = rnn_loss_backward(cache.s, p["V"], p["c"], targets)
    dx, _, dU, dW, db = rnn_backward(ds, cache.rnn)
    dE = embedding_backward(dx, ids, p["E"])                # scatter-add into the read rows
    return loss, {"E": dE, "U": dU, "W": dW, "b": db, "V": dV, "c": dc}


# ---------------------------------------------------------------- the language model
def _sentences(func: str, params: Mapping[str, Any], ids: Any) -> tuple[Params, IntArray, bool]:
    p = _params(func, params)
    K = p["V"].shape[0]
    if p["E"].shape[0] != K + 1:
        raise fail(func, f"a language model's E needs K + 1 = {K + 1} rows (the words and <s>), "
                         f"got {p['E'].shape[0]}")
    single = np.ndim(ids) == 1
    w = as_index_array(func, "ids", ids, ndim=(1, 2), size=K)
    w = w[:, None] if single else w
    if w.shape[0] < 1 or w.shape[1] < 1:
        raise fail(func, f"ids must hold sentences of at least one word, got shape {w.shape}")
    return p, w, single


def _lm_inputs(w: IntArray, start: int) -> IntArray:
    """The words read at steps 1 .. L: <s>, w_1, ..., w_{L−1}."""
    return np.concatenate([np.full((1, w.shape[1]), start), w[:-1]])


def next_word_probs(params: Mapping[str, Any], ids: Any) -> FloatArray:
    """The conditionals o_t = p(· | w_<t) for t = 1 .. L, each from the words before t only.

    Shapes: ids [L, N] (or [L]) in [0, K) → [L, N, K] (or [L, K]).
    """
    p, w, single = _sentences("next_word_probs", params, ids)
    logits, _ = token_rnn_forward(p, _lm_inputs(w, p["V"].shape[0]))
    o = softmax(logits)
    return o[:, 0] if single else o


def sentence_log_prob(params: Mapping[str, Any], ids: Any) -> Any:
    """log p(w_1 .. w_L) = Σ_t log p(w_t | w_<t) (no end symbol: see the module's Notes).

    Shapes: ids [L, N] in [0, K) → [N] (a single sentence [L] → a float).
    """
    p, w, single = _sentences("sentence_log_prob", params, ids)
    logits, _ = token_rnn_forward(p, _lm_inputs(w, p["V"].shape[0]))
    logp = log_softmax(logits)                              # log o_t
    picked = np.take_along_axis(logp, w[:, :, None], axis=2)[:, :, 0]   # log o_t[w_t]
    total = picked.sum(axis=0)                              # Σ_t log p(w_t | w_<t)
    return float(total[0]) if single else total


def lm_loss_and_grads(params: Mapping[str, Any], ids: Any) -> tuple[float, Params]:
    """The training loss −(1/N) Σ_n log p(sentence_n) and its gradients.

    Shapes: ids [L, N] in [0, K) → (loss, grads named as params).
    """
    p, w, _ = _sentences("lm_loss_and_grads", params, ids)
    return token_rnn_loss_and_grads(p, _lm_inputs(w, p["V"].shape[0]), w)


def sample_sentence(params: Mapping[str, Any], length: int, rng: Any) -> IntArray:
    """Draw w_t ~ p(· | w_<t) for t = 1 .. length, each word fed back as the next input.

    Shapes: → ids [length] in [0, K). Randomness only from ``rng`` (Generator or int seed).
    """
    p = _params("sample_sentence", params)
    length = positive_int("sample_sentence", "length", length)
    g = rng_from("sample_sentence", rng)
    K = p["V"].shape[0]
    if p["E"].shape[0] != K + 1:
        raise fail("sample_sentence", f"a language model's E needs K + 1 = {K + 1} rows, got "
                                      f"{p['E'].shape[0]}")
    words = np.empty(length, dtype=np.int64)
    s, previous = np.zeros((1, p["W"].shape[0])), K          # s_0 = 0, w_0 = <s>
    for t in range(length):
        x_t = embedding([previous], p["E"])                 # x_t = E[w_{t−1}] (step t + 1)
        s = rnn_step(x_t, s, p["U"], p["W"], p["b"])        # s_t
        o = rnn_output(s, p["V"], p["c"])[0]                # o_t = p(· | w_<t)
        words[t] = previous = int(g.choice(K, p=o))
    return words


# ---------------------------------------------------------------- training on a toy corpus
def toy_corpus() -> list[str]:
    """Every sentence of a two-pattern toy grammar, so that the slide's preferences are learnable.

    "the <noun> is <adjective>" (nouns cat, dog, house, tree) teaches the word order: no sentence
    starts with an adjective; "<walking|running|driving> home after <school|work|dinner>" teaches
    the word choice: "house" is a noun after "the", never a place one walks to.
    """
    nouns, adjectives = ("cat", "dog", "house", "tree"), ("small", "big", "old")
    verbs, places = ("walking", "running", "driving"), ("school", "work", "dinner")
    return ([f"the {n} is {a}" for n in nouns for a in adjectives]
            + [f"{v} home after {p}" for v in verbs for p in places])


@dataclass
class LanguageModel:
    """A trained language model: its parameters, vocabulary and the loss before each step."""

    params: Params
    vocab: Vocabulary
    losses: list[float] = field(default_factory=list)


def train_language_model(sentences: Sequence[str], *, d: int = 8, H: int = 16, steps: int = 150,
                         lr: float = 0.1, rng: Any = 0) -> LanguageModel:
    """Fit an RNN language model to ``sentences`` with full-batch Adagrad on −mean log p.

    Sentences of the same length form one batch; the loss is the mean of −log p(sentence) over
    all of them. Initialisation and nothing else is random (``rng``).
    """
    func = "train_language_model"
    if isinstance(sentences, str) or not sentences or not all(
            isinstance(s, str) and s.split() for s in sentences):
        raise TypeError(f"{func}: sentences must be a non-empty list of non-empty strings, got "
                        f"{sentences!r}"[:200])
    vocab = Vocabulary.from_sentences(sentences)
    by_length: dict[int, list[IntArray]] = {}
    for sentence in sentences:
        ids = vocab.encode(sentence)
        by_length.setdefault(len(ids), []).append(ids)
    batches = [np.stack(group, axis=1) for group in by_length.values()]   # [L, N_L] each
    total = len(sentences)

    def loss_and_grads(params: Params) -> tuple[float, Params]:
        loss, grads = 0.0, {k: np.zeros_like(v) for k, v in params.items()}
        for w in batches:
            share = w.shape[1] / total                      # mean over all sentences
            loss_w, grads_w = lm_loss_and_grads(params, w)
            loss += share * loss_w
            for k in grads:
                grads[k] += share * grads_w[k]
        return loss, grads

    params = init_token_rnn(vocab.size + 1, vocab.size, d, H, rng)
    result = gradient_descent(loss_and_grads, params, lr=lr, steps=steps,
                              update=Adagrad(lr).step)
    return LanguageModel(result.params, vocab, result.losses)
