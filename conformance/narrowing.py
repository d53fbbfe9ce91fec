"""Narrowing a failure: which features of the case the mistake needs, and where it sits without
them.

When no well-known mistake explains a failing check, the diagnosis still has the backend at hand,
and a smaller case often says more than a large one. ``narrow`` takes the failing case apart one
feature at a time, in this order, and calls the backend again on each simpler case, against the
reference's values for it:

==================  ==========================================================================
N = 1               one example: the batch axis (N, or the leading axis of "[...]" arrays) cut
                    to its first entry, in the inputs and the upstream gradients alike
T = 1               the recurrent ops: the first step alone
C = 1, K = 1        convolution and pooling: the first channel; the first kernel
h0 = 0              the recurrent ops: the initial states (h0, and c0) zero
b = 0               the biases zero (linear, convolution, the recurrent ops)
M = D               linear: a square weight (the longer of M and D cut to the shorter)
D = H               the recurrent ops: the input's size D and the state's H, the larger cut to
                    the smaller (each gate block where H is cut)
stride 1            convolution and pooling: stride 1 on every axis
padding 0           convolution: no padding
stride = window     pooling: windows that do not overlap
only dout           the recurrent ops' gradient: one upstream gradient at a time, the others 0
==================  ==========================================================================

A simplification under which the backend is still wrong is kept, and the next one is tried on
top of it; one under which the backend is right is undone and reported: the mistake needs what
it took away ("right once N = 1": the batch is part of the mistake, a sum or mean over it,
say). What is left at the end is the smallest failing case these steps reach, and its anatomy
says where the mistake sits there (an LSTM's "only in gate block o" at T = 1, say, where the
full sequence spreads it over every block). A simpler case whose call raises or times out says
nothing and is skipped, unless the failing check itself raised: then a simpler case that
raises too is still wrong, and one that is right says what the crash needs ("right once
stride 1" for a forward that slices one axis with the other's stride); one that does not raise
but is wrong is kept as still wrong, with "(where it no longer raises)": the crash needs what it
took away ("M = D" for a backward indexing w[d, m] where w[m, d] belongs).

Where a new stride, padding or window no longer fits the input exactly, the input is cut at the
end of each axis to the largest size it fits. Every simpler case is judged exactly as a check is:
the reference's values for it, the tolerance policy's tolerance for its accumulation, in the
run's dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from conformance.anatomy import Anatomy, anatomies
from conformance.backends import Bound
from conformance.cases import Case, complete, f32
from conformance.consistency import Target
from conformance.contract import Check, as_attribute, axis_letters, op_spec, per_axis
from reference.tolerance import compare

__all__ = ["Narrowing", "narrow"]

_RECURRENT = frozenset({"rnn", "lstm", "gru"})
_CONV = frozenset({"conv2d", "conv1d"})
_POOLS = frozenset({"max_pool2d", "avg_pool2d", "lp_pool2d"})
_BIASES = ("b", "b_ih", "b_hh")
_ELEMENTWISE = frozenset({"step", "sigmoid", "tanh", "relu", "max_margin"})
"""Ops whose every output element depends on one input element (their anatomy already says
where): nothing to narrow."""


NO_LONGER_RAISES = " (where it no longer raises)"
"""Said of a simplification of a case whose call raised, under which the call returns values
(wrong ones): the crash needs what it took away."""


@dataclass(frozen=True)
class Narrowing:
    """What narrowing a failing case found: the simplifications under which the backend is
    right (``right``, each tried on the case narrowed so far), those under which it stays wrong
    (``wrong``, all applied together at the end) and the anatomy of that smallest failing
    case."""

    right: tuple[str, ...]
    wrong: tuple[str, ...]
    anatomy: tuple[Anatomy, ...] = ()

    @property
    def text(self) -> str:
        """``right once N = 1; still wrong with T = 1, h0 = 0: there dw_ih wrong only in gate
        block o (rows 12–15) ...``."""
        parts = [f"right once {s}" for s in self.right]
        if self.wrong:
            still = f"still wrong with {', '.join(self.wrong)}"
            shown = self.shown
            if shown:
                rest = len(self.anatomy) - len(shown)
                still += f"; there {' | '.join(a.text for a in shown)}" + (
                    f" | and {rest} other wrong {'arrays' if rest > 1 else 'array'}"
                    if rest else "")
            parts.append(still)
        return "; ".join(parts)

    @property
    def tells(self) -> bool:
        """Whether it says what a crash needs: a simplification under which the call is right,
        or no longer raises."""
        return bool(self.right) or any(w.endswith(NO_LONGER_RAISES) for w in self.wrong)

    @property
    def shown(self) -> tuple[Anatomy, ...]:
        """The anatomies the text shows: the (at most two) first arrays wrong only somewhere
        (a gate block, some rows, the border), or else the first wrong array."""
        local = tuple(a for a in self.anatomy if a.where and a.where != ("everywhere",))
        return local[:2] or self.anatomy[:1]

    def to_dict(self) -> dict[str, Any]:
        return {"right": list(self.right), "wrong": list(self.wrong),
                "anatomy": [a.to_dict() for a in self.anatomy], "text": self.text}


def narrow(target: Target, case: Case, check: Check, dtype: Any, reference: Bound,
           timeout: float | None = None, raised: bool = False) -> Narrowing | None:
    """The narrowing of ``case``'s failing ``check`` (see the module's docstring); None where no
    simplification applies to the case (the elementwise ops, a case already as small as these
    steps make it) or none could be judged. ``raised``: the check failed by an exception, and a
    simpler case's call that raises too is wrong (not unjudged)."""
    dt = np.dtype(dtype)
    current = case if check == "gradient" else replace(case, upstream={}, expected_grads=None)
    right: list[str] = []
    wrong: list[str] = []
    smallest: tuple[Case, Mapping[str, np.ndarray]] | None = None
    for phrase, simpler in _simplifications(current, check):
        candidate = simpler(current)
        if candidate is None:
            continue
        judged = _judge(target, candidate, check, dt, reference, timeout, raised)
        if judged is None:
            continue
        candidate, got, ok = judged
        if ok:
            right.append(phrase)
        else:
            if raised and got:            # the crash needs what this took away
                phrase, raised = f"{phrase}{NO_LONGER_RAISES}", False
            wrong.append(phrase)
            current, smallest = candidate, (candidate, got)
    if not right and not wrong:
        return None
    parts: tuple[Anatomy, ...] = ()
    if smallest is not None and smallest[1]:
        small, values = smallest
        expected = (small.expected if check == "forward" else small.expected_grads) or {}
        parts = tuple(anatomies(small.op, check, values, expected, small.tolerance_for(check, dt),
                                small.inputs, small.attrs))
    return Narrowing(tuple(right), tuple(wrong), parts)


def _judge(target: Target, case: Case, check: Check, dt: np.dtype, reference: Bound,
           timeout: float | None,
           raised: bool = False) -> tuple[Case, dict[str, np.ndarray], bool] | None:
    """The simpler case completed by the reference, what the backend returns for it and whether
    that is right; None where the reference refuses the case (a geometry that does not fit
    exactly: reference.conv's rule, the one place of it) or the backend's call gives no
    values (it timed out, or it raised where ``raised`` is False)."""
    from conformance.checks import _invoke

    try:
        case = complete(_drawn(case, reference), reference)
    except (ValueError, ArithmeticError, IndexError):
        return None
    outcome = _invoke(target, case, check, dt, timeout)
    if outcome.values is None:
        return (case, {}, False) if raised and outcome.status == "fail" else None
    expected = (case.expected if check == "forward" else case.expected_grads) or {}
    got = {k: np.asarray(v) for k, v in outcome.values.items()}
    tol = case.tolerance_for(check, dt)
    ok = all(k in got and np.shape(got[k]) == np.shape(e)
             and compare(np.asarray(got[k], np.float64), np.asarray(e, np.float64), tol).ok
             for k, e in expected.items())
    return case, got, ok


# ---------------------------------------------------------------- the simplifications
Simplify = Callable[[Case], "Case | None"]


def _simplifications(case: Case, check: Check) -> Iterator[tuple[str, Simplify]]:
    """The op's simplifications, in the order they are tried."""
    op = case.op
    if op in _ELEMENTWISE:
        return
    yield "N = 1", lambda c: _first(c, "N")
    if op in _RECURRENT:
        yield "T = 1", lambda c: _first(c, "T")
    if op in _CONV | _POOLS:
        yield "C = 1", lambda c: _first(c, "C")
    if op in _CONV:
        yield "K = 1", lambda c: _first(c, "K")
    if op in _RECURRENT:
        states = [a.name for a in op_spec(op).inputs if a.name in ("h0", "c0")]
        yield f"{' = '.join(states)} = 0", lambda c: _zeroed(c, states)
    biases = [a.name for a in op_spec(op).inputs if a.name in _BIASES]
    if biases:
        yield f"{' = '.join(biases)} = 0", lambda c: _zeroed(c, biases)
    if op == "linear":
        yield "M = D", _square
    if op in _RECURRENT:
        yield "D = H", _input_size_of_the_state
    if op in _CONV | _POOLS:
        yield "stride 1", lambda c: _with_attr(c, "stride", 1)
    if op in _CONV:
        yield "padding 0", lambda c: _with_attr(c, "padding", 0)
    if op in _POOLS:
        yield "stride = window", _windows_apart
    outputs = [o.name for o in op_spec(op).outputs]
    if check == "gradient" and len(outputs) > 1:
        for name in outputs:
            others = [o for o in outputs if o != name]
            yield f"only d{name} upstream", partial(_upstream_zeroed, names=others)


def _axis(op: str, name: str, ndim: int, letter: str) -> int | None:
    """The axis of array ``name`` the contract letters ``letter``; for "N" also the leading
    axis of an array of shape "[...]" or "[..., C]" that has one."""
    letters = axis_letters(op, name)
    if letter in letters and len(letters) == ndim:
        return letters.index(letter)
    if letter == "N" and letters and letters[0] == "..." and ndim >= len(letters):
        return 0
    return None


def _first(case: Case, letter: str) -> Case | None:
    """``case`` with every input and upstream array cut to the first entry of its axis
    ``letter``; None where no such axis is longer than 1."""
    outputs = {o.name for o in op_spec(case.op).outputs}
    cut = False

    def first(name: str, value: np.ndarray) -> np.ndarray:
        nonlocal cut
        array = np.asarray(value)
        axis = _axis(case.op, name, array.ndim, letter)
        if axis is None or array.shape[axis] < 2:
            return array
        cut = True
        return np.take(array, [0], axis=axis)

    inputs = {k: first(k, v) for k, v in case.inputs.items()}
    upstream = {k: first(k, v) for k, v in case.upstream.items() if k in outputs}
    return _fresh(case, inputs, upstream=upstream) if cut else None


def _zeroed(case: Case, names: list[str]) -> Case | None:
    """``case`` with the inputs ``names`` zero; None where they already are."""
    if all(not np.any(case.inputs[n]) for n in names):
        return None
    inputs = {k: np.zeros_like(np.asarray(v)) if k in names else v
              for k, v in case.inputs.items()}
    return _fresh(case, inputs, upstream=case.upstream)


def _upstream_zeroed(case: Case, names: list[str]) -> Case | None:
    """``case`` with the upstream gradients of outputs ``names`` zero; None where they already
    are, or no other upstream gradient would be left."""
    if all(not np.any(case.upstream[n]) for n in names) or not any(
            np.any(v) for k, v in case.upstream.items() if k not in names):
        return None
    upstream = {k: np.zeros_like(np.asarray(v)) if k in names else v
                for k, v in case.upstream.items()}
    return _fresh(case, case.inputs, upstream=upstream)


def _with_attr(case: Case, name: str, value: int) -> Case | None:
    """``case`` with the attribute ``name`` set to ``value`` on every axis; None where it
    already is (a geometry that no longer fits exactly is refused by the reference: see
    ``_judge``)."""
    if name not in case.attrs:
        return None
    axes = len(np.shape(case.inputs["x"])) - 2
    old = per_axis(case.attrs[name], axes)
    if all(v == value for v in old):
        return None
    attrs = {**case.attrs, name: as_attribute(case.attrs[name], (value,) * axes)}
    return _fresh(case, _fitted(case.op, case.inputs, attrs), attrs=attrs)


def _windows_apart(case: Case) -> Case | None:
    """A pooling case with its stride set to its window; None where they are equal."""
    window, stride = per_axis(case.attrs["kernel_size"], 2), per_axis(case.attrs["stride"], 2)
    if window == stride:
        return None
    attrs = {**case.attrs, "stride": as_attribute(case.attrs["stride"], window)}
    return _fresh(case, _fitted(case.op, case.inputs, attrs), attrs=attrs)


def _fitted(op: str, inputs: Mapping[str, Any], attrs: Mapping[str, Any]) -> dict[str, Any]:
    """``inputs`` with x cut at the end of each spatial axis to the largest size that the
    window, stride and padding fit exactly ((L + 2P − F) a multiple of S); x unchanged where
    it fits, or where the window is larger than the padded input (the reference refuses it)."""
    x = np.asarray(inputs["x"])
    axes = x.ndim - 2
    window = (np.shape(inputs["w"])[2:] if op in _CONV else
              per_axis(attrs["kernel_size"], axes))
    stride = per_axis(attrs["stride"], axes)
    padding = per_axis(attrs.get("padding", 0), axes)
    sizes = [n - (n + 2 * p - f) % s if n + 2 * p >= f else n
             for n, f, s, p in zip(x.shape[2:], window, stride, padding)]
    return {**inputs, "x": x[(slice(None), slice(None), *(slice(0, n) for n in sizes))]}


def _input_size_of_the_state(case: Case) -> Case | None:
    """A recurrent case with D = H: the input's size D cut to the state's H (x's last axis,
    w_ih's columns), or the state's H cut to D (each gate block of the weights and biases, the
    initial states and the upstream gradients); None where D = H already."""
    i = {k: np.asarray(v) for k, v in case.inputs.items()}
    d, h = i["x"].shape[-1], i["h0"].shape[-1]
    if d == h:
        return None
    if d > h:
        return _fresh(case, {**i, "x": i["x"][..., :h], "w_ih": i["w_ih"][:, :h]})
    gates = i["w_ih"].shape[0] // h
    rows = np.concatenate([np.arange(g * h, g * h + d) for g in range(gates)])
    states: dict[str, np.ndarray] = {k: i[k][..., :d] for k in ("h0", "c0") if k in i}
    cut = {**i, "w_ih": i["w_ih"][rows], "w_hh": i["w_hh"][rows][:, :d],
           "b_ih": i["b_ih"][rows], "b_hh": i["b_hh"][rows], **states}
    upstream = {k: np.asarray(v)[..., :d] for k, v in case.upstream.items()}
    return _fresh(case, cut, upstream=upstream)


def _square(case: Case) -> Case | None:
    """A linear case with a square weight: M and D both cut to the smaller; None where w is
    square already."""
    w = np.asarray(case.inputs["w"])
    m, d = w.shape
    if m == d:
        return None
    k = min(m, d)
    inputs = {**case.inputs, "x": np.asarray(case.inputs["x"])[:, :k], "w": w[:k, :k],
              "b": np.asarray(case.inputs["b"])[:k]}
    upstream = {k_: np.asarray(v)[..., :k] for k_, v in case.upstream.items()}
    return _fresh(case, inputs, upstream=upstream)


def _fresh(case: Case, inputs: Mapping[str, Any], *, upstream: Mapping[str, Any] | None = None,
           attrs: Mapping[str, Any] | None = None) -> Case:
    """A simpler case: ``case``'s name and tolerance with new inputs, attributes and upstream
    gradients (by default its own: ``_judge`` draws new ones where the outputs' shapes changed),
    its expected values left for the reference."""
    return replace(case, inputs=dict(inputs), attrs=dict(case.attrs if attrs is None else attrs),
                   upstream=dict(case.upstream if upstream is None else upstream),
                   expected=None, expected_grads=None)


def _drawn(case: Case, reference: Bound) -> Case:
    """``case`` with its expected outputs, and upstream gradients drawn anew (from a fixed seed,
    in float32-exact numbers) for the outputs whose shape is no longer theirs."""
    outputs = reference.outputs(case.op, case.inputs, case.attrs)
    rng = np.random.default_rng(0)
    upstream = {k: v if np.shape(v) == np.shape(outputs[k])
                else f32(rng.standard_normal(np.shape(outputs[k])))
                for k, v in case.upstream.items()}
    return replace(case, upstream=upstream, expected=outputs)
