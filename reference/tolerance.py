"""The tolerance policy: how close two computations of the same thing must be (one place).

Every numerical comparison in nnspec (spec tests against SymPy, PyTorch and finite differences;
the conformance harness against any backend) takes its tolerance from here.

The model
---------
A computation in a floating dtype with unit roundoff ``u = eps / 2`` that sums ``terms`` products
(a dot product of length D, a conv window of C·FH·FW taps) commits a relative error that grows
like ``√terms · u`` for the blocked/pairwise sums BLAS and NumPy use; a recurrence of ``depth``
steps (an RNN over T time steps, a network of L layers) compounds it roughly linearly; and a
gradient goes through about twice the operations of its forward pass and divides by nothing
small, so it gets a factor of 4. With a safety constant ``C = 64``::

    rtol = C · u · (1 + √terms) · depth · (4 if gradient else 1)
    atol = rtol

and an element passes when ``|actual − expected| ≤ atol · scale + rtol · |expected|``, where
``scale = max(1, max|expected|)`` keeps elements that cancel to (almost) zero from failing on
relative error alone. Examples (checked by spec_tests/test_tolerance.py)::

    >>> round(tolerance("float64").rtol, 16)                            # one term
    1.42e-14
    >>> round(tolerance("float64", terms=16 * 3 * 3).rtol, 16)           # a 16·3·3 conv window
    9.24e-14
    >>> round(tolerance("float32", terms=16 * 3 * 3).rtol, 7)            # the same, float32
    4.96e-05
    >>> round(tolerance("float32", terms=20, depth=12, gradient=True).rtol, 5)  # LSTM, T = 12
    0.001

Slide examples use exact arithmetic on small integers, so their tolerance is zero (``EXACT``);
finite differences are compared with ``FINITE_DIFFERENCE`` (central differences with step 1e-6
are good to about 1e-9 relative in float64; the policy allows 1e-6).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

__all__ = [
    "EXACT",
    "FINITE_DIFFERENCE",
    "SAFETY",
    "Comparison",
    "Tolerance",
    "assert_close",
    "compare",
    "tolerance",
    "within_tolerance",
]

SAFETY = 64.0
"""The constant C of the model above."""


@dataclass(frozen=True)
class Tolerance:
    """How far ``actual`` may be from ``expected``: ``|a − e| ≤ atol·scale + rtol·|e|``."""

    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol={self.rtol:.2g}, atol={self.atol:.2g}"


EXACT = Tolerance(rtol=0.0, atol=0.0)
FINITE_DIFFERENCE = Tolerance(rtol=1e-6, atol=1e-7)


def tolerance(
    dtype: DTypeLike = np.float64, *, terms: int = 1, depth: int = 1, gradient: bool = False
) -> Tolerance:
    """The tolerance for a result in ``dtype`` that sums ``terms`` products over ``depth`` steps.

    Parameters
    ----------
    dtype : a floating dtype (float16, float32, float64) or its name.
    terms : how many products the largest sum in the computation adds (≥ 1).
    depth : how many dependent steps the computation chains (layers, time steps; ≥ 1).
    gradient : True for a gradient (vector-Jacobian product), False for a forward value.
    """
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"tolerance: dtype must be a floating dtype, got {dt}")
    if terms < 1 or depth < 1:
        raise ValueError(f"tolerance: terms and depth must be ≥ 1, got {terms} and {depth}")
    return _tolerance(dt, terms, depth, gradient)


@functools.lru_cache(maxsize=4096)
def _tolerance(dt: np.dtype, terms: int, depth: int, gradient: bool) -> Tolerance:
    """The model's tolerance, computed once for each question (a check asks it per case)."""
    u = float(np.finfo(dt).eps) / 2.0
    rtol = SAFETY * u * (1.0 + math.sqrt(terms)) * depth * (4.0 if gradient else 1.0)
    return Tolerance(rtol=rtol, atol=rtol)


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing an array with its expected value, passing or not.

    ``error_ratio`` is the largest ``|a − e| / (atol·scale + rtol·|e|)``: ≤ 1 passes; it says how
    close to the line a pass was and how far over it a failure went.
    """

    ok: bool
    max_abs_error: float
    max_rel_error: float
    error_ratio: float
    worst_index: tuple[int, ...] | None
    actual_at_worst: float | None
    expected_at_worst: float | None
    tolerance: Tolerance
    reason: str = ""

    def describe(self) -> str:
        """One line: pass/fail, the achieved error, the tolerance and the worst element."""
        if self.reason:
            return self.reason
        where = ""
        if self.worst_index is not None:
            # (+ 0.0: a −0.0, as dy·0 gives where dy < 0, prints as the 0 it equals)
            got, want = (float(v or 0.0) + 0.0 for v in (self.actual_at_worst,
                                                         self.expected_at_worst))
            where = f" at index {self.worst_index} (got {got:.17g}, expected {want:.17g})"
        verdict = "within" if self.ok else "exceeds"
        # relative errors are measured where 0 is not expected: if every error sits on an
        # expected 0, there is none to show
        rel = (f"{self.max_rel_error:.3g}" if self.max_rel_error or not self.max_abs_error
               else "undefined (every error is where 0 is expected)")
        return (
            f"max abs error {self.max_abs_error:.3g}, max rel error {rel}"
            f" {verdict} {self.tolerance}{where}"
        )


def _errors(a: np.ndarray, e: np.ndarray, tol: Tolerance,
            scale: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``|a − e|`` (0 where an infinity meets itself, inf where a nan is involved), the allowed
    error ``atol·scale + rtol·|e|`` and ``|e|`` (0 where e is not finite), element by element."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e)
    finite_e = np.abs(e)
    if not math.isfinite(diff.max()):       # an inf or a nan in a or e (or a − e overflowed)
        diff = np.where((~np.isfinite(e)) & (a == e), 0.0, diff)   # inf == inf agrees
        diff = np.where(np.isnan(diff), np.inf, diff)                # nan never agrees
        finite_e = np.where(np.isfinite(e), finite_e, 0.0)
    if scale is None:
        scale = max(1.0, float(finite_e.max()))
    return diff, tol.atol * scale + tol.rtol * finite_e, finite_e


def within_tolerance(actual: Any, expected: Any, tol: Tolerance, *,
                     scale: float | None = None) -> np.ndarray:
    """Element by element, whether ``actual`` passes: ``|a − e| ≤ atol·scale + rtol·|e|``.

    The rule of ``compare`` (an infinity agrees only with itself, a nan with nothing), as a
    boolean array of the common shape. ``scale`` defaults to ``max(1, max|expected|)`` over the
    finite elements; pass the whole array's when ``expected`` is a part of it.

    >>> within_tolerance([1.0, 2.6, np.nan], [1.0, 2.0, 3.0], Tolerance(0.1, 0.1)).tolist()
    [True, False, False]
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ValueError(f"within_tolerance: actual has shape {a.shape}, expected has shape "
                         f"{e.shape}; they must agree")
    if a.size == 0:
        return np.ones(a.shape, dtype=bool)
    diff, allowed, _ = _errors(a, e, tol, scale)
    return diff <= allowed


def compare(actual: Any, expected: Any, tol: Tolerance) -> Comparison:
    """Compare element by element under ``tol``; shapes must agree, nan/inf must agree exactly.

    An element passes as ``within_tolerance`` says; this adds the largest errors and the worst
    element.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return Comparison(
            ok=False, max_abs_error=float("inf"), max_rel_error=float("inf"),
            error_ratio=float("inf"), worst_index=None, actual_at_worst=None,
            expected_at_worst=None, tolerance=tol,
            reason=f"shape {a.shape}, but should be {e.shape}",
        )
    if a.size == 0:
        return Comparison(True, 0.0, 0.0, 0.0, None, None, None, tol)
    diff, allowed, finite_e = _errors(a, e, tol, None)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # (inf is the answer)
        ratio = diff / allowed
        if not allowed.min() > 0.0:                     # where nothing is allowed,
            ratio = np.where(diff == 0.0, 0.0, ratio)   # no error is no error (not 0 / 0)
        # relative error where the expected value is not zero (it is undefined at zero)
        rel = np.where(finite_e == 0.0, 0.0, diff / finite_e)
    flat = int(ratio.argmax())
    worst = tuple(int(i) for i in np.unravel_index(flat, e.shape))
    max_ratio = float(ratio.flat[flat])
    return Comparison(
        ok=bool((diff <= allowed).all()),
        max_abs_error=float(diff.max()),
        max_rel_error=float(rel.max()),
        error_ratio=max_ratio,
        worst_index=worst if e.ndim else (),
        actual_at_worst=float(a.flat[flat]),
        expected_at_worst=float(e.flat[flat]),
        tolerance=tol,
    )


def assert_close(actual: Any, expected: Any, tol: Tolerance | None = None, *,
                 what: str = "") -> None:
    """Raise AssertionError, naming ``what`` and the worst element, unless ``actual ≈ expected``.

    ``tol`` defaults to the float64 forward tolerance for a single term.
    """
    result = compare(actual, expected, tol if tol is not None else tolerance(np.float64))
    if not result.ok:
        prefix = f"{what}: " if what else ""
        raise AssertionError(prefix + result.describe())
