"""The runner: every case of every op through a backend, each check a Result with its reason.

For each case the forward check compares every output, and the gradient check every gradient,
with what the case expects, under reference.tolerance's policy for the run's dtype and the case's
accumulation (terms of the largest sum, depth of the recurrence; see conformance.contract). Each
Result carries its status ("pass", "fail", "skip"), the error it achieved (passing or not), the
worst element and a one-line reason. A backend that lacks an op or a gradient gets "skip" (not
implemented) unless the op is required.

Nothing a backend does stops the run (conformance.isolation): an exception, None or a list where
an array belongs, inputs modified in place, a call that outlives the timeout, or (with
``isolate=True``) a crash of its process each fail that one check with a one-line reason (a
timeout is a status of its own, "timeout", and the op's remaining checks are not run). Values
are judged here (conformance.checks): the wrong shape, a dtype other than the run's, or nan/inf
where finite values are expected fail with that reason before any error is measured. A failure
with values to look at gets a diagnosis (conformance.diagnosis): the well-known mistake it
matches, or a plain "no known mistake matches".

Inputs reach the backend as fresh copies in the run's dtype (index arrays as int64). Golden and
slide inputs are exactly representable in float32, so a float32 run is compared with values
computed in float64 from the very same inputs. ``property=True`` adds randomly drawn cases
(conformance.property).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from conformance.backends import load_backend
from conformance.cases import Case, golden_manifest
from conformance.checks import (
    CallLimits,
    Target,
    _calls,
    check_case,
    default_cases,
    run_case,
)
from conformance.contract import OPS, Check
from conformance.conventions import declared_by, given, reference_for
from conformance.isolation import DEFAULT_TIMEOUT, Isolated, deadlines
from conformance.report import Report, Result
from conformance.xfail import ExpectedFailures
from conformance.xfail import load as load_xfail

__all__ = ["DEFAULT_EXAMPLES", "DTYPES", "Target", "check_case", "default_cases", "open_backend",
           "run", "run_case"]

DTYPES = ("float64", "float32")
DEFAULT_EXAMPLES = 100
"""Drawn cases per op in property mode (``--examples``)."""

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
        reproducers: str | Path | None = None,
        before: Callable[[Case, Check | None], None] | None = None,
        conventions: Mapping[str, str] | Iterable[str] | None = None,
        xfail: str | Path | ExpectedFailures | None = None) -> Report:
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
    before : called with the case and the check (None: an op's whole property search) just
        before it runs.
    property : also run property mode: ``examples`` randomly drawn cases per op from ``seed``
        (conformance.property); a failure is shrunk and gets a reproducer, written to the
        folder ``reproducers`` when given.
    timeout : seconds one backend call may take (None: no limit); the first call of each op's
        forward and of its gradient may take FIRST_CALL_FACTOR times as long (compiling on
        first use). Once a call of an op timed out, its remaining checks are reported at once
        as not run (status "timeout"), property mode included.
    isolate : run the backend in a child process, so that a crash fails a check, not the run.
    diagnose : name the well-known mistake a failure matches (conformance.diagnosis).
    conventions : the convention variants the backend follows (conformance.conventions), a
        mapping name → variant or "NAME=VARIANT" strings, on top of the backend's own
        ``conventions`` attribute; the checks a declared variant changes are judged under it.
    xfail : an expected-failures file (or its parsed ExpectedFailures, conformance.xfail): the
        failures it lists are "xfail", the passes it lists "xpass" (failing the run), and an
        entry that matches no check of the run is reported stale (failing it too).

    Ctrl-C (KeyboardInterrupt) stops the run: the Report holds what ran, ``interrupted`` set.

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
    expected = xfail if xfail is None or isinstance(xfail, ExpectedFailures) else load_xfail(
        xfail)
    extra = given(conventions)                  # refused before the backend is loaded
    target = open_backend(backend, device=device, isolate=isolate)
    try:
        declared = declared_by(target) | extra
    except (TypeError, ValueError):
        if isinstance(target, Isolated) and target is not backend:
            target.close()
        raise
    # the NumPy reference computes what a drawn case expects, what a declared convention
    # variant changes, and diagnoses a failure: golden and slide cases carry their values, so a
    # run without property mode or declarations loads it only for a diagnosis
    reference = reference_for(declared) if property or declared else None
    chosen = default_cases(names) if cases is None else [c for c in cases if c.op in names]
    start = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results: list[Result] = []

    def record(result: Result) -> None:
        if expected is not None:
            result = expected.apply(result, dt.name)
        results.append(result)
        if progress is not None:
            progress(result)

    def settle(batch: list[Result], earlier: Sequence[Result] = ()) -> None:
        """Record an op's results once its named mistakes are checked against its other
        failures (conformance.diagnosis.reconcile)."""
        if diagnose and any(r.status == "fail" and r.diagnosis for r in batch):
            from conformance.diagnosis import reconcile

            batch = reconcile(batch, earlier)
        for result in batch:
            record(result)

    limits = CallLimits(timeout)
    interrupted = False
    pending: list[Result] = []
    try:
        with deadlines():             # one SIGALRM handler for all of the run's calls
            for case in chosen:
                if pending and pending[-1].case.op != case.op:
                    settle(pending)
                    pending = []
                pending += run_case(target, case, dt, required=case.op in required,
                                    reference=reference, diagnose=diagnose, limits=limits,
                                    before=before)
            settle(pending)
            pending = []
            if property:
                from conformance.property import property_check, property_placeholder

                for op in names:
                    if op in limits.timed_out:   # its calls hang: drawing more cases would too
                        placeholder = property_placeholder(op, seed)
                        for check in ("forward", "gradient"):
                            if _calls(target, op, check):
                                record(cast(Result, limits.not_run(placeholder, check)))
                        continue
                    if before is not None:
                        before(default_cases([op])[0], None)
                    settle(property_check(target, op, dt, examples=examples, seed=seed,
                                          required=op in required, timeout=timeout,
                                          reference=reference, diagnose=diagnose,
                                          reproducers=reproducers),
                           [r for r in results if r.case.op == op])
    except KeyboardInterrupt:             # Ctrl-C: what ran is reported, marked interrupted
        interrupted = True
        for result in pending:            # the interrupted op's checks that did finish
            record(result)
    finally:
        if isinstance(target, Isolated) and target is not backend:
            target.close()
    try:
        golden_seed: int | None = golden_manifest()["seed"]
    except FileNotFoundError:
        golden_seed = None
    seeds = {"golden": golden_seed} | ({"property": seed} if property else {})
    stale = [] if expected is None or interrupted else expected.stale(results, dt.name, names)
    return Report(
        backend=target.name, backend_version=target.version, device=device, dtype=dt.name,
        ops=names, required=sorted(required, key=names.index), results=results,
        seeds=seeds, started=started, seconds=time.perf_counter() - start,
        interrupted=interrupted, conventions=declared,
        xfail_source=None if expected is None else expected.source,
        stale=[e.text() for e in stale],
    )
