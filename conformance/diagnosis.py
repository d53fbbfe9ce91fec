"""Diagnosis: which well-known mistake a failing check matches, and which claim it breaks.

When a check fails with values to look at, ``diagnose`` recomputes the case with the reference
as each well-known mistake would have computed it (the kernel flipped, the gates read in another
order, the stride ignored, ...) and compares the backend's values with each of those. The first
that matches, under the check's own tolerance (×4), is named with the lecture claim and the
convention it breaks; when none does, the diagnosis says so plainly and lists what was tried.

Mistakes, in the order they are tried (``MISTAKES``):

==========================  ==================================================================
float32 rounding            a float64 run computed in float32 (errors of float32 size)
flipped kernel              a true convolution, not cross-correlation (conv2d, conv1d)
transposed weight           w (or a gate's w_hh block) used transposed; dw returned transposed
gate order                  LSTM/GRU gate blocks read in another order (all permutations)
GRU update gate             h' = z ∘ n + (1 − z) ∘ h instead of (1 − z) ∘ n + z ∘ h
missing sqrt                L2 pooling returning Σ x² instead of √(Σ x²)
tie rule                    a max-pool gradient split between tied maxima, or sent to the last
average not divided         average pooling returning the window sum
sum instead of mean         cross_entropy summed over the batch
softmax axis                softmax over the first axis, not the last
embedding overwrite         ∂L/∂E assigned row by row, so a repeated id keeps one share only
final state ignored         an RNN/LSTM/GRU backward that drops ∂L/∂h_n (or ∂L/∂c_n)
axes swapped                a per-axis stride, padding or window read as (W, H), not (H, W)
one-sided padding           zeros on one side only (P or 2P), or no padding at all
stride ignored              stride 1 instead of S, or pooling with stride = window size
wrong argument              gradients (or outputs) returned in the wrong order
all zeros                   zeros where the true values are not (a stub, an array never filled)
constant factor             the true values times a nonzero constant (−1, 2, 1/N, ...)
==========================  ==================================================================

Each mistake's values come from the reference itself, through the mistake's transformation:
a permuted or flipped weight gives the reference's forward on the permuted weight and the
gradient permuted back (the chain rule through a permutation); a transformed output g(y) gives
g(y) and the reference's gradient for the upstream dy ∘ g'(y); a dropped upstream gradient gives
the reference's gradient for the upstream with that part set to zero. One is written out: the
embedding overwrite's ∂L/∂E (dE[ids] = dy), which no call of the reference gives.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from conformance.backends import Bound, load_backend
from conformance.cases import Case
from conformance.contract import op_spec
from conformance.report import Check
from reference.tolerance import Tolerance, compare, tolerance

__all__ = ["FLOAT32_ARITHMETIC", "MISTAKES", "Context", "Mistake", "diagnose"]

FLOAT32_ARITHMETIC = "matches float32 arithmetic"
"""How the diagnosis "float32 rounding" begins."""

Values = dict[str, np.ndarray]
Candidate = tuple[str, Values]


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

    def forward(self, inputs: Mapping[str, np.ndarray] | None = None,
                attrs: Mapping[str, Any] | None = None) -> np.ndarray | None:
        """The reference's first output for changed inputs or attributes (None if refused)."""
        try:
            return self.reference.call_forward(self.case.op, self.inputs if inputs is None else
                                               inputs, self.attrs if attrs is None else attrs)[0]
        except (ValueError, TypeError, IndexError):  # pragma: no cover - as in evaluate
            return None

    def prefix(self, name: str) -> str:
        return f"d{name}" if self.check == "gradient" else name


@dataclass(frozen=True)
class Mistake:
    """A well-known mistake: the ops it concerns (None: all), what it is called, the claims it
    breaks, and how to compute what a backend making it returns (candidates: text, values)."""

    name: str
    ops: frozenset[str] | None
    claims: tuple[str, ...] | None
    candidates: Callable[[Context], Iterator[Candidate]]

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


def _like(original: Any, values: tuple[int, ...]) -> Any:
    """Attribute values in the original's form: an int (conv1d) or a tuple."""
    return values[0] if np.ndim(original) == 0 else tuple(values)


# ---------------------------------------------------------------- the mistakes
def _float32(ctx: Context) -> Iterator[Candidate]:
    if ctx.dtype != np.float64:
        return
    acc = ctx.case.accumulation()
    gradient = ctx.check == "gradient"
    tol32 = tolerance(np.float32, terms=acc.terms_of(ctx.check), depth=acc.depth,
                      gradient=gradient)
    returned32 = any(np.asarray(v).dtype == np.float32 for v in ctx.got.values())
    within = all(compare(ctx.got[k], e, tol32).ok for k, e in ctx.expected.items())
    if within:
        detail = "returned float32 arrays" if returned32 else "errors of float32 rounding"
        yield (f"{FLOAT32_ARITHMETIC} ({detail}): a float64 run expects the backend to "
               f"compute in float64 throughout", {k: np.asarray(ctx.got[k], np.float64)
                                                 for k in ctx.expected})


def _flipped_kernel(ctx: Context) -> Iterator[Candidate]:
    axes = _spatial(ctx)
    w = np.flip(ctx.case.inputs["w"], axes)
    values = _gradient_of_permuted(ctx, {"w": w}, lambda k, v: np.flip(v, axes))
    what = "kernel flipped 180°" if len(axes) == 2 else "kernel reversed"
    if values is not None:
        yield (f"matches a true convolution ({what}): nnspec's {ctx.case.op} is "
               f"cross-correlation, as in the Sobel example", values)


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
        return
    h = inputs["h0"].shape[1]
    options = [("w_hh",)] + ([("w_ih",), ("w_ih", "w_hh")] if inputs["x"].shape[2] == h else [])
    for names in options:
        changed = {k: _blocks_transposed(inputs[k], h) for k in names}
        values = _gradient_of_permuted(ctx, changed, lambda k, v: _blocks_transposed(v, h))
        if values is not None:
            which = " and ".join(names)
            yield (f"matches {which} used transposed in every gate (h {names[-1]} where nnspec, "
                   f"like PyTorch, computes {names[-1]} h, i.e. h {names[-1]}ᵀ)", values)


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
    values = _output_map(ctx, np.square, lambda y: 2.0 * y)
    if values is not None:
        yield ("matches Σ x² without the square root: L2 pooling keeps √(Σ x²) of each "
               "window", values)


def _tie_rule(ctx: Context) -> Iterator[Candidate]:
    """The max-pool gradient where a window holds its maximum more than once: shared equally by
    the tied elements, or sent to the last of them (row-major), not to the first."""
    if ctx.check != "gradient":
        return
    x, dy = ctx.case.inputs["x"], ctx.case.upstream["y"]
    (fh, fw), (sh, sw) = ctx.case.attrs["kernel_size"], ctx.case.attrs["stride"]
    # the windows [N, C, OH, OW, FH, FW] and where each holds its maximum
    windows = sliding_window_view(x, (fh, fw), axis=(2, 3))[:, :, ::sh, ::sw]
    tied = windows == windows.max(axis=(4, 5), keepdims=True)
    if not np.any(tied.sum(axis=(4, 5)) > 1):
        return
    flat = tied.reshape(*tied.shape[:4], -1)
    last = np.zeros_like(flat)
    np.put_along_axis(last, flat.shape[-1] - 1 - np.argmax(flat[..., ::-1], axis=-1)[..., None],
                      True, axis=-1)
    shares = {"split equally between the tied maxima": tied / tied.sum(axis=(4, 5),
                                                                       keepdims=True),
              "sent to the last tied maximum": last.reshape(tied.shape)}
    for how, share in shares.items():
        dx = np.zeros(x.shape)
        for u in range(fh):
            for v in range(fw):
                dx[:, :, u:u + sh * dy.shape[2]:sh, v:v + sw * dy.shape[3]:sw] += (
                    dy * share[..., u, v])
        yield (f"matches the gradient {how}: nnspec, like torch, sends a window's whole "
               f"gradient to its first maximum in row-major order", {"x": dx})


def _constant_output(ctx: Context, k: float) -> Values | None:
    return _output_map(ctx, lambda y: k * y, lambda y: np.full_like(y, k))


def _average_not_divided(ctx: Context) -> Iterator[Candidate]:
    fh, fw = ctx.case.attrs["kernel_size"]
    values = _constant_output(ctx, float(fh * fw))
    if values is not None and fh * fw > 1:
        yield (f"matches the window sum, not divided by the window size FH·FW = {fh * fw}: "
               f"average pooling keeps the mean of each window", values)


def _sum_not_mean(ctx: Context) -> Iterator[Candidate]:
    n = ctx.case.inputs["logits"].shape[0]
    values = _constant_output(ctx, float(n))
    if values is not None and n > 1:
        yield (f"matches the sum over the batch (N = {n} times the mean): nnspec's "
               f"cross_entropy is the mean over N, as torch's default reduction", values)


def _softmax_axis(ctx: Context) -> Iterator[Candidate]:
    """softmax over axis 0: the reference on the input with its first and last axes swapped
    (the upstream gradient too), the results swapped back."""
    x = ctx.case.inputs["x"]
    if x.ndim < 2:                                         # (the first axis is the last)
        return
    values = ctx.evaluate({"x": x.swapaxes(0, -1)},
                          upstream={"y": np.swapaxes(ctx.case.upstream.get("y", x), 0, -1)})
    if values is not None:
        yield ("matches softmax over the first axis (each column summing to 1): nnspec, like "
               "torch's softmax(dim=-1), normalises over the last axis (each row a distribution)",
               {k: v.swapaxes(0, -1) for k, v in values.items()})


def _embedding_overwrite(ctx: Context) -> Iterator[Candidate]:
    ids, E = ctx.case.inputs["ids"].reshape(-1), ctx.case.inputs["E"]
    if ctx.check != "gradient" or len(np.unique(ids)) == len(ids):
        return
    dE = np.zeros(E.shape)
    dE[ids] = np.asarray(ctx.case.upstream["y"]).reshape(len(ids), -1)   # the last one stays
    yield ("matches ∂L/∂E assigned row by row (dE[ids] = dy), so a repeated id keeps one share: "
           "a row read k times gets the sum of its k upstream gradients (np.add.at)", {"E": dE})


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
        yield (f"matches {what}: nnspec pads P = {_like(ctx.case.attrs['padding'], padding)} "
               f"zeros on both sides of each axis", values)


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
    zero = _like(ctx.case.attrs.get("padding", (0,) * len(kernel)), (0,) * len(kernel))
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


def _stride_one(ctx: Context, stride: tuple[int, ...]) -> Iterator[Candidate]:
    """Stride 1 instead of S: the whole stride-1 output, or its top-left corner."""
    ones = _like(ctx.case.attrs["stride"], (1,) * len(stride))
    shape = np.shape((ctx.case.expected or {})["y"])
    full = ctx.forward(attrs={**ctx.attrs, "stride": ones})
    if full is None:  # pragma: no cover - stride 1 fits wherever a larger stride does
        return
    text = (f"matches stride 1 (the stride {_like(ctx.case.attrs['stride'], stride)} is "
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
    held = ", ".join(f"{ctx.prefix(k)} holds ∂/∂{o}" if ctx.check == "gradient" else
                     f"{k} holds {o}" for k, o in swaps.items())
    values = {**ctx.expected, **{k: ctx.expected[o] for k, o in swaps.items()}}
    if ctx.check == "gradient":
        order = ", ".join(ctx.prefix(k) for k in names)
        yield (f"matches the gradient of the wrong argument ({held}): the backward returns "
               f"the gradients in the order of the forward's arguments ({order})", values)
    else:
        yield (f"matches the outputs in the wrong order ({held}): the contract's order is "
               f"({', '.join(names)})", values)


def _all_zeros(ctx: Context) -> Iterator[Candidate]:
    """Arrays returned as zeros that should not be: a function not written yet, or an output
    array allocated and never filled."""
    zeros = [k for k, e in ctx.expected.items()
             if np.shape(ctx.got[k]) == e.shape and np.any(e != 0) and not np.any(ctx.got[k])]
    if zeros:
        what = "gradients" if ctx.check == "gradient" else "outputs"
        held = ", ".join(ctx.prefix(k) for k in zeros)
        yield (f"returns all zeros ({held}) where the true {what} are not zero: not computed "
               f"yet (a stub?), or an array allocated and never filled",
               {**ctx.expected, **{k: np.zeros_like(ctx.expected[k]) for k in zeros}})


def _factor(c: float) -> str:
    """``2``, ``1/4``, ``−1`` or ``0.7312``."""
    sign = "−" if c < 0 else ""
    for k, text in ((abs(c), "{k}"), (1.0 / abs(c), "1/{k}")):
        if round(k) >= 1 and abs(k - round(k)) <= 1e-6 * k:
            return sign + text.format(k=round(k))
    return f"{c:.4g}"


def _constant_factor(ctx: Context) -> Iterator[Candidate]:
    """The true values times c (least squares); only where at least two elements are nonzero,
    since any single number is a multiple of any other."""
    factors: dict[str, float] = {}
    for k, e in ctx.expected.items():
        g = np.asarray(ctx.got[k], dtype=np.float64)
        if g.shape != e.shape or _close(g, e, ctx.tol):
            continue
        if np.count_nonzero(e) < 2 or not np.all(np.isfinite(g)):
            return
        factors[k] = float(np.sum(g * e)) / float(np.sum(e * e))
    if not factors or any(np.isclose(c, 1.0) or np.isclose(c, 0.0) for c in factors.values()):
        return                                            # (zeros: _all_zeros' business)
    values = {**ctx.expected, **{k: c * ctx.expected[k] for k, c in factors.items()}}
    scaled = ", ".join(f"{ctx.prefix(k)} × {_factor(c)}" for k, c in factors.items())
    what = "gradient" if ctx.check == "gradient" else "output"
    how = ("with its sign flipped" if all(abs(c + 1.0) < 1e-6 for c in factors.values())
           else "scaled by a constant")
    part = "backward" if ctx.check == "gradient" else "forward"
    yield (f"matches the true {what} {how} ({scaled}): the {part} has a factor too many or too "
           f"few", values)


MISTAKES: tuple[Mistake, ...] = (
    Mistake("float32 rounding", None, ("convention.float64",), _float32),
    Mistake("flipped kernel", frozenset({"conv2d", "conv1d"}),
            ("conv.kernel", "convention.cross-correlation"), _flipped_kernel),
    Mistake("transposed weight", frozenset({"linear", "rnn", "lstm", "gru"}), ("{op}",),
            _transposed_weight),
    Mistake("gate order", frozenset({"lstm", "gru"}), ("{op}", "convention.gate-order"),
            _gate_order),
    Mistake("GRU update gate", frozenset({"gru"}), ("gru", "convention.gru-reset-after"),
            _gru_update),
    Mistake("missing sqrt", frozenset({"lp_pool2d"}), ("pool.l2", "convention.pooling"),
            _missing_sqrt),
    Mistake("tie rule", frozenset({"max_pool2d"}), ("pool.max", "convention.pooling"),
            _tie_rule),
    Mistake("average not divided", frozenset({"avg_pool2d"}), ("pool.avg", "convention.pooling"),
            _average_not_divided),
    Mistake("sum instead of mean", frozenset({"cross_entropy"}), ("convention.ce-mean",),
            _sum_not_mean),
    Mistake("softmax axis", frozenset({"softmax"}), None, _softmax_axis),
    Mistake("embedding overwrite", frozenset({"embedding"}), None, _embedding_overwrite),
    Mistake("final state ignored", frozenset({"rnn", "lstm", "gru"}), None,
            _final_state_ignored),
    Mistake("axes swapped", frozenset({"conv2d", "max_pool2d", "avg_pool2d", "lp_pool2d"}),
            ("convention.nchw",), _axes_swapped),
    Mistake("one-sided padding", frozenset({"conv2d", "conv1d"}), ("conv.padding",),
            _one_sided_padding),
    Mistake("stride ignored", frozenset({"conv2d", "conv1d", "max_pool2d", "avg_pool2d",
                                         "lp_pool2d"}), ("conv.stride",), _stride_ignored),
    Mistake("wrong argument", None, None, _wrong_argument),
    Mistake("all zeros", None, None, _all_zeros),
    Mistake("constant factor", None, None, _constant_factor),
)
"""The well-known mistakes, tried in this order. In ``claims``, "{op}" stands for the op's own
first claim; None means the op's claim, with graph.backprop (the chain rule) for gradients."""


def _close(actual: Any, expected: np.ndarray, tol: Tolerance) -> bool:
    return compare(actual, expected, tol).ok            # (False for another shape, too)


def _claims(mistake: Mistake, ctx: Context) -> tuple[str, ...]:
    own = op_spec(ctx.case.op).claims[:1]
    if mistake.claims is not None:
        return tuple(c for claim in mistake.claims for c in (own if claim == "{op}" else (claim,)))
    return ("graph.backprop", *own) if ctx.check == "gradient" else own


def _explains(ctx: Context, values: Values, loose: Tolerance) -> bool:
    """The backend's values match the mistake's, which differ from the expected ones."""
    matches = all(_close(ctx.got[k], np.asarray(v, np.float64), loose) for k, v in values.items())
    differs = any(not _close(np.asarray(v, np.float64), ctx.expected[k], ctx.tol)
                  for k, v in values.items())
    # right values in the wrong dtype: only "float32 rounding" (tried first) can explain them
    wrong_dtype = any(np.asarray(v).dtype != np.float64 for v in ctx.got.values())
    return matches and (differs or wrong_dtype)


def diagnose(case: Case, check: Check, got: Mapping[str, np.ndarray], dtype: Any,
             tol: Tolerance, reference: Bound | None = None) -> str:
    """The mistake a failing check matches, with the claims it breaks, or "no known mistake".

    ``case`` must carry its expected values (conformance.cases.complete); ``got`` is what the
    backend returned, by output (forward) or input (gradient) name; ``tol`` the check's
    tolerance.
    """
    ctx = Context(case, check, {k: np.asarray(v) for k, v in got.items()}, np.dtype(dtype),
                  tol, reference or load_backend("numpy"))
    loose = Tolerance(4 * tol.rtol, 4 * tol.atol)
    tried = []
    for mistake in MISTAKES:
        if not mistake.applies(ctx):
            continue
        tried.append(mistake.name)
        for text, values in mistake.candidates(ctx):
            if _explains(ctx, values, loose):
                return f"{text} [breaks {', '.join(_claims(mistake, ctx))}]"
    shapes = any(np.shape(ctx.got[k]) != e.shape for k, e in ctx.expected.items())
    return (f"unknown: none of the well-known mistakes matches (tried {', '.join(tried)}); "
            f"compare the {'shapes' if shapes else 'worst element'} in the check's reason")
