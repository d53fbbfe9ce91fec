"""Property mode: cases of an op are drawn at random, the backend is checked on each, a failure is
shrunk by Hypothesis to a minimal case and handed back with a diagnosis and a reproducer.

    nnspec run --backend NAME --property [--examples N] [--seed S] [--reproducers DIR]

For each op, up to ``examples`` valid cases are drawn (conformance.strategies.op_cases: geometries
that fit, float32-exact values, an upstream gradient per output); the reference computes what each
should give, and the backend's forward and gradient are checked exactly as a golden case is
(conformance.checks.check_case, same tolerance policy). The run is reproducible: the same
``seed`` (0 unless ``--seed``) draws the same cases in any process (derandomised, as CI wants).

The cases are drawn by a ``random.Random(seed)`` through the very builders Hypothesis's strategies
run on (conformance.strategies.draws, ``op_case``), the first case the simplest (smallest sizes,
the ramp of values), as Hypothesis's first example would be: a Hypothesis example costs more than
checking a case does (its engine, its records), and searching is where a user spends property
mode's time. The first failing case's choices are then handed to Hypothesis, which replays them
through the same strategy (``op_cases(op)``: the same case) and shrinks it, seeded with ``seed``.
Hypothesis keeps no example database and does not draw the constants it finds in the loaded
modules' source.

The shrunk failure is checked once more with diagnosis on; its Result's reason names the seed, and
its ``reproducer`` is a self-contained Python script (conformance.reproducer) that calls the
backend directly on that case.

A drawn case the backend raises NotImplementedError for (a partial backend lacking one geometry,
say unequal strides) is skipped and counted (``Result.skipped_examples``), and drawing goes on;
a check is skipped only when every drawn case was.

A passing op gives one Result per check whose case is the drawn example with the largest error
(relative to its tolerance) and whose ``examples`` is the number of cases checked. A call that
times out or crashes the backend's process fails at once, without shrinking (each try would
cost the full timeout).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from random import Random
from typing import Any, cast

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.database import ExampleDatabase

try:                       # Hypothesis ≥ 6.12x keeps choice sequences in its example database
    from hypothesis.database import choices_to_bytes
except ImportError:        # pragma: no cover - an older Hypothesis: shrink by searching again
    choices_to_bytes = None  # type: ignore[assignment]

from conformance.backends import Bound, load_backend
from conformance.cases import Case, complete
from conformance.checks import Target, check_case, default_cases
from conformance.diagnosis import FLOAT32_ARITHMETIC
from conformance.isolation import CRASHED, DEFAULT_TIMEOUT, deadlines
from conformance.report import Check, Result
from conformance.reproducer import script, write
from conformance.strategies.draws import Choice, RandomDraws
from conformance.strategies.ops import op_case, op_cases

__all__ = ["property_check", "property_placeholder", "property_settings"]


def property_settings(examples: int) -> settings:
    """Hypothesis settings of property mode: ``examples`` cases, no database, quiet, every
    health check off (a slow backend is not the user's test being slow)."""
    return settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    report_multiple_bugs=False, print_blob=False,
                    phases=(Phase.explicit, Phase.generate, Phase.shrink))


@contextmanager
def _stable_draws() -> Iterator[None]:
    """Keep Hypothesis from drawing the constants it finds in the source of the loaded local
    modules (Hypothesis ≥ 6.131): they make the cases a seed draws depend on what happens to be
    imported, and property mode promises the same cases for the same seed in any process."""
    try:
        from hypothesis.internal.conjecture import providers
        original, cache = providers._get_local_constants, providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):  # pragma: no cover - a Hypothesis without them
        yield
        return
    providers._get_local_constants = providers.Constants  # type: ignore[attr-defined]  # none
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


class _Falsified(Exception):
    """A drawn case on which the backend failed (raised for Hypothesis to shrink)."""

    def __init__(self, case: Case) -> None:
        super().__init__(case.geometry())
        self.case = case


@dataclass
class _Search:
    """One search over an op's cases (or one shrink of a failing case), checking ``checks`` on
    each."""

    checks: list[Check]
    examples: int = 0                      # cases checked up to (and with) the first failure
    failing: set[Check] = field(default_factory=set)   # the checks failing on the first failure
    last_failing: Case | None = None
    aborted: list[Result] = field(default_factory=list)
    worst: dict[str, Result] = field(default_factory=dict)
    skipped: dict[str, Result] = field(default_factory=dict)   # the first skip of each check
    skips: dict[str, int] = field(default_factory=dict)        # drawn cases skipped, by check
    start: tuple[Choice, ...] | None = None   # the first failing case, as choices

    def all_skipped(self, check: Check) -> Result | None:
        """The skip Result of a check the backend skipped on every drawn case (it raised
        NotImplementedError each time), or None."""
        first = self.skipped.get(check)
        if first is None or check in self.worst or check in self.failing:
            return None
        n = self.skips[check]
        return replace(first, reason=f"{first.reason} (every one of the {n} drawn "
                                     f"case{'s' if n > 1 else ''})")


def _fatal(result: Result) -> bool:
    return result.status == "timeout" or (result.status == "fail" and CRASHED in result.reason)


def property_placeholder(op: str, seed: int) -> Case:
    """The case that stands for an op's property search in its Results before any is drawn."""
    return replace(default_cases([op])[0], source="property", name=f"seed-{seed}")


def property_check(target: Target, op: str, dtype: Any = np.float64, *,
                   examples: int = 100, seed: int = 0, required: bool = False,
                   timeout: float | None = DEFAULT_TIMEOUT, reference: Bound | None = None,
                   diagnose: bool = True, reproducers: str | Path | None = None
                   ) -> list[Result]:
    """Property-mode Results of ``op`` (one per check: forward, and gradient if the backend
    has one), from ``examples`` cases drawn with seed ``seed``; see the module docstring. A
    failure's reproducer is also written to the folder ``reproducers``, if given.

    The search runs without shrinking until a case fails; each check failing on it is then
    shrunk alone by Hypothesis from that case's choices, so that every failing check gets its
    own minimal case. Checks that did not fail are searched on (the same seed draws the same
    cases again).
    """
    reference = reference or load_backend("numpy")
    dt = np.dtype(dtype)
    name = f"seed-{seed}"
    placeholder = property_placeholder(op, seed)
    results: dict[str, Result] = {}
    remaining: list[Check] = []
    for check in ("forward", "gradient"):
        present = (target.forward_fn(op) is not None if check == "forward"
                   else target.gradient_style(op) is not None)
        if present and (check == "forward" or "forward" in remaining):
            remaining.append(check)
        elif present:                                     # a gradient without its forward
            results[check] = Result(placeholder, check, "skip",
                                    f"not checked: {target.name} has no {op} to draw cases for")
        else:
            what = "has no " + (op if check == "forward" else f"gradient of {op}")
            results[check] = Result(
                placeholder, check, "fail" if required else "skip",
                f"not implemented: {target.name} {what}" + (" (required)" if required else ""))

    def search(checks: list[Check]) -> _Search:
        found = _Search(checks=list(checks))
        _search_randomly(target, op, dt, found, examples, seed, timeout, reference, required)
        return found

    def shrink(check: Check, found: _Search) -> _Search:
        alone = _Search(checks=[check])
        _shrink(target, op, dt, alone, examples, seed, timeout, reference, required,
                cast(tuple[Choice, ...], found.start))
        alone.examples = found.examples
        return alone if alone.last_failing is not None else found   # else: flaky

    with deadlines():                  # one SIGALRM handler for the many calls below
        while remaining:
            found = search(remaining)
            if not found.failing and not found.aborted:      # searched to the end: all skipped?
                for check in list(found.checks):
                    if (skipped := found.all_skipped(check)) is not None:
                        results[check] = skipped
                        found.checks.remove(check)
            if found.aborted:                                 # a hang or a crash: no shrinking
                results |= {r.check: replace(r, examples=found.examples) for r in found.aborted}
                remaining = [c for c in found.checks if c not in results]
                continue
            if not found.failing:
                results |= {c: _passed(found, c, seed, name) for c in found.checks}
                break
            for check in found.checks:
                if check in found.failing:
                    results[check] = _shrunk(target, shrink(check, found), check, dt, seed, timeout,
                                             reference, required, diagnose, reproducers, name,
                                             first=found.last_failing)
            remaining = [c for c in found.checks if c not in found.failing]
    return [results[c] for c in ("forward", "gradient")]


def _shrink(target: Target, op: str, dtype: np.dtype, search: _Search, examples: int, seed: int,
            timeout: float | None, reference: Bound, required: bool,
            start: tuple[Choice, ...]) -> None:
    """Have Hypothesis replay the failing case of choices ``start`` and shrink it, checking
    ``search.checks``; fill ``search`` (its ``last_failing``: the minimal case, or None if the
    case did not fail again). With a Hypothesis too old to replay choices, it searches anew
    from ``seed`` and shrinks what it finds."""
    if choices_to_bytes is None:      # pragma: no cover - an older Hypothesis
        phases, database = (Phase.explicit, Phase.generate, Phase.shrink), None
    else:
        phases, database = (Phase.reuse, Phase.shrink), _Replay(start)

    @settings(property_settings(examples), phases=phases, database=database)
    @hypothesis.seed(seed)
    @given(op_cases(op))
    def trial(drawn: Case) -> None:
        if search.aborted:
            return
        failed = _try(target, drawn, dtype, search, timeout, reference, required)
        if failed is not None:
            raise _Falsified(failed)

    try:
        with _stable_draws():
            trial()
    except _Falsified as exc:
        search.last_failing = exc.case
    except Exception:
        if search.last_failing is None:               # not the backend: nnspec's own error
            raise
        # e.g. Hypothesis's FlakyFailure: the backend failed once, not again on replay; the
        # last failing case stands


def _search_randomly(target: Target, op: str, dtype: np.dtype, search: _Search, examples: int,
                     seed: int, timeout: float | None, reference: Bound, required: bool) -> None:
    """Check ``examples`` cases of ``op`` drawn by ``random.Random(seed)`` (the first the
    simplest, as Hypothesis's first), up to the first failing one, whose choices are kept in
    ``search.start`` for Hypothesis to shrink."""
    generator = Random(seed)
    for i in range(examples):
        draws = RandomDraws(generator, simplest=i == 0)
        if _try(target, op_case(op, draws), dtype, search, timeout, reference,
                required) is not None:
            search.start = tuple(draws.choices)
            return
        if search.aborted:
            return


def _try(target: Target, drawn: Case, dtype: np.dtype, search: _Search, timeout: float | None,
         reference: Bound, required: bool) -> Case | None:
    """Check ``search.checks`` on one drawn case and record the outcome in ``search``; the case,
    completed with its expected values, if a check failed on it."""
    if "gradient" not in search.checks:               # the reference's gradient: not needed
        drawn = replace(drawn, upstream={})
    case = complete(drawn, reference)
    if search.last_failing is None:
        search.examples += 1
    failing: set[Check] = set()
    for check in list(search.checks):
        result = check_case(target, case, check, dtype, required=required, timeout=timeout,
                            reference=reference, diagnose=False)
        if result.status == "skip":       # this case not implemented (a geometry, an op of vjp)
            search.skipped.setdefault(check, replace(result, case=replace(case, name="drawn")))
            if search.last_failing is None:
                search.skips[check] = search.skips.get(check, 0) + 1
        elif _fatal(result):
            search.aborted = [result]
            return None
        elif result.status == "fail":
            failing.add(check)
        elif (check not in search.worst or (result.error_ratio or 0.0) >
              (search.worst[check].error_ratio or 0.0)):
            search.worst[check] = result
    if not failing:
        return None
    if search.last_failing is None:
        search.failing = failing
    search.last_failing = case
    return case


class _Replay(ExampleDatabase):
    """An example database holding one failing case's choices, for Hypothesis to replay first
    and shrink (Phase.reuse, then Phase.shrink). They are offered under the secondary key only:
    under the primary key Hypothesis would take them for a failure it had already shrunk."""

    def __init__(self, choices: tuple[Choice, ...]) -> None:
        super().__init__()
        self.saved = choices_to_bytes(choices)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        return [self.saved] if key.endswith(b".secondary") else []

    def save(self, key: bytes, value: bytes) -> None:
        """Nothing is kept: every search starts afresh."""

    def delete(self, key: bytes, value: bytes) -> None:
        """Nothing is kept, so nothing to delete."""


def _shrunk(target: Target, search: _Search, check: Check, dtype: np.dtype,
            seed: int, timeout: float | None, reference: Bound, required: bool,
            diagnose: bool, reproducers: str | Path | None, name: str,
            first: Case | None = None) -> Result:
    """The shrunk failure, checked again with diagnosis, its reproducer attached. A minimal case
    can be too small to tell one mistake from another (one element is a multiple of any other;
    with H = 1 a stride along H does nothing): the failing case as first drawn, ``first``, is
    diagnosed too, and where it names a mistake, that leads (see _diagnosis)."""
    failing = cast(Case, search.last_failing)             # a shrunk search that failed
    case = replace(failing, name=name, seed=seed,
                   about=f"{failing.op}: the minimal failing case Hypothesis shrank it to (seed "
                         f"{seed})")
    result = check_case(target, case, check, dtype, required=required, timeout=timeout,
                        reference=reference, diagnose=diagnose)
    if diagnose and result.status == "fail" and first is not None:
        before = check_case(target, first, check, dtype, required=required, timeout=timeout,
                            reference=reference, diagnose=True).diagnosis
        result = replace(result, diagnosis=_diagnosis(result.diagnosis, before, first))
    note = (f"seed {seed}: failed at example {search.examples}, shrunk "
            f"to {case.geometry()}")
    if result.status != "fail":           # the backend gives different results on one input
        return replace(result, status="fail", examples=search.examples,
                       reason=f"failed once, then passed on the same case: the backend's results "
                              f"vary from call to call [{note}]")
    style = target.gradient_style(case.op) if check == "gradient" else None
    source = target.target
    tol = case.tolerance_for(check, dtype)
    if reproducers is not None:
        path, text = write(reproducers, case, check, target=source, style=style,
                           dtype=dtype.name, tol=tol, note=note)
        note += f"; reproducer: {path}"
    else:
        text = script(case, check, target=source, style=style, dtype=dtype.name, tol=tol,
                      note=note)
    return replace(result, reason=f"{result.reason} [{note}]", reproducer=text,
                   examples=search.examples)


def _diagnosis(minimal: str | None, first: str | None, first_case: Case) -> str | None:
    """The diagnosis of a shrunk failure from those of the minimal case and of the case as first
    drawn: the first case's leads where it names a mistake, since its larger geometry tells more,
    unless it is float32 rounding (the minimal case, not diagnosed so, fails beyond float32's
    tolerance: rounding cannot be why)."""
    if (not first or first == minimal or first.startswith("unknown")
            or first.startswith(FLOAT32_ARITHMETIC)):
        return minimal
    seen = f"{first} (seen on the case as first drawn, {first_case.geometry()})"
    if minimal is None or minimal.startswith("unknown"):
        return seen
    return f"{seen}; the minimal case alone also matches: {minimal}"


def _passed(search: _Search, check: Check, seed: int, name: str) -> Result:
    worst = search.worst[check]
    skips = search.skips.get(check, 0)
    checked = search.examples - skips
    skipped = (f"; {skips} more skipped: {search.skipped[check].reason}" if skips else "")
    return replace(worst, case=replace(worst.case, name=name, seed=seed,
                                       about=f"{worst.case.op}: the drawn case with the largest "
                                             f"error of {checked}"),
                   reason=f"{checked} examples (seed {seed}{skipped}), "
                          f"largest error: {worst.reason}", examples=checked,
                   skipped_examples=skips)
