"""Purpose-built faulty backends for the robustness tests of the conformance harness: one
backend per fault.

Each breaks ``relu`` (on every case, or on the one 3-D golden case, as said) and keeps ``tanh``
right, so that a run over both shows the failure and the run going on. Plain NumPy and
module-level objects, so that an isolated run's child imports one quickly by name (e.g.
``spec_tests.conformance_faults:segfaults``). The backends making well-known mistakes, for the
diagnosis tests, are in spec_tests/conformance_mistakes.py.
"""

from __future__ import annotations

import ctypes
import os
import time
import types
from typing import Any

import numpy as np


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    return dy * (x > 0)


def _with_relu(relu: Any, relu_backward: Any = _relu_backward) -> types.SimpleNamespace:
    """A backend whose relu is faulty and whose tanh is right."""
    return types.SimpleNamespace(relu=relu, relu_backward=relu_backward, tanh=np.tanh,
                                 tanh_backward=lambda dy, x: dy * (1 - np.tanh(x) ** 2))


# ---------------------------------------------------------------- robustness: one per fault
def _raise(x: np.ndarray) -> np.ndarray:
    raise RuntimeError("boom")


def _exit(x: np.ndarray) -> np.ndarray:
    raise SystemExit(3)


def _sleep_on_3d(x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        time.sleep(60)
    return _relu(x)


def _spin_on_3d(x: np.ndarray) -> np.ndarray:
    """Hangs in a busy loop that swallows every Exception (the timeout is not one)."""
    while x.ndim == 3:
        try:
            time.sleep(0.01)
        except Exception:
            pass
    return _relu(x)


def _mutate_x(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def _mutate_dy(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    dy[x <= 0] = 0.0                       # the classic in-place backward
    return dy


def _nan_first(x: np.ndarray) -> np.ndarray:
    y = _relu(x)
    y.flat[0] = np.nan
    y.flat[-1] = np.inf
    return y


def _segfault_on_3d(x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        ctypes.string_at(0)                # reads address 0: SIGSEGV
    return _relu(x)


def _abort_on_3d(x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        os.abort()
    return _relu(x)


raises = _with_relu(_raise)
exits = _with_relu(_exit)
returns_none = _with_relu(lambda x: None)
returns_list = _with_relu(lambda x: _relu(x).tolist())
returns_string = _with_relu(lambda x: "relu")
wrong_shape = _with_relu(lambda x: _relu(x).ravel()[:1])
returns_float32 = _with_relu(lambda x: _relu(x).astype(np.float32))
returns_integers = _with_relu(lambda x: _relu(x).astype(np.int64))
non_finite = _with_relu(_nan_first)
mutates_input = _with_relu(_mutate_x)
mutates_upstream = _with_relu(_relu, _mutate_dy)
sleeps = _with_relu(_sleep_on_3d)
spins = _with_relu(_spin_on_3d)
segfaults = _with_relu(_segfault_on_3d)
aborts = _with_relu(_abort_on_3d)


def _exit_hard_on_3d(x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        os._exit(3)                        # no exception, no cleanup: the process just ends
    return _relu(x)


exits_hard = _with_relu(_exit_hard_on_3d)
step_in_float16 = types.SimpleNamespace(step=lambda x: (x >= 0).astype(np.float16))
