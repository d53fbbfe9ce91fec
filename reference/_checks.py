"""Input checks shared by every public function of the reference (CONVENTIONS: Errors).

Bad input gets a ``ValueError`` or ``TypeError`` whose message starts with the function's name,
names the argument, says what it got and what was expected::

    conv2d: kernel has 3 input channels but x has 4 (x.shape = (2, 4, 8, 8), w.shape = (6, 3, 3, 3))

The checks are written once, here; modules call them at their public entry points. They never
mutate or silently reshape what they are given. Accepted arrays are returned as new float64
arrays (the reference computes in float64), so callers may not write into their inputs by mistake.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "FloatArray",
    "IntArray",
    "as_float_array",
    "as_index_array",
    "as_named_arrays",
    "as_sequence",
    "as_state",
    "check_shape",
    "fail",
    "nonnegative_pair",
    "positive_int",
    "positive_number",
    "positive_pair",
    "rng_from",
]


def fail(func: str, message: str) -> ValueError:
    """Return (for ``raise``) a ValueError whose message reads ``func: message``."""
    return ValueError(f"{func}: {message}")


def one_of(func: str, name: str, value: Any, options: tuple[Any, ...]) -> Any:
    """``value`` if it is one of ``options``, else a ValueError naming the argument and them."""
    if isinstance(value, bool) or value not in options:
        raise fail(func, f"{name} must be one of {', '.join(map(repr, options))}, got "
                         f"{_describe(value)}")
    return value


def subgradient(func: str, name: str, value: Any) -> float:
    """A slope at a kink: a real number in [0, 1] (any such is a subgradient there)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1:
        raise fail(func, f"{name} must be a slope in [0, 1] (a subgradient at the kink), got "
                         f"{_describe(value)}")
    return float(value)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__} {value!r}"[:120]


def as_float_array(
    func: str,
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    finite: bool = False,
) -> FloatArray:
    """``value`` as a read-only float64 array, or a clear error.

    Accepts real numbers (bool excluded), integer and floating arrays and nested lists of them.
    Rejects booleans, complex numbers, strings and objects with TypeError; a wrong number of
    dimensions with ValueError; with ``finite=True``, nan or inf with ValueError.

    A float64 input is not copied: the result is a read-only view of it, so that the reference
    cannot write into its caller's arrays (an attempt raises ``ValueError: assignment destination
    is read-only``) and pays nothing for the guarantee. Other dtypes are converted into a new
    array, read-only as well. Code that needs a scratch array copies explicitly.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{func}: {name} must be a real array, got {_describe(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(
            f"{func}: {name} must be a real array, got {_describe(value)} ({exc})"
        ) from None
    if arr.dtype.kind not in "iuf":                    # signed, unsigned or floating
        raise TypeError(
            f"{func}: {name} must hold real numbers (integer or floating dtype), "
            f"got {_describe(value)}"
        )
    out: FloatArray = arr.astype(np.float64, copy=False)
    out = out.view() if out is value else out
    out.flags.writeable = False
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if out.ndim not in allowed:
            wanted = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"{func}: {name} must be {wanted}, got {out.ndim}-D with shape {out.shape}"
            )
    if finite and not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(
            f"{func}: {name} must be finite, got {out[where] if where else out.item()} "
            f"at index {where} (shape {out.shape})"
        )
    return out


def as_index_array(
    func: str, name: str, value: Any, *, ndim: int | Sequence[int] | None = None, size: int
) -> IntArray:
    """``value`` as a new int64 array of ids in ``[0, size)``, or a clear error."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{func}: {name} must be an integer array, got {_describe(value)}")
    arr = np.array(value, copy=True)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{func}: {name} must hold integer ids, got {_describe(value)}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            wanted = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"{func}: {name} must be {wanted}, got {arr.ndim}-D with shape {arr.shape}"
            )
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise ValueError(f"{func}: {name} holds id {int(bad)}, outside [0, {size})")
    out: IntArray = arr.astype(np.int64, copy=False)
    return out


def as_named_arrays(func: str, name: str, value: Any, names: Sequence[str],
                    ndim: Mapping[str, int] | None = None) -> dict[str, FloatArray]:
    """A mapping that holds exactly ``names`` (a model's parameters), each as a finite float64
    array (of ``ndim[k]`` dimensions when given); shapes are the caller's to check.

    Not a mapping: TypeError; other names than ``names``: ValueError listing both.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"{func}: {name} must be a mapping of exactly {list(names)} to arrays, "
                        f"got {type(value).__name__}")
    if set(value) != set(names):
        raise ValueError(f"{func}: {name} must map exactly {list(names)} to arrays, got "
                         f"{sorted(value)}")
    return {k: as_float_array(func, f"{name}[{k!r}]", value[k],
                              ndim=None if ndim is None else ndim[k], finite=True)
            for k in names}


def check_shape(func: str, name: str, arr: NDArray[Any], expected: tuple[int | None, ...],
                why: str = "") -> None:
    """Raise ValueError unless ``arr.shape`` matches ``expected`` (None matches any size)."""
    ok = arr.ndim == len(expected) and all(
        e is None or s == e for s, e in zip(arr.shape, expected)
    )
    if not ok:
        shown = "(" + ", ".join("*" if e is None else str(e) for e in expected) + (
            ",)" if len(expected) == 1 else ")"
        )
        tail = f" ({why})" if why else ""
        raise ValueError(f"{func}: {name} must have shape {shown}, got {arr.shape}{tail}")


def as_sequence(func: str, name: str, value: Any) -> FloatArray:
    """``value`` as a non-empty time-major sequence [T, N, D] (T, N, D ≥ 1) of finite values.

    The one check of a recurrent network's input sequence (reference.rnn, reference.lstm,
    reference.gru): 3-D, no empty axis, no nan or inf (CONVENTIONS: never a nan).
    """
    x = as_float_array(func, name, value, ndim=3, finite=True)
    if 0 in x.shape:
        raise fail(func, f"{name} must be a non-empty sequence [T, N, D] with T, N, D ≥ 1, "
                         f"got shape {x.shape}")
    return x


def as_state(func: str, name: str, value: Any, N: int, H: int) -> FloatArray:
    """``value`` as a finite recurrent state [N, H] (an initial or previous state, or its
    gradient), or a clear error naming N and H."""
    arr = as_float_array(func, name, value, ndim=2, finite=True)
    check_shape(func, name, arr, (N, H), f"N = {N}, H = {H}")
    return arr


def positive_int(func: str, name: str, value: Any) -> int:
    """``value`` as an int ≥ 1, or a clear error (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an integer, got {_describe(value)}")
    if value < 1:
        raise ValueError(f"{func}: {name} must be at least 1, got {value}")
    return int(value)


def positive_number(func: str, name: str, value: Any) -> float:
    """``value`` as a finite float > 0, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a real number, got {_describe(value)}")
    if not np.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{func}: {name} must be a finite number > 0, got {value}")
    return float(value)


def _pair(func: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2:
        raise ValueError(
            f"{func}: {name} must be an int or a pair (vertical, horizontal), got {value!r}"
        )
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{func}: {name} must hold integers, got {value!r}")
        if v < minimum:
            raise ValueError(f"{func}: {name} must be at least {minimum} per axis, got {value!r}")
    return int(items[0]), int(items[1])


def positive_pair(func: str, name: str, value: Any) -> tuple[int, int]:
    """A per-axis (vertical, horizontal) setting ≥ 1 such as a stride; an int means both axes."""
    return _pair(func, name, value, 1)


def nonnegative_pair(func: str, name: str, value: Any) -> tuple[int, int]:
    """A per-axis (vertical, horizontal) setting ≥ 0 such as a padding; an int means both axes."""
    return _pair(func, name, value, 0)


def rng_from(func: str, rng: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a Generator or an int seed; there is no global RNG."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{func}: rng must be a numpy.random.Generator or an int seed, got {_describe(rng)}"
    )
