"""Word embeddings (lecture: "Conclusion": "Embeddings for word representations"; "Language
Models with RNN": memory "linear with the number of word embeddings").

A word is an id into a vocabulary; its embedding is a row of the table E. Looking the row up is
the same as multiplying the word's one-hot vector by E, and so the gradient of a lookup adds the
upstream gradient into the looked-up rows: a word used twice gets both contributions.

    e = E[w]  =  onehot(w) E            (the one-hot row picks one row of E)
    ∂L/∂E[v] = Σ_{positions p with w_p = v} ∂L/∂e_p

Notation
--------
K      vocabulary size (rows of E)
d      embedding width
ids    integer word ids in [0, K), any shape (time-major [T, N] for sequences)
E      the embedding table [K, d]
e      the looked-up vectors [*ids.shape, d]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference._checks import (
    FloatArray,
    IntArray,
    as_float_array,
    as_index_array,
    fail,
    positive_int,
)

__all__ = ["embedding", "embedding_backward", "one_hot"]


def _table(func: str, E: Any) -> FloatArray:
    E = as_float_array(func, "E", E, ndim=2, finite=True)
    if E.shape[0] < 1 or E.shape[1] < 1:
        raise fail(func, f"E must have shape (K, d) with K, d ≥ 1, got {E.shape}")
    return E


def embedding(ids: Any, E: Any) -> FloatArray:
    """The lookup e = E[ids]: row ids[p] of E for every position p.

    Shapes: ids any shape with integer ids in [0, K), E [K, d] → e [*ids.shape, d].

    Raises
    ------
    TypeError for non-integer ids; ValueError for ids outside [0, K) or a table that is not 2-D
    or not finite.
    """
    E = _table("embedding", E)
    ids = as_index_array("embedding", "ids", ids, size=E.shape[0])
    return E[ids]                                           # e_p = onehot(w_p) E


def embedding_backward(de: Any, ids: Any, E: Any) -> FloatArray:
    """∂L/∂E: the upstream gradient of every position added into its row (scatter-add).

    ``np.add.at`` accumulates repeated ids (a plain ``dE[ids] += de`` would keep only one of
    them). Rows of words that do not occur get 0.

    Shapes: de [*ids.shape, d], ids, E as embedding → dE [K, d].
    """
    E = _table("embedding_backward", E)
    ids = as_index_array("embedding_backward", "ids", ids, size=E.shape[0])
    de = as_float_array("embedding_backward", "de", de)
    if de.shape != (*ids.shape, E.shape[1]):
        raise fail("embedding_backward", f"de must have shape ids.shape + (d,) = "
                                         f"{(*ids.shape, E.shape[1])}, got {de.shape}")
    dE = np.zeros_like(E)
    np.add.at(dE, ids, de)                                  # ∂L/∂E[v] += ∂L/∂e_p for w_p = v
    return dE


def one_hot(ids: Any, K: int) -> FloatArray:
    """onehot(w)[v] = 1 if v = w else 0, so that onehot(w) E = E[w].

    Shapes: ids any shape with ids in [0, K) → [*ids.shape, K].
    """
    K = positive_int("one_hot", "K", K)
    idx: IntArray = as_index_array("one_hot", "ids", ids, size=K)
    return (idx[..., None] == np.arange(K)).astype(np.float64)
