"""The runner: every case of every op through a backend, each check a Result with its reason.

For each case the forward check compares every output, and the gradient check every gradient,
with what the case expects, under reference.tolerance's policy for the run's dtype and the case's
accumulation (terms of the largest sum, depth of the recurrence; see conformance.contract). Each
Result carries its status ("pass", "fail", "skip"), the error it achieved (passing or not), the
worst element and a one-line reason. A backend that lacks an op or a gradient gets "skip" (not
implemented) unless the op is required.

Nothing a backend does stops the run (conformance.isolation): an exception, None or a list where
an array belongs, inputs modified in place, a call that outlives the timeout, or (with
``isolate=True``) a crash of its process each fail that one check with a one-line reason. Values
are judged here: the wrong shape, a dtype that is not a float of at least the run's precision, or
nan/inf where finite values are expected fail with that reason before any error is measured.
A failure with values to look at gets a diagnosis (conformance.diagnosis): the well-known mistake
it matches, or a plain "no known mistake matches".

Inputs reach the backend as fresh copies in the run's dtype (index arrays as int64). Golden and
slide inputs are exactly representable in float32, so a float32 run is compared with values
computed in float64 from the very same inputs. ``property=True`` adds Hypothesis-drawn cases
(conformance.property).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from conformance.backends import Bound, load_backend
from conformance.cases import Case, complete, golden_cases, golden_manifest
from conformance.contract import OPS, op_spec
from conformance.isolation import DEFAULT_TIMEOUT, Isolated, Outcome, invoke
from conformance.report import Check, Report, Result, Status
from conformance.slides import slide_cases_for
from reference.tolerance import Comparison, Tolerance, compare, tolerance

__all__ = ["DEFAULT_EXAMPLES", "DTYPES", "Target", "check_case", "default_cases", "open_backend",
           "run", "run_case"]

DTYPES = ("float64", "float32")
DEFAULT_EXAMPLES = 100
"""Hypothesis examples per op in property mode (``--examples``)."""

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


def _tolerance(case: Case, check: Check, dtype: np.dtype) -> Tolerance:
    """The policy's tolerance for this case's accumulation; a case's own may only loosen it."""
    acc = case.accumulation()
    tol = tolerance(dtype, terms=acc.terms_of(check), depth=acc.depth,
                    gradient=check == "gradient")
    if case.tolerance is None:
        return tol
    return Tolerance(max(tol.rtol, case.tolerance.rtol), max(tol.atol, case.tolerance.atol))


def _invoke(target: Target, case: Case, check: Check, dtype: np.dtype,
            timeout: float | None) -> Outcome:
    inputs = _prepare(case, dtype)
    upstream = ({k: np.array(v, dtype=dtype) for k, v in case.upstream.items()}
                if check == "gradient" else {})
    if isinstance(target, Isolated):
        return target.invoke(case.op, check, inputs, case.attrs, upstream, timeout)
    return invoke(target, case.op, check, inputs, case.attrs, upstream, timeout)


def check_case(target: Target, case: Case, check: Check, dtype: Any = np.float64, *,
               required: bool = False, timeout: float | None = DEFAULT_TIMEOUT,
               reference: Bound | None = None, diagnose: bool = True) -> Result:
    """One check (forward or gradient) of a case whose expected values are known.

    A failure with values gets a diagnosis (conformance.diagnosis) unless ``diagnose`` is False.
    """
    dt = np.dtype(dtype)
    tol = _tolerance(case, check, dt)
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
            found = find_mistake(case, check, outcome.values, dt, tol, reference)
        except Exception as exc:      # a diagnosis is advice: it must not end the run
            found = (f"unknown: the diagnosis itself failed ({type(exc).__name__}: {exc}); the "
                     f"check's failure above stands (please report this to nnspec)")
        result = replace(result, diagnosis=found)
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


# ---------------------------------------------------------------- options (CLI and plugin)
PROPERTY_WHY = "property mode draws the cases they choose and keep"
"""Why the property options (--examples, --seed, ...) need property mode."""


def only_with(given: Sequence[str], needed: str, why: str, *, leave_out: bool = True) -> str:
    """The message refusing the options ``given`` without the option ``needed``."""
    one = len(given) == 1
    text = f"{', '.join(given)} only {'applies' if one else 'apply'} with {needed} ({why})"
    return text + (f"; add {needed} or leave {'it' if one else 'them'} out" if leave_out else "")


def count_problem(value: int) -> str | None:
    """What is wrong with a number of examples (``--examples``), or None."""
    return None if value >= 1 else f"must be at least 1, got {value}"


def seconds_problem(value: float) -> str | None:
    """What is wrong with a time limit in seconds (``--timeout``; 0: none), or None."""
    if 0 <= value < math.inf:
        return None
    return f"must be at least 0 and finite (seconds; 0: no limit), got {value:g}"


def op_names(text: str) -> list[str]:
    """The ops of a comma-separated list such as "conv2d, max_pool2d" (blanks ignored); a
    ValueError names unknown ones (the CLI's --ops and --require, the pytest plugin's options)."""
    return _check_ops([name.strip() for name in text.split(",") if name.strip()], None)


def _check_ops(ops: Iterable[str] | None, what: str | None) -> list[str]:
    if ops is None:
        return list(OPS)
    names = [ops] if isinstance(ops, str) else list(ops)
    unknown = [o for o in names if o not in OPS]
    if unknown:
        message = (f"unknown op(s) {', '.join(unknown)}; the contract's ops are "
                   f"{', '.join(OPS)}")
        raise ValueError(message if what is None else f"{what}: {message}")
    return names


def _required(require: bool | str | Iterable[str] | None, ops: list[str]) -> set[str]:
    if require is True or require == "all":
        return set(ops)
    if not require:
        return set()
    return set(_check_ops(require, "require"))


def open_backend(backend: Any, *, device: str | None = None, isolate: bool = False) -> Target:
    """The backend to check: loaded here (a Bound), or with ``isolate`` in a child process.

    Isolation needs something the child can import: a name, or a module or module-level object
    (conformance.backends.Bound.target). Raises BackendError otherwise.
    """
    if not isolate:
        return load_backend(backend, device=device)
    if isinstance(backend, Isolated):
        return backend
    if isinstance(backend, str):
        return Isolated(backend, device=device)
    target = load_backend(backend).target
    if target is None:
        from conformance.backends import BackendError

        raise BackendError("isolate=True needs a backend the child process can import: a name "
                           "(package.module:attribute) or a module-level object")
    return Isolated(target, device=device)


def run(backend: Any = "numpy", *, ops: Iterable[str] | None = None, dtype: Any = "float64",
        require: bool | str | Iterable[str] | None = None, cases: Iterable[Case] | None = None,
        device: str | None = None, progress: Callable[[Result], None] | None = None,
        property: bool = False, examples: int = DEFAULT_EXAMPLES, seed: int = 0,
        timeout: float | None = DEFAULT_TIMEOUT, isolate: bool = False, diagnose: bool = True,
        reproducers: str | Path | None = None) -> Report:
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
    property : also run property mode: ``examples`` Hypothesis-drawn cases per op from ``seed``
        (conformance.property); a failure is shrunk and gets a reproducer, written to the
        folder ``reproducers`` when given.
    timeout : seconds one backend call may take (None: no limit).
    isolate : run the backend in a child process, so that a crash fails a check, not the run.
    diagnose : name the well-known mistake a failure matches (conformance.diagnosis).

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
    target = open_backend(backend, device=device, isolate=isolate)
    reference = load_backend("numpy")
    chosen = default_cases(names) if cases is None else [c for c in cases if c.op in names]
    start = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results: list[Result] = []

    def record(result: Result) -> None:
        results.append(result)
        if progress is not None:
            progress(result)

    try:
        for case in chosen:
            for result in run_case(target, case, dt, required=case.op in required,
                                   reference=reference, timeout=timeout, diagnose=diagnose):
                record(result)
        if property:
            from conformance.property import property_check

            for op in names:
                for result in property_check(target, op, dt, examples=examples, seed=seed,
                                             required=op in required, timeout=timeout,
                                             reference=reference, diagnose=diagnose,
                                             reproducers=reproducers):
                    record(result)
    finally:
        if isinstance(target, Isolated) and target is not backend:
            target.close()
    try:
        golden_seed: int | None = golden_manifest()["seed"]
    except FileNotFoundError:
        golden_seed = None
    seeds = {"golden": golden_seed} | ({"property": seed} if property else {})
    return Report(
        backend=target.name, backend_version=target.version, device=device, dtype=dt.name,
        ops=names, required=sorted(required, key=names.index), results=results,
        seeds=seeds, started=started, seconds=time.perf_counter() - start,
    )
