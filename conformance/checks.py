"""One check of one case: the backend called on fresh copies of the inputs, its values judged
against the expected ones under the tolerance policy, and a failure diagnosed.

For each case the forward check compares every output, and the gradient check every gradient,
with what the case expects, under reference.tolerance's policy for the run's dtype and the case's
accumulation (terms of the largest sum, depth of the recurrence; see conformance.contract). Values
are judged here: the wrong shape, a dtype other than the run's (a float32 run exists to check
float32 arithmetic, so a float64 result fails it, as a float32 one fails a float64 run), or
nan/inf where finite values are expected fail with that reason before any error is measured.
A failure with values to look at gets a diagnosis (conformance.diagnosis).

Inputs reach the backend as fresh copies in the run's dtype (index arrays as int64). Golden and
slide inputs are exactly representable in float32, so a float32 run is compared with values
computed in float64 from the very same inputs.

The modules that run many checks build on this one and never the other way round:
conformance.property (drawn cases) and conformance.runner (a whole run) import it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.backends import Bound, load_backend
from conformance.cases import Case, complete, golden_cases
from conformance.contract import OPS
from conformance.conventions import under
from conformance.isolation import DEFAULT_TIMEOUT, UNCALLABLE, Isolated, Outcome, call
from conformance.report import Check, Result, Status
from conformance.slides import slide_cases_for
from reference.tolerance import Comparison, Tolerance, compare

__all__ = ["FIRST_CALL_FACTOR", "CallLimits", "Target", "check_case", "default_cases",
           "limited_check", "run_case"]

Target = Bound | Isolated
"""A backend as the runner calls it: in this process (Bound) or in a child process."""


def _value_problem(name: str, got: np.ndarray, expected: np.ndarray, dtype: np.dtype,
                   comparison: Comparison) -> str | None:
    """What is wrong with one returned array before its error is measured, or None."""
    if got.dtype.kind != "f":
        return f"{name}: dtype {got.dtype}, expected {dtype.name}"
    if got.dtype != dtype:              # float64 in a float32 run: not float32 arithmetic
        return (f"{name}: dtype {got.dtype} in a {dtype.name} run (a {dtype.name} run checks "
                f"{dtype.name} arithmetic: compute in {dtype.name} and return it)")
    if comparison.reason:                            # the shape
        return f"{name}: {comparison.reason}"
    if math.isfinite(comparison.max_abs_error):  # nan or inf for a finite value: an infinite error
        return None
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
        return v if math.isfinite(v) else None

    return Result(case, check, status, reason, tol, finite(max(c.max_abs_error for c in
                                                               comparisons.values())),
                  finite(max(c.max_rel_error for c in comparisons.values())),
                  finite(worst.error_ratio), prefix + shown, worst.worst_index, style,
                  seconds)


def _invoke(target: Target, case: Case, check: Check, dtype: np.dtype,
            timeout: float | None) -> Outcome:
    inputs = case.inputs_in(dtype)
    upstream = ({k: np.array(v, dtype=dtype) for k, v in case.upstream.items()}
                if check == "gradient" else {})
    return call(target, case.op, check, inputs, case.attrs, upstream, timeout)


def check_case(target: Target, case: Case, check: Check, dtype: Any = np.float64, *,
               required: bool = False, timeout: float | None = DEFAULT_TIMEOUT,
               reference: Bound | None = None, diagnose: bool = True,
               declared: tuple[tuple[str, str], ...] = ()) -> Result:
    """One check (forward or gradient) of a case whose expected values are known.

    A failure with values gets a diagnosis (conformance.diagnosis) unless ``diagnose`` is False.
    ``declared``: the declared conventions (name, variant) that gave the case the expected
    values of this check (conformance.conventions.under), recorded on a pass or a failure.
    """
    result = _check_case(target, case, check, np.dtype(dtype), required, timeout, reference,
                         diagnose)
    return replace(result, declared=declared) if declared and result.status in (
        "pass", "fail") else result


def _check_case(target: Target, case: Case, check: Check, dt: np.dtype, required: bool,
                timeout: float | None, reference: Bound | None, diagnose: bool) -> Result:
    tol = case.tolerance_for(check, dt)
    style = target.gradient_style(case.op) if check == "gradient" else None
    expected = (case.expected if check == "forward" else case.expected_grads) or {}
    outcome = _invoke(target, case, check, dt, timeout)
    if outcome.status == "skip":
        reason = outcome.reason + (" (required)" if required else "")
        return Result(case, check, "fail" if required else "skip", reason, tol, style=style,
                      seconds=outcome.seconds)
    if outcome.values is None:
        status: Status = "timeout" if outcome.status == "timeout" else "fail"
        raised = Result(case, check, status, outcome.reason, tol, style=style,
                        seconds=outcome.seconds)
        if status == "fail" and diagnose:
            return _raised(raised, target, dt, timeout, reference)
        return raised
    result = _judge(case, check, outcome.values, expected, tol, dt, style, outcome.seconds)
    if outcome.warnings:                  # the contract promises no warning: reported, not lost
        result = replace(result, warnings=outcome.warnings,
                         reason=f"{result.reason} [it warned: {'; '.join(outcome.warnings)}]")
        if result.status == "pass" and STABLE in OPS[case.op].claims:
            return replace(result, status="fail", diagnosis=_warned(case.op, outcome.warnings))
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
                         consistency=found.consistency, anatomy=found.anatomy,
                         narrowing=found.narrowing)
    return result


def _raised(result: Result, target: Target, dt: np.dtype, timeout: float | None,
            reference: Bound | None) -> Result:
    """A check whose call raised, diagnosed where its backward needs a forward first, else
    narrowed: the simpler cases on which the call does not raise and is right."""
    from conformance.diagnosis import raised_after_a_forward
    from conformance.narrowing import narrow

    case = result.case
    if result.check == "gradient" and (
            cached := raised_after_a_forward(case, dt, target, timeout)) is not None:
        return replace(result, diagnosis=cached)
    if UNCALLABLE in result.reason:
        return result                     # its signature: nothing a simpler case would change
    found = narrow(target, case, result.check, dt, reference or load_backend("numpy"), timeout,
                   raised=True)
    return replace(result, narrowing=found) if found is not None and found.tells else result


STABLE = "convention.stable"
"""The claim of the ops that must be finite and warning-free for any finite input (CONVENTIONS:
"no overflow warning, no nan"): a numeric warning fails their check even where the values are
right."""

_UNSTABLE_STEP = {
    "sigmoid": "1 / (1 + e^−x) takes e^(1e4) at x = −1e4; a stable σ exponentiates −|x| only",
    "softmax": "e^x of an unshifted logit, or a row whose exps all underflow; subtracting each "
               "row's own maximum first keeps every exp in (0, 1]",
    "cross_entropy": "e^x of an unshifted logit, or the log of a probability that underflowed "
                     "to 0; log-sum-exp (x_t − m − log Σ e^(x_j − m), m = max x) avoids both",
}


def _warned(op: str, warnings: tuple[str, ...]) -> str:
    """The diagnosis of right values computed with a numeric warning by an op that promises
    none."""
    return (f"the values are right, but computing them warned ({'; '.join(warnings)}): an "
            f"intermediate overflowed or divided by zero on the way ({_UNSTABLE_STEP[op]}); "
            f"the contract promises {op} warning-free for any finite input [breaks {STABLE}]")


FIRST_CALL_FACTOR = 6
"""The first call of each op's forward and of its gradient may take this many times the limit
per call: frameworks that compile on first use (a JIT, a kernel cache) are slow once, not hung."""


@dataclass
class CallLimits:
    """The time limits of a run's calls, and what timed out.

    The first call of an op's forward and of its gradient gets ``FIRST_CALL_FACTOR`` × the limit
    per call ``timeout``, later calls ``timeout`` (None: no limit). Once a call of an op timed
    out, its remaining checks are not run (each would cost the full limit): ``not_run`` gives
    their Results at once, status "timeout", naming the check that timed out.
    """

    timeout: float | None
    called: set[tuple[str, Check]] = field(default_factory=set)
    timed_out: dict[str, Result] = field(default_factory=dict)

    def limit(self, op: str, check: Check) -> float | None:
        """The limit of the next call of ``op``'s ``check`` (counted as made)."""
        first = (op, check) not in self.called
        self.called.add((op, check))
        if self.timeout is None:
            return None
        return self.timeout * FIRST_CALL_FACTOR if first else self.timeout

    def record(self, result: Result, limit: float | None) -> Result:
        """Note a timeout (the op's later checks will not run); say so when it was the generous
        first call's."""
        if result.status != "timeout":
            return result
        self.timed_out.setdefault(result.case.op, result)
        if limit is not None and self.timeout is not None and limit > self.timeout:
            result = replace(result, reason=result.reason.replace(
                "(the limit per call;", f"(its first call, allowed {FIRST_CALL_FACTOR}× the "
                f"limit per call for compiling on first use;"))
        return result

    def not_run(self, case: Case, check: Check) -> Result | None:
        """The Result of a check not run because a call of its op timed out, or None."""
        first = self.timed_out.get(case.op)
        if first is None:
            return None
        return Result(case, check, "timeout",
                      f"not run: {first.id} timed out, and each of {case.op}'s checks would "
                      f"wait as long", first.tolerance if first.case is case else None)


def _calls(target: Target, op: str, check: Check) -> bool:
    """Whether checking ``op``'s ``check`` calls the backend (it has the function)."""
    if check == "forward":
        return target.forward_fn(op) is not None
    return target.gradient_style(op) is not None


def run_case(bound: Target, case: Case, dtype: Any = np.float64, *, required: bool = False,
             reference: Bound | None = None, timeout: float | None = DEFAULT_TIMEOUT,
             diagnose: bool = True, limits: CallLimits | None = None,
             before: Callable[[Case, Check], None] | None = None) -> list[Result]:
    """The forward check and (if the case has upstream gradients) the gradient check of a case.

    Expected values the case lacks (a drawn case) are computed by ``reference`` (the reference
    by default) first; a ``reference`` computing declared convention variants
    (conformance.conventions.reference_for) gives the checks whose expected values a variant
    changes those values, and marks their Results ``declared``. With ``limits`` (a run's
    CallLimits) they set each call's time limit instead of ``timeout``, and checks of an op that
    timed out are not run. ``before`` is called with the case and check just before each check
    runs (progress, crash reports).
    """
    case, declared = under(case, reference)
    case = complete(case, reference)
    checks: list[Check] = ["forward"]
    if case.has_gradient and case.expected_grads is not None:
        checks.append("gradient")
    limits = limits or CallLimits(timeout, called={(case.op, c) for c in checks})
    # The gradient is checked first, right after a forward and a backward of other values of
    # the same shapes (a decoy), never after a forward of its own inputs: a backward that reads
    # what a forward left (a cache, the last one's or the first of these shapes') instead of
    # the inputs it is given fails, and so does one adding into a buffer it keeps between calls.
    # The results keep the order forward, gradient.
    done: dict[Check, Result] = {}
    if "gradient" in checks:
        done.update(_decoy(bound, case, dtype, limits, before))   # (a timeout: its check's)
    for check in checks[::-1]:
        done.setdefault(check, limited_check(
            bound, case, check, dtype, limits, required=required, reference=reference,
            diagnose=diagnose, before=before, declared=declared.get(check, ())))
    return [done[check] for check in checks]


def _decoy(target: Target, case: Case, dtype: Any, limits: CallLimits,
           before: Callable[[Case, Check], None] | None) -> dict[Check, Result]:
    """A forward call and a gradient call of the case's op on other values of the same shapes
    (−x/2 + 1/8; index inputs unchanged; the case's upstream gradients): what a backward that
    keeps state from its forward, or from its own last call, would find. Their values are
    ignored; where one times out, that is its check's outcome on this case (the op's other
    checks are then not run), returned as its Result."""
    inputs = decoy_inputs(case, dtype)
    upstream = {k: np.array(v, dtype=dtype) for k, v in case.upstream.items()}
    for check in ("forward", "gradient"):
        if not _calls(target, case.op, check) or limits.timed_out.get(case.op) is not None:
            continue
        if before is not None:
            before(case, check)           # (a crash is this check's, on these shapes)
        limit = limits.limit(case.op, check)
        outcome = call(target, case.op, check, inputs, case.attrs,
                       upstream if check == "gradient" else {}, limit)
        if outcome.status == "timeout":
            return {check: limits.record(Result(
                case, check, "timeout", outcome.reason,
                case.tolerance_for(check, np.dtype(dtype)), seconds=outcome.seconds), limit)}
    return {}


def decoy_inputs(case: Case, dtype: Any) -> dict[str, np.ndarray]:
    """The decoy's inputs: the case's, in ``dtype``, each real one as −x/2 + 1/8."""
    return {k: v if v.dtype.kind != "f" else -0.5 * v + np.asarray(0.125, v.dtype)
            for k, v in case.inputs_in(np.dtype(dtype)).items()}


def limited_check(target: Target, case: Case, check: Check, dtype: Any, limits: CallLimits, *,
                  required: bool = False, reference: Bound | None = None, diagnose: bool = True,
                  before: Callable[[Case, Check], None] | None = None,
                  declared: tuple[tuple[str, str], ...] = ()) -> Result:
    """check_case under a run's CallLimits: not run if a call of the op timed out (and the
    check would call the backend), else timed by ``limits`` and its timeout recorded."""
    if _calls(target, case.op, check) and (skipped := limits.not_run(case, check)) is not None:
        return skipped
    limit = limits.limit(case.op, check)
    if before is not None:
        before(case, check)
    result = check_case(target, case, check, dtype, required=required, timeout=limit,
                        reference=reference, diagnose=diagnose, declared=declared)
    return limits.record(result, limit)


def default_cases(ops: Iterable[str] | None = None) -> list[Case]:
    """The slide cases, then the golden cases, of ``ops`` (all by default), op by op."""
    wanted = list(OPS if ops is None else ops)
    cases = slide_cases_for(wanted) + golden_cases(wanted)
    order = list(OPS)
    return sorted(cases, key=lambda c: order.index(c.op))   # stable: slides first per op
