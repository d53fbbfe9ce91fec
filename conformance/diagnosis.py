"""Diagnosis: which well-known mistake a failing check matches, and which claim it breaks.

When a check fails with values to look at, ``diagnose`` recomputes the case with the reference
as each well-known mistake would have computed it (the kernel flipped, the gates read in another
order, the stride ignored, ...) and compares the backend's values with each of those. The first
that matches, under the check's own tolerance (×4), is named with the lecture claim and the
convention it breaks; when none does, the diagnosis says so plainly and lists what was tried.

Mistakes, in the order they are tried (``MISTAKES``):

================================  ================================================================
float32 rounding                  a float64 run computed in float32 (errors of float32's size,
                                  both ways)
flipped kernel                    a true convolution, not cross-correlation, a kernel mirrored
                                  along one axis, or a kernel transposed
transposed weight                 w (or a gate's w_hh block) used transposed or reshaped where a
                                  transpose belongs; dw returned transposed
gate order                        LSTM/GRU gate blocks read in another order (all permutations)
GRU update gate                   h' = z ∘ n + (1 − z) ∘ h instead of (1 − z) ∘ n + z ∘ h
GRU reset before                  the GRU's reset gate applied before the hidden product, n =
                                  tanh(… + W_hn (r ∘ h) + b_hn)
states swapped                    the LSTM's h_n and c_n returned in each other's place
missing sqrt                      L2 pooling returning Σ x² instead of √(Σ x²)
sqrt chain left out               an L2-pool backward 2x·dy (the forward right), without the root's
                                  chain factor 1/(2y); or x·dy/(2y) or 2x·dy/y (a factor 2 of the
                                  chain rule left out)
tie rule                          a max-pool gradient split between tied maxima, sent to the last
                                  or to every one
gradient assigned                 a max-pool gradient assigned (dx[argmax] = dy) where windows
                                  overlap
argmax unravelled                 a max-pool gradient placed at divmod(t, FH) of the window's flat
                                  argmax t, not divmod(t, FW)
windows assigned                  an average-pool or conv2d dx assigned window by window (=, not
                                  +=) where windows overlap
dx kernel not rotated             a convolution's dx from dy correlated with the kernel as it is,
                                  not rotated by 180°
average not divided               average pooling returning the window sum, or divided by FH, FW,
                                  FH², FW² or SH·SW
average share                     an average-pool backward (the forward right) giving each window
                                  dy, or dy divided by FH, FW, FH², FW² or SH·SW, not by FH·FW
sum instead of mean               cross_entropy summed over the batch
target indexing                   cross_entropy's log p indexed [:, targets] (an N×N block)
one-hot indexing                  its backward subtracting the one-hot as g[:, targets] −= 1, or
                                  not at all
one-based targets                 cross_entropy's targets read as 1-based class ids (t − 1)
log epsilon                       cross_entropy as −log(p_t + ε), or with p clipped to [ε, 1 − ε]
log-softmax left out              cross_entropy of the logits as log-probabilities (−z_t) or of p_t
                                  without the log, or log-sum-exp's max not added back; a backward
                                  −onehot/N, or ∂L/∂p = −onehot/(N·p_t) (the softmax's Jacobian
                                  left out)
softmax axis                      softmax over another axis than the last
softmax diagonal                  a softmax backward keeping the Jacobian's diagonal only, dy ∘
                                  y(1 − y)
softmax rows summed               a softmax backward with one Σ dy ∘ y over the batch (or axis 0),
                                  not per row
softmax sum unweighted            a softmax backward y ∘ (dy − Σ dy), the sum without its weights
                                  y_k
step at zero                      step(0) = 0 instead of 1
relu at zero                      relu'(0) = 1 or ½ instead of 0
derivative of the wrong quantity  σ' or tanh' written with x or y where the other belongs; σ'
                                  as y or 1 − y (a factor of y(1 − y) left out); tanh' as (1 −
                                  y)² or 1 − y
margin kink                       the max margin's slope at its kink (½ or 1 instead of 0)
margin                            the max margin's Δ dropped, fixed at 1 or doubled
arguments swapped                 the max margin's s and s_c exchanged
unstable                          an unshifted softmax, cross-entropy, σ or tanh, a softmax
                                  shifted by the whole array's maximum, or inf/nan at large inputs
bias ignored                      the bias left out (b never added, its gradient 0)
bias twice                        a bias added twice (2b), or b_ih added in b_hh's place (or the
                                  reverse)
running sum                       an accumulator not reset between the batch's rows (linear) or a
                                  row's windows (conv): each output the running sum of the ones up
                                  to it
window one short                  a loop over a window's or kernel's offsets one short
                                  (range(F − 1)): its last row, column or tap left out
embedding overwrite               ∂L/∂E assigned row by row, so a repeated id keeps one share only
repeated ids averaged             ∂L/∂E of a repeated id divided by its count
ids order                         ∂L/∂E with the ids flattened in another order than dy (ids.T,
                                  column-major)
final state ignored               an RNN/LSTM/GRU backward that drops ∂L/∂h_n (or ∂L/∂c_n)
no backprop through time          a recurrent backward that stops at each step (h, or c, not
                                  carried back)
cell path dropped                 an LSTM backward without the cell path (∂L/∂c_t not passed to
                                  c_(t−1))
direct path dropped               a GRU backward without the direct term z ∘ ∂L/∂h_t to h_(t−1)
gate nonlinearity                 an LSTM/GRU gate's σ and tanh exchanged, or h_t = o ∘ c_t
                                  without the tanh
cell variant                      h_n of the first step or the state entering the last; an RNN
                                  without tanh; an LSTM's forget gate +1; a GRU's b_hn outside the
                                  reset gate
state handling                    h0 (or c0) ignored; the sequence run backwards; the last (or the
                                  first) step skipped; every step from h0; out one step behind
axes swapped                      a per-axis stride, padding or window read as (W, H), not (H, W)
one-sided padding                 zeros on one side only (P or 2P), or no padding at all
padding mode                      the border padded with copies of the edge or a reflection, not
                                  zeros
stride ignored                    stride 1 instead of S, one axis's stride for both, or pooling
                                  with stride = window
offset times stride               a convolution's window i reading x[i + S·p], not x[S·i + p]
dx stride ignored                 a convolution's dx with window i's gradient at i instead of S·i
dw stride ignored                 a convolution's dw with window i read at i instead of S·i
dx padding kept                   dx cut from the padded input's gradient at offset 0 or 2P, not P
output size                       an output one element too long or too short along an axis
last window skipped               the last output position along an axis never computed (left 0):
                                  a loop over the windows one short
upstream ignored                  a backward that leaves out the upstream gradient (as if it were
                                  1)
one example                       parameter gradients of the batch's first (or last) example only
input negated                     an activation of −x (σ(−x) = 1/(1 + eˣ))
absolute input                    σ, tanh or relu of |x| (a stable formula's branch for x < 0 left
                                  out; relu as |x|)
input scaled                      σ or tanh of a·x, a = 2, 1/2, 3, 1/3, 4, 1/4, −2 or −1/2
                                  (tanh(x/2) = 2σ(x) − 1)
mask left out                     relu's or step's dx = dy (relu's dy ∘ relu(x) or dy ∘ [dy > 0]),
                                  or the hinge's gradient where J = 0 too, or masked without Δ
leaky relu                        a slope α for x < 0
one-based ids                     an embedding read as E[ids − 1]
clipped                           the true values clipped, capped (relu6) or floored (max(0, ·))
dw_hh state                       an RNN's dw_hh from the wrong state: s_t where s_(t−1) belongs,
                                  or out[t − 1] at t = 0 (the last state, not h0)
wrong argument                    gradients (or outputs) returned in the wrong order, or one
                                  returned for two (a GRU's db_hh equal to db_ih)
rounded                           the true values rounded to whole numbers (//, an int dtype)
layout                            the right values with the axes of an array in another order
all zeros                         zeros where the true values are not (a stub, an array never
                                  filled)
constant factor                   the true values times a nonzero constant (−1, 2, 1/N, 1/√(FH·FW),
                                  ...)
shape                             the right values in another shape (a squeeze(), a flatten, the
                                  vjp's cotangents tuple used as dy), a dx cut [P:−P], empty
                                  where P = 0, or db summed over the wrong axes of dy
================================  ================================================================

``shape`` is read from the anatomy of arrays of another shape, after the others, which compare
values of the contract's shape.

Each mistake's values come from the reference itself, through the mistake's transformation:
a permuted or flipped weight gives the reference's forward on the permuted weight and the
gradient permuted back (the chain rule through a permutation); a transformed output g(y) gives
g(y) and the reference's gradient for the upstream dy ∘ g'(y); a dropped upstream gradient gives
the reference's gradient for the upstream with that part set to zero. One is written out: the
embedding overwrite's ∂L/∂E (dE[ids] = dy), which no call of the reference gives.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from conformance.anatomy import Anatomy, _case_sizes, _factor, _nice, anatomies
from conformance.backends import Bound, load_backend
from conformance.cases import Case, complete, f32
from conformance.consistency import Consistency, Target, self_consistency
from conformance.contract import as_attribute, axis_letters, op_spec
from conformance.conventions import CONVENTIONS, alternatives, declaration
from conformance.narrowing import Narrowing, narrow
from conformance.report import Check, Result
from reference.tolerance import Tolerance, compare, tolerance, within_tolerance

__all__ = ["FLOAT32_ARITHMETIC", "GENERIC", "MISTAKES", "Context", "Diagnosis", "Mistake", "Named",
           "catalogue",
           "diagnose", "reconcile"]

FLOAT32_ARITHMETIC = "matches float32 arithmetic"
"""How the diagnosis "float32 rounding" begins."""

Values = dict[str, np.ndarray]
Candidate = tuple[str, Values] | tuple[str, Values, tuple[str, ...]]
"""A mistake's text and values, and (if not the mistake's) the claims it breaks."""


@dataclass
class Context:
    """A failing check: the case, what the backend returned, what was expected."""

    case: Case
    check: Check
    got: Mapping[str, np.ndarray]
    dtype: np.dtype
    tol: Tolerance
    reference: Bound
    expected: Values = field(init=False)

    def __post_init__(self) -> None:
        source = self.case.expected if self.check == "forward" else self.case.expected_grads
        self.expected = {k: np.asarray(v, dtype=np.float64) for k, v in (source or {}).items()}

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        return dict(self.case.inputs)

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self.case.attrs)

    def evaluate(self, inputs: Mapping[str, np.ndarray] | None = None,
                 attrs: Mapping[str, Any] | None = None,
                 upstream: Mapping[str, np.ndarray] | None = None) -> Values | None:
        """The reference's outputs (forward check) or gradients (gradient check) for changed
        inputs, attributes or upstream gradients; None if the reference refuses them."""
        inputs = self.inputs if inputs is None else inputs
        attrs = self.attrs if attrs is None else attrs
        try:
            ups = self.case.upstream if upstream is None else upstream
            return self.reference.values(self.check, self.case.op, inputs, attrs, ups)
        except (ValueError, TypeError, IndexError):  # pragma: no cover - mistakes keep to
            return None                              # geometries the reference accepts

    def forward_all(self, inputs: Mapping[str, np.ndarray] | None = None,
                    attrs: Mapping[str, Any] | None = None) -> Values | None:
        """The reference's outputs, by name, for changed inputs or attributes (None if
        refused)."""
        try:
            outs = self.reference.outputs(self.case.op, self.inputs if inputs is None else inputs,
                                          self.attrs if attrs is None else attrs)
        except (ValueError, TypeError, IndexError):  # pragma: no cover - as in evaluate
            return None
        return {k: np.asarray(v, np.float64) for k, v in outs.items()}

    def forward(self, inputs: Mapping[str, np.ndarray] | None = None,
                attrs: Mapping[str, Any] | None = None) -> np.ndarray | None:
        """The reference's first output for changed inputs or attributes (None if refused)."""
        outs = self.forward_all(inputs, attrs)
        return None if outs is None else next(iter(outs.values()))

    def prefix(self, name: str) -> str:
        return f"d{name}" if self.check == "gradient" else name


Part = Literal["forward", "backward", "either"]


@dataclass(frozen=True)
class Mistake:
    """A well-known mistake: the ops it concerns (None: all), what it is called, the claims it
    breaks, how to compute what a backend making it returns (candidates: text, values), and
    where it lives: in the ``forward`` (its gradient is the derivative of the mistaken forward),
    in the ``backward`` alone, or ``either``."""

    name: str
    ops: frozenset[str] | None
    claims: tuple[str, ...] | None
    candidates: Callable[[Context], Iterator[Candidate]]
    part: Part = "forward"

    def applies(self, ctx: Context) -> bool:
        return self.ops is None or ctx.case.op in self.ops


# ---------------------------------------------------------------- helpers
def _gradient_of_permuted(ctx: Context, changed: Mapping[str, np.ndarray],
                          back: Callable[[str, np.ndarray], np.ndarray]) -> Values | None:
    """The reference on inputs permuted by a linear map P; gradients mapped back by Pᵀ."""
    values = ctx.evaluate(inputs={**ctx.inputs, **changed})
    if values is None or ctx.check == "forward":
        return values
    return {k: back(k, v) if k in changed else v for k, v in values.items()}


def _spatial(ctx: Context) -> tuple[int, ...]:
    return tuple(range(2, np.ndim(ctx.case.inputs["x"])))


def _pairs(ctx: Context, name: str) -> tuple[int, ...]:
    return tuple(int(v) for v in np.atleast_1d(ctx.case.attrs[name]))


# ---------------------------------------------------------------- the mistakes
def _float32(ctx: Context) -> Iterator[Candidate]:
    """A float64 run's values computed in float32: within float32's tolerance, and either every
    value a float32 number (computed in float32, handed back as float64) or errors of float32's
    size at most elements (a median relative error of at least a hundredth of float32's unit
    roundoff; float64 arithmetic errs near 1e-16, float32 near 1e-7) in both directions, as
    rounding does (a small ε in a formula errs one way), at six or more elements."""
    if ctx.dtype != np.float64:
        return
    acc = ctx.case.accumulation()
    gradient = ctx.check == "gradient"
    tol32 = tolerance(np.float32, terms=acc.terms_of(ctx.check), depth=acc.depth,
                      gradient=gradient)
    returned32 = any(np.asarray(v).dtype == np.float32 for v in ctx.got.values())
    comparisons = [compare(ctx.got[k], e, tol32) for k, e in ctx.expected.items()]
    if not all(c.ok for c in comparisons):
        return
    floor = 0.01 * float(np.finfo(np.float32).eps) / 2
    nonzero = [(np.asarray(ctx.got[k], np.float64)[e != 0], e[e != 0])
               for k, e in ctx.expected.items()]
    rel = np.concatenate([np.abs(g - e) / np.abs(e) for g, e in nonzero]) if nonzero else (
        np.zeros(0))
    signs = np.concatenate([np.sign((g - e) / e) for g, e in nonzero]) if nonzero else (
        np.zeros(0))
    up, down = int(np.sum(signs > 0)), int(np.sum(signs < 0))
    # rounding errs both ways; an ε in a formula (Σ e + ε, √(Σ x² + ε)) errs one way relative
    # to the values everywhere (six the same way: 1 in 32 for rounding)
    one_way = up + down >= 6 and min(up, down) < 0.1 * (up + down)
    # float32 arithmetic errs at most elements: a few wrong elements are no rounding
    size = float(np.median(rel)) if rel.size else 0.0
    as32 = all(bool(np.all(np.asarray(ctx.got[k], np.float64)
                           == np.asarray(ctx.got[k], np.float64).astype(np.float32)))
               for k in ctx.expected)
    if returned32:          # the dtype explains the failure, whatever the values
        yield (f"{FLOAT32_ARITHMETIC} (returned float32 arrays): a float64 run expects the "
               f"backend to compute in float64 throughout", {})
    elif as32 or (floor <= size <= 1e3 * float(np.finfo(np.float32).eps) and not one_way
                  and up + down >= 6):
        # float32 numbers, or rounding-like errors (a median error of 1e-4 or more is no
        # rounding) at six or more elements, enough to see them err both ways (below that, only
        # float32 numbers: √(4 + 1e-6) is no float32 number, and √4 in float32 is exactly 2)
        yield (f"{FLOAT32_ARITHMETIC} (errors the size of float32 rounding): a float64 run "
               f"expects the backend to compute in float64 throughout",
               {k: np.asarray(ctx.got[k], np.float64) for k in ctx.expected})


def _flipped_kernel(ctx: Context) -> Iterator[Candidate]:
    """The kernel flipped along every spatial axis (a true convolution), or, in 2-D, along one
    axis only (a mirror: half of a convolution's flip)."""
    axes = _spatial(ctx)
    slide = "as in the Sobel example" if len(axes) == 2 else "the slides' convention"
    flips = [(axes, "kernel flipped 180°" if len(axes) == 2 else "kernel reversed")]
    if len(axes) == 2:
        flips += [((axes[1],), "left to right"), ((axes[0],), "upside down")]
    for flipped, what in flips:
        w = np.flip(ctx.case.inputs["w"], flipped)
        values = _gradient_of_permuted(ctx, {"w": w}, partial(_flip_back, flipped))
        if values is None:
            continue
        if len(flipped) == len(axes):
            yield (f"matches a true convolution ({what}): nnspec's {ctx.case.op} is "
                   f"cross-correlation, {slide}", values)
        else:
            yield (f"matches the kernel mirrored {what} only (a true convolution flips it both "
                   f"ways): nnspec's {ctx.case.op} is cross-correlation, {slide}, the kernel "
                   f"as given", values)
    w = np.asarray(ctx.case.inputs["w"])
    if len(axes) == 2 and w.shape[2] > 1 < w.shape[3]:  # (FH × FW windows read as FW × FH)
        values = _gradient_of_permuted(ctx, {"w": w.swapaxes(2, 3)},
                                       lambda k, v: v.swapaxes(2, 3) if k == "w" else v)
        if values is not None:
            yield ("matches the kernel transposed, its rows and columns swapped (w[k, c, q, p] "
                   "where w[k, c, p, q] belongs: an einsum's 'kcqp' for 'kcpq'): the kernel's "
                   "first axis runs down the image", values)


def _flip_back(axes: tuple[int, ...], name: str, value: np.ndarray) -> np.ndarray:
    return np.flip(value, axes) if name == "w" else value


def _blocks_transposed(w: np.ndarray, h: int) -> np.ndarray:
    g = w.shape[0] // h
    return w.reshape(g, h, h).transpose(0, 2, 1).reshape(g * h, h)


def _transposed_weight(ctx: Context) -> Iterator[Candidate]:
    op, inputs = ctx.case.op, ctx.case.inputs
    if ctx.check == "gradient":            # a weight's gradient returned as its transpose
        flipped = [k for k, e in ctx.expected.items() if e.ndim == 2 and e.shape[0] != e.shape[1]
                   and np.shape(ctx.got[k]) == e.shape[::-1]]
        if flipped:
            listed = ", ".join(ctx.prefix(k) for k in flipped)
            yield (f"matches {listed} returned transposed: a weight's gradient has the weight's "
                   f"own shape ({', '.join(str(list(ctx.expected[k].shape)) for k in flipped)})",
                   {**ctx.expected, **{k: ctx.expected[k].T for k in flipped}})
    if op == "linear":
        w = inputs["w"]
        if w.shape[0] == w.shape[1]:
            values = _gradient_of_permuted(ctx, {"w": w.T}, lambda k, v: v.T)
            if values is not None:
                yield ("matches x w + b, the weight used transposed: nnspec keeps w as [M, D] "
                       "(the slide's W, torch.nn.Linear.weight) and computes x wᵀ + b", values)
        m, d = w.shape
        read = np.asarray(w).reshape(d, m).T                     # x · reshape(w, [D, M])
        if min(m, d) > 1:                  # (square: the reshape is w itself, used transposed)
            values = _gradient_of_permuted(ctx, {"w": read},
                                           lambda k, v: v.T.reshape(m, d))
            if values is not None:
                yield ("matches x · reshape(w, [D, M]) + b, the weight reshaped where a "
                       "transpose belongs (wᵀ has the same shape, other values in each place): "
                       "nnspec computes x wᵀ + b", values)
        return
    h = inputs["h0"].shape[1]
    yield from _one_block_transposed(ctx, h)
    options = [("w_hh",)] + ([("w_ih",), ("w_ih", "w_hh")] if inputs["x"].shape[2] == h else [])
    for names in options:
        changed = {k: _blocks_transposed(inputs[k], h) for k in names}
        values = _gradient_of_permuted(ctx, changed, lambda k, v: _blocks_transposed(v, h))
        if values is not None:
            which = " and ".join(names)
            yield (f"matches {which} used transposed in every gate (h {names[-1]} where nnspec, "
                   f"like PyTorch, computes {names[-1]} h, i.e. h {names[-1]}ᵀ)", values)


def _one_block_transposed(ctx: Context, h: int) -> Iterator[Candidate]:
    """One gate's block of w_hh used transposed, the others right (a slip in one line)."""
    gates = _GATES.get(ctx.case.op, ())
    for j, gate in enumerate(gates):
        def flip(k: str, w: np.ndarray, j: int = j) -> np.ndarray:
            w = np.array(w, dtype=np.float64)
            w[j * h:(j + 1) * h] = w[j * h:(j + 1) * h].T.copy()
            return w
        values = _gradient_of_permuted(ctx, {"w_hh": flip("w_hh", ctx.case.inputs["w_hh"])},
                                       flip)
        if values is not None:
            yield (f"matches the {gate} block of w_hh used transposed (rows {j * h}–"
                   f"{(j + 1) * h - 1}), the other gates right", values)


_GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
_KNOWN_ORDERS = {
    ("i", "o", "f", "g"): " (ONNX's i, o, f, c)",
    ("i", "g", "f", "o"): " (TensorFlow's i, c, f, o)",
    ("z", "r", "n"): " (Keras's and ONNX's z, r, h)",
}
_STACKED = ("w_ih", "w_hh", "b_ih", "b_hh")


def _gate_order(ctx: Context) -> Iterator[Candidate]:
    canon = _GATES[ctx.case.op]
    h = ctx.case.inputs["h0"].shape[1]

    def reorder(w: np.ndarray, source: list[int]) -> np.ndarray:
        return np.concatenate([w[j * h:(j + 1) * h] for j in source])

    for order in itertools.permutations(canon):
        if order == canon:
            continue
        source = [order.index(g) for g in canon]        # gate g's rows, as the backend reads
        inverse = [source.index(j) for j in range(len(canon))]
        changed = {k: reorder(ctx.case.inputs[k], source) for k in _STACKED}
        values = _gradient_of_permuted(ctx, changed, partial(_reorder_back, reorder, inverse))
        if values is not None:
            yield (f"matches the {ctx.case.op.upper()} gates read in the order "
                   f"({', '.join(order)}){_KNOWN_ORDERS.get(order, '')}: nnspec, like PyTorch, "
                   f"stacks the gate weights as {', '.join(canon)}", values)


def _reorder_back(reorder: Callable[[np.ndarray, list[int]], np.ndarray], inverse: list[int],
                  name: str, grad: np.ndarray) -> np.ndarray:
    return reorder(grad, inverse)


def _gru_update(ctx: Context) -> Iterator[Candidate]:
    h = ctx.case.inputs["h0"].shape[1]

    def negate_z(w: np.ndarray) -> np.ndarray:          # σ(−a) = 1 − σ(a): z becomes 1 − z
        w = np.array(w, dtype=np.float64)
        w[h:2 * h] *= -1
        return w

    changed = {k: negate_z(ctx.case.inputs[k]) for k in _STACKED}
    values = _gradient_of_permuted(ctx, changed, lambda k, v: negate_z(v))
    if values is not None:
        yield ("matches h' = z ∘ n + (1 − z) ∘ h (the update gate's roles swapped): nnspec, like "
               "PyTorch, computes h' = (1 − z) ∘ n + z ∘ h", values)


def _output_map(ctx: Context, forward: Callable[[np.ndarray], np.ndarray],
                slope: Callable[[np.ndarray], np.ndarray]) -> Values | None:
    """What a backend returning g(y) gives: g(y) forward; the gradient of Σ dy ∘ g(y)."""
    (name,) = ctx.case.expected or {}
    y = np.asarray((ctx.case.expected or {})[name], dtype=np.float64)
    if ctx.check == "forward":
        return {name: forward(y)}
    dy = np.asarray(ctx.case.upstream[name], dtype=np.float64)
    return ctx.evaluate(upstream={name: dy * slope(y)})


def _missing_sqrt(ctx: Context) -> Iterator[Candidate]:
    """Σ x² without the root (a forward mistake; its backward 2x·dy with it)."""
    values = _output_map(ctx, np.square, lambda y: 2.0 * y)
    if values is not None:
        yield ("matches Σ x² without the square root: L2 pooling keeps √(Σ x²) of each "
               "window", values)


def _sqrt_chain_left_out(ctx: Context) -> Iterator[Candidate]:
    """A backward alone (the forward right): the derivative of Σ x², 2x·dy, without the root's
    chain factor 1/(2y); or the chain rule through √u and u = Σ x² with one of its two factors
    of 2 left out (x·dy/(2y) or 2x·dy/y, half or twice the true x·dy/y)."""
    if ctx.check != "gradient":
        return
    values = _output_map(ctx, np.square, lambda y: 2.0 * y)
    if values is not None:
        yield ("matches the gradient of Σ x² without the square root, dx = 2x·dy: the root's "
               "chain factor 1/(2y) left out (L2 pooling keeps √(Σ x²), whose dx is x·dy/y)",
               values)
    true = ctx.expected["x"]
    yield ("matches dx = x·dy/(2y): the root's 1/(2y) without the 2 of d(x²) = 2x dx (L2 "
           "pooling's dx is 1/(2y) · 2x · dy = x·dy/y)", {"x": true / 2})
    yield ("matches dx = 2x·dy/y: d(x²) = 2x dx without the ½ of the root's d√u = du/(2√u) "
           "(L2 pooling's dx is 1/(2y) · 2x · dy = x·dy/y)", {"x": 2 * true})


def _convention(name: str, also: Callable[[Context], Iterator[Candidate]] | None = None
                ) -> Callable[[Context], Iterator[Candidate]]:
    """The candidates of a declarable convention (conformance.conventions): every variant but
    the one the run checks (the spec's, or the backend's declared one), computed by the
    reference; then ``also``'s, mistakes of the same kind that no framework declares."""

    def candidates(ctx: Context) -> Iterator[Candidate]:
        conv = CONVENTIONS[name]
        current, others = alternatives(conv, ctx.reference)
        for variant, reference in others:
            values = reference.values(ctx.check, ctx.case.op, ctx.inputs, ctx.attrs,
                                      ctx.case.upstream)
            who = f" ({variant.who})" if variant.who else ""
            if current is conv.spec:             # nothing declared: name the declaration
                text = (f"matches {variant.text}{who}, the convention {name}={variant.name}; "
                        f"the spec takes {conv.spec.text}: if your backend does this by "
                        f"design, declare it ({declaration(name, variant.name)})")
            elif variant is conv.spec:           # declared, but it follows the spec: it
                yield (f"matches {variant.text}, the spec's variant, not the declared "  # breaks
                       f"{name}={current.name} ({current.text}): the declaration does not "
                       f"describe the backend; drop it", values, ())       # no claim
                continue
            else:
                text = (f"matches {variant.text}{who}, the convention {name}={variant.name}, "
                        f"not the declared {name}={current.name} ({current.text}): declare "
                        f"{name}={variant.name} instead")
            yield text, values
        if also is not None:
            yield from also(ctx)

    return candidates


def _every_tied_maximum(ctx: Context) -> Iterator[Candidate]:
    """The max-pool gradient where a window holds its maximum more than once sent whole to each
    tied element (no framework's convention: the window's gradient counted k times)."""
    if ctx.check != "gradient":
        return
    x, dy = ctx.case.inputs["x"], ctx.case.upstream["y"]
    (fh, fw), (sh, sw) = ctx.case.attrs["kernel_size"], ctx.case.attrs["stride"]
    # the windows [N, C, OH, OW, FH, FW] and where each holds its maximum
    windows = sliding_window_view(x, (fh, fw), axis=(2, 3))[:, :, ::sh, ::sw]
    tied = windows == windows.max(axis=(4, 5), keepdims=True)
    if not np.any(tied.sum(axis=(4, 5)) > 1):
        return
    dx = np.zeros(x.shape)
    for u in range(fh):
        for v in range(fw):
            dx[:, :, u:u + sh * dy.shape[2]:sh, v:v + sw * dy.shape[3]:sw] += dy * tied[..., u, v]
    yield ("matches the gradient sent whole to every tied maximum (a window's gradient counted "
           "once per tie): nnspec, like torch, sends a window's whole gradient to its first "
           "maximum in row-major order", {"x": dx})


def _first_maxima(ctx: Context) -> np.ndarray:
    """Where each max-pool window holds its (first) maximum: the flat index t of the window's
    row-major FH·FW elements, [N, C, OH, OW]."""
    (fh, fw), (sh, sw) = ctx.case.attrs["kernel_size"], ctx.case.attrs["stride"]
    windows = sliding_window_view(ctx.case.inputs["x"], (fh, fw), axis=(2, 3))[:, :, ::sh, ::sw]
    return windows.reshape(*windows.shape[:4], fh * fw).argmax(axis=-1)


def _pixels(ctx: Context, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """The (n, c, row, column) index of element (u, v) of every max-pool window (u, v of
    shape [N, C, OH, OW]): row SH·i + u, column SW·j + v."""
    (sh, sw) = ctx.case.attrs["stride"]
    n, c, oh, ow = u.shape
    return (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
            np.arange(oh)[:, None] * sh + u, np.arange(ow)[None, :] * sw + v)


def _max_pool_assigned(ctx: Context) -> Iterator[Candidate]:
    """Each window's gradient assigned to its maximum's pixel, dx[argmax] = dy, in row-major
    order of the windows: where overlapping windows share their maximum, the last one's
    gradient is kept instead of the sum (as embedding overwrite)."""
    if ctx.check != "gradient":
        return
    x, dy = ctx.case.inputs["x"], np.asarray(ctx.case.upstream["y"], np.float64)
    fw = ctx.case.attrs["kernel_size"][1]
    flat = np.ravel_multi_index(_pixels(ctx, *np.divmod(_first_maxima(ctx), fw)),
                                x.shape).reshape(-1)
    if len(np.unique(flat)) == len(flat):
        return                                # no pixel is the maximum of two windows
    dx = np.zeros(x.shape)
    dx.reshape(-1)[flat] = dy.reshape(-1)     # (repeated pixels: the last window's stays)
    yield ("matches each window's gradient assigned to its maximum (dx[argmax] = dy), not added: "
           "a pixel that is the maximum of several overlapping windows gets the sum of their "
           "gradients (dx[argmax] += dy, np.add.at), not the last one's", {"x": dx})


def _argmax_unravelled(ctx: Context) -> Iterator[Candidate]:
    """A max-pool backward that finds each window's (first) maximum at flat index t of the
    window and places the gradient at divmod(t, FH) instead of divmod(t, FW): right for square
    windows, elsewhere at another pixel."""
    fh, fw = ctx.case.attrs["kernel_size"]
    if ctx.check != "gradient" or fh == fw:
        return
    x, dy = ctx.case.inputs["x"], np.asarray(ctx.case.upstream["y"], np.float64)
    u, v = np.divmod(_first_maxima(ctx), fh)
    for clamped in (False, True):         # (kept inside the window, or not)
        where = _pixels(ctx, *((np.minimum(u, fh - 1), np.minimum(v, fw - 1)) if clamped
                               else (u, v)))
        if np.any(where[2] >= x.shape[2]) or np.any(where[3] >= x.shape[3]):
            continue                      # (an index past the image would have raised)
        dx = np.zeros(x.shape)
        np.add.at(dx, where, dy)
        yield ("matches each window's gradient placed at divmod(t, FH) of its maximum's flat "
               "index t instead of divmod(t, FW) (the window's rows are FW long): right only for "
               "square windows", {"x": dx})


def _windows_assigned(ctx: Context) -> Iterator[Candidate]:
    """An average-pool or convolution backward that assigns each window's share of dx
    (dx[window] = share) in row-major order of the windows instead of adding it: where windows
    overlap, the last one's share is kept."""
    if ctx.check != "gradient":
        return
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    dy = np.asarray(ctx.case.upstream["y"], np.float64)
    w = None
    if ctx.case.op == "avg_pool2d":
        (fh, fw), (sh, sw) = ctx.case.attrs["kernel_size"], ctx.case.attrs["stride"]
        pad: tuple[int, ...] = (0, 0)
    else:
        w = np.asarray(ctx.case.inputs["w"], np.float64)
        (fh, fw), (sh, sw), pad = w.shape[2:], _pairs(ctx, "stride"), _pairs(ctx, "padding")
    if fh <= sh and fw <= sw:
        return                            # (no two windows overlap)
    dxp = np.zeros((*x.shape[:2], x.shape[2] + 2 * pad[0], x.shape[3] + 2 * pad[1]))
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            share = (np.broadcast_to(dy[:, :, i, j, None, None] / (fh * fw),
                                     (*dy.shape[:2], fh, fw)) if w is None else
                     np.einsum("nk,kcpq->ncpq", dy[:, :, i, j], w))
            dxp[:, :, i * sh:i * sh + fh, j * sw:j * sw + fw] = share
    dx = dxp[:, :, pad[0]:pad[0] + x.shape[2], pad[1]:pad[1] + x.shape[3]]
    yield ("matches each window's share of dx assigned (dx[window] = share), not added: where "
           "windows overlap, a pixel gets the sum of every window's share (dx[window] += share), "
           "not the last one's", {**ctx.expected, "x": dx})


def _dx_kernel_not_rotated(ctx: Context) -> Iterator[Candidate]:
    """A convolution's dx as dy correlated with the kernel as it is, not rotated by 180°:
    the dx of the convolution with the flipped kernel (dw and db right)."""
    if ctx.check != "gradient":
        return
    axes = _spatial(ctx)
    values = ctx.evaluate(inputs={**ctx.inputs, "w": np.flip(ctx.case.inputs["w"], axes)})
    if values is not None:
        yield ("matches dx with the kernel not rotated by 180° (dy correlated with w as it is): "
               "a cross-correlation's dx is the full convolution of dy with w, each kernel "
               "flipped along its spatial axes", {**ctx.expected, "x": values["x"]})


def _constant_output(ctx: Context, k: float) -> Values | None:
    return _output_map(ctx, lambda y: k * y, lambda y: np.full_like(y, k))


def _average_not_divided(ctx: Context, share: bool = False) -> Iterator[Candidate]:
    """The window sum, or the sum divided by the wrong count (FH or FW alone, SH·SW); with
    ``share``, said of the backward's share of dy."""
    (fh, fw), (sh, sw) = ctx.case.attrs["kernel_size"], ctx.case.attrs["stride"]
    counts = [(1, "not divided by the window size"), (fh, "divided by FH only"),
              (fw, "divided by FW only"), (sh * sw, "divided by the stride's SH·SW"),
              (fh * fh, "divided by FH² (FH·FH)"), (fw * fw, "divided by FW² (FW·FW)")]
    for count, how in counts:         # (equal counts: readings with the same numbers)
        if count == fh * fw or (how.startswith("divided by FW") and fw == fh):
            continue
        values = _constant_output(ctx, fh * fw / count)
        if values is None:
            continue
        if share:                         # (a backward alone: each window's share of dy)
            yield ((f"matches each window's share dy, {how} FH·FW = {fh * fw}" if
                    how.startswith("not") else
                    f"matches each window's share of dy {how} ({count}), not by the window "
                    f"size FH·FW = {fh * fw}") + ": average pooling's backward spreads "
                   "dy / (FH·FW) over each window", values)
            continue
        yield ((f"matches the window sum, {how} FH·FW = {fh * fw}" if how.startswith("not")
                else
                f"matches the window sum {how} ({count}), not by the window size FH·FW = "
                f"{fh * fw}") + ": average pooling keeps the mean of each window", values)


def _average_share(ctx: Context) -> Iterator[Candidate]:
    """A backward alone (the forward right): each window's share of dy not divided, or divided
    by the wrong count."""
    if ctx.check == "gradient":
        yield from _average_not_divided(ctx, share=True)


def _softmax_axis(ctx: Context) -> Iterator[Candidate]:
    """softmax over another axis than the last: the reference on the input with that axis and
    the last swapped (the upstream gradient too), the results swapped back; or (forward) the
    max shift per row but the sum over another axis."""
    x = ctx.case.inputs["x"]
    for axis in range(x.ndim - 1):                     # (a 1-D input has no other axis)
        values = ctx.evaluate({"x": x.swapaxes(axis, -1)}, upstream={
            "y": np.swapaxes(ctx.case.upstream.get("y", x), axis, -1)})
        if values is None:  # pragma: no cover - any axis is accepted
            continue
        which = ("the first axis (each column summing to 1)" if axis == 0 else
                 f"axis {axis} (of axes 0–{x.ndim - 1})")
        yield (f"matches softmax over {which}: nnspec, like torch's softmax(dim=-1), "
               f"normalises over the last axis (each row a distribution)",
               {k: v.swapaxes(axis, -1) for k, v in values.items()})
        if ctx.check == "forward":        # the shift per row, the sum over the other axis
            e = np.exp(np.asarray(x, np.float64) - np.max(x, axis=-1, keepdims=True))
            yield (f"matches e = exp(x − each row's max) divided by its sum over {which}: the "
                   f"shift and the sum over different axes (nnspec normalises over the last "
                   f"axis, where the shift cancels)", {"y": e / e.sum(axis=axis, keepdims=True)})


def _embedding_overwrite(ctx: Context) -> Iterator[Candidate]:
    ids, E = ctx.case.inputs["ids"].reshape(-1), ctx.case.inputs["E"]
    if ctx.check != "gradient" or len(np.unique(ids)) == len(ids):
        return
    dE = np.zeros(E.shape)
    dE[ids] = np.asarray(ctx.case.upstream["y"]).reshape(len(ids), -1)   # the last one stays
    yield ("matches ∂L/∂E assigned row by row (dE[ids] = dy), so a repeated id keeps one share: "
           "a row read k times gets the sum of its k upstream gradients (np.add.at)", {"E": dE})



def _embedding_averaged(ctx: Context) -> Iterator[Candidate]:
    """∂L/∂E with a repeated id's upstream gradients averaged (divided by its count)."""
    ids, E = ctx.case.inputs["ids"].reshape(-1), ctx.case.inputs["E"]
    if ctx.check != "gradient" or len(np.unique(ids)) == len(ids):
        return
    summed = np.zeros(E.shape)
    np.add.at(summed, ids, np.asarray(ctx.case.upstream["y"], np.float64).reshape(len(ids), -1))
    counts = np.bincount(ids, minlength=len(E))
    yield ("matches the gradients of a repeated id averaged (divided by its count): a row read k "
           "times gets the sum of its k upstream gradients",
           {"E": summed / np.maximum(counts, 1)[:, None]})


def _embedding_ids_order(ctx: Context) -> Iterator[Candidate]:
    """∂L/∂E with the ids and dy flattened in different orders (ids.T, or column-major, against
    dy's rows in row-major order), so each upstream row is added at another position's id."""
    ids = np.asarray(ctx.case.inputs["ids"])
    if ctx.check != "gradient" or ids.ndim < 2:
        return
    values = ctx.evaluate(inputs={**ctx.inputs, "ids": ids.T.reshape(ids.shape)})
    if values is not None:
        yield ("matches the ids flattened in another order than dy (ids.T, or order='F', "
               "against dy's rows in C order): each upstream row is added at another "
               "position's id; dE[ids[n, t]] += dy[n, t] pairs each position with its own row",
               values)


def _final_state_ignored(ctx: Context) -> Iterator[Candidate]:
    if ctx.check != "gradient":
        return
    finals = [o.name for o in op_spec(ctx.case.op).outputs[1:]]      # h_n (and c_n)
    for dropped in [*([n] for n in finals), *([finals] if len(finals) > 1 else [])]:
        upstream = {k: np.zeros_like(v) if k in dropped else v
                    for k, v in ctx.case.upstream.items()}
        values = ctx.evaluate(upstream=upstream)
        if values is not None:
            names = " and ".join(f"∂L/∂{n}" for n in dropped)
            yield (f"matches gradients that ignore {names}: the final state is an output of "
                   f"its own, and its upstream gradient adds to the last step's", values)


def _upstream_ignored(ctx: Context) -> Iterator[Candidate]:
    """The backward computed as though every upstream gradient were 1 (∂(Σ y)/∂x): the chain
    rule's product with ∂L/∂y left out."""
    if ctx.check != "gradient" or not ctx.case.upstream:
        return
    values = ctx.evaluate(upstream={k: np.ones_like(np.asarray(v, np.float64))
                                    for k, v in ctx.case.upstream.items()})
    if values is not None:
        names = " and ".join(f"∂L/∂{k}" for k in ctx.case.upstream)
        yield (f"matches the gradient with the upstream gradient left out (as though {names} "
               f"were 1 everywhere): the backward must multiply by the upstream gradient it is "
               f"given (the chain rule)", values)


def _one_batch_row(ctx: Context) -> Iterator[Candidate]:
    """Parameter gradients (the arrays without a batch axis) of one example only, the first or
    the last: the upstream gradient of every other batch row left out, where Σ_n belongs (the
    failing arrays; the others are right)."""
    if ctx.check != "gradient" or not ctx.case.upstream:
        return
    op = ctx.case.op
    ups = {k: np.asarray(v, np.float64) for k, v in ctx.case.upstream.items()}
    axes = {k: _batch_axis(op, k, v.ndim) for k, v in ups.items()}
    if any(a is None for a in axes.values()):
        return
    sizes = {v.shape[cast(int, axes[k])] for k, v in ups.items()}
    failing = [k for k, e in ctx.expected.items() if not _close(ctx.got[k], e, ctx.tol)]
    shared = [k for k in failing if _batch_axis(op, k, ctx.expected[k].ndim) is None]
    if len(sizes) != 1 or not failing or shared != failing:
        return                            # (only parameter gradients can be one example's)
    (n,) = sizes
    for row, which in ((0, "the first"), (n - 1, "the last")):
        upstream = {}
        for k, v in ups.items():
            kept = np.zeros_like(v)
            index = [slice(None)] * v.ndim
            index[cast(int, axes[k])] = slice(row, row + 1)
            kept[tuple(index)] = v[tuple(index)]
            upstream[k] = kept
        values = ctx.evaluate(upstream=upstream)
        if values is not None and n > 1:
            names = ", ".join(ctx.prefix(k) for k in shared)
            yield (f"matches {names} of {which} example of the batch only (batch row {row} of "
                   f"{n}): a parameter's gradient sums the contributions of every example, "
                   f"Σ_n", {**ctx.expected, **{k: values[k] for k in shared}})


def _axis_names(ctx: Context, name: str, ndim: int) -> list[str]:
    """The contract's letters of an array's axes ("N", "C", "OH", ...), or axis numbers."""
    letters = axis_letters(ctx.case.op, name)
    if len(letters) == ndim and all(letter.isalpha() for letter in letters):
        return letters
    return [f"axis {i}" for i in range(ndim)]


def _relaid(ctx: Context, name: str) -> tuple[str, np.ndarray] | None:
    """The true array ``name`` in another layout that gives the backend's: transposed (to
    another shape, or reshaped back to its own), or flattened and read back in another axis
    order, then transposed to the contract's shape; None if no layout does."""
    e, got = ctx.expected[name], np.asarray(ctx.got[name], np.float64)
    if not 2 <= e.ndim <= 5 or e.size != got.size:
        return None
    letters = _axis_names(ctx, name, e.ndim)
    contract = f"[{', '.join(letters)}]"
    for order in itertools.permutations(range(e.ndim)):
        if order == tuple(range(e.ndim)):
            continue
        other = f"[{', '.join(letters[i] for i in order)}]"
        transposed = e.transpose(order)
        if transposed.shape == got.shape and _close(got, transposed, ctx.tol):
            return (f"{ctx.prefix(name)} is the right array with its axes in the order {other}, "
                    f"where the contract's is {contract} (a transpose too many or too few: "
                    f"another framework's layout?)", transposed)
        candidates = (
            (transposed.reshape(e.shape), f"laid out as {other} and read as {contract}: a "
                                          f"reshape where a transpose belongs"),
            (e.reshape(transposed.shape).transpose(np.argsort(order)),
             f"flattened in the contract's order {contract}, read back as {other} and "
             f"transposed to {contract}: a reshape (or view) in another axis order"))
        for values, how in candidates:
            if values.shape == got.shape and not _close(values, e, ctx.tol) and _close(
                    got, values, ctx.tol):
                return f"{ctx.prefix(name)} holds the right values, {how}", values
    return None


def _layout(ctx: Context) -> Iterator[Candidate]:
    """Every failing array the right values in another layout (a permutation of its axes)."""
    failing = [k for k in ctx.expected if not _close(ctx.got[k], ctx.expected[k], ctx.tol)]
    found = {k: _relaid(ctx, k) for k in failing}
    if not failing or any(v is None for v in found.values()):
        return
    texts = "; ".join(cast(tuple[str, np.ndarray], v)[0] for v in found.values())
    yield (f"matches the right values in another layout: {texts}",
           {**ctx.expected, **{k: cast(tuple[str, np.ndarray], v)[1] for k, v in found.items()}})


def _one_sided_padding(ctx: Context) -> Iterator[Candidate]:
    padding, stride = _pairs(ctx, "padding"), _pairs(ctx, "stride")
    if not any(padding):
        return
    kernel = ctx.case.inputs["w"].shape[2:]
    variants = [("none", 0), ("after", 2), ("before", 2), ("after", 1), ("before", 1)]
    for side, times in variants:
        pads = [(0, 0), (0, 0)] + [((p * times, 0) if side == "before" else (0, p * times))
                                   for p in padding]
        values = _self_padded(ctx, pads, kernel, stride)
        if values is None:
            continue
        what = {"after": f"padding on one side only ({times}·P zeros after the end of each "
                         f"axis, none before)",
                "before": f"padding on one side only ({times}·P zeros before the start of "
                          f"each axis, none after)",
                "none": "no padding at all (the padding is ignored)"}[side]
        pads = as_attribute(ctx.case.attrs["padding"], padding)
        yield (f"matches {what}: nnspec pads P = {pads} zeros on both sides of each axis",
               values)


def _padding_mode(ctx: Context) -> Iterator[Candidate]:
    """The border padded with copies of the edge (np.pad's mode='edge', torch's 'replicate')
    or with a reflection (mode='reflect') where zeros belong; the gradient by the chain rule
    (a padded element's gradient added back to the element it copies)."""
    padding = _pairs(ctx, "padding")
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    if not any(padding):
        return
    pads = [(0, 0), (0, 0)] + [(p, p) for p in padding]
    zero = as_attribute(ctx.case.attrs["padding"], (0,) * len(padding))
    modes: tuple[tuple[Literal["edge", "reflect"], str], ...] = (
        ("edge", "copies of the edge (np.pad mode='edge', 'replicate')"),
        ("reflect", "a reflection of the input (np.pad mode='reflect')"))
    for mode, what in modes:
        if mode == "reflect" and any(p >= n for p, n in zip(padding, x.shape[2:])):
            continue
        values = ctx.evaluate({**ctx.inputs, "x": np.pad(x, pads, mode=mode)},
                              {**ctx.attrs, "padding": zero})
        if values is None:  # pragma: no cover - the padded input fits as the case's did
            continue
        if ctx.check == "gradient":
            values = {**values, "x": _unpadded_gradient(values["x"], padding, mode)}
        yield (f"matches the border padded with {what} where zeros belong: nnspec pads P = "
               f"{as_attribute(ctx.case.attrs['padding'], padding)} zeros on both sides of each "
               f"axis", values)


def _unpadded_gradient(g: np.ndarray, padding: Sequence[int], mode: str) -> np.ndarray:
    """The gradient of a padded input taken back through np.pad's ``mode``: each padded
    element's gradient added to the element of x it copies, axis by axis."""
    for axis, p in enumerate(padding, start=2):
        n = g.shape[axis] - 2 * p
        i = np.arange(-p, n + p)
        source = (np.clip(i, 0, n - 1) if mode == "edge" else
                  np.where(i < 0, -i, np.where(i >= n, 2 * (n - 1) - i, i)))
        moved = np.moveaxis(g, axis, 0)
        out = np.zeros((n, *moved.shape[1:]))
        np.add.at(out, source, moved)
        g = np.moveaxis(out, 0, axis)
    return g


def _on_the_cases_grid(ctx: Context, inputs: Mapping[str, np.ndarray],
                       attrs: Mapping[str, Any]) -> Values | None:
    """The reference on changed inputs or attributes whose output has at least the case's
    positions: the forward cut to the case's grid (its top-left corner), the gradients for the
    case's dy placed there (0 elsewhere); None where the output is smaller along an axis or the
    reference refuses the geometry."""
    full = ctx.forward(inputs, attrs)
    y = np.shape((ctx.case.expected or {})["y"])
    if full is None or any(n < m for n, m in zip(full.shape[2:], y[2:])):
        return None
    grid = (slice(None), slice(None), *(slice(0, n) for n in y[2:]))
    if ctx.check == "forward":
        return {"y": full[grid]}
    dy = np.zeros(full.shape)
    dy[grid] = ctx.case.upstream["y"]
    return ctx.evaluate(inputs, attrs, upstream={"y": dy})


def _stride_one_gradients(ctx: Context) -> Values | None:
    """The gradients of the stride-1 convolution for dy placed in the corner of its output:
    window i's gradient at i instead of S·i (None where the case's stride is 1)."""
    stride = _pairs(ctx, "stride")
    if ctx.check != "gradient" or all(s == 1 for s in stride):
        return None
    ones = as_attribute(ctx.case.attrs["stride"], (1,) * len(stride))
    return _on_the_cases_grid(ctx, ctx.inputs, {**ctx.attrs, "stride": ones})


def _dx_stride_ignored(ctx: Context) -> Iterator[Candidate]:
    """A convolution's dx with each window's gradient placed at i instead of S·i (the stride
    ignored in dx only): the stride-1 convolution's dx, dy in the corner of its output."""
    values = _stride_one_gradients(ctx)
    if values is not None:
        shown = as_attribute(ctx.case.attrs["stride"], _pairs(ctx, "stride"))
        yield (f"matches dx with each window's gradient added at i instead of S·i (the stride "
               f"{shown} ignored in dx only): window i reads "
               f"x from S·i on, so its gradient goes back there", {**ctx.expected,
                                                                    "x": values["x"]})


def _offset_times_stride(ctx: Context) -> Iterator[Candidate]:
    """A convolution whose window i reads x[i + S·p] where x[S·i + p] belongs (the stride
    multiplying the kernel's offset instead of the window's index): the kernel spread S apart
    (a dilation), the windows 1 apart; the gradient of it by the chain rule."""
    stride = _pairs(ctx, "stride")
    if all(s == 1 for s in stride):
        return
    w = np.asarray(ctx.case.inputs["w"], np.float64)
    spread = np.zeros((*w.shape[:2], *((f - 1) * s + 1 for f, s in zip(w.shape[2:], stride))))
    taps = (slice(None), slice(None), *(slice(None, None, s) for s in stride))
    spread[taps] = w
    ones = as_attribute(ctx.case.attrs["stride"], (1,) * len(stride))
    values = _on_the_cases_grid(ctx, {**ctx.inputs, "w": spread}, {**ctx.attrs, "stride": ones})
    if values is not None and ctx.check == "gradient":  # (None: the backend reads past the
        values = {**values, "w": values["w"][taps]}     # end, and raises)
    if values is not None:
        shown = as_attribute(ctx.case.attrs["stride"], stride)
        yield (f"matches window i reading x[i + S·p] where x[S·i + p] belongs (the stride "
               f"{shown} multiplying the kernel's offset p, not the window's index i)", values)


def _dw_stride_ignored(ctx: Context) -> Iterator[Candidate]:
    """A convolution's dw read from the input at stride 1 (window i at i instead of S·i; dx
    and db right): the stride-1 convolution's dw, dy in the corner of its output."""
    values = _stride_one_gradients(ctx)
    if values is not None:
        shown = as_attribute(ctx.case.attrs["stride"], _pairs(ctx, "stride"))
        yield (f"matches dw read from the input at stride 1, window i at i instead of S·i (the "
               f"stride {shown} ignored in dw only): dw[p] = Σ_i dy_i x[S·i + p]",
               {**ctx.expected, "w": values["w"]})


def _dx_padding_kept(ctx: Context) -> Iterator[Candidate]:
    """A convolution's dx cut from the padded input's gradient at the wrong offset (0 or 2P
    instead of P): the padding's border not removed from both sides."""
    padding = _pairs(ctx, "padding")
    if ctx.check != "gradient" or not any(padding):
        return
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    pads = [(0, 0), (0, 0), *((p, p) for p in padding)]
    values = ctx.evaluate(inputs={**ctx.inputs, "x": np.pad(x, pads)},
                          attrs={**ctx.attrs, "padding": as_attribute(ctx.case.attrs["padding"],
                                                               (0,) * len(padding))})
    if values is None:  # pragma: no cover - the padded input fits as the padding did
        return
    for offset, how in ((0, "0 (the start of the padded input)"), (2, "2·P (its end)")):
        cut = (slice(None), slice(None), *(slice(offset * p, offset * p + n)
                                           for p, n in zip(padding, x.shape[2:])))
        yield (f"matches dx cut from the padded input's gradient at offset {how} instead of "
               f"P: dxp[..., P:P + H] removes the padding's border on both sides",
               {**ctx.expected, "x": values["x"][cut]})


def _fitting(shape: tuple[int, ...], kernel: Sequence[int],
             stride: Sequence[int]) -> tuple[slice, ...]:
    """The part of an input [N, C, ...] that windows of ``kernel`` moving by ``stride`` cover
    from the top-left: what a framework keeps of a geometry that does not fit (it crops)."""
    fits = [((n - f) // s) * s + f for n, f, s in zip(shape[2:], kernel, stride)]
    return (slice(None), slice(None), *(slice(0, n) for n in fits))


def _self_padded(ctx: Context, pads: list[tuple[int, int]], kernel: Sequence[int],
                 stride: Sequence[int], attrs: Mapping[str, Any] | None = None) -> Values | None:
    """The reference on x padded by ``pads`` by the backend itself and cropped to what the
    windows fit (None where a kernel is larger than that input); see _padded_values."""
    padded = np.pad(ctx.case.inputs["x"], pads)
    if any(n < f for n, f in zip(padded.shape[2:], kernel)):
        return None
    window = _fitting(padded.shape, kernel, stride)
    zero = as_attribute(ctx.case.attrs.get("padding", (0,) * len(kernel)), (0,) * len(kernel))
    return _padded_values(ctx, padded[window], zero, padded.shape, window, pads, attrs)


def _padded_values(ctx: Context, cropped: np.ndarray, zero: Any, shape: tuple[int, ...],
                   window: tuple[slice, ...], pads: list[tuple[int, int]],
                   attrs: Mapping[str, Any] | None = None) -> Values | None:
    """The reference on an input the backend padded itself (attribute padding 0, the other
    attributes the case's or ``attrs``); the input's gradient cut back to the unpadded x."""
    inputs = {**ctx.inputs, "x": cropped}
    attrs = {**(ctx.attrs if attrs is None else attrs), "padding": zero}
    if ctx.check == "forward":
        return ctx.evaluate(inputs, attrs)
    y = (ctx.case.expected or {})["y"]
    out = ctx.forward(inputs, attrs)
    if out is None or out.shape != np.shape(y):   # the backend's dy would not fit its output
        return None
    values = ctx.evaluate(inputs, attrs)
    if values is None:  # pragma: no cover - the forward above succeeded
        return None
    full = np.zeros(shape)
    full[window] = values["x"]
    unpad = (slice(None), slice(None), *(slice(b, n - a) for (b, a), n in
                                         zip(pads[2:], shape[2:])))
    return {**values, "x": full[unpad]}


def _stride_ignored(ctx: Context) -> Iterator[Candidate]:
    stride = _pairs(ctx, "stride")
    if any(s != 1 for s in stride):
        yield from _stride_one(ctx, stride)
    if len(stride) == 2 and stride[0] != stride[1]:
        yield from _one_stride_for_both(ctx, stride)
    if "kernel_size" in ctx.attrs and _pairs(ctx, "kernel_size") != stride:
        yield from _stride_is_window(ctx, _pairs(ctx, "kernel_size"), stride)


def _axes_swapped(ctx: Context) -> Iterator[Candidate]:
    """A pair (H, W) read the other way round, cropping what the swapped geometry does not fit
    (as torch does). The gradient only where that gives the expected output shape (else the
    case's upstream gradient does not fit the backend's output)."""
    x = ctx.case.inputs["x"]
    for name in ("stride", "padding", "kernel_size"):
        pair = _pairs(ctx, name) if name in ctx.attrs else ()
        if len(pair) != 2 or pair[0] == pair[1]:
            continue
        attrs = {**ctx.attrs, name: (pair[1], pair[0])}
        kernel = attrs.get("kernel_size", ctx.case.inputs.get("w", x).shape[2:])
        pads = [(0, 0), (0, 0), *((p, p) for p in attrs.get("padding", (0, 0)))]
        values = _self_padded(ctx, pads, kernel, attrs["stride"], attrs)
        if values is not None:
            yield (f"matches the {name} {pair} applied the other way round, as "
                   f"{(pair[1], pair[0])}: a pair is (H, W), its first number along the rows "
                   f"(axis 2 of NCHW), as in torch", values)


def _one_stride_for_both(ctx: Context, stride: tuple[int, ...]) -> Iterator[Candidate]:
    """One axis's stride used along both axes, (SH, SH) or (SW, SW), the output cropped or
    padded with the missing windows left out (forward only: another shape's upstream gradient
    does not fit)."""
    if ctx.check == "gradient":
        return
    shape = np.shape((ctx.case.expected or {})["y"])
    for axis, name in ((0, "SH"), (1, "SW")):
        both = (stride[axis], stride[axis])
        full = ctx.forward(attrs={**ctx.attrs, "stride": both})
        if full is None:  # pragma: no cover - both strides fit the input
            continue
        corner = (slice(None), slice(None), *(slice(0, n) for n in shape[2:]))
        text = (f"matches the stride {name} = {stride[axis]} used along both axes, {both} "
                f"instead of {tuple(stride)}: a pair is (SH, SW), one stride per axis")
        yield text, {"y": full}
        if np.shape(full[corner]) == shape:
            yield text, {"y": full[corner]}           # (an output cropped to the right size)


def _stride_one(ctx: Context, stride: tuple[int, ...]) -> Iterator[Candidate]:
    """Stride 1 instead of S: the whole stride-1 output, or its top-left corner."""
    ones = as_attribute(ctx.case.attrs["stride"], (1,) * len(stride))
    shape = np.shape((ctx.case.expected or {})["y"])
    full = ctx.forward(attrs={**ctx.attrs, "stride": ones})
    if full is None:  # pragma: no cover - stride 1 fits wherever a larger stride does
        return
    text = (f"matches stride 1 (the stride {as_attribute(ctx.case.attrs['stride'], stride)} is "
            f"ignored): each window must move S elements along each axis")
    corner = (slice(None), slice(None), *(slice(0, n) for n in shape[2:]))
    cropped = " (the output cropped to the right size)"
    if ctx.check == "forward":
        yield text, {"y": full}
        yield text + cropped, {"y": full[corner]}
        return
    dy = np.zeros(full.shape)
    dy[corner] = ctx.case.upstream["y"]
    values = ctx.evaluate(attrs={**ctx.attrs, "stride": ones}, upstream={"y": dy})
    if values is not None:
        yield text + cropped, values


def _stride_is_window(ctx: Context, kernel: tuple[int, ...],
                      stride: tuple[int, ...]) -> Iterator[Candidate]:
    """Pooling with stride = the window (torch's default), cropping what does not fit. Forward
    only: its output has another shape (or the same values), so no upstream gradient fits it."""
    if ctx.check == "gradient":
        return
    x = ctx.case.inputs["x"]
    window = _fitting(x.shape, kernel, kernel)
    values = ctx.evaluate({"x": x[window]}, {**ctx.attrs, "stride": tuple(kernel)})
    if values is not None:
        yield (f"matches stride = the window size {tuple(kernel)} (torch's default when the "
               f"stride is left out), not the stride {tuple(stride)} given", values)


def _lstm_states_swapped(ctx: Context) -> Iterator[Candidate]:
    """h0 and c0 exchanged on the way in."""
    i = ctx.case.inputs
    values = _gradient_of_permuted(ctx, {"h0": i["c0"], "c0": i["h0"]}, lambda k, v: v)
    if values is not None and ctx.check == "gradient":
        values = {**values, "h0": values["c0"], "c0": values["h0"]}
    if values is not None:
        yield ("matches h0 and c0 exchanged (the hidden state used as the cell state and the "
               "other way round): the contract's order is (x, h0, c0, ...)", values)


def _softmax_y_dy(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """A softmax gradient case's true output y and upstream dy (float64)."""
    return (np.asarray((ctx.case.expected or {})["y"], np.float64),
            np.asarray(ctx.case.upstream["y"], np.float64))


def _softmax_diagonal(ctx: Context) -> Iterator[Candidate]:
    """dx = dy ∘ y ∘ (1 − y): the softmax Jacobian's diagonal only."""
    if ctx.check != "gradient":
        return
    y, dy = _softmax_y_dy(ctx)
    yield ("matches the Jacobian's diagonal only, dx = dy ∘ y(1 − y): each y_k depends on every "
           "x_j, so dx = y ∘ (dy − Σ_k dy_k y_k)", {"x": dy * y * (1.0 - y)})


def _softmax_sum_unweighted(ctx: Context) -> Iterator[Candidate]:
    """dx = y ∘ (dy − Σ_k dy_k): the sum of the upstream gradient without its weights y_k."""
    if ctx.check != "gradient":
        return
    y, dy = _softmax_y_dy(ctx)
    yield ("matches dx = y ∘ (dy − Σ_k dy_k), the sum without its weights y_k: ∂y_k/∂x_j = "
           "y_k(δ_kj − y_j), so dx = y ∘ (dy − Σ_k dy_k y_k)",
           {"x": y * (dy - dy.sum(axis=-1, keepdims=True))})


def _softmax_rows_summed(ctx: Context) -> Iterator[Candidate]:
    """dx = y ∘ (dy − Σ dy ∘ y) with one sum over the whole array, not one per row."""
    if ctx.check != "gradient":
        return
    y, dy = _softmax_y_dy(ctx)
    if y.ndim < 2:
        return
    yield ("matches Σ dy ∘ y summed over the whole array, dx = y ∘ (dy − Σ_all dy ∘ y), not "
           "over each row's own k: dx = y ∘ (dy − Σ_k dy_k y_k), one sum per row",
           {"x": y * (dy - np.sum(dy * y))})
    yield ("matches Σ dy ∘ y summed over the first axis (the batch), dx = y ∘ (dy − Σ_n dy ∘ y), "
           "not over each row's own k: dx = y ∘ (dy − Σ_k dy_k y_k), one sum per row",
           {"x": y * (dy - np.sum(dy * y, axis=0, keepdims=True))})


def _wrong_quantity(ctx: Context) -> Iterator[Candidate]:
    """σ'(x) = σ(x)(1 − σ(x)) and tanh'(x) = 1 − tanh²(x) written with the wrong quantity in
    place of σ(x) or tanh(x): the input x, or the output fed through σ (tanh) once more; σ' with
    one of its two factors only; or tanh' as (1 − y)² (a misplaced bracket) or 1 − y."""
    if ctx.case.op == "rnn":
        yield from _rnn_wrong_derivative(ctx)
        return
    if ctx.check != "gradient":
        return
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    y = np.asarray((ctx.case.expected or {})["y"], np.float64)
    dy = np.asarray(ctx.case.upstream["y"], np.float64)
    if ctx.case.op == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-np.clip(y, -500, 500)))
        options = {"x(1 − x), the input where σ(x) belongs": x * (1 - x),
                   "σ(y)(1 − σ(y)), σ applied to the output once more": s * (1 - s),
                   "y alone, the factor 1 − y left out": y,
                   "1 − y alone, the factor y left out": 1 - y}
        right = "σ'(x) = y(1 − y) with y = σ(x)"
    else:
        options = {"1 − x², the input where tanh(x) belongs": 1 - x * x,
                   "1 − tanh²(y), tanh applied to the output once more": 1 - np.tanh(y) ** 2,
                   "(1 − y)², the square taken of 1 − y instead of y (a misplaced bracket)":
                       (1 - y) ** 2,
                   "1 − y, the square of y left out": 1 - y}
        right = "tanh'(x) = 1 − y² with y = tanh(x)"
    for text, slope in options.items():
        yield (f"matches the derivative written as {text}: {right}", {"x": dy * slope})


def _margin(ctx: Context) -> Iterator[Candidate]:
    """The max margin with another Δ. At that margin's own kink (Δ' + s_c − s = 0) any slope in
    [0, 1] is a subgradient: 0 (nnspec's), ½ (JAX's) and 1 (torch's clamp) are each tried."""
    delta = float(ctx.case.attrs["delta"])
    options = [(0.0, "dropped (Δ = 0)"), (1.0, "fixed at the lecture's 1, whatever Δ is given"),
               (2 * delta, f"doubled (2Δ = {2 * delta:g})")]  # (a Δ of 0.5 doubled is 1 too)
    for value, how in options:
        if value == delta:
            continue
        values = ctx.evaluate(attrs={**ctx.attrs, "delta": value})
        if values is None:  # pragma: no cover - any Δ is accepted
            continue
        text = (f"matches the margin {how}: J = max(0, Δ + s_c − s) with the Δ given "
                f"({delta:g})")
        if ctx.check == "forward":
            yield text, values
            continue
        i = ctx.case.inputs
        kink = value + np.asarray(i["s_c"], np.float64) - np.asarray(i["s"], np.float64) == 0
        dJ = np.asarray(ctx.case.upstream["J"], np.float64)
        for slope in ((0.0, 0.5, 1.0) if kink.any() else (0.0,)):
            yield text, {"s": np.where(kink, -slope * dJ, values["s"]),
                         "s_c": np.where(kink, slope * dJ, values["s_c"])}


def _margin_arguments_swapped(ctx: Context) -> Iterator[Candidate]:
    i = ctx.case.inputs
    values = _gradient_of_permuted(ctx, {"s": i["s_c"], "s_c": i["s"]}, lambda k, v: v)
    if values is not None and ctx.check == "gradient":
        values = {"s": values["s_c"], "s_c": values["s"]}
    if values is not None:
        yield ("matches s and s_c exchanged, J = max(0, Δ + s − s_c): the true window's score "
               "must beat the corrupt one's, J = max(0, Δ + s_c − s)", values)


LARGE = 20.0
"""An input beyond this in absolute value is large enough for an unstable formula to overflow
somewhere inside (exp of a sum of such numbers, a square of a product, ...)."""


def _unstable(ctx: Context) -> Iterator[Candidate]:
    """The textbook formulas without the max shift (log-sum-exp, a stable σ), in the run's
    dtype: exp overflows to inf beyond about 88 (float32) or 709 (float64), and inf/inf is nan;
    then, for any op, inf or nan only where the inputs are large and right values elsewhere
    (unless a formula gives those very numbers: the symptom is no second reading of them)."""
    formulas = list(_unstable_formulas(ctx))
    yield from formulas
    got = {k: np.asarray(ctx.got[k], np.float64) for k in ctx.expected}
    if any(got[k].shape != e.shape for k, e in ctx.expected.items()):
        return
    bad = {k: ~np.isfinite(g) & np.isfinite(ctx.expected[k]) for k, g in got.items()}
    if not any(b.any() for b in bad.values()):
        return
    large = {k: np.abs(np.asarray(v, np.float64)) > LARGE for k, v in ctx.case.inputs.items()
             if np.asarray(v).dtype.kind == "f"}
    if not any(m.any() for m in large.values()):
        return
    x = large.get("x")
    if ctx.case.op in ("step", "sigmoid", "tanh", "relu") and x is not None:
        if any(b.shape == x.shape and (b & ~x).any() for b in bad.values()):
            return                                # non-finite where x is not large
    biggest = max(float(np.max(np.abs(v))) for k, v in ctx.case.inputs.items() if k in large)
    where = ", ".join(f"{ctx.prefix(k)} at {int(b.sum())}" for k, b in bad.items() if b.any())
    values = {k: np.where(bad[k], got[k], e) for k, e in ctx.expected.items()}
    if any(all(_close(v, np.asarray(c[1][k], np.float64), ctx.tol) for k, v in values.items()
               if k in c[1]) for c in formulas):
        return
    yield (f"matches an unstable formula: inf or nan ({where} elements) on a case whose inputs "
           f"reach |{biggest:.3g}|, the right values elsewhere: an exp or a square overflows "
           f"({ctx.dtype.name} ends near {np.finfo(ctx.dtype).max:.1e}), or exps underflow to 0 "
           f"and 0/0 or log 0 follows; the contract promises finite results for any finite "
           f"input", values)


def _unstable_formulas(ctx: Context) -> Iterator[Candidate]:
    """The textbook formulas of sigmoid, tanh, softmax and cross-entropy, unshifted."""
    dt = ctx.dtype
    names = {"sigmoid": "x", "tanh": "x", "softmax": "x", "cross_entropy": "logits"}
    if ctx.case.op not in names:
        return
    x = np.asarray(ctx.case.inputs[names[ctx.case.op]], dt)
    if not np.any(np.abs(x) > np.log(np.finfo(dt).max) / 2):
        return
    up = {k: np.asarray(v, np.float64) for k, v in ctx.case.upstream.items()}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(x)
        if ctx.case.op == "sigmoid":
            y = (e / (1 + e)).astype(np.float64)
            values = {"y": y} if ctx.check == "forward" else {"x": up.get("y", 0) * y * (1 - y)}
            how = "σ(x) = eˣ / (1 + eˣ)"
        elif ctx.case.op == "tanh":
            y = ((e - 1 / e) / (e + 1 / e)).astype(np.float64)
            values = {"y": y} if ctx.check == "forward" else {"x": up.get("y", 0) * (1 - y * y)}
            how = "tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)"
        else:
            p = (e / e.sum(axis=-1, keepdims=True)).astype(np.float64)
            if ctx.case.op == "softmax":
                yield from _softmax_shifted_by_the_whole_max(ctx, x, up)
                values = _softmax_values(ctx, p, up)
            else:
                yield from _log_of_softmax(ctx, x, p, up)
                return
            how = SOFTMAX_UNSHIFTED
    yield (f"matches the unshifted formula {how}, whose exp overflows beyond x ≈ "
           f"{np.log(np.finfo(dt).max):.0f} in {dt.name}: the contract promises stable results "
           f"for any finite input", values)


SOFTMAX_UNSHIFTED = "softmax(x) = eˣ / Σ eˣ (no max x subtracted first)"


def _softmax_values(ctx: Context, p: np.ndarray, up: Mapping[str, np.ndarray]) -> Values:
    """What a softmax that computes p gives: p (forward), or its gradient for the case's
    upstream, dx = p ∘ (dy − Σ_k dy_k p_k) (the chain rule through p, whatever p is)."""
    if ctx.check == "forward":
        return {"y": p}
    dy = up.get("y", np.zeros_like(p))
    return {"x": p * (dy - np.sum(dy * p, axis=-1, keepdims=True))}


def _softmax_shifted_by_the_whole_max(ctx: Context, x: np.ndarray,
                                      up: Mapping[str, np.ndarray]) -> Iterator[Candidate]:
    """softmax(x − max x) with the largest value of the whole array, not of each row: a row
    that lies far below it has every exp underflow to 0, and 0/0 is nan."""
    with np.errstate(under="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(x - x.max())
        p = (e / e.sum(axis=-1, keepdims=True)).astype(np.float64)
    values = _softmax_values(ctx, p, up)
    yield (f"matches softmax shifted by the largest value of the whole array (x − max x) "
           f"instead of each row's own: in a row that lies more than about "
           f"{-np.log(np.finfo(ctx.dtype).smallest_subnormal):.0f} below it every exp "
           f"underflows to 0, and 0/0 is nan; the contract promises stable results for any "
           f"finite input", values)


def _log_of_softmax(ctx: Context, x: np.ndarray, unshifted: np.ndarray,
                    up: Mapping[str, np.ndarray]) -> Iterator[Candidate]:
    """Cross-entropy as −log of a softmax: shifted by the max (the target's probability
    underflows to 0, and its log is −inf) or not even shifted (exp overflows too); where both
    give the same numbers, _named names both."""
    t = np.asarray(ctx.case.inputs["targets"])
    n = len(t)
    onehot = np.eye(x.shape[1])[t]

    def values(p: np.ndarray) -> Values:
        if ctx.check == "forward":
            return {"loss": np.asarray(-np.mean(np.log(p[np.arange(n), t])))}
        return {"logits": up.get("loss", np.asarray(1.0)) * (p - onehot) / n}

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        shifted = values((e / e.sum(axis=-1, keepdims=True)).astype(np.float64))
        naive = values(unshifted)
    log_p = ("matches −log(p) of a softmax p computed first: the target's probability underflows "
             "to 0 and its log is −inf; log-sum-exp (log p_t = x_t − m − log Σ_j e^(x_j − m), "
             "m = max x) keeps it finite")
    overflow = (f"the unshifted formula {SOFTMAX_UNSHIFTED}, whose exp overflows beyond x ≈ "
                f"{np.log(np.finfo(ctx.dtype).max):.0f} in {ctx.dtype.name}")
    yield f"{log_p}: the contract promises stable results for any finite input", shifted
    yield (f"matches {overflow}: the contract promises stable results for any finite input",
           naive)


def _ce_parts(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """cross_entropy's softmax p (shifted, float64), log p, the targets and the upstream dloss."""
    x = np.asarray(ctx.case.inputs["logits"], np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    dloss = float(np.asarray(ctx.case.upstream.get("loss", 1.0)))
    return np.exp(log_p), log_p, np.asarray(ctx.case.inputs["targets"]), dloss


def _ce_target_block(ctx: Context) -> Iterator[Candidate]:
    """log p indexed as log_p[:, targets] (every row at every target, an N×N block) instead of
    log_p[arange(N), targets] (each row at its own): the mean of the block."""
    p, log_p, t, dloss = _ce_parts(ctx)
    n = len(t)
    if n < 2:
        return
    counts = np.zeros(p.shape[1])
    np.add.at(counts, t, 1.0)
    values = ({"loss": np.asarray(-np.mean(log_p[:, t]))} if ctx.check == "forward" else
              {"logits": dloss * (p - counts / n) / n})
    yield ("matches log p indexed as log_p[:, targets], the mean of an N×N block (every row at "
           "every target), instead of log_p[arange(N), targets] (each row at its own target)",
           values)



def _ce_one_based(ctx: Context) -> Iterator[Candidate]:
    """Targets read as 1-based class ids, t − 1 (class 0 wrapping to the last class)."""
    t = np.asarray(ctx.case.inputs["targets"])
    c = np.asarray(ctx.case.inputs["logits"]).shape[1]
    if c < 2:
        return
    values = ctx.evaluate(inputs={**ctx.inputs, "targets": (t - 1) % c})
    if values is not None:
        yield ("matches the targets read as 1-based class ids, t − 1 (class 0 wrapping to the "
               "last): nnspec's targets index the classes from 0", values)


def _ce_onehot_columns(ctx: Context) -> Iterator[Candidate]:
    """A cross-entropy backward that subtracts the one-hot as g[:, targets] −= 1, or not at
    all."""
    if ctx.check != "gradient":
        return
    p, _, t, dloss = _ce_parts(ctx)
    columns = np.isin(np.arange(p.shape[1]), t).astype(np.float64)
    yield ("matches the one-hot subtracted as g[:, targets] −= 1 (every row gets −1 in every "
           "target's column) instead of g[arange(N), targets] −= 1 (each row at its own target)",
           {"logits": dloss * (p - columns) / len(t)})
    yield ("matches dlogits = p/N, the one-hot never subtracted: the gradient of −log p_t is "
           "(p − onehot)/N", {"logits": dloss * p / len(t)})


def _ce_log_softmax_left_out(ctx: Context) -> Iterator[Candidate]:
    """Cross-entropy with part of log-softmax left out: the logits taken as log-probabilities
    (−z_t; its gradient −onehot/N, p's part of p − onehot left out), p_t without the log, the
    max shift taken out of the exponent but not added back (log p off by m, and a backward's
    p = e^(log p) off by e^m), or a backward giving ∂L/∂p (−onehot/(N·p_t)) where ∂L/∂z
    belongs (the softmax's Jacobian left out)."""
    p, log_p, t, dloss = _ce_parts(ctx)
    z = np.asarray(ctx.case.inputs["logits"], np.float64)
    n, rows = len(t), np.arange(len(t))
    onehot = np.eye(p.shape[1])[t]
    pt = p[rows, t][:, None]
    forward = ctx.check == "forward"
    yield ("matches the logits taken as log-probabilities, L = −mean z_t (log-softmax left out; "
           "its gradient −onehot/N, without p): cross-entropy is −mean log p_t with p = "
           "softmax(z), whose gradient is (p − onehot)/N",
           {"loss": np.asarray(-np.mean(z[rows, t]))} if forward else
           {"logits": -dloss * onehot / n})
    yield ("matches L = −mean p_t, the probability without its log: cross-entropy is −mean "
           "log p_t",
           {"loss": np.asarray(-np.mean(pt))} if forward else
           {"logits": -dloss * pt * (onehot - p) / n})
    m = z.max(axis=1, keepdims=True)
    yield ("matches log p = z − log Σ_j e^(z_j − m), the max m taken out of the sum's exponent "
           "but not added back (log p = z − m − log Σ_j e^(z_j − m)): every log p off by m"
           + ("" if forward else ", and p = e^(log p) off by the factor e^m"),
           {"loss": np.asarray(-np.mean(log_p[rows, t] + m[:, 0]))} if forward else
           {"logits": dloss * (np.exp(log_p + m) - onehot) / n})
    if not forward:
        with np.errstate(divide="ignore", invalid="ignore"):   # −∞ where p_t underflows
            d_p = np.where(onehot == 1, -dloss / (n * pt), 0.0)
        yield ("matches ∂L/∂p = −onehot/(N·p_t), the gradient with respect to the "
               "probabilities: the softmax's Jacobian left out (∂L/∂z = (p − onehot)/N)",
               {"logits": d_p}, ("graph.backprop",))


def _ce_log_epsilon(ctx: Context) -> Iterator[Candidate]:
    """−log(p_t + ε) for a small ε: every loss biased, and capped at −log ε."""
    p, _, t, dloss = _ce_parts(ctx)
    n, rows = len(t), np.arange(len(t))
    onehot = np.eye(p.shape[1])[t]
    if ctx.check == "forward":
        clipped = np.clip(p[rows, t], 1e-7, 1 - 1e-7)
        yield ("matches −log p_t with p clipped to [ε, 1 − ε], ε = 1e-07 (Keras's epsilon): "
               "every loss capped at −log ε ≈ 16.1 and none below −log(1 − ε); log-sum-exp "
               "(log p_t = x_t − m − log Σ e^(x_j − m)) needs no clip",
               {"loss": np.asarray(-np.mean(np.log(clipped)))})
    for eps in (1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15):
        pt = p[rows, t]
        values = ({"loss": np.asarray(-np.mean(np.log(pt + eps)))} if ctx.check == "forward"
                  else {"logits": dloss * (pt / (pt + eps))[:, None] * (p - onehot) / n})
        yield (f"matches −log(p_t + ε) with ε = {eps:g}: the ε biases every loss and caps it at "
               f"−log ε ≈ {-np.log(eps):.3g}; log-sum-exp (log p_t = x_t − m − log Σ e^(x_j − "
               f"m)) needs no ε", values)


def _bias_ignored(ctx: Context) -> Iterator[Candidate]:
    """The biases (all of them, or one of a recurrent op's two) never added, their gradient 0."""
    biases = [k for k in ("b", "b_ih", "b_hh") if k in ctx.case.inputs]
    for left in [biases] + ([[k] for k in biases] if len(biases) > 1 else []):
        changed = {k: np.zeros_like(ctx.case.inputs[k]) for k in left}
        values = ctx.evaluate(inputs={**ctx.inputs, **changed})
        if values is None:  # pragma: no cover - zeros fit wherever the bias did
            continue
        if ctx.check == "gradient":
            values = {**values, **{k: np.zeros_like(values[k]) for k in left}}
        yield (f"matches the bias left out ({', '.join(left)} never added, its gradient 0)",
               values)


def _bias_twice(ctx: Context) -> Iterator[Candidate]:
    """A bias added twice: b as 2b (db = 2 Σ dy); of a recurrent op's two, one added in the
    other's place (b_ih twice and b_hh never: db_ih = db_ih + db_hh, db_hh = 0)."""
    inputs = ctx.case.inputs
    biases = [k for k in ("b", "b_ih", "b_hh") if k in inputs]
    if biases == ["b"]:
        values = ctx.evaluate(inputs={**ctx.inputs, "b": 2 * np.asarray(inputs["b"])})
        if values is not None:
            if ctx.check == "gradient":
                values = {**values, "b": 2 * values["b"]}
            yield "matches the bias added twice (b as 2b, db = 2 Σ dy)", values
        return
    for twice, never in (("b_ih", "b_hh"), ("b_hh", "b_ih")):
        values = ctx.evaluate(inputs={**ctx.inputs, never: inputs[twice]})
        if values is None:  # pragma: no cover - the other bias has the same shape
            continue
        if ctx.check == "gradient":
            values = {**values, twice: values[twice] + values[never],
                      never: np.zeros_like(values[never])}
        yield (f"matches {twice} added twice and {never} never ({twice} where {never} belongs; "
               f"d{twice} the sum of both biases' gradients, d{never} 0)", values)


def _last_window_skipped(ctx: Context) -> Iterator[Candidate]:
    """The loop over an output axis one short (range(OH − 1)): the last output position along
    that axis (or along every axis) never computed, left 0; the gradient of it by the chain rule
    (the upstream gradient there unused), which a backward looping one short gives alone."""
    y = np.asarray((ctx.case.expected or {})["y"], np.float64)
    axes = list(range(2, y.ndim))
    letters = axis_letters(ctx.case.op, "y")
    for chosen in [axes] + ([[a] for a in axes] if len(axes) > 1 else []):
        last = np.zeros(y.shape, dtype=bool)   # (of one position: the whole axis, range(0))
        for a in chosen:
            index: list[Any] = [slice(None)] * y.ndim
            index[a] = -1
            last[tuple(index)] = True
        if ctx.check == "forward":
            values: Values | None = {"y": np.where(last, 0.0, y)}
        else:
            dy = np.asarray(ctx.case.upstream["y"], np.float64)
            values = ctx.evaluate(upstream={"y": np.where(last, 0.0, dy)})
        if values is not None:
            where = " and ".join(letters[a] for a in chosen)
            loops = ", ".join(f"range({letters[a]} − 1)" for a in chosen)
            yield (f"matches the loop over the output's {where} one short ({loops}): the last "
                   f"output position along {where} never computed, left 0", values)


def _window_one_short(ctx: Context) -> Iterator[Candidate]:
    """The loop over a window's (or a kernel's) offsets one short along an axis (range(F − 1)):
    its last row or column left out. A kernel's last tap is then never used (its gradient 0); a
    pool reduces the smaller window (an average divided by its own size, or by FH·FW); the
    gradient of either by the chain rule."""
    op = ctx.case.op
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    axes = list(range(2, x.ndim))
    letters = axis_letters(op, "w" if op in ("conv2d", "conv1d") else "x")
    for axis in axes:
        if op in ("conv2d", "conv1d"):
            w = np.asarray(ctx.case.inputs["w"], np.float64)
            mask = np.ones(w.shape)          # (of one tap: the kernel never used, y = b)
            mask[(slice(None),) * axis + (-1,)] = 0.0
            values = ctx.evaluate(inputs={**ctx.inputs, "w": w * mask})
            if values is not None and ctx.check == "gradient":
                values = {**values, "w": values["w"] * mask}
            what = f"the kernel's last tap along {letters[axis]} never used"
        else:
            values = _smaller_window(ctx, axis - 2)
            what = f"each window's last {'row' if axis == 2 else 'column'} left out"
        if values is not None:
            f = letters[axis] if op in ("conv2d", "conv1d") else ("FH", "FW")[axis - 2]
            yield (f"matches the loop over the window's offsets one short along {f} "
                   f"(range({f} − 1)): {what}", values)


def _smaller_window(ctx: Context, axis: int) -> Values | None:
    """A pooling case computed with its window one shorter along ``axis`` (0: FH, 1: FW), the
    stride unchanged, on the input cut to what those windows fit, the output cut back to the
    case's grid (the gradient: dy in that grid's corner, dx back in x's shape)."""
    kernel = list(_pairs(ctx, "kernel_size"))
    if kernel[axis] == 1:                # an empty window: 0 out (a sum of nothing), 0 back
        if ctx.case.op == "max_pool2d":  # (the maximum of nothing is no number)
            return None
        return {k: np.zeros(v.shape) for k, v in ctx.expected.items()}
    kernel[axis] -= 1
    stride = _pairs(ctx, "stride")
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    window = _fitting(x.shape, kernel, stride)
    attrs = {**ctx.attrs, "kernel_size": as_attribute(ctx.case.attrs["kernel_size"],
                                                      tuple(kernel))}
    values = _on_the_cases_grid(ctx, {**ctx.inputs, "x": x[window]}, attrs)
    if values is None or ctx.check == "forward":
        return values
    dx = np.zeros(x.shape)
    dx[window] = values["x"]
    return {"x": dx}


def _running_sum(ctx: Context) -> Iterator[Candidate]:
    """An accumulator set to zero (or to b) once, before the loop over the batch's rows
    (linear) or over a row's windows (conv1d, conv2d in row-major order), and never reset:
    each output the running sum of its own and the earlier ones' products, b once (or b added
    at every step); the gradient of the first by the chain rule (each dy reaches every earlier
    product: a reversed running sum of dy; db unchanged)."""
    inputs = ctx.case.inputs
    b = np.asarray(inputs["b"], np.float64)
    y = ctx.forward()
    if y is None:  # pragma: no cover - the case's own inputs
        return
    op = ctx.case.op
    where = "the batch's rows" if op == "linear" else "the windows of each row"
    if (y.shape[0] if op == "linear" else int(np.prod(y.shape[2:]))) < 2:
        return                              # a loop of one step: nothing carried over

    def run(a: np.ndarray) -> np.ndarray:       # the running sum along the loop, in y's shape
        if op == "linear":
            return np.cumsum(a, axis=0)
        n, k = a.shape[:2]
        return np.cumsum(a.reshape(n, k, -1), axis=-1).reshape(a.shape)

    bias = b if op == "linear" else b.reshape(-1, *([1] * (y.ndim - 2)))
    text = (f"matches an accumulator not reset between {where} (set once before the loop): "
            f"each output the running sum of its own and the earlier ones")
    if ctx.check == "forward":
        name = next(iter(ctx.expected))
        yield f"{text}, b once", {name: run(y - bias) + bias}
        yield f"{text}, b added at every step", {name: run(y)}
        return
    (name, dy), = ((k, np.asarray(v, np.float64)) for k, v in ctx.case.upstream.items())
    flip = (lambda a: a[::-1]) if op == "linear" else _reversed_windows
    values = ctx.evaluate(upstream={name: flip(run(flip(dy)))})   # (a reversed running sum)
    if values is not None:
        yield f"{text}, b once", {**values, "b": ctx.expected["b"]}


def _reversed_windows(a: np.ndarray) -> np.ndarray:
    """``a`` [N, K, ...] with each row's windows (its trailing axes, row-major) in reverse."""
    n, k = a.shape[:2]
    return a.reshape(n, k, -1)[:, :, ::-1].reshape(a.shape)


def _output_size(ctx: Context) -> Iterator[Candidate]:
    """An output one element longer (a window hanging over the end: zeros for conv and the
    sums, less than any element for the max) or one shorter, along every spatial axis or one."""
    if ctx.check != "forward":
        return
    x = ctx.case.inputs["x"]
    y = np.asarray((ctx.case.expected or {})["y"], np.float64)
    axes = list(range(2, x.ndim))
    stride = _pairs(ctx, "stride")
    fill = float(np.min(x)) - 1.0 if ctx.case.op == "max_pool2d" else 0.0
    choices = [axes] + ([[a] for a in axes] if len(axes) > 1 else [])
    for chosen in choices:
        pads = [(0, 0)] * x.ndim
        for a in chosen:
            pads[a] = (0, stride[a - 2])
        over = ctx.evaluate(inputs={**ctx.inputs, "x": np.pad(x, pads, constant_values=fill)})
        where = "every spatial axis" if chosen == axes else f"axis {chosen[0]}"
        if over is not None:
            yield (f"matches an output one element too long along {where} (a last window "
                   f"hanging over the end): the output size is ⌊(n + 2P − F)/S⌋ + 1", over)
        short = tuple(slice(None, -1) if a in chosen else slice(None) for a in range(y.ndim))
        yield (f"matches an output one element too short along {where} (the last window "
               f"left out): the output size is ⌊(n + 2P − F)/S⌋ + 1", {"y": y[short]})


def _pre_activations(i: Mapping[str, np.ndarray], h_prev: np.ndarray, t: int,
                     blocks: int) -> list[np.ndarray]:
    """The stacked gates' pre-activations at step t, block by block (the LSTM's i, f, g, o;
    the GRU's r, z with the input part of n)."""
    z = (np.asarray(i["x"][t], np.float64) @ np.asarray(i["w_ih"], np.float64).T + i["b_ih"]
         + h_prev @ np.asarray(i["w_hh"], np.float64).T + i["b_hh"])
    h = z.shape[1] // blocks
    return [z[:, b * h:(b + 1) * h] for b in range(blocks)]


def _truncated(ctx: Context, carry_h: bool, carry_c: bool, first: bool = True,
               variant: str | None = None) -> Values:
    """The gradients of a recurrent backward that does not pass ∂L/∂h_t (``carry_h`` False)
    and/or ∂L/∂c_t (``carry_c`` False) back to step t − 1: step by step from the last, each
    step's gradient by the reference on that one step from its true states, with only what is
    carried passed on; ``first`` False: nor from the first step to h0 (c0). ``variant``
    "unscaled": the LSTM's ∂L/∂c passed back without × f; "no direct path": the GRU's ∂L/∂h
    passed back without its direct term z ∘ ∂L/∂h_t."""
    op, i = ctx.case.op, ctx.case.inputs
    lstm = op == "lstm"
    x, up = i["x"], ctx.case.upstream
    weights = {k: v for k, v in i.items() if k.startswith(("w_", "b_"))}
    out = ctx.reference.outputs(op, i, ctx.case.attrs)["out"]
    T = x.shape[0]
    h_prev = [i["h0"], *out[:-1]]
    c_prev = ([i["c0"]] + [ctx.reference.outputs(op, {**i, "x": x[:t]}, ctx.case.attrs)["c_n"]
                           for t in range(1, T)]) if lstm else []
    grads = {k: np.zeros(np.shape(v)) for k, v in i.items()}
    dh = np.asarray(up["h_n"], np.float64)
    dc = np.asarray(up["c_n"], np.float64) if lstm else np.zeros(0)
    for t in reversed(range(T)):
        states = {"h0": h_prev[t], **({"c0": c_prev[t]} if lstm else {})}
        ups = {"out": up["out"][t:t + 1], "h_n": dh, **({"c_n": dc} if lstm else {})}
        step = ctx.reference.call_gradient(op, {"x": x[t:t + 1], **states, **weights},
                                           ctx.case.attrs, ups)
        grads["x"][t] = step["x"][0]
        for k in weights:
            grads[k] += step[k]
        keep = t == 0 and first
        incoming = dh + np.asarray(up["out"][t], np.float64)
        dh = step["h0"] if carry_h or keep else np.zeros_like(dh)
        if variant == "no direct path":
            z = _sigmoid(_pre_activations(i, np.asarray(h_prev[t], np.float64), t, 3)[1])
            dh = dh - z * incoming
        if lstm:
            dc = step["c0"] if carry_c or keep else np.zeros_like(step["c0"])
            if variant == "unscaled":             # ∂L/∂c_t itself, not f_t ∘ ∂L/∂c_t
                a_i, a_f, a_g, a_o = _pre_activations(i, np.asarray(h_prev[t], np.float64), t, 4)
                c_t = (_sigmoid(a_f) * np.asarray(c_prev[t], np.float64)
                       + _sigmoid(a_i) * np.tanh(a_g))
                dc = np.asarray(ups["c_n"], np.float64) + incoming * _sigmoid(a_o) * (
                    1 - np.tanh(c_t) ** 2)
    grads["h0"] = dh
    if lstm:
        grads["c0"] = dc
    return grads


def _through_time(ctx: Context) -> Iterator[Candidate]:
    """Backpropagation that stops at each step: ∂L/∂h_t not passed to step t − 1 (LSTM: nor
    ∂L/∂c_t)."""
    if ctx.check != "gradient":
        return
    lstm = ctx.case.op == "lstm"
    for first in (True, False):
        start = "" if first else " (nor to h0 from the first step)"
        yield ("matches a backward that does not pass ∂L/∂h_t back to step t − 1"
               + (" (nor ∂L/∂c_t)" if lstm else "") + start + ": backpropagation through time "
               "carries each step's gradient to the step before",
               _truncated(ctx, False, False, first))
        if lstm:
            yield ("matches a backward that passes ∂L/∂c_t but not ∂L/∂h_t back to step t − 1"
                   + start + ": h_{t−1} feeds every gate of step t",
                   _truncated(ctx, False, True, first))


def _cell_path(ctx: Context) -> Iterator[Candidate]:
    """The LSTM's cell path c_t = f ∘ c_{t−1} + ... left out of the backward."""
    if ctx.check != "gradient":
        return
    for first in (True, False):
        yield ("matches a backward without the cell path (∂L/∂c_t not passed to c_{t−1} through "
               "f ∘ c_{t−1}" + ("" if first else ", nor to c0") + "): the cell state carries the "
               "gradient back, which is what lets an LSTM learn long ranges",
               _truncated(ctx, True, False, first))
    yield ("matches ∂L/∂c_t passed back to c_{t−1} without × f (∂c_t/∂c_{t−1} = f_t, the "
           "forget gate)", _truncated(ctx, True, True, variant="unscaled"))


def _gru_direct_path(ctx: Context) -> Iterator[Candidate]:
    """The GRU's direct path h_t = … + z ∘ h_{t−1} left out of the backward to h_{t−1}."""
    if ctx.check != "gradient":
        return
    yield ("matches ∂L/∂h_{t−1} without its direct term z ∘ ∂L/∂h_t (h_t = (1 − z) ∘ n + "
           "z ∘ h_{t−1} passes z ∘ ∂L/∂h_t straight back, besides the paths through r, z and n)",
           _truncated(ctx, True, False, variant="no direct path"))


def _recurrence(ctx: Context, cell: Callable[[np.ndarray, np.ndarray, np.ndarray],
                                             tuple[np.ndarray, np.ndarray]]) -> Values:
    """Outputs of a recurrence whose step is ``cell(a, h, c) -> (h, c)`` on the stacked
    pre-activations a = w_ih x_t + b_ih + w_hh h + b_hh (GRU: see _gru_cells)."""
    i = {k: np.asarray(v, np.float64) for k, v in ctx.case.inputs.items()}
    h, c = i["h0"], i.get("c0", i["h0"])
    outs = []
    for x_t in i["x"]:
        h, c = cell(x_t @ i["w_ih"].T + i["b_ih"], h, c)
        outs.append(h)
    values = {"out": np.stack(outs), "h_n": h}
    return {**values, "c_n": c} if ctx.case.op == "lstm" else values


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))          # σ without overflow


def _gate_nonlinearity(ctx: Context) -> Iterator[Candidate]:
    """A gate's σ and tanh exchanged (each gate alone, or all of i, f, o), or h_t = o ∘ c_t
    without the tanh (forward only: the consistency verdict says whether the backward follows
    it)."""
    if ctx.check == "gradient" or ctx.case.op not in ("lstm", "gru"):
        return
    h = ctx.case.inputs["h0"].shape[1]
    w_hh, b_hh = (np.asarray(ctx.case.inputs[k], np.float64) for k in ("w_hh", "b_hh"))
    swap = {_sigmoid: np.tanh, np.tanh: _sigmoid}
    if ctx.case.op == "lstm":
        right: dict[str, Any] = {"i": _sigmoid, "f": _sigmoid, "g": np.tanh, "o": _sigmoid}
        variants = {f"{g} with {'tanh' if act is _sigmoid else 'σ'} instead of "
                    f"{'σ' if act is _sigmoid else 'tanh'}": ({**right, g: swap[act]}, True)
                    for g, act in right.items()}
        variants["i, f and o with tanh instead of σ"] = ({**right, "i": np.tanh,
                                                          "f": np.tanh, "o": np.tanh}, True)
        variants["h_t = o ∘ c_t, without the tanh"] = (right, False)
        for what, (acts, squash) in variants.items():
            def cell(a: np.ndarray, hp: np.ndarray, cp: np.ndarray, acts: Any = acts,
                     squash: bool = squash) -> tuple[np.ndarray, np.ndarray]:
                z = a + hp @ w_hh.T + b_hh
                i_, f, g, o = (z[:, k * h:(k + 1) * h] for k in range(4))
                c = acts["f"](f) * cp + acts["i"](i_) * acts["g"](g)
                return acts["o"](o) * (np.tanh(c) if squash else c), c
            yield (f"matches the LSTM with {what}: i, f, o = σ(·), g = tanh(·), "
                   f"h_t = o ∘ tanh(c_t)", _recurrence(ctx, cell))
        return
    right = {"r": _sigmoid, "z": _sigmoid, "n": np.tanh}
    for gate, act in right.items():
        acts = {**right, gate: swap[act]}

        def gru_cell(a: np.ndarray, hp: np.ndarray, cp: np.ndarray, acts: Any = acts
                     ) -> tuple[np.ndarray, np.ndarray]:
            b = hp @ w_hh.T + b_hh
            r = acts["r"](a[:, :h] + b[:, :h])
            z = acts["z"](a[:, h:2 * h] + b[:, h:2 * h])
            n = acts["n"](a[:, 2 * h:] + r * b[:, 2 * h:])
            new = (1 - z) * n + z * hp
            return new, new
        yield (f"matches the GRU with {gate} = {'tanh' if act is _sigmoid else 'σ'}(·) instead "
               f"of {'σ' if act is _sigmoid else 'tanh'}(·): r, z = σ(·), n = tanh(·)",
               _recurrence(ctx, gru_cell))


def _cell_variants(ctx: Context) -> Iterator[Candidate]:
    """Recurrent cells written another way (forward only, as _gate_nonlinearity): the RNN's
    tanh replaced (relu, σ, none), the LSTM's forget gate with +1 in its pre-activation (Keras's
    unit_forget_bias is an initial bias, not a term of the step), the GRU's b_hn outside the
    reset gate; and h_n taken from the first step, or the state entering the last step, instead
    of the state the last step leaves."""
    if ctx.check == "gradient":
        return
    op, h = ctx.case.op, ctx.case.inputs["h0"].shape[1]
    w_hh, b_hh = (np.asarray(ctx.case.inputs[k], np.float64) for k in ("w_hh", "b_hh"))
    expected = ctx.expected
    yield ("matches h_n taken from the first step (out[0]) instead of the last (out[T − 1]): "
           "h_n is the state after the whole sequence",
           {**expected, "h_n": expected["out"][0]})
    before_last = (expected["out"][-2] if len(expected["out"]) > 1 else
                   np.asarray(ctx.case.inputs["h0"], np.float64))
    yield ("matches h_n taken from the state entering the last step (out[T − 2], h0 when T = 1) "
           "instead of the one it leaves (out[T − 1]): h_n is the state after the whole sequence",
           {**expected, "h_n": before_last})
    if op == "rnn":
        for name, act in (("relu", lambda a: np.maximum(a, 0.0)), ("σ", _sigmoid),
                          ("no nonlinearity", lambda a: a)):
            def rnn_cell(a: np.ndarray, hp: np.ndarray, cp: np.ndarray, act: Any = act
                         ) -> tuple[np.ndarray, np.ndarray]:
                new = act(a + hp @ w_hh.T + b_hh)
                return new, new
            yield (f"matches the RNN cell with {name} instead of tanh: h_t = tanh(w_ih x_t + "
                   f"b_ih + w_hh h_(t−1) + b_hh)", _recurrence(ctx, rnn_cell))
    elif op == "lstm":
        def lstm_cell(a: np.ndarray, hp: np.ndarray, cp: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
            z = a + hp @ w_hh.T + b_hh
            i_, f, g, o = (z[:, k * h:(k + 1) * h] for k in range(4))
            c = _sigmoid(f + 1.0) * cp + _sigmoid(i_) * np.tanh(g)
            return _sigmoid(o) * np.tanh(c), c
        yield ("matches the LSTM with 1 added to the forget gate's pre-activation, f = σ(… + 1): "
               "the contract's step has only the given biases (a forget bias of 1, as Keras's "
               "unit_forget_bias, belongs in b_ih or b_hh)", _recurrence(ctx, lstm_cell))
    elif op == "gru":
        def gru_cell(a: np.ndarray, hp: np.ndarray, cp: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
            b = hp @ w_hh.T
            r = _sigmoid(a[:, :h] + b[:, :h] + b_hh[:h])
            z = _sigmoid(a[:, h:2 * h] + b[:, h:2 * h] + b_hh[h:2 * h])
            n = np.tanh(a[:, 2 * h:] + r * b[:, 2 * h:] + b_hh[2 * h:])
            new = (1 - z) * n + z * hp
            return new, new
        yield ("matches the GRU with b_hn outside the reset gate, n = tanh(W_in x + b_in + r ∘ "
               "(W_hn h) + b_hn): nnspec, like PyTorch, computes n = tanh(W_in x + b_in + r ∘ "
               "(W_hn h + b_hn))", _recurrence(ctx, gru_cell))


def _state_handling(ctx: Context) -> Iterator[Candidate]:
    """A recurrence that handles its state or time another way (forward; its gradient follows
    it): the initial state h0 (or c0) replaced by zeros; the sequence run backwards; the loop
    over time one step short at its end or its start; every step started from the initial
    state; out holding the state before each step."""
    if ctx.check == "gradient":
        return
    i = {k: np.asarray(v, np.float64) for k, v in ctx.case.inputs.items()}
    outs = [o.name for o in op_spec(ctx.case.op).outputs]            # out, h_n (, c_n)
    states = ["h0", "c0"] if "c0" in i else ["h0"]
    for zeroed in [*([k] for k in states), *([states] if len(states) > 1 else [])]:
        values = ctx.forward_all({**i, **{k: np.zeros_like(i[k]) for k in zeroed}})
        if values is not None:
            yield (f"matches {' and '.join(zeroed)} ignored (the recurrence started from zeros): "
                   f"the first step reads the initial state it is given", values)
    backwards = ctx.forward_all({**i, "x": i["x"][::-1]})
    if backwards is not None:
        yield ("matches the sequence run backwards (from x_(T−1) to x_0; out in the order of its "
               "steps): the recurrence reads x_0 first", backwards)
        yield ("matches the sequence run backwards (from x_(T−1) to x_0; out reversed back, out[t] "
               "the state after x_(T−1) … x_t): the recurrence reads x_0 first",
               {**backwards, "out": backwards["out"][::-1]})
    zero = np.zeros((1, *i["h0"].shape))
    # T − 1 steps: with T = 1 none, the final states the initial ones
    short = (ctx.forward_all({**i, "x": i["x"][:-1]}) if len(i["x"]) > 1 else
             {"out": zero[:0], "h_n": i["h0"], **({"c_n": i["c0"]} if "c0" in i else {})})
    if short is not None:
        yield ("matches the loop over time one step short (range(T − 1)): the last step never "
               "computed (out[T − 1] left 0, the final state the one after T − 1 steps); the "
               "recurrence runs t = 0 … T − 1",
               {**short, "out": np.concatenate([short["out"], zero])})
    late = ctx.forward_all({**i, "x": i["x"][1:]}) if len(i["x"]) > 1 else None
    if late is not None:
        yield ("matches the loop over time from t = 1 (range(1, T)): x_0 never read (out[0] "
               "left 0, the recurrence starting from the initial state at x_1); the recurrence "
               "runs t = 0 … T − 1", {**late, "out": np.concatenate([zero, late["out"]])})
    steps = [ctx.forward_all({**i, "x": i["x"][t:t + 1]}) for t in range(len(i["x"]))]
    if len(steps) > 1 and all(v is not None for v in steps):
        every = {name: (np.concatenate([cast(Values, v)[name] for v in steps]) if name == "out"
                        else cast(Values, steps[-1])[name]) for name in outs}
        yield ("matches every step started from the initial state (h0 read at each step instead "
               "of the previous step's state): h_t = cell(x_t, h_(t−1))", every)
    expected = ctx.expected
    if "out" in expected:
        shifted = np.concatenate([i["h0"][None], expected["out"][:-1]])
        yield ("matches out holding the state before each step ([h0, h_0, …, h_(T−2)]: appended "
               "before the update), one step behind: out[t] is h_t, the state after step t",
               {**expected, "out": shifted})


def _rnn_wrong_derivative(ctx: Context) -> Iterator[Candidate]:
    """An RNN's BPTT with tanh' = 1 − s² taken of the wrong quantity: the pre-activation a_t
    (1 − a_t²), or the state of the step before (1 − s_{t−1}², a stale variable)."""
    if ctx.check != "gradient":
        return
    i = {k: np.asarray(v, np.float64) for k, v in ctx.case.inputs.items()}
    x, w_ih, w_hh = i["x"], i["w_ih"], i["w_hh"]
    out = np.asarray(ctx.reference.outputs("rnn", ctx.case.inputs, ctx.case.attrs)["out"],
                     np.float64)
    prev = np.concatenate([i["h0"][None], out[:-1]])                  # s_{t−1}, t = 0..T−1
    pre = x @ w_ih.T + i["b_ih"] + prev @ w_hh.T + i["b_hh"]          # a_t
    d_out = np.asarray(ctx.case.upstream["out"], np.float64)
    d_h_n = np.asarray(ctx.case.upstream["h_n"], np.float64)
    for slope, what in ((1 - pre ** 2, "1 − a_t², the pre-activation where the state belongs"),
                        (1 - prev ** 2, "1 − s_{t−1}², the state of the step before")):
        grads = {k: np.zeros_like(v) for k, v in i.items()}
        carry = d_h_n
        for t in reversed(range(x.shape[0])):
            da = (d_out[t] + carry) * slope[t]
            grads["x"][t] = da @ w_ih
            grads["w_ih"] += da.T @ x[t]
            grads["w_hh"] += da.T @ prev[t]
            grads["b_ih"] += da.sum(axis=0)
            grads["b_hh"] += da.sum(axis=0)
            carry = da @ w_hh
        grads["h0"] = carry
        yield (f"matches tanh' written as {what}: backpropagation through s_t = tanh(a_t) "
               f"multiplies by 1 − s_t², the step's own output", grads)


def _rnn_dw_hh_state(ctx: Context) -> Iterator[Candidate]:
    """An RNN's dw_hh = Σ_t da_t s_{t−1}ᵀ taken with the wrong state: the step's own s_t, or
    s_{t−1} read as out[t − 1], which at t = 0 is out[−1], the last state, where h0 belongs;
    every other gradient right."""
    if ctx.check != "gradient" or "w_hh" not in ctx.expected:
        return
    i = {k: np.asarray(v, np.float64) for k, v in ctx.case.inputs.items()}
    out = np.asarray(ctx.reference.outputs("rnn", ctx.case.inputs, ctx.case.attrs)["out"],
                     np.float64)
    d_out = np.asarray(ctx.case.upstream["out"], np.float64)
    carry = np.asarray(ctx.case.upstream["h_n"], np.float64)
    da = np.zeros_like(out)
    for t in reversed(range(out.shape[0])):
        da[t] = (d_out[t] + carry) * (1 - out[t] ** 2)
        carry = da[t] @ i["w_hh"]
    prev = np.concatenate([i["h0"][None], out[:-1]])
    for states, what in ((out, "the step's own state, Σ_t da_t s_tᵀ, where Σ_t da_t s_(t−1)ᵀ "
                               "belongs"),
                         (np.concatenate([out[-1:], out[:-1]]),
                          "out[t − 1] as s_(t−1), which at t = 0 is out[−1], the last state, "
                          "where h0 belongs")):
        if np.allclose(states, prev):
            continue
        yield (f"matches dw_hh accumulated with {what}; every other gradient right",
               {**ctx.expected, "w_hh": np.einsum("tnh,tnk->hk", da, states)})


def _wrong_argument(ctx: Context) -> Iterator[Candidate]:
    names = list(ctx.expected)
    failing = [k for k in names if not _close(ctx.got[k], ctx.expected[k], ctx.tol)]
    swaps: dict[str, str] = {}
    for k in failing:
        other = next((o for o in names if o != k and _close(ctx.got[k], ctx.expected[o], ctx.tol)),
                     None)
        if other is None:
            return
        swaps[k] = other
    if not swaps:
        return
    values = {**ctx.expected, **{k: ctx.expected[o] for k, o in swaps.items()}}
    if any(o not in failing for o in swaps.values()):   # the one it holds is right: a copy
        yield from _copies(ctx, swaps, values)
        return
    held = ", ".join(f"{ctx.prefix(k)} holds ∂/∂{o}" if ctx.check == "gradient" else
                     f"{k} holds {o}" for k, o in swaps.items())
    if ctx.check == "gradient":
        order = ", ".join(ctx.prefix(k) for k in names)
        yield (f"matches the gradient of the wrong argument ({held}): the backward returns "
               f"the gradients in the order of the forward's arguments ({order})", values)
    else:
        yield (f"matches the outputs in the wrong order ({held}): the contract's order is "
               f"({', '.join(names)})", values)


def _copies(ctx: Context, same: Mapping[str, str], values: Values) -> Iterator[Candidate]:
    """Arrays returned equal to another one that is right: not an order (the other would be
    wrong too), one value returned for both; a GRU's db_hh equal to db_ih is the RNN's and the
    LSTM's rule, where both biases sit in the same sum, but not the GRU's."""
    if ctx.case.op == "gru" and ctx.check == "gradient" and dict(same) == {"b_hh": "b_ih"}:
        yield ("matches db_hh returned equal to db_ih, as in an RNN or LSTM where both biases sit "
               "in one sum; a GRU's b_hn sits inside the reset gate, r ∘ (W_hn h + b_hn), so "
               "its block of db_hh is Σ r ∘ ∂L/∂(n's pre-activation): the factor r is missing",
               values)
        return
    held = ", ".join(f"{ctx.prefix(k)} equals {ctx.prefix(o)}" for k, o in same.items())
    yield (f"matches one array returned for two ({held}, which is right): the value of one "
           f"computed once and returned in both places, or the other's formula copied", values)


def _rounded(ctx: Context) -> Iterator[Candidate]:
    """The true values rounded to whole numbers (floor, nearest, towards 0): integer division
    (//), an int dtype or an int() on the way."""
    got = {k: np.asarray(v, np.float64) for k, v in ctx.got.items()}
    if any(got[k].shape != e.shape or not np.all(np.isfinite(got[k])) or
           np.any(got[k] != np.round(got[k])) for k, e in ctx.expected.items()):
        return                                # (only whole numbers can be rounded values)
    if not any(np.any(g) for g in got.values()):
        return                                # (all zeros: a stub, _all_zeros' business)
    for how, rounding in (("rounded down (floor)", np.floor), ("rounded to the nearest",
                                                              np.rint),
                          ("truncated towards 0", np.trunc)):
        yield (f"matches the true values {how} to whole numbers: an integer division (//), an "
               f"integer dtype or int() on the way", {k: rounding(e) for k, e in
                                                       ctx.expected.items()})


def _mask_left_out(ctx: Context) -> Iterator[Candidate]:
    """A backward that passes the upstream gradient through without its local mask: relu's and
    step's dx = dy, the hinge's ∂J/∂s = −dJ and ∂J/∂s_c = dJ where J = 0 too."""
    if ctx.check != "gradient":
        return
    if ctx.case.op in ("relu", "step"):
        which = ("relu's 1 only where x > 0" if ctx.case.op == "relu" else "step's 0 everywhere")
        dy = np.asarray(ctx.case.upstream["y"], np.float64)
        yield (f"matches dx = dy, the upstream gradient passed straight through without the local "
               f"derivative ({which})", {"x": dy})
        if ctx.case.op == "relu":
            y = np.maximum(np.asarray(ctx.case.inputs["x"], np.float64), 0.0)
            yield ("matches dx = dy ∘ relu(x), the output where its 0/1 mask belongs: relu'(x) is "
                   "1 where x > 0, 0 elsewhere", {"x": dy * y})
            yield ("matches dx = dy ∘ [dy > 0], the mask taken from the upstream gradient where "
                   "x belongs: relu'(x) is 1 where x > 0", {"x": dy * (dy > 0)})
    elif ctx.case.op == "max_margin":
        dJ = np.asarray(ctx.case.upstream["J"], np.float64)
        s_, s_c = (np.asarray(ctx.case.inputs[k], np.float64) for k in ("s", "s_c"))
        yield ("matches the hinge's gradient without its mask (∂J/∂s = −dJ, ∂J/∂s_c = dJ "
               "everywhere): J = max(0, Δ + s_c − s) passes no gradient where Δ + s_c − s ≤ 0",
               {"s": -dJ + 0 * s_, "s_c": dJ + 0 * s_c})
        active = (s_c - s_ > 0).astype(np.float64)
        yield ("matches the hinge's gradient masked by s_c − s > 0, Δ left out of the mask: "
               "J = max(0, Δ + s_c − s) passes the gradient wherever Δ + s_c − s > 0",
               {"s": -dJ * active, "s_c": dJ * active})


def _leaky(ctx: Context) -> Iterator[Candidate]:
    """relu with a slope α ≠ 0 for x < 0 (a leaky relu), α read from the values."""
    if ctx.check != "forward":
        return
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    got = np.asarray(ctx.got["y"], np.float64)
    negative = x < 0
    if got.shape != x.shape or not negative.any():
        return
    alpha = float(np.median(got[negative] / x[negative]))
    if alpha == 0 or not np.isfinite(alpha):
        return
    yield (f"matches a leaky relu, y = {alpha:.3g}·x where x < 0: relu is max(0, x), 0 for every "
           f"x < 0", {"y": np.where(negative, alpha * x, np.maximum(x, 0.0))})


def _clipped(ctx: Context) -> Iterator[Candidate]:
    """The true values clipped at the backend's own smallest or largest value (relu6's 6, a
    probability clipped away from 0 and 1), where more than one element sits at it."""
    if ctx.check != "forward":
        return
    for k, e in ctx.expected.items():
        got = np.asarray(ctx.got[k], np.float64)
        if got.shape != e.shape or got.size < 2 or not np.all(np.isfinite(got)):
            return
    for k, e in ctx.expected.items():
        got = np.asarray(ctx.got[k], np.float64)
        lo, hi = float(got.min()), float(got.max())
        inside = (e >= lo) & (e <= hi)                    # where the clip changes nothing
        clipped = np.clip(e, lo, hi)
        enough = 1 if lo == 0 else 2          # (a floor at 0, max(0, ·), is a mechanism itself)
        if (lo < hi and int(np.sum(~inside)) >= enough and _close(got[inside], e[inside], ctx.tol)
                and not _close(clipped, e, ctx.tol)):
            below, above = bool(np.any(e < lo)), bool(np.any(e > hi))
            how = (f"clipped to [{lo:.6g}, {hi:.6g}] (the true values beyond both ends cut off: "
                   f"a clip of probabilities, say)" if below and above else
                   f"capped at {hi:.6g} (the true values above it cut off: relu6's cap, say)"
                   if above else
                   f"floored at {lo:.6g} (the true values below it raised to it: a "
                   f"max({lo:.6g}, ·) too many, or a running maximum started at {lo:.6g} "
                   f"instead of −∞)")
            yield f"matches {ctx.prefix(k)} {how}", {**ctx.expected, k: clipped}


def _one_based_ids(ctx: Context) -> Iterator[Candidate]:
    """Embedding ids read as 1-based, E[ids − 1] (id 0 wrapping to the last row)."""
    ids, E = np.asarray(ctx.case.inputs["ids"]), np.asarray(ctx.case.inputs["E"], np.float64)
    shifted = (ids - 1) % len(E)
    text = ("matches the ids read as 1-based, E[ids − 1] (id 0 wrapping to the last row): "
            "nnspec's ids index E's rows from 0")
    if ctx.check == "forward":
        yield text, {"y": E[shifted]}
        return
    dE = np.zeros_like(E)
    np.add.at(dE, shifted.reshape(-1), np.asarray(ctx.case.upstream["y"], np.float64).reshape(
        ids.size, -1))
    yield text, {"E": dE}


def _input_negated(ctx: Context) -> Iterator[Candidate]:
    """An elementwise function of −x (a sign slipped into the argument: σ(−x) = 1 − σ(x) from
    1/(1 + eˣ)); its gradient −f'(−x) by the chain rule."""
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    values = _gradient_of_permuted(ctx, {"x": -x}, lambda k, v: -v)
    if values is not None:
        yield (f"matches {ctx.case.op}(−x), the input negated (for σ: 1/(1 + eˣ) where "
               f"1/(1 + e^−x) belongs)" if ctx.case.op == "sigmoid" else
               f"matches {ctx.case.op}(−x), the input negated", values)


def _input_absolute(ctx: Context) -> Iterator[Candidate]:
    """An elementwise function of |x|: a stable formula's branch for x < 0 left out (σ(|x|)
    from 1/(1 + e^−|x|), tanh(|x|) from (1 − e^−2|x|)/(1 + e^−2|x|) without the sign back), or
    relu written as |x|; its gradient f'(|x|)·sign(x) by the chain rule."""
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    if ctx.check == "gradient":           # where σ' or tanh' is negligible, so is the reading:
        slope = np.abs(ctx.expected["x"])     # a negative x with a slope that tells
        telling = (x < 0) & (slope > 1e-6 * max(float(np.max(slope, initial=0.0)), 1e-300))
        if ctx.case.op != "relu" and not np.any(telling):
            return
    if not np.any(x < 0):
        return
    values = _gradient_of_permuted(ctx, {"x": np.abs(x)}, lambda k, v: v * np.sign(x))
    if values is None:  # pragma: no cover - any x is accepted
        return
    what = {"sigmoid": "1/(1 + e^−|x|), the stable formula without its branch for x < 0 "
                       "(there σ(x) = eˣ/(1 + eˣ))",
            "tanh": "the stable formula on |x| without the sign put back (tanh is odd: "
                    "tanh(x) = sign(x)·tanh(|x|))",
            "relu": "relu written as |x| (relu is max(0, x): 0 where x < 0)"}[ctx.case.op]
    yield f"matches {ctx.case.op}(|x|), {what}", values


SCALES = (2.0, 0.5, 3.0, 1 / 3, 4.0, 0.25, -2.0, -0.5)
"""The factors an activation's argument is read as scaled by (σ(2x), tanh(x/2), ...)."""


def _input_scaled(ctx: Context) -> Iterator[Candidate]:
    """σ or tanh of a·x, a the first of SCALES that explains the numbers; its gradient
    a·f'(a·x) by the chain rule. tanh(x/2) is 2σ(x) − 1, a misremembered identity."""
    x = np.asarray(ctx.case.inputs["x"], np.float64)
    for a in SCALES:
        values = _gradient_of_permuted(ctx, {"x": a * x}, partial(_times, a))
        if values is None:
            continue
        shown = _factor(a)
        k = round(1 / abs(a)) if abs(a) < 1 else round(abs(a))
        argument = (f"{'−' if a < 0 else ''}x/{k}" if abs(a) < 1 else
                    f"{'−' if a < 0 else ''}{k}x")
        text = f"matches {ctx.case.op}({argument}), the input scaled by {shown}"
        if ctx.case.op == "tanh" and a == 0.5:
            text += " (2σ(x) − 1 is tanh(x/2): the identity is tanh(x) = 2σ(2x) − 1)"
        yield text, values


def _times(a: float, name: str, gradient: np.ndarray) -> np.ndarray:
    """A gradient through x ↦ a·x: a times the gradient at a·x (the chain rule)."""
    return a * gradient


def _all_zeros(ctx: Context) -> Iterator[Candidate]:
    """Arrays that are entirely 0 where the true values are not: a function not written yet,
    an output array allocated and never filled, or a computation that gives 0 on this case
    (the consistency verdict tells which). Named only when no specific mistake explains them."""
    zeros = [k for k, e in ctx.expected.items()
             if np.shape(ctx.got[k]) == e.shape and np.any(e != 0) and not np.any(ctx.got[k])]
    if zeros:
        what = "gradient" if ctx.check == "gradient" else "output"
        held = "; ".join(f"{ctx.prefix(k)} is entirely 0 where the true {what} is non-zero at "
                         f"{int(np.count_nonzero(ctx.expected[k]))} of {ctx.expected[k].size} "
                         f"elements" for k in zeros)
        yield (f"returns all zeros: {held} (not computed yet, a stub?, an array allocated and "
               f"never filled, or a computation that gives 0 here)",
               {**ctx.expected, **{k: np.zeros_like(ctx.expected[k]) for k in zeros}})


def _whole(c: float) -> bool:
    """c is ±k or ±1/k for a whole k up to 1024 (to a few ulps)."""
    for k in (abs(c), 1.0 / abs(c) if c else 0.0):
        if 1 <= round(k) <= 1024 and abs(k - round(k)) <= 1e-9 * k:
            return True
    return False


SIZES = (("N", "the batch size"), ("T", "the number of steps"), ("FH·FW", "the window size"),
         ("F", "the kernel width"), ("OH·OW", "the output positions of an image"),
         ("N·OH·OW", "the output positions of the batch"), ("OL", "the output length"),
         ("N·OL", "the output positions of the batch"), ("N·T", "the steps of the batch"),
         ("FH", "the window height"), ("FW", "the window width"), ("C", None), ("K", None),
         ("D", None), ("M", None), ("H", None), ("W", None), ("H·W", None), ("L", None))
"""The sizes a factor is read as (in this order of preference), with what they count: a mean
taken where a sum belongs, or a division left out, scales by one of them."""


def _sizes(ctx: Context) -> dict[str, int]:
    """The case's sizes by the contract's letters (N, C, FH, OH, ...): from the shapes of its
    inputs and outputs, and a pool's window; a letter whose arrays disagree is left out."""
    sizes = _case_sizes(ctx.case.op, {**ctx.case.inputs, **(ctx.case.expected or {})})
    if "kernel_size" in ctx.case.attrs and np.ndim(ctx.case.attrs["kernel_size"]) == 1:
        window = dict(zip(("FH", "FW"), (int(k) for k in ctx.case.attrs["kernel_size"])))
        sizes.update({k: v for k, v in window.items() if sizes.get(k, v) == v})
    return sizes


def _as_a_size(ctx: Context, c: float) -> str:
    """", which is 1/N here (N = 4, the batch size)" where the factor c is a size of the case
    or its inverse (the first of ``_as_sizes``); "" otherwise."""
    return next(iter(_as_sizes(ctx, c)), "")


def _as_sizes(ctx: Context, c: float) -> list[str]:
    """Every reading of the factor c as a size of the case or its inverse, in the order of
    SIZES (sizes of 3 or more only: a 2 is too often something else), then as the square root
    of one: on a 3×3 window 1/3 is 1/FH and 1/√(FH·FW) alike, and only the op's other cases
    can tell which."""
    sizes = _sizes(ctx)
    found: list[str] = []
    for root in (False, True):            # a size, or its square root (a root mean square)
        nice = _nice(c * abs(c) if root else c)
        if nice is None or abs(nice) == 1 or (root and _nice(c) is not None and not found):
            continue                      # (a whole factor is read as itself, not as a root)
        k = round(abs(nice) if abs(nice) >= 1 else 1 / abs(nice))
        for expression, meaning in SIZES:
            letters = expression.split("·")
            if k < 3 or not all(letter in sizes for letter in letters):
                continue
            if math.prod(sizes[letter] for letter in letters) == k:
                shown = expression if len(letters) == 1 else f"({expression})"
                shown = f"√{shown}" if root else shown
                shown = shown if abs(nice) >= 1 else f"1/{shown}"
                sign = "−" if c < 0 else ""
                of = ", ".join(f"{letter} = {sizes[letter]}" for letter in letters)
                found.append(f", which is {sign}{shown} here "
                             f"({of}{f': {meaning}' if meaning else ''})")
    fh, fw = sizes.get("FH"), sizes.get("FW")
    if fh is not None and fw is not None and fh != fw:   # a window assumed square
        for ratio, square in ((fw / fh, "FH²"), (fh / fw, "FW²")):
            if abs(abs(c) - ratio) <= 1e-6 * ratio:
                shown = "FW/FH" if square == "FH²" else "FH/FW"
                found.append(f", which is {'−' if c < 0 else ''}{shown} here (FH = {fh}, "
                             f"FW = {fw}: divided by {square} where FH·FW belongs, a square "
                             f"window assumed)")
    return found


def _constant_factor(ctx: Context) -> Iterator[Candidate]:
    """The true values times c (least squares). Any single number is a multiple of any other,
    and a few numbers nearly so: with fewer than 8 non-zero elements, only a whole-number factor
    or its inverse (2, −1, 1/N, ...) is evidence enough."""
    factors: dict[str, float] = {}
    for k, e in ctx.expected.items():
        g = np.asarray(ctx.got[k], dtype=np.float64)
        if g.shape != e.shape or _close(g, e, ctx.tol):
            continue
        if not np.any(e) or not np.all(np.isfinite(g)):
            return
        unit = e / np.max(np.abs(e))     # (scaled: the squares of tiny values would be 0)
        c = float(np.sum(g * unit)) / float(np.sum(e * unit))
        if np.count_nonzero(e) < 8 and not _whole(c) and not _as_a_size(ctx, c):
            return                    # (a size of the case, or its root, is evidence enough)
        factors[k] = c
    if not factors or any(np.isclose(c, 1.0) or np.isclose(c, 0.0) for c in factors.values()):
        return                                            # (zeros: _all_zeros' business)
    values = {**ctx.expected, **{k: c * ctx.expected[k] for k, c in factors.items()}}
    what = "gradient" if ctx.check == "gradient" else "output"
    how = ("with its sign flipped" if all(abs(c + 1.0) < 1e-6 for c in factors.values())
           else "scaled by a constant")
    part = "backward" if ctx.check == "gradient" else "forward"
    one = set(factors.values()) if len(set(map(_factor, factors.values()))) == 1 else set()
    readings: list[str | None] = [*(_as_sizes(ctx, next(iter(one))) if one else [])]
    for reading in readings or [None]:    # each size the one factor can be, for reconcile
        alike: dict[str, list[str]] = {}          # arrays scaled alike, shown together
        for k, c in factors.items():
            size = reading if reading is not None else _as_a_size(ctx, c)
            alike.setdefault(f"{_factor(c)}{size}", []).append(ctx.prefix(k))
        scaled = ", ".join(f"{', '.join(names)} × {c}" for c, names in alike.items())
        yield (f"matches the true {what} {how} ({scaled}): the {part} has a factor too many or "
               f"too few", values)


MISTAKES: tuple[Mistake, ...] = (
    Mistake("float32 rounding", None, ("convention.float64",), _float32, "either"),
    Mistake("flipped kernel", frozenset({"conv2d", "conv1d"}),
            ("conv.kernel", "convention.cross-correlation"), _flipped_kernel),
    Mistake("transposed weight", frozenset({"linear", "rnn", "lstm", "gru"}), ("{op}",),
            _transposed_weight, "either"),
    Mistake("gate order", frozenset({"lstm", "gru"}), ("{op}", "convention.gate-order"),
            _gate_order),
    Mistake("GRU update gate", frozenset({"gru"}), ("gru", "convention.gru-reset-after"),
            _gru_update),
    Mistake("GRU reset before", frozenset({"gru"}), ("gru", "convention.gru-reset-after"),
            _convention("gru_reset")),
    Mistake("states swapped", frozenset({"lstm"}), ("lstm.slide",), _lstm_states_swapped),
    Mistake("missing sqrt", frozenset({"lp_pool2d"}), ("pool.l2", "convention.pooling"),
            _missing_sqrt),
    Mistake("sqrt chain left out", frozenset({"lp_pool2d"}), ("pool.l2", "graph.backprop"),
            _sqrt_chain_left_out, "backward"),
    Mistake("tie rule", frozenset({"max_pool2d"}), ("pool.max", "convention.pooling"),
            _convention("max_pool_ties", _every_tied_maximum), "backward"),
    Mistake("gradient assigned", frozenset({"max_pool2d"}), ("pool.max", "graph.backprop"),
            _max_pool_assigned, "backward"),
    Mistake("argmax unravelled", frozenset({"max_pool2d"}), ("pool.max", "graph.backprop"),
            _argmax_unravelled, "backward"),
    Mistake("windows assigned", frozenset({"avg_pool2d", "conv2d"}), None, _windows_assigned,
            "backward"),
    Mistake("dx kernel not rotated", frozenset({"conv2d", "conv1d"}), ("conv.kernel",),
            _dx_kernel_not_rotated, "backward"),
    Mistake("average not divided", frozenset({"avg_pool2d"}), ("pool.avg", "convention.pooling"),
            _average_not_divided),
    Mistake("average share", frozenset({"avg_pool2d"}), ("pool.avg", "graph.backprop"),
            _average_share, "backward"),
    Mistake("sum instead of mean", frozenset({"cross_entropy"}), ("convention.ce-mean",),
            _convention("cross_entropy_reduction")),
    Mistake("target indexing", frozenset({"cross_entropy"}), ("convention.ce-mean",),
            _ce_target_block),
    Mistake("one-hot indexing", frozenset({"cross_entropy"}), None, _ce_onehot_columns,
            "backward"),
    Mistake("one-based targets", frozenset({"cross_entropy"}), None, _ce_one_based),
    Mistake("log epsilon", frozenset({"cross_entropy"}), ("convention.stable",),
            _ce_log_epsilon),
    Mistake("log-softmax left out", frozenset({"cross_entropy"}), (),
            _ce_log_softmax_left_out, "either"),
    Mistake("softmax axis", frozenset({"softmax"}), None, _softmax_axis),
    Mistake("softmax diagonal", frozenset({"softmax"}), ("graph.backprop",), _softmax_diagonal,
            "backward"),
    Mistake("softmax rows summed", frozenset({"softmax"}), ("graph.backprop",),
            _softmax_rows_summed, "backward"),
    Mistake("softmax sum unweighted", frozenset({"softmax"}), ("graph.backprop",),
            _softmax_sum_unweighted, "backward"),
    Mistake("step at zero", frozenset({"step"}), ("act.step", "convention.step-at-zero"),
            _convention("step_at_zero")),
    Mistake("relu at zero", frozenset({"relu"}), ("act.relu", "convention.relu-at-zero"),
            _convention("relu_grad_at_zero"), "backward"),
    Mistake("derivative of the wrong quantity", frozenset({"sigmoid", "tanh", "rnn"}),
            ("graph.backprop",), _wrong_quantity, "backward"),
    Mistake("margin kink", frozenset({"max_margin"}), ("window.margin",
                                                       "convention.margin-delta"),
            _convention("max_margin_kink"), "backward"),
    Mistake("margin", frozenset({"max_margin"}), ("window.margin", "convention.margin-delta"),
            _margin),
    Mistake("arguments swapped", frozenset({"max_margin"}), ("window.margin",),
            _margin_arguments_swapped),
    Mistake("unstable", None, ("convention.stable",), _unstable, "either"),
    Mistake("bias ignored", frozenset({"linear", "conv2d", "conv1d", "rnn", "lstm", "gru"}),
            ("{op}",), _bias_ignored),
    Mistake("bias twice", frozenset({"linear", "conv2d", "conv1d", "rnn", "lstm", "gru"}),
            ("{op}",), _bias_twice),
    Mistake("running sum", frozenset({"linear", "conv2d", "conv1d"}), ("{op}",),
            _running_sum),
    Mistake("window one short", frozenset({"conv2d", "conv1d", "max_pool2d", "avg_pool2d",
                                           "lp_pool2d"}), ("{op}",), _window_one_short,
            "either"),
    Mistake("embedding overwrite", frozenset({"embedding"}), None, _embedding_overwrite,
            "backward"),
    Mistake("repeated ids averaged", frozenset({"embedding"}), None, _embedding_averaged,
            "backward"),
    Mistake("ids order", frozenset({"embedding"}), None, _embedding_ids_order, "backward"),
    Mistake("final state ignored", frozenset({"rnn", "lstm", "gru"}), None,
            _final_state_ignored, "backward"),
    Mistake("no backprop through time", frozenset({"rnn", "lstm", "gru"}), ("rnn.bptt",),
            _through_time, "backward"),
    Mistake("cell path dropped", frozenset({"lstm"}), ("lstm.slide",), _cell_path, "backward"),
    Mistake("direct path dropped", frozenset({"gru"}), ("gru",), _gru_direct_path, "backward"),
    Mistake("gate nonlinearity", frozenset({"lstm", "gru"}), ("{op}",), _gate_nonlinearity),
    Mistake("cell variant", frozenset({"rnn", "lstm", "gru"}), ("{op}",), _cell_variants),
    Mistake("state handling", frozenset({"rnn", "lstm", "gru"}), ("{op}",), _state_handling),
    Mistake("axes swapped", frozenset({"conv2d", "max_pool2d", "avg_pool2d", "lp_pool2d"}),
            ("convention.nchw",), _axes_swapped),
    Mistake("one-sided padding", frozenset({"conv2d", "conv1d"}), ("conv.padding",),
            _one_sided_padding),
    Mistake("padding mode", frozenset({"conv2d", "conv1d"}), ("conv.padding",), _padding_mode),
    Mistake("stride ignored", frozenset({"conv2d", "conv1d", "max_pool2d", "avg_pool2d",
                                         "lp_pool2d"}), ("conv.stride",), _stride_ignored),
    Mistake("offset times stride", frozenset({"conv2d", "conv1d"}), ("conv.stride",),
            _offset_times_stride),
    Mistake("dx stride ignored", frozenset({"conv2d", "conv1d"}), ("conv.stride",),
            _dx_stride_ignored, "backward"),
    Mistake("dw stride ignored", frozenset({"conv2d", "conv1d"}), ("conv.stride",),
            _dw_stride_ignored, "backward"),
    Mistake("dx padding kept", frozenset({"conv2d", "conv1d"}), ("conv.padding",),
            _dx_padding_kept, "backward"),
    Mistake("output size", frozenset({"conv2d", "conv1d", "max_pool2d", "avg_pool2d",
                                      "lp_pool2d"}), ("conv.grid-size",), _output_size),
    Mistake("last window skipped", frozenset({"conv2d", "conv1d", "max_pool2d", "avg_pool2d",
                                              "lp_pool2d"}), ("conv.grid-size",),
            _last_window_skipped, "either"),
    Mistake("upstream ignored", None, None, _upstream_ignored, "backward"),
    Mistake("one example", None, None, _one_batch_row, "backward"),
    Mistake("input negated", frozenset({"sigmoid", "tanh", "relu", "step"}), None,
            _input_negated),
    Mistake("absolute input", frozenset({"sigmoid", "tanh", "relu"}), None, _input_absolute),
    Mistake("input scaled", frozenset({"sigmoid", "tanh"}), None, _input_scaled),
    Mistake("mask left out", frozenset({"relu", "step", "max_margin"}), None, _mask_left_out,
            "backward"),
    Mistake("leaky relu", frozenset({"relu"}), None, _leaky),
    Mistake("one-based ids", frozenset({"embedding"}), None, _one_based_ids),
    Mistake("clipped", None, None, _clipped),
    Mistake("dw_hh state", frozenset({"rnn"}), ("rnn.bptt",), _rnn_dw_hh_state, "backward"),
    Mistake("wrong argument", None, None, _wrong_argument, "backward"),
    Mistake("rounded", None, None, _rounded, "either"),
    Mistake("layout", None, None, _layout, "either"),
    Mistake("all zeros", None, None, _all_zeros, "either"),
    Mistake("constant factor", None, None, _constant_factor, "either"),
)
"""The well-known mistakes, tried in this order. In ``claims``, "{op}" stands for the op's own
first claim; None means the op's claim, with graph.backprop (the chain rule) for gradients."""

GENERIC = frozenset({"layout", "all zeros", "constant factor"})
"""Symptoms (or, for a layout, what several specific mistakes have in common) rather than
mechanisms: named only where no specific mistake explains the check."""


def catalogue(op: str | None = None) -> list[tuple[str, str]]:
    """The well-known mistakes (of ``op``, or all), in the order they are tried: each name with
    what it means, from this module's table (one place for both; a test keeps it in step with
    MISTAKES)."""
    doc = __doc__ or ""
    table = doc.split("\n================================  ")[1].split("\n", 1)[1]
    table = table.split("\n================================  ")[0]
    meaning: dict[str, str] = {}
    last = ""
    for line in table.splitlines():
        if line.startswith(" " * 34):
            meaning[last] += " " + line.strip()
        else:
            last = line[:34].strip()
            meaning[last] = line[34:].strip()
    return [(m.name, meaning.get(m.name, "")) for m in MISTAKES
            if op is None or m.ops is None or op in m.ops] + [(SHAPE, meaning[SHAPE])]


SHAPE = "shape"
"""The reading of arrays of another shape (``_shape_readings``), tried after MISTAKES."""


def _close(actual: Any, expected: np.ndarray, tol: Tolerance) -> bool:
    """Within ``tol`` (False for another shape); nan agrees with nan here, so that a mistake
    that overflows explains a backend that overflows at the same elements."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape == e.shape:
        both = np.isnan(a) & np.isnan(e)
        if both.any():
            a, e = np.where(both, 0.0, a), np.where(both, 0.0, e)
    return compare(a, e, tol).ok


def _claims(mistake: Mistake, ctx: Context) -> tuple[str, ...]:
    own = op_spec(ctx.case.op).claims[:1]
    if mistake.claims is not None:
        return tuple(c for claim in mistake.claims for c in (own if claim == "{op}" else (claim,)))
    return ("graph.backprop", *own) if ctx.check == "gradient" else own


def _explains(ctx: Context, values: Values, loose: Tolerance) -> bool:
    """The backend's values match the mistake's, and the mistake's differ from the expected ones
    (a candidate that changes nothing explains nothing, whatever the backend's dtype). A
    candidate without values explains the check by what the backend returned, not by its
    values (float32 arrays in a float64 run)."""
    if not values:
        return True
    matches = all(_close(ctx.got[k], np.asarray(v, np.float64), loose) for k, v in values.items())
    differs = any(not _close(np.asarray(v, np.float64), ctx.expected[k], ctx.tol)
                  for k, v in values.items())
    return matches and differs


def _allowed(mistake: Mistake, ctx: Context, verdict: str | None) -> bool:
    """Whether the consistency verdict leaves room for the mistake on a gradient check: a
    backward that is the derivative of a wrong forward makes no mistake of its own (its factor
    is the forward's, see the anatomy), and a right forward none of the forward's."""
    if ctx.check != "gradient":
        return True
    if verdict == "forward":
        return mistake.part != "backward" and mistake.name != "constant factor"
    if verdict in ("backward", "agree"):
        return mistake.part != "forward"
    return True


_NUMBER = re.compile(r"[-+−]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")


def _kind(text: str) -> str:
    """A candidate's mechanism, the same on every case: its text without the case's numbers
    ("divided by the stride's SH·SW (#), not by the window size FH·FW = #")."""
    return _NUMBER.sub("#", text)


@dataclass(frozen=True)
class Option:
    """One reading of a failing check: a mistake's candidate that explains it."""

    name: str                        # the mistake (MISTAKES)
    text: str
    claims: tuple[str, ...]
    kind: str                        # the reading, the same on every case (_kind)
    shown: bool = True               # False: a symptom of a mechanism named with it (GENERIC)


@dataclass(frozen=True)
class Named:
    """A well-known mistake that explains the whole of a failing check: ``options[0]``, and the
    mistakes that give the very same numbers on this case (``reconcile`` puts first the one that
    explains the op's other failing cases too)."""

    options: tuple[Option, ...]
    unexplained: tuple[str, ...] = ()  # failing cases of the same check it does not explain

    @property
    def shown(self) -> tuple[Option, ...]:
        return (self.options[0], *(o for o in self.options[1:] if o.shown))

    @property
    def name(self) -> str:
        return self.options[0].name

    @property
    def text(self) -> str:
        first, *rest = self.shown
        return first.text + "".join(f"; or, with the same numbers on this case, {o.text}"
                                    for o in rest)

    @property
    def claims(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for o in self.shown for c in o.claims))

    @property
    def also(self) -> tuple[str, ...]:
        """The mistakes that give the very same numbers on this case."""
        return tuple(o.name for o in self.shown[1:])

    def line(self) -> str:
        text = self.text
        if self.unexplained:
            shown = ", ".join(self.unexplained[:3]) + (
                f" and {len(self.unexplained) - 3} more" if len(self.unexplained) > 3 else "")
            text = (f"on this case only: {text} (it does not explain the failures of {shown}, "
                    f"so it may be a coincidence of this case's numbers)")
        return f"{text} [breaks {', '.join(self.claims)}]" if self.claims else text

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "text": self.text, "claims": list(self.claims),
                "also": list(self.also), "unexplained": list(self.unexplained)}


@dataclass(frozen=True)
class Diagnosis:
    """What a failing check's diagnosis found: the self-consistency verdict (forward or
    backward?), the anatomy of every failing array (where and how), the well-known mistakes
    that explain all of it, and ``text``: those mistakes in one line, or "unknown: ...". Where
    no mistake explains all of it, ``narrowing`` says which features of the case the failure
    needs (conformance.narrowing)."""

    text: str
    mistakes: tuple[Named, ...] = ()
    consistency: Consistency | None = None
    anatomy: tuple[Anatomy, ...] = ()
    narrowing: Narrowing | None = None


def _candidates(mistake: Mistake, ctx: Context) -> Iterator[Candidate]:
    """The mistake's candidates, until one cannot be computed on this case (the reference
    refuses what a saturated or degenerate case makes of it): the others are still tried."""
    try:
        yield from mistake.candidates(ctx)
    except (ValueError, ArithmeticError, IndexError):
        return


def _named(ctx: Context, verdict: str | None) -> tuple[list[Named], list[str]]:
    loose = Tolerance(4 * ctx.tol.rtol, 4 * ctx.tol.atol)
    found: list[Named] = []
    seen: list[Values] = []
    partial: list[Named] = []
    tried: list[str] = []
    for mistake in MISTAKES:
        if not mistake.applies(ctx) or not _allowed(mistake, ctx, verdict):
            continue
        generic_after = mistake.name in GENERIC and bool(found)
        if not generic_after:
            tried.append(mistake.name)
        explained = False                 # by one of this mistake's candidates
        for candidate in _candidates(mistake, ctx):
            text, values = candidate[0], candidate[1]
            claims = candidate[2] if len(candidate) > 2 else _claims(mistake, ctx)
            if _explains(ctx, values, loose):
                same = next((i for i, v in enumerate(seen) if values and v and all(
                    _close(values[k], v[k], loose) for k in values if k in v)), None)
                if same is None and (generic_after or explained):
                    break                 # other numbers than the mistake already named
                option = Option(mistake.name, text, claims, _option_kind(mistake, text))
                if same is None:
                    found.append(Named((option,)))
                    seen.append(values)
                else:                     # the same numbers: this case cannot tell them apart
                    # (a symptom of a mechanism already named is kept unshown, for reconcile:
                    # other cases may show the symptom alone; a gradient of the wrong argument
                    # that is also a factor of the right one, as max_margin's ∂/∂s_c = −∂/∂s,
                    # is shown: both readings are named)
                    shown = not generic_after or found[same].name == "wrong argument"
                    if option.kind not in {o.kind for o in found[same].options}:
                        found[same] = Named((*found[same].options, replace(option, shown=shown)))
                explained = True
                continue                  # (other candidates may give the same numbers)
            if explained:
                continue
            rows = None if mistake.name in GENERIC or partial or found else _rows_explained(
                ctx, values, loose)
            if rows is not None:
                partial.append(Named((Option(mistake.name, f"partly {text} (it explains {rows})",
                                             claims, _kind(f"partly {text}")),)))
    return (found or partial), tried


def _shape_readings(ctx: Context, parts: Sequence[Anatomy],
                    target: Target | None) -> list[str]:
    """The mechanisms behind arrays of the wrong shape, where the anatomy shows one for all of
    them: the right values flattened, or with axes of size 1 dropped or added, or a
    convolution's dx empty on exactly the axes without padding; [] otherwise. (A flattened
    [1, n] is also one with its axis of size 1 dropped: both are offered, for reconcile.)"""
    shaped = [a for a in parts if "shape" in a.how]
    if not shaped or len(shaped) != len(parts):
        return []
    names = ", ".join(a.array for a in shaped)
    readings = []
    if all("size-1-axes" in a.how or "reshaped" in a.how for a in shaped) and all(
            len(a.detail["shape"]) == 1 < len(a.detail["expected_shape"]) for a in shaped):
        readings.append(f"returns the right values flattened ({names}): a ravel() or "
                        f"reshape(-1) of the result; keep the contract's shape")
    if all("size-1-axes" in a.how for a in shaped):
        dropped = [a for a in shaped if len(a.detail["shape"]) < len(a.detail["expected_shape"])]
        added = [a for a in shaped if len(a.detail["shape"]) > len(a.detail["expected_shape"])]
        style = None if target is None else target.gradient_style(ctx.case.op)
        if len(dropped) == len(shaped):
            readings.insert(0, f"returns the right values with axes of size 1 dropped ({names}): "
                               f"a squeeze() (or an index such as [:, 0]) drops every axis of "
                               f"size 1, a batch of one included; keep the contract's shape")
        elif len(added) == len(shaped) and ctx.check == "gradient" and style == "vjp":
            readings.append(f"returns the right values with an axis of size 1 added ({names}): "
                            f"vjp(op, inputs, attrs, cotangents) gets the cotangents as a tuple, "
                            f"one array per output, so dy is cotangents[0]; used as one array, "
                            f"the tuple adds a leading axis of size 1")
        elif len(added) == len(shaped):
            readings.append(f"returns the right values with axes of size 1 added ({names}): a "
                            f"keepdims=True or an [None] too many; keep the contract's shape")
    summed = _bias_summed_elsewhere(ctx, shaped)
    if summed is not None:
        readings.append(summed)
    padding = ctx.case.attrs.get("padding")
    if ctx.check == "gradient" and padding is not None and all(
            a.array == "dx" and "empty" in a.how for a in shaped):
        x = np.shape(ctx.case.inputs["x"])
        pads = np.broadcast_to(np.asarray(padding), (len(x) - 2,))
        unpadded = [2 + i for i, p in enumerate(pads) if p == 0]
        if unpadded and all(a.detail.get("empty_axes") == unpadded for a in shaped):
            readings.append("dx is empty on exactly the axes whose padding is 0: the padded "
                            "gradient cut with [P:−P], which is [0:0] when P = 0 (−0 is 0); cut "
                            "it with [P:P + H] [breaks conv.padding]")
    return readings


def _bias_summed_elsewhere(ctx: Context, shaped: Sequence[Anatomy]) -> str | None:
    """A bias gradient of another shape that is dy summed over other axes than the batch's and
    the positions' (db = dy.sum(axis=1) for a linear layer's dy [N, M]); None otherwise."""
    if ctx.check != "gradient" or [a.array for a in shaped] != ["db"] or (
            ctx.case.op not in ("linear", "conv1d", "conv2d")):
        return None
    dy = np.asarray(ctx.case.upstream["y"], np.float64)
    got = np.asarray(ctx.got["b"], np.float64)
    right = tuple(a for a in range(dy.ndim) if a != 1)      # every axis but K's (M's)
    loose = Tolerance(4 * ctx.tol.rtol, 4 * ctx.tol.atol)
    for n in range(1, dy.ndim):
        for axes in itertools.combinations(range(dy.ndim), n):
            total = dy.sum(axis=axes)
            if axes != right and total.shape == got.shape and _close(got, total, loose):
                return (f"db is dy summed over {_axes_named(ctx, axes)} where "
                        f"{_axes_named(ctx, right)} belongs: a bias gradient sums dy over every "
                        f"axis but its own [breaks graph.backprop]")
    return None


def _axes_named(ctx: Context, axes: Sequence[int]) -> str:
    """Axes of dy by the contract's letters: "M (axis 1)", "N, OH, OW (axes 0, 2, 3)"."""
    letters = axis_letters(ctx.case.op, "y")
    which = "axis" if len(axes) == 1 else "axes"
    return (f"{', '.join(letters[a] for a in axes)} ({which} "
            f"{', '.join(str(a) for a in axes)})")


def _option_kind(mistake: Mistake, text: str) -> str:
    """What a reading is matched by across cases: its text without the numbers; a generic
    symptom by its name, a constant factor read as a size of the case with that size
    ("constant factor·1/√(FH·FW)")."""
    if mistake.name not in GENERIC:
        return _kind(text)
    size = re.search(r", which is (\S+) here", text) if mistake.name == "constant factor" else None
    return f"{mistake.name}·{size.group(1)}" if size else mistake.name


def _agrees(kind: str, kinds: set[str]) -> bool:
    """Whether a case whose readings are ``kinds`` agrees with the reading ``kind``: the same
    kind, or a constant factor read as a size where the case's factor is read as none (or the
    other way round): a bare factor is consistent with any size."""
    if kind in kinds:
        return True
    bare, _, size = kind.partition("·")   # (also "the forward's: constant factor·...")
    if not bare.endswith("constant factor"):
        return False
    return bare in kinds if size else any(k.startswith(f"{bare}·") for k in kinds)


def _batch_axis(op: str, name: str, ndim: int) -> int | None:
    """The axis of a contract array that runs over the batch: N's, or the first of an array of
    any shape ("[...]", "[..., C]") with at least two axes; None for a weight or a loss."""
    letters = axis_letters(op, name)
    if "N" in letters:
        return letters.index("N")
    return 0 if letters and letters[0] == "..." and ndim >= 2 else None


def _rows_explained(ctx: Context, values: Values, loose: Tolerance) -> str | None:
    """"the failing batch rows 0, 1 of 4, not 3" where the mistake explains every failing array
    on some of the batch rows that fail but not on all (or the backend is right on rows where
    the mistake would make it wrong); None otherwise, or where the arrays have no batch axis."""
    if not values:
        return None
    axes = {k: _batch_axis(ctx.case.op, k, ctx.expected[k].ndim) for k in values}
    if any(a is None or np.shape(ctx.got[k]) != ctx.expected[k].shape
           or np.shape(values[k]) != ctx.expected[k].shape for k, a in axes.items()):
        return None
    sizes = {ctx.expected[k].shape[cast(int, a)] for k, a in axes.items()}
    if len(sizes) != 1:
        return None
    (n,) = sizes
    explained, failing = [], []
    def part(k: str, arr: Any, row: int) -> np.ndarray:
        return np.take(np.asarray(arr, np.float64), row, axis=cast(int, axes[k]))

    spared = []
    for row in range(n):
        if any(not _close(part(k, ctx.got[k], row), part(k, ctx.expected[k], row), ctx.tol)
               for k in values):
            failing.append(row)
            # (a mistake right on a row explains nothing of that row's failure)
            if all(_close(part(k, ctx.got[k], row), part(k, v, row), loose)
                   for k, v in values.items()) and any(
                    not _close(part(k, v, row), part(k, ctx.expected[k], row), ctx.tol)
                    for k, v in values.items()):
                explained.append(row)
        elif any(not _close(part(k, v, row), part(k, ctx.expected[k], row), ctx.tol)
                 for k, v in values.items()):
            spared.append(row)            # right, where the mistake would make it wrong
    rest = [r for r in failing if r not in explained]
    if not explained or not (rest or spared):
        return None
    wrong = sum(int(np.sum(~within_tolerance(part(k, ctx.got[k], row),
                                             part(k, ctx.expected[k], row), ctx.tol)))
                for k in values for row in explained)
    if wrong < 2:                         # one number matches many a formula: no evidence
        return None
    text = f"the failing batch row{'s' if len(explained) > 1 else ''} {_listing(explained)} of {n}"
    if rest:
        text += f", not {_listing(rest)}"
    if spared:
        text += (f"; row{'s' if len(spared) > 1 else ''} {_listing(spared)} "
                 f"{'are' if len(spared) > 1 else 'is'} right where it would be wrong")
    return text


def _listing(rows: list[int]) -> str:
    return ", ".join(str(r) for r in rows)


def _with_upstream(case: Case, reference: Bound) -> Case:
    """A case without an upstream gradient (a slide's forward example) given one, drawn from a
    fixed seed in float32-exact numbers, with the reference's gradients for it: what the
    self-consistency of a forward-only case is probed with."""
    rng = np.random.default_rng(0)
    upstream = {k: f32(rng.standard_normal(np.shape(v))) for k, v in (case.expected or {}).items()}
    return complete(replace(case, upstream=upstream, expected_grads=None), reference)


def diagnose(case: Case, check: Check, got: Mapping[str, np.ndarray], dtype: Any,
             tol: Tolerance, reference: Bound | None = None, target: Target | None = None,
             timeout: float | None = None) -> Diagnosis:
    """The diagnosis of a failing check: self-consistency (with ``target``, the backend, to call
    again), the anatomy of each failing array, and every well-known mistake that explains all
    of the failure, with the claims it breaks.

    ``case`` must carry its expected values (conformance.cases.complete); ``got`` is what the
    backend returned, by output (forward) or input (gradient) name; ``tol`` the check's
    tolerance.
    """
    with np.errstate(all="ignore"):   # inf and nan are what a failing backend returns
        return _diagnose(case, check, got, dtype, tol, reference, target, timeout)


def _diagnose(case: Case, check: Check, got: Mapping[str, np.ndarray], dtype: Any,
              tol: Tolerance, reference: Bound | None, target: Target | None,
              timeout: float | None) -> Diagnosis:
    ctx = Context(case, check, {k: np.asarray(v) for k, v in got.items()}, np.dtype(dtype),
                  tol, reference or load_backend("numpy"))
    kinds = {k: v.dtype for k, v in ctx.got.items() if v.dtype.kind not in "fc"}
    right = all(k in ctx.got and _close(np.asarray(ctx.got[k], np.float64), e, tol)
                for k, e in ctx.expected.items())
    if kinds:                             # not floats: the dtype is the failure to name
        listed = ", ".join(f"{ctx.prefix(k)} as {d}" for k, d in kinds.items())
        return Diagnosis(f"returns {listed}: the contract's arrays are floats of the run's "
                         f"dtype" + ("; the values themselves are right" if right else ""))
    precisions = {k: v.dtype for k, v in ctx.got.items()
                  if v.dtype.kind == "f" and v.dtype.itemsize > ctx.dtype.itemsize}
    if precisions and right:              # right values in a wider float dtype: only that
        listed = ", ".join(f"{ctx.prefix(k)} as {d}" for k, d in precisions.items())
        return Diagnosis(f"the values are right, but it returns {listed} in a {ctx.dtype.name} "
                         f"run: an array made without the input's dtype (np.zeros(n) is "
                         f"float64; np.zeros(n, dtype=x.dtype) is not) or a float64 constant "
                         f"promoting the result; a {ctx.dtype.name} run checks {ctx.dtype.name} "
                         f"arithmetic, so return {ctx.dtype.name}")
    consistency = None
    if target is not None and target.gradient_style(case.op) is not None:
        probed = case if case.has_gradient else _with_upstream(case, ctx.reference)
        consistency = self_consistency(target, probed, ctx.dtype, timeout)
    verdict = None if consistency is None else consistency.verdict
    parts = anatomies(case.op, check, ctx.got, ctx.expected, tol, case.inputs, case.attrs)
    stateful = None if target is None else _state_between_calls(ctx, target, timeout)
    if stateful is not None:
        return Diagnosis(stateful, (), consistency, tuple(parts))
    if check == "gradient" and target is not None and _right_after_a_forward(
            case, ctx.dtype, tol, target, timeout):
        # (the consistency probes, each a forward then a backward, cannot see it: left out)
        return Diagnosis("your backward gives the right gradient right after a forward of the "
                         f"same inputs, and a wrong one otherwise: {CACHED}", (), None,
                         tuple(parts))
    if check == "gradient" and _at_the_decoy(ctx):
        return Diagnosis("your backward returns the gradient at the values of an earlier "
                         "forward call (the run calls a forward of other values of the same "
                         f"shapes before each gradient): {CACHED}", (), None, tuple(parts))
    found, tried = _named(ctx, verdict)
    shaped = _shape_readings(ctx, parts, target)
    if any("shape" in a.how for a in parts):
        tried.append(SHAPE)
    if shaped and not found:
        found = [Named(tuple(Option(SHAPE, t, (), _kind(t)) for t in shaped))]
    narrowing = None
    if target is not None and all(n.text.startswith("partly") for n in found):
        narrowing = narrow(target, case, check, ctx.dtype, ctx.reference, timeout)
    if found:
        text = "; ".join(n.line() for n in found)
    else:
        shapes = any(np.shape(ctx.got[k]) != e.shape for k, e in ctx.expected.items())
        lines = [name for name, there in (("consistency", consistency is not None),
                                          ("anatomy", True), ("narrowed", narrowing is not None))
                 if there]
        look = ("the shapes above" if shapes else
                f"the {' and '.join(lines)} line" if len(lines) == 1 else
                f"the {', '.join(lines[:-1])} and {lines[-1]} lines")
        text = (f"unknown: no well-known mistake explains all of it (tried {', '.join(tried)}: "
                f"nnspec mistakes {ctx.case.op} says what each is); see {look}")
    return Diagnosis(text, tuple(found), consistency, tuple(parts), narrowing)


def _carried(results: Sequence[Result]) -> list[Result]:
    """``results`` with each gradient failure that no mistake explains, but whose backward is
    the derivative of the backend's own forward (the consistency verdict), explained by the
    mistake named on the same case's forward check: the gradient follows from it."""
    forwards = {(r.case.op, r.case.source, r.case.name): r.mistakes for r in results
                if r.check == "forward" and r.status == "fail"}
    out = []
    for r in results:
        key = (r.case.op, r.case.source, r.case.name)
        partial = all(n.text.startswith("partly") for n in r.mistakes)   # (or none at all)
        if (r.check == "gradient" and r.status == "fail" and partial and key in forwards
                and r.consistency is not None and r.consistency.verdict == "forward"):
            if not forwards[key]:         # the forward unexplained: point at it, once
                r = replace(r, diagnosis="follows from the forward (your backward is its "
                                         "derivative): the forward's failure on this case is "
                                         "what to fix")
            else:
                follows = tuple(Named(tuple(replace(
                    o, text=f"follows from the forward (your backward is its derivative), which "
                            f"{o.text}", kind=f"the forward's: {o.kind}") for o in n.options))
                    for n in forwards[key])
                r = replace(r, mistakes=follows, diagnosis="; ".join(n.line() for n in follows))
        out.append(r)
    return out


def _first_explaining_most(named: Named, held: list[tuple[str, set[str]]]) -> Named:
    """``named`` with the reading that explains the most of the other failing cases first
    (``held``: each case's id and the kinds of its readings)."""
    def missed(option: Option) -> tuple[str, ...]:
        return tuple(case for case, kinds in held if not _agrees(option.kind, kinds))

    best = min(named.options, key=lambda o: (len(missed(o)), not o.shown))
    rest = [o for o in named.options if o is not best]
    if not missed(best):                  # the others are refuted by the other cases
        rest = [o for o in rest if not missed(o)]
    return Named((replace(best, shown=True), *rest), unexplained=missed(best))


def _state_between_calls(ctx: Context, target: Target, timeout: float | None) -> str | None:
    """Whether two calls in a row with the case's own inputs give different values (beyond the
    check's tolerance): a function that keeps state between calls (a hidden state carried over,
    a buffer never reset) or draws random numbers. What the second call adds to the first is
    named where it is the true value (a buffer that each call adds into)."""
    from conformance.checks import _invoke

    first, second = (_invoke(target, ctx.case, ctx.check, ctx.dtype, timeout) for _ in "12")
    if first.values is None or second.values is None:
        return None
    names = [k for k in ctx.expected if k in first.values and k in second.values]
    changed = [k for k in names if not _close(second.values[k],
                                              np.asarray(first.values[k], np.float64), ctx.tol)]
    if not changed:
        return None
    part = "backward" if ctx.check == "gradient" else "forward"
    listed = ", ".join(ctx.prefix(k) for k in changed)
    text = (f"your {part} returns different values for the same inputs on two calls in a row "
            f"({listed} changed): it keeps state between calls")
    loose = Tolerance(4 * ctx.tol.rtol, 4 * ctx.tol.atol)
    added = all(_close(np.asarray(second.values[k], np.float64)
                       - np.asarray(first.values[k], np.float64), ctx.expected[k], loose)
                for k in changed)
    if added:
        text += (" — each call adds its result into an array kept from the calls before (made "
                 "once, never reset to 0)")
    else:
        text += (" (a state, buffer or cache kept in self or a module-level variable and not "
                 "reset) or draws random numbers")
    claims = " [breaks graph.backprop]" if part == "backward" else ""
    return f"{text}; each call must depend on its arguments only{claims}"


def _right_after_a_forward(case: Case, dtype: np.dtype, tol: Tolerance, target: Target,
                           timeout: float | None) -> bool:
    """Whether the backend's gradient, wrong (or raising) on its own, is right when its forward
    has just been called with the same inputs (a backward that keeps state from the forward)."""
    from conformance.checks import _invoke

    first = _invoke(target, case, "forward", dtype, timeout)
    again = _invoke(target, case, "gradient", dtype, timeout)
    if first.values is None or again.values is None:
        return False
    expected = case.expected_grads or {}
    return set(expected) <= set(again.values) and all(
        _close(again.values[k], e, tol) for k, e in expected.items())


def _at_the_decoy(ctx: Context) -> bool:
    """Whether the backend's gradient is the reference's at the decoy's inputs (the forward the
    run calls before each gradient, conformance.checks.decoy_inputs) for the case's upstream
    gradient: a backward that uses what an earlier forward kept."""
    from conformance.checks import decoy_inputs

    inputs = decoy_inputs(ctx.case, np.float64)
    other = {k: v if v.dtype.kind != "f" else 0.75 * v - 0.375 for k, v in inputs.items()}
    try:
        at_decoy, elsewhere = (ctx.reference.call_gradient(ctx.case.op, i, ctx.case.attrs,
                                                           ctx.case.upstream)
                               for i in (inputs, other))
    except (ValueError, ArithmeticError, IndexError):
        return False
    loose = Tolerance(4 * ctx.tol.rtol, 4 * ctx.tol.atol)
    names = [k for k in at_decoy if k in ctx.expected]

    def same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        return all(_close(a[k], b[k], loose) for k in names)

    # (a gradient the inputs' values hardly change, as the hinge's ±dJ where every hinge is
    # active, matches any forward's values: no evidence of which one it read)
    return (all(k in ctx.got for k in names) and same(ctx.got, at_decoy)
            and not same(at_decoy, ctx.expected) and not same(at_decoy, elsewhere))


CACHED = ("it reads what a forward call left (a cache such as self.cache) instead of the "
          "inputs it is given; a caller may call backward(dy, x, ...) on its own [breaks "
          "graph.backprop]")
"""The end of the diagnosis of a backward that needs its forward called first."""


def raised_after_a_forward(case: Case, dtype: Any, target: Target,
                           timeout: float | None) -> str | None:
    """The diagnosis of a gradient call that raised, where calling the forward of the same
    inputs first makes it right: the backward reads state its forward left. None otherwise."""
    dt = np.dtype(dtype)
    if not case.has_gradient or not _right_after_a_forward(
            case, dt, case.tolerance_for("gradient", dt), target, timeout):
        return None
    return ("your backward raises when called on its own, and gives the right gradient right "
            f"after a forward of the same inputs: {CACHED}")


def reconcile(results: Sequence[Result], earlier: Sequence[Result] = ()) -> list[Result]:
    """``results`` with each named mistake checked against the other failures of the same op
    and check (in ``results`` and ``earlier``). Two mistakes can give the same numbers on one
    case (a symmetric kernel flipped, Δ = 0.5 doubled or fixed at 1, a bias of 0 left out, a
    window sum divided by a stride of 1 or not at all), so a name one case alone supports may
    be a coincidence of its numbers: of a case's readings with the same numbers, the one that
    explains the most of the other failures is named first (the readings those failures refute
    are dropped when it explains them all), and one that does not explain them all is labelled
    "on this case only", with the cases it leaves unexplained."""
    results = _carried(results)
    failing = [r for r in (*earlier, *results) if r.status == "fail" and r.diagnosis]
    out = []
    for result in results:
        if not result.mistakes:
            out.append(result)
            continue
        peers = [r for r in failing if r.case.op == result.case.op and r.check == result.check
                 and r is not result]
        held = [(f"{r.case.source}-{r.case.name}", {o.kind for m in r.mistakes
                                                     for o in m.options}) for r in peers]
        mistakes = [_first_explaining_most(named, held) for named in result.mistakes]
        text = "; ".join(n.line() for n in mistakes)
        out.append(replace(result, mistakes=tuple(mistakes), diagnosis=text))
    return out
