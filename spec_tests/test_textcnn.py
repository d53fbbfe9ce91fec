"""Spec of reference.textcnn (lecture: "Convolutional Neural Networks", z_j = f(V_{1:n} * K_j +
b_j) with ReLU as f; "Conclusion": CNNs for text): convolution over windows of whole word
vectors, ReLU, max-over-time pooling, a classifier, trained with the embedding.

Claim: cnn.text-classifier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import textcnn as X
from reference.gradcheck import check_gradients
from reference.losses import cross_entropy_backward
from spec_tests.helpers.oracles import assert_matches_torch

# (N sentences, n words, vocabulary, d, J kernels, F words per window, M classes)
SHAPES = [(3, 6, 10, 4, 5, 2, 2), (2, 5, 7, 3, 4, 3, 3), (4, 4, 5, 2, 3, 1, 2),
          (1, 7, 9, 5, 2, 7, 4)]


def _case(n_s: int, n: int, vocab: int, d: int, j: int, f: int, m: int,
          seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = X.init_text_cnn(vocab, d, j, f, m, rng=rng)
    params["b"] = rng.normal(0, 0.5, j)                      # non-zero biases are part of it
    params["b_fc"] = rng.normal(0, 0.5, m)
    return params, rng.integers(0, vocab, (n_s, n)), rng.integers(0, m, n_s)


@pytest.mark.claim("cnn.text-classifier")
@pytest.mark.torch
@pytest.mark.parametrize(("n_s", "n", "vocab", "d", "j", "f", "m"), SHAPES)
def test_text_cnn_loss_and_every_gradient_match_torch(n_s: int, n: int, vocab: int, d: int,
                                                      j: int, f: int, m: int) -> None:
    """F.embedding → F.conv1d over the word axis (channels = the d vector components) → ReLU →
    max over time → linear → cross-entropy, written in torch alone."""
    params, ids, labels = _case(n_s, n, vocab, d, j, f, m, seed=n + j)
    out = X.text_cnn_forward(params, ids)
    loss, grads = X.text_cnn_loss_and_grads(params, ids, labels)
    assert out.z.shape == (n_s, j, n - f + 1) and out.m.shape == (n_s, j)

    def torch_text_cnn(E: torch.Tensor, K: torch.Tensor, b: torch.Tensor, W: torch.Tensor,
                       b_fc: torch.Tensor) -> Any:
        V = F.embedding(torch.as_tensor(ids), E)             # [N, n, d]
        z = F.relu(F.conv1d(V.transpose(1, 2), K, b))        # z_j = f(V * K_j + b_j)
        m_ = z.max(dim=2).values                             # max over time
        logits = m_ @ W.T + b_fc
        return logits, F.cross_entropy(logits, torch.as_tensor(labels))

    assert_matches_torch(torch_text_cnn, params, (out.logits, loss), grads,
                         (np.zeros_like(out.logits), 1.0), terms=d * f + j, depth=3,
                         what="text CNN")
    again = X.text_cnn_backward(cross_entropy_backward(out.logits, labels), params, ids)
    for k in grads:
        np.testing.assert_array_equal(again[k], grads[k])


@pytest.mark.claim("cnn.text-classifier")
@pytest.mark.property
@settings(max_examples=4)
@given(st.sampled_from(SHAPES), st.integers(0, 2**32 - 1))
def test_text_cnn_gradients_match_finite_differences(shape: tuple[int, ...], seed: int) -> None:
    params, ids, labels = _case(*shape, seed=seed)
    _, grads = X.text_cnn_loss_and_grads(params, ids, labels)
    check_gradients(lambda **p: X.text_cnn_loss_and_grads(p, ids, labels)[0], params, 1.0, grads)


@pytest.mark.claim("cnn.text-classifier")
@pytest.mark.property
@given(st.integers(0, 2**32 - 1))
def test_max_over_time_keeps_each_features_largest_value_wherever_it_occurs(seed: int) -> None:
    """m_j = max_t z_j[t]; moving a window's words elsewhere in the sentence (here: reversing
    the order of whole windows of width 1) leaves m unchanged: the feature says that the pattern
    occurred, not where."""
    params, ids, _ = _case(3, 6, 10, 4, 5, 1, 2, seed=seed)
    out = X.text_cnn_forward(params, ids)
    assert np.array_equal(out.m, out.z.max(axis=2))
    assert np.array_equal(out.z, np.maximum(out.u, 0.0))
    np.testing.assert_allclose(X.text_cnn_forward(params, ids[:, ::-1]).m, out.m,
                               rtol=1e-15, atol=1e-15)


@pytest.mark.claim("cnn.text-classifier")
@pytest.mark.behaviour
def test_windows_of_two_words_learn_a_negation_that_single_words_cannot() -> None:
    """Seeds 0-2; reference.topologies.sentiment_sentences (6 words, one "not" in every
    sentence, negating the sentiment word only right before it), d = 4, 8 kernels, 150
    full-batch Adam steps at lr 0.05 on 256 sentences, 500 new ones held out. Kernels over two
    words: threshold ≥ 95 % held out, every seed (measured 100 %, 98.6 %, 100 %). Kernels over
    one word see a bag of words, which says nothing here: ≤ 60 % (measured 49.2 %, 49.2 %,
    48.0 %)."""
    pairs = [X.train_text_cnn(seed=s, width=2).test_accuracy for s in (0, 1, 2)]
    singles = [X.train_text_cnn(seed=s, width=1).test_accuracy for s in (0, 1, 2)]
    assert min(pairs) >= 0.95, f"two-word windows: held-out accuracies {pairs}"
    assert max(singles) <= 0.60, f"one-word windows: held-out accuracies {singles}"


_P, _IDS, _LABELS = _case(2, 5, 10, 4, 3, 2, 2, seed=0)
ERRORS: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("params", lambda: X.text_cnn_forward({"E": _P["E"]}, _IDS), ValueError,
     r"^text_cnn_forward: params must map exactly \['E', 'K', 'b', 'W', 'b_fc'\]"),
    ("ids range", lambda: X.text_cnn_forward(_P, _IDS + 10), ValueError,
     r"^text_cnn_forward: ids holds id 1\d, outside \[0, 10\)"),
    ("ids rank", lambda: X.text_cnn_backward(np.zeros((2, 2)), _P, _IDS[0]), ValueError,
     r"^text_cnn_backward: ids must be 2-D"),
    ("short", lambda: X.text_cnn_forward({**_P, "K": np.zeros((3, 4, 6))}, _IDS), ValueError,
     r"^text_cnn_forward: the kernels span F = 6 words but the sentences have only n = 5"),
    ("K rank", lambda: X.text_cnn_forward({**_P, "K": np.zeros((3, 4))}, _IDS), ValueError,
     r"^text_cnn_forward: params\['K'\] must be 3-D"),
    ("labels", lambda: X.text_cnn_loss_and_grads(_P, _IDS, [0]), ValueError,
     r"^text_cnn_loss_and_grads: labels has 1 entries but ids has 2 sentences"),
    ("init", lambda: X.init_text_cnn(10, 0, 3, 2, 2, rng=0), ValueError,
     r"^init_text_cnn: d must be at least 1"),
    ("train", lambda: X.train_text_cnn(steps=0), ValueError,
     r"^train_text_cnn: steps must be at least 1"),
]


@pytest.mark.claim("cnn.text-classifier", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "message"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_text_cnn_refuses_bad_input_by_name(call: Callable[[], Any], kind: type[Exception],
                                            message: str) -> None:
    with pytest.raises(kind, match=message):
        call()


@pytest.mark.claim("cnn.text-classifier")
@pytest.mark.generator
def test_init_text_cnn_scales_kernels_by_he_over_the_whole_window() -> None:
    """vocab 50, d = 8, 500 kernels over F = 3 words, 400 classes, seed 3 (the docstring: "E ~
    N(0, 1), He-scaled kernels and classifier, zero biases"): a kernel reads d·F = 24 numbers,
    so K [500, 8, 3] has std within 5 % of √(2/24); W [400, 500] of √(2/J) = √(2/500); E of 1;
    the biases are 0. The standard error of a std from n normal draws is ≈ σ/√(2n), under 1 %
    for every array here (n ≥ 400), so 5 % is safe; leaving d out of the kernels' fan-in would
    make their std √8 times too large."""
    p = X.init_text_cnn(50, 8, 500, 3, 400, rng=3)
    assert p["K"].shape == (500, 8, 3) and p["W"].shape == (400, 500)
    for name, expected in (("K", np.sqrt(2.0 / 24)), ("W", np.sqrt(2.0 / 500)), ("E", 1.0)):
        std = float(p[name].std())
        assert abs(std / expected - 1) < 0.05, (name, std, expected)
    assert not np.any(p["b"]) and not np.any(p["b_fc"])
    # drawn from the given rng (CONVENTIONS): the same seed as a Generator, the same values;
    # another seed, other values
    again = X.init_text_cnn(50, 8, 500, 3, 400, rng=np.random.default_rng(3))
    assert all(np.array_equal(p[k], again[k]) for k in p)
    assert not np.array_equal(p["K"], X.init_text_cnn(50, 8, 500, 3, 400, rng=4)["K"])


@pytest.mark.claim("cnn.text-classifier")
@pytest.mark.behaviour
def test_train_text_cnn_takes_adam_steps() -> None:
    """The docstring's "full-batch Adam": Adam's first step moves every parameter entry by
    lr·m̂/(√v̂ + ε) = lr·g/(|g| + ε), i.e. by lr against the sign of its gradient wherever
    |g| ≫ ε. The biases start at 0 (init_text_cnn), so after one step at lr 0.05 every entry
    of b_fc (each class has a non-zero gradient on a mixed batch) is ±0.05 to 1e-6. Plain
    gradient descent would move it by lr·|g|, a few thousandths here."""
    one = X.train_text_cnn(seed=0, steps=1, lr=0.05, n_train=64, n_test=10)
    b_fc = one.descent.params["b_fc"]
    assert np.allclose(np.abs(b_fc), 0.05, rtol=0, atol=1e-6), b_fc
