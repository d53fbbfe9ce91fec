"""A CNN for text (lecture: "Convolutional Neural Networks", z_j = f(V_{1:n} * K_j + b_j) where
ReLU is used as f; "Conclusion": "CNNs for text and Image recognition").

    z_j = f(V_{1:n} * K_j + b_j)

over a sentence's word vectors V_{1:n}: each kernel K_j spans F consecutive whole word vectors
(reference.conv.conv1d over reference.conv.word_channels), the ReLU f gives the feature map
z_j [n − F + 1], max-over-time pooling keeps its largest value m_j = max_t z_j[t] (did the
pattern occur anywhere in the sentence?), and a fully connected layer classifies m. The word
vectors are an embedding table E looked up by word id (reference.embedding), trained with the
rest.

Notation
--------
N, n        sentences in the batch, words per sentence
K_vocab, d  vocabulary size, word-vector width
J, F        number of kernels K_j and their width in words
M           number of classes
ids         word ids [N, n];  V = E[ids] the sentences' word vectors [N, n, d]
E           embedding table [K_vocab, d]
K, b        kernels [J, d, F] (each covers the whole embedding: d channels) and biases [J]
u           V * K_j + b_j, before f [N, J, n − F + 1]
z           f(u) = ReLU(u), the slide's z_j [N, J, n − F + 1]
m           max over time of z [N, J];  t* the first position of the maximum
W, b_fc     the classifier, logits = W m + b_fc: W [M, J], b_fc [M]

The max-over-time gradient goes whole to the first maximal position (CONVENTIONS: pooling,
as max_pool2d); where z_j is 0 everywhere (ties at 0) ReLU's derivative 0 stops it anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

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
from reference.activations import relu, relu_grad
from reference.conv import conv1d, conv1d_backward, word_channels
from reference.embedding import embedding, embedding_backward
from reference.feedforward import dense, dense_backward
from reference.losses import cross_entropy, cross_entropy_backward
from reference.optim import Adam, DescentResult, Params, gradient_descent
from reference.topologies import SENTIMENT_WORDS, sentiment_sentences

__all__ = [
    "TEXT_CNN_PARAMETERS",
    "TextCNNOutputs",
    "TrainedTextCNN",
    "init_text_cnn",
    "text_cnn_backward",
    "text_cnn_forward",
    "text_cnn_loss_and_grads",
    "train_text_cnn",
]

TEXT_CNN_PARAMETERS = ("E", "K", "b", "W", "b_fc")


class TextCNNOutputs(NamedTuple):
    """Every intermediate of the forward pass."""

    V: FloatArray        # E[ids], the word vectors     [N, n, d]
    u: FloatArray        # V * K_j + b_j                [N, J, n − F + 1]
    z: FloatArray        # f(u) = ReLU(u)               [N, J, n − F + 1]
    m: FloatArray        # max over time of z           [N, J]
    t_max: IntArray      # the first argmax position    [N, J]
    logits: FloatArray   # W m + b_fc                   [N, M]


def _inputs(func: str, params: Mapping[str, Any], ids: Any) -> tuple[dict[str, FloatArray],
                                                                     IntArray]:
    P = as_named_arrays(func, "params", params, TEXT_CNN_PARAMETERS,
                        {"E": 2, "K": 3, "b": 1, "W": 2, "b_fc": 1})
    ids = as_index_array(func, "ids", ids, ndim=2, size=P["E"].shape[0])
    if P["K"].shape[2] > ids.shape[1]:
        raise fail(func, f"the kernels span F = {P['K'].shape[2]} words but the sentences have "
                         f"only n = {ids.shape[1]}")
    return P, ids


def text_cnn_forward(params: Mapping[str, Any], ids: Any) -> TextCNNOutputs:
    """V = E[ids]; z_j = ReLU(V_{1:n} * K_j + b_j); m_j = max_t z_j[t]; logits = W m + b_fc.

    Shapes: params E [K_vocab, d], K [J, d, F], b [J], W [M, J], b_fc [M]; ids [N, n] word ids
    with n ≥ F → TextCNNOutputs (logits [N, M]).

    Raises: ValueError / TypeError, naming text_cnn_forward, for missing parameters, ids outside
    the vocabulary or sentences shorter than a kernel; as conv1d and dense for shapes that do
    not chain.
    """
    P, ids = _inputs("text_cnn_forward", params, ids)
    V = embedding(ids, P["E"])                              # the word vectors V_{1:n}
    u = conv1d(word_channels(V), P["K"], P["b"])            # V_{1:n} * K_j + b_j
    z = relu(u)                                             # z_j = f(...), f = ReLU
    t_max = np.argmax(z, axis=2)                            # max-over-time pooling
    m = np.take_along_axis(z, t_max[:, :, None], axis=2)[:, :, 0]
    logits = dense(m, P["W"], P["b_fc"], "identity")        # W m + b_fc
    return TextCNNOutputs(V, u, z, m, t_max, logits)


def text_cnn_backward(dlogits: Any, params: Mapping[str, Any],
                      ids: Any) -> dict[str, FloatArray]:
    """Backpropagation through the classifier, max-over-time pooling, ReLU, the convolution and
    the lookup: ∂L/∂m = Wᵀ δ, ∂L/∂z_j[t] = ∂L/∂m_j at t = t*_j (0 elsewhere), ∂L/∂u = ∂L/∂z ∘
    ReLU'(u), (∂L/∂V, ∂L/∂K, ∂L/∂b) = conv1d_backward, ∂L/∂E = the rows of ∂L/∂V added into the
    looked-up rows.

    Shapes: dlogits [N, M], params and ids as text_cnn_forward → grads keyed like params.
    """
    P, ids = _inputs("text_cnn_backward", params, ids)
    out = text_cnn_forward(P, ids)
    return _backward(dlogits, P, ids, out)


def _backward(dlogits: Any, P: Mapping[str, FloatArray], ids: IntArray,
              out: TextCNNOutputs) -> dict[str, FloatArray]:
    dm, dW, db_fc = dense_backward(dlogits, out.m, P["W"], P["b_fc"], "identity")  # classifier
    dz = np.zeros_like(out.z)
    np.put_along_axis(dz, out.t_max[:, :, None], dm[:, :, None], axis=2)  # to t* only
    du = dz * relu_grad(out.u)                                            # ReLU
    dX, dK, db = conv1d_backward(du, word_channels(out.V), P["K"], P["b"])  # convolution
    dE = embedding_backward(dX.transpose(0, 2, 1), ids, P["E"])           # lookup
    return {"E": dE, "K": dK, "b": cast(FloatArray, db), "W": dW, "b_fc": db_fc}  # b is given


def text_cnn_loss_and_grads(params: Mapping[str, Any], ids: Any,
                            labels: Any) -> tuple[float, dict[str, FloatArray]]:
    """The mean cross-entropy of the logits and its gradients (keyed like params).

    Shapes: ids [N, n], labels [N] in [0, M).
    """
    func = "text_cnn_loss_and_grads"
    P, ids = _inputs(func, params, ids)
    t = as_index_array(func, "labels", labels, ndim=1, size=P["W"].shape[0])
    if t.shape[0] != ids.shape[0]:
        raise fail(func, f"labels has {t.shape[0]} entries but ids has {ids.shape[0]} sentences")
    out = text_cnn_forward(P, ids)
    grads = _backward(cross_entropy_backward(out.logits, t), P, ids, out)
    return cross_entropy(out.logits, t), grads


def init_text_cnn(vocab: int, d: int, kernels: int, width: int, classes: int, *,
                  rng: Any) -> Params:
    """Random initial parameters: E ~ N(0, 1), He-scaled kernels and classifier, zero biases."""
    func = "init_text_cnn"
    gen = rng_from(func, rng)
    vocab, d = positive_int(func, "vocab", vocab), positive_int(func, "d", d)
    j, f = positive_int(func, "kernels", kernels), positive_int(func, "width", width)
    m = positive_int(func, "classes", classes)
    return {"E": gen.normal(0.0, 1.0, (vocab, d)),
            "K": gen.normal(0.0, np.sqrt(2.0 / (d * f)), (j, d, f)), "b": np.zeros(j),
            "W": gen.normal(0.0, np.sqrt(2.0 / j), (m, j)), "b_fc": np.zeros(m)}


@dataclass
class TrainedTextCNN:
    """What train_text_cnn returns: the descent (parameters, losses) and the held-out accuracy."""

    descent: DescentResult
    test_accuracy: float


def train_text_cnn(*, seed: int = 0, width: int = 2, n_train: int = 256, n_test: int = 500,
                   length: int = 6, d: int = 4, kernels: int = 8, lr: float = 0.05,
                   steps: int = 150) -> TrainedTextCNN:
    """Train the text CNN on reference.topologies.sentiment_sentences (a sentiment word, negated
    by a "not" right before it) with full-batch Adam. A kernel of ``width`` 2 sees "not good" as
    one window; data and initial weights from ``seed``; the accuracy is on ``n_test`` new
    sentences."""
    func = "train_text_cnn"
    gen = rng_from(func, seed)
    n_train, n_test = positive_int(func, "n_train", n_train), positive_int(func, "n_test", n_test)
    steps, lr = positive_int(func, "steps", steps), positive_number(func, "lr", lr)
    ids, labels = sentiment_sentences(n_train, length, rng=gen)
    params = init_text_cnn(len(SENTIMENT_WORDS), d, kernels, width, 2, rng=gen)
    descent = gradient_descent(lambda p: text_cnn_loss_and_grads(p, ids, labels), params, lr=lr,
                               steps=steps, update=Adam(lr).step)
    ids_test, labels_test = sentiment_sentences(n_test, length, rng=gen)
    predicted = np.argmax(text_cnn_forward(descent.params, ids_test).logits, axis=1)
    return TrainedTextCNN(descent, float(np.mean(predicted == labels_test)))
