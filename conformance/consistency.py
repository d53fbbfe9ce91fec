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
from conformance.cases import Case
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
def _forward_ok(target: Target, case: Case, dtype: np.dtype, timeout: float | None) -> bool:
    """The backend's forward on the case, in the run's dtype, within the forward tolerance."""
    spec = op_spec(case.op)
    inputs = {a.name: np.array(case.inputs[a.name],
                               dtype=np.int64 if a.kind == "index" else dtype)
              for a in spec.inputs}
    outcome = call(target, case.op, "forward", inputs, case.attrs, {}, timeout)
    if outcome.values is None:
        return False
    tol = case.tolerance_for("forward", dtype)
    return all(compare(outcome.values[k], e, tol).ok for k, e in (case.expected or {}).items())


def _cast(case: Case, dtype: type) -> dict[str, np.ndarray]:
    spec = op_spec(case.op)
    return {a.name: np.array(case.inputs[a.name], dtype=np.int64 if a.kind == "index" else dtype)
            for a in spec.inputs}


ELEMENTWISE = frozenset({"step", "sigmoid", "tanh", "relu", "max_margin"})
"""Ops whose outputs each depend on the same element of each input: probed element by element."""


def self_consistency(target: Target, case: Case, dtype: Any = np.float64,
                     timeout: float | None = DEFAULT_TIMEOUT, seed: int = 0) -> Consistency:
    """The self-consistency verdict on ``case`` (with its expected values and gradients, see
    conformance.cases.complete) for the backend ``target``; see the module docstring.

    An elementwise op's forward is differentiated element by element (one step up and one down
    per input); any other op's along one random direction through all its inputs and, only where
    that disagrees with the backend's gradient, along one direction per input, to say which
    gradients disagree. Where the slopes just before and just after the case's inputs differ,
    the backend's forward has a kink there (perhaps not where the spec's has one): those
    elements, or that direction, are left out.
    """
    dt = np.dtype(dtype)
    forward_ok = _forward_ok(target, case, dt, timeout)
    if not case.has_gradient or target.gradient_style(case.op) is None:
        right = "right" if forward_ok else "wrong"
        why = ("the case has no upstream gradient" if not case.has_gradient else
               f"the backend has no gradient of {case.op} to compare")
        return Consistency("unknown" if forward_ok else "forward",
                           f"the forward is {right} ({why})", forward_ok)
    probe = _Probing.start(target, case, timeout)
    if isinstance(probe, str):
        return Consistency("backward" if forward_ok else "both", probe, forward_ok)
    probe.forward_ok = forward_ok
    if case.op in ELEMENTWISE:
        probes = [probe.elementwise(k) for k in probe.names]
    else:
        probes = probe.by_direction(seed)
    return _verdict(forward_ok, tuple(probes), probe.left_out, probe.dtype)


@dataclass
class _Probing:
    """The backend's forward and gradient at the case, in the probe dtype, and what the probes
    of its derivative need."""

    target: Target
    case: Case
    timeout: float | None
    probe: type[np.floating[Any]]
    inputs: dict[str, np.ndarray]
    upstream: dict[str, np.ndarray]
    base: dict[str, np.ndarray] | None             # the forward at the case (None: it failed)
    got: dict[str, np.ndarray]                     # the backend's gradients
    expected: dict[str, np.ndarray]                # the spec's gradients
    on_kink: dict[str, np.ndarray]                 # the spec's kinks, by input
    names: list[str]
    forward_ok: bool = False                       # the forward check's verdict
    scale: float = 0.0                             # Σ |upstream ∘ y| at the last probe
    noise: float = 0.0                             # rounding's share of the last quotient

    @classmethod
    def start(cls, target: Target, case: Case, timeout: float | None) -> _Probing | str:
        probe: type[np.floating[Any]] = np.float64
        inputs = _cast(case, np.float64)
        base = call(target, case.op, "forward", inputs, case.attrs, {}, timeout)
        if base.values is not None and any(v.dtype == np.float32 for v in base.values.values()):
            probe = np.float32
            inputs = _cast(case, np.float32)
        upstream = {k: np.array(v, dtype=probe) for k, v in case.upstream.items()}
        grads = call(target, case.op, "gradient", inputs, case.attrs, upstream, timeout)
        if grads.values is None:
            return f"the backend's gradient could not be evaluated: {grads.reason}"
        names = [a.name for a in op_spec(case.op).differentiable]
        step = _PROBE[np.dtype(probe).name][0]
        spread = max(1.0, *(float(np.max(np.abs(inputs[k]), initial=0.0)) for k in names))
        on_kink = kinks(case.op, {k: np.asarray(v, np.float64) for k, v in inputs.items()},
                        case.attrs, near=10 * step * spread)
        return cls(target, case, timeout, probe, inputs, upstream,
                   None if base.values is None else dict(base.values),
                   {k: np.asarray(grads.values[k]) for k in names},
                   {k: np.asarray((case.expected_grads or {})[k], np.float64) for k in names},
                   on_kink, names)

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

    def forward(self, moved: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = call(self.target, self.case.op, "forward", {**self.inputs, **moved},
                   self.case.attrs, {}, self.timeout)
        if out.values is None:
            raise _NoForward(out.reason)
        for name, u in self.upstream.items():
            if np.shape(out.values[name]) != u.shape:
                raise _NoForward(f"it returns {name} of shape {list(np.shape(out.values[name]))}"
                                 f" for the upstream gradient's {list(u.shape)}")
        return {k: np.asarray(v, np.float64) for k, v in out.values.items()}

    def shape_problem(self, k: str) -> Probe | None:
        if self.got[k].shape == self.expected[k].shape:
            return None
        return Probe(f"d{k}", None, None, (), False, False,
                     f"shape {list(self.got[k].shape)} for {list(self.expected[k].shape)}")

    def _close(self, a: np.ndarray, b: np.ndarray, keep: np.ndarray,
               noise: np.ndarray | float = 0.0) -> bool:
        """a and b agree on the elements ``keep``, within the probe's relative agreement, the
        rounding ``noise`` of a difference quotient, and 1e-12 of the largest |b|."""
        noise = np.broadcast_to(noise, a.shape)[keep]
        a, b = a[keep], b[keep]
        return bool(np.all(np.isfinite(a)) and np.all(np.abs(a - b) <= self.rtol * (
            np.abs(a) + np.abs(b)) + noise + 1e-12 * (1.0 + float(np.max(np.abs(b),
                                                                         initial=0.0)))))

    # ------------------------------------------------------------ element by element
    def elementwise(self, k: str) -> Probe:
        """∂(Σ upstream ∘ y)/∂k element by element, for an op whose every output element
        depends on the same element of k: one step up and one step down for all elements."""
        problem = self.shape_problem(k)
        if problem is not None:
            return problem
        x = self.inputs[k]
        h = self.step * np.maximum(1.0, np.abs(x.astype(np.float64)))
        (name, u), = self.upstream.items()
        spec_kink = self.on_kink.get(k, np.zeros(x.shape, dtype=bool))
        g = self.got[k].astype(np.float64)
        e = self.expected[k]
        true = self._close(g, e, ~spec_kink)
        try:
            if self.base is None:
                raise _NoForward("the forward could not be evaluated at the case")
            y0 = self.base[name].astype(np.float64)
            up = self.forward({k: (x + h).astype(self.probe)})[name]
            down = self.forward({k: (x - h).astype(self.probe)})[name]
        except _NoForward as exc:
            return Probe(f"d{k}", None, (float(np.sum(g)),), (float(np.sum(e)),), None, true,
                         str(exc))
        u64 = u.astype(np.float64)
        # what rounding alone can make of a difference quotient: a few ulps of f over h
        noise = 8 * float(np.finfo(self.probe).eps) * (np.abs(up) + np.abs(down)) / h
        after, before = (up - y0) / h, (y0 - down) / h
        own_kink = ~(np.abs(after - before) <= self.rtol * (np.abs(after) + np.abs(before))
                     + 2 * noise + 1e-9)
        numeric = u64 * (up - down) / (2 * h)
        keep = ~own_kink
        consistent = self._close(g, numeric, keep, np.abs(u64) * noise)
        return Probe(f"d{k}", (float(np.sum(numeric[keep])),), (float(np.sum(g[keep])),),
                     (float(np.sum(e[keep])),), consistent, true)

    # ------------------------------------------------------------ along directions
    def by_direction(self, seed: int) -> list[Probe]:
        rng = np.random.default_rng(seed)
        directions = {}
        for k in self.names:
            v = rng.standard_normal(self.expected[k].shape)
            if k in self.on_kink:
                v[self.on_kink[k]] = 0.0
            size = max(1.0, float(np.max(np.abs(self.inputs[k]), initial=0.0)))
            directions[k] = size * v / max(1e-300, float(np.max(np.abs(v), initial=0.0)))
        problems = [p for k in self.names if (p := self.shape_problem(k)) is not None]
        shaped = [k for k in self.names if self.shape_problem(k) is None]
        if not shaped:
            return problems
        joint = self._along(shaped, directions)
        if joint.consistent or (joint.consistent is False and self.forward_ok):
            # consistent: so is each input; a right forward's derivative is the spec's
            # gradient, so each input's agreement with it is its agreement with the spec
            return problems + [replace(p, consistent=bool(joint.consistent or p.true))
                               for p in (self._along([k], directions, numeric=False)
                                         for k in shaped)]
        return problems + [self._along([k], directions) for k in shaped]

    def _along(self, moving: list[str], directions: Mapping[str, np.ndarray],
               numeric: bool = True) -> Probe:
        def dot(grads: Mapping[str, np.ndarray], k: str) -> float:
            return float(np.sum(np.asarray(grads[k], np.float64) * directions[k]))

        mine = sum(dot(self.got, k) for k in moving)
        theirs = sum(dot(self.expected, k) for k in moving)
        terms = sum(float(np.sum(np.abs(np.asarray(g[k], np.float64) * directions[k])))
                    for g in (self.got, self.expected) for k in moving)
        finite = all(bool(np.all(np.isfinite(self.got[k]))) for k in moving)
        true = finite and abs(mine - theirs) <= self.rtol * terms + 1e-12
        label = ", ".join(f"d{k}" for k in moving)
        if not numeric:
            return Probe(label, None, (mine,), (theirs,), None, true)
        try:
            slopes = self._slopes(moving, directions)
        except _NoForward as exc:
            return Probe(label, None, (mine,), (theirs,), None, true, str(exc))
        if slopes is None:
            return Probe(label, None, (mine,), (theirs,), None, true,
                         "it has a kink at the case's inputs along the direction tried")
        consistent = finite and abs(mine - slopes) <= self.rtol * (terms + abs(slopes)) + (
            self.noise + 1e-12)
        return Probe(label, (slopes,), (mine,), (theirs,), consistent, true)

    def _slopes(self, moving: list[str], directions: Mapping[str, np.ndarray]) -> float | None:
        """The central difference along the directions, or None where the slopes before and
        after differ at every step tried (a kink of the backend's forward)."""
        def loss(t: float) -> float:
            moved = {k: (self.inputs[k] + t * directions[k]).astype(self.probe) for k in moving}
            out = self.forward(moved)
            # Σ |u ∘ y|: the size of the terms whose rounding the difference quotient sees
            self.scale = sum(float(np.sum(np.abs(u.astype(np.float64) * out[n])))
                             for n, u in self.upstream.items())
            return sum(float(np.sum(u.astype(np.float64) * out[n]))
                       for n, u in self.upstream.items())

        seen: dict[float, float] = {}
        if self.base is not None and all(self.base[n].shape == u.shape
                                         for n, u in self.upstream.items()):
            seen[0.0] = sum(float(np.sum(u.astype(np.float64) * self.base[n]))
                            for n, u in self.upstream.items())

        def cached(t: float) -> float:
            if t not in seen:
                seen[t] = loss(t)
            return seen[t]

        eps = float(np.finfo(self.probe).eps)
        for h in (self.step, self.step / 16):
            central = directional_derivative(cached, h=h)
            after, before = (cached(h) - cached(0.0)) / h, (cached(0.0) - cached(-h)) / h
            self.noise = 8 * eps * (abs(cached(h)) + abs(cached(-h)) + self.scale) / h
            if abs(after - before) <= 100 * self.rtol * (abs(after) + abs(before)) + (
                    2 * self.noise + 1e-9):
                return central
        return None


class _NoForward(Exception):
    """The backend's forward could not be evaluated at a probe."""


def _names(probes: Sequence[Probe]) -> str:
    return ", ".join(p.name for p in probes)


def _verdict(forward_ok: bool, probes: tuple[Probe, ...], left_out: int,
             dtype: str) -> Consistency:
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
        return Consistency(verdict, text, forward_ok, probes, left_out, dtype)

    if forward_ok:
        if not untrue:
            on = (f"the difference sits on the element{many} on a kink" if left_out else
                  "the difference is too small or too local for random directions to show "
                  "(see the anatomy)")
            return build("agree", f"the forward is right and the backward gives the spec's "
                                  f"gradient{aside}: {on}")
        if probes and not inconsistent and not blind and all(p.consistent for p in untrue):
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
    if not untrue:
        return build("forward-only", f"the backward gives the spec's gradient, but the forward "
                                     f"is wrong: for {_names(inconsistent or probes)} your "
                                     f"backward is not the derivative of your forward (central "
                                     f"differences{kinked})")
    neither = [p for p in untrue if p in inconsistent] or untrue
    return build("both", f"the forward is wrong, and the backward is neither its derivative nor "
                         f"the spec's gradient for {_names(neither)} (central "
                         f"differences{kinked})" + _agreeing(probes, neither))


def _agreeing(probes: tuple[Probe, ...], wrong: list[Probe]) -> str:
    right = [p for p in probes if p not in wrong and p.true]
    return f"; {_names(right)} {'is' if len(right) == 1 else 'are'} right" if right else ""
