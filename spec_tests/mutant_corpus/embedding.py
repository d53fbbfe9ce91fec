"""Mutants of embedding: y = E[ids], dE[v] = Σ of dy over the positions with ids = v."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as tF

from spec_tests.mutant_corpus._make import (
    FG,
    F,
    G,
    autodiff,
    backward,
    in_float32,
    mutant,
)


def _rows(dy: np.ndarray, E: np.ndarray) -> np.ndarray:
    return dy.reshape(-1, E.shape[1])


def _overwrite(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
    dE = np.zeros_like(E)
    dE[ids.reshape(-1)] = _rows(dy, E)                     # repeated ids: the last one wins
    return dE


def _add(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
    dE = np.zeros_like(E)
    np.add.at(dE, ids.reshape(-1), _rows(dy, E))
    return dE


def _fancy_add(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
    dE = np.zeros_like(E)
    dE[ids.reshape(-1)] += _rows(dy, E)                    # buffered: repeated ids add once
    return dE


def _mean_per_id(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
    counts = np.bincount(ids.reshape(-1), minlength=len(E))
    return _add(dy, ids, E) / np.maximum(counts, 1)[:, None]


def _total_everywhere(dy: np.ndarray, ids: np.ndarray, E: np.ndarray) -> np.ndarray:
    dE = np.zeros_like(E)
    used = np.unique(ids)
    dE[used] = _rows(dy, E).sum(axis=0)
    return dE


MUTANTS = [
    mutant("embedding-overwrite", "embedding", "dE[ids] = dy: repeated ids do not add up",
           "backward-only", backward("embedding", _overwrite), G, "backward", ["dE"],
           named="embedding overwrite"),
    mutant("embedding-fancy-add", "embedding",
           "dE[ids] += dy: NumPy's buffered fancy indexing adds a repeated id once",
           "backward-only", backward("embedding", _fancy_add), G, "backward", ["dE"],
           named="embedding overwrite"),
    mutant("embedding-mean-per-id", "embedding", "dE[v] is the mean of its rows of dy, not the sum",
           "backward-only", backward("embedding", _mean_per_id), G, "backward", ["dE"],
           named="repeated ids averaged"),
    mutant("embedding-total-everywhere", "embedding",
           "every used row of dE gets the sum of all of dy", "backward-only",
           backward("embedding", _total_everywhere), G, "backward", ["dE"]),
    mutant("embedding-stub", "embedding", "dE never filled in: zeros", "backward-only",
           backward("embedding", lambda dy, ids, E: np.zeros_like(E)), G, "backward", ["dE"],
           named="all zeros", where=["everywhere"], how=["zeros"]),
    mutant("embedding-padding-idx", "embedding",
           "torch's embedding with padding_idx=0: row 0 gets no gradient", "backward-only",
           autodiff("embedding", lambda ids, E: tF.embedding(ids, E, padding_idx=0)), G,
           "backward", ["dE"], where=["rows:0"], how=["zeros"]),
    mutant("embedding-one-based", "embedding", "ids taken as 1-based: E[ids − 1]",
           "consistent-forward", autodiff("embedding", lambda ids, E: E[ids - 1]), FG, "forward",
           ["y", "dE"], named="one-based ids"),
    mutant("embedding-max-norm", "embedding",
           "torch's embedding with max_norm=1: rows longer than 1 rescaled (in place, outside "
           "autograd, so the gradient stays the plain one)", "forward-only",
           autodiff("embedding", lambda ids, E: tF.embedding(ids, E.clone(), max_norm=1.0)), F,
           "forward-only", ["y"]),
    mutant("embedding-flattened", "embedding", "y returned as [len(ids), D], ids flattened",
           "forward-only", backward("embedding", _add,
                                    forward=lambda ids, E: E[ids.reshape(-1)]), F,
           "forward-only", ["y"], how=["shape"]),
    mutant("embedding-squeezed", "embedding", "y.squeeze(): vectors of width D = 1 lose their axis",
           "edge-only", autodiff("embedding", lambda ids, E: E[ids].squeeze()), FG, "forward",
           ["y"], how=["shape"], named="shape"),
    mutant("embedding-float32", "embedding",
           "computed in float32 in a float64 run: the lookup is exact, the sums of repeated "
           "rows in dE are rounded", "float32-only",
           autodiff("embedding", in_float32(lambda ids, E: E[ids])), G, "backward", ["dE"],
           named="float32 rounding"),
]
