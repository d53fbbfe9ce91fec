"""Spec of reference.language_model (lecture: "Language Model", "Language Models with RNN").

Claims: lm.probability (p(sentence) = Π p(w_t | w_<t), sums to 1 per length, the slide's
preferences after training), lm.memory (parameters independent of the length); the whole
embedding → RNN → softmax network against torch (embedding, rnn.cell).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.strategies import TokenModelCase, token_model_cases, token_sequences
from reference import language_model as LM
from reference.gradcheck import check_gradients
from reference.optim import Adagrad
from reference.tolerance import EXACT, assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch

THREE_WORDS = token_model_cases(K_in=4, K_out=3)    # a language model over 3 words (+ <s>)


# ---------------------------------------------------------------- properties
@pytest.mark.claim("lm.probability")
@pytest.mark.property
@given(THREE_WORDS, st.integers(1, 5))
def test_probabilities_of_all_sentences_of_a_length_sum_to_one(case: TokenModelCase,
                                                                L: int) -> None:
    # every sentence of length L over a vocabulary of 3: 3^L of them, one batch [L, 3^L]
    sentences = np.array(list(itertools.product(range(3), repeat=L)), dtype=np.int64).T
    p = np.exp(LM.sentence_log_prob(case.params, sentences))
    assert p.shape == (3 ** L,) and np.all(p > 0)
    assert_close(p.sum(), 1.0, tolerance(np.float64, terms=3 ** L, depth=L),
                 what=f"Σ p(w) over all {3 ** L} sentences of length {L}")


@pytest.mark.claim("lm.probability")
@pytest.mark.property
@given(THREE_WORDS, token_sequences(vocab=3, max_t=6))
def test_sentence_probability_is_the_product_of_next_word_conditionals(
        case: TokenModelCase, ids: np.ndarray) -> None:
    L, N = ids.shape
    log_p = LM.sentence_log_prob(case.params, ids)
    # p(w_t | w_<t) read off a run on the prefix w_1 .. w_t alone: the later words play no part
    product = np.ones(N)
    for t in range(L):
        o_t = LM.next_word_probs(case.params, ids[:t + 1])[t]           # [N, 3]
        assert_close(o_t.sum(axis=-1), np.ones(N), tolerance(np.float64, terms=3),
                     what=f"Σ_w p(w | w_<{t + 1})")
        product *= o_t[np.arange(N), ids[t]]
    assert_close(np.exp(log_p), product, tolerance(np.float64, terms=3, depth=L),
                 what="p(sentence) vs Π_t p(w_t | w_<t)")
    single = LM.sentence_log_prob(case.params, ids[:, 0])
    assert isinstance(single, float)
    assert_close(single, log_p[0], tolerance(np.float64, terms=3, depth=L), what="one sentence")


@pytest.mark.claim("lm.probability")
@pytest.mark.property
@settings(max_examples=4)
@given(THREE_WORDS, st.integers(0, 2 ** 32 - 1))
def test_samples_follow_the_model_and_repeat_with_their_seed(case: TokenModelCase,
                                                             seed: int) -> None:
    """600 sentences of length 2 (9 outcomes): every frequency within 5 standard errors of p."""
    n = 600
    rng = np.random.default_rng(seed)
    samples = np.stack([LM.sample_sentence(case.params, 2, rng) for _ in range(n)], axis=1)
    assert samples.shape == (2, n) and samples.min() >= 0 and samples.max() < 3
    outcomes = np.array(list(itertools.product(range(3), repeat=2)), dtype=np.int64).T
    p = np.exp(LM.sentence_log_prob(case.params, outcomes))
    freq = np.array([np.mean(np.all(samples == outcomes[:, [j]], axis=0)) for j in range(9)])
    bound = 5 * np.sqrt(p * (1 - p) / n) + 1 / n
    assert np.all(np.abs(freq - p) <= bound), f"frequencies {freq} vs probabilities {p}"
    again = LM.sample_sentence(case.params, 5, seed)
    assert np.array_equal(again, LM.sample_sentence(case.params, 5, seed)), "same seed, new words"


@pytest.mark.claim("lm.memory")
@pytest.mark.property
@given(THREE_WORDS, st.lists(token_sequences(vocab=3, max_t=12), min_size=2, max_size=3))
def test_the_parameters_are_the_same_for_sentences_of_any_length(
        case: TokenModelCase, batches: list[np.ndarray]) -> None:
    shapes = {k: v.shape for k, v in case.params.items()}
    for ids in batches:
        _, grads = LM.lm_loss_and_grads(case.params, ids)
        assert {k: g.shape for k, g in grads.items()} == shapes, f"L = {ids.shape[0]}"


@pytest.mark.claim("lm.probability", "embedding")
@pytest.mark.property
@settings(max_examples=8)
@given(token_model_cases(K_in=4, K_out=3, max_d=2, max_h=3, bound=1.0),
       token_sequences(vocab=3, max_t=3, max_n=2))
def test_language_model_gradients_match_finite_differences(case: TokenModelCase,
                                                           ids: np.ndarray) -> None:
    _, grads = LM.lm_loss_and_grads(case.params, ids)

    def loss(**params: Any) -> float:
        return LM.lm_loss_and_grads(params, ids)[0]

    check_gradients(loss, case.params, 1.0, grads)
    # the loss is the mean over sentences of −log p(sentence)
    assert_close(loss(**case.params), -np.mean(LM.sentence_log_prob(case.params, ids)),
                 tolerance(np.float64, terms=3, depth=ids.shape[0]), what="loss vs −mean log p")


# ---------------------------------------------------------------- torch
def _torch_token_rnn(ids: torch.Tensor, targets: torch.Tensor, E: torch.Tensor,
                     U: torch.Tensor, W: torch.Tensor, b: torch.Tensor, V: torch.Tensor,
                     c: torch.Tensor) -> torch.Tensor:
    """nn.Embedding → nn.RNN(tanh) → linear → Σ_t F.cross_entropy, weights copied in."""
    emb = torch.nn.Embedding(E.shape[0], E.shape[1], dtype=torch.float64)
    rnn = torch.nn.RNN(U.shape[1], U.shape[0], dtype=torch.float64)
    x = torch.func.functional_call(emb, {"weight": E}, (ids,))
    h0 = torch.zeros(1, ids.shape[1], U.shape[0], dtype=torch.float64)
    s, _ = torch.func.functional_call(rnn, {"weight_ih_l0": U, "weight_hh_l0": W,
                                            "bias_ih_l0": b, "bias_hh_l0": torch.zeros_like(b)},
                                      (x, h0))
    logits = s @ V.T + c
    return sum(F.cross_entropy(logits[t], targets[t]) for t in range(len(ids)))  # type: ignore[return-value]


@pytest.mark.claim("embedding", "rnn.cell")
@pytest.mark.torch
@pytest.mark.parametrize(("T", "N"), [(1, 1), (5, 3), (12, 2)])
def test_embedding_rnn_softmax_network_matches_torch(T: int, N: int) -> None:
    rng = np.random.default_rng(T + N)
    params = LM.init_token_rnn(6, 4, 3, 5, rng, scale=0.5)
    ids, targets = rng.integers(0, 6, (T, N)), rng.integers(0, 4, (T, N))
    logits, _ = LM.token_rnn_forward(params, ids)
    loss, grads = LM.token_rnn_loss_and_grads(params, ids, targets)
    assert logits.shape == (T, N, 4)
    assert_matches_torch(_torch_token_rnn, {"ids": ids, "targets": targets, **params},
                         np.array(loss), grads, terms=8, depth=T, what=f"token RNN T={T}")


# ---------------------------------------------------------------- behaviour
def _margins(params: dict[str, np.ndarray], vocab: LM.Vocabulary) -> tuple[float, float]:
    def lp(s: str) -> float:
        return float(LM.sentence_log_prob(params, vocab.encode(s)))

    order = lp("the cat is small") - lp("small the cat is")
    choice = lp("walking home after school") - lp("walking house after school")
    return order, choice


@pytest.mark.claim("lm.probability")
@pytest.mark.behaviour
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trained_model_prefers_the_slides_word_order_and_word_choice(seed: int) -> None:
    """Toy corpus (21 sentences), d = 8, H = 16, 150 Adagrad steps (lr 0.1), seeds 0-2.

    Thresholds: log p(the cat is small) − log p(small the cat is) > 5 nats and
    log p(walking home after school) − log p(walking house after school) > 3 nats after training;
    before training both margins are below 0.5 nats in size; the loss falls below 1.1 × log 21 (the
    corpus' entropy, 21 equally likely sentences) from more than 3 × that.
    """
    corpus = LM.toy_corpus()
    # neither dispreferred sentence is in the corpus: the model generalises, it does not look up
    assert "small the cat is" not in corpus and "walking house after school" not in corpus
    assert "the cat is small" in corpus and "walking home after school" in corpus
    model = LM.train_language_model(corpus, d=8, H=16, steps=150, rng=seed)
    order, choice = _margins(model.params, model.vocab)
    assert order > 5.0, f"word order: log p margin {order:.2f} ≤ 5"
    assert choice > 3.0, f"word choice: log p margin {choice:.2f} ≤ 3"
    K = model.vocab.size
    untrained = LM.init_token_rnn(K + 1, K, 8, 16, seed)       # the same start, not trained
    before = _margins(untrained, model.vocab)
    assert max(abs(m) for m in before) < 0.5, f"preferences before training: {before}"
    entropy = np.log(len(corpus))
    assert model.losses[0] > 3 * entropy and model.losses[-1] < 1.1 * entropy, model.losses[-1]
    words = model.vocab.decode(LM.sample_sentence(model.params, 4, seed))
    assert len(words.split()) == 4


MIXED_LENGTHS = ["the cat is small", "walking home", "the dog is big", "dogs run home",
                 "the tree is old", "cats walk home", "the house is small"]
"""Sentences of three lengths in unequal numbers (4 words: 4, 2 words: 1, 3 words: 2)."""


@pytest.mark.claim("lm.probability")
@pytest.mark.behaviour
def test_training_on_sentences_of_several_lengths_descends_the_mean_over_all_sentences() -> None:
    """Seed 4, d = 3, H = 5, lr 0.1, 2 steps on MIXED_LENGTHS (lengths 4, 2, 3 in numbers 4, 1, 2).

    The loss before each step is −(1/7) Σ_n log p(sentence_n), summed sentence by sentence; each
    step is one Adagrad step on the mean over the 7 sentences of each sentence's own gradient
    (not a mean over the length groups, not the last group only). Tolerance: the float64 policy
    for a gradient over 7 sentences of up to 4 steps (≈ 4e-13 here).
    """
    sentences, d, H, lr, seed = MIXED_LENGTHS, 3, 5, 0.1, 4
    assert sorted({len(s.split()) for s in sentences}) == [2, 3, 4]
    model = LM.train_language_model(sentences, d=d, H=H, steps=2, lr=lr, rng=seed)
    vocab = LM.Vocabulary.from_sentences(sentences)
    assert model.vocab == vocab
    ids = [vocab.encode(s) for s in sentences]
    params = LM.init_token_rnn(vocab.size + 1, vocab.size, d, H, seed)   # as documented
    adagrad = Adagrad(lr)
    tol = tolerance(np.float64, terms=len(sentences), depth=4, gradient=True)
    assert len(model.losses) == 2
    for step in range(2):
        loss = -np.mean([LM.sentence_log_prob(params, w) for w in ids])
        assert_close(model.losses[step], loss, tol, what=f"loss before step {step + 1}")
        per_sentence = [LM.lm_loss_and_grads(params, w[:, None])[1] for w in ids]
        grads = {k: np.mean([g[k] for g in per_sentence], axis=0) for k in params}
        params = adagrad.step(params, grads)
    for k in params:
        assert_close(model.params[k], params[k], tol, what=f"{k} after 2 Adagrad steps")


@pytest.mark.claim("lm.probability")
@pytest.mark.generator
def test_init_token_rnn_draws_normal_weights_of_its_scale_and_zero_biases() -> None:
    """The docstring's "N(0, scale²) weights, zero biases": K_in = 200, K_out = 150, d = 40,
    H = 60, scale 0.3, seed 4. Every weight array's std is within 5 % of 0.3 (its standard error
    is ≈ σ/√(2n), under 1.2 % for the smallest, W with n = 3600 draws); b and c are 0."""
    p = LM.init_token_rnn(200, 150, 40, 60, 4, scale=0.3)
    shapes = {"E": (200, 40), "U": (60, 40), "W": (60, 60), "b": (60,), "V": (150, 60),
              "c": (150,)}
    assert {k: v.shape for k, v in p.items()} == shapes
    for k in "EUWV":
        assert abs(float(p[k].std()) / 0.3 - 1) < 0.05, (k, float(p[k].std()))
    assert not np.any(p["b"]) and not np.any(p["c"])


# ---------------------------------------------------------------- bad input
VOCAB = LM.Vocabulary(("a", "b", "c"))
P3 = LM.init_token_rnn(4, 3, 2, 3, 0)
P_BAD_E = {**P3, "E": P3["E"][:3]}
P_BAD_U = {**P3, "U": P3["U"][:, :1]}
BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("duplicate words", lambda: LM.Vocabulary(("a", "a")), ValueError,
     r"^Vocabulary: words must be a non-empty tuple of distinct words"),
    ("empty vocabulary", lambda: LM.Vocabulary(()), ValueError,
     r"^Vocabulary: words must be a non-empty tuple"),
    ("start symbol", lambda: LM.Vocabulary(("a", "<s>")), ValueError,
     r"^Vocabulary: words must be single words other than '<s>'"),
    ("two words in one", lambda: LM.Vocabulary(("a b",)), ValueError,
     r"^Vocabulary: words must be single words"),
    ("unknown word", lambda: VOCAB.encode("a d"), ValueError,
     r"^Vocabulary.encode: sentence must be one or more known words, got 'a d' "
     r"\(unknown: \['d'\]\)"),
    ("empty sentence", lambda: VOCAB.encode(""), ValueError,
     r"^Vocabulary.encode: sentence must be one or more known words"),
    ("decode id", lambda: VOCAB.decode([3]), ValueError,
     r"^Vocabulary.decode: ids holds id 3, outside \[0, 3\)"),
    ("id out of range", lambda: LM.sentence_log_prob(P3, [[0], [3]]), ValueError,
     r"^sentence_log_prob: ids holds id 3, outside \[0, 3\)"),
    ("start symbol as a word", lambda: LM.next_word_probs(P3, [0, 3]), ValueError,
     r"^next_word_probs: ids holds id 3, outside \[0, 3\)"),
    ("ids rank", lambda: LM.sentence_log_prob(P3, np.zeros((2, 2, 2), dtype=int)), ValueError,
     r"^sentence_log_prob: ids must be 1-D or 2-D, got 3-D"),
    ("empty sentences", lambda: LM.sentence_log_prob(P3, np.zeros((0, 2), dtype=int)),
     ValueError, r"^sentence_log_prob: ids must hold sentences of at least one word, got shape "
                 r"\(0, 2\)"),
    ("float ids", lambda: LM.lm_loss_and_grads(P3, [[0.0]]), TypeError,
     r"^lm_loss_and_grads: ids must hold integer ids"),
    ("E rows", lambda: LM.sentence_log_prob(P_BAD_E, [0, 1]), ValueError,
     r"^sentence_log_prob: a language model's E needs K \+ 1 = 4 rows \(the words and <s>\), "
     r"got 3"),
    ("E rows, too many", lambda: LM.next_word_probs({**P3, "E": np.zeros((5, 2))}, [0, 1]),
     ValueError, r"^next_word_probs: a language model's E needs K \+ 1 = 4 rows \(the words "
                 r"and <s>\), got 5"),
    ("hidden sizes", lambda: LM.sentence_log_prob(P_BAD_U, [0, 1]), ValueError,
     r"^sentence_log_prob: params\['U'\] must have shape \(3, 2\)"),
    ("missing param", lambda: LM.token_rnn_forward({"E": P3["E"]}, [[0]]), ValueError,
     r"^token_rnn_forward: params must map exactly \['E', 'U', 'W', 'b', 'V', 'c'\] to arrays, "
     r"got \['E'\]"),
    ("not a mapping", lambda: LM.token_rnn_forward([1, 2], [[0]]), TypeError,  # type: ignore[arg-type]
     r"^token_rnn_forward: params must be a mapping of exactly .* to arrays, got list"),
    ("nan param", lambda: LM.token_rnn_forward({**P3, "W": P3["W"] * np.nan}, [[0]]),
     ValueError, r"^token_rnn_forward: params\['W'\] must be finite"),
    ("token ids rank", lambda: LM.token_rnn_forward(P3, [0, 1]), ValueError,
     r"^token_rnn_forward: ids must be 2-D, got 1-D"),
    ("token ids empty", lambda: LM.token_rnn_forward(P3, np.zeros((0, 1), dtype=int)),
     ValueError, r"^token_rnn_forward: ids must hold at least one step and one sequence"),
    ("targets shape", lambda: LM.token_rnn_loss_and_grads(P3, [[0, 1]], [[0]]), ValueError,
     r"^token_rnn_loss_and_grads: targets must have the shape of ids \(1, 2\), got \(1, 1\)"),
    ("targets range", lambda: LM.token_rnn_loss_and_grads(P3, [[0]], [[3]]), ValueError,
     r"^token_rnn_loss_and_grads: targets holds id 3, outside \[0, 3\)"),
    ("sample length", lambda: LM.sample_sentence(P3, 0, 0), ValueError,
     r"^sample_sentence: length must be at least 1, got 0"),
    ("sample rng", lambda: LM.sample_sentence(P3, 2, "seed"), TypeError,
     r"^sample_sentence: rng must be a numpy.random.Generator or an int seed"),
    ("sample E rows", lambda: LM.sample_sentence(P_BAD_E, 2, 0), ValueError,
     r"^sample_sentence: a language model's E needs K \+ 1 = 4 rows"),
    ("init size", lambda: LM.init_token_rnn(4, 3, 0, 2, 0), ValueError,
     r"^init_token_rnn: d must be at least 1, got 0"),
    ("init scale", lambda: LM.init_token_rnn(4, 3, 2, 2, 0, scale=-1.0), ValueError,
     r"^init_token_rnn: scale must be a finite number > 0"),
    ("corpus", lambda: LM.train_language_model("the cat"), TypeError,
     r"^train_language_model: sentences must be a non-empty list of non-empty strings"),
    ("blank sentence", lambda: LM.train_language_model(["the cat", " "]), TypeError,
     r"^train_language_model: sentences must be a non-empty list"),
]


@pytest.mark.claim("lm.probability", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "message"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_words_ids_and_parameters_get_clear_errors(call: Callable[[], Any],
                                                       kind: type[Exception],
                                                       message: str) -> None:
    with pytest.raises(kind, match=message):
        call()


@pytest.mark.claim("lm.probability")
@pytest.mark.errors
def test_vocabulary_round_trips_and_keeps_the_start_symbol_out_of_the_words() -> None:
    vocab = LM.Vocabulary.from_sentences(["the cat is small", "the dog"])
    assert vocab.words == ("cat", "dog", "is", "small", "the")
    assert (vocab.size, vocab.start) == (5, 5)
    ids = vocab.encode("small the cat is")
    assert_close(ids, [3, 4, 0, 2], EXACT, what="ids")
    assert vocab.decode(ids) == "small the cat is"
