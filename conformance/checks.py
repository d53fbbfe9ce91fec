"""One check of one case: the backend called on fresh copies of the inputs, its values judged
against the expected ones under the tolerance policy, and a failure diagnosed.

For each case the forward check compares every output, and the gradient check every gradient,
with what the case expects, under reference.tolerance's policy for the run's dtype and the case's
accumulation (terms of the largest sum, depth of the recurrence; see conformance.contract). Values
are judged here: the wrong shape, a dtype that is not a float of at least the run's precision, or
nan/inf where finite values are expected fail with that reason before any error is measured.
A failure with values to look at gets a diagnosis (conformance.diagnosis).

Inputs reach the backend as fresh copies in the run's dtype (index arrays as int64). Golden and
slide inputs are exactly representable in float32, so a float32 run is compared with values
computed in float64 from the very same inputs.

The modules that run many checks build on this one and never the other way round:
conformance.property (drawn cases) and conformance.runner (a whole run) import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from conformance.backends import Bound
from conformance.cases import Case, complete, golden_cases
from conformance.contract import OPS, op_spec
from conformance.isolation import DEFAULT_TIMEOUT, Isolated, Outcome, call
from conformance.report import Check, Result, Status
from conformance.slides import slide_cases_for
from reference.tolerance import Comparison, Tolerance, compare

__all__ = ["Target", "check_case", "default_cases", "run_case"]

Target = Bound | Isolated
"""A backend as the runner calls it: in this process (Bound) or in a child process."""


def _prepare(case: Case, dtype: np.dtype) -> dict[str, np.ndarray]:
    spec = op_spec(case.op)
    return {a.name: np.array(case.inputs[a.name],
                             dtype=np.int64 if a.kind == "index" else dtype)
            for a in spec.inputs}


def _value_problem(name: str, got: np.ndarray, expected: np.ndarray, dtype: np.dtype,
                   comparison: Comparison) -> str | None:
    """What is wrong with one returned array before its error is measured, or None."""
    if got.dtype.kind != "f":
        return f"{name}: dtype {got.dtype}, expected {dtype.name}"
    if got.dtype.itemsize < dtype.itemsize:
        return f"{name}: dtype {got.dtype} in a {dtype.name} run"
    if comparison.reason:                            # the shape
        return f"{name}: {comparison.reason}"
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        nan, inf = int(np.isnan(got[bad]).sum()), int(np.isinf(got[bad]).sum())
        counts = " and ".join(f"{k} {w}" for k, w in ((nan, "nan"), (inf, "inf")) if k)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"{name}: {counts} where finite values are expected (first at index {first})"
    return None


def _judge(case: Case, check: Check, got: Mapping[str, np.ndarray],
           expected: Mapping[str, np.ndarray], tol: Tolerance, dtype: np.dtype,
           style: str | None, seconds: float) -> Result:
    prefix = "d" if check == "gradient" else ""
    comparisons: dict[str, Comparison] = {n: compare(got[n], expected[n], tol) for n in expected}
    problems = {n: _value_problem(prefix + n, np.asarray(got[n]), np.asarray(expected[n]), dtype,
                                  comparisons[n]) for n in expected}
    failed = [n for n in expected if problems[n] or not comparisons[n].ok]
    worst_name = max(comparisons, key=lambda n: comparisons[n].error_ratio)
    first = next((n for n in failed if problems[n]), None)
    shown = first or worst_name
    worst = comparisons[shown]
    status: Status = "fail" if failed else "pass"
    reason = problems[shown] or f"{prefix}{shown}: {worst.describe()}"
    if len(failed) > 1:
        reason += f" (also wrong: {', '.join(prefix + n for n in failed if n != shown)})"

    def finite(v: float) -> float | None:
        return v if np.isfinite(v) else None

    return Result(case, check, status, reason, tol, finite(max(c.max_abs_error for c in
                                                               comparisons.values())),
                  finite(max(c.max_rel_error for c in comparisons.values())),
                  finite(worst.error_ratio), prefix + shown, worst.worst_index, style,
                  seconds)


def _invoke(target: Target, case: Case, check: Check, dtype: np.dtype,
            timeout: float | None) -> Outcome:
    inputs = _prepare(case, dtype)
    upstream = ({k: np.array(v, dtype=dtype) for k, v in case.upstream.items()}
                if check == "gradient" else {})
    return call(target, case.op, check, inputs, case.attrs, upstream, timeout)


def check_case(target: Target, case: Case, check: Check, dtype: Any = np.float64, *,
               required: bool = False, timeout: float | None = DEFAULT_TIMEOUT,
               reference: Bound | None = None, diagnose: bool = True) -> Result:
    """One check (forward or gradient) of a case whose expected values are known.

    A failure with values gets a diagnosis (conformance.diagnosis) unless ``diagnose`` is False.
    """
    dt = np.dtype(dtype)
    tol = case.tolerance_for(check, dt)
    style = target.gradient_style(case.op) if check == "gradient" else None
    expected = (case.expected if check == "forward" else case.expected_grads) or {}
    outcome = _invoke(target, case, check, dt, timeout)
    if outcome.status == "skip":
        reason = outcome.reason + (" (required)" if required else "")
        return Result(case, check, "fail" if required else "skip", reason, tol, style=style,
                      seconds=outcome.seconds)
    if outcome.values is None:
        return Result(case, check, "fail", outcome.reason, tol, style=style,
                      seconds=outcome.seconds)
    result = _judge(case, check, outcome.values, expected, tol, dt, style, outcome.seconds)
    if result.status == "fail" and diagnose:
        from conformance.diagnosis import diagnose as find_mistake

        try:
            found = find_mistake(case, check, outcome.values, dt, tol, reference, target=target,
                                 timeout=timeout)
        except Exception as exc:      # a diagnosis is advice: it must not end the run
            return replace(result, diagnosis=(
                f"unknown: the diagnosis itself failed ({type(exc).__name__}: {exc}); the "
                f"check's failure above stands (please report this to nnspec)"))
        result = replace(result, diagnosis=found.text, mistakes=found.mistakes,
                         consistency=found.consistency, anatomy=found.anatomy)
    return result


def run_case(bound: Target, case: Case, dtype: Any = np.float64, *, required: bool = False,
             reference: Bound | None = None, timeout: float | None = DEFAULT_TIMEOUT,
             diagnose: bool = True) -> list[Result]:
    """The forward check and (if the case has upstream gradients) the gradient check of a case.

    Expected values the case lacks (a drawn case) are computed by ``reference`` (the reference
    by default) first.
    """
    case = complete(case, reference)
    checks: list[Check] = ["forward"]
    if case.has_gradient and case.expected_grads is not None:
        checks.append("gradient")
    return [check_case(bound, case, check, dtype, required=required, timeout=timeout,
                       reference=reference, diagnose=diagnose) for check in checks]


def default_cases(ops: Iterable[str] | None = None) -> list[Case]:
    """The slide cases, then the golden cases, of ``ops`` (all by default), op by op."""
    wanted = list(OPS if ops is None else ops)
    cases = slide_cases_for(wanted) + golden_cases(wanted)
    order = list(OPS)
    return sorted(cases, key=lambda c: order.index(c.op))   # stable: slides first per op
