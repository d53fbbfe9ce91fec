"""Spec of reference.topologies (lecture: "Topologies of Recurrent Neural Network"): one to one,
one to many, many to one, many to many delayed and synced are the same cell of reference.rnn,
read out at different steps and fed zeros where there is no input.

Claim: rnn.topologies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import RecurrentCase, output_layers, recurrent_cases
from reference import rnn as R
from reference import topologies as TOP
from reference.feedforward import dense
from reference.gradcheck import check_gradients
from reference.losses import softmax
from reference.tolerance import assert_close, tolerance


def _b(case: RecurrentCase) -> np.ndarray:
    """The slide's single bias b = b_ih + b_hh (torch's two biases only appear as their sum)."""
    return case.b_ih + case.b_hh


def _fwd_tol(case_terms: int, depth: int) -> Any:
    return tolerance(np.float64, terms=case_terms, depth=depth)


# ---------------------------------------------------------------- properties
@pytest.mark.claim("rnn.topologies")
@pytest.mark.property
@given(recurrent_cases(max_t=6), st.data())
def test_synced_many_to_one_and_one_to_one_are_the_same_cell_read_at_different_steps(
        case: RecurrentCase, data: st.DataObject) -> None:
    T, N, H = case.sizes["T"], case.sizes["N"], case.sizes["H"]
    out = data.draw(output_layers(T, N, H), label="output layer")
    params = (case.W_ih, case.W_hh, _b(case), out.V, out.c)
    tol = _fwd_tol(case.sizes["D"] + H, T)
    synced = TOP.many_to_many_synced(case.x, case.h0, *params)
    assert synced.shape == (T, N, out.V.shape[0])
    # the readout o_t = softmax(V s_t + c) of the cell's states s_t
    s, _ = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    for t in range(T):
        assert_close(synced[t], softmax(dense(s[t], out.V, out.c, "identity")), tol,
                     what=f"synced o_{t} vs softmax(V s_{t} + c)")
    # an output for every input, each from the inputs up to its step only
    for t in range(T):
        assert_close(TOP.many_to_one(case.x[:t + 1], case.h0, *params), synced[t], tol,
                     what=f"many_to_one(x_0..x_{t}) vs synced o_{t}")
    # one to one is a feed-forward network: o = softmax(V f(U x + b) + c)
    U, _, b, V, c = params
    ffn = softmax(dense(dense(case.x[0], U, b, "tanh"), V, c, "identity"))
    assert_close(TOP.one_to_one(case.x[0], *params), ffn, tol, what="one_to_one vs a 2-layer net")
    # W meets only the zero state: any other W gives the same outputs
    assert_close(TOP.one_to_one(case.x[0], U, 3.0 * case.W_hh + 1.0, b, V, c), ffn, tol,
                 what="one_to_one with another W")


@pytest.mark.claim("rnn.topologies")
@pytest.mark.property
@given(recurrent_cases(max_t=5), st.integers(1, 4), st.data())
def test_one_to_many_and_delayed_outputs_continue_the_state_on_zero_inputs(
        case: RecurrentCase, steps: int, data: st.DataObject) -> None:
    T, N, H, D = case.sizes["T"], case.sizes["N"], case.sizes["H"], case.sizes["D"]
    out = data.draw(output_layers(T, N, H), label="output layer")
    params = (case.W_ih, case.W_hh, _b(case), out.V, out.c)
    tol = _fwd_tol(D + H, T + steps)
    zero = np.zeros((N, D))
    one_many = TOP.one_to_many(case.x[0], case.h0, *params, steps=steps)
    assert one_many.shape == (steps, N, out.V.shape[0])
    # one to many: the observation at step 0, then the state alone carries on
    assert_close(one_many[0], TOP.many_to_one(case.x[:1], case.h0, *params), tol, what="o_0")
    if steps > 1:
        s_0 = R.rnn_step(case.x[0], case.h0, case.W_ih, case.W_hh, _b(case))
        assert_close(one_many[1:], TOP.one_to_many(zero, s_0, *params, steps=steps - 1), tol,
                     what="one_to_many continued from s_0")
    # many to many, delayed: read everything, then write from the final state on zero inputs
    delayed = TOP.many_to_many_delayed(case.x, case.h0, *params, steps=steps)
    s, _ = R.rnn_forward(case.x, case.h0, case.W_ih, case.W_hh, _b(case))
    assert_close(delayed, TOP.one_to_many(zero, s[-1], *params, steps=steps), tol,
                 what="delayed outputs vs one_to_many from s_{T−1}")


# ---------------------------------------------------------------- bad input
_rng = np.random.default_rng(7)
T_, N_, D_, H_, K_ = 3, 2, 4, 5, 3
X, S0 = _rng.normal(size=(T_, N_, D_)), _rng.normal(size=(N_, H_))
U_, W_, B_ = _rng.normal(size=(H_, D_)), _rng.normal(size=(H_, H_)), _rng.normal(size=H_)
V_, C_ = _rng.normal(size=(K_, H_)), _rng.normal(size=K_)
OUT = (V_, C_)

BAD_INPUT: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("synced rank", lambda: TOP.many_to_many_synced(X[0], S0, U_, W_, B_, *OUT), ValueError,
     r"^many_to_many_synced: x must be 3-D"),
    ("many_to_one H", lambda: TOP.many_to_one(X, S0, U_, W_, B_, V_[:, :2], C_), ValueError,
     r"^many_to_one: V must have shape \(K, H\) with H = 5"),
    ("one_to_one rank", lambda: TOP.one_to_one(X, U_, W_, B_, *OUT), ValueError,
     r"^one_to_one: x must be 2-D, got 3-D"),
    ("one_to_one U", lambda: TOP.one_to_one(X[0], U_[0], W_, B_, *OUT), ValueError,
     r"^one_to_one: U must be 2-D, got 1-D"),
    ("one_to_many steps", lambda: TOP.one_to_many(X[0], S0, U_, W_, B_, *OUT, steps=0),
     ValueError, r"^one_to_many: steps must be at least 1, got 0"),
    ("one_to_many steps type", lambda: TOP.one_to_many(X[0], S0, U_, W_, B_, *OUT, steps=2.0),  # type: ignore[arg-type]
     TypeError, r"^one_to_many: steps must be an integer, got 2.0"),
    ("delayed steps bool", lambda: TOP.many_to_many_delayed(X, S0, U_, W_, B_, *OUT, steps=True),
     TypeError, r"^many_to_many_delayed: steps must be an integer, got True"),
    ("one_to_many rank", lambda: TOP.one_to_many(X, S0, U_, W_, B_, *OUT, steps=2), ValueError,
     r"^one_to_many: x must be 2-D, got 3-D"),
    ("delayed empty", lambda: TOP.many_to_many_delayed(X[:0], S0, U_, W_, B_, *OUT, steps=2),
     ValueError, r"^many_to_many_delayed: x must be a non-empty sequence \[T, N, D\]"),
    ("delayed s0", lambda: TOP.many_to_many_delayed(X, S0.T, U_, W_, B_, *OUT, steps=2),
     ValueError, r"^many_to_many_delayed: s0 must have shape \(2, 5\), got \(5, 2\)"),
]


@pytest.mark.claim("rnn.topologies", "convention.errors", "convention.time-major")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "message"), [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_an_error_naming_function_argument_and_shape(
        call: Callable[[], Any], kind: type[Exception], message: str) -> None:
    with pytest.raises(kind, match=message):
        call()


@pytest.mark.claim("rnn.topologies", "convention.errors")
@pytest.mark.errors
def test_non_finite_inputs_give_errors_not_nan() -> None:
    x_nan, s_inf = X.copy(), S0.copy()
    x_nan[2, 1, 3], s_inf[1, 4] = np.nan, -np.inf
    with pytest.raises(ValueError, match=r"^many_to_one: x must be finite"):
        TOP.many_to_one(x_nan, S0, U_, W_, B_, *OUT)
    with pytest.raises(ValueError, match=r"^many_to_many_delayed: s0 must be finite"):
        TOP.many_to_many_delayed(X, s_inf, U_, W_, B_, *OUT, steps=2)
    with pytest.raises(ValueError, match=r"^one_to_one: x must be finite"):
        TOP.one_to_one(x_nan[2], U_, W_, B_, *OUT)
    with pytest.raises(ValueError, match=r"^one_to_many: x must be finite"):
        TOP.one_to_many(x_nan[2], S0, U_, W_, B_, *OUT, steps=2)


# ---------------------------------------------------------------- the applications, trained
# (issue #15: "sentiment classification" = many to one, "machine translation" = many to many,
# delayed; rnn.many-to-one, rnn.delayed)
@pytest.mark.claim("rnn.many-to-one", "rnn.delayed")
@pytest.mark.torch
@pytest.mark.parametrize(("T", "S", "N", "K"), [(5, 1, 3, 2), (6, 3, 2, 4), (7, 2, 1, 3)])
def test_readout_loss_and_bptt_gradients_match_torch_nn_rnn(T: int, S: int, N: int,
                                                             K: int) -> None:
    """S = 1: many to one (the last state read); S > 1 with zero inputs after T − S steps: the
    delayed topology's S outputs; torch.nn.RNN + nn.Linear + F.cross_entropy summed over the
    read steps, written in torch alone."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from spec_tests.helpers.oracles import assert_matches_torch

    rng = np.random.default_rng(T * 10 + S)
    D, H = 3, 4
    params = TOP.init_topology_rnn(D, H, K, rng=rng)
    x = rng.normal(size=(T, N, D))
    if S > 1:
        x[T - S:] = 0.0                                     # delayed: inputs end, outputs begin
    y = rng.integers(0, K, (S, N))
    loss, grads = TOP.readout_loss_and_grads(params, x, y)

    def torch_loss(x: torch.Tensor, U: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                   V: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        rnn = nn.RNN(D, H).double()
        weights = {"weight_ih_l0": U, "weight_hh_l0": W, "bias_ih_l0": b,
                   "bias_hh_l0": torch.zeros_like(b)}
        states, _ = torch.func.functional_call(rnn, weights, (x,))
        logits = states[T - S:] @ V.T + c                                   # [S, N, K]
        target = torch.as_tensor(y)
        return sum(F.cross_entropy(logits[k], target[k]) for k in range(S))  # type: ignore[return-value]

    assert_matches_torch(torch_loss, {"x": x, **params}, loss, grads, terms=D + H, depth=T,
                         what=f"readout of the last {S} of {T} steps")


SENTIMENT_SEEDS = (0, 1, 2, 3)


@pytest.mark.claim("rnn.many-to-one")
@pytest.mark.behaviour
def test_many_to_one_rnn_learns_a_sentiment_that_only_word_order_decides() -> None:
    """Seeds 0-3; 512 training sentences of 6 words, one-hot inputs, H = 8, 150 full-batch Adam
    steps at lr 0.02; 500 new sentences each. The label is the sentiment word's polarity,
    flipped by a "not" right before it; every sentence holds one "not", so a bag of words is at
    chance (50 %). Threshold: held-out accuracy ≥ 95 % for every seed (measured 97.4 %, 100 %,
    100 %, 99.4 %)."""
    accuracies = [TOP.train_sentiment_rnn(seed=s).accuracy for s in SENTIMENT_SEEDS]
    assert min(accuracies) >= 0.95, f"held-out accuracies {accuracies}"


@pytest.mark.claim("rnn.delayed")
@pytest.mark.behaviour
def test_delayed_many_to_many_rnn_reverses_sequences_it_never_saw() -> None:
    """Seeds 0-2; of the 4^4 = 256 sequences of 4 symbols, 160 train (tanh RNN, H = 16, 300
    full-batch Adam steps at lr 0.03) and 96 are held out. The outputs come after the whole
    input (the first output needs the last input). Chance is 25 % per symbol and 0.4 % per
    sequence. Thresholds on the held-out sequences, every seed: ≥ 90 % of the symbols right
    (measured 92.4 %, 93.5 %, 95.3 %) and ≥ 65 % of the sequences wholly right (measured 69.8 %,
    75.0 %, 81.3 %): the reversal generalises, imperfectly, from 160 examples."""
    results = [TOP.train_reverser(seed=s) for s in (0, 1, 2)]
    symbols = [r.accuracy for r in results]
    sequences = [r.sequence_accuracy for r in results]
    assert min(symbols) >= 0.90, f"held-out symbol accuracies {symbols}"
    assert min(sequences) >= 0.65, f"held-out sequence accuracies {sequences}"


@pytest.mark.claim("rnn.many-to-one")
@pytest.mark.property
@given(st.integers(0, 2**32 - 1), st.integers(3, 9))
def test_every_sentiment_sentence_holds_one_not_and_one_sentiment_word(seed: int,
                                                                       length: int) -> None:
    """What makes the task need the word order: every sentence has exactly one "not" and one
    sentiment word, and the label is the polarity flipped exactly when the "not" stands right
    before it."""
    ids, labels = TOP.sentiment_sentences(50, length, rng=seed)
    words = np.asarray(TOP.SENTIMENT_WORDS)[ids]
    polar = np.isin(words, ["good", "great", "bad", "awful"])
    assert np.all((words == "not").sum(axis=1) == 1) and np.all(polar.sum(axis=1) == 1)
    where = polar.argmax(axis=1)
    negated = words[np.arange(50), where - 1] == "not"
    positive = np.isin(words[np.arange(50), where], ["good", "great"])
    assert np.array_equal(labels, (positive ^ negated).astype(int))


@pytest.mark.claim("rnn.delayed")
@pytest.mark.property
@given(st.integers(1, 4), st.integers(1, 4))
def test_reversal_data_lists_every_sequence_once_with_its_reverse(length: int,
                                                                  symbols: int) -> None:
    x, y = TOP.reversal_data(length, symbols)
    ids = x.argmax(axis=2)                                   # [length, M]
    assert x.shape == (length, symbols ** length, symbols) and np.all(x.sum(axis=2) == 1)
    assert len({tuple(col) for col in ids.T}) == symbols ** length
    assert np.array_equal(y, ids[::-1])


APPLICATION_ERRORS: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("short sentences", lambda: TOP.sentiment_sentences(3, 2, rng=0), ValueError,
     r"^sentiment_sentences: length must be at least 3"),
    ("too many sequences", lambda: TOP.reversal_data(9, 10), ValueError,
     r"^reversal_data: symbols\^length = 10\^9 sequences is too many"),
    ("nothing held out", lambda: TOP.train_reverser(n_train=256), ValueError,
     r"^train_reverser: n_train must leave sequences to hold out: 256 ≥ 4\^4 = 256"),
    ("y too long", lambda: TOP.readout_loss_and_grads(TOP.init_topology_rnn(4, 5, 3, rng=0), X,
                                                      np.zeros((4, 2), int)), ValueError,
     r"^readout_loss_and_grads: y must have shape \(S, N\) with 1 ≤ S ≤ T = 3 and N = 2"),
    ("params", lambda: TOP.readout_loss_and_grads({"U": U_}, X, np.zeros((1, 2), int)),
     ValueError, r"^readout_loss_and_grads: params must map exactly \['U', 'W', 'b', 'V', 'c'\]"),
    ("seed", lambda: TOP.train_sentiment_rnn(seed=None),  # type: ignore[arg-type]
     TypeError, r"^train_sentiment_rnn: rng must be a numpy.random.Generator"),
    ("lr", lambda: TOP.train_reverser(lr=0.0), ValueError,
     r"^train_reverser: lr must be a finite number > 0"),
    ("H", lambda: TOP.init_topology_rnn(2, 0, 2, rng=0), ValueError,
     r"^init_topology_rnn: H must be at least 1"),
]


@pytest.mark.claim("rnn.many-to-one", "rnn.delayed", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "message"), [c[1:] for c in APPLICATION_ERRORS],
                         ids=[c[0] for c in APPLICATION_ERRORS])
def test_the_trainers_and_their_data_refuse_bad_input_by_name(
        call: Callable[[], Any], kind: type[Exception], message: str) -> None:
    with pytest.raises(kind, match=message):
        call()


@pytest.mark.claim("rnn.many-to-one", "rnn.delayed")
@pytest.mark.property
@given(st.integers(2, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_readout_gradients_match_finite_differences(T: int, S: int, seed: int) -> None:
    S = min(S, T)
    rng = np.random.default_rng(seed)
    params = TOP.init_topology_rnn(3, 4, 3, rng=rng)
    x, y = rng.normal(size=(T, 2, 3)), rng.integers(0, 3, (S, 2))
    _, grads = TOP.readout_loss_and_grads(params, x, y)
    check_gradients(lambda **p: TOP.readout_loss_and_grads(p, x, y)[0], params, 1.0, grads)


@pytest.mark.claim("rnn.delayed")
@pytest.mark.behaviour
def test_the_reversers_accuracies_count_only_the_held_out_sequences() -> None:
    """Of the 4^2 = 16 sequences of 2 symbols, 15 train (20 Adam steps, H = 8) and ONE is held
    out, so the accuracies count that one sequence's 2 outputs alone: the symbol accuracy is
    0, ½ or 1, and the sequence accuracy is 1 exactly when both symbols are right (a sequence
    is right only if all its outputs are), else 0. Seeds 0-3 (measured 0.5, 1, 0.5, 1). Counted
    over the training sequences instead, the symbol accuracy would be a multiple of 1/30."""
    for seed in range(4):
        r = TOP.train_reverser(seed=seed, n_train=15, length=2, symbols=4, H=8, steps=20,
                               lr=0.05)
        assert r.accuracy in (0.0, 0.5, 1.0), (seed, r.accuracy)
        assert r.sequence_accuracy == float(r.accuracy == 1.0), (seed, r)


@pytest.mark.claim("rnn.many-to-one")
@pytest.mark.generator
def test_sentiment_sentences_are_drawn_from_the_given_rng() -> None:
    """Every random thing takes its seed or Generator (CONVENTIONS): the same seed, as an int or
    a Generator, gives the same sentences; other seeds give other ones."""
    ids, labels = TOP.sentiment_sentences(30, rng=5)
    again = TOP.sentiment_sentences(30, rng=np.random.default_rng(5))
    assert np.array_equal(ids, again[0]) and np.array_equal(labels, again[1])
    others = [TOP.sentiment_sentences(30, rng=seed)[0] for seed in (6, 7)]
    assert not any(np.array_equal(ids, o) for o in others)
