"""Sequence labelling with an RNN (lecture: "Conclusion": "Sequence Labelling using RNNs";
"Topologies of Recurrent Neural Network": many to many, synced).

A tagger reads a sentence word by word and gives every word a tag at the step it reads it: the
synced many-to-many topology. It is the network of reference.language_model (embedding → RNN →
softmax) with tags as targets instead of the next word:

    x_t = E[w_t],  s_t = tanh(U x_t + W s_{t−1} + b),  p(tag_t | w_≤t) = softmax(V s_t + c)

The toy task (generated in code) is a part-of-speech tagger whose answer needs the state: the
words "fish", "watch", "park" and "train" are nouns in some places and verbs in others, and only
the words before them tell which. A tagger that looks at one word at a time can do no better than
always answer the more frequent tag: NOUN, right about two times in three (the templates have two
noun slots for one verb slot).

Notation
--------
K      number of words; J number of tags (TAGS)
ids    word ids, time-major [T, N]; tags the same shape, ids in [0, J)
E, U, W, b, V, c as in reference.language_model (E [K, d], V [J, H], c [J])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reference._checks import IntArray, as_index_array, fail, positive_int, rng_from
from reference.language_model import (
    init_token_rnn,
    token_rnn_forward,
    token_rnn_loss_and_grads,
)
from reference.optim import Adagrad, Params, gradient_descent

__all__ = ["AMBIGUOUS", "TAGS", "TEMPLATES", "WORDS", "Tagger", "accuracy", "tag",
           "toy_tagging_data", "train_tagger"]

TAGS = ("DET", "ADJ", "NOUN", "VERB")
_DET, _ADJ, _NOUN, _VERB = range(4)
AMBIGUOUS = ("fish", "watch", "park", "train")
"""Words that are nouns after a determiner or an adjective and verbs after a noun."""
_WORDS_OF = {
    _DET: ("the", "a"),
    _ADJ: ("big", "small", "old"),
    _NOUN: ("dog", "cat", "bird", *AMBIGUOUS),
    _VERB: ("sees", "likes", "chases", *AMBIGUOUS),
}
WORDS = tuple(dict.fromkeys(w for words in _WORDS_OF.values() for w in words))
TEMPLATES = (
    (_DET, _NOUN, _VERB, _DET, _ADJ, _NOUN),    # the dog watch a big fish
    (_DET, _ADJ, _NOUN, _VERB, _DET, _NOUN),    # a small fish likes the park
)


def toy_tagging_data(n: int, rng: Any) -> tuple[IntArray, IntArray]:
    """``n`` random sentences of the two templates with their tags, time-major.

    Each sentence picks a template, then each word uniformly among the words of its tag.

    Shapes: → (ids [6, n] in [0, len(WORDS)), tags [6, n] in [0, len(TAGS))).
    """
    n = positive_int("toy_tagging_data", "n", n)
    g = rng_from("toy_tagging_data", rng)
    index = {w: i for i, w in enumerate(WORDS)}
    tags = np.array(TEMPLATES)[g.integers(0, len(TEMPLATES), n)].T        # [6, n]
    ids = np.empty_like(tags)
    for t_id, words in _WORDS_OF.items():
        where = tags == t_id
        choice = g.integers(0, len(words), int(where.sum()))
        ids[where] = np.array([index[w] for w in words])[choice]
    return ids.astype(np.int64), tags.astype(np.int64)


def tag(params: Mapping[str, Any], ids: Any) -> IntArray:
    """The most probable tag of every word, argmax_j softmax(V s_t + c)_j.

    Shapes: ids [T, N] → tags [T, N].
    """
    logits, _ = token_rnn_forward(params, ids)
    return np.argmax(logits, axis=-1)


def accuracy(predicted: Any, tags: Any) -> float:
    """The fraction of words whose predicted tag is the true one.  Shapes: equal, any."""
    p = np.asarray(predicted)
    t = np.asarray(tags)
    if p.shape != t.shape or t.size == 0:
        raise fail("accuracy", f"predicted and tags must be non-empty and of one shape, got "
                               f"{p.shape} and {t.shape}")
    return float(np.mean(p == t))


@dataclass
class Tagger:
    """A trained tagger: its parameters and the loss before each step."""

    params: Params
    losses: list[float] = field(default_factory=list)


def train_tagger(ids: Any, tags: Any, *, n_words: int = len(WORDS), n_tags: int = len(TAGS),
                 d: int = 8, H: int = 16, steps: int = 150, lr: float = 0.1,
                 rng: Any = 0) -> Tagger:
    """Fit a synced many-to-many RNN tagger with full-batch Adagrad on Σ_t cross-entropy, from
    init_token_rnn(n_words, n_tags, d, H, rng) (small random weights, zero biases).

    Shapes: ids [T, N] in [0, n_words), tags [T, N] in [0, n_tags).
    """
    n_words = positive_int("train_tagger", "n_words", n_words)
    n_tags = positive_int("train_tagger", "n_tags", n_tags)
    ids = as_index_array("train_tagger", "ids", ids, ndim=2, size=n_words)
    tags = as_index_array("train_tagger", "tags", tags, ndim=2, size=n_tags)
    if tags.shape != ids.shape or ids.size == 0:
        raise fail("train_tagger", f"ids and tags must be non-empty and of one shape [T, N] (a tag "
                                   f"per word), got {ids.shape} and {tags.shape}")
    params = init_token_rnn(n_words, n_tags, d, H, rng)
    result = gradient_descent(lambda p: token_rnn_loss_and_grads(p, ids, tags), params, lr=lr,
                              steps=steps, update=Adagrad(lr).step)
    return Tagger(result.params, result.losses)
