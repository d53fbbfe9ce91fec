"""The runner: every case of every op through a backend, each check a Result with its reason.

For each case the forward check compares every output, and the gradient check every gradient,
with what the case expects, under reference.tolerance's policy for the run's dtype and the case's
accumulation (terms of the largest sum, depth of the recurrence; see conformance.contract). Each
Result carries its status ("pass", "fail", "skip"), the error it achieved (passing or not), the
worst element and a one-line reason. A backend that lacks an op or a gradient gets "skip" (not
implemented) unless the op is required; a backend that raises gets "fail" with the exception in
the reason, and the run goes on.

Inputs reach the backend as fresh copies in the run's dtype (index arrays as int64). Golden and
slide inputs are exactly representable in float32, so a float32 run is compared with values
computed in float64 from the very same inputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from conformance.backends import Bound, NotImplementedByBackend, load_backend
from conformance.cases import Case, complete, golden_cases, golden_manifest
from conformance.contract import OPS, op_spec
from conformance.report import Check, Report, Result, Status
from conformance.slides import slide_cases_for
from reference.tolerance import Comparison, Tolerance, compare, tolerance

__all__ = ["DTYPES", "default_cases", "run", "run_case"]

DTYPES = ("float64", "float32")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _prepare(case: Case, dtype: np.dtype) -> dict[str, np.ndarray]:
    spec = op_spec(case.op)
    return {a.name: np.array(case.inputs[a.name],
                             dtype=np.int64 if a.kind == "index" else dtype)
            for a in spec.inputs}


def _judge(case: Case, check: Check, got: Mapping[str, np.ndarray],
           expected: Mapping[str, np.ndarray], tol: Tolerance, style: str | None,
           seconds: float) -> Result:
    comparisons: dict[str, Comparison] = {n: compare(got[n], expected[n], tol) for n in expected}
    worst_name = max(comparisons, key=lambda n: comparisons[n].error_ratio)
    worst = comparisons[worst_name]
    failed = [n for n, c in comparisons.items() if not c.ok]
    status: Status = "fail" if failed else "pass"
    prefix = "d" if check == "gradient" else ""
    reason = f"{prefix}{worst_name}: {worst.describe()}"
    if len(failed) > 1:
        reason += f" (also wrong: {', '.join(prefix + n for n in failed if n != worst_name)})"

    def finite(v: float) -> float | None:
        return v if np.isfinite(v) else None

    return Result(case, check, status, reason, tol, finite(max(c.max_abs_error for c in
                                                               comparisons.values())),
                  finite(max(c.max_rel_error for c in comparisons.values())),
                  finite(worst.error_ratio), prefix + worst_name, worst.worst_index, style,
                  seconds)


def run_case(bound: Bound, case: Case, dtype: Any = np.float64, *, required: bool = False,
             reference: Bound | None = None) -> list[Result]:
    """The forward check and (if the case has upstream gradients) the gradient check of a case.

    Expected values the case lacks (a drawn case) are computed by ``reference`` (the reference
    by default) first.
    """
    case = complete(case, reference)
    checks: list[Check] = ["forward"]
    if case.has_gradient and case.expected_grads is not None:
        checks.append("gradient")
    return [_check(bound, case, check, np.dtype(dtype), required) for check in checks]


def _tolerance(case: Case, check: Check, dtype: np.dtype) -> Tolerance:
    """The policy's tolerance for this case's accumulation; a case's own may only loosen it."""
    acc = case.accumulation()
    tol = tolerance(dtype, terms=acc.terms if check == "forward" else acc.gradient_terms,
                    depth=acc.depth, gradient=check == "gradient")
    if case.tolerance is None:
        return tol
    return Tolerance(max(tol.rtol, case.tolerance.rtol), max(tol.atol, case.tolerance.atol))


def _call(bound: Bound, case: Case, check: Check, dtype: np.dtype) -> Mapping[str, np.ndarray]:
    """What the backend computes for this check: outputs or gradients, by name."""
    inputs = _prepare(case, dtype)
    if check == "forward":
        outs = bound.call_forward(case.op, inputs, case.attrs)
        return dict(zip((o.name for o in op_spec(case.op).outputs), outs))
    upstream = {k: np.array(v, dtype=dtype) for k, v in case.upstream.items()}
    return bound.call_gradient(case.op, inputs, case.attrs, upstream)


def _check(bound: Bound, case: Case, check: Check, dtype: np.dtype, required: bool) -> Result:
    tol = _tolerance(case, check, dtype)
    style = bound.gradient_style(case.op) if check == "gradient" else None
    expected = (case.expected if check == "forward" else case.expected_grads) or {}
    start = time.perf_counter()
    try:
        got = _call(bound, case, check, dtype)
    except (NotImplementedByBackend, NotImplementedError) as exc:
        what = str(exc) or f"{bound.name} does not implement {case.op} ({check})"
        reason = f"not implemented: {what}" + (" (required)" if required else "")
        return Result(case, check, "fail" if required else "skip", reason, tol, style=style,
                      seconds=time.perf_counter() - start)
    except Exception as exc:  # the backend's own error: a failed case, the run goes on
        name = case.op if check == "forward" else (style or "gradient")
        return Result(case, check, "fail", f"{name} raised {_first_line(exc)}", tol,
                      style=style, seconds=time.perf_counter() - start)
    return _judge(case, check, got, expected, tol, style, time.perf_counter() - start)


def default_cases(ops: Iterable[str] | None = None) -> list[Case]:
    """The slide cases, then the golden cases, of ``ops`` (all by default), op by op."""
    wanted = list(OPS if ops is None else ops)
    cases = slide_cases_for(wanted) + golden_cases(wanted)
    order = list(OPS)
    return sorted(cases, key=lambda c: order.index(c.op))   # stable: slides first per op


def _check_ops(ops: Iterable[str] | None, what: str) -> list[str]:
    if ops is None:
        return list(OPS)
    names = [ops] if isinstance(ops, str) else list(ops)
    unknown = [o for o in names if o not in OPS]
    if unknown:
        raise ValueError(f"{what}: unknown op(s) {', '.join(unknown)}; the contract's ops are "
                         f"{', '.join(OPS)}")
    return names


def _required(require: bool | str | Iterable[str] | None, ops: list[str]) -> set[str]:
    if require is True or require == "all":
        return set(ops)
    if not require:
        return set()
    return set(_check_ops(require, "require"))


def run(backend: Any = "numpy", *, ops: Iterable[str] | None = None, dtype: Any = "float64",
        require: bool | str | Iterable[str] | None = None, cases: Iterable[Case] | None = None,
        device: str | None = None,
        progress: Callable[[Result], None] | None = None) -> Report:
    """Check ``backend`` against the specification; return a Report.

    Parameters
    ----------
    backend : a name ("numpy", "torch", "jax", a registered name, "package.module:attribute")
        or any object exposing contract functions (see conformance.contract).
    ops : op names to check (default: every op of the contract).
    dtype : "float64" or "float32": the dtype inputs are given in and the tolerance is set for.
    require : op names (or True / "all") whose missing forward or gradient is a failure rather
        than a skip.
    cases : the cases to run (default: the slide and golden cases of ``ops``).
    device : passed to the backend's adapter (torch: "cpu", "cuda").
    progress : called with each Result as soon as it is known.

    Raises
    ------
    ValueError for an unknown op or dtype; conformance.backends.BackendError when the backend
    cannot be loaded.
    """
    names = _check_ops(ops, "ops")
    dt = np.dtype(dtype)
    if dt.name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dt.name}")
    required = _required(require, names)
    bound = load_backend(backend, device=device)
    reference = load_backend("numpy")
    chosen = default_cases(names) if cases is None else [c for c in cases if c.op in names]
    start = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results: list[Result] = []
    for case in chosen:
        for result in run_case(bound, case, dt, required=case.op in required,
                               reference=reference):
            results.append(result)
            if progress is not None:
                progress(result)
    try:
        golden_seed: int | None = golden_manifest()["seed"]
    except FileNotFoundError:
        golden_seed = None
    return Report(
        backend=bound.name, backend_version=bound.version, device=device, dtype=dt.name,
        ops=names, required=sorted(required, key=names.index), results=results,
        seeds={"golden": golden_seed}, started=started, seconds=time.perf_counter() - start,
    )
