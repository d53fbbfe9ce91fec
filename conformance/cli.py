"""The ``nnspec`` command: run the conformance cases, list the contract, explain an op.

    nnspec run [--backend NAME] [--ops OPS] [--dtype float64|float32] [--require [OPS]]
               [--property [--examples N] [--seed S] [--reproducers DIR]]
               [--timeout SECONDS] [--isolate] [--json PATH] [--junit PATH] [--device DEV]
               [--max-failures N] [-q | -v | -vv]
    nnspec list [--backend NAME] [--markdown]
    nnspec explain OP
    nnspec matrix [--backend NAME ...] [--dtype float64,float32] [--ops OPS] [--timeout SECONDS]
                  [--run-timeout SECONDS] [--isolate] --out DIR

Exit status: 0 when every check passed (skips are not failures), 1 when a check failed or timed
out (or the backend crashed the process: the check it crashed in is named), 2 for a usage error
or a backend, op or file that cannot be loaded (with a message saying which), 130 when Ctrl-C
stopped the run (the table and summary show what ran).
``nnspec matrix`` (conformance.matrix) exits 0 once it has written its pages, whatever the checks
found, and 2 for a usage error.

On a terminal, without -q or -v, one line shows the check running and how many are done; long
lines are wrapped to its width, under a hanging indent that keeps a failure's findings under its
FAIL line, and FAIL is red (not with NO_COLOR set). Elsewhere (a file, a pipe) the output is
plain, unwrapped text.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import io
import os
import re
import select
import shutil
import signal
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TextIO

import reference
from conformance.backends import (
    BackendError,
    Bound,
    import_from_current_directory,
    load_backend,
)
from conformance.cases import Case, golden_cases
from conformance.contract import OPS, contract_markdown, op_spec
from conformance.conventions import CONVENTIONS, declared_by, says
from conformance.conventions import parse as parse_convention
from conformance.isolation import DEFAULT_RUN_TIMEOUT, DEFAULT_TIMEOUT, Isolated
from conformance.report import Report, Result
from conformance.runner import (
    DEFAULT_EXAMPLES,
    DTYPES,
    PROPERTY_WHY,
    Target,
    count_problem,
    only_with,
    op_names,
    open_backend,
    run,
    seconds_problem,
)
from conformance.slides import slides_of
from conformance.xfail import ExpectedFailures
from conformance.xfail import load as load_xfail

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130                    # 128 + SIGINT, as shells report Ctrl-C


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):  # pragma: no cover - a closed or odd stream
        return False


STATUS_WORDS = ("FAIL", "PASS", "SKIP", "TIMEOUT", "XFAIL", "XPASS")
"""The words a check's line starts with (Result.line)."""
RED, GREEN, RESET = "\033[31m", "\033[32m", "\033[0m"
_BAD = re.compile(r"^(\s*)(FAIL|TIMEOUT|XPASS)(?= )", re.M)             # a check's line
_BAD_CELL = re.compile(r"(?<=  )(FAIL|TIMEOUT|XPASS)(?= \d)")          # a table's cell
_VERDICT = re.compile(r"^(FAILED|INTERRUPTED|NOTHING CHECKED|PASSED)(?=: )", re.M)


def wrap(text: str, width: int) -> str:
    """``text`` with each line longer than ``width`` wrapped at spaces, under a hanging indent
    that keeps it in its group: a check's line (``FAIL relu[...]: ...``, indented by n) goes on
    at n + 7, two columns right of the findings printed under it (at n + 5); any other line at
    its own indent + 2. Words are not split (a longer one overflows), a reproducer's code (the
    lines after ``reproducer:``) is left as it is. Lines that fit are unchanged."""
    lines: list[str] = []
    verbatim = False
    for line in text.split("\n"):
        if verbatim or len(line) <= width:
            lines.append(line)
        else:
            body = line.lstrip(" ")
            lead = len(line) - len(body)
            hang = lead + (7 if body.split(" ", 1)[0] in STATUS_WORDS else 2)
            lines += textwrap.wrap(body, width=width, initial_indent=" " * lead,
                                   subsequent_indent=" " * hang, break_long_words=False,
                                   break_on_hyphens=False) or [line]
        verbatim = verbatim or line.strip() == "reproducer:"
    return "\n".join(lines)


def colour(text: str, table: bool = False) -> str:
    """``text`` with a check's FAIL, TIMEOUT or XPASS (at the start of a line, or a table's
    cells with ``table``) and a summary's FAILED in red, its PASSED in green."""
    red = f"\\1{RED}\\2{RESET}"
    text = _BAD_CELL.sub(f"{RED}\\1{RESET}", text) if table else _BAD.sub(red, text)
    return _VERDICT.sub(lambda m: f"{GREEN if m[1] == 'PASSED' else RED}{m[1]}{RESET}", text)


def _terminal(out: TextIO) -> tuple[int, bool] | None:
    """(width, colour) when ``out`` is a terminal, else None; colour unless NO_COLOR is set
    (https://no-color.org) or TERM is dumb."""
    if not _is_terminal(out):
        return None
    try:
        width = os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError, io.UnsupportedOperation):   # not a file (a test's stream)
        width = shutil.get_terminal_size().columns
    plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
    return max(width, 40), not plain


def _emit(text: str, out: TextIO, table: bool = False) -> None:
    """Print ``text``: on a terminal wrapped to its width (not a table) and coloured (see wrap
    and colour); anywhere else (a file, a pipe, CI, a test's stream) exactly as it is."""
    if (term := _terminal(out)) is not None:
        width, coloured = term
        text = text if table else wrap(text, width)
        text = colour(text, table) if coloured else text
    print(text, file=out)


class _Status:
    """One line on a terminal, rewritten in place: the check running and how many are done."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.seen: set[str] = set()
        self.shown = False

    def show(self, what: str) -> None:
        """Say ``what`` runs now; every check shown before it is done, but a gradient's own
        forward: a forward and a backward of other values of its shapes run just before a
        gradient check (conformance.checks.run_case), and its forward check after it."""
        twin = what.replace("[gradient-", "[forward-", 1)
        done = len(self.seen - {what, twin})
        self.out.write(f"\r\033[K{done} checks done; running {what}")
        self.seen.add(what)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.out.write("\r\033[K")
            self.out.flush()
            self.shown = False


class _Watched:
    """The pipe through which a forked run names each check before it runs (see _watched)."""

    fd: int | None = None


_WATCHED = _Watched()


def _op_list(text: str) -> list[str]:
    try:
        return op_names(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _names(text: str) -> list[str]:
    from conformance.matrix import names  # (nnspec matrix only: run need not import it)

    try:
        return names(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _dtype_list(text: str) -> list[str]:
    from conformance.matrix import dtype_names  # (nnspec matrix only)

    try:
        return dtype_names(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(text: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def _positive_int(text: str) -> int:
    value = int(_number(text, int))
    if problem := count_problem(value):
        raise argparse.ArgumentTypeError(problem)
    return value


def _count(text: str) -> int:
    value = int(_number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _integer(text: str) -> int:
    return int(_number(text, int))


def _seconds(text: str) -> float:
    value = float(_number(text, float))
    if problem := seconds_problem(value):
        raise argparse.ArgumentTypeError(problem)
    return value


def _declaration(text: str) -> tuple[str, str]:
    try:
        return parse_convention(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--convention: ")) from None


def _xfail_file(text: str) -> ExpectedFailures:
    try:
        return load_xfail(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--xfail: ")) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnspec", description="Check an implementation of neural-network building blocks "
        "against nnspec's executable specification.")
    parser.add_argument("--version", action="version",
                        version=f"nnspec {reference.__version__} (spec {reference.SPEC_VERSION})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_p = sub.add_parser("run", help="run the conformance cases against a backend")
    run_p.add_argument("--backend", metavar="NAME",
                       help="numpy, torch, jax, a registered name or package.module:attribute "
                            "(default: check the reference itself)")
    run_p.add_argument("--ops", type=_op_list, metavar="OPS",
                       help="comma-separated ops to check (default: all)")
    run_p.add_argument("--dtype", choices=DTYPES, default="float64",
                       help="the dtype inputs are given in and tolerances are set for")
    run_p.add_argument("--require", nargs="?", const="all", metavar="OPS",
                       help="treat a missing op or gradient as a failure: all ops, or the "
                            "comma-separated OPS")
    run_p.add_argument("--json", metavar="PATH", help="write the JSON report to PATH")
    run_p.add_argument("--junit", metavar="PATH", help="write JUnit XML to PATH")
    run_p.add_argument("--device", metavar="DEV", help="the backend's device (torch: cuda)")
    run_p.add_argument("--property", action="store_true",
                       help="also check randomly drawn cases of every op; a failure is shrunk "
                            "by Hypothesis and printed as a reproducer")
    run_p.add_argument("--examples", type=_positive_int, default=None, metavar="N",
                       help=f"drawn cases per op with --property (default {DEFAULT_EXAMPLES})")
    run_p.add_argument("--seed", type=_integer, default=None, metavar="S",
                       help="the seed of --property's drawing (default 0: every run draws the "
                            "same cases)")
    run_p.add_argument("--reproducers", metavar="DIR",
                       help="with --property, also write each failure's reproducer to DIR")
    run_p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"time limit of one backend call (default {DEFAULT_TIMEOUT:g} s; "
                            f"0: none)")
    run_p.add_argument("--isolate", action="store_true",
                       help="run the backend in a child process, so that a crash (segfault) "
                            "fails a check instead of stopping the run")
    run_p.add_argument("--max-failures", type=_count, default=10, metavar="N",
                       help="list at most N failures of golden and slide cases (default 10; "
                            "property failures are always listed)")
    run_p.add_argument("--convention", type=_declaration, action="append", default=None,
                       metavar="NAME=VARIANT",
                       help="a convention variant the backend follows, checked instead of the "
                            "spec's (repeatable; e.g. max_pool_ties=split; nnspec conventions "
                            "lists them)")
    run_p.add_argument("--xfail", type=_xfail_file, metavar="FILE",
                       help="expected failures: lines of PATTERN REASON (check ids, * and ? "
                            "wildcards); a listed check that passes fails the run")
    verbosity = run_p.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print the summary only")
    verbosity.add_argument("-v", "--verbose", action="count", default=0,
                           help="print every check that ran (-vv: the skipped ones too)")

    list_p = sub.add_parser("list", help="the contract's ops, and which a backend implements")
    list_p.add_argument("--backend", metavar="NAME", default="numpy",
                        help="the backend to inspect (default: numpy, the reference)")
    list_p.add_argument("--markdown", action="store_true",
                        help="print the contract as a Markdown table (for docs)")

    sub.add_parser("conventions", help="the conventions a backend may declare, and their "
                   "variants (--convention NAME=VARIANT)")
    explain_p = sub.add_parser("explain", help="an op's specification")
    explain_p.add_argument("op", metavar="OP", help=f"one of {', '.join(OPS)}")

    mistakes_p = sub.add_parser("mistakes", help="the well-known mistakes the diagnosis "
                                "recognises, in the order it tries them")
    mistakes_p.add_argument("op", metavar="OP", nargs="?", choices=list(OPS),
                            help="only those of one op")

    matrix_p = sub.add_parser("matrix", help="the scoreboard: several backends and dtypes, each "
                              "run in its own process, as Markdown, SVG and HTML")
    matrix_p.add_argument("--backend", type=_names, action="append", metavar="NAME",
                          help="a backend to run (repeat the option, or NAME,NAME; default: "
                               "every shipped adapter)")
    matrix_p.add_argument("--dtype", type=_dtype_list, default=list(DTYPES), metavar="DTYPES",
                          help=f"comma-separated dtypes (default {','.join(DTYPES)})")
    matrix_p.add_argument("--ops", type=_op_list, metavar="OPS",
                          help="comma-separated ops to check (default: all)")
    matrix_p.add_argument("--out", required=True, metavar="DIR",
                          help="the folder for scoreboard.md, .svg, .html, the JSON reports "
                               "and the reproducers")
    matrix_p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                          help=f"time limit of one backend call (default {DEFAULT_TIMEOUT:g} s; "
                               f"0: none)")
    matrix_p.add_argument("--run-timeout", type=_seconds, default=DEFAULT_RUN_TIMEOUT,
                          metavar="SECONDS",
                          help=f"time limit of one backend × dtype run, killed after it "
                               f"(default {DEFAULT_RUN_TIMEOUT:g} s; 0: none)")
    matrix_p.add_argument("--isolate", action="store_true",
                          help="each run checks its backend in a further child process (see "
                               "nnspec run --isolate)")
    matrix_p.add_argument("--xfail-dir", metavar="DIR", default=None,
                          help="run each backend with DIR/<backend>.txt as its expected-failures "
                               "list (nnspec run --xfail), where there is one")
    for name, sub_parser in sub.choices.items():    # its own usage line for its errors
        sub_parser.set_defaults(parser=sub_parser, command=name)
    return parser


def _unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """``unrecognized arguments: --exmaples 5 (did you mean --examples?)``: the arguments no
    option of ``parser`` took, with the option each misspelt one is closest to."""
    options = [o for action in parser._actions for o in action.option_strings
               if o.startswith("--")]
    guesses = []
    for extra in extras:
        name = extra.partition("=")[0]
        if name.startswith("--") and (close := difflib.get_close_matches(name, options, n=1,
                                                                        cutoff=0.75)):
            guesses.append(close[0])
    maybe = f" (did you mean {' or '.join(dict.fromkeys(guesses))}?)" if guesses else ""
    return f"unrecognized arguments: {' '.join(extras)}{maybe}"


# ---------------------------------------------------------------- run
PROPERTY_ONLY = ("examples", "seed", "reproducers")
"""Options of ``nnspec run`` that only mean something with ``--property``."""


def _check_run_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse (usage error, exit 2) property options given without ``--property``; fill in
    their defaults otherwise."""
    given = [f"--{name}" for name in PROPERTY_ONLY if getattr(args, name) is not None]
    if given and not args.property:
        parser.error(only_with(given, "--property", PROPERTY_WHY))
    args.examples = DEFAULT_EXAMPLES if args.examples is None else args.examples
    args.seed = 0 if args.seed is None else args.seed


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    backend = args.backend or "numpy"
    require = args.require if args.require in (None, "all") else _op_list(args.require)
    # load first: a backend that cannot be loaded is an error (exit 2) before any output
    target = open_backend(backend, device=args.device, isolate=args.isolate)
    try:
        return _run_loaded(args, backend, target, require, out)
    finally:
        if isinstance(target, Isolated):
            target.close()


def _run_loaded(args: argparse.Namespace, backend: str, target: Target,
                require: str | list[str] | None, out: TextIO) -> int:
    declared = declared_by(target) | dict(args.convention or ())  # (a bad one: before any output)
    if not args.quiet:
        if args.backend is None:
            print("No --backend given: checking the reference itself (the numpy backend) "
                  "against its golden and slide cases.", file=out)
        mode = (f"; property mode: {args.examples} examples per op, seed "
                f"{args.seed}" if args.property else "")
        _emit(f"nnspec {reference.__version__} (spec {reference.SPEC_VERSION}): backend "
              f"{backend}, {args.dtype}{mode}", out)
        if declared:
            _emit(f"declared conventions: {', '.join(f'{k}={v}' for k, v in declared.items())} "
                  f"({says(declared.items())}): the cases they change are checked under them",
                  out)
        if args.xfail is not None:
            n = len(args.xfail.entries)
            print(f"expected failures: {args.xfail.source} ({n} entr"
                  f"{'y' if n == 1 else 'ies'})", file=out)

    status = _Status(out) if not (args.quiet or args.verbose) and _is_terminal(out) else None

    def progress(result: Result) -> None:
        if result.status == "skip" and args.verbose < 2:    # the table names the ops skipped
            return
        _emit(result.explain(reproducer=args.reproducers is None) if result.status == "fail"
              else result.line(), out)

    def before(case: Case, check: str | None) -> None:
        what = (f"{case.op}[{check}-{case.source}-{case.name}]" if check is not None else
                f"{case.op}[property]")
        if status is not None:
            status.show(what)
        out.flush()                       # what was printed survives a crash of the backend
        if _WATCHED.fd is not None:       # pragma: no cover - in the forked child (see _watched)
            os.write(_WATCHED.fd, f"{what}\n".encode())

    report = run(target, ops=args.ops, dtype=args.dtype, require=require, device=args.device,
                 progress=progress if args.verbose else None, property=args.property,
                 examples=args.examples, seed=args.seed, timeout=args.timeout or None,
                 isolate=args.isolate, reproducers=args.reproducers, before=before,
                 conventions=dict(args.convention or ()), xfail=args.xfail)
    if status is not None:
        status.clear()
    if not args.quiet:
        print(file=out)
        _emit(report.table(), out, table=True)
        if report.problems() and not args.verbose:
            _print_failures(report.problems(), args.max_failures, out,
                            written=args.reproducers is not None)
        _print_diagnoses(report.failures(), out)
        _print_expected(report, out)
        print(file=out)
    unwritten = []                        # a finished run is never lost: the summary first
    for path, write in ((args.json, report.write_json), (args.junit, report.write_junit)):
        try:
            if path:
                write(path)
        except OSError as exc:
            unwritten.append(f"nnspec: error: cannot write {path}: {exc.strerror or exc}")
    if report.skipped and isinstance(target, Bound) and (misses := target.near_misses()):
        _print_near_misses(target, misses, out)
    _emit(report.summary(), out)
    for message in unwritten:
        print(message, file=sys.stderr)
    checked = report.passed or report.failed or report.xfailed  # nothing checked: no pass
    if report.interrupted:
        print("nnspec: interrupted (Ctrl-C): the table and summary show the checks that ran",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if unwritten:
        return EXIT_USAGE
    return EXIT_OK if report.ok and checked else EXIT_FAILED


LAYER_CLASSES = "README.md, \"Layer classes that cache: wrap them\""
"""Where the README shows how to wrap layer classes (a hint points there)."""


def _print_near_misses(bound: Bound, misses: dict[str, str], out: TextIO) -> None:
    """The hints for a backend's near misses: functions to rename, and classes named as ops
    (``Linear`` → linear), which no renaming makes callable as the contract calls them; beside
    those classes, the functions of the backend that do have a contract name (a helper
    ``sigmoid(z)`` of the layers), as they are checked as the contract's ops."""
    classes = {have: want for have, want in misses.items()
               if inspect.isclass(getattr(bound.obj, have, None))}
    if functions := sorted((h, w) for h, w in misses.items() if h not in classes):
        names = ", ".join(f"{have} → {want}" for have, want in functions)
        _emit(f"hint: some functions look misnamed ({names}): nnspec calls the contract's "
              f"names exactly (nnspec list)", out)
    if not classes:
        return
    first = min(classes, key=lambda have: list(OPS).index(classes[have]))   # the simplest op
    them = "is a class" if len(classes) == 1 else "are classes"
    _emit(f"hint: {', '.join(sorted(classes))} {them}: nnspec calls functions (or methods of "
          f"one backend object) with the contract's names and signatures, e.g. "
          f"{op_spec(classes[first]).signature()} and "
          f"{op_spec(classes[first]).backward_signature()}; renaming a class does not make it "
          f"one. Wrap your layers' forward and backward in such functions ({LAYER_CLASSES})",
          out)
    taken = [op for op in OPS if inspect.isfunction(bound.forward_fn(op))
             and op not in classes.values()]
    if taken:
        one = len(taken) == 1
        _emit(f"hint: {bound.name}'s function{'' if one else 's'} {', '.join(taken)} "
              f"{'is' if one else 'are'} checked as the contract's "
              f"{', '.join(op_spec(op).signature() for op in taken)}, by name: a helper of your "
              f"layers named so is taken for the op", out)


def _print_failures(failures: list[Result], limit: int, out: TextIO,
                    written: bool = False) -> None:
    """The first ``limit`` failures (and timeouts) of golden and slide cases, then every property
    failure (shrunk, with its reproducer, unless ``written`` to files: their reasons name them).
    Checks of one op failing for the very same reason (a wrong signature, a timeout) are listed
    once, with how many more there are."""
    fixed = [r for r in failures if r.case.source != "property"]
    same: Counter[tuple[str, str]] = Counter((r.case.op, r.reason) for r in fixed)
    firsts: list[Result] = []
    for r in fixed:
        if not any((f.case.op, f.reason) == (r.case.op, r.reason) for f in firsts):
            firsts.append(r)
    shown = firsts[:limit] + [r for r in failures if r.case.source == "property"]
    more = "" if len(firsts) <= limit else (f" (the first {limit} of {len(fixed)} golden and "
                                            f"slide failures; -v or --json lists them all)")
    if limit == 0 and fixed:
        more = (f" ({len(fixed)} failures of golden and slide cases not listed: -v or --json "
                f"lists them)")
    what = "failures and timeouts" if any(r.status == "timeout" for r in failures) else (
        "failures")
    _emit(f"\n{what}{more}:", out)
    for result in shown:
        text = result.explain(reproducer=not written)
        if (n := same[(result.case.op, result.reason)] - 1) > 0 and result in firsts:
            text += (f"\n     (and {n} more of {result.case.op}'s checks, for the same reason)")
        _emit(textwrap.indent(text, "  "), out)


def _print_expected(report: Report, out: TextIO) -> None:
    """The expected failures (--xfail) with their reasons, and the list's stale entries."""
    listed = [r for r in report.results if r.status == "xfail"]
    if listed:
        print(f"\nexpected failures ({report.xfail_source}):", file=out)
        for r in listed:
            _emit(f"  XFAIL {r.id}: {r.expected_failure}", out)
    if report.stale:
        _emit(f"\nstale entries of {report.xfail_source} (they match no check of this run; "
              f"remove or fix them):", out)
        for entry in report.stale:
            _emit(f"  {entry}", out)
    if not_run := report.listed_not_run():
        _emit(f"\nlisted in {report.xfail_source} but not run (skipped: nothing confirms or "
              f"refutes them here):", out)
        groups: dict[tuple[str, str], list[Result]] = {}
        for r in not_run:
            groups.setdefault((r.case.op, r.expected_failure or ""), []).append(r)
        for (op, why), results in groups.items():
            ids = [r.id for r in results]
            shown = ", ".join(ids) if len(ids) <= 3 else f"{len(ids)} checks of {op}"
            reasons = "; ".join(dict.fromkeys(r.reason.removeprefix("not implemented: ")
                                              for r in results))
            _emit(f"  {shown}: {reasons} (listed: {why})", out)


def _print_diagnoses(failures: list[Result], out: TextIO) -> None:
    """Each diagnosis once, with the number of failures it explains, most frequent first; the
    same diagnosis with each case's own numbers (a factor, a window size) counts as one, shown
    as its first case says it."""
    texts = [r.diagnosis for r in failures if r.diagnosis]
    if len(failures) < 2 or not texts:
        return
    from conformance.diagnosis import _kind  # (a passing run need not import the diagnosis)

    counts = Counter(_kind(t) for t in texts)
    first = {k: next(t for t in texts if _kind(t) == k) for k in counts}
    alike = {k: len({t for t in texts if _kind(t) == k}) for k in counts}
    print("\ndiagnoses:", file=out)
    for kind, n in counts.most_common():
        more = " (with each case's own numbers)" if alike[kind] > 1 else ""
        _emit(f"  {n}× {first[kind]}{more}", out)


# ---------------------------------------------------------------- list
def _implements(bound: Bound, op: str) -> tuple[str, str]:
    forward = "yes" if bound.forward_fn(op) is not None else "-"
    style = bound.gradient_style(op)
    if style == "vjp" and bound.forward_fn(op) is None:
        style = None
    gradient = {"backward": f"{op_spec(op).backward_name}", "vjp": "vjp"}.get(style or "", "-")
    return forward, gradient


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    if args.markdown:
        print(contract_markdown(), file=out, end="")
        return EXIT_OK
    bound = load_backend(args.backend)
    rows = [("op", "signature", "forward", "gradient")]
    for op in OPS.values():
        rows.append((op.name, op.signature(), *_implements(bound, op.name)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    version = "version unknown" if bound.version == "unknown" else f"version {bound.version}"
    print(f"The contract's {len(OPS)} ops; forward and gradient as implemented by backend "
          f"{bound.name} ({version}):\n", file=out)
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=out)
    print("\nnnspec explain OP shows an op's shapes, formula, conventions and claims.", file=out)
    return EXIT_OK


# ---------------------------------------------------------------- explain
def _cmd_conventions(args: argparse.Namespace, out: TextIO) -> int:
    """The declarable conventions: each one's op, question and variants (the spec's marked)."""
    print("Where frameworks legitimately differ, a backend declares the variant it follows\n"
          "(--convention NAME=VARIANT, or conventions = {NAME: VARIANT} on the backend) and the\n"
          "cases it changes are checked under it. Undeclared, the spec's variant (*) holds.",
          file=out)
    for conv in CONVENTIONS.values():
        print(f"\n{conv.name} ({conv.op}): {conv.about}", file=out)
        for variant in conv.variants:
            mark = "*" if variant is conv.spec else " "
            who = f" [{variant.who}]" if variant.who else ""
            print(f"  {mark} {variant.name:6} {variant.text}{who}", file=out)
    return EXIT_OK


def _accumulation(case: Case) -> str:
    acc = case.accumulation()
    return f"terms {acc.terms}/{acc.gradient_terms}, depth {acc.depth}"


def _cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from reference.claims import REGISTRY  # (only explain shows the claims)

    spec = op_spec(args.op)
    lines = [f"{spec.name} ({spec.family})", "",
             f"  {spec.signature()}", f"  {spec.backward_signature()}", "",
             f"shapes:    {spec.shapes()}", f"forward:   {spec.formula}",
             f"gradient:  {spec.gradient}"]
    if spec.attrs:
        lines.append("attributes:")
        lines += [f"  {a.name} ({a.kind}): {a.doc}" for a in spec.attrs]
    lines.append("arrays:")
    lines += [f"  {a.name} {a.shape}: {a.doc}" + (" (int64, no gradient)"
                                                  if a.kind == "index" else "")
              for a in (*spec.inputs, *spec.outputs)]
    if spec.notes:
        lines.append("conventions:")
        lines += [f"  - {n}" for n in spec.notes]
    for conv in (c for c in CONVENTIONS.values() if c.op == spec.name):
        lines.append(f"declarable ({conv.name}, --convention {conv.name}=VARIANT): "
                     f"{conv.about}")
        lines += [f"  {'*' if v is conv.spec else ' '} {v.name}: {v.text}" for v in conv.variants]
    lines.append("claims:")
    for cid in spec.claims:
        c = REGISTRY[cid]
        lines.append(f"  {cid} [{c.status}] (slide \"{c.slide}\"): {c.statement}")
    slides = slides_of(spec.name)
    lines.append("slide cases:" if slides else "slide cases: none")
    lines += [f"  {c.name}: {c.about}" for c in slides]
    golden = golden_cases([spec.name])
    lines.append(f"golden cases: {len(golden)}" if golden else
                 "golden cases: none (the reference does not implement this op yet)")
    lines += [f"  {c.name}: {c.about} ({c.geometry()}; {_accumulation(c)})" for c in golden]
    lines.append("tolerance: reference.tolerance.tolerance(dtype, terms, depth, gradient) per "
                 "case, terms = the longest sum of the forward / of the gradients")
    lines.append(f"reference: {', '.join(spec.reference)}")
    print("\n".join(lines), file=out)
    return EXIT_OK


def _cmd_mistakes(args: argparse.Namespace, out: TextIO) -> int:
    from conformance.diagnosis import catalogue  # (only a failure's diagnosis needs the rest)

    rows = catalogue(args.op)
    width = max(len(name) for name, _ in rows)
    print(f"the well-known mistakes the diagnosis tries{f' for {args.op}' if args.op else ''}, "
          f"in order (the last three are symptoms, named only where nothing specific fits):",
          file=out)
    for name, meaning in rows:
        print(f"  {name:<{width}}  {meaning}", file=out)
    return EXIT_OK


# ---------------------------------------------------------------- matrix
def _cmd_matrix(args: argparse.Namespace, out: TextIO) -> int:
    from conformance.matrix import command  # a large module that nnspec run does not need

    return command(args, out)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):   # not a file (a test's StringIO)
        pass


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``nnspec`` command with ``argv`` (default sys.argv[1:]); return the exit status."""
    out = out or sys.stdout
    parser = _parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:                        # the command's own usage, and a close option named
            args.parser.error(_unrecognized(args.parser, extras))
        args.argv = list(sys.argv[1:] if argv is None else argv)    # (matrix: its command)
        if args.command == "run":
            _check_run_args(args.parser, args)
    except SystemExit as exc:  # argparse's --help, --version and usage errors
        return int(exc.code or 0)
    commands = {"run": _cmd_run, "list": _cmd_list, "explain": _cmd_explain,
                "mistakes": _cmd_mistakes,
                "conventions": _cmd_conventions, "matrix": _cmd_matrix}
    import_from_current_directory()       # a backend next to you imports, as with python -m
    console = out is sys.__stdout__       # the console command (not a test's stream)
    if args.command == "run" and not args.isolate and console and hasattr(os, "fork"):
        return _watched(lambda: _command(_cmd_run, args, out))  # pragma: no cover - forks
    return _command(commands[args.command], args, out)


def _command(command: Callable[[argparse.Namespace, TextIO], int], args: argparse.Namespace,
             out: TextIO) -> int:
    try:
        return command(args, out)
    except KeyboardInterrupt:             # Ctrl-C before the run began (loading the backend)
        print("\nnnspec: interrupted (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:               # the reader stopped reading (nnspec list | head)
        _quiet_stdout()
        return EXIT_FAILED if args.command == "run" else EXIT_OK   # a cut run did not pass
    except (BackendError, ValueError, KeyError, OSError, argparse.ArgumentTypeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"nnspec: error: {message}", file=sys.stderr)
        return EXIT_USAGE


def _watched(command: Callable[[], int]) -> int:  # pragma: no cover - forks; tested end to end
    """Run ``command`` in a forked child and wait for it: if the backend crashes the child's
    interpreter (a segfault in a native extension), say which check crashed it and that
    ``--isolate`` goes on past it, instead of ending silently. The child names each check on a
    pipe before it runs (see _run_loaded); Ctrl-C reaches the child, which reports what ran."""
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _WATCHED.fd = write
        code = EXIT_FAILED
        try:
            code = command()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(write)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)   # the child handles Ctrl-C
    last, pending = "", b""
    try:
        while True:
            ready, _, _ = select.select([read], [], [], 0.2)
            if ready:
                chunk = os.read(read, 65536)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                if lines:
                    last = lines[-1].decode(errors="replace")
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
    finally:
        os.close(read)
        signal.signal(signal.SIGINT, previous)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    sig = os.WTERMSIG(status)
    try:
        name = f"{signal.Signals(sig).name} ({signal.strsignal(sig)})"
    except ValueError:
        name = f"signal {sig}"
    where = f" while checking {last}" if last else ""
    lead = "\n" if sys.stdout.isatty() else ""
    print(f"{lead}nnspec: the backend crashed the Python process{where}: killed by {name}. "
          f"Run with --isolate to run the backend in a child process: a crash then fails that "
          f"one check and the run goes on.", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":                # python -m conformance.cli, as python -m conformance
    sys.exit(main())
