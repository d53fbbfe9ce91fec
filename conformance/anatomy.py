"""Error anatomy: where and how the numbers of a failing array are wrong (issue #11, section 2).

For every array of a failing check, ``anatomy`` compares what the backend returned with what was
expected, element by element under the check's tolerance (an element is wrong where
reference.tolerance.within_tolerance, the rule of ``compare``, says it fails), and describes the
wrong elements in one line and in tags of the shared vocabulary (DIAGNOSIS_VOCAB.md)::

    dx wrong at 12/48 elements, all on the border rows/cols; interior exact
    dw_ih wrong only in gate block f (rows 16–31); other blocks exact; ×2 there

WHERE tags hold for every wrong element, and a location only when the rest of the array is not
empty (so "border" needs a non-empty interior, and that interior is exact):

==================  ==========================================================================
everywhere          every element is wrong, or every element whose expected value is not 0
border, interior    images [N, C, H, W] (axes 2, 3) and sequences [N, C, L] (axis 2) of the
                    convolution and pooling ops: only on the first/last rows/cols, or only off
                    them
x==0                step, sigmoid, tanh, relu: only where the input x is exactly 0
x<0, x>0            the activations' y and dx, and the pools' dx: only where the input x is
                    negative (positive), when three or more elements are wrong
ties                max_pool2d: only in windows whose maximum is tied (dx: inputs inside such a
                    window; y: such windows' outputs)
kink                max_margin: only where Δ + s_c − s == 0
large               only where |x| > 20 (step, sigmoid, tanh, relu); only in rows (last axis)
                    holding an |x| > 20 (softmax, cross_entropy's logits)
gate:<g>            stacked LSTM (i, f, g, o) / GRU (r, z, n) weights and biases: only in the
                    rows of gate block g (several: "gate:f,o")
step:first/last     recurrent [T, N, ·] arrays (x, out): only at t = 0 / t = T − 1
grows-with-t        recurrent [T, N, ·] arrays: the wrong steps are consecutive, at least 3, and
                    the largest error of each grows step by step (by more than the tolerance)
                    towards the last step, or back towards the first
rows:<list>         only in these batch rows (axis 0 of an array of two axes or more; axis 1 of
                    time-major [T, N, ·] arrays), or rows of a weight (linear's w, embedding's
                    E, an RNN's w_ih/w_hh, conv's kernels); not for stacked gate weights (their
                    rows are the gate blocks') nor vectors
channels:<list>     only in these channels (axis 1 of [N, C, ...] images and sequences, and of
                    conv kernels [K, C, ...])
offset:<F>:<list>   a convolution's dw: only at these kernel offsets along FH, FW (conv2d) or
                    F (conv1d)
==================  ==========================================================================

HOW tags are relations that hold within the tolerance on all wrong elements (never on fewer than
two, since any one number is a multiple of any other):

==================  ==========================================================================
factor:<c>          got = c · expected (c by least squares, then checked; printed 2, 1/2, -1,
                    0.7312, all digits when only close to a whole number); -1 is also "sign"
offset:<c>          got − expected is one constant c (4 significant digits)
zeros               got is 0 where expected is not
row-factor          a constant factor per row (the rows of "rows:"), not the same in all rows
transpose           got = expectedᵀ (2-D; also a stacked weight's gate blocks, each transposed,
                    and a non-square array returned in the transposed shape)
block-permutation   the gate blocks of a stacked weight, in another order
shift:<axis>:<±k>   got[..., i, ...] = expected[..., i − k, ...] along a spatial or time axis,
                    k = ±1 or ±2 (the k elements shifted in at an edge have no source and are not
                    checked; at least two that do are)
nonfinite           nan or inf where finite values are expected (no other relation then)
shape               another shape (no element tags then); with it "transpose", "size-1-axes"
                    (the right values with axes of size 1 dropped or added), "reshaped" (the
                    right values in row-major order, another shape) or "empty" (an axis of
                    size 0)
==================  ==========================================================================

A relation is checked under the check's own tolerance, but never tighter than a few float64
ulps, so that an exact (slide) tolerance still recognises ``e / 3`` as a factor 1/3. The text
says "exact" of elements within the tolerance, and nothing the numbers do not show: it starts
with the count and the first place (or, for a single element, got and expected), then the other
places and the relations, and leaves out what does not fit in 160 characters (other places
first).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from conformance.contract import OPS, axis_letters
from reference.tolerance import Tolerance, within_tolerance

__all__ = ["LARGE", "Anatomy", "anatomies", "anatomy"]

LARGE = 20.0
"""An input is "large" for the tag "large" when |x| exceeds this."""

GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
"""The stacked gate blocks of the recurrent ops, in the order of their rows (PyTorch's)."""

_ELEMENTWISE = frozenset({"step", "sigmoid", "tanh", "relu"})
_IMAGES = frozenset({"conv2d", "conv1d", "max_pool2d", "avg_pool2d", "lp_pool2d"})
_RECURRENT = frozenset({"rnn", "lstm", "gru"})
_FLOOR = 8 * float(np.finfo(np.float64).eps)
"""The least tolerance a relation is checked with (a few float64 ulps)."""
_MAX_TEXT = 160


@dataclass(frozen=True)
class Anatomy:
    """Where and how one array is wrong: counts, vocabulary tags and one line of text.

    ``detail`` holds the numbers behind the tags (JSON-ready): ``first`` (the first wrong index),
    and as they apply ``sides`` (of a border), ``factor``, ``offset``, ``row_factors``, ``gates``
    with their ``gate_rows``, ``rows``, ``channels``, ``steps``, ``step_errors``, ``shift``,
    ``permutation``, ``nan``, ``inf``, ``shape``, ``expected_shape``.
    """

    array: str
    wrong: int
    total: int
    where: tuple[str, ...]
    how: tuple[str, ...]
    text: str
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The anatomy for a JSON report: array, wrong, total, where, how, text and detail."""
        return {"array": self.array, "wrong": self.wrong, "total": self.total,
                "where": list(self.where), "how": list(self.how), "text": self.text,
                **self.detail}


# ---------------------------------------------------------------- numbers in words
def _whole(k: float) -> int | None:
    """k as a whole number ≥ 1 (within 1e-6 relative), or None."""
    n = round(k)
    return n if n >= 1 and abs(k - n) <= 1e-6 * k else None


def _nice(c: float) -> float | None:
    """c as ±k or ±1/k for a whole k ≥ 1 (within 1e-6 relative), or None (also for 0)."""
    if c == 0 or not np.isfinite(c):
        return None
    sign = -1.0 if c < 0 else 1.0
    k = _whole(abs(c))
    if k is not None:
        return sign * k
    k = _whole(1.0 / abs(c))
    return None if k is None else sign / k


def _factor(c: float) -> str:
    """``2``, ``1/4``, ``−1`` or ``0.7312``: a factor as the lecture writes it."""
    nice = _nice(c)
    if nice is None:
        return f"{c:.4g}"
    sign = "−" if c < 0 else ""
    return sign + (f"{round(abs(nice))}" if abs(nice) >= 1 else f"1/{round(1 / abs(nice))}")


def _shown(c: float) -> str:
    """A factor found in the data: as ``_factor`` writes it, but with all its digits when it is
    only close to a whole number or its inverse (``2.0000015``, not ``2``)."""
    return _factor(c) if _nice(c) in (None, c) else f"{c:.10g}"


def _tag_number(c: float) -> str:
    """A factor for a tag: as ``_shown`` writes it, with an ASCII minus (``-1``, ``1/2``)."""
    return _shown(c).replace("−", "-")


def _ranges(indices: Sequence[int], limit: int = 6) -> str:
    """``0, 2, 5–9`` (at most ``limit`` pieces, then ``…``)."""
    pieces: list[str] = []
    run: list[int] = []
    for i in [*indices, None]:
        if run and (i is None or i != run[-1] + 1):
            pieces.append(str(run[0]) if len(run) == 1 else
                          f"{run[0]}, {run[1]}" if len(run) == 2 else f"{run[0]}–{run[-1]}")
            run = []
        if i is not None:
            run.append(i)
    text = ", ".join(pieces[:limit])
    return text + (", …" if len(pieces) > limit else "")


def _signed(c: float) -> str:
    """``+0.3``, ``−1`` (4 significant digits)."""
    return f"{c:+.4g}".replace("-", "−")


def _values(got: float, expected: float) -> str:
    """``got 1.50000012, expected 1.5``: as many digits as it takes to tell them apart."""
    for digits in range(6, 18):
        g, e = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if g != e:
            break
    return f"got {g}, expected {e}"


def _plural(n: int, word: str) -> str:
    return f"{word}s" if n != 1 else word


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape))


# ---------------------------------------------------------------- the op's layout
@dataclass(frozen=True)
class _Layout:
    """What the axes of one array mean, from the op's contract (CONVENTIONS' layouts)."""

    spatial: tuple[int, ...] = ()     # border/interior and shifts (images, conv1d sequences)
    time: int | None = None           # time-major recurrent arrays [T, N, ·]
    rows: int | None = None           # the axis of "rows:" and "row-factor"
    rows_word: str = "batch row"      # what one index of that axis is
    channels: int | None = None       # the axis of "channels:"
    gates: tuple[str, ...] = ()       # stacked gate blocks along axis 0, ``block`` rows each
    block: int = 0


def _layout(op: str, name: str, shape: tuple[int, ...],
            inputs: Mapping[str, np.ndarray]) -> _Layout:
    """The layout of the op's array ``name`` (its contract name, without the "d")."""
    ndim = len(shape)
    if op in _RECURRENT:
        if name in ("x", "out") and ndim == 3:
            return _Layout(time=0, rows=1)
        gates = GATES.get(op, ())
        h0 = inputs.get("h0")
        if name in ("w_ih", "w_hh", "b_ih", "b_hh") and gates and h0 is not None:
            h = int(np.shape(h0)[1])
            if ndim >= 1 and shape[0] == len(gates) * h:
                return _Layout(gates=gates, block=h)
        if name in ("w_ih", "w_hh"):
            return _Layout(rows=0, rows_word="row")
    if op in _IMAGES:
        if name == "w" and ndim >= 3:
            return _Layout(rows=0, rows_word="kernel", channels=1)
        if name in ("x", "y") and ndim >= 3:
            return _Layout(spatial=tuple(range(2, ndim)), rows=0, channels=1)
    if name in ("w", "E") and ndim == 2:
        return _Layout(rows=0, rows_word="row")
    if name in ("b", "b_ih", "b_hh") or ndim < 2:
        return _Layout()
    return _Layout(rows=0)


# ---------------------------------------------------------------- one array's analysis
@dataclass
class _Array:
    """One failing array: got and expected (float64), which elements are wrong, and the rest."""

    op: str
    name: str
    array: str
    got: np.ndarray
    expected: np.ndarray
    tol: Tolerance
    inputs: Mapping[str, np.ndarray]
    attrs: Mapping[str, Any]
    layout: _Layout
    wrong: np.ndarray = field(init=False)
    scale: float = field(init=False)
    relation_tol: Tolerance = field(init=False)
    detail: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.wrong = ~within_tolerance(self.got, self.expected, self.tol)
        finite = self.expected[np.isfinite(self.expected)]
        self.scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
        self.relation_tol = Tolerance(max(self.tol.rtol, _FLOOR), max(self.tol.atol, _FLOOR))

    def fits(self, model: np.ndarray, got: np.ndarray | None = None) -> bool:
        """``got`` (the wrong elements by default) equals ``model`` within the tolerance."""
        got = self.got[self.wrong] if got is None else got
        return bool(np.all(within_tolerance(got, model, self.relation_tol, scale=self.scale)))

    def input(self, name: str) -> np.ndarray | None:
        """The op's input ``name`` when it has this array's shape (else None)."""
        value = self.inputs.get(name)
        if value is None or np.shape(value) != self.expected.shape:
            return None
        return np.asarray(value, dtype=np.float64)

    def along(self, axis: int) -> list[int]:
        """The indices along ``axis`` that hold a wrong element."""
        others = tuple(a for a in range(self.wrong.ndim) if a != axis)
        return [int(i) for i in np.flatnonzero(self.wrong.any(axis=others))]


# ---------------------------------------------------------------- where
@dataclass(frozen=True)
class _Place:
    """A WHERE tag with its phrase (of the wrong elements) and what it says of the rest."""

    tag: str
    phrase: str
    rest: str


def _regions(a: _Array) -> list[tuple[str, np.ndarray, str, str]]:
    """The op's special regions of this array: (tag, mask, phrase, the complement's phrase)."""
    shape = a.expected.shape
    regions: list[tuple[str, np.ndarray, str, str]] = []
    if a.layout.spatial:
        border = np.zeros(shape, dtype=bool)
        for axis in a.layout.spatial:
            index = [slice(None)] * len(shape)
            for edge in (0, shape[axis] - 1):
                index[axis] = slice(edge, edge + 1)
                border[tuple(index)] = True
        what = "rows/cols" if len(a.layout.spatial) == 2 else "positions"
        regions.append(("border", border, f"all on the border {what}", "interior exact"))
        regions.append(("interior", ~border, "all in the interior", f"border {what} exact"))
    if a.op in _ELEMENTWISE:
        x = a.input("x")
        if x is not None:
            regions.append(("x==0", x == 0, "all where x = 0", "elsewhere exact"))
    regions += _signs(a)
    if a.op == "max_pool2d" and a.name in ("x", "y"):
        tied = _tied(a)
        if tied is not None:
            regions.append(("ties", tied, "all in windows with a tied maximum",
                            "other windows exact"))
    if a.op == "max_margin" and a.name in ("s", "s_c", "J"):
        s, s_c = a.inputs.get("s"), a.inputs.get("s_c")
        if s is not None and s_c is not None and np.shape(s) == shape == np.shape(s_c):
            with np.errstate(invalid="ignore", over="ignore"):
                kink = (float(a.attrs.get("delta", 1.0)) + np.asarray(s_c, np.float64)
                        - np.asarray(s, np.float64)) == 0
            regions.append(("kink", kink, "all at the kink Δ + s_c − s = 0", "elsewhere exact"))
    large = _large(a)
    if large is not None:
        regions.append(large)
    if a.layout.time is not None and shape[0] >= 2:
        t = np.arange(shape[0]).reshape((-1,) + (1,) * (len(shape) - 1))
        last = shape[0] - 1
        regions.append(("step:first", np.broadcast_to(t == 0, shape),
                        "all at the first step (t = 0)", "other steps exact"))
        regions.append(("step:last", np.broadcast_to(t == last, shape),
                        f"all at the last step (t = {last})", "other steps exact"))
    return regions


def _sides(a: _Array) -> list[str]:
    """The fewest sides of the images that hold every wrong element (top, bottom, left, right;
    for sequences first, last), the first such set in that order."""
    names = (("top", "bottom"), ("left", "right")) if len(a.layout.spatial) == 2 else (
        ("first", "last"),)
    lines: dict[str, np.ndarray] = {}
    for axis, pair in zip(a.layout.spatial, names):
        index = np.arange(a.wrong.shape[axis]).reshape(
            [-1 if i == axis else 1 for i in range(a.wrong.ndim)])
        lines.update({side: index == edge for side, edge in
                      zip(pair, (0, a.wrong.shape[axis] - 1))})
    for size in range(1, len(lines)):
        for sides in itertools.combinations(lines, size):
            covered = np.zeros(a.wrong.shape, dtype=bool)
            for side in sides:
                covered |= lines[side]
            if not (a.wrong & ~covered).any():
                return list(sides)
    return list(lines)                  # (only called where all of them hold every one)


def _signs(a: _Array) -> list[tuple[str, np.ndarray, str, str]]:
    """Where x < 0 and where x > 0, for the arrays of the input's shape whose values depend on
    its sign (the activations' y and dx, the pools' dx), once three or more elements are wrong
    (two of one sign are a coin's chance)."""
    pools = _IMAGES - {"conv2d", "conv1d"}
    if int(a.wrong.sum()) < 3 or not (a.op in _ELEMENTWISE or (a.op in pools and a.name == "x")):
        return []
    x = a.input("x")
    if x is None:
        return []
    return [("x<0", x < 0, "all where x < 0", "elsewhere exact"),
            ("x>0", x > 0, "all where x > 0", "elsewhere exact")]


def _tied(a: _Array) -> np.ndarray | None:
    """max_pool2d: inputs inside (dx) or outputs of (y) windows whose maximum is tied."""
    x = np.asarray(a.inputs.get("x"), dtype=np.float64)
    try:
        (fh, fw), (sh, sw) = a.attrs["kernel_size"], a.attrs["stride"]
        windows = sliding_window_view(x, (fh, fw), axis=(2, 3))[:, :, ::sh, ::sw]
    except (KeyError, TypeError, ValueError):
        return None
    counts = (windows == windows.max(axis=(4, 5), keepdims=True)).sum(axis=(4, 5))
    tied = counts > 1                                          # [N, C, OH, OW]
    if a.name == "y":
        return tied if tied.shape == a.expected.shape else None
    if x.shape != a.expected.shape:
        return None
    inside = np.zeros(x.shape, dtype=bool)
    for i, j in zip(*np.nonzero(tied.any(axis=(0, 1)))):
        block = tied[:, :, i, j][:, :, None, None]
        inside[:, :, sh * i:sh * i + fh, sw * j:sw * j + fw] |= block
    return inside


def _large(a: _Array) -> tuple[str, np.ndarray, str, str] | None:
    """Where |x| > LARGE: elementwise for the activations; whole rows for softmax and CE."""
    if a.op in _ELEMENTWISE:
        x = a.input("x")
        if x is not None:
            return ("large", np.abs(x) > LARGE, f"all where |x| > {LARGE:g}", "elsewhere exact")
    source = {"softmax": "x", "cross_entropy": "logits"}.get(a.op)
    if source is not None:                   # softmax's x and y, cross_entropy's logits
        x = a.input(source)
        if x is not None and x.ndim >= 1:
            rows = np.broadcast_to((np.abs(x) > LARGE).any(axis=-1, keepdims=True), x.shape)
            return ("large", rows, f"all in rows with an |{source}| > {LARGE:g}",
                    "other rows exact")
    return None


def _where(a: _Array) -> list[_Place]:
    """The WHERE tags true of every wrong element, in the vocabulary's order."""
    w, e = a.wrong, a.expected
    places: list[_Place] = []
    nonzero = e != 0
    if w.all():
        places.append(_Place("everywhere", f"wrong at all {w.size} elements", ""))
    elif nonzero.any() and w[nonzero].all():
        which = "exactly those" if not (w & ~nonzero).any() else "among them all those"
        places.append(_Place("everywhere", f"wrong at {int(w.sum())}/{w.size} elements, "
                             f"{which} whose expected value is not 0", ""))
    for tag, region, phrase, rest in _regions(a):
        if not region.all() and not (w & ~region).any():
            places.append(_Place(tag, phrase, rest))
            if tag == "border":
                a.detail["sides"] = _sides(a)
    places += _gate_places(a)
    if a.layout.time is not None:
        a.detail["steps"] = a.along(0)
    grows = _grows(a)
    if grows is not None:
        places.append(grows)
    places += _kernel_offsets(a)
    for axis, word, tag in ((a.layout.rows, a.layout.rows_word, "rows"),
                            (a.layout.channels, "channel", "channels")):
        if axis is None or w.ndim <= axis or w.shape[axis] < 2:
            continue
        touched = a.along(axis)
        if len(touched) < w.shape[axis]:
            a.detail[tag] = touched
            places.append(_Place(f"{tag}:{','.join(map(str, touched))}",
                                 f"only in {_plural(len(touched), word)} {_ranges(touched)}",
                                 f"other {word}s exact"))
    return places


def _kernel_offsets(a: _Array) -> list[_Place]:
    """A convolution's kernel gradient wrong only at some offsets along a kernel axis (FH, FW,
    or F): "only at kernel offset q = 2 (the last of FW = 3)"."""
    if a.op not in ("conv2d", "conv1d") or a.name != "w" or a.wrong.ndim < 3:
        return []
    letters = ("FH", "FW") if a.wrong.ndim == 4 else ("F",)
    places = []
    for axis, letter in zip(range(2, a.wrong.ndim), letters):
        size = a.wrong.shape[axis]
        touched = a.along(axis)
        if size < 2 or len(touched) == size:
            continue
        index = {"FH": "p", "FW": "q", "F": "j"}[letter]
        last = " (the last)" if touched == [size - 1] else " (the first)" if touched == [0] else ""
        a.detail.setdefault("kernel_offsets", {})[letter] = touched
        places.append(_Place(f"offset:{letter}:{','.join(map(str, touched))}",
                             f"only at kernel offset{'s' if len(touched) > 1 else ''} {index} = "
                             f"{_ranges(touched)}{last} of {letter} = {size}",
                             "other offsets exact"))
    return places


def _gate_places(a: _Array) -> list[_Place]:
    gates, h = a.layout.gates, a.layout.block
    if not gates:
        return []
    touched = [j for j in range(len(gates)) if a.wrong[j * h:(j + 1) * h].any()]
    if len(touched) == len(gates):
        return []
    names = [gates[j] for j in touched]
    spans = [f"{j * h}–{(j + 1) * h - 1}" for j in touched]
    a.detail["gates"] = names
    a.detail["gate_rows"] = [[j * h, (j + 1) * h - 1] for j in touched]
    block = "gate block" if len(touched) == 1 else "gate blocks"
    return [_Place(f"gate:{','.join(names)}",
                   f"only in {block} {', '.join(names)} (rows {', '.join(spans)})",
                   "other blocks exact")]


def _grows(a: _Array) -> _Place | None:
    """The largest error per step grows step by step over ≥ 3 consecutive wrong steps."""
    if a.layout.time is None or a.expected.shape[0] < 3:
        return None
    steps = a.along(0)
    if len(steps) < 3 or steps[-1] - steps[0] != len(steps) - 1:
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(a.got - a.expected)[steps[0]:steps[-1] + 1]
    if not np.all(np.isfinite(error)):
        return None
    m = error.reshape(len(steps), -1).max(axis=1)
    margin = a.tol.atol * a.scale + a.tol.rtol * m[:-1]      # an increase beyond the tolerance
    first, last = steps[0], steps[-1]
    if np.all(m[1:] - m[:-1] > margin):
        phrase = f"the error grows step by step from t = {first} to t = {last}"
    elif np.all(m[:-1] - m[1:] > a.tol.atol * a.scale + a.tol.rtol * m[1:]):
        phrase = f"the error grows step by step from t = {last} back to t = {first}"
    else:
        return None
    a.detail["step_errors"] = [float(v) for v in m]
    return _Place("grows-with-t", phrase, "")


# ---------------------------------------------------------------- how
def _how(a: _Array) -> list[tuple[str, str]]:
    """The HOW tags with their phrases: relations that hold on every wrong element."""
    w = a.wrong
    g, e = a.got[w], a.expected[w]
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(e))) or g.size < 2:
        return []
    if a.fits(e):            # wrong by a few ulps under an exact tolerance: nothing to relate
        return []
    found: list[tuple[str, str]] = []
    if np.all(e != 0) and a.fits(np.zeros_like(e)):
        found.append(("zeros", "0 there, where the expected values are not"))
    c = _scale_of(a, g, e)
    if c is not None and c != 0:
        a.detail["factor"] = c
        flipped = " (the sign flipped)" if c == -1 else ""
        found.append((f"factor:{_tag_number(c)}", f"×{_shown(c)} there{flipped}"))
        if flipped:
            found.append(("sign", ""))
    d = _constant_of(a, g - e, e)
    if d is not None:
        a.detail["offset"] = d
        found.append((f"offset:{d:.4g}", f"off by {_signed(d)} there"))
    found += _row_factor(a)
    found += _transpose(a)
    found += _permutation(a)
    found += _shifts(a)
    return found


def _scale_of(a: _Array, g: np.ndarray, e: np.ndarray) -> float | None:
    """The c with g = c · e on these elements (least squares, checked), ±k or ±1/k if it is
    one; None if no c fits or fewer than two elements are nonzero (any c fits one)."""
    if np.count_nonzero(e) < 2:
        return None
    c = float(np.dot(g, e) / np.dot(e, e))
    for value in (_nice(c), c):
        if value is not None and a.fits(value * e, g):
            return value
    return None


def _constant_of(a: _Array, d: np.ndarray, e: np.ndarray) -> float | None:
    """The one constant d takes on the wrong elements (their mean, checked), or None."""
    mean = float(d.mean())
    return mean if a.fits(e + mean) else None


def _row_factor(a: _Array) -> list[tuple[str, str]]:
    """A constant factor per row, not the same in all (rows of the layout's rows axis)."""
    axis = a.layout.rows
    if axis is None or a.wrong.ndim <= axis:
        return []
    factors: dict[int, float] = {}
    for r in a.along(axis):
        w = np.take(a.wrong, r, axis=axis)
        c = _scale_of(a, np.take(a.got, r, axis=axis)[w], np.take(a.expected, r, axis=axis)[w])
        if c is None:
            return []
        factors[r] = c
    if len(set(factors.values())) < 2 or "factor" in a.detail:     # one factor fits them all
        return []
    a.detail["row_factors"] = {str(r): c for r, c in factors.items()}
    shown = ", ".join(f"{r} ×{_shown(c)}" for r, c in list(factors.items())[:3])
    more = ", …" if len(factors) > 3 else ""
    return [("row-factor", f"a factor per {a.layout.rows_word} ({shown}{more})")]


def _transpose(a: _Array) -> list[tuple[str, str]]:
    """got = expectedᵀ on the wrong elements (square 2-D), or each gate block transposed."""
    e = a.expected
    if e.ndim != 2:
        return []
    if e.shape[0] == e.shape[1] and a.fits(e.T[a.wrong]):
        return [("transpose", "it is the expected array transposed")]
    h = a.layout.block
    if a.layout.gates and e.shape[1] == h:
        blocks = e.reshape(len(a.layout.gates), h, h).transpose(0, 2, 1).reshape(e.shape)
        if a.fits(blocks[a.wrong]):
            return [("transpose", "each gate block is the expected block transposed")]
    return []


def _permutation(a: _Array) -> list[tuple[str, str]]:
    """The gate blocks of a stacked weight or bias, in another order."""
    gates, h = a.layout.gates, a.layout.block
    if not gates:
        return []
    n = len(gates)
    got = [a.got[j * h:(j + 1) * h] for j in range(n)]
    expected = [a.expected[j * h:(j + 1) * h] for j in range(n)]
    holds = [[a.fits(expected[k], got[j]) for k in range(n)] for j in range(n)]  # got j = exp k
    for order in itertools.permutations(range(n)):
        if order == tuple(range(n)):
            continue
        if all(holds[j][k] for j, k in enumerate(order)):
            names = tuple(gates[k] for k in order)
            a.detail["permutation"] = list(names)
            return [("block-permutation", f"its gate blocks are the expected ones in the "
                                          f"order ({', '.join(names)})")]
    return []


def _shifts(a: _Array) -> list[tuple[str, str]]:
    """got[..., i, ...] = expected[..., i − k, ...] for k = ±1, ±2 along spatial or time axes."""
    axes = list(a.layout.spatial) + ([a.layout.time] if a.layout.time is not None else [])
    found: list[tuple[str, str]] = []
    shape = a.expected.shape
    for axis in axes:
        for k in (1, -1, 2, -2):
            n = shape[axis]
            if abs(k) >= n:
                continue
            target = [slice(None)] * len(shape)
            source = [slice(None)] * len(shape)
            target[axis] = slice(k, None) if k > 0 else slice(None, n + k)
            source[axis] = slice(None, n - k) if k > 0 else slice(-k, None)
            wrong = a.wrong[tuple(target)]
            if wrong.sum() < 2:
                continue
            if a.fits(a.expected[tuple(source)][wrong], a.got[tuple(target)][wrong]):
                a.detail.setdefault("shift", []).append({"axis": axis, "k": k})
                found.append((f"shift:{axis}:{k:+d}", _shift_phrase(axis, k, a.layout)))
    return found


def _shift_phrase(axis: int, k: int, layout: _Layout) -> str:
    """``shifted 1 col right (axis 3)``: got[i] = expected[i − k], k > 0 moves values on."""
    if axis == layout.time:
        unit, on, back = "step", "later", "earlier"
    elif len(layout.spatial) == 2 and axis == 2:
        unit, on, back = "row", "down", "up"
    elif len(layout.spatial) == 2:
        unit, on, back = "col", "right", "left"
    else:
        unit, on, back = "position", "right", "left"
    return f"shifted {abs(k)} {_plural(abs(k), unit)} {on if k > 0 else back} (axis {axis})"


# ---------------------------------------------------------------- the anatomy
def anatomy(op: str, check: str, name: str, got: Any, expected: Any, tol: Tolerance,
            inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Anatomy:
    """Where and how ``got`` differs from ``expected`` for the op's array ``name``.

    ``name`` is the contract name of an output (``check`` "forward") or of an input (its
    gradient, ``check`` "gradient": the anatomy's array is "d" + name); ``tol`` the check's
    tolerance; ``inputs`` and ``attrs`` the case's.
    """
    array = name if check == "forward" else f"d{name}"
    e = np.asarray(expected, dtype=np.float64)
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return Anatomy(array, e.size, e.size, (), (),
                       f"{array} is not an array of numbers ({type(got).__name__})",
                       {"expected_shape": list(e.shape)})
    if g.shape != e.shape:
        return _shape(op, name, array, g, e, inputs)
    a = _Array(op, name, array, g, e, tol, inputs, attrs, _layout(op, name, e.shape, inputs))
    wrong = int(a.wrong.sum())
    if wrong == 0:
        return Anatomy(array, 0, e.size, (), (), f"{array} within tolerance at all {e.size} "
                       f"elements")
    a.detail["first"] = list(_index(int(np.argmax(a.wrong)), e.shape))
    places = _where(a)
    how = _how(a)
    bad = ~np.isfinite(g) & np.isfinite(e)
    if bad.any():
        a.detail["nan"] = int(np.isnan(g[bad]).sum())
        a.detail["inf"] = int(np.isinf(g[bad]).sum())
        first = _index(int(np.argmax(bad)), e.shape)
        counts = " and ".join(f"{k} {w}" for k, w in ((a.detail["nan"], "nan"),
                                                       (a.detail["inf"], "inf")) if k)
        how.append(("nonfinite", f"{counts} where finite values are expected (first at "
                                 f"{first})"))
    text = _text(a, wrong, places, how)
    return Anatomy(array, wrong, e.size, tuple(p.tag for p in places), tuple(t for t, _ in how),
                   text, a.detail)


def _shape(op: str, name: str, array: str, g: np.ndarray, e: np.ndarray,
           inputs: Mapping[str, np.ndarray]) -> Anatomy:
    """Another shape: the expected one in the contract's letters, and what the returned one
    is of it: the transpose, the right values with axes of size 1 dropped or added, empty
    axes, or an axis of another letter's size."""
    how: list[str] = ["shape"]
    letters = axis_letters(op, name)
    named = len(letters) == e.ndim and all(x.isalpha() for x in letters)
    text = f"{array} has shape {g.shape}, expected {e.shape}" + (
        f" = [{', '.join(letters)}]" if named else "")
    detail: dict[str, Any] = {"shape": list(g.shape), "expected_shape": list(e.shape)}
    exact = Tolerance(_FLOOR, _FLOOR)
    if g.ndim == 2 and g.shape == e.shape[::-1] and bool(np.all(
            within_tolerance(g, e.T, exact) | within_tolerance(g.T, e, exact).T)):
        how.append("transpose")
        text += "; it is the expected array transposed"
    elif g.size == e.size and g.size and [n for n in g.shape if n != 1] == [
            n for n in e.shape if n != 1] and bool(np.all(within_tolerance(
                g.reshape(e.shape), e, exact))):
        how.append("size-1-axes")
        text += (f"; the right values, with axes of size 1 "
                 f"{'dropped' if g.ndim < e.ndim else 'added' if g.ndim > e.ndim else 'moved'}")
    elif g.size == e.size and g.size and bool(np.all(within_tolerance(g.reshape(e.shape), e,
                                                                      exact))):
        how.append("reshaped")
        text += "; the right values in row-major order, reshaped"
    elif 0 in g.shape and 0 not in e.shape:
        empty = [i for i, n in enumerate(g.shape) if n == 0]
        detail["empty_axes"] = empty
        how.append("empty")
        which = [letters[i] if named and g.ndim == e.ndim else f"axis {i}" for i in empty]
        text += f"; it is empty along {', '.join(which)}"
    elif named and g.ndim == e.ndim and sorted(g.shape) == sorted(e.shape) and len(
            set(e.shape)) == e.ndim:
        order = [letters[e.shape.index(n)] for n in g.shape]
        text += f"; its axes in another order: [{', '.join(order)}]"
    elif named and g.ndim == e.ndim:
        sizes = _case_sizes(op, {**inputs, name: e})
        odd = [(i, letters[i], n) for i, n in enumerate(g.shape) if n != e.shape[i]]
        said = [f"axis {i} has {'/'.join(k for k, v in sizes.items() if v == n)}'s size ({n}) "
                f"where {letter}'s ({e.shape[i]}) belongs" for i, letter, n in odd
                if any(v == n for v in sizes.values())]
        if said:
            text += f"; its {'; '.join(said)}"
    return Anatomy(array, e.size, e.size, (), tuple(how), text, detail)


def _case_sizes(op: str, arrays: Mapping[str, Any]) -> dict[str, int]:
    """The case's sizes by the contract's letters, from the arrays whose shape names them (a
    letter whose arrays disagree is left out)."""
    found: dict[str, set[int]] = {}
    for key, value in arrays.items():
        letters = axis_letters(op, key)
        if len(letters) == np.ndim(value):
            for letter, size in zip(letters, np.shape(value)):
                if letter.isalpha():
                    found.setdefault(letter, set()).add(int(size))
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1}


def _text(a: _Array, wrong: int, places: list[_Place], how: list[tuple[str, str]]) -> str:
    """One line: the count and the first place with its complement, the other places, the how
    (within _MAX_TEXT characters: what does not fit is left out, other places first)."""
    total = a.expected.size
    count = f"{a.array} wrong at {wrong}/{total} elements"
    located = [p for p in places if p.tag != "everywhere"]
    every = next((p for p in places if p.tag == "everywhere"), None)
    if total == 1:
        g, e = float(a.got.flat[0]), float(a.expected.flat[0])
        ratio = g / e if e != 0 and np.isfinite(g) else None
        nice = _nice(ratio) if ratio is not None else None
        times = f" (×{_factor(nice)})" if nice is not None and a.fits(np.array([nice * e])) else ""
        head = f"{a.array} wrong: {_values(g, e)}{times}"
    elif located and located[0].tag.startswith("gate:") and _whole_blocks(a):
        head = f"{a.array} wrong {located[0].phrase}; {located[0].rest}"
        located = located[1:]
    elif every is not None:
        head = f"{a.array} {every.phrase}"
    elif located:
        head = "; ".join(filter(None, [f"{count}, {located[0].phrase}", located[0].rest]))
        located = located[1:]
    else:
        first = tuple(a.detail["first"])
        head = f"{count} (first at {first}: {_values(a.got[first], a.expected[first])})"
    others = [p.phrase for p in located]
    relations = [phrase for _, phrase in how if phrase]
    while len("; ".join([head, *others, *relations])) > _MAX_TEXT and (others or relations):
        (others or relations).pop()
    return "; ".join([head, *others, *relations])


def _whole_blocks(a: _Array) -> bool:
    """Every element of the touched gate blocks is wrong (the count would say nothing more)."""
    h = a.layout.block
    return all(bool(a.wrong[j * h:(j + 1) * h].all()) for j, _ in
               enumerate(a.layout.gates) if a.wrong[j * h:(j + 1) * h].any())


def anatomies(op: str, check: str, got: Mapping[str, Any], expected: Mapping[str, Any],
              tol: Tolerance, inputs: Mapping[str, np.ndarray],
              attrs: Mapping[str, Any]) -> list[Anatomy]:
    """One anatomy per failing array (another shape, or an element outside the tolerance), in
    the contract's order (outputs for "forward", differentiable inputs for "gradient")."""
    spec = OPS.get(op)
    order = [a.name for a in ((spec.outputs if check == "forward" else spec.differentiable)
                              if spec is not None else ())]
    names = [n for n in order if n in expected] + [n for n in expected if n not in order]
    found = [anatomy(op, check, n, got[n], expected[n], tol, inputs, attrs) for n in names]
    return [x for x in found if x.wrong or "shape" in x.how]     # (an empty array's shape)
