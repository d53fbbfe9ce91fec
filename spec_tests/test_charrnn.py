"""Spec of reference.charrnn (lecture: "No Magic Involved (in Theory)": "Karpathy presents a Python
implementation for Char-RNN with 112 lines").

Claim: charrnn — trained from scratch on fixtures/text/neurons.txt, the loss falls from log K, and
samples come from the vocabulary. The loss function's gradient is exact (clipping happens outside
it), so it is checked by finite differences.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import charrnn as C
from reference.fixtures import load_text
from reference.gradcheck import check_gradients
from reference.optim import Adagrad, clip_by_norm
from reference.rnn import rnn_forward, rnn_output
from reference.tolerance import Tolerance, assert_close, tolerance

TEXT = load_text("text/neurons.txt")


@cache
def _trained() -> C.CharRNN:
    """H = 32, chunks of 25 characters, 600 Adagrad steps (lr 0.1), clipped at norm 5, seed 0."""
    return C.train_char_rnn(TEXT, H=32, seq_length=25, steps=600, lr=0.1, max_norm=5.0, rng=0)


# ---------------------------------------------------------------- behaviour
@pytest.mark.claim("charrnn")
@pytest.mark.behaviour
def test_loss_starts_at_log_K_and_falls_well_below_it() -> None:
    """Thresholds: the first chunk's loss per character is within 0.05 of log K (the untrained
    model is uniform); the mean over the last 100 of 600 steps is below 0.7 · log K and 0.5 below
    the mean of the first 100. (Measured: log K = 3.47, first 100 ≈ 2.83, last 100 ≈ 2.05.)"""
    model = _trained()
    K = model.chars.size
    log_K = float(np.log(K))
    assert K == len(set(TEXT)) and 20 < K < 60, f"K = {K}"
    losses = np.array(model.losses)
    assert abs(losses[0] - log_K) < 0.05, f"first loss {losses[0]:.3f} vs log K = {log_K:.3f}"
    late = losses[-100:].mean()
    assert late < 0.7 * log_K, f"mean loss of the last 100 steps {late:.3f} ≥ 0.7 log K"
    assert late < losses[:100].mean() - 0.5, "the loss did not keep falling after step 100"


@pytest.mark.claim("charrnn")
@pytest.mark.behaviour
def test_samples_use_only_the_vocabulary_and_repeat_with_their_seed() -> None:
    model = _trained()
    seed_id = int(model.chars.encode("t")[0])
    ids = C.sample_chars(model.params, seed_id, 300, rng=1, s_prev=model.s)
    text = model.chars.decode(ids)
    assert len(text) == 300 and set(text) <= set(TEXT), set(text) - set(TEXT)
    assert np.array_equal(ids, C.sample_chars(model.params, seed_id, 300, 1, model.s))
    # a trained model writes spaces between words: the most frequent character of the text
    assert 0.08 < text.count(" ") / len(text) < 0.35, text


@pytest.mark.claim("charrnn")
@pytest.mark.generator
def test_training_is_determined_by_its_seed() -> None:
    a = C.train_char_rnn(TEXT[:400], H=8, steps=20, rng=3)
    b = C.train_char_rnn(TEXT[:400], H=8, steps=20, rng=3)
    c = C.train_char_rnn(TEXT[:400], H=8, steps=20, rng=4)
    assert a.losses == b.losses and a.losses != c.losses


@pytest.mark.claim("charrnn")
@pytest.mark.behaviour
def test_training_replays_as_chunks_with_carried_state_clipping_and_adagrad() -> None:
    """Seven steps replayed by hand from the module docstring: the text is cut into chunks of T
    characters (inputs text[p:p+T], targets shifted by one); the state is carried from chunk to
    chunk; the gradient of char_rnn_loss is clipped by its global norm (max_norm 0.05, far below
    the measured norms, so every step is clipped) and fed to Adagrad(lr); at the end of the text
    position and state start over. The text has 3·T + 1 characters, so its last chunk ends
    exactly on the last character: a chunk is used whenever its T + 1 characters fit, the
    schedule is 0, T, 2T, 0, T, 2T, 0. Params, final state and losses must agree to 1e-12."""
    T, H, lr, max_norm, steps, seed = 4, 6, 0.3, 0.05, 7, 5
    text = "abcabdacbdbca"
    assert len(text) == 3 * T + 1
    got = C.train_char_rnn(text, H=H, seq_length=T, steps=steps, lr=lr, max_norm=max_norm,
                           rng=seed)
    chars = C.Characters.of(text)
    data = chars.encode(text)
    # the initialisation is the only randomness: init_char_rnn with the same rng
    params = C.init_char_rnn(chars.size, H, seed)
    starts = [p for p in range(0, len(text), T) if p + T + 1 <= len(text)]
    assert starts == [0, T, 2 * T]
    optimiser = Adagrad(lr)
    s, losses, norms = np.zeros(H), [], []
    for i in range(steps):
        p = starts[i % len(starts)]
        if p == 0:
            s = np.zeros(H)                                 # back at the start: state too
        loss, grads, s = C.char_rnn_loss(data[p:p + T], data[p + 1:p + T + 1], s, params)
        clipped, norm = clip_by_norm(grads, max_norm)
        norms.append(norm)
        params = optimiser.step(params, clipped)
        losses.append(loss / T)
    assert min(norms) > 2 * max_norm, f"clipping must act on every step: norms {norms}"
    tol = Tolerance(rtol=1e-12, atol=1e-12)
    assert_close(got.losses, losses, tol, what="losses per character")
    for k in ("U", "W", "V", "b", "c"):
        assert_close(got.params[k], params[k], tol, what=f"params[{k!r}]")
    assert_close(got.s, s, tol, what="the carried state s")
    assert np.abs(s).max() > 1e-3, "the carried state must be non-trivial"


@pytest.mark.claim("charrnn")
@pytest.mark.behaviour
def test_samples_are_drawn_from_the_models_next_character_distribution() -> None:
    """Seed 7: a random model (weights N(0, 1), K = 5, H = 4) and a non-zero carried state. Each
    step's distribution o_t is recomputed independently with reference.rnn (rnn_forward over
    the one-hot prefix seed_id, ids[:t], then rnn_output); replaying the draws with
    Generator.choice(K, p=o_t) on the same seed must give the very ids sample_chars returned."""
    rng = np.random.default_rng(7)
    K, H, n = 5, 4, 40
    params = {k: v / 0.01 for k, v in C.init_char_rnn(K, H, rng).items()}   # N(0, 1)
    params["b"], params["c"] = rng.normal(size=H), rng.normal(size=K)
    s_prev = rng.normal(size=H)
    seed_id = 2
    ids = C.sample_chars(params, seed_id, n, rng=11, s_prev=s_prev)
    replay = np.random.default_rng(11)
    for t in range(n):
        prefix = np.concatenate([[seed_id], ids[:t]])
        x = np.eye(K)[prefix][:, None, :]                   # one-hot x_0 .. x_t, [t+1, 1, K]
        states, _ = rnn_forward(x, s_prev[None], params["U"], params["W"], params["b"])
        o = rnn_output(states[-1], params["V"], params["c"])[0]
        assert ids[t] == replay.choice(K, p=o), f"step {t}: id {ids[t]} not drawn from o_t {o}"
    assert len(set(ids.tolist())) >= 3, "the draws must explore the vocabulary"


# ---------------------------------------------------------------- properties
@pytest.mark.claim("charrnn")
@pytest.mark.property
@settings(max_examples=8)
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 6))
def test_loss_function_gradients_are_exact_for_finite_differences(seed: int, T: int) -> None:
    rng = np.random.default_rng(seed)
    K, H = 5, 4
    params = {k: 0.5 * v / 0.01 for k, v in C.init_char_rnn(K, H, rng).items()}   # N(0, 0.5²)
    params["b"], params["c"] = rng.normal(size=H), rng.normal(size=K)
    data = rng.integers(0, K, T + 1)
    s_prev = rng.normal(size=H)
    _, grads, s_last = C.char_rnn_loss(data[:-1], data[1:], s_prev, params)

    def f(**p: Any) -> float:
        return C.char_rnn_loss(data[:-1], data[1:], s_prev, p)[0]

    check_gradients(f, params, 1.0, grads)
    # the state handed to the next chunk is s_{T−1} of this one
    s = s_prev
    for t in range(T):
        s = np.tanh(params["U"][:, data[t]] + params["W"] @ s + params["b"])
    assert_close(s_last, s, tolerance(np.float64, terms=H + 1, depth=T), what="s_{T−1}")


# ---------------------------------------------------------------- bad input
P = C.init_char_rnn(4, 3, 0)
BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("empty text", lambda: C.Characters.of(""), ValueError,
     r"^Characters.of: text must hold at least one character"),
    ("not text", lambda: C.Characters.of(b"ab"), TypeError,  # type: ignore[arg-type]
     r"^Characters.of: text must be a string, got bytes"),
    ("unknown char", lambda: C.Characters.of("abc").encode("abd"), ValueError,
     r"^Characters.encode: text has characters outside the vocabulary: \['d'\]"),
    ("decode", lambda: C.Characters.of("ab").decode([2]), ValueError,
     r"^Characters.decode: ids holds id 2, outside \[0, 2\)"),
    ("init", lambda: C.init_char_rnn(0, 3, 0), ValueError,
     r"^init_char_rnn: K must be at least 1, got 0"),
    ("params", lambda: C.char_rnn_loss([0], [1], np.zeros(3), {"U": P["U"]}), ValueError,
     r"^char_rnn_loss: params must map exactly \['U', 'W', 'V', 'b', 'c'\] to arrays"),
    ("nan params", lambda: C.char_rnn_loss([0], [1], np.zeros(3), {**P, "V": P["V"] * np.nan}),
     ValueError, r"^char_rnn_loss: params\['V'\] must be finite"),
    ("param shapes", lambda: C.char_rnn_loss([0], [1], np.zeros(3), {**P, "V": P["V"].T}),
     ValueError, r"^char_rnn_loss: params\['V'\] must have shape \(4, 3\) \(from U \[H, K\]\), "
                 r"got \(3, 4\)"),
    ("lengths", lambda: C.char_rnn_loss([0, 1], [1], np.zeros(3), P), ValueError,
     r"^char_rnn_loss: inputs and targets must be one non-empty chunk each of the same length, "
     r"got \(2,\) and \(1,\)"),
    ("empty chunk", lambda: C.char_rnn_loss([], [], np.zeros(3), P), TypeError,
     r"^char_rnn_loss: inputs must hold integer ids"),
    ("empty int chunk", lambda: C.char_rnn_loss(np.array([], int), np.array([], int),
                                                np.zeros(3), P), ValueError,
     r"^char_rnn_loss: inputs and targets must be one non-empty chunk"),
    ("char id", lambda: C.char_rnn_loss([0, 4], [1, 2], np.zeros(3), P), ValueError,
     r"^char_rnn_loss: inputs holds id 4, outside \[0, 4\)"),
    ("state width", lambda: C.char_rnn_loss([0], [1], np.zeros(2), P), ValueError,
     r"^char_rnn_loss: s_prev must have shape \(H,\) = \(3,\) to match W, got \(2,\)"),
    ("state rank", lambda: C.char_rnn_loss([0], [1], np.zeros((1, 3)), P), ValueError,
     r"^char_rnn_loss: s_prev must be 1-D, got 2-D"),
    ("sample n", lambda: C.sample_chars(P, 0, 0, 0), ValueError,
     r"^sample_chars: n must be at least 1, got 0"),
    ("sample seed id", lambda: C.sample_chars(P, 4, 5, 0), ValueError,
     r"^sample_chars: seed_id holds id 4, outside \[0, 4\)"),
    ("sample state", lambda: C.sample_chars(P, 0, 5, 0, s_prev=np.zeros((1, 3))), ValueError,
     r"^sample_chars: s_prev must be 1-D"),
    ("sample state width", lambda: C.sample_chars(P, 0, 5, 0, s_prev=np.zeros(4)), ValueError,
     r"^sample_chars: s_prev must have shape \(H,\) = \(3,\)"),
    ("short text", lambda: C.train_char_rnn("abc", seq_length=3), ValueError,
     r"^train_char_rnn: text must have at least seq_length \+ 1 = 4 characters, got 3"),
    ("seq_length", lambda: C.train_char_rnn("abcdef", seq_length=0), ValueError,
     r"^train_char_rnn: seq_length must be at least 1, got 0"),
    ("max_norm", lambda: C.train_char_rnn("abcdef", seq_length=2, max_norm=-1.0), ValueError,
     r"^train_char_rnn: max_norm must be a finite number > 0, got -1.0"),
]


@pytest.mark.claim("charrnn", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "message"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_text_chunks_and_parameters_get_clear_errors(call: Callable[[], Any],
                                                         kind: type[Exception],
                                                         message: str) -> None:
    with pytest.raises(kind, match=message):
        call()


@pytest.mark.claim("charrnn")
@pytest.mark.generator
def test_init_char_rnn_is_min_char_rnns_small_normal_weights_and_zero_biases() -> None:
    """min-char-rnn's initialisation (the docstring): weights N(0, 0.01²), biases 0. K = 80,
    H = 120, seed 2: the std of U [120, 80], W [120, 120], V [80, 120] is within 5 % of 0.01
    (standard error ≈ σ/√(2n) < 0.8 % of σ for n ≥ 9600 draws); b and c are 0."""
    p = C.init_char_rnn(80, 120, 2)
    assert p["U"].shape == (120, 80) and p["W"].shape == (120, 120) and p["V"].shape == (80, 120)
    for k in ("U", "W", "V"):
        assert abs(float(p[k].std()) / 0.01 - 1) < 0.05, (k, float(p[k].std()))
    assert not np.any(p["b"]) and not np.any(p["c"])
