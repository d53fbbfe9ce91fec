"""The pytest plugin: ``pytest --nnspec-backend NAME`` runs the conformance cases as test items.

Installed with nnspec (entry point ``pytest11``), so it is loaded by every pytest run; without
``--nnspec-backend`` it only adds its options (this module imports nothing but pytest; the
harness is imported when the option is given).

With ``--nnspec-backend NAME`` the run *is* the conformance run: a dedicated collector replaces
pytest's collection, so no test file is imported or run (the project's own tests included), and
every slide and golden case check becomes one item named like the report's results::

    nnspec::conv2d[forward-golden-07]      nnspec::lstm[gradient-slide-...]
    nnspec::conv2d[property]               (with --nnspec-property: one item per op)

So ``-k conv2d``, ``-k "lstm and gradient"``, ``-x``, ``--lf`` and ``-n auto`` (pytest-xdist:
every worker builds the same list and runs its share; the controller collects nothing) work as
with any tests. A failure prints the check's reason, its diagnosis and (property mode) its
reproducer; a check the backend does not implement is skipped; an exception of nnspec itself
(not a failed check) prints short, without pytest's frames (``--fulltrace`` shows them).

Conftest files: the hooks of the rootdir's conftest.py (and of its parents') apply to the items,
whatever paths or ``testpaths`` the run has (``pytest_collection_modifyitems``,
``pytest_runtest_setup`` / ``_call`` / ``_teardown``, ``pytest_runtest_makereport``, ...);
fixtures do not, autouse ones included (the items take no fixtures: do per-item setup in a
``pytest_runtest_setup`` hook). Conftests of subfolders (a project's tests/conftest.py) do not
touch the items, but pytest still imports those of the paths it is given, so their session-wide
hooks (``pytest_configure``, reporting) run as in any run. Options: ``--nnspec-dtype``,
``--nnspec-ops``, ``--nnspec-require[=OPS]``, ``--nnspec-property`` (``--nnspec-examples``,
``--nnspec-seed``), ``--nnspec-timeout``, ``--nnspec-isolate``, ``--nnspec-device``,
``--nnspec-convention NAME=VARIANT`` (repeatable; with the backend's own ``conventions``, the
cases a declared variant changes are checked under it) and ``--nnspec-xfail FILE`` (a listed
failure is an xfail item, a listed pass fails its item; stale entries are ``nnspec run``'s to
report); bad values are usage errors, as with ``nnspec run``, and so is any of them without
``--nnspec-backend``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.backends import Bound
    from conformance.cases import Case
    from conformance.checks import CallLimits
    from conformance.report import Check, Result
    from conformance.runner import Target
    from conformance.xfail import ExpectedFailures

__all__ = ["NnspecFailure", "NnspecItem", "NnspecSession"]

SESSION = "nnspec-session"
BACKEND_ONLY = ("dtype", "ops", "require", "property", "examples", "seed", "timeout", "isolate",
                "device", "convention", "xfail")
"""Options that only mean something with ``--nnspec-backend``."""
PROPERTY_ONLY = ("examples", "seed")
"""Options that only mean something with ``--nnspec-property`` (``nnspec run`` refuses them
without ``--property`` too)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nnspec", "nnspec conformance: check a backend, one test per case")
    group.addoption("--nnspec-backend", metavar="NAME", default=None,
                    help="run nnspec's conformance cases against backend NAME (numpy, torch, "
                         "jax, a registered name or package.module:attribute) instead of the "
                         "test files")
    group.addoption("--nnspec-dtype", choices=("float64", "float32"), default=None,
                    help="the dtype of the inputs and tolerances (default float64)")
    group.addoption("--nnspec-ops", metavar="OPS", default=None,
                    help="comma-separated ops to check (default: all)")
    group.addoption("--nnspec-require", nargs="?", const="all", default=None, metavar="OPS",
                    help="fail, rather than skip, the checks the backend does not implement: "
                         "of all ops, or of the comma-separated OPS (write --nnspec-require=OPS "
                         "before a test path, which would else be read as OPS)")
    group.addoption("--nnspec-property", action="store_true",
                    help="also one Hypothesis property item per op")
    group.addoption("--nnspec-examples", type=int, default=None, metavar="N",
                    help="drawn cases per op with --nnspec-property (default 100)")
    group.addoption("--nnspec-seed", type=int, default=None, metavar="S",
                    help="the seed of --nnspec-property's drawing (default 0)")
    group.addoption("--nnspec-timeout", type=float, default=None, metavar="SECONDS",
                    help="time limit of one backend call (default 10 s; 0: none)")
    group.addoption("--nnspec-isolate", action="store_true",
                    help="run the backend in a child process (a crash fails one item)")
    group.addoption("--nnspec-device", metavar="DEV", default=None,
                    help="the backend's device (torch: cuda)")
    group.addoption("--nnspec-convention", action="append", default=None,
                    metavar="NAME=VARIANT",
                    help="a convention variant the backend follows, checked instead of the "
                         "spec's (repeatable; nnspec conventions lists them)")
    group.addoption("--nnspec-xfail", metavar="FILE", default=None,
                    help="expected failures (PATTERN REASON per line): listed failures xfail, "
                         "listed passes fail (strict)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("nnspec_backend"):
        from conformance.backends import import_from_current_directory

        import_from_current_directory()   # mynn.py next to you imports, as with nnspec run
        session = NnspecSession(config)
        session.check_options()           # on xdist's controller too, before any worker starts
        config.pluginmanager.register(session, SESSION)
        return
    given = [f"--nnspec-{name}" for name in BACKEND_ONLY
             if config.getoption(f"nnspec_{name}") not in (None, False)]
    if given:                             # else they would be ignored, the project's tests run
        from conformance.runner import only_with

        raise pytest.UsageError(only_with(given, "--nnspec-backend NAME", "the backend to check",
                                          leave_out=False))


class NnspecFailure(Exception):
    """A failed conformance check (its Results carry reason, diagnosis and reproducer)."""

    def __init__(self, results: list[Result]) -> None:
        super().__init__(results[0].reason)
        self.results = results


class NnspecSession:
    """The conformance run behind the items: the backend, loaded once per process."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._target: Target | None = None
        self._limits: CallLimits | None = None
        self._reference: Bound | None = None
        self.declared: dict[str, str] = {}           # --nnspec-convention, read by check_options
        self.expected: ExpectedFailures | None = None  # --nnspec-xfail, read by check_options

    def option(self, name: str) -> Any:
        return self.config.getoption(f"nnspec_{name}")

    def check_options(self) -> None:
        """Refuse what ``nnspec run`` refuses: property options without --nnspec-property,
        fewer than 1 example, a negative or non-finite timeout (a UsageError naming the option,
        what it got and what it expects)."""
        from conformance.runner import PROPERTY_WHY, count_problem, only_with, seconds_problem

        given = [f"--nnspec-{name}" for name in PROPERTY_ONLY if self.option(name) is not None]
        if given and not self.option("property"):
            raise pytest.UsageError(only_with(given, "--nnspec-property", PROPERTY_WHY))
        for name, check in (("examples", count_problem), ("timeout", seconds_problem)):
            value = self.option(name)
            if value is not None and (problem := check(value)):
                raise pytest.UsageError(f"--nnspec-{name}: {problem}")
        self.declared = self._declarations()
        self.expected = self._expected_failures()

    # ------------------------------------------------------------ collection
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool | None:
        """Collect the conformance cases instead of test files (see the module docstring)."""
        if self.config.pluginmanager.has_plugin("dsession"):
            return None               # pytest-xdist's controller: the workers collect
        from conformance.backends import BackendError

        self.ops()                        # unknown ops and backends are usage errors
        self.required()
        try:
            self.target                   # noqa: B018 - loaded now, once per process
        except BackendError as exc:
            raise pytest.UsageError(f"--nnspec-backend: {_our_options(str(exc))}") from None
        collector = NnspecCollector.from_parent(session, name="nnspec", nodeid="nnspec",
                                                path=self.config.rootpath)
        try:
            items = list(session.genitems(collector))
            # conftests below the rootdir (e.g. a project's tests/conftest.py) keep out of it
            session.gethookproxy(self.config.rootpath).pytest_collection_modifyitems(
                session=session, config=self.config, items=items)
            session.items = items
        finally:
            self.config.hook.pytest_collection_finish(session=session)
        session.testscollected = len(items)
        return True

    def ops(self) -> list[str]:
        """The ops of --nnspec-ops (all by default); a UsageError names unknown ones."""
        from conformance.contract import OPS
        from conformance.runner import op_names

        text = self.option("ops")
        try:
            return list(OPS) if text is None else op_names(text)
        except ValueError as exc:
            raise pytest.UsageError(f"--nnspec-ops: {exc}") from None

    def required(self) -> set[str]:
        """The ops of --nnspec-require whose missing checks fail: none, all (the option without
        a value) or the listed ones, as ``nnspec run --require [OPS]``."""
        from conformance.runner import op_names

        text = self.option("require")
        if text is None:
            return set()
        if text == "all":
            return set(self.ops())
        try:
            return set(op_names(text))
        except ValueError as exc:
            raise pytest.UsageError(f"--nnspec-require: {exc}") from None

    def items(self, parent: pytest.Collector) -> Iterator[NnspecItem]:
        from conformance.runner import default_cases

        ops = self.ops()
        for case in default_cases(ops):
            checks: list[Check] = ["forward", "gradient"] if case.has_gradient else ["forward"]
            for check in checks:
                yield _item(parent, f"{case.op}[{check}-{case.source}-{case.name}]",
                            case=case, check=check)
        if self.option("property"):
            for op in ops:
                yield _item(parent, f"{op}[property]", case=None, check=None, op=op)

    # ------------------------------------------------------------ running
    @property
    def target(self) -> Target:
        if self._target is None:
            from conformance.runner import open_backend

            self._target = open_backend(self.option("backend"), device=self.option("device"),
                                        isolate=self.option("isolate"))
        return self._target

    def _declarations(self) -> dict[str, str]:
        """The variants of --nnspec-convention (a UsageError names a bad one)."""
        from conformance.conventions import given

        try:
            return given(self.option("convention"))
        except ValueError as exc:
            raise pytest.UsageError(f"--nnspec-convention: "
                                    f"{str(exc).removeprefix('--convention: ')}") from None

    def _expected_failures(self) -> ExpectedFailures | None:
        """The expected failures of --nnspec-xfail (a UsageError names a bad file or line)."""
        from conformance.xfail import load

        path = self.option("xfail")
        try:
            return None if path is None else load(path)
        except ValueError as exc:
            raise pytest.UsageError(f"--nnspec-xfail: "
                                    f"{str(exc).removeprefix('--xfail: ')}") from None

    @property
    def reference(self) -> Bound:
        """The reference of the variants the backend and --nnspec-convention declare."""
        if self._reference is None:
            from conformance.conventions import declared_by, reference_for

            self._reference = reference_for(declared_by(self.target) | self.declared)
        return self._reference

    def timeout(self) -> float | None:
        from conformance.isolation import DEFAULT_TIMEOUT

        seconds = self.option("timeout")
        return DEFAULT_TIMEOUT if seconds is None else (seconds or None)

    def check(self, case: Case, check: Check) -> list[Result]:
        """One check, timed as in ``nnspec run`` (a generous first call per op; after a timeout
        the op's other items fail at once, not run); a gradient, as there, right after a forward
        and a backward of other values of the case's shapes (checks.run_case's decoy)."""
        from conformance.cases import complete
        from conformance.checks import CallLimits, _decoy, limited_check
        from conformance.conventions import under

        if self._limits is None:
            self._limits = CallLimits(self.timeout())
        case, declared = under(case, self.reference)
        case = complete(case, self.reference)
        if check == "gradient" and case.has_gradient:
            hung = _decoy(self.target, case, self.dtype, self._limits, None)
            if check in hung:             # the decoy's gradient timed out: this check's outcome
                return [self.judged(hung[check])]
        return [self.judged(limited_check(
            self.target, case, check, self.dtype, self._limits,
            required=case.op in self.required(), reference=self.reference,
            declared=declared.get(check, ())))]

    @property
    def dtype(self) -> str:
        return str(self.option("dtype") or "float64")

    def judged(self, result: Result) -> Result:
        """``result`` judged against the expected failures (conformance.xfail), if any."""
        return result if self.expected is None else self.expected.apply(result, self.dtype)

    def property(self, op: str) -> list[Result]:
        from conformance.property import property_check
        from conformance.runner import DEFAULT_EXAMPLES

        examples, seed = self.option("examples"), self.option("seed")
        return [self.judged(r) for r in property_check(
            self.target, op, self.dtype,
            examples=DEFAULT_EXAMPLES if examples is None else examples,
            seed=0 if seed is None else seed, required=op in self.required(),
            timeout=self.timeout(), reference=self.reference)]

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from conformance.isolation import Isolated

        if isinstance(self._target, Isolated):
            self._target.close()


def _item(parent: pytest.Collector, name: str, **kwargs: Any) -> NnspecItem:
    # the id spelt out, so that it reads back from the cache (--lf) as the same "op[params]"
    return NnspecItem.from_parent(parent, name=name, nodeid=f"{parent.nodeid}::{name}",
                                  **kwargs)


def _our_options(text: str) -> str:
    """``text`` (a reason or error of the harness, written for ``nnspec run``) with the CLI's
    options named as this plugin's: ``--timeout changes it`` → ``--nnspec-timeout changes it``."""
    for name in ("timeout", "device"):
        text = text.replace(f"--{name} ", f"--nnspec-{name} ")
    return text


def _session(config: pytest.Config) -> NnspecSession:
    session: NnspecSession = config.pluginmanager.getplugin(SESSION)
    return session


class NnspecCollector(pytest.Directory):
    """The conformance cases of the chosen ops, as items.

    A Directory at the rootdir, so that pytest loads the conftest files of the rootdir (and of
    its parents) before collecting it, as for any directory, and hooks of those files apply to
    the items (``item.ihook``), whether or not the rootdir is among the paths of the run."""

    def collect(self) -> Iterator[NnspecItem]:
        return _session(self.config).items(self)


class NnspecItem(pytest.Item):
    """One check of one case (``conv2d[forward-golden-07]``), or the property run of an op."""

    def __init__(self, *, case: Case | None, check: Check | None, op: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.check = check
        self.op = op or (case.op if case is not None else "")
        self.extra_keyword_matches.add("nnspec")  # -k nnspec (a Directory's name is no keyword)

    def runtest(self) -> None:
        session = _session(self.config)
        if self.case is not None and self.check is not None:
            results = session.check(self.case, self.check)
        else:
            results = session.property(self.op)
        results = [replace(r, reason=_our_options(r.reason)) for r in results]
        for result in results:
            self.user_properties.append((result.id, result.reason))
            if result.declared:
                self.user_properties.append(("declared", result.says_declared))
        failed = [r for r in results if r.status in ("fail", "timeout", "xpass")]
        if failed:
            raise NnspecFailure(failed)
        if any(r.status == "xfail" for r in results):
            pytest.xfail("; ".join(f"{r.id}: {r.expected_failure}" for r in results
                                   if r.status == "xfail"))
        if all(r.status == "skip" for r in results):
            pytest.skip(results[0].reason)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, NnspecFailure):
            return "\n".join(r.explain() for r in excinfo.value.results)
        if self.config.getoption("fulltrace"):
            return str(super().repr_failure(excinfo, style))
        # not a check that failed: an exception of nnspec itself (or of what it does with the
        # backend's output); its frames from runtest on, without pytest's and pluggy's
        tb = excinfo.tb
        while tb.tb_next is not None and tb.tb_frame.f_globals.get("__name__") != __name__:
            tb = tb.tb_next
        ours = pytest.ExceptionInfo.from_exc_info((excinfo.type, excinfo.value, tb))
        long = self.config.getoption("tbstyle") == "long"
        return (f"{excinfo.exconly()}\n(an error of nnspec's harness or of its call of the "
                f"backend, not a failed check; --fulltrace shows pytest's frames too)\n"
                f"{ours.getrepr(style='long' if long else 'short')}")

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"nnspec {self.name}"
