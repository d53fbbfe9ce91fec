"""Spec of reference.embedding (lecture: "Conclusion": "Embeddings for word representations").

Claim: embedding — a lookup is one-hot × matrix; its gradient adds into the looked-up rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given

from conformance.strategies import EmbeddingCase, embedding_cases
from reference.embedding import embedding, embedding_backward, one_hot
from reference.gradcheck import check_gradients
from reference.tolerance import EXACT, assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch


# ---------------------------------------------------------------- torch
def _torch_embedding(ids: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """nn.Embedding with its weight replaced by E."""
    module = torch.nn.Embedding(E.shape[0], E.shape[1], dtype=torch.float64)
    return torch.func.functional_call(module, {"weight": E}, (ids,))


@pytest.mark.claim("embedding")
@pytest.mark.torch
@pytest.mark.parametrize(("T", "N", "K", "d"), [(1, 1, 1, 1), (4, 3, 2, 3), (12, 2, 5, 4),
                                                (7, 3, 10, 2)])
def test_lookup_and_its_gradient_match_torch_nn_embedding(T: int, N: int, K: int,
                                                          d: int) -> None:
    rng = np.random.default_rng(T * 7 + K)
    ids = rng.integers(0, K, (T, N))
    ids[0, 0] = ids[-1, -1] = 0            # at least one repeated id when T·N > 1
    E, de = rng.normal(size=(K, d)), rng.normal(size=(T, N, d))
    assert_matches_torch(_torch_embedding, {"ids": ids, "E": E}, embedding(ids, E),
                         {"E": embedding_backward(de, ids, E)}, de, terms=T * N,
                         what=f"nn.Embedding K={K}")


# ---------------------------------------------------------------- properties
@pytest.mark.claim("embedding")
@pytest.mark.property
@given(embedding_cases())
def test_lookup_equals_one_hot_times_the_table(case: EmbeddingCase) -> None:
    K = case.E.shape[0]
    onehot = one_hot(case.ids, K)
    assert onehot.shape == (*case.ids.shape, K) and np.all(onehot.sum(axis=-1) == 1)
    # e = onehot(w) E: one 1 and zeros pick a row exactly
    assert_close(embedding(case.ids, case.E), onehot @ case.E, EXACT, what="E[w] vs onehot(w) E")


@pytest.mark.claim("embedding")
@pytest.mark.property
@given(embedding_cases())
def test_gradient_adds_into_the_looked_up_rows_and_repeated_ids_accumulate(
        case: EmbeddingCase) -> None:
    K, d = case.E.shape
    dE = embedding_backward(case.de, case.ids, case.E)
    # ∂L/∂E = onehot(w)ᵀ ∂L/∂e, the transpose of the lookup's matrix
    onehot = one_hot(case.ids, K).reshape(-1, K)
    assert_close(dE, onehot.T @ case.de.reshape(-1, d), tolerance(np.float64, terms=case.ids.size),
                 what="dE vs onehotᵀ de")
    for v in range(K):
        uses = case.ids == v
        # a word used n times gets the sum of its n upstream gradients; an unused one gets 0
        assert_close(dE[v], case.de[uses].sum(axis=0), tolerance(np.float64, terms=case.ids.size),
                     what=f"row {v}, used {int(uses.sum())} times")


@pytest.mark.claim("embedding", "convention.no-mutation")
@pytest.mark.property
@given(embedding_cases(max_t=3, max_k=3))
def test_gradient_matches_finite_differences_and_inputs_stay_unchanged(
        case: EmbeddingCase) -> None:
    before = (case.ids.copy(), case.E.copy(), case.de.copy())
    dE = embedding_backward(case.de, case.ids, case.E)
    check_gradients(lambda E: embedding(case.ids, E), {"E": case.E}, case.de, {"E": dE})
    for a, b in zip((case.ids, case.E, case.de), before):
        assert np.array_equal(a, b), "an input was modified in place"


# ---------------------------------------------------------------- bad input
E_ = np.arange(6.0).reshape(3, 2)
IDS = np.array([[0, 2], [2, 1]])
E_NAN = E_.copy()
E_NAN[2, 1] = np.nan
BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("id too large", lambda: embedding([[0, 3]], E_), ValueError,
     r"^embedding: ids holds id 3, outside \[0, 3\)"),
    ("negative id", lambda: embedding([-1], E_), ValueError,
     r"^embedding: ids holds id -1, outside \[0, 3\)"),
    ("float ids", lambda: embedding([0.0, 1.0], E_), TypeError,
     r"^embedding: ids must hold integer ids"),
    ("table rank", lambda: embedding(IDS, E_[0]), ValueError,
     r"^embedding: E must be 2-D, got 1-D"),
    ("empty table", lambda: embedding(IDS, np.zeros((0, 2))), ValueError,
     r"^embedding: E must have shape \(K, d\) with K, d ≥ 1, got \(0, 2\)"),
    ("nan table", lambda: embedding(IDS, E_NAN), ValueError,
     r"^embedding: E must be finite, got nan at index \(2, 1\)"),
    ("de shape", lambda: embedding_backward(np.ones((2, 2, 3)), IDS, E_), ValueError,
     r"^embedding_backward: de must have shape ids.shape \+ \(d,\) = \(2, 2, 2\), got \(2, 2, 3\)"),
    ("backward id", lambda: embedding_backward(np.ones((1, 2)), [5], E_), ValueError,
     r"^embedding_backward: ids holds id 5"),
    ("one_hot K", lambda: one_hot([0], 0), ValueError, r"^one_hot: K must be at least 1, got 0"),
    ("one_hot K type", lambda: one_hot([0], 2.0), TypeError,  # type: ignore[arg-type]
     r"^one_hot: K must be an integer"),
    ("one_hot id", lambda: one_hot([2], 2), ValueError,
     r"^one_hot: ids holds id 2, outside \[0, 2\)"),
]


@pytest.mark.claim("embedding", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "message"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_ids_and_tables_get_clear_errors(call: Callable[[], Any], kind: type[Exception],
                                             message: str) -> None:
    with pytest.raises(kind, match=message):
        call()
