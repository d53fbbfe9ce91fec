"""The vanilla recurrent network and backpropagation through time (lecture: "Recurrent neural
networks", "No Magic Involved (in Theory)", "Vanishing and exploding gradients"; the topologies
built from this cell are in reference.topologies).

    s_t = f(U x_t + W s_{t−1} + b)          the state, passed from step to step
    o_t = softmax(V s_t + c)                the output at step t
    ∂L_3/∂W = Σ_{k=0..3} ∂L_3/∂o_3 · ∂o_3/∂s_3 · ∂s_3/∂s_k · ∂s_k/∂W

The same U, W, b (and V, c) serve every step: a sequence of any length has the same parameters,
and only the stored activations grow with it (linearly in T).

Notation
--------
T      number of time steps t = 0 .. T−1 (the slides' x_0 .. x_3 is T = 4)
N      batch size
D      input width
H      state width (hidden units)
K      output width (classes; a language model's vocabulary size)
x      inputs, time-major [T, N, D]; x_t = x[t] is [N, D]
s      states [T, N, H]; s_t = s[t]
s0     the initial state [N, H] (PyTorch's h_0). In the slides' numbering x_0 produces s_0, so the
       initial state is s_{−1}; the forward pass stores it at index −1 (as min-char-rnn's
       ``hs[-1]``), so that ``s[t - 1]`` reads s_{t−1} for every t, t = 0 included
U      input → state weights [H, D]
W      state → state weights [H, H]
b      state bias [H] (the slides omit it: b = 0 gives their cell)
z      pre-activations z_t = U x_t + W s_{t−1} + b, [T, N, H]
V      state → output weights [K, H]
c      output bias [K]
o      outputs o_t = softmax(V s_t + c), [T, N, K]
y      integer targets [T, N] in [0, K)
f      the activation, "tanh" by default (a name of reference.activations.ACTIVATIONS)

PyTorch and the conformance contract
------------------------------------
The contract's ``rnn(x, h0, w_ih, w_hh, b_ih, b_hh) → (out [T, N, H], h_T [N, H])`` is
torch.nn.RNN(nonlinearity="tanh") with batch_first=False. The slide names map onto it as
U = w_ih = weight_ih_l0, W = w_hh = weight_hh_l0, b = b_ih + b_hh (torch keeps two biases that only
ever appear as their sum, so their gradients are both db), s0 = h0, s = out, s[T−1] = h_T.

Losses
------
L = Σ_t L_t with L_t = cross_entropy(V s_t + c, y_t), the mean over the batch (CONVENTIONS:
cross-entropy is the mean over N); for N = 1 this is min-char-rnn's loss, the sum over t.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any, NamedTuple

import numpy as np

from reference._checks import (
    FloatArray,
    IntArray,
    as_float_array,
    as_index_array,
    as_sequence,
    as_state,
    fail,
)
from reference.activations import Activation, activation
from reference.feedforward import dense
from reference.losses import cross_entropy, cross_entropy_backward, softmax

__all__ = [
    "BPTTTerms",
    "RNNCache",
    "RNNGrads",
    "bptt_contributions",
    "rnn_backward",
    "rnn_forward",
    "rnn_loss",
    "rnn_loss_backward",
    "rnn_output",
    "rnn_step",
    "rnn_step_backward",
    "rnn_unrolled",
    "state_jacobian",
]


# ---------------------------------------------------------------- input checks
def _weights(func: str, U: Any, W: Any, b: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    U = as_float_array(func, "U", U, ndim=2, finite=True)
    W = as_float_array(func, "W", W, ndim=2, finite=True)
    b = as_float_array(func, "b", b, ndim=1, finite=True)
    H = U.shape[0]
    if H < 1 or U.shape[1] < 1:
        raise fail(func, f"U must have shape (H, D) with H, D ≥ 1, got {U.shape}")
    if W.shape != (H, H):
        raise fail(func, f"W must be square (H, H) = {(H, H)} to match U's H = {H} rows, got "
                         f"{W.shape} (U.shape = {U.shape})")
    if b.shape != (H,):
        raise fail(func, f"b must have shape ({H},) to match U's H = {H} rows, got {b.shape}")
    return U, W, b


def _sequence_inputs(
    func: str, x: Any, s0: Any, U: Any, W: Any, b: Any
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    U, W, b = _weights(func, U, W, b)
    x = as_sequence(func, "x", x)                           # [T, N, D], finite, T, N, D ≥ 1
    _, N, D = x.shape
    if D != U.shape[1]:
        raise fail(func, f"x has D = {D} features per step but U expects {U.shape[1]} "
                         f"(x.shape = {x.shape}, U.shape = {U.shape})")
    return x, as_state(func, "s0", s0, N, U.shape[0]), U, W, b


def _output_params(func: str, V: Any, c: Any, H: int) -> tuple[FloatArray, FloatArray]:
    V = as_float_array(func, "V", V, ndim=2, finite=True)
    c = as_float_array(func, "c", c, ndim=1, finite=True)
    if V.shape[1] != H or V.shape[0] < 1:
        raise fail(func, f"V must have shape (K, H) with H = {H} (the state width), got "
                         f"{V.shape}")
    if c.shape != (V.shape[0],):
        raise fail(func, f"c must have shape ({V.shape[0]},) to match V's K = {V.shape[0]} "
                         f"rows, got {c.shape}")
    return V, c


# ---------------------------------------------------------------- the cell
def _step(x_t: FloatArray, s_prev: FloatArray, U: FloatArray, W: FloatArray, b: FloatArray,
          act: Activation) -> tuple[FloatArray, FloatArray]:
    z_t = x_t @ U.T + s_prev @ W.T + b      # z_t = U x_t + W s_{t−1} + b
    return z_t, act.f(z_t)                  # s_t = f(z_t)


def _step_backward(
    ds_t: FloatArray, x_t: FloatArray, s_prev: FloatArray, z_t: FloatArray, U: FloatArray,
    W: FloatArray, act: Activation,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    delta = ds_t * act.df(z_t)              # δ_t = ∂L/∂z_t = ∂L/∂s_t ∘ f'(z_t)
    dx_t = delta @ U                        # ∂L/∂x_t = Uᵀ δ_t
    ds_prev = delta @ W                     # ∂L/∂s_{t−1} = Wᵀ δ_t
    dU = delta.T @ x_t                      # ∂L/∂U = δ_t x_tᵀ
    dW = delta.T @ s_prev                   # ∂L/∂W = δ_t s_{t−1}ᵀ
    db = delta.sum(axis=0)                  # ∂L/∂b = δ_t
    return dx_t, ds_prev, dU, dW, db


def _step_inputs(func: str, x_t: Any, s_prev: Any, U: Any, W: Any,
                 b: Any) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The checked inputs of one step: x_t [N, D] and s_prev [N, H] matching U [H, D]."""
    U, W, b = _weights(func, U, W, b)
    x_t = as_float_array(func, "x_t", x_t, ndim=2, finite=True)
    if x_t.shape[1] != U.shape[1]:
        raise fail(func, f"x_t has D = {x_t.shape[1]} features but U expects {U.shape[1]} "
                         f"(x_t.shape = {x_t.shape}, U.shape = {U.shape})")
    return x_t, as_state(func, "s_prev", s_prev, x_t.shape[0], U.shape[0]), U, W, b


def rnn_step(x_t: Any, s_prev: Any, U: Any, W: Any, b: Any, f: str = "tanh") -> FloatArray:
    """One step of the cell: s_t = f(U x_t + W s_{t−1} + b).

    Batched rows: ``f(x_t @ U.T + s_prev @ W.T + b)``.

    Shapes: x_t [N, D], s_prev [N, H], U [H, D], W [H, H], b [H] → s_t [N, H].

    Raises
    ------
    ValueError / TypeError on wrong ranks, mismatched D or H, nan or inf anywhere.
    """
    act = activation("rnn_step", f)
    x_t, s_prev, U, W, b = _step_inputs("rnn_step", x_t, s_prev, U, W, b)
    return _step(x_t, s_prev, U, W, b, act)[1]


def rnn_step_backward(
    ds_t: Any, x_t: Any, s_prev: Any, U: Any, W: Any, b: Any, f: str = "tanh"
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Gradients of one step: δ = ∂L/∂s_t ∘ f'(z_t); (Uᵀδ, Wᵀδ, δx_tᵀ, δs_{t−1}ᵀ, δ).

    Shapes: ds_t [N, H] and rnn_step's arguments → (dx_t [N, D], ds_prev [N, H], dU [H, D],
    dW [H, H], db [H]), summed over the batch.
    """
    act = activation("rnn_step_backward", f)
    x_t, s_prev, U, W, b = _step_inputs("rnn_step_backward", x_t, s_prev, U, W, b)
    ds_t = as_state("rnn_step_backward", "ds_t", ds_t, *s_prev.shape)
    z_t = x_t @ U.T + s_prev @ W.T + b
    return _step_backward(ds_t, x_t, s_prev, z_t, U, W, act)


# ---------------------------------------------------------------- a sequence
class RNNCache(NamedTuple):
    """What the forward pass keeps for BPTT: activations grow with T, parameters do not."""

    x: FloatArray   # [T, N, D] the inputs
    s: FloatArray   # [T + 1, N, H]: s_0 .. s_{T−1}, then s0 = s_{−1} at index −1
    z: FloatArray   # [T, N, H] pre-activations
    U: FloatArray   # [H, D]
    W: FloatArray   # [H, H]
    b: FloatArray   # [H]
    f: str          # the activation's name


class RNNGrads(NamedTuple):
    """Gradients in the order of rnn_forward's arguments."""

    dx: FloatArray   # [T, N, D]
    ds0: FloatArray  # [N, H]
    dU: FloatArray   # [H, D]
    dW: FloatArray   # [H, H]
    db: FloatArray   # [H]


def rnn_forward(
    x: Any, s0: Any, U: Any, W: Any, b: Any, f: str = "tanh"
) -> tuple[FloatArray, RNNCache]:
    """The recurrence over a sequence: s_t = f(U x_t + W s_{t−1} + b) for t = 0 .. T−1.

    Shapes: x [T, N, D] (time-major), s0 [N, H], U [H, D], W [H, H], b [H] →
    (states [T, N, H], cache). The final state (PyTorch's h_T) is states[-1]. The states are
    the caller's own array, not a view into the cache (as lstm_forward's and gru_forward's).

    Raises
    ------
    ValueError / TypeError on a sequence that is not 3-D, an empty sequence (T = 0 or N = 0),
    mismatched D or H, nan or inf in x, s0 or the weights, an unknown activation.

    Notes
    -----
    Stored activations are x, z and s: (D + 2H)·N floats per step, linear in T; the parameters
    are the same for every T.
    """
    act = activation("rnn_forward", f)
    x, s0, U, W, b = _sequence_inputs("rnn_forward", x, s0, U, W, b)
    s, z = _forward(x, s0, U, W, b, act)
    return s[:-1].copy(), RNNCache(x, s, z, U, W, b, act.name)


def _forward(x: FloatArray, s0: FloatArray, U: FloatArray, W: FloatArray, b: FloatArray,
             act: Activation) -> tuple[FloatArray, FloatArray]:
    T, N, _ = x.shape
    s = np.empty((T + 1, N, U.shape[0]))
    z = np.empty((T, N, U.shape[0]))
    s[-1] = s0                                              # s_{−1}: the initial state
    for t in range(T):
        z[t], s[t] = _step(x[t], s[t - 1], U, W, b, act)    # s_t = f(U x_t + W s_{t−1} + b)
    return s, z


def rnn_backward(ds: Any, cache: RNNCache) -> RNNGrads:
    """Backpropagation through time: ∂L/∂s_t = ds_t + Wᵀ δ_{t+1}, summed into every parameter.

    ``ds`` is the gradient of the loss with respect to each state s_t from outside the recurrence
    (from the outputs; add ∂L/∂h_T into ds[-1]). The carry ``ds_next`` (min-char-rnn's
    ``dhnext``) brings ∂L/∂s_t from step t + 1.

    Shapes: ds [T, N, H], cache from rnn_forward → RNNGrads(dx [T, N, D], ds0 [N, H],
    dU [H, D], dW [H, H], db [H]).
    """
    if not isinstance(cache, RNNCache):
        raise TypeError(f"rnn_backward: cache must be the RNNCache of rnn_forward, got "
                        f"{type(cache).__name__}")
    x, s, z, U, W, _, f = cache
    ds = as_float_array("rnn_backward", "ds", ds, ndim=3, finite=True)
    if ds.shape != z.shape:
        raise fail("rnn_backward", f"ds must have the states' shape (T, N, H) = {z.shape}, "
                                   f"got {ds.shape}")
    act = activation("rnn_backward", f)
    dx = np.empty_like(x)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(U.shape[0])
    ds_next = np.zeros_like(s[-1])                          # ∂L/∂s_t arriving from step t + 1
    for t in reversed(range(x.shape[0])):
        dx[t], ds_next, dU_t, dW_t, db_t = _step_backward(
            ds[t] + ds_next, x[t], s[t - 1], z[t], U, W, act)
        dU += dU_t                                          # the same U, W, b at every step:
        dW += dW_t                                          # their gradients add up over t
        db += db_t
    return RNNGrads(dx, ds_next, dU, dW, db)


def rnn_unrolled(x: Any, s0: Any, U: Any, W: Any, b: Any, f: str = "tanh") -> FloatArray:
    """The unrolled network: T fully connected layers sharing one weight matrix [U W] and b.

    Layer t maps the state to the next one, layer_t(s) = f([U W] [x_t; s] + b) (reference.
    feedforward.dense on the concatenation), and the network is the composition
    layer_{T−1} ∘ ... ∘ layer_0 applied to s0, keeping every layer's output. Since
    [U W] [x_t; s] = U x_t + W s, it computes exactly the recurrence of rnn_forward.

    Shapes: as rnn_forward → states [T, N, H].
    """
    act = activation("rnn_unrolled", f)
    x, s0, U, W, b = _sequence_inputs("rnn_unrolled", x, s0, U, W, b)
    UW = np.concatenate([U, W], axis=1)                     # [H, D + H], shared by every layer

    def layer(x_t: FloatArray) -> Any:
        return lambda s: dense(np.concatenate([x_t, s], axis=1), UW, b, act.name)

    layers = [layer(x_t) for x_t in x]                      # one "layer" per step
    states = list(accumulate(layers, lambda s, layer_t: layer_t(s), initial=s0))
    return np.stack(states[1:])


# ---------------------------------------------------------------- the output layer
def _targets(func: str, y: Any, shape: tuple[int, ...], K: int) -> IntArray:
    y = as_index_array(func, "y", y, ndim=len(shape), size=K)
    if y.shape != shape:
        raise fail(func, f"y must have shape {shape} (one target per step and sequence), got "
                         f"{y.shape}")
    return y


def rnn_output(s: Any, V: Any, c: Any) -> FloatArray:
    """The output layer: o_t = softmax(V s_t + c), written ``softmax(s @ V.T + c)``.

    Shapes: s [T, N, H] (or one step [N, H]), V [K, H], c [K] → o [T, N, K] (or [N, K]).
    """
    s = as_float_array("rnn_output", "s", s, ndim=(2, 3), finite=True)
    V, c = _output_params("rnn_output", V, c, s.shape[-1])
    return softmax(s @ V.T + c)                             # o_t = softmax(V s_t + c)


def _loss_inputs(func: str, s: Any, V: Any, c: Any, y: Any
                 ) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    s = as_float_array(func, "s", s, ndim=3, finite=True)
    if s.shape[0] < 1 or s.shape[1] < 1:
        raise fail(func, f"s must hold at least one step and one sequence, got {s.shape}")
    V, c = _output_params(func, V, c, s.shape[-1])
    return s, V, c, _targets(func, y, s.shape[:2], V.shape[0])


def rnn_loss(s: Any, V: Any, c: Any, y: Any) -> float:
    """L = Σ_t L_t, L_t = −(1/N) Σ_n log o_t[n, y_t,n] with o_t = softmax(V s_t + c).

    Shapes: s [T, N, H], V [K, H], c [K], y [T, N] integer ids in [0, K) → a float.
    """
    s, V, c, y = _loss_inputs("rnn_loss", s, V, c, y)
    T, N, _ = s.shape
    logits = s @ V.T + c                                    # V s_t + c, [T, N, K]
    # the mean over all T·N rows times T is Σ_t of the mean over N
    return T * cross_entropy(logits.reshape(T * N, -1), y.reshape(-1))


def rnn_loss_backward(s: Any, V: Any, c: Any, y: Any) -> tuple[FloatArray, FloatArray,
                                                                 FloatArray]:
    """∂L/∂(s, V, c) with ∂L_t/∂(V s_t + c) = (o_t − onehot(y_t))/N.

    Shapes: as rnn_loss → (ds [T, N, H], dV [K, H], dc [K]); ds feeds rnn_backward.
    """
    s, V, c, y = _loss_inputs("rnn_loss_backward", s, V, c, y)
    T, N, _ = s.shape
    logits = s @ V.T + c
    dlogits = T * cross_entropy_backward(logits.reshape(T * N, -1), y.reshape(-1))
    dlogits = dlogits.reshape(T, N, -1)                     # (o_t − onehot(y_t))/N
    ds = dlogits @ V                                        # ∂L/∂s_t = Vᵀ (o_t − y_t)/N
    dV = np.einsum("tnk,tnh->kh", dlogits, s)               # Σ_t (o_t − y_t) s_tᵀ / N
    dc = dlogits.sum(axis=(0, 1))
    return ds, dV, dc


# ---------------------------------------------------------------- BPTT, term by term
def state_jacobian(cache: RNNCache, t: int, k: int) -> FloatArray:
    """∂s_t/∂s_k = ∂s_t/∂s_{t−1} · ... · ∂s_{k+1}/∂s_k, each factor diag(f'(z_j)) W.

    A product of t − k Jacobians, one per example; the identity for k = t. k = −1 is the
    initial state s0. With |f'| ≤ 1 (tanh) its norm is at most ‖W‖^{t−k}: it vanishes for a
    contracting W and may grow (explode) for an expanding one.

    Shapes: cache of a sequence [T, N, ·], −1 ≤ k ≤ t < T → [N, H, H].
    """
    if not isinstance(cache, RNNCache):
        raise TypeError(f"state_jacobian: cache must be the RNNCache of rnn_forward, got "
                        f"{type(cache).__name__}")
    _check_steps("state_jacobian", cache, t, k)
    act = activation("state_jacobian", cache.f)
    N, H = cache.s.shape[1:]
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()        # ∂s_k/∂s_k = I
    for j in range(k + 1, t + 1):
        step = act.df(cache.z[j])[:, :, None] * cache.W     # ∂s_j/∂s_{j−1} = diag(f'(z_j)) W
        J = step @ J
    return J


def _check_steps(func: str, cache: RNNCache, t: Any, k: Any) -> None:
    T = cache.z.shape[0]
    for name, v in (("t", t), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{func}: {name} must be an integer step, got {v!r}")
    if not 0 <= t < T:
        raise fail(func, f"t must be a step in [0, {T}) of the cached sequence, got {t}")
    if not -1 <= k <= t:
        raise fail(func, f"k must be in [−1, t] = [−1, {t}] (−1 is the initial state), got {k}")


class BPTTTerms(NamedTuple):
    """The k-th terms of ∂L_t/∂θ = Σ_k ∂L_t/∂o_t · ∂o_t/∂s_t · ∂s_t/∂s_k · ∂s_k/∂θ, k = 0 .. t."""

    dU: FloatArray   # [t + 1, H, D]
    dW: FloatArray   # [t + 1, H, H]
    db: FloatArray   # [t + 1, H]


def bptt_contributions(cache: RNNCache, V: Any, c: Any, y_t: Any, t: int) -> BPTTTerms:
    """Each step's contribution to ∂L_t/∂W (and ∂L_t/∂U, ∂L_t/∂b), the slide's sum term by term.

    term_k = ∂L_t/∂o_t · ∂o_t/∂s_t · ∂s_t/∂s_k · ∂s_k/∂W, where ∂s_t/∂s_k is state_jacobian
    and ∂s_k/∂W is the immediate derivative (s_{k−1} held fixed): δ_k s_{k−1}ᵀ. Their sum over
    k = 0 .. t is ∂L_t/∂W, with L_t = cross_entropy(V s_t + c, y_t) (the mean over N).

    Shapes: cache of rnn_forward, V [K, H], c [K], y_t [N] → BPTTTerms(dU [t+1, H, D],
    dW [t+1, H, H], db [t+1, H]).
    """
    if not isinstance(cache, RNNCache):
        raise TypeError(f"bptt_contributions: cache must be the RNNCache of rnn_forward, got "
                        f"{type(cache).__name__}")
    _check_steps("bptt_contributions", cache, t, t)
    N, H = cache.s.shape[1:]
    V, c = _output_params("bptt_contributions", V, c, H)
    y_t = _targets("bptt_contributions", y_t, (N,), V.shape[0])
    act = activation("bptt_contributions", cache.f)
    # ∂L_t/∂o_t · ∂o_t/∂s_t = (o_t − onehot(y_t))/N · V
    g = cross_entropy_backward(cache.s[t] @ V.T + c, y_t) @ V
    dU = np.empty((t + 1, H, cache.x.shape[2]))
    dW = np.empty((t + 1, H, H))
    db = np.empty((t + 1, H))
    for k in range(t + 1):
        g_k = np.einsum("ni,nij->nj", g, state_jacobian(cache, t, k))  # · ∂s_t/∂s_k
        delta = g_k * act.df(cache.z[k])                    # · ∂s_k/∂z_k
        dW[k] = delta.T @ cache.s[k - 1]                    # ∂z_k/∂W: s_{k−1}ᵀ
        dU[k] = delta.T @ cache.x[k]                        # ∂z_k/∂U: x_kᵀ
        db[k] = delta.sum(axis=0)                           # ∂z_k/∂b: 1
    return BPTTTerms(dU, dW, db)
