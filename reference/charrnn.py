"""A character-level RNN language model, in the spirit of the ~112-line min-char-rnn the lecture
cites (lecture: "No Magic Involved (in Theory)").

    You unroll your data in time. You compute the gradients. You use back propagation to train
    your network. Karpathy presents a Python implementation for Char-RNN with 112 lines.

The model reads one character at a time as a one-hot vector x_t and predicts the next one:

    s_t = tanh(U x_t + W s_{t−1} + b),   o_t = softmax(V s_t + c),   L = −Σ_t log o_t[next char]

Training follows min-char-rnn: the text is cut into chunks of ``seq_length`` characters; each chunk
is one forward and backward pass (truncated BPTT: the state is carried from chunk to chunk, the
gradient stops at the chunk's start); the step is Adagrad; at the end of the text both start over.

Notation
--------
K        the number of distinct characters (vocab_size in min-char-rnn)
H        state width (hidden_size)
T        seq_length, the characters of one chunk (truncated BPTT)
U        [H, K]  input → state  (min-char-rnn's Wxh)
W        [H, H]  state → state  (Whh)
V        [K, H]  state → output (Why)
b, c     [H], [K] biases        (bh, by)
s_prev   [H]     the state carried in from the previous chunk (hprev)

Names are the slides' (U, W, V), as everywhere in this reference, with min-char-rnn's in
parentheses. Departures from min-char-rnn, on purpose: no globals (parameters in a dict, an explicit
rng); the softmax with the max shift (reference.losses); gradient clipping by the global norm
(reference.optim.clip_by_norm) in the training loop, outside the loss function (min-char-rnn clips
each entry to [−5, 5] inside it, so its loss function's gradient is not the loss's gradient and
cannot be checked by finite differences).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
from reference.embedding import one_hot
from reference.losses import softmax
from reference.optim import Adagrad, Params, clip_by_norm
from reference.rnn import rnn_backward, rnn_forward, rnn_loss, rnn_loss_backward

__all__ = ["CharRNN", "Characters", "char_rnn_loss", "init_char_rnn", "sample_chars",
           "train_char_rnn"]

PARAM_NAMES = ("U", "W", "V", "b", "c")


@dataclass(frozen=True)
class Characters:
    """The vocabulary: the distinct characters of a text, sorted; id = position."""

    chars: str

    @classmethod
    def of(cls, text: str) -> Characters:
        """The characters of ``text`` (a non-empty string)."""
        if not isinstance(text, str):
            raise TypeError(f"Characters.of: text must be a string, got {type(text).__name__}")
        if not text:
            raise fail("Characters.of", "text must hold at least one character, got ''")
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        """K."""
        return len(self.chars)

    def encode(self, text: str) -> IntArray:
        """The ids of the characters of ``text`` (each must be in the vocabulary)."""
        index = {ch: i for i, ch in enumerate(self.chars)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise fail("Characters.encode", f"text has characters outside the vocabulary: "
                                            f"{unknown}")
        return np.array([index[ch] for ch in text], dtype=np.int64)

    def decode(self, ids: Any) -> str:
        """The text of ids in [0, K)."""
        ids = as_index_array("Characters.decode", "ids", ids, ndim=1, size=self.size)
        return "".join(self.chars[i] for i in ids)


def init_char_rnn(K: int, H: int, rng: Any) -> Params:
    """min-char-rnn's initialisation: weights N(0, 0.01²), biases 0."""
    K, H = positive_int("init_char_rnn", "K", K), positive_int("init_char_rnn", "H", H)
    g = rng_from("init_char_rnn", rng)
    return {"U": g.normal(0, 0.01, (H, K)), "W": g.normal(0, 0.01, (H, H)),
            "V": g.normal(0, 0.01, (K, H)), "b": np.zeros(H), "c": np.zeros(K)}


def _params(func: str, params: Mapping[str, Any]) -> Params:
    p = as_named_arrays(func, "params", params, PARAM_NAMES,
                        {k: 2 if k in "UWV" else 1 for k in PARAM_NAMES})
    H, K = p["U"].shape
    expected = {"U": (H, K), "W": (H, H), "V": (K, H), "b": (H,), "c": (K,)}
    for k, shape in expected.items():
        if p[k].shape != shape or 0 in shape:
            raise fail(func, f"params[{k!r}] must have shape {shape} (from U [H, K]), got "
                             f"{p[k].shape}")
    return p


def _state(func: str, s_prev: Any, H: int) -> FloatArray:
    s = as_float_array(func, "s_prev", s_prev, ndim=1)
    if s.shape != (H,):
        raise fail(func, f"s_prev must have shape (H,) = ({H},) to match W, got {s.shape}")
    return s


def char_rnn_loss(inputs: Any, targets: Any, s_prev: Any,
                  params: Mapping[str, Any]) -> tuple[float, Params, FloatArray]:
    """min-char-rnn's lossFun: L = −Σ_t log o_t[targets_t] over one chunk, its gradients, s_{T−1}.

    The state s_prev comes in from the previous chunk; no gradient goes back into it (truncated
    BPTT). The gradients are exact (no clipping here).

    Shapes: inputs, targets [T] ids in [0, K), s_prev [H] → (L, grads {U, W, V, b, c}, s [H]).
    """
    p = _params("char_rnn_loss", params)
    K = p["V"].shape[0]
    inputs = as_index_array("char_rnn_loss", "inputs", inputs, ndim=1, size=K)
    targets = as_index_array("char_rnn_loss", "targets", targets, ndim=1, size=K)
    if inputs.shape != targets.shape or inputs.size == 0:
        raise fail("char_rnn_loss", f"inputs and targets must be one non-empty chunk each of the "
                                    f"same length, got {inputs.shape} and {targets.shape}")
    s_prev = _state("char_rnn_loss", s_prev, p["W"].shape[0])
    x = one_hot(inputs, K)[:, None, :]                      # x_t: one-hot [T, 1, K]
    y = targets[:, None]                                    # [T, 1]
    s, cache = rnn_forward(x, s_prev[None], p["U"], p["W"], p["b"])   # s_t, with hs[-1] = hprev
    loss = rnn_loss(s, p["V"], p["c"], y)                   # −Σ_t log o_t[y_t]
    ds, dV, dc = rnn_loss_backward(s, p["V"], p["c"], y)   # dy = o_t − onehot(y_t)
    _, _, dU, dW, db = rnn_backward(ds, cache)              # back through time with dhnext
    return loss, {"U": dU, "W": dW, "V": dV, "b": db, "c": dc}, s[-1, 0]


def sample_chars(params: Mapping[str, Any], seed_id: int, n: int, rng: Any,
                 s_prev: Any = None) -> IntArray:
    """Sample ``n`` character ids, each drawn from o_t and fed back as the next input.

    Shapes: seed_id in [0, K), s_prev [H] (zeros by default) → ids [n] in [0, K).
    """
    p = _params("sample_chars", params)
    K, H = p["V"].shape[0], p["W"].shape[0]
    n = positive_int("sample_chars", "n", n)
    (x_id,) = as_index_array("sample_chars", "seed_id", [seed_id], size=K)
    s = np.zeros(H) if s_prev is None else _state("sample_chars", s_prev, H)
    g = rng_from("sample_chars", rng)
    ids = np.empty(n, dtype=np.int64)
    for t in range(n):
        s = np.tanh(p["U"][:, x_id] + p["W"] @ s + p["b"])  # U x_t with a one-hot x_t
        o = softmax(p["V"] @ s + p["c"])                    # o_t
        ids[t] = x_id = int(g.choice(K, p=o))
    return ids


@dataclass
class CharRNN:
    """A trained char-RNN: parameters, vocabulary, final state, loss per character per step."""

    params: Params
    chars: Characters
    s: FloatArray
    losses: list[float] = field(default_factory=list)


def train_char_rnn(text: str, *, H: int = 64, seq_length: int = 25, steps: int = 1000,
                   lr: float = 0.1, max_norm: float = 5.0, rng: Any = 0) -> CharRNN:
    """min-char-rnn's main loop: truncated BPTT over chunks, clip by norm, Adagrad.

    The parameters start as init_char_rnn(K, H, rng) over the sorted characters of ``text``, the
    state at zero. Step i reads the chunk at position p (inputs text[p:p+T], targets shifted by
    one, T = seq_length) from the state the previous chunk left, takes char_rnn_loss's gradients,
    clips them to the global norm ``max_norm`` and takes an Adagrad(lr) step; then p += T. A
    chunk is used whenever its T + 1 characters fit; where the next one does not, position and
    state start over at 0 (min-char-rnn starts over one chunk earlier: it tests p + T + 1 ≥ len,
    this loop p + T + 1 > len, so the chunk that ends on the last character is read too).
    ``losses[i]`` is step i's loss per character, L / seq_length, taken before its update; an
    untrained model starts near log K. Only the initialisation is random.
    """
    chars = Characters.of(text)
    seq_length = positive_int("train_char_rnn", "seq_length", seq_length)
    steps = positive_int("train_char_rnn", "steps", steps)
    max_norm = positive_number("train_char_rnn", "max_norm", max_norm)
    if len(text) < seq_length + 1:
        raise fail("train_char_rnn", f"text must have at least seq_length + 1 = "
                                     f"{seq_length + 1} characters, got {len(text)}")
    data = chars.encode(text)
    params = init_char_rnn(chars.size, H, rng)
    optimiser = Adagrad(lr)
    losses, p, s_prev = [], 0, np.zeros(params["W"].shape[0])
    for _ in range(steps):
        if p + seq_length + 1 > len(data):                  # the end of the text: start over
            p, s_prev = 0, np.zeros_like(s_prev)
        inputs, targets = data[p:p + seq_length], data[p + 1:p + seq_length + 1]
        loss, grads, s_prev = char_rnn_loss(inputs, targets, s_prev, params)
        grads, _ = clip_by_norm(grads, max_norm)            # outside the loss function
        params = optimiser.step(params, grads)
        losses.append(loss / seq_length)
        p += seq_length
    return CharRNN(params, chars, s_prev, losses)
