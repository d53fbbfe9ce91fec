"""Expected failures (``nnspec run --xfail FILE``): a backend's known deviations, each with its
reason, strict as pytest's ``xfail_strict``.

The file holds one entry per line, a pattern and the reason; a line starting with ``#`` is a
comment::

    # tinygrad: see docs/scoreboard-notes-frameworks.md
    lstm[gradient-golden-05]            T2: tinygrad's LSTM gradient is nan at saturated gates
    float64:tanh[*]                     K1: Keras on JAX computes tanh in float32
    conv2d[*-golden-0?]                 a glob: * any run of characters, ? one character

A pattern is a check id as the report prints it (``op[check-source-case]``) in which ``*`` and
``?`` are wildcards (brackets are literal), optionally led by ``float64:`` or ``float32:`` to
apply to runs of that dtype only. A listed check that fails (or times out) is an expected
failure ("xfail") and does not fail the run; one that passes is "xpass" and does, so a fixed
deviation cannot stay listed; so does an entry that matches no check of a run it applies to (its
dtype, and its op among the run's ops), so a renamed or removed case cannot leave the list
stale. A skipped check (an op the backend does not implement) stays a skip that keeps the
entry's reason: the run lists it as listed but not run, without failing (the deviation may be
real; it is just not checked here), and the entry is not stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from conformance.contract import OPS
from conformance.report import Result

__all__ = ["Entry", "ExpectedFailures", "load"]

_DTYPES = ("float64", "float32")


def _glob(pattern: str) -> re.Pattern[str]:
    """``pattern`` with ``*`` (any run of characters) and ``?`` (one) as its only wildcards."""
    wildcards = {"*": ".*", "?": "."}
    return re.compile("".join(wildcards.get(ch, re.escape(ch)) for ch in pattern))


def _matches_an_op(pattern: str, ops: Iterable[str]) -> bool:
    """Whether the op part of ``pattern`` (before its bracket) matches one of ``ops``."""
    op = _glob(pattern.split("[", 1)[0])
    return any(op.fullmatch(o) for o in ops)


@dataclass(frozen=True)
class Entry:
    """One line of the file: ``pattern`` (without its dtype), the dtype it applies to (None:
    both), the reason, and where it was written (``file:line``)."""

    pattern: str
    dtype: str | None
    reason: str
    where: str

    def matches(self, result_id: str, dtype: str) -> bool:
        return self.dtype in (None, dtype) and _glob(self.pattern).fullmatch(result_id) is not None

    def applies_to(self, dtype: str, ops: Iterable[str]) -> bool:
        """Whether a run of ``dtype`` over ``ops`` should hold a check the entry matches."""
        return self.dtype in (None, dtype) and _matches_an_op(self.pattern, ops)

    def text(self) -> str:
        dtype = f"{self.dtype}:" if self.dtype else ""
        return f"{dtype}{self.pattern} ({self.where}: {self.reason})"


@dataclass(frozen=True)
class ExpectedFailures:
    """The entries of an expected-failures file, applied to a run's results."""

    entries: tuple[Entry, ...]
    source: str = ""

    def entry_for(self, result_id: str, dtype: str) -> Entry | None:
        return next((e for e in self.entries if e.matches(result_id, dtype)), None)

    def apply(self, result: Result, dtype: str) -> Result:
        """``result`` judged against the list: a listed failure or timeout becomes "xfail", a
        listed pass "xpass" (a failure of the run), a listed skip keeps the listed reason
        (``expected_failure``); anything else is left as it is."""
        entry = self.entry_for(result.id, dtype)
        if entry is None or result.status in ("xfail", "xpass"):
            return result
        if result.status == "skip":           # listed but not run: the reason is kept
            return replace(result, expected_failure=entry.reason)
        if result.status == "pass":
            return replace(result, status="xpass", expected_failure=entry.reason, reason=(
                f"passed, but {entry.where} lists it as an expected failure ({entry.reason}): "
                f"remove the entry; [{result.reason}]"))
        return replace(result, status="xfail", expected_failure=entry.reason)

    def stale(self, results: Sequence[Result], dtype: str, ops: Iterable[str]) -> list[Entry]:
        """The entries that apply to this run but match none of its checks."""
        ops = list(ops)
        return [e for e in self.entries if e.applies_to(dtype, ops)
                and not any(e.matches(r.id, dtype) for r in results)]


def parse(text: str, source: str = "<xfail>") -> ExpectedFailures:
    """The entries of an expected-failures file's text; a ValueError names the line of an entry
    without a reason, with an unknown dtype or with a pattern no check id could match."""
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "" if raw.lstrip().startswith("#") else raw.strip()   # (a reason may hold #)
        if not line:
            continue
        where = f"{source}:{number}"
        pattern, _, reason = line.partition(" ")
        pattern, reason = pattern.strip(), reason.strip()
        if not reason:
            raise ValueError(f"{where}: {pattern!r} has no reason; every expected failure says "
                             f"why (PATTERN  REASON)")
        dtype = None
        head, colon, rest = pattern.partition(":")
        if colon:
            if head not in _DTYPES:
                raise ValueError(f"{where}: {head!r} is not a dtype ({', '.join(_DTYPES)}) to "
                                 f"restrict {rest!r} to")
            dtype, pattern = head, rest
        if not re.fullmatch(r"[\w*?]+\[[\w*?-]+\]|[\w*?]+", pattern):
            raise ValueError(f"{where}: {pattern!r} is not a check id or a pattern of one "
                             f"(e.g. lstm[gradient-golden-05], conv2d[*], float32:tanh[*])")
        if not _matches_an_op(pattern, OPS):
            raise ValueError(f"{where}: {pattern.split('[', 1)[0]!r} matches no op of the "
                             f"contract; the ops are {', '.join(OPS)}")
        entries.append(Entry(pattern, dtype, reason, where))
    return ExpectedFailures(tuple(entries), source)


def load(path: str | Path) -> ExpectedFailures:
    """The expected failures of the file at ``path`` (see the module's docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"--xfail: cannot read {path}: {exc.strerror or exc}") from None
    return parse(text, str(path))
