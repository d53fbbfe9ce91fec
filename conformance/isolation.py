"""Calling a backend so that nothing it does can crash the run: guards, timeouts, a subprocess.

Every call of a backend goes through ``invoke``, which turns whatever goes wrong into an Outcome
with a one-line reason, and the run goes on to the next check:

* it raises (any exception, SystemExit included) → "conv2d raised ValueError: ...";
* it returns something that is not an array: None, a list, a string (conformance.backends);
* it modifies an input array (or the upstream gradient) in place → "conv2d_backward modified its
  input dy in place ...", even when its values are right (convention.no-mutation);
* it runs longer than the timeout (``DEFAULT_TIMEOUT`` = 10 s per call, ``--timeout``) → "timed
  out", the Outcome status "timeout" (conformance.checks.CallLimits: the runner gives an op's
  first call more time and does not run its other checks after a timeout). In-process the limit
  is a SIGALRM timer, which interrupts Python code (loops, sleeps) in the main thread of a POSIX
  process; where there is none (Windows, another thread) the limit is not enforced in-process,
  and ``--isolate`` enforces it anywhere.

Wrong shapes, dtypes, nan and inf are judged against the expected values by the runner.

``Isolated`` runs the backend in a child process (``nnspec run --isolate``, POSIX): the child
(``python -m conformance.isolation``, with the parent's sys.path) loads the backend by its name
and serves calls over a socket pair of its own, so whatever the backend prints cannot disturb
it; a call that crashes the child (a segfault in a native extension, os.abort()) or outlives the
timeout (the child is killed) fails that check, and the next call starts a fresh child. The child
is a new interpreter, never a fork: the backend is imported anew there, not inherited
half-initialised, and the user's main module is not re-run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal

import numpy as np

from conformance.backends import (
    BackendError,
    BadOutput,
    Bound,
    NotImplementedByBackend,
    _one_line,
    load_backend,
)
from conformance.contract import OPS, Check, op_spec

__all__ = ["CRASHED", "DEFAULT_RUN_TIMEOUT", "DEFAULT_TIMEOUT", "TIMED_OUT", "CallTimeout",
           "Isolated", "Outcome", "call", "deadline", "deadlines", "invoke"]

DEFAULT_TIMEOUT = 10.0
"""Seconds a single backend call (one forward or one gradient) may take before it fails."""
DEFAULT_RUN_TIMEOUT = 1800.0
"""Seconds one backend × dtype run of ``nnspec matrix`` may take before it is killed
(``--run-timeout``; kept here so that ``nnspec run`` need not import conformance.matrix)."""

TIMED_OUT = "timed out after"
CRASHED = "crashed its process"
"""Words of the reasons of calls that never came back (property mode does not shrink them)."""

Arrays = Mapping[str, np.ndarray]


class CallTimeout(BaseException):
    """Raised into a backend call that outlives its time limit.

    A BaseException, so that a backend's own ``except Exception`` cannot swallow it.
    """


@dataclass(frozen=True)
class Outcome:
    """What one backend call gave: its values by name ("ok"), or why not ("skip", "fail", or
    "timeout": it outlived its time limit)."""

    status: Literal["ok", "skip", "fail", "timeout"]
    values: dict[str, np.ndarray] | None = None
    reason: str = ""
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()   # the numeric warnings the call emitted (RuntimeWarning)


def _expire(signum: int, frame: Any) -> None:
    raise CallTimeout


def _timers_work() -> bool:
    """Whether SIGALRM can reach a call here: a POSIX process's main thread."""
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


_held = False
"""Whether ``deadlines`` holds the SIGALRM handler installed for a block of calls."""


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise CallTimeout into the body once ``seconds`` have passed (SIGALRM; see the module
    docstring for where that is possible). ``None`` or 0: no limit."""
    if not seconds or not _timers_work():
        yield
    elif _held:                        # within ``deadlines``: the handler is installed already
        with _timer(seconds):
            yield
    else:
        with deadlines(), _timer(seconds):
            yield


@contextmanager
def _timer(seconds: float) -> Iterator[None]:
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def deadlines() -> Iterator[None]:
    """A block of many calls, each under its own ``deadline``: the SIGALRM handler is installed
    once for the block (and the previous one restored after it), so that each call only sets
    and clears its timer. Installing and restoring a handler costs more than a small op's
    call (signal.signal's conversions of handlers to and from enums). Nested blocks, and
    blocks where SIGALRM cannot reach a call, change nothing. (Between the block's calls no
    timer of nnspec's is armed; a SIGALRM from another timer would raise CallTimeout.)"""
    global _held
    if _held or not _timers_work():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expire)
    _held = True
    try:
        yield
    finally:
        _held = False
        signal.signal(signal.SIGALRM, previous)


def function_name(op: str, check: Check, style: str | None) -> str:
    """The backend function a check calls: ``conv2d``, ``conv2d_backward`` or ``vjp``."""
    if check == "forward":
        return op
    return "vjp" if style == "vjp" else op_spec(op).backward_name


UNCALLABLE = "cannot be called as the contract calls it"
"""What a call's reason says where the backend's function takes other arguments than the
contract passes (its own code never ran)."""


def _signature_problem(exc: TypeError, op: str, check: Check, fn: str) -> str | None:
    """The reason for a TypeError raised by the call itself (the function's own code never ran:
    it takes other arguments than the contract passes), or None for one raised inside it."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None or tb.tb_frame.f_code.co_name not in ("call_forward", "call_gradient"):
        return None
    spec = op_spec(op)
    expected = (spec.signature() if check == "forward" else "vjp(op, inputs, attrs, "
                "cotangents)" if fn == "vjp" else spec.backward_signature())
    return (f"{fn} {UNCALLABLE} ({_one_line(exc)}): nnspec "
            f"calls {expected}, arguments by position (nnspec explain {op})")


def _changed(before: Arrays, after: Arrays) -> list[str]:
    """The names of the arrays whose values differ (nan equal to nan)."""
    return [k for k in before if not _same(before[k], after[k])]


def _same(before: np.ndarray, after: Any) -> bool:
    """Whether ``after`` holds the values of ``before`` (nan equal to nan, -0.0 to 0.0)."""
    if (isinstance(after, np.ndarray) and after.shape == before.shape
            and after.dtype == before.dtype and after.tobytes() == before.tobytes()):
        return True                                   # the same bytes: the quick answer
    return bool(np.array_equal(before, after, equal_nan=True))


def invoke(bound: Bound, op: str, check: Check, inputs: Arrays, attrs: Mapping[str, Any],
           upstream: Arrays, timeout: float | None = DEFAULT_TIMEOUT) -> Outcome:
    """Call the backend's forward (or gradient) of ``op`` once, guarded; never raises for
    anything the backend does."""
    fn = function_name(op, check, bound.gradient_style(op))
    before = {k: np.array(v) for k, v in inputs.items()}
    before_up = {f"d{k}": np.array(v) for k, v in upstream.items()}
    start = time.perf_counter()

    def took() -> float:
        return time.perf_counter() - start

    try:
        with deadline(timeout), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")     # recorded for the check, not printed
            values = bound.values(check, op, inputs, attrs, upstream)
    except (NotImplementedByBackend, NotImplementedError) as exc:
        what = str(exc) or f"{bound.name} does not implement {op} ({check})"
        return Outcome("skip", reason=f"not implemented: {what}", seconds=took())
    except CallTimeout:
        return Outcome("timeout", reason=f"{fn} {TIMED_OUT} {timeout:g} s (the limit per call; "
                                      f"--timeout changes it)", seconds=took())
    except BadOutput as exc:
        return Outcome("fail", reason=str(exc), seconds=took())
    except TypeError as exc:
        return Outcome("fail", reason=_signature_problem(exc, op, check, fn) or
                       f"{fn} raised {_one_line(exc)}", seconds=took())
    except (Exception, SystemExit) as exc:  # the backend's own error: the run goes on
        return Outcome("fail", reason=f"{fn} raised {_one_line(exc)}", seconds=took())
    changed = _changed(before, inputs) + _changed(before_up, {f"d{k}": v
                                                              for k, v in upstream.items()})
    if changed:
        many = "s" if len(changed) > 1 else ""
        return Outcome("fail", reason=f"{fn} modified its input{many} {', '.join(changed)} in "
                                      f"place (nothing may change its inputs: "
                                      f"convention.no-mutation)", seconds=took())
    numeric = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught
                            if issubclass(w.category, RuntimeWarning))
    # the values as returned: a backend may hand back a buffer it changes on its next call
    values = {k: np.array(v, copy=True) for k, v in values.items()}
    return Outcome("ok", values=values, seconds=took(), warnings=tuple(numeric))


# ---------------------------------------------------------------- the subprocess
Capabilities = dict[str, tuple[bool, str | None]]


def _capabilities(bound: Bound) -> Capabilities:  # pragma: no cover - runs in the child
    return {op: (bound.forward_fn(op) is not None, bound.gradient_style(op)) for op in OPS}


def _serve(conn: Connection, target: str, device: str | None) -> None:  # pragma: no cover
    """The child: load the backend, say what it implements, then answer calls until told to
    stop. (Runs in the child process, where coverage does not follow.) Ctrl-C is the parent's
    to handle: it stops the run and closes the child."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        bound = load_backend(target, device=device)
    except BaseException as exc:
        conn.send(("error", _one_line(exc)))
        return
    declared = bound.declared           # a mapping pickles; anything else is sent as its repr
    if declared is not None and not isinstance(declared, Mapping):  # (refused in the parent)
        declared = repr(declared)
    conn.send(("ready", bound.name, bound.version, _capabilities(bound),
               None if declared is None else dict(declared) if isinstance(declared, Mapping)
               else declared))
    while True:
        try:
            message = conn.recv()
        except EOFError:                  # the parent is gone
            return
        if message is None:
            return
        op, check, inputs, attrs, upstream = message
        conn.send(invoke(bound, op, check, inputs, attrs, upstream, timeout=None))


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            return f"killed by signal {-code}"
        return f"killed by {sig.name} ({signal.strsignal(sig) or sig.name})"
    return f"exited with status {code}"


class Isolated:
    """A backend in a child process: the same calls as a Bound, crashes and hangs contained.

    ``target`` is a backend name (as for load_backend). Loading it in the child fails with a
    BackendError here; ``start_timeout`` bounds how long loading may take.
    """

    name: str
    version: str
    capabilities: Capabilities
    declared: Any
    """The backend's ``conventions`` attribute as the child found it (see Bound.declared)."""

    def __init__(self, target: str, *, device: str | None = None,
                 start_timeout: float = 120.0) -> None:
        self.target = target
        self.device = device
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self.restarts = 0
        self._busy = False                # a call was sent and its answer not read (Ctrl-C)
        self._start()

    # ------------------------------------------------------------ life cycle
    def _start(self) -> None:
        parent_sock, child_sock = socket.socketpair()
        parent = Connection(parent_sock.detach())
        fd = child_sock.fileno()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p or os.getcwd() for p in sys.path)}
        command = [sys.executable, "-m", "conformance.isolation", str(fd), self.target,
                   self.device or ""]
        process = subprocess.Popen(command, pass_fds=(fd,), env=env, stdin=subprocess.DEVNULL)
        child_sock.close()
        if not parent.poll(self.start_timeout):
            process.kill()
            process.wait()
            parent.close()
            raise BackendError(f"backend {self.target!r} did not load within "
                               f"{self.start_timeout:g} s in its process")
        try:
            hello = parent.recv()
        except EOFError:
            process.wait()
            parent.close()
            raise BackendError(f"backend {self.target!r} crashed while loading in its process "
                               f"({_describe_exit(process.returncode)})") from None
        if hello[0] == "error":
            process.wait()
            parent.close()
            raise BackendError(f"cannot load backend {self.target!r} in its process: "
                               f"{hello[1]}")
        _, self.name, self.version, self.capabilities, self.declared = hello
        self._process, self._conn = process, parent

    def _stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        if self._process is not None:
            self._process.wait()
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None
        self._busy = False

    def close(self) -> None:
        """Stop the child process (at once if a call of it was interrupted)."""
        if self._conn is not None and self._process is not None and not self._busy and (
                self._process.poll() is None):
            try:
                self._conn.send(None)
                self._process.wait(5)
            except (BrokenPipeError, OSError,
                    subprocess.TimeoutExpired):  # pragma: no cover - the child died meanwhile
                pass
        self._stop()

    def __enter__(self) -> Isolated:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ what Bound offers
    def forward_fn(self, op: str) -> bool | None:
        return True if self.capabilities[op][0] else None

    def gradient_style(self, op: str) -> str | None:
        return self.capabilities[op][1]

    def invoke(self, op: str, check: Check, inputs: Arrays, attrs: Mapping[str, Any],
               upstream: Arrays, timeout: float | None = DEFAULT_TIMEOUT) -> Outcome:
        """One call in the child; a crash or a timeout fails it and restarts the child."""
        if self._conn is None:
            self.restarts += 1
            self._start()
        assert self._conn is not None and self._process is not None
        fn = function_name(op, check, self.gradient_style(op))
        start = time.perf_counter()
        self._conn.send((op, check, dict(inputs), dict(attrs), dict(upstream)))
        self._busy = True
        if not self._conn.poll(timeout):
            self._stop()
            return Outcome("timeout", reason=f"{fn} {TIMED_OUT} {timeout:g} s (its process "
                                          f"was killed; --timeout changes the limit)",
                           seconds=time.perf_counter() - start)
        try:
            outcome: Outcome = self._conn.recv()
        except EOFError:
            code = self._process.wait()
            self._stop()
            return Outcome("fail", reason=f"{fn} {CRASHED}: {_describe_exit(code)}; "
                                          f"the run goes on in a new one",
                           seconds=time.perf_counter() - start)
        self._busy = False
        return outcome


if __name__ == "__main__":  # pragma: no cover - the child process of Isolated
    from conformance.isolation import _serve as serve  # Outcome pickles as this module's

    serve(Connection(int(sys.argv[1])), sys.argv[2], sys.argv[3] or None)


def call(target: Bound | Isolated, op: str, check: Check, inputs: Arrays,
         attrs: Mapping[str, Any], upstream: Arrays,
         timeout: float | None = DEFAULT_TIMEOUT) -> Outcome:
    """One guarded call of a backend, in this process (a Bound) or in its child (Isolated)."""
    if isinstance(target, Isolated):
        return target.invoke(op, check, inputs, attrs, upstream, timeout)
    return invoke(target, op, check, inputs, attrs, upstream, timeout)
