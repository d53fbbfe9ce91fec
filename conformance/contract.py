"""The contract: every op a backend may implement, written once (signature, shapes, semantics).

A backend is any Python object (a module, a class instance) that exposes some of the functions
below under their contract names. NumPy arrays go in, arrays come out (NumPy arrays, torch or
JAX tensors, anything with ``__array__``; not None, not lists of numbers). Arrays are passed
positionally, in the order listed, followed by the attributes (also positionally), so a backend
is free to name its parameters as it likes::

    y = backend.conv2d(x, w, b, (1, 2), (0, 1))          # stride (SH, SW), padding (PH, PW)

Gradients, in either of two styles (a backend may offer both; per-op functions win):

* per-op backward functions, the style of hand-written NumPy code: ``<op>_backward`` takes the
  upstream gradient of each output, then the forward's arrays and attributes, and returns the
  gradient of every differentiable input, in the forward's order::

      dx, dw, db = backend.conv2d_backward(dy, x, w, b, (1, 2), (0, 1))

* one generic vector-Jacobian product, the style of autodiff frameworks::

      dx, dw, db = backend.vjp("conv2d", (x, w, b), {"stride": (1, 2), "padding": (0, 1)},
                               (dy,))

  ``vjp(op, inputs, attrs, cotangents)`` returns the gradients of Σ cotangent ∘ output with respect
  to the op's differentiable inputs (a tuple in order, or a dict by input name); it raises
  NotImplementedError for an op it does not cover.

An op or a gradient a backend lacks is reported as "not implemented" (skipped), never as a
failure, unless the run requires it. Layouts follow CONVENTIONS: images NCHW, kernels
[K, C, FH, FW]; sequences time-major [T, N, D]; stacked gate weights in PyTorch's layout and
order (LSTM i, f, g, o; GRU r, z, n).

``OPS`` below is the single source of the contract: ``nnspec list``, ``nnspec explain`` and the
README's contract table are generated from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

__all__ = [
    "OPS",
    "Accumulation",
    "Arg",
    "Attr",
    "Check",
    "OpSpec",
    "SupportsVJP",
    "axis_letters",
    "contract_markdown",
    "op_spec",
    "per_axis",
]

ArgKind = Literal["float", "index"]
AttrKind = Literal["pair", "int", "float"]
Check = Literal["forward", "gradient"]
"""The two checks of an op: its outputs, and its gradients (of Σ upstream ∘ outputs)."""


class SupportsVJP(Protocol):
    """A backend whose gradients come from one generic vector-Jacobian product."""

    def vjp(self, op: str, inputs: tuple[np.ndarray, ...], attrs: Mapping[str, Any],
            cotangents: tuple[np.ndarray, ...]) -> Any:
        """Gradients of Σ cotangent ∘ op(*inputs, **attrs) w.r.t. the differentiable inputs."""


@dataclass(frozen=True)
class Arg:
    """An array argument or output: its name, its shape in fixed letters and its kind.

    ``kind`` is "float" for real arrays (in the run's dtype) and "index" for int64 ids, which
    carry no gradient.
    """

    name: str
    shape: str
    doc: str
    kind: ArgKind = "float"

    @property
    def differentiable(self) -> bool:
        return self.kind == "float"


@dataclass(frozen=True)
class Attr:
    """A non-array setting: "pair" is a per-axis (vertical, horizontal) tuple of ints."""

    name: str
    kind: AttrKind
    doc: str


@dataclass(frozen=True)
class Accumulation:
    """How much an op accumulates, for the tolerance policy (reference.tolerance.tolerance).

    ``terms`` is the length of the largest sum in the forward pass, ``gradient_terms`` the same
    for its gradients, ``depth`` the number of dependent steps (time steps of a recurrence).
    """

    terms: int
    gradient_terms: int
    depth: int = 1

    def terms_of(self, check: Check) -> int:
        """The length of the largest sum behind a check: ``terms`` for "forward", else (a
        gradient check) ``gradient_terms``."""
        return self.terms if check == "forward" else self.gradient_terms


AccumulationRule = Callable[[Mapping[str, np.ndarray], Mapping[str, Any]], Accumulation]


@dataclass(frozen=True)
class OpSpec:
    """One op of the contract.

    ``formula`` is the forward, ``gradient`` the backward, each in one or two lines; ``notes`` the
    conventions a backend must follow; ``claims`` the IDs of reference.claims.REGISTRY the op
    makes checkable; ``reference`` the reference functions it is computed by.
    """

    name: str
    family: str
    inputs: tuple[Arg, ...]
    attrs: tuple[Attr, ...]
    outputs: tuple[Arg, ...]
    formula: str
    gradient: str
    notes: tuple[str, ...]
    claims: tuple[str, ...]
    reference: tuple[str, ...]
    accumulation: AccumulationRule = field(repr=False)

    @property
    def differentiable(self) -> tuple[Arg, ...]:
        """The inputs that get a gradient, in the forward's order."""
        return tuple(a for a in self.inputs if a.differentiable)

    @property
    def backward_name(self) -> str:
        return f"{self.name}_backward"

    def signature(self) -> str:
        """``conv2d(x, w, b, stride, padding) -> y``."""
        args = ", ".join([a.name for a in self.inputs] + [a.name for a in self.attrs])
        return f"{self.name}({args}) -> {_names(self.outputs)}"

    def backward_signature(self) -> str:
        """``conv2d_backward(dy, x, w, b, stride, padding) -> (dx, dw, db)``."""
        ups = [f"d{o.name}" for o in self.outputs]
        args = ", ".join(ups + [a.name for a in self.inputs] + [a.name for a in self.attrs])
        grads = tuple(Arg(f"d{a.name}", a.shape, "") for a in self.differentiable)
        return f"{self.backward_name}({args}) -> {_names(grads)}"

    def shapes(self) -> str:
        """``x [N, C, H, W], w [K, C, FH, FW], b [K] → y [N, K, OH, OW]``."""
        ins = ", ".join(f"{a.name} {a.shape}" for a in self.inputs)
        outs = ", ".join(f"{a.name} {a.shape}" for a in self.outputs)
        return f"{ins} → {outs}"


def _names(args: tuple[Arg, ...]) -> str:
    names = [a.name for a in args]
    return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"


# ---------------------------------------------------------------- accumulation rules
def _elementwise(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
    return Accumulation(1, 1)


def _linear(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
    (n, d), m = inputs["x"].shape, inputs["w"].shape[0]
    return Accumulation(d + 1, max(n, m))           # y sums D products; dw and db sum over N


def _softmax(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
    c = inputs["x"].shape[-1] if inputs["x"].ndim else 1
    return Accumulation(c, c)


def _cross_entropy(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
    n, c = inputs["logits"].shape
    return Accumulation(n * c, c)                   # a log-sum-exp over C per row, a mean over N


def _max_margin(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
    return Accumulation(2, 1)                       # Δ + s_c − s


def _conv(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
    x, w = inputs["x"], inputs["w"]
    window = math.prod(w.shape[1:])                # C·FH·FW (C·F in 1-D)
    taps = math.prod(w.shape[2:])
    stride = per_axis(attrs["stride"], w.ndim - 2)
    padding = per_axis(attrs["padding"], w.ndim - 2)
    out = [(n + 2 * p - f) // s + 1                # OH = (H + 2PH − FH)/SH + 1, per axis
           for n, f, s, p in zip(x.shape[2:], w.shape[2:], stride, padding)]
    positions = x.shape[0] * math.prod(out)        # dw, db sum over N·OH·OW
    return Accumulation(window + 1, max(w.shape[0] * taps, positions))


def per_axis(value: Any, axes: int) -> tuple[int, ...]:
    """An attribute given per axis (a pair) or once for all ``axes`` (an int)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * axes
    return tuple(int(v) for v in value)


def as_attribute(original: Any, values: tuple[int, ...]) -> Any:
    """Per-axis values in the form of the attribute ``original``: an int (conv1d's stride and
    padding) or a tuple."""
    return values[0] if np.ndim(original) == 0 else tuple(values)


def _pool(window_sum: bool) -> AccumulationRule:
    def rule(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
        (fh, fw), (sh, sw) = attrs["kernel_size"], attrs["stride"]
        overlap = -(-fh // sh) * -(-fw // sw)       # windows that share one input element
        terms = fh * fw if window_sum else 1
        return Accumulation(terms, max(terms, overlap))
    return rule


def _recurrent(gates: int) -> AccumulationRule:
    def rule(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
        t, n, d = inputs["x"].shape
        h = inputs["h0"].shape[1]
        return Accumulation(d + h + 2, max(d + h + 2, gates * h, n), depth=t)
    return rule


def _embedding(inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Accumulation:
    ids = np.asarray(inputs["ids"]).ravel()
    repeats = int(np.bincount(ids).max()) if ids.size else 1
    return Accumulation(1, repeats)                 # dE[v] adds one row per occurrence of v


# ---------------------------------------------------------------- the ops
_ANY = "[...]"
_IMAGE = Arg("x", "[N, C, H, W]", "images, NCHW")
_POOLED = (Arg("y", "[N, C, OH, OW]", "OH = (H − FH)/SH + 1, OW = (W − FW)/SW + 1"),)
_POOL_ATTRS = (
    Attr("kernel_size", "pair", "window (FH, FW)"),
    Attr("stride", "pair", "step (SH, SW)"),
)
_POOL_NOTES = (
    "No padding; the geometry must fit exactly ((H − FH)/SH + 1 whole), cases never crop.",
    "Works on every channel of every image independently; no parameters.",
)
_SEQ = Arg("x", "[T, N, D]", "input sequence, time-major")


def _activation(name: str, formula: str, gradient: str, notes: tuple[str, ...],
                claims: tuple[str, ...]) -> OpSpec:
    return OpSpec(
        name=name, family="activations",
        inputs=(Arg("x", _ANY, "pre-activation, any shape"),), attrs=(),
        outputs=(Arg("y", _ANY, "same shape as x"),),
        formula=formula, gradient=gradient, notes=notes, claims=claims,
        reference=(f"reference.activations.{name}", f"reference.activations.{name}_grad"),
        accumulation=_elementwise,
    )


def _recurrent_spec(name: str, gates: str, formula: str, gradient: str,
                    notes: tuple[str, ...], claims: tuple[str, ...]) -> OpSpec:
    g = len(gates.split(", ")) if gates else 1
    stacked = f"{g}H" if g > 1 else "H"
    lstm = name == "lstm"
    states = (Arg("h0", "[N, H]", "initial hidden state"),) + (
        (Arg("c0", "[N, H]", "initial cell state"),) if lstm else ())
    outputs = (Arg("out", "[T, N, H]", "the hidden state at every step"),
               Arg("h_n", "[N, H]", "the last hidden state (= out[T − 1])")) + (
        (Arg("c_n", "[N, H]", "the last cell state"),) if lstm else ())
    stack_doc = f" stacked by gate ({gates})" if gates else ""
    return OpSpec(
        name=name, family="recurrent",
        inputs=(_SEQ, *states,
                Arg("w_ih", f"[{stacked}, D]", f"input→hidden weights{stack_doc}"),
                Arg("w_hh", f"[{stacked}, H]", f"hidden→hidden weights{stack_doc}"),
                Arg("b_ih", f"[{stacked}]", "input bias"),
                Arg("b_hh", f"[{stacked}]", "hidden bias")),
        attrs=(), outputs=outputs, formula=formula, gradient=gradient,
        notes=("Sequences are time-major [T, N, D] (batch_first=False); one layer, one "
               "direction; weights in PyTorch's layout (weight_ih_l0, weight_hh_l0, bias_ih_l0, "
               "bias_hh_l0).", *notes),
        claims=(*claims, "convention.time-major"),
        reference=(f"reference.{name}.{name}_forward", f"reference.{name}.{name}_backward"),
        accumulation=_recurrent(g),
    )


OPS: dict[str, OpSpec] = {
    op.name: op
    for op in (
        _activation("step", "y = 1 where x ≥ 0, else 0",
                    "dx = 0 (the step passes no gradient)",
                    ("step(0) = 1: the threshold sits at 0.",),
                    ("act.step", "convention.step-at-zero")),
        _activation("sigmoid", "y = σ(x) = 1 / (1 + e^−x)", "dx = dy ∘ σ(x)(1 − σ(x))",
                    ("Stable for any finite x: σ(−1e4) = 0, σ(1e4) = 1, no warning, no nan.",),
                    ("act.sigmoid", "convention.stable")),
        _activation("tanh", "y = tanh(x)", "dx = dy ∘ (1 − tanh²(x))", (), ("act.tanh",)),
        _activation("relu", "y = max(0, x)", "dx = dy where x > 0, else 0",
                    ("relu'(0) = 0, as in PyTorch and JAX.",),
                    ("act.relu", "convention.relu-at-zero")),
        OpSpec(
            name="linear", family="feed-forward",
            inputs=(Arg("x", "[N, D]", "a batch of inputs (rows)"),
                    Arg("w", "[M, D]", "weights, in the slide's orientation W"),
                    Arg("b", "[M]", "bias")),
            attrs=(), outputs=(Arg("y", "[N, M]", "pre-activations"),),
            formula="y = x wᵀ + b (the slide's z = Wx + b, one example per row)",
            gradient="dx = dy w, dw = dyᵀ x, db = Σ_n dy",
            notes=("w is [M, D] like torch.nn.Linear.weight, not [D, M].",),
            claims=("ff.layers",),
            reference=("reference.feedforward.dense", "reference.feedforward.dense_backward"),
            accumulation=_linear,
        ),
        OpSpec(
            name="softmax", family="losses",
            inputs=(Arg("x", "[..., C]", "logits; softmax over the last axis"),), attrs=(),
            outputs=(Arg("y", "[..., C]", "probabilities, summing to 1 along the last axis"),),
            formula="y_k = e^(x_k − max x) / Σ_j e^(x_j − max x), along the last axis",
            gradient="dx = y ∘ (dy − Σ_k dy_k y_k)",
            notes=("Stable for any finite input (the max shift).",),
            claims=("rnn.cell", "convention.stable"),
            reference=("reference.losses.softmax",),
            accumulation=_softmax,
        ),
        OpSpec(
            name="cross_entropy", family="losses",
            inputs=(Arg("logits", "[N, C]", "unnormalised scores"),
                    Arg("targets", "[N]", "class ids in [0, C)", kind="index")),
            attrs=(), outputs=(Arg("loss", "[]", "a scalar (0-d array)"),),
            formula="loss = −(1/N) Σ_n log softmax(logits_n)[targets_n]",
            gradient="dlogits = dloss · (softmax(logits) − onehot(targets)) / N",
            notes=("The mean over N, as torch.nn.functional.cross_entropy's default.",
                   "Stable for any finite logits (log-sum-exp)."),
            claims=("convention.ce-mean", "convention.stable"),
            reference=("reference.losses.cross_entropy", "reference.losses.cross_entropy_backward"),
            accumulation=_cross_entropy,
        ),
        OpSpec(
            name="max_margin", family="losses",
            inputs=(Arg("s", _ANY, "score of the true window"),
                    Arg("s_c", _ANY, "score of the corrupt window, same shape as s")),
            attrs=(Attr("delta", "float", "the margin Δ (the lecture's 1)"),),
            outputs=(Arg("J", _ANY, "elementwise, same shape as s"),),
            formula="J = max(0, Δ + s_c − s), elementwise",
            gradient="(ds, ds_c) = (−dJ, dJ) where J > 0, else (0, 0)",
            notes=("At the kink Δ + s_c − s = 0 any slope in [0, 1] is a subgradient (nnspec "
                   "takes 0, like relu'(0); torch's clamp gives 1, JAX's maximum ½): golden "
                   "cases keep away from it and slide cases weigh it with an upstream 0, so "
                   "any choice passes.",),
            claims=("window.margin", "convention.margin-delta"),
            reference=("reference.losses.max_margin", "reference.losses.max_margin_backward"),
            accumulation=_max_margin,
        ),
        OpSpec(
            name="conv2d", family="convolution",
            inputs=(_IMAGE,
                    Arg("w", "[K, C, FH, FW]", "K kernels, each spanning all C channels"),
                    Arg("b", "[K]", "one bias per kernel")),
            attrs=(Attr("stride", "pair", "step (SH, SW), may differ per axis"),
                   Attr("padding", "pair", "zeros (PH, PW) on both sides of each axis")),
            outputs=(Arg("y", "[N, K, OH, OW]",
                         "OH = (H + 2PH − FH)/SH + 1, OW = (W + 2PW − FW)/SW + 1"),),
            formula="y[n,k,i,j] = b[k] + Σ_{c,p,q} w[k,c,p,q] · xpad[n,c,SH·i+p,SW·j+q]",
            gradient="dx, dw, db of Σ dy ∘ y (db[k] = Σ_{n,i,j} dy[n,k,i,j])",
            notes=("Cross-correlation: the kernel is not flipped (the slide's Sobel example "
                   "gives 2).",
                   "Layout NCHW, kernels [K, C, FH, FW]; zero padding, symmetric.",
                   "The geometry must fit exactly; cases never rely on cropping."),
            claims=("conv.kernel", "conv.padding", "conv.stride", "conv.depth",
                    "conv.grid-size", "convention.nchw", "convention.cross-correlation"),
            reference=("reference.conv.conv2d", "reference.conv.conv2d_backward"),
            accumulation=_conv,
        ),
        OpSpec(
            name="conv1d", family="convolution",
            inputs=(Arg("x", "[N, C, L]", "sequences with C channels (e.g. embedding "
                                          "dimensions) over L positions"),
                    Arg("w", "[K, C, F]", "K kernels of width F spanning all C channels"),
                    Arg("b", "[K]", "one bias per kernel")),
            attrs=(Attr("stride", "int", "step S"), Attr("padding", "int", "zeros P per side")),
            outputs=(Arg("y", "[N, K, OL]", "OL = (L + 2P − F)/S + 1"),),
            formula="y[n,k,i] = b[k] + Σ_{c,p} w[k,c,p] · xpad[n,c,S·i+p]",
            gradient="dx, dw, db of Σ dy ∘ y",
            notes=("Cross-correlation over one axis, layout NCL as torch.nn.functional.conv1d; "
                   "for text, C is the embedding width, so each kernel covers whole word "
                   "vectors.",),
            claims=("cnn.text",),
            reference=("reference.conv.conv1d", "reference.conv.conv1d_backward"),
            accumulation=_conv,
        ),
        OpSpec(
            name="max_pool2d", family="pooling", inputs=(_IMAGE,), attrs=_POOL_ATTRS,
            outputs=_POOLED,
            formula="y[n,c,i,j] = max_{p,q} x[n,c,SH·i+p,SW·j+q]",
            gradient="dy goes whole to one maximal element of each window",
            notes=(*_POOL_NOTES,
                   "Ties: the gradient goes to the first maximum in row-major order."),
            claims=("pool.max", "convention.pooling"),
            reference=("reference.pooling.max_pool2d", "reference.pooling.max_pool2d_backward"),
            accumulation=_pool(window_sum=False),
        ),
        OpSpec(
            name="avg_pool2d", family="pooling", inputs=(_IMAGE,), attrs=_POOL_ATTRS,
            outputs=_POOLED,
            formula="y[n,c,i,j] = (1/(FH·FW)) Σ_{p,q} x[n,c,SH·i+p,SW·j+q]",
            gradient="each element of a window gets dy/(FH·FW)",
            notes=(*_POOL_NOTES, "Divides by the window size FH·FW."),
            claims=("pool.avg", "convention.pooling"),
            reference=("reference.pooling.avg_pool2d", "reference.pooling.avg_pool2d_backward"),
            accumulation=_pool(window_sum=True),
        ),
        OpSpec(
            name="lp_pool2d", family="pooling", inputs=(_IMAGE,), attrs=_POOL_ATTRS,
            outputs=_POOLED,
            formula="y[n,c,i,j] = √(Σ_{p,q} x[n,c,SH·i+p,SW·j+q]²)   (L2 pooling, p = 2)",
            gradient="dx = dy · x / y within each window",
            notes=(*_POOL_NOTES,
                   "p = 2: as torch.nn.functional.lp_pool2d(x, 2, kernel_size, stride); the "
                   "reference calls it l2_pool2d. Cases keep windows away from all-zero, where "
                   "the gradient is undefined."),
            claims=("pool.l2", "convention.pooling"),
            reference=("reference.pooling.l2_pool2d", "reference.pooling.l2_pool2d_backward"),
            accumulation=_pool(window_sum=True),
        ),
        _recurrent_spec(
            "rnn", "",
            "s_t = tanh(w_ih x_t + b_ih + w_hh s_{t−1} + b_hh), s_{−1} = h0; out[t] = s_t",
            "backpropagation through time for x, h0 and every weight",
            ("The slides' U is w_ih, W is w_hh and b is b_ih + b_hh (torch.nn.RNN, "
             "nonlinearity 'tanh').",),
            ("rnn.cell", "rnn.bptt")),
        _recurrent_spec(
            "lstm", "i, f, g, o",
            "i, f, o = σ(·), g = tanh(·) of w_ih x_t + b_ih + w_hh h_{t−1} + b_hh (split by "
            "gate); c_t = f ∘ c_{t−1} + i ∘ g; h_t = o ∘ tanh(c_t)",
            "backpropagation through time for x, h0, c0 and every weight",
            ("Gate order i, f, g, o in the stacked rows (torch.nn.LSTM); ONNX's i, o, f, c "
             "must be permuted by its adapter.",
             "The slide's s_t is h_t; its biasless form is b_ih = b_hh = 0."),
            ("lstm.slide", "convention.gate-order")),
        _recurrent_spec(
            "gru", "r, z, n",
            "r, z = σ(w_i· x_t + b_i· + w_h· h_{t−1} + b_h·); n = tanh(w_in x_t + b_in + "
            "r ∘ (w_hn h_{t−1} + b_hn)); h_t = (1 − z) ∘ n + z ∘ h_{t−1}",
            "backpropagation through time for x, h0 and every weight",
            ("Gate order r, z, n in the stacked rows (torch.nn.GRU).",
             "\"Reset after\": r multiplies (w_hn h + b_hn), so b_ih and b_hh are not "
             "interchangeable for n; h_t keeps z ∘ h_{t−1}."),
            ("gru", "convention.gate-order", "convention.gru-reset-after")),
        OpSpec(
            name="embedding", family="embedding",
            inputs=(Arg("ids", "[...]", "token ids in [0, V)", kind="index"),
                    Arg("E", "[V, D]", "the embedding matrix, one row per token")),
            attrs=(), outputs=(Arg("y", "[..., D]", "y[...] = E[ids[...]]"),),
            formula="y = E[ids] (= onehot(ids) @ E)",
            gradient="dE[v] = Σ over positions with ids = v of dy (repeated ids add up)",
            notes=("ids are int64; they get no gradient.",),
            claims=("embedding",),
            reference=("reference.embedding.embedding", "reference.embedding.embedding_backward"),
            accumulation=_embedding,
        ),
    )
}


def op_spec(name: str) -> OpSpec:
    """The spec of op ``name``; KeyError lists the contract's ops if there is none."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op {name!r} in the contract; ops: {', '.join(OPS)}") from None


def axis_letters(op: str, name: str) -> list[str]:
    """The contract's letters of an array's axes ("N", "C", "OH", "...", "4H"), as its shape
    writes them; [] for an array of no bracketed shape ("same shape as s")."""
    spec = op_spec(op)
    arg = next((a for a in (*spec.inputs, *spec.outputs) if a.name == name), None)
    if arg is None or not arg.shape.startswith("["):
        return []
    return arg.shape.strip("[]").replace(" ", "").split(",")


def contract_markdown() -> str:
    """The contract as a Markdown table (for the README), generated from ``OPS``."""
    lines = ["| op | signature | shapes | forward | gradient |", "|---|---|---|---|---|"]
    for op in OPS.values():
        lines.append(f"| {op.name} | `{op.signature()}` | {op.shapes()} | {op.formula} | "
                     f"`{op.backward_signature()}`: {op.gradient} |")
    return "\n".join(lines) + "\n"
