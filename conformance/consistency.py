"""Self-consistency: is it the forward or the backward that is wrong?

For a failing check of an op that a backend implements with its gradient, the backend's own
forward is differentiated by central differences along random directions, one input at a time,
and that derivative is compared with what the backend's own gradient gives along the same
direction (Σ g ∘ v) and with what the spec's gradient gives. Together with the forward check
that says where to look, with no catalogue of mistakes:

============  ===================================================================================
forward       the forward is wrong; the backward is the derivative of it (fix the forward and the
              backward follows)
backward      the forward is right; the backward is not its derivative
forward-only  the forward is wrong, but the backward is the spec's gradient (so it is not the
              derivative of the forward it sits next to)
both          the forward is wrong, and the backward is neither its derivative nor the spec's
agree         the forward is right and, along every direction tried, so is the backward: the
              difference sits where no direction looked (a kink) or below what directions see
============  ===================================================================================

Elements where the case sits on a kink (relu and step at 0, the max margin's Δ + s_c − s = 0,
a max-pool window whose maximum is tied, an all-zero L2 window) are left out of every direction:
a central difference across a kink averages two slopes that no subgradient convention has to
agree with. The verdict says how many were left out.

The probes run in float64 where the backend computes in float64 when given float64 (steps of
1e-6 of the input's size, agreement to 1e-5 of the size of the terms); a backend that returns
float32 whatever it is given is probed in float32 (steps of 1e-3, agreement to 3e-2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from conformance.backends import Bound
from conformance.cases import Case, f32
from conformance.contract import op_spec
from conformance.isolation import DEFAULT_TIMEOUT, Isolated, call
from reference.gradcheck import directional_derivative
from reference.tolerance import compare

__all__ = ["Consistency", "Probe", "Verdict", "self_consistency"]

Verdict = Literal["forward", "backward", "forward-only", "both", "agree", "unknown"]
Target = Bound | Isolated

DIRECTIONS = 2
"""Random directions per differentiable input."""

_PROBE = {  # probe dtype: (step relative to the input's size, relative agreement)
    "float64": (1e-6, 1e-5),
    "float32": (1e-3, 3e-2),
}


@dataclass(frozen=True)
class Probe:
    """One input's directional derivatives along each direction tried: of the backend's forward
    by central differences (``numeric``, None where the forward could not be evaluated), by the
    backend's gradient (``backend``) and by the spec's gradient (``spec``)."""

    name: str
    numeric: tuple[float, ...] | None
    backend: tuple[float, ...] | None
    spec: tuple[float, ...]
    consistent: bool | None       # the backend's gradient is the derivative of its forward
    true: bool | None             # the backend's gradient is the spec's
    problem: str = ""             # why a comparison could not be made

    def to_dict(self) -> dict[str, Any]:
        return {"array": self.name, "numeric": _listed(self.numeric),
                "backend": _listed(self.backend), "spec": list(self.spec),
                "consistent": self.consistent, "true": self.true, "problem": self.problem or None}


def _listed(values: tuple[float, ...] | None) -> list[float] | None:
    return None if values is None else list(values)


@dataclass(frozen=True)
class Consistency:
    """The verdict on a failing case: which of forward and backward is wrong, and the evidence."""

    verdict: Verdict
    text: str
    forward_ok: bool | None
    probes: tuple[Probe, ...] = ()
    kinks: int = 0
    dtype: str = "float64"

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "text": self.text, "forward_ok": self.forward_ok,
                "kink_elements": self.kinks, "probe_dtype": self.dtype,
                "probes": [p.to_dict() for p in self.probes]}


# ---------------------------------------------------------------- kinks
def _window_mask(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                 bad: np.ndarray) -> np.ndarray:
    """The elements of x [N, C, H, W] inside any window flagged in ``bad`` [N, C, OH, OW]."""
    (fh, fw), (sh, sw) = kernel, stride
    oh, ow = bad.shape[2:]
    mask = np.zeros(x.shape, dtype=bool)
    for u in range(fh):                  # a loop over the window's taps, not over pixels
        for v in range(fw):
            mask[:, :, u:u + sh * oh:sh, v:v + sw * ow:sw] |= bad
    return mask


def _windows(x: np.ndarray, attrs: Mapping[str, Any]) -> tuple[np.ndarray, tuple[int, int],
                                                                 tuple[int, int]]:
    kernel = tuple(int(k) for k in attrs["kernel_size"])
    stride = tuple(int(s) for s in attrs["stride"])
    view = sliding_window_view(x, kernel, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]
    flat = view.reshape(*view.shape[:4], -1)
    return flat, (kernel[0], kernel[1]), (stride[0], stride[1])


def kinks(op: str, inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any],
          near: float) -> dict[str, np.ndarray]:
    """By input name, the elements at (or within ``near`` of) a kink of the op: where a central
    difference with steps up to ``near`` would straddle two slopes."""
    x = inputs.get("x")
    if op in ("relu", "step"):
        assert x is not None
        return {"x": np.abs(x) <= near}
    if op == "max_margin":
        at = np.abs(attrs["delta"] + inputs["s_c"] - inputs["s"]) <= near
        return {"s": at, "s_c": at}
    if op in ("max_pool2d", "lp_pool2d"):
        assert x is not None
        flat, kernel, stride = _windows(x, attrs)
        if op == "max_pool2d":
            top = np.sort(flat, axis=-1)
            bad = top[..., -1] - top[..., -2] <= 2 * near if flat.shape[-1] > 1 else (
                np.zeros(flat.shape[:4], dtype=bool))
        else:
            bad = np.sqrt(np.sum(flat * flat, axis=-1)) <= near
        return {"x": _window_mask(x, kernel, stride, bad)}
    return {}


# ---------------------------------------------------------------- the probe
ELEMENTWISE = frozenset({"step", "sigmoid", "tanh", "relu", "max_margin"})
"""Ops whose outputs each depend on the same element of each input: probed element by element."""


@dataclass(frozen=True)
class _Checks:
    """The forward and gradient checks as the run judges them (its dtype, its tolerances), the
    gradient's elements on a kink of the spec excused."""

    forward_ok: bool
    gradient_ok: dict[str, bool]
    problem: str = ""                        # why the gradient could not be called

    @classmethod
    def of(cls, target: Target, case: Case, dtype: np.dtype, timeout: float | None,
           on_kink: Mapping[str, np.ndarray]) -> _Checks:
        inputs = case.inputs_in(dtype)
        out = call(target, case.op, "forward", inputs, case.attrs, {}, timeout)
        tol = case.tolerance_for("forward", dtype)
        forward_ok = out.values is not None and all(
            compare(out.values[k], e, tol).ok for k, e in (case.expected or {}).items())
        names = [a.name for a in op_spec(case.op).differentiable]
        if not case.has_gradient or target.gradient_style(case.op) is None:
            return cls(forward_ok, {})
        upstream = {k: np.array(v, dtype=dtype) for k, v in case.upstream.items()}
        grads = call(target, case.op, "gradient", inputs, case.attrs, upstream, timeout)
        if grads.values is None:
            return cls(forward_ok, dict.fromkeys(names, False), grads.reason)
        tol = case.tolerance_for("gradient", dtype)
        expected = case.expected_grads or {}
        ok = {}
        for k in names:
            g, e = np.asarray(grads.values[k], np.float64), np.asarray(expected[k], np.float64)
            if k in on_kink and g.shape == e.shape:
                g = np.where(on_kink[k], e, g)           # any subgradient at a kink
            ok[k] = compare(g, e, tol).ok
        return cls(forward_ok, ok)


def self_consistency(target: Target, case: Case, dtype: Any = np.float64,
                     timeout: float | None = DEFAULT_TIMEOUT, seed: int = 0) -> Consistency:
    """The self-consistency verdict on ``case`` (with its expected values and gradients, see
    conformance.cases.complete) for the backend ``target``; see the module docstring.

    Whether the forward and each gradient are right is judged as the run's checks judge it (its
    dtype, its tolerances; a gradient's elements on a kink of the spec excused). Whether the
    backend's gradient is the derivative of its forward: an elementwise op's forward is
    differentiated element by element (one step up and one down per input), any other op's
    along one random direction through all its inputs and, only where that disagrees with the
    backend's gradient and the forward is wrong, along one direction per input, to say which
    gradients disagree. Where the slopes just before and just after the case's inputs differ, the
    backend's forward has a kink there (perhaps not where the spec's has one): those elements,
    or that direction, are left out. Where the backend's forward returns another shape than the
    spec's, its derivative is taken along an upstream gradient of its own shape; where it returns
    nan or inf, those elements are left out, and a finite gradient of a non-finite forward is
    not its derivative.
    """
    dt = np.dtype(dtype)
    names = [a.name for a in op_spec(case.op).differentiable]
    on_kink = kinks(case.op, {k: np.asarray(v, np.float64) for k, v in case.inputs.items()},
                    case.attrs, near=1e-9 * max(1.0, *(float(np.max(np.abs(case.inputs[k]),
                                                                    initial=0.0))
                                                     for k in names)))
    checks = _Checks.of(target, case, dt, timeout, on_kink)
    if not checks.gradient_ok:
        right = "right" if checks.forward_ok else "wrong"
        why = ("the case has no upstream gradient" if not case.has_gradient else
               f"the backend has no gradient of {case.op} to compare")
        return Consistency("unknown" if checks.forward_ok else "forward",
                           f"the forward is {right} ({why})", checks.forward_ok)
    probe = _Probing.start(target, case, timeout, checks, seed)
    if isinstance(probe, str):
        verdict: Verdict = ("unknown" if probe.startswith(_OTHER_SHAPE) else
                            "backward" if checks.forward_ok else "both")
        return Consistency(verdict, probe, checks.forward_ok)
    elementwise = case.op in ELEMENTWISE and not probe.own_shape
    probes = probe.elementwise() if elementwise else probe.by_direction()
    precision = probe.precision(dt)
    return _verdict(checks.forward_ok, tuple(probes), probe.left_out, probe.dtype, precision,
                    probe.notes)


@dataclass
class _Probing:
    """The backend's forward and gradient at the case, in the probe dtype, and what the probes
    of its derivative need."""

    target: Target
    case: Case
    timeout: float | None
    checks: _Checks
    probe: type[np.floating[Any]]
    inputs: dict[str, np.ndarray]
    upstream: dict[str, np.ndarray]                # along which the forward is differentiated
    base: dict[str, np.ndarray]                    # the forward at the case
    got: dict[str, np.ndarray]                     # the backend's gradients for ``upstream``
    expected: dict[str, np.ndarray]                # the spec's gradients (for the case's)
    on_kink: dict[str, np.ndarray]                 # the spec's kinks, by input
    names: list[str]
    own_shape: bool                                # upstream shaped like the backend's output
    directions: dict[str, np.ndarray]
    notes: list[str]
    finite_where_not: bool = False                 # a finite gradient of a non-finite forward
    scale: float = 0.0                             # Σ |upstream ∘ y| at the last probe
    noise: float = 0.0                             # rounding's share of the last quotient

    @classmethod
    def start(cls, target: Target, case: Case, timeout: float | None, checks: _Checks,
              seed: int) -> _Probing | str:
        probe: type[np.floating[Any]] = np.float64
        inputs = case.inputs_in(np.float64)
        base = call(target, case.op, "forward", inputs, case.attrs, {}, timeout)
        if base.values is None:
            return f"your forward could not be evaluated: {base.reason}"
        if any(v.dtype == np.float32 for v in base.values.values()):
            probe = np.float32
            inputs = case.inputs_in(np.float32)
            base = call(target, case.op, "forward", inputs, case.attrs, {}, timeout)
            if base.values is None:  # pragma: no cover - it ran in float64 a moment ago
                return f"your forward could not be evaluated: {base.reason}"
        values = {k: np.asarray(v, np.float64) for k, v in (base.values or {}).items()}
        notes: list[str] = []
        rng = np.random.default_rng(seed)
        upstream = {k: np.array(v, dtype=probe) for k, v in case.upstream.items()}
        own_shape = any(values[k].shape != u.shape for k, u in upstream.items())
        if own_shape:
            upstream = {k: np.asarray(f32(rng.standard_normal(values[k].shape)), probe)
                        for k in upstream}
            shapes = ", ".join(f"{k} {list(values[k].shape)}" for k in upstream)
            notes.append(f"differentiated along an upstream gradient of your output's shape "
                         f"({shapes})")
        finite_where_not = False
        if case.op not in ELEMENTWISE and not all(np.all(np.isfinite(values[k]))
                                                  for k in upstream):
            full = call(target, case.op, "gradient", inputs, case.attrs, upstream, timeout)
            finite_where_not = full.values is not None and all(
                bool(np.all(np.isfinite(v))) for v in full.values.values())
            upstream = {k: np.where(np.isfinite(values[k]), u, 0).astype(probe)
                        for k, u in upstream.items()}
        grads = call(target, case.op, "gradient", inputs, case.attrs, upstream, timeout)
        if grads.values is None and own_shape:
            shapes = ", ".join(f"{k} {list(values[k].shape)} where {list(u.shape)} belongs"
                               for k, u in case.upstream.items()
                               if np.shape(values[k]) != np.shape(u))
            return (f"{_OTHER_SHAPE} ({shapes}); given an upstream gradient of that shape, your "
                    f"backward raised ({grads.reason}): whether it is the forward's derivative "
                    f"cannot be told until the forward returns the contract's shape")
        if grads.values is None:
            return f"the backend's gradient could not be evaluated: {grads.reason}"
        names = [a.name for a in op_spec(case.op).differentiable]
        step = _PROBE[np.dtype(probe).name][0]
        spread = max(1.0, *(float(np.max(np.abs(inputs[k]), initial=0.0)) for k in names))
        on_kink = kinks(case.op, {k: np.asarray(v, np.float64) for k, v in inputs.items()},
                        case.attrs, near=10 * step * spread)
        got = {k: np.asarray(grads.values[k]) for k in names}
        directions = {}
        for k in names:
            v = rng.standard_normal(np.shape(inputs[k]))
            if k in on_kink:
                v[on_kink[k]] = 0.0
            if got[k].shape == v.shape:
                v[~np.isfinite(got[k])] = 0.0
            size = max(1.0, float(np.max(np.abs(inputs[k]), initial=0.0)))
            directions[k] = size * v / max(1e-300, float(np.max(np.abs(v), initial=0.0)))
        return cls(target, case, timeout, checks, probe, inputs, upstream, values, got,
                   {k: np.asarray((case.expected_grads or {})[k], np.float64) for k in names},
                   on_kink, names, own_shape, directions, notes, finite_where_not)

    @property
    def dtype(self) -> str:
        return np.dtype(self.probe).name

    @property
    def step(self) -> float:
        return _PROBE[self.dtype][0]

    @property
    def rtol(self) -> float:
        return _PROBE[self.dtype][1]

    @property
    def left_out(self) -> int:
        return sum(int(m.sum()) for m in self.on_kink.values())

    def precision(self, run: np.dtype) -> str | None:
        """In a float32 run of a backend probed in float64: which checks fail in float32 only
        (the forward and the gradients right in float64, at float64's tolerance)."""
        if run == np.float64 or self.dtype != "float64" or self.own_shape:
            return None
        case = self.case
        tol = case.tolerance_for("forward", np.float64)
        if not all(compare(self.base[k], e, tol).ok for k, e in (case.expected or {}).items()):
            return None
        tol = case.tolerance_for("gradient", np.float64)
        for k in self.names:
            g = self.got[k].astype(np.float64)
            if g.shape != self.expected[k].shape:
                return None
            if k in self.on_kink:
                g = np.where(self.on_kink[k], self.expected[k], g)
            if not compare(g, self.expected[k], tol).ok:
                return None
        wrong = [] if self.checks.forward_ok else ["the forward"]
        bad = [f"d{k}" for k, ok in self.checks.gradient_ok.items() if not ok]
        wrong += [f"the gradient ({', '.join(bad)})"] if bad else []
        return " and ".join(wrong) or None

    def forward(self, moved: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = call(self.target, self.case.op, "forward", {**self.inputs, **moved},
                   self.case.attrs, {}, self.timeout)
        if out.values is None:
            raise _NoForward(out.reason)
        for name, u in self.upstream.items():
            if np.shape(out.values[name]) != u.shape:
                raise _NoForward(f"it returns {name} of shape {list(np.shape(out.values[name]))}"
                                 f" near the case, {list(u.shape)} at it")
        return {k: np.asarray(v, np.float64) for k, v in out.values.items()}

    def shape_problem(self, k: str) -> Probe | None:
        if self.got[k].shape == np.shape(self.inputs[k]):
            return None
        return Probe(f"d{k}", None, None, (), False, False,
                     f"shape {list(self.got[k].shape)} for {list(np.shape(self.inputs[k]))}")

    def _close(self, a: np.ndarray, b: np.ndarray, keep: np.ndarray,
               noise: np.ndarray | float = 0.0) -> bool:
        """a and b agree on the elements ``keep``, within the probe's relative agreement, the
        rounding ``noise`` of a difference quotient, and 1e-12 of the largest |b|."""
        noise = np.broadcast_to(noise, a.shape)[keep]
        a, b = a[keep], b[keep]
        return bool(np.all(np.abs(a - b) <= self.rtol * (np.abs(a) + np.abs(b)) + noise
                           + 1e-12 * (1.0 + float(np.max(np.abs(b), initial=0.0)))))

    def _spec(self, k: str, v: np.ndarray) -> tuple[float, ...]:
        return () if self.own_shape else (float(np.sum(self.expected[k] * v)),)

    # ------------------------------------------------------------ element by element
    def elementwise(self) -> list[Probe]:
        return [self._elementwise(k) for k in self.names]

    def _elementwise(self, k: str) -> Probe:
        """∂(Σ upstream ∘ y)/∂k element by element, for an op whose every output element
        depends on the same element of k: one step up and one step down for all elements."""
        true = self.checks.gradient_ok[k]
        problem = self.shape_problem(k)
        if problem is not None:
            return replace(problem, true=true)
        x = self.inputs[k]
        h = self.step * np.maximum(1.0, np.abs(x.astype(np.float64)))
        (name, u), = self.upstream.items()
        g = self.got[k].astype(np.float64)
        ones = np.ones(x.shape)
        try:
            y0 = self.base[name]
            up = self.forward({k: (x + h).astype(self.probe)})[name]
            down = self.forward({k: (x - h).astype(self.probe)})[name]
        except _NoForward as exc:
            return Probe(f"d{k}", None, (float(np.sum(g)),), self._spec(k, ones), None, true,
                         str(exc))
        u64 = np.broadcast_to(u.astype(np.float64), y0.shape)
        finite = np.isfinite(y0) & np.isfinite(up) & np.isfinite(down)
        # a finite gradient where the forward is not finite, or the other way round
        mismatch = bool(np.any((~np.isfinite(y0) & np.isfinite(g) & (u64 != 0))
                               | (np.isfinite(y0) & ~np.isfinite(g))))
        with np.errstate(invalid="ignore", over="ignore"):
            # what rounding alone can make of a difference quotient: a few ulps of f over h
            noise = 8 * float(np.finfo(self.probe).eps) * (np.abs(up) + np.abs(down)) / h
            after, before = (up - y0) / h, (y0 - down) / h
            own_kink = ~(np.abs(after - before) <= self.rtol * (np.abs(after) + np.abs(before))
                         + 2 * noise + 1e-9)
            numeric = u64 * (up - down) / (2 * h)
        spec_kink = self.on_kink.get(k, np.zeros(x.shape, dtype=bool))
        keep = finite & ~own_kink & ~spec_kink & np.isfinite(g)
        consistent = not mismatch and self._close(g, numeric, keep, np.abs(u64) * noise)
        return Probe(f"d{k}", (float(np.sum(numeric[keep])),), (float(np.sum(g[keep])),),
                     self._spec(k, keep.astype(np.float64)), consistent, true)

    # ------------------------------------------------------------ along directions
    def by_direction(self) -> list[Probe]:
        problems = [replace(p, true=self.checks.gradient_ok[p.name[1:]])
                    for k in self.names if (p := self.shape_problem(k)) is not None]
        shaped = [k for k in self.names if self.shape_problem(k) is None]
        if not shaped:
            return problems
        joint = self._along(shaped)
        right = self.checks.forward_ok and not self.own_shape
        if joint.consistent or (joint.consistent is False and right):
            # consistent: so is each input; a right forward's derivative is the spec's
            # gradient, so each input's agreement with it is its agreement with the spec.
            # But an input whose gradient is not the spec's, next to a right forward, gets its
            # own probe: the joint one's reach is set by the largest terms (a dx in the
            # thousands hides a bias gradient off by 0.1)
            alone = [self._along([k], numeric=False) for k in shaped]
            return problems + [self._along([p.name[1:]]) if joint.consistent and right
                               and not p.true else
                               replace(p, consistent=bool(joint.consistent or p.true))
                               for p in alone]
        if joint.consistent is None:
            return problems + [replace(self._along([k], numeric=False), problem=joint.problem)
                               for k in shaped]
        return problems + [self._along([k]) for k in shaped]

    def _along(self, moving: list[str], numeric: bool = True) -> Probe:
        def dot(grads: Mapping[str, np.ndarray], k: str) -> float:
            d = self.directions[k]
            with np.errstate(invalid="ignore"):
                return float(np.sum(np.where(d != 0, np.asarray(grads[k], np.float64) * d, 0.0)))

        mine = sum(dot(self.got, k) for k in moving)
        theirs = () if self.own_shape else (sum(dot(self.expected, k) for k in moving),)
        terms = sum(dot({k: np.abs(self.got[k]) * np.sign(self.directions[k])}, k)
                    for k in moving)                 # Σ |g ∘ d| over the directions' elements
        true = all(self.checks.gradient_ok[k] for k in moving)
        label = ", ".join(f"d{k}" for k in moving)
        if self.finite_where_not:
            return Probe(label, None, (mine,), theirs, False, true,
                         "your gradient is finite where your forward is not")
        if not numeric:
            return Probe(label, None, (mine,), theirs, None, true)
        try:
            slopes = self._slopes(moving)
        except _NoForward as exc:
            return Probe(label, None, (mine,), theirs, None, true, str(exc))
        finite = all(bool(np.all(np.isfinite(self.got[k][self.directions[k] != 0])))
                     for k in moving)
        consistent = finite and abs(mine - slopes) <= self.rtol * (terms + abs(slopes)) + (
            self.noise + 1e-12)
        return Probe(label, (slopes,), (mine,), theirs, consistent, true)

    def _slopes(self, moving: list[str]) -> float:
        """The central difference along the directions at the first step where the slopes
        before and after agree, or at the smallest step where the jump between them shrinks
        with the step, as a smooth but sharply curved function's does (a slope near 0 next to a
        large second derivative). Otherwise _NoForward says why: the forward gives other values
        for the same inputs (state kept between calls), or it has a kink (the same jump at
        every step), or it rounds more coarsely than the probe's dtype (irregular jumps of
        float32 rounding's size, or growing as 1/step)."""
        def total(out: Mapping[str, np.ndarray]) -> tuple[float, float]:
            terms = [np.where(u == 0, 0.0, u.astype(np.float64) * out[n])
                     for n, u in self.upstream.items()]
            value = sum(float(np.sum(t)) for t in terms)
            if not np.isfinite(value):
                raise _NoForward("it is not finite near the case")
            return value, sum(float(np.sum(np.abs(t))) for t in terms)

        def loss(t: float) -> float:
            moved = {k: (self.inputs[k] + t * self.directions[k]).astype(self.probe)
                     for k in moving}
            value, self.scale = total(self.forward(moved))
            return value

        seen: dict[float, float] = {0.0: total(self.base)[0]}

        def cached(t: float) -> float:
            if t not in seen:
                seen[t] = loss(t)
            return seen[t]

        eps = float(np.finfo(self.probe).eps)
        jumps, coarse = [], True
        for h in (self.step, self.step / 16, self.step / 256):
            central = directional_derivative(cached, h=h)
            after, before = (cached(h) - cached(0.0)) / h, (cached(0.0) - cached(-h)) / h
            size = (abs(cached(h)) + abs(cached(-h)) + self.scale) / h
            self.noise = 8 * eps * size
            if abs(after - before) <= 100 * self.rtol * (abs(after) + abs(before)) + (
                    2 * self.noise + 1e-9):
                return central
            jumps.append(abs(after - before))
            coarse &= jumps[-1] <= 16 * float(np.finfo(np.float32).eps) * size
        again = loss(0.0)                 # a fresh call at the case's own inputs
        if abs(again - seen[0.0]) > 8 * eps * (abs(again) + self.scale) + 1e-12:
            raise _NoForward("it returns other values for the same inputs on another call "
                             "(state kept between calls)")
        if jumps[-1] <= jumps[0] / 16:    # a smooth function's jump shrinks with the step:
            return central                # its slope changes fast, the smallest step sees it
        if max(jumps) <= 2 * min(jumps):  # a kink's jump is the same at every step
            raise _NoForward("it has a kink at the case's inputs along the direction tried")
        if coarse or jumps[-1] >= 16 * jumps[0]:   # float32 rounding's size, growing as 1/step
            raise _NoForward(f"its values move in steps coarser than {self.dtype} "
                             f"rounding (it computes in a lower precision inside, such as "
                             f"float32)")
        raise _NoForward(f"its slopes before and after differ at every step tried, by "
                         f"irregular amounts (a kink, or rounding coarser than {self.dtype})")


_OTHER_SHAPE = "your forward returns another shape than the contract's"


class _NoForward(Exception):
    """The backend's forward could not be evaluated at a probe."""


def _names(probes: Sequence[Probe]) -> str:
    return ", ".join(p.name for p in probes)


def _verdict(forward_ok: bool, probes: tuple[Probe, ...], left_out: int, dtype: str,
             precision: str | None = None, notes: Sequence[str] = ()) -> Consistency:
    many = "s" if left_out != 1 else ""
    kinked = f", leaving out the {left_out} element{many} on a kink" if left_out else ""
    aside = f" ({kinked[2:]})" if kinked else ""
    blind = [p for p in probes if p.consistent is None and p.problem]
    untrue = [p for p in probes if not p.true]
    inconsistent = [p for p in probes if p.consistent is False]

    def build(verdict: Verdict, text: str) -> Consistency:
        if blind:
            text += (f"; your forward could not be differentiated for {_names(blind)}: "
                     f"{blind[0].problem}")
        if notes:
            text += f" ({'; '.join(notes)})"
        return Consistency(verdict, text, forward_ok, probes, left_out, dtype)

    if precision is not None:
        verdict: Verdict = ("both" if "forward" in precision and "gradient" in precision else
                            "forward-only" if "forward" in precision else "backward")
        return build(verdict, f"in float64 your forward and backward are right (and "
                              f"consistent); in float32 {precision} "
                              f"{'are' if ' and ' in precision else 'is'} wrong: a mistake of "
                              f"float32 precision (float16 or TF32 products, a cast, an "
                              f"overflow)")
    if forward_ok:
        if not untrue:
            on = (f"so the difference sits on the element{many} on a kink, which they leave out"
                  if left_out else "so the difference is too small or too local for them to "
                  "show")
            return build("agree", f"the forward is right, and along every direction tried your "
                                  f"backward agrees with the spec's gradient{aside}: {on} (the "
                                  f"anatomy says where)")
        if any(p in blind for p in untrue):
            return build("unknown", f"the forward is right at this case's inputs, and the "
                                    f"backward is not the spec's gradient for {_names(untrue)}; "
                                    f"whether it is your forward's derivative cannot be told")
        if probes and not inconsistent and not blind and all(p.consistent for p in untrue):
            if all(_unresolved(p) for p in untrue):
                return build("backward", f"the forward is right; the backward is not the spec's "
                                         f"gradient for {_names(untrue)}, by less than central "
                                         f"differences of your forward can tell apart (they "
                                         f"agree with the spec's gradient about as well as "
                                         f"with yours){aside}" + _agreeing(probes, untrue))
            return build("forward", f"your backward is the derivative of your forward (central "
                                    f"differences{kinked}); "
                                    f"the forward is right at this case's inputs but not "
                                    f"around them, so its derivative is not the spec's "
                                    f"gradient: the forward is what is wrong")
        return build("backward", f"the forward is right; the backward is not its derivative: "
                                 f"{_names(untrue)} differ{'s' if len(untrue) == 1 else ''} from "
                                 f"it (the spec's gradient){aside}"
                     + _agreeing(probes, untrue))
    if probes and not inconsistent and not blind:
        return build("forward", f"your backward is the derivative of your forward (central "
                                f"differences{kinked}); the forward is what is wrong")
    if not inconsistent:
        return build("unknown", "the forward is wrong; whether your backward is its derivative "
                                "cannot be told")
    if not untrue:
        return build("forward-only", f"the backward gives the spec's gradient, but the forward "
                                     f"is wrong: for {_names(inconsistent)} your "
                                     f"backward is not the derivative of your forward (central "
                                     f"differences{kinked})")
    neither = [p for p in untrue if p in inconsistent] or untrue
    return build("both", f"the forward is wrong, and the backward is neither its derivative nor "
                         f"the spec's gradient for {_names(neither)} (central "
                         f"differences{kinked})" + _agreeing(probes, neither))


def _unresolved(probe: Probe) -> bool:
    """Central differences of a right forward that cannot tell the backend's gradient from the
    spec's: they land at least as near the spec's, or the backend's gradient is nearer the
    spec's than a tenth of their own distance from the backend's (a backward off by float32
    rounding, or by 1e-12, is within their reach of both)."""
    if probe.numeric is None or probe.backend is None or not probe.spec:
        return False
    return all(abs(n - s) <= abs(n - b) or 10 * abs(n - b) >= abs(b - s)
               for n, b, s in zip(probe.numeric, probe.backend, probe.spec))


def _agreeing(probes: tuple[Probe, ...], wrong: list[Probe]) -> str:
    right = [p for p in probes if p not in wrong and p.true]
    return f"; {_names(right)} {'is' if len(right) == 1 else 'are'} right" if right else ""
