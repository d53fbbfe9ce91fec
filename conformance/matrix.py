"""The scoreboard: ``nnspec matrix`` checks several backends in several dtypes and writes what it
found as a Markdown table, an SVG plot and one self-contained HTML page.

    nnspec matrix [--backend NAME ...] [--dtype float64,float32] [--ops OPS] [--timeout S]
                  [--run-timeout S] [--isolate] --out DIR

Every backend × dtype is one ``nnspec run ... --json FILE`` in a process of its own, so a backend
that crashes, hangs or cannot be imported costs its own column and nothing else; each run is
killed after ``--run-timeout`` seconds. From the JSON reports (kept in ``DIR/reports``) it writes

- ``DIR/scoreboard.md``: ops × backends × dtypes, each cell the op's status for that run and its
  worst error as a fraction of its tolerance (the ``error_ratio`` of conformance.report: ≤ 1
  passes), a failing cell linked to its details (each failing check's reason, diagnosis,
  self-consistency and anatomy where the report has them, and a reproducer script), then per
  run the backend's version, the dtype, the nnspec version and when it ran; a run without a
  report (not installed, timed out, crashed) has a row saying so;
- ``DIR/scoreboard.svg``: the error ratios per op and backend on a log scale, the tolerance a
  line (drawn here, in Python: no plotting library);
- ``DIR/scoreboard.html``: all of it in one page with inline CSS and the SVG inline; no script,
  no font or anything else fetched over the network;
- ``DIR/reproducers/``: the reproducer of each failing cell (conformance.reproducer), with its
  arrays in a ``.npz`` next to it when the case is large.

A cell's status is the highest ranked status of its checks (``STATUSES``): a cell with a failure
is "fail", one whose checks passed and were skipped is "pass", one with only skips is "skip".
Statuses are data: a status the table does not know (a newer report's) ranks between "fail" and
"pass" and shows its name, so a new status needs a row of ``STATUSES`` for its look, no code.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import reference
from conformance.contract import OPS
from conformance.conventions import says
from conformance.isolation import DEFAULT_RUN_TIMEOUT
from conformance.report import SCHEMA_NAME, failed_on

__all__ = [
    "DEFAULT_RUN_TIMEOUT",
    "STATUSES",
    "Cell",
    "Failure",
    "Look",
    "Run",
    "Scoreboard",
    "attach_reproducers",
    "cell_of",
    "command",
    "dtype_names",
    "html_page",
    "look",
    "markdown",
    "names",
    "ratio_text",
    "read_run",
    "run_matrix",
    "run_one",
    "svg_plot",
    "write",
]


# ---------------------------------------------------------------- statuses (data)
@dataclass(frozen=True)
class Look:
    """How a check status shows in the scoreboard.

    ``rank``: a cell shows the highest ranked status among its checks; ``detailed``: a cell of
    this status links to a section listing its checks with reason, diagnosis and reproducer.
    """

    symbol: str
    rank: int
    background: str
    foreground: str
    meaning: str
    detailed: bool = False


STATUSES: dict[str, Look] = {
    "fail": Look("✗", 50, "#f9d2d0", "#8c1a10",
                 "a check failed: an error above its tolerance, or a call that raised or "
                 "returned the wrong thing", detailed=True),
    "timeout": Look("◷", 40, "#fde3bf", "#7a4100", "a call outlived the time limit",
                    detailed=True),
    "xpass": Look("✗", 45, "#f9d2d0", "#8c1a10",
                  "a check listed as an expected failure passed (the list must be updated)",
                  detailed=True),
    "xfail": Look("⊘", 25, "#f4ecc4", "#5a4a00",
                  "a failure listed, with its reason, as expected (--xfail)", detailed=True),
    "declared": Look("◐", 20, "#d8e6fb", "#173f7a",
                     "passes under a convention variant the backend declares"),
    "pass": Look("✓", 10, "#d3eed6", "#14561f", "every check within its tolerance"),
    "skip": Look("–", 0, "#ececec", "#555555", "not implemented by the backend"),
}
"""The statuses a check can have, as the scoreboard shows them."""

_UNKNOWN_RANK = 30


def look(status: str) -> Look:
    """How ``status`` shows: its row of STATUSES, or (a status this version does not know) its
    name, ranked between fail and pass, with a details section."""
    return STATUSES.get(status) or Look("?", _UNKNOWN_RANK, "#e9ddf5", "#4b2372",
                                        f"status {status!r}", detailed=True)


# ---------------------------------------------------------------- runs
@dataclass
class Run:
    """One backend in one dtype: its JSON report, or why there is none.

    ``state``: "ran" (a report), "unavailable" (the backend could not be loaded), "timeout"
    (killed after the run's time limit) or "crashed" (ended without a report).
    """

    backend: str
    dtype: str
    state: str = "ran"
    report: dict[str, Any] | None = None
    message: str = ""
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.backend} {self.dtype}"

    @property
    def version(self) -> str:
        return str(_get(self.report, "backend", "version", default="")) or "unknown"

    @property
    def named(self) -> str:
        """``torch 2.13.0``, ``mybackend (version unknown)``."""
        version = "(version unknown)" if self.version == "unknown" else self.version
        return f"{self.backend} {version}"

    @property
    def results(self) -> list[dict[str, Any]]:
        results = _get(self.report, "results", default=[])
        return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []

    def ops(self) -> list[str]:
        ops = _get(self.report, "ops", default=None)
        if isinstance(ops, list):
            return [str(o) for o in ops]
        return list(dict.fromkeys(str(r.get("op")) for r in self.results))


def _get(doc: Any, *keys: str, default: Any = None) -> Any:
    """``doc[k1][k2]...``, or ``default`` where a level is missing or not a dict."""
    for key in keys:
        if not isinstance(doc, dict) or key not in doc:
            return default
        doc = doc[key]
    return doc


def read_run(backend: str, dtype: str, path: str | Path, seconds: float = 0.0) -> Run:
    """The run whose JSON report is at ``path``; "crashed" if it is not an nnspec report."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Run(backend, dtype, "crashed", message=f"no readable report ({exc})",
                   seconds=seconds)
    if _get(doc, "schema") != SCHEMA_NAME:
        return Run(backend, dtype, "crashed", message=f"{path} is not an {SCHEMA_NAME}",
                   seconds=seconds)
    return Run(backend, dtype, "ran", doc, seconds=seconds)


def _run_command(backend: str, dtype: str, json_path: Path, ops: Sequence[str] | None,
                 timeout: float | None, isolate: bool, xfail: Path | None = None) -> list[str]:
    """``nnspec run`` of one backend and dtype, as a command of this Python."""
    command = [sys.executable, "-m", "conformance.cli", "run", "--backend", backend,
               "--dtype", dtype, "--json", str(json_path), "-q"]
    if ops:
        command += ["--ops", ",".join(ops)]
    if xfail is not None:
        command += ["--xfail", str(xfail)]
    if timeout is not None:
        command += ["--timeout", f"{timeout:g}"]
    return command + (["--isolate"] if isolate else [])


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_one(backend: str, dtype: str, json_path: str | Path, *,
            ops: Sequence[str] | None = None, timeout: float | None = None,
            run_timeout: float | None = DEFAULT_RUN_TIMEOUT, isolate: bool = False,
            command: Sequence[str] | None = None, xfail: Path | None = None) -> Run:
    """Run ``nnspec run --backend BACKEND --dtype DTYPE --json JSON_PATH`` in a child process
    (``command`` instead, for tests) and read its report.

    ``timeout`` is ``nnspec run``'s per-call limit, ``run_timeout`` the whole run's (None: no
    limit): past it (or when this process is interrupted) the child and its own children are
    killed. Exit status 2 (nnspec's usage
    and loading errors) makes the run "unavailable" with nnspec's message; a run that ends
    otherwise without a report is "crashed". ``xfail``: the backend's expected-failures list.
    """
    json_path = Path(json_path)
    json_path.unlink(missing_ok=True)
    argv = list(command or _run_command(backend, dtype, json_path, ops, timeout, isolate, xfail))
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        _, err = child.communicate(timeout=run_timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        child.communicate()
        return Run(backend, dtype, "timeout", seconds=time.perf_counter() - start,
                   message=f"did not finish within {run_timeout:g} s: killed")
    except BaseException:         # Ctrl-C: its own session does not get it, so end it here
        _kill_group(child)
        child.communicate()
        raise
    seconds = time.perf_counter() - start
    code = child.returncode
    if code == 2:
        message = _last_line(err).removeprefix("nnspec: error: ") or "exit status 2"
        return Run(backend, dtype, "unavailable", message=message, seconds=seconds)
    if code in (0, 1) and json_path.exists():
        return read_run(backend, dtype, json_path, seconds)
    if code < 0:
        how = f"killed by {signal.Signals(-code).name}"
    else:
        how = f"exit status {code}" + ("" if code else " without a report")
    last = _last_line(err)
    return Run(backend, dtype, "crashed", message=how + (f": {last}" if last else ""),
               seconds=seconds)


def _kill_group(child: subprocess.Popen[str]) -> None:
    """Kill the child and whatever it started (its own session: start_new_session)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:         # it ended just now
        pass


# ---------------------------------------------------------------- cells
@dataclass
class Cell:
    """One op of one run: its status, the checks per status, its worst error ratio.

    ``ratio`` is the largest worst-error ÷ tolerance of its failing checks where any failed
    (None when none of them has values to compare: it raised, or returned the wrong shape),
    else of its checks; ``low`` the smallest nonzero ratio of the checks (for the plot's range).
    """

    status: str
    counts: Counter[str]
    ratio: float | None
    low: float | None
    results: list[dict[str, Any]]

    @property
    def look(self) -> Look:
        return look(self.status)

    @property
    def checked(self) -> int:
        return sum(n for s, n in self.counts.items() if s != "skip")

    def problems(self) -> list[dict[str, Any]]:
        """The checks that make the cell detailed (failed, timed out, unknown status)."""
        return [r for r in self.results if look(_status(r)).detailed]

    def partial(self) -> str:
        """What a cell with checks also skipped: ``forward only`` (every gradient check skipped,
        every forward checked), ``+3 skip``, or "" (nothing skipped, or nothing checked)."""
        skipped = [r for r in self.results if _status(r) == "skip"]
        if not skipped or not self.checked:
            return ""
        gradients = [r for r in self.results if r.get("check") == "gradient"]
        if gradients and all(_status(r) == "skip" for r in gradients) and len(skipped) == len(
                gradients):
            return "forward only"
        return f"+{len(skipped)} skip"

    @property
    def failed_on(self) -> str:
        """What a detailed cell's checks failed on where its ratio cannot show it (``dtype``,
        ``warned``, ``nan``, ``inf``: every one of them so; report.failed_on), else ""."""
        if not self.look.detailed:
            return ""
        on = {failed_on(str(r.get("reason", "")), _warnings(r), _ratio(r))
              for r in self.results if _status(r) == self.status}
        return "" if "" in on else ", ".join(sorted(on))

    def summary(self) -> str:
        """``"2 fail, 20 pass, 4 skip"``, highest rank first."""
        order = sorted(self.counts, key=lambda s: -look(s).rank)
        return ", ".join(f"{self.counts[s]} {s}" for s in order)


def _status(result: dict[str, Any]) -> str:
    """The check's status as the scoreboard shows it: a pass judged under a declared convention
    variant (its ``declared``, schema 5) is "declared"."""
    status = str(result.get("status", "unknown"))
    return "declared" if status == "pass" and result.get("declared") else status


def _warnings(result: dict[str, Any]) -> list[str]:
    value = result.get("warnings")
    return [str(w) for w in value] if isinstance(value, list) else []


def _ratio(result: dict[str, Any]) -> float | None:
    value = result.get("error_ratio")
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def cell_of(results: Iterable[dict[str, Any]]) -> Cell | None:
    """The cell of one op's results in one run (None: no checks)."""
    results = list(results)
    if not results:
        return None
    counts = Counter(_status(r) for r in results)
    status = max(counts, key=lambda s: look(s).rank)
    # the worst error of the checks that give the cell its status (a failure's, not an expected
    # failure's beside it), or of all it checked
    judged = [r for r in results if _status(r) == status] if look(status).detailed else [
        r for r in results if _status(r) != "skip"]
    ratios = [x for r in judged if (x := _ratio(r)) is not None]
    every = [x for r in results if (x := _ratio(r)) is not None and x > 0]
    return Cell(status, counts, max(ratios) if ratios else None,
                min(every) if every else None, results)


# ---------------------------------------------------------------- the scoreboard
@dataclass
class Failure:
    """The details section of a detailed cell: its anchor, its problem checks, a reproducer."""

    anchor: str
    run: Run
    op: str
    cell: Cell
    reproducer: str | None = None
    reproducer_path: str | None = None
    reproducer_of: str = ""

    @property
    def title(self) -> str:
        n, total = self.cell.counts[self.cell.status], len(self.cell.results)
        return (f"{self.op} · {self.run.named} · {self.run.dtype}: "
                f"{n} of {total} checks {_verb(self.cell.status)}")


def _verb(status: str) -> str:
    return {"fail": "failed", "timeout": "timed out"}.get(status, f"with status {status}")


@dataclass
class Scoreboard:
    """The runs of a matrix and what the pages need to say how they were made."""

    runs: list[Run]
    command: str = "nnspec matrix"
    generated: str = ""
    ops: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.ops:
            seen = {op for run in self.runs for op in run.ops()}
            self.ops = [op for op in OPS if op in seen] + sorted(seen - set(OPS))
        self._cells: dict[tuple[int, str], Cell | None] = {}
        self.failures: list[Failure] = []
        anchors: set[str] = set()
        for run in self.ran:
            for op in self.ops:
                cell = self.cell(run, op)
                if cell is not None and cell.look.detailed:
                    anchor = _unique(_slug(f"{run.backend}-{run.dtype}-{op}"), anchors)
                    self.failures.append(Failure(anchor, run, op, cell))

    @property
    def ran(self) -> list[Run]:
        """The runs that have a report: the columns of the table."""
        return [r for r in self.runs if r.state == "ran"]

    def cell(self, run: Run, op: str) -> Cell | None:
        key = (id(run), op)
        if key not in self._cells:
            self._cells[key] = cell_of(r for r in run.results if r.get("op") == op)
        return self._cells[key]

    def failure(self, run: Run, op: str) -> Failure | None:
        return next((f for f in self.failures if f.run is run and f.op == op), None)

    def backends(self) -> list[str]:
        return list(dict.fromkeys(r.backend for r in self.ran))

    def dtypes(self) -> list[str]:
        return list(dict.fromkeys(r.dtype for r in self.runs))

    def nnspec_versions(self) -> list[str]:
        found = [str(_get(r.report, "nnspec_version", default="")) for r in self.ran]
        return list(dict.fromkeys(v for v in found if v)) or [reference.__version__]

    def spec_versions(self) -> list[str]:
        found = [str(_get(r.report, "spec_version", default="")) for r in self.ran]
        return list(dict.fromkeys(v for v in found if v)) or [reference.SPEC_VERSION]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "x"


def _unique(anchor: str, taken: set[str]) -> str:
    found, n = anchor, 1
    while found in taken:
        n += 1
        found = f"{anchor}-{n}"
    taken.add(found)
    return found


# ---------------------------------------------------------------- reproducers
def attach_reproducers(board: Scoreboard, folder: str | Path) -> None:
    """Give each failing cell a reproducer: a property failure's own (from its report), else one
    built for its first problem check (conformance.reproducer), written under ``folder``."""
    folder = Path(folder)
    for failure in board.failures:
        problems = failure.cell.problems()
        own = next((r for r in problems if isinstance(r.get("reproducer"), str)), None)
        if own is not None:
            failure.reproducer = own["reproducer"]
            path = folder / f"{failure.anchor}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(own["reproducer"], encoding="utf-8")
        else:
            own = problems[0]
            built = _build_reproducer(failure.run, own, folder / failure.anchor)
            if built is None:
                continue
            path, failure.reproducer = built
        failure.reproducer_of = str(own.get("id", ""))
        failure.reproducer_path = path.relative_to(folder.parent).as_posix()


def _build_reproducer(run: Run, result: dict[str, Any],
                      folder: Path) -> tuple[Path, str] | None:
    """The reproducer script of a golden or slide check from its report (None if the case or
    its tolerance cannot be found, or the check has no values: a skip turned failure)."""
    from conformance.cases import complete
    from conformance.checks import default_cases
    from conformance.reproducer import write as write_reproducer
    from reference.tolerance import Tolerance

    tol, check = result.get("tolerance"), result.get("check")
    if not isinstance(tol, dict) or check not in ("forward", "gradient"):
        return None
    try:
        case = next(c for c in default_cases([str(result.get("op"))])
                    if c.source == result.get("source") and c.name == result.get("case"))
    except (StopIteration, ValueError, KeyError):
        return None
    try:
        return write_reproducer(folder, complete(case), check, target=run.backend,
                                style=result.get("gradient_style"), dtype=run.dtype,
                                tol=Tolerance(float(tol["rtol"]), float(tol["atol"])),
                                note=f"{result.get('id')}, {run.dtype}")
    except Exception:               # a reproducer is help: a case it cannot build is left out
        return None


# ---------------------------------------------------------------- text helpers
def ratio_text(ratio: float | None) -> str:
    """A worst-error ÷ tolerance for a cell, in at most two digits: ``0.006``, ``0.31``,
    ``12``, ``1e+03``, ``2e-05``, ``exact`` (no error at all), ``""`` (no values)."""
    if ratio is None:
        return ""
    if ratio == 0:
        return "exact"
    if math.isinf(ratio):
        return "∞"
    if ratio < 1e-3 or ratio >= 100:
        return f"{ratio:.0e}"
    return f"{ratio:.2g}" if ratio >= 1e-2 else f"{ratio:.1g}"


def _cell_text(cell: Cell | None) -> tuple[str, str, str]:
    """(symbol and status, ratio, what was skipped besides) of a table cell; in place of the
    ratio, what its failures failed on where the ratio cannot show it (``dtype``, ``nan``)."""
    if cell is None:
        return "", "", ""
    label = cell.status
    if cell.look.detailed:
        label += f" {cell.counts[cell.status]}/{len(cell.results)}"
    ratio = cell.failed_on or ratio_text(cell.ratio if cell.checked else None)
    return f"{cell.look.symbol} {label}", ratio, cell.partial()


def _declared(result: dict[str, Any]) -> str:
    """The convention variant a check was judged under, if its report says (``declared``)."""
    value = result.get("declared")
    if isinstance(value, dict):
        try:
            return says(value.items())
        except (KeyError, ValueError):     # a convention this version does not know
            return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value) if value else ""


def _findings(result: dict[str, Any]) -> list[str]:
    """What a report says of a failing check beyond its reason and diagnosis, if it says it
    (schema 3): ``consistency: ...`` (its backward against its own forward) and one
    ``anatomy: ...`` per wrong array (where and how it is wrong)."""
    lines = []
    if isinstance(text := _get(result, "consistency", "text"), str) and text:
        lines.append(f"consistency: {text}")
    anatomy = result.get("anatomy")
    for part in anatomy if isinstance(anatomy, list) else []:
        if isinstance(text := _get(part, "text"), str) and text:
            lines.append(f"anatomy: {text}")
    return lines


def _run_cells(run: Run) -> str:
    """``2 fail, 219 pass``: the run's checks per status, highest rank first."""
    counts = Counter(_status(r) for r in run.results)
    order = sorted(counts, key=lambda s: -look(s).rank)
    return ", ".join(f"{counts[s]} {s}" for s in order) or "no checks"


def _missing(board: Scoreboard) -> list[tuple[str, str, str, str]]:
    """The runs without a report as (backend, dtypes, state, message), a backend's dtypes that
    ended the same way in one."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for run in board.runs:
        if run.state != "ran":
            groups.setdefault((run.backend, _state_text(run), run.message), []).append(run.dtype)
    return [(b, ", ".join(dts), state, message) for (b, state, message), dts in groups.items()]


def _grouped(problems: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """A cell's problem checks by diagnosis ("" for none), in the order they first appear."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in problems:
        groups.setdefault(str(r.get("diagnosis") or ""), []).append(r)
    return list(groups.items())


def _when(run: Run) -> str:
    started = str(_get(run.report, "started", default=""))
    return started.replace("T", " ")


def _state_text(run: Run) -> str:
    return {"ran": "ran", "unavailable": "not available", "timeout": "timed out",
            "crashed": "crashed"}.get(run.state, run.state)


def _legend_statuses(board: Scoreboard) -> list[str]:
    present = {s for run in board.ran for s in (_status(r) for r in run.results)}
    return list(STATUSES) + sorted(present - set(STATUSES))


def _about(board: Scoreboard) -> str:
    return (f"nnspec {', '.join(board.nnspec_versions())} (spec "
            f"{', '.join(board.spec_versions())})")


# ---------------------------------------------------------------- Markdown
def _md(text: str) -> str:
    """Text safe in a Markdown table cell or list item."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text.replace('|', '¦')}{fence}"


NOTES = "scoreboard-notes.md"
"""The notes next to a scoreboard (docs/scoreboard-notes.md) that say why a framework differs
from the spec; the Markdown links them when the folder has them."""


def markdown(board: Scoreboard, *, plot: str | None = "scoreboard.svg",
             page: str | None = "scoreboard.html", notes: str | None = None) -> str:
    """The scoreboard in Markdown (GitHub's: anchors as ``<a id>``, reproducers in
    ``<details>``); ``plot``, ``page`` and ``notes`` are the SVG, HTML and notes files it links
    (None: none)."""
    ran = board.ran
    out = ["# nnspec conformance scoreboard", "",
           f"{_about(board)}, generated {board.generated} by", "", "```sh", board.command,
           "```", "",
           "Each backend and dtype ran as its own `nnspec run` (golden and slide cases, forward "
           "and gradients). A cell is the op's status for that run and its **worst error as a "
           "fraction of its tolerance** (≤ 1 passes; `exact`: no error at all; `dtype`, "
           "`warned`, `nan`, `inf`: what its failures failed on where the ratio cannot show "
           "it), and in brackets "
           "what the backend does not implement besides (forward only: no gradient; +N skip: N "
           "checks); a failing cell links to its checks' reasons, diagnoses and a reproducer."
           + (f" [The HTML page]({page}) has all of it on one page." if page else "")
           + (f" Why a framework differs from the spec, each finding with a reproducer: "
              f"[{notes}]({notes})." if notes else ""), ""]
    out += ["| | status | meaning |", "|---|---|---|"]
    out += [f"| {look(s).symbol} | {s} | {_md(look(s).meaning)} |"
            for s in _legend_statuses(board)]
    out.append("")
    if plot and ran:
        out += [f"![worst error ÷ tolerance per op and backend, log scale]({plot})", ""]
    out += ["## Results", ""]
    if ran:
        head = ["op", *(f"{r.backend}<br>{r.dtype}" for r in ran)]
        out += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for op in board.ops:
            row = [f"`{op}`"]
            for run in ran:
                cell = board.cell(run, op)
                status, ratio, partial = _cell_text(cell)
                text = f"{status} {ratio}".strip() or "—"
                text += f" ({partial})" if partial else ""
                failure = board.failure(run, op)
                row.append(f"[{text}](#{failure.anchor})" if failure else text)
            out.append("| " + " | ".join(row) + " |")
    else:
        out.append("No backend produced a report.")
    if missing := _missing(board):
        out += ["", "Not in the table: " + "; ".join(
            f"{b} {dts} ({state}: {_md(message)})" for b, dts, state, message in missing) + "."]
    out += ["", "## Backends", "",
            "| backend | version | dtype | checks | nnspec | ran at | seconds |",
            "|---|---|---|---|---|---|---|"]
    for run in board.ran:
        row = [run.backend, run.version, run.dtype, _run_cells(run),
               str(_get(run.report, "nnspec_version", default="")), _when(run),
               f"{run.seconds:.0f}"]
        out.append("| " + " | ".join(_md(c) for c in row) + " |")
    for b, dts, state, message in _missing(board):
        out.append(f"| {_md(b)} | — | {dts} | **{state}**: {_md(message)} | — | — | — |")
    platforms = sorted({f"Python {_get(r.report, 'platform', 'python')}, NumPy "
                        f"{_get(r.report, 'platform', 'numpy')}" for r in ran})
    if platforms:
        out += ["", f"Platform: {'; '.join(platforms)}."]
    if board.failures:
        out += ["", "## Failures"]
        for failure in board.failures:
            out += _md_failure(failure)
    return "\n".join(out) + "\n"


def _md_failure(failure: Failure) -> list[str]:
    out = ["", f'<a id="{failure.anchor}"></a>', "", f"### {_md(failure.title)}"]
    for diagnosis, results in _grouped(failure.cell.problems()):
        out += ["", f"**diagnosis** ({len(results)} {'check' if len(results) == 1 else 'checks'}"
                f"): {_md(diagnosis)}" if diagnosis else f"**no diagnosis** ({len(results)})", ""]
        for r in results:
            line = f"- {_code(str(r.get('id', '?')))} ({_status(r)}): {_md(str(r.get('reason')))}"
            if declared := _declared(r):
                line += f" (declared: {_md(declared)})"
            if why := r.get("expected_failure"):
                line += f" (expected failure: {_md(str(why))})"
            out.append(line)
            out += [f"  - {_md(finding)}" for finding in _findings(r)]
    if failure.reproducer:
        where = f", `{failure.reproducer_path}`" if failure.reproducer_path else ""
        out += ["", f"<details><summary>reproducer of {_md(failure.reproducer_of)}{where}"
                f"</summary>", "", "```python", failure.reproducer.rstrip("\n"), "```", "",
                "</details>"]
    return out


# ---------------------------------------------------------------- SVG
_PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#7f7f7f",
            "#000000")
"""Okabe and Ito's colour-blind safe colours, one per backend (then round again)."""
_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_FLOOR = -8
"""The plot's smallest power of ten: a ratio below 10⁻⁸ is drawn there."""


def _marker(shape: int, x: float, y: float, r: float, fill: str, stroke: str) -> str:
    """A marker for the dtype's index: circle, diamond, square, triangle."""
    attrs = f'fill="{fill}" stroke="{stroke}" stroke-width="1.2"'
    if shape % 4 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {attrs}/>'
    if shape % 4 == 1:
        pts = [(x, y - r * 1.3), (x + r * 1.3, y), (x, y + r * 1.3), (x - r * 1.3, y)]
    elif shape % 4 == 2:
        pts = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
    else:
        pts = [(x, y - r * 1.3), (x + r * 1.2, y + r), (x - r * 1.2, y + r)]
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
    return f'<polygon points="{points}" {attrs}/>'


def svg_plot(board: Scoreboard, *, links: bool = True, width: int = 1080) -> str:
    """The worst error ÷ tolerance of every cell, one band per op, one line per run inside it:
    a marker at the cell's worst ratio, a line back to its smallest nonzero one; log scale from
    at most 10⁻⁴ (at least 10⁻⁸: below it all is as good as exact, drawn at the edge) to at
    least 100, the tolerance (ratio 1) a red line, exact results (0) in a column of their own at
    the left, failures without values (raised, wrong shape) in one at the right. ``links``: a
    failing cell's marker links to its details (``#anchor``), for the HTML page."""
    ran = board.ran
    cells = {(id(r), op): board.cell(r, op) for r in ran for op in board.ops}
    positive = [c.ratio for c in cells.values() if c and c.ratio and math.isfinite(c.ratio)]
    positive += [c.low for c in cells.values() if c and c.low and math.isfinite(c.low)]
    lo = max(_FLOOR, min(-4, math.floor(math.log10(min(positive))) if positive else -4))
    hi = min(8, max(2, math.ceil(math.log10(max(positive))) if positive else 2))
    no_values = any(c and c.checked and (c.ratio is None or c.failed_on)
                    for c in cells.values())
    backends, dtypes = board.backends(), board.dtypes()
    colour = {b: _PALETTE[i % len(_PALETTE)] for i, b in enumerate(backends)}
    shape = {d: i for i, d in enumerate(dtypes)}

    left, right, step = 118, 18, 9 if len(ran) <= 8 else 7
    exact_x = left + 22
    x0, x1 = left + 70, width - right - (92 if no_values else 16)   # (its last tick's label
    #                                                          clear of the right column's)
    none_x = width - right - 32
    legend_h, axis_h = 30, 46
    band = max(1, len(ran)) * step + 10
    top = legend_h + 40
    height = top + band * len(board.ops) + axis_h

    def xpos(ratio: float) -> float:
        ratio = min(max(ratio, 10.0 ** lo), 10.0 ** hi)
        return x0 + (math.log10(ratio) - lo) / (hi - lo) * (x1 - x0)

    one = xpos(1.0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" font-family="system-ui, -apple-system, '
           f'Segoe UI, Roboto, Helvetica, Arial, sans-serif" font-size="12">',
           "<title>worst error ÷ tolerance per op and backend (log scale)</title>",
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    # legend: backends by colour, dtypes by shape
    x: float = left
    for b in backends:
        out.append(_marker(0, x + 5, 16, 5, colour[b], colour[b]))
        out.append(f'<text x="{x + 14}" y="20">{html.escape(b)}</text>')
        x += 24 + 7.2 * len(b)
    x += 14
    for d in dtypes:
        out.append(_marker(shape[d], x + 5, 16, 4.5, "#ffffff", "#222222"))  # (no backend's)
        out.append(f'<text x="{x + 14}" y="20">{html.escape(d)}</text>')
        x += 24 + 7.2 * len(d)
    # the failing side, the grid, the tolerance
    plot_bottom = top + band * len(board.ops)
    out.append(f'<rect x="{one:.1f}" y="{top}" width="{x1 - one:.1f}" '
               f'height="{plot_bottom - top}" fill="#fdecea"/>')
    for i, op in enumerate(board.ops):
        if i % 2:
            out.append(f'<rect x="{left - 110}" y="{top + i * band}" '
                       f'width="{width - right - left + 110}" height="{band}" fill="#000000" '
                       f'fill-opacity="0.035"/>')
        out.append(f'<text x="{left - 8}" y="{top + i * band + band / 2 + 4:.1f}" '
                   f'text-anchor="end" font-family="ui-monospace, SFMono-Regular, Menlo, '
                   f'Consolas, monospace">{html.escape(op)}</text>')
    for e in range(lo, hi + 1):
        gx = xpos(10.0 ** e)
        label = {0: "1", 1: "10"}.get(e, f"10{str(e).translate(_SUPER)}")
        label = f"≤{label}" if e == _FLOOR else label
        out.append(f'<line x1="{gx:.1f}" y1="{top}" x2="{gx:.1f}" y2="{plot_bottom}" '
                   f'stroke="#d0d0d0" stroke-width="0.8"/>')
        out.append(f'<text x="{gx:.1f}" y="{plot_bottom + 16}" text-anchor="middle" '
                   f'fill="#444444">{label}</text>')
    out.append(f'<line x1="{one:.1f}" y1="{top - 18}" x2="{one:.1f}" y2="{plot_bottom}" '
               f'stroke="#c0392b" stroke-width="1.6" stroke-dasharray="5,3"/>')
    out.append(f'<text x="{one:.1f}" y="{top - 24}" text-anchor="middle" fill="#c0392b">'
               f'tolerance</text>')
    out.append(f'<text x="{one - 6:.1f}" y="{top - 6}" text-anchor="end" fill="#14561f">'
               f'← passes</text>')
    out.append(f'<text x="{one + 6:.1f}" y="{top - 6}" fill="#c0392b">fails →</text>')
    out.append(f'<text x="{exact_x}" y="{plot_bottom + 16}" text-anchor="middle" '
               f'fill="#444444">exact</text>')
    out.append(f'<line x1="{exact_x + 17}" y1="{top}" x2="{exact_x + 17}" y2="{plot_bottom}" '
               f'stroke="#bbbbbb" stroke-dasharray="2,2"/>')
    if no_values:
        out.append(f'<text x="{none_x}" y="{plot_bottom + 16}" text-anchor="middle" '
                   f'fill="#8c1a10">no ratio</text>')
    what = ("; no ratio: a failure its ratio does not show: raised, wrong shape, dtype or "
            "warned" if no_values else "")
    out.append(f'<text x="{(x0 + x1) / 2:.0f}" y="{plot_bottom + 36}" text-anchor="middle" '
               f'fill="#222222">worst error ÷ tolerance (log scale; ≤ 1 passes{what})</text>')
    # the runs
    for i, op in enumerate(board.ops):
        for j, run in enumerate(ran):
            cell = cells[(id(run), op)]
            if cell is None or not cell.checked:
                continue
            y = top + i * band + 5 + j * step + step / 2
            c = colour[run.backend]
            if cell.ratio is None or cell.failed_on:      # a failure its ratio cannot show
                mx = float(none_x)
            elif cell.ratio == 0:
                mx = float(exact_x)
            else:
                mx = xpos(cell.ratio)
            if cell.low is not None and cell.ratio and cell.low < cell.ratio and (
                    not cell.failed_on):
                out.append(f'<line x1="{xpos(cell.low):.1f}" y1="{y:.1f}" x2="{mx:.1f}" '
                           f'y2="{y:.1f}" stroke="{c}" stroke-width="1.4" '
                           f'stroke-opacity="0.55"/>')
            bad = cell.look.detailed
            mark = _marker(shape[run.dtype], mx, y, 4.2 if bad else 3.6, c,
                           "#000000" if bad else c)
            tip = (f"{op}, {run.backend} {run.dtype}: {cell.status}, worst error ÷ tolerance "
                   f"{ratio_text(cell.ratio) or 'none (no values)'} ({cell.summary()})")
            if cell.failed_on:
                tip += f"; failed on: {cell.failed_on}"
            body = f"<g>{mark}<title>{html.escape(tip)}</title></g>"
            failure = board.failure(run, op)
            if links and failure is not None:
                body = f'<a href="#{failure.anchor}">{body}</a>'
            out.append(body)
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML
_CSS = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; color: #1d1d1f; margin: 0; background: #fafafa; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 0 0 8px; }
code, pre, .op { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                 font-size: 13px; }
.sub { color: #555; margin: 0 0 14px; }
pre { background: #f2f2f2; border: 1px solid #e0e0e0; border-radius: 6px; padding: 10px;
      overflow-x: auto; }
.command { background: #1d1d1f; color: #f5f5f5; border: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #dcdcdc; padding: 4px 9px; text-align: left; vertical-align: top; }
caption { caption-side: top; text-align: left; color: #555; font-size: 13px; padding: 0 0 6px; }
table.matrix tbody th { vertical-align: middle; font-weight: 600; }
thead th { background: #f0f0f0; font-weight: 600; }
table.matrix { font-size: 13px; }
table.matrix th, table.matrix td { padding: 3px 5px; }
table.matrix td.c { text-align: center; min-width: 52px; }
table.matrix thead small { font-weight: 400; }
table.matrix th.run { text-align: center; }
table.matrix td .r { display: block; font-size: 12px; opacity: 0.85; }
table.matrix td .p { display: block; font-size: 11px; font-style: italic; opacity: 0.75; }
table.matrix td a { color: inherit; text-decoration: underline; font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 18px; margin: 10px 0 16px; padding: 0;
          list-style: none; font-size: 14px; }
.legend .sw { display: inline-block; min-width: 22px; text-align: center; border-radius: 4px;
              padding: 0 4px; margin-right: 6px; }
.plot { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px;
        display: inline-block; max-width: 100%; overflow-x: auto; }
.missing { background: #fff4e5; border-left: 4px solid #e69f00; padding: 8px 12px; }
.failure { background: #fff; border: 1px solid #e3c4c1; border-left: 5px solid #c0392b;
           border-radius: 6px; padding: 12px 16px; margin: 14px 0; }
.failure:target { box-shadow: 0 0 0 3px #f0b429; }
.failure ul { padding-left: 20px; }
.failure li { margin-bottom: 6px; }
.failure .diag { color: #333; }
.failure .finding { color: #555; font-size: 13px; }
.back { font-size: 13px; }
td.bad { color: #8c1a10; font-weight: 600; }
"""


def _style(statuses: Iterable[str]) -> str:
    """One CSS rule per status: its colours, from STATUSES (or the unknown status's)."""
    rules = []
    for s in statuses:
        lk = look(s)
        rules.append(f".st-{_slug(s)} {{ background: {lk.background}; color: {lk.foreground}; }}")
    return "\n".join(rules)


def _h(text: Any) -> str:
    return html.escape(str(text))


def html_page(board: Scoreboard) -> str:
    """The scoreboard as one HTML page: inline CSS, the plot as inline SVG, no script."""
    statuses = _legend_statuses(board)
    ran = board.ran
    body = ["<h1>nnspec conformance scoreboard</h1>",
            f'<p class="sub">{_h(_about(board))} · generated {_h(board.generated)} · '
            f"{len(ran)} of {len(board.runs)} runs produced a report</p>",
            f'<pre class="command"><code>{_h(board.command)}</code></pre>',
            "<p>Each backend and dtype ran as its own <code>nnspec run</code> (golden and slide "
            "cases, forward and gradients). A cell is the op's status for that run and its "
            "<b>worst error as a fraction of its tolerance</b> (≤ 1 passes; <i>exact</i>: no "
            "error at all); a failing cell links to its checks' reasons, diagnoses and a "
            "reproducer.</p>",
            '<ul class="legend">' + "".join(
                f'<li><span class="sw st-{_slug(s)}">{_h(look(s).symbol)}</span><b>{_h(s)}</b>'
                f": {_h(look(s).meaning)}</li>" for s in statuses) + "</ul>"]
    if missing := _missing(board):
        body.append('<p class="missing" id="missing"><b>Not in the table:</b> ' + "; ".join(
            f"<b>{_h(b)}</b> {_h(dts)} ({_h(state)}: {_h(message)})"
            for b, dts, state, message in missing) + ".</p>")
    if ran:
        body += ['<h2 id="plot">Error ratios per op and backend</h2>',
                 f'<div class="plot">{svg_plot(board)}</div>',
                 '<h2 id="results">Results</h2>',
                 '<p class="sub">Each cell: the op\'s status for that run, under it the worst '
                 "error ÷ tolerance (≤ 1 passes), or what its failures failed on where the ratio "
                 "cannot show it (<i>dtype</i>, <i>warned</i>, <i>nan</i>, <i>inf</i>), and what "
                 "the backend does not implement besides (<i>forward only</i>: no gradient; "
                 "<i>+N skip</i>: N checks).</p>", '<div class="scroll">', _html_matrix(board),
                 "</div>"]
    else:
        body.append('<h2 id="results">Results</h2><p>No backend produced a report.</p>')
    body += ['<h2 id="backends">Backends</h2>', '<div class="scroll">', _html_runs(board),
             "</div>"]
    if board.failures:
        body.append('<h2 id="failures">Failures</h2>')
        body += [_html_failure(f) for f in board.failures]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>nnspec conformance scoreboard</title>\n<style>{_CSS}{_style(statuses)}\n"
            "</style>\n</head>\n<body>\n<main>\n" + "\n".join(body) +
            "\n</main>\n</body>\n</html>\n")


def _html_matrix(board: Scoreboard) -> str:
    ran = board.ran
    groups: list[tuple[str, int]] = []
    for run in ran:
        if groups and groups[-1][0] == run.backend:
            groups[-1] = (run.backend, groups[-1][1] + 1)
        else:
            groups.append((run.backend, 1))
    version = {r.backend: "version unknown" if r.version == "unknown" else r.version for r in ran}
    rows = ['<table class="matrix">', "<thead>",
            '<tr><th rowspan="2">op</th>' + "".join(
                f'<th class="run" colspan="{n}">{_h(b)}<br><small>{_h(version[b])}</small></th>'
                for b, n in groups) + "</tr>",
            "<tr>" + "".join(f'<th class="run"><small>{_h(r.dtype)}</small></th>'
                             for r in ran) + "</tr>", "</thead>", "<tbody>"]
    for op in board.ops:
        tds = []
        for run in ran:
            cell = board.cell(run, op)
            if cell is None:
                tds.append('<td class="c" title="no checks">—</td>')
                continue
            status, ratio, partial = _cell_text(cell)
            inner = (f'{_h(status)}<span class="r">{_h(ratio) or "&nbsp;"}</span>'
                     + (f'<span class="p">{_h(partial)}</span>' if partial else ""))
            failure = board.failure(run, op)
            if failure is not None:
                inner = f'<a href="#{failure.anchor}">{inner}</a>'
            tip = (f"{op}, {run.backend} {run.dtype}: {cell.summary()}; worst error ÷ "
                   f"tolerance {ratio_text(cell.ratio) or 'none (no values)'}")
            if declared := sorted({d for r in cell.results if (d := _declared(r))}):
                tip += f"; declared: {'; '.join(declared)}"
            tds.append(f'<td class="c st-{_slug(cell.status)}" title="{_h(tip)}">{inner}</td>')
        rows.append(f'<tr><th class="op">{_h(op)}</th>{"".join(tds)}</tr>')
    rows += ["</tbody>", "</table>"]
    return "\n".join(rows)


def _html_runs(board: Scoreboard) -> str:
    rows = ['<table class="runs">', "<thead><tr><th>backend</th><th>version</th><th>dtype</th>"
            "<th>checks</th><th>nnspec</th><th>ran at</th><th>seconds</th></tr></thead>",
            "<tbody>"]
    for run in board.ran:
        cells = [run.version, run.dtype, _run_cells(run),
                 _get(run.report, "nnspec_version", default=""), _when(run),
                 f"{run.seconds:.0f}"]
        tds = "".join(f"<td>{_h(c)}</td>" for c in cells)
        rows.append(f"<tr><th>{_h(run.backend)}</th>{tds}</tr>")
    for b, dts, state, message in _missing(board):
        rows.append(f'<tr><th>{_h(b)}</th><td>—</td><td>{_h(dts)}</td><td class="bad" '
                    f'colspan="4">{_h(state)}: {_h(message)}</td></tr>')
    rows += ["</tbody>", "</table>"]
    platforms = sorted({f"Python {_get(r.report, 'platform', 'python')}, NumPy "
                        f"{_get(r.report, 'platform', 'numpy')}" for r in board.ran})
    if platforms:
        rows.append(f'<p class="sub">Platform: {_h("; ".join(platforms))}.</p>')
    return "\n".join(rows)


_SHOWN = 5
"""Checks listed per diagnosis before the rest fold away (HTML)."""


def _html_failure(failure: Failure) -> str:
    parts = [f'<section class="failure" id="{failure.anchor}"><h3>{_h(failure.title)}</h3>']
    for diagnosis, results in _grouped(failure.cell.problems()):
        n = f"{len(results)} {'check' if len(results) == 1 else 'checks'}"
        parts.append(f'<p class="diag"><b>diagnosis</b> ({n}): {_h(diagnosis)}</p>' if diagnosis
                     else f'<p class="diag"><b>no diagnosis</b> ({n})</p>')
        items = []
        for r in results:
            declared = _declared(r)
            findings = "".join(f'<br><span class="finding">{_h(f)}</span>' for f in _findings(r))
            items.append(f"<li><code>{_h(r.get('id', '?'))}</code> ({_h(_status(r))}): "
                         f"{_h(r.get('reason', ''))}"
                         + (f" <b>declared:</b> {_h(declared)}" if declared else "")
                         + (f" <b>expected failure:</b> {_h(why)}"
                            if (why := r.get("expected_failure")) else "")
                         + f"{findings}</li>")
        parts.append(f"<ul>{''.join(items[:_SHOWN])}</ul>")
        if len(items) > _SHOWN:
            parts.append(f"<details><summary>{len(items) - _SHOWN} more</summary>"
                         f"<ul>{''.join(items[_SHOWN:])}</ul></details>")
    if failure.reproducer:
        where = (f" <code>{_h(failure.reproducer_path)}</code>"
                 if failure.reproducer_path else "")
        parts.append(f"<details open><summary>reproducer of <code>"
                     f"{_h(failure.reproducer_of)}</code>{where} (run it with python: it "
                     f"prints each result's error, then PASS or FAIL)</summary>"
                     f"<pre><code>{_h(failure.reproducer)}</code></pre></details>")
    parts.append('<p class="back"><a href="#results">back to the table</a></p></section>')
    return "".join(parts)


# ---------------------------------------------------------------- the matrix
def run_matrix(backends: Sequence[str], dtypes: Sequence[str], out: str | Path, *,
               ops: Sequence[str] | None = None, timeout: float | None = None,
               run_timeout: float | None = DEFAULT_RUN_TIMEOUT, isolate: bool = False,
               progress: Callable[[Run], None] | None = None,
               xfail_dir: str | Path | None = None) -> list[Run]:
    """Every backend in every dtype, one child process each (run_one), reports in
    ``out/reports/<backend>-<dtype>.json``; in the order given, backend by backend. A backend
    with a file ``<xfail_dir>/<backend>.txt`` runs with it as its expected-failures list."""
    reports = Path(out) / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    runs = []
    for backend in backends:
        for dtype in dtypes:
            listed = None if xfail_dir is None else Path(xfail_dir) / f"{backend}.txt"
            run = run_one(backend, dtype, reports / f"{_slug(backend)}-{dtype}.json", ops=ops,
                          timeout=timeout, run_timeout=run_timeout, isolate=isolate,
                          xfail=listed if listed is not None and listed.exists() else None)
            runs.append(run)
            if progress is not None:
                progress(run)
    return runs


def write(board: Scoreboard, out: str | Path) -> list[Path]:
    """Write scoreboard.md, scoreboard.svg and scoreboard.html (and the reproducers, in
    ``out/reproducers``, rewritten: none of an earlier board stays) to ``out``; return the
    three paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "reproducers", ignore_errors=True)
    attach_reproducers(board, out / "reproducers")
    paths = [out / "scoreboard.md", out / "scoreboard.svg", out / "scoreboard.html"]
    notes = NOTES if (out / NOTES).exists() else None
    texts = [markdown(board, plot="scoreboard.svg" if board.ran else None, notes=notes),
             svg_plot(board, links=False), html_page(board)]
    for path, text in zip(paths, texts):
        path.write_text(text, encoding="utf-8")
    return paths


def generated_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def command_line(argv: Sequence[str]) -> str:
    """``nnspec ARGV...`` as a shell command."""
    return shlex.join(["nnspec", *argv])


def progress_line(run: Run) -> str:
    if run.state == "ran":
        summary = _get(run.report, "summary", default={})
        counts = ", ".join(f"{summary.get(k, 0)} {k}" for k in ("passed", "failed", "skipped"))
        counts += "".join(f", {n} {k.replace('_', ' ')}" for k in ("timed_out", "xfailed",
                                                                    "xpassed")
                          if (n := summary.get(k, 0)))
        return f"{run.label}: {run.version}: {counts} ({run.seconds:.0f} s)"
    return f"{run.label}: {_state_text(run)}: {run.message} ({run.seconds:.0f} s)"


# ---------------------------------------------------------------- the command
def names(text: str) -> list[str]:
    """The names of a comma-separated list ("torch, jax"); a ValueError if there are none."""
    found = [name.strip() for name in text.split(",") if name.strip()]
    if not found:
        raise ValueError(f"expected one or more comma-separated names, got {text!r}")
    return found


def dtype_names(text: str) -> list[str]:
    """The dtypes of a comma-separated list ("float64,float32"); a ValueError names any that
    ``nnspec run`` does not have."""
    from conformance.runner import DTYPES

    found = list(dict.fromkeys(names(text)))
    if unknown := [d for d in found if d not in DTYPES]:
        raise ValueError(f"unknown dtype(s) {', '.join(unknown)}; use {', '.join(DTYPES)}")
    return found


def command(args: Any, out: TextIO) -> int:
    """``nnspec matrix`` (conformance.cli parses its options): run, then write the pages.
    Returns 0 once the pages are written, whatever the checks found."""
    from conformance.backends import BUILTIN

    backends = list(dict.fromkeys(n for group in args.backend or [list(BUILTIN)] for n in group))
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"nnspec matrix: {', '.join(backends)} × {', '.join(args.dtype)}, each run in its own "
          f"process (at most {args.run_timeout or math.inf:g} s each); reports in "
          f"{folder / 'reports'}", file=out, flush=True)
    runs = run_matrix(backends, args.dtype, folder, ops=args.ops, timeout=args.timeout,
                      run_timeout=args.run_timeout or None, isolate=args.isolate,
                      progress=lambda run: print(progress_line(run), file=out, flush=True),
                      xfail_dir=args.xfail_dir)
    board = Scoreboard(runs, command=command_line(args.argv), generated=generated_now(),
                       ops=list(args.ops or []))
    paths = write(board, folder)
    print(f"wrote {', '.join(str(p) for p in paths)}", file=out)
    return 0
