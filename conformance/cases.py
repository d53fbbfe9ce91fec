"""Cases: one abstraction for golden, slide and (part 2) randomly drawn checks of an op.

A case holds an op's inputs and attributes, the upstream gradient of each output, and, when known,
the expected outputs and gradients. A golden case (fixtures/golden/) stores all of them; a slide
case (fixtures/slides/) carries the lecture's hand-computed outputs and maybe gradients; a drawn
case carries only inputs, and ``complete`` computes what is expected with the reference.

Golden fixtures are a JSON manifest (fixtures/golden/manifest.json) and one ``.npz`` per op
(``<op>.npz``, keys ``<case>/<in|up|out|grad>/<name>``, loaded without pickle). Every float input
and upstream value is a float32 number, so a float32 run sees exactly the inputs the expected
values were computed from (in float64, by the reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal

import numpy as np

from conformance.contract import OPS, Accumulation, Check, op_spec
from reference.fixtures import load_arrays, load_json
from reference.tolerance import Tolerance, tolerance

__all__ = [
    "GOLDEN_FORMAT",
    "Case",
    "Source",
    "complete",
    "f32",
    "golden_cases",
    "golden_manifest",
]

Source = Literal["golden", "slide", "property"]
GOLDEN_FORMAT = 1
"""The version of the golden manifest's layout (its key ``format``)."""

Arrays = Mapping[str, np.ndarray]


def f32(values: Any) -> np.ndarray:
    """Values rounded to float32 numbers, held in float64 (the inputs of golden and drawn cases,
    so that a float32 run sees exactly the numbers the float64 expected values come from)."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


@dataclass(frozen=True)
class Case:
    """One check of one op: inputs, attributes, upstream gradients and what is expected.

    ``inputs`` are keyed and ordered as the op's contract inputs; ``upstream`` by output name
    (empty: no gradient check); ``expected`` by output name, ``expected_grads`` by input name
    (None: not known yet, see ``complete``). ``tolerance`` overrides the policy's tolerance (a
    slide fixture that states one); ``seed`` is the seed the values were drawn from.
    """

    op: str
    source: Source
    name: str
    inputs: Arrays
    attrs: Mapping[str, Any] = field(default_factory=dict)
    upstream: Arrays = field(default_factory=dict)
    expected: Arrays | None = None
    expected_grads: Arrays | None = None
    about: str = ""
    claims: tuple[str, ...] = ()
    tolerance: Tolerance | None = None
    seed: int | None = None

    @property
    def id(self) -> str:
        """``conv2d[golden-07]``."""
        return f"{self.op}[{self.source}-{self.name}]"

    @property
    def has_gradient(self) -> bool:
        return bool(self.upstream)

    def accumulation(self) -> Accumulation:
        """Terms and depth of this case's sums, for the tolerance policy."""
        return op_spec(self.op).accumulation(self.inputs, self.attrs)

    def inputs_in(self, dtype: Any) -> dict[str, np.ndarray]:
        """Fresh copies of the inputs as a backend gets them: real arrays in ``dtype``, index
        arrays as int64, in the contract's order."""
        return {a.name: np.array(self.inputs[a.name],
                                 dtype=np.int64 if a.kind == "index" else dtype)
                for a in op_spec(self.op).inputs}

    def tolerance_for(self, check: Check, dtype: Any) -> Tolerance:
        """The policy's tolerance for a check of this case in ``dtype`` (reference.tolerance, for
        the case's accumulation); the case's own ``tolerance`` may only loosen it."""
        acc = self.accumulation()
        tol = tolerance(dtype, terms=acc.terms_of(check), depth=acc.depth,
                        gradient=check == "gradient")
        if self.tolerance is None:
            return tol
        return Tolerance(max(tol.rtol, self.tolerance.rtol), max(tol.atol, self.tolerance.atol))

    def geometry(self) -> str:
        """A short description: input shapes and attributes."""
        shapes = ", ".join(f"{k}{list(v.shape)}" for k, v in self.inputs.items())
        attrs = ", ".join(f"{k}={_plain(v)}" for k, v in self.attrs.items())
        return f"{shapes}; {attrs}" if attrs else shapes


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def complete(case: Case, reference: Any = None) -> Case:
    """``case`` with its expected outputs and gradients computed by the reference (if missing).

    ``reference`` is a bound backend (conformance.backends.Bound); the NumPy reference adapter by
    default.
    """
    if case.expected is not None and (case.expected_grads is not None or not case.has_gradient):
        return case
    if reference is None:
        from conformance.backends import load_backend
        reference = load_backend("numpy")
    expected = case.expected
    if expected is None:
        expected = reference.outputs(case.op, case.inputs, case.attrs)
    grads = case.expected_grads
    if grads is None and case.has_gradient:
        grads = reference.call_gradient(case.op, case.inputs, case.attrs, case.upstream)
    return replace(case, expected=expected, expected_grads=grads)


# ---------------------------------------------------------------- golden cases
def golden_manifest() -> dict[str, Any]:
    """The golden manifest (fixtures/golden/manifest.json), its format checked."""
    manifest: dict[str, Any] = load_json("golden/manifest.json")
    if manifest.get("format") != GOLDEN_FORMAT:
        raise ValueError(f"golden manifest has format {manifest.get('format')!r}, this nnspec "
                         f"reads format {GOLDEN_FORMAT}")
    return manifest


@cache
def _golden_arrays(op: str) -> dict[str, np.ndarray]:
    return load_arrays(f"golden/{op}.npz")


def _section(arrays: Arrays, case: str, part: str, names: Iterable[str]) -> dict[str, np.ndarray]:
    return {n: arrays[f"{case}/{part}/{n}"] for n in names}


def golden_cases(ops: Iterable[str] | None = None) -> list[Case]:
    """The stored golden cases, in the contract's op order (optionally of some ops only)."""
    wanted = set(OPS if ops is None else ops)
    manifest = golden_manifest()
    cases = []
    for entry in manifest["cases"]:
        op = entry["op"]
        if op not in wanted:
            continue
        spec = op_spec(op)
        arrays = _golden_arrays(op)
        key = entry["name"]
        cases.append(Case(
            op=op, source="golden", name=key,
            inputs=_section(arrays, key, "in", (a.name for a in spec.inputs)),
            attrs={k: tuple(v) if isinstance(v, list) else v for k, v in entry["attrs"].items()},
            upstream=_section(arrays, key, "up", (o.name for o in spec.outputs)),
            expected=_section(arrays, key, "out", (o.name for o in spec.outputs)),
            expected_grads=_section(arrays, key, "grad", (a.name for a in spec.differentiable)),
            about=entry["about"], claims=tuple(entry.get("claims", ())), seed=entry["seed"],
        ))
    order = list(OPS)
    return sorted(cases, key=lambda c: order.index(c.op))
