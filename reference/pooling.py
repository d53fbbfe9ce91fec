"""Pooling (lecture: "Pooling", "Pooling: Max-pool", "Pooling: Average-pool", "Pooling Layer").

    Idea: reduce the image size by mapping a patch of pixels to a single value.
    Does not have parameters, though there are different types of pooling operations.
    Operates over each activation map independently. Pooling types: Max, Average, L2 etc.

Notation
--------
N, C          batch size and channels (activation maps); each map is pooled on its own
H, W          input height and width
KH, KW        window (``kernel_size``) height and width
S = (SH, SW)  stride per axis; the default is the window size (distinct, non-overlapping patches)
OH, OW        output size (H − KH)/SH + 1 and (W − KW)/SW + 1
x             input [N, C, H, W]
y             output [N, C, OH, OW]; y[n, c, i, j] pools the window x[n, c, SH·i + u, SW·j + v],
              0 ≤ u < KH, 0 ≤ v < KW
dy, dx        ∂L/∂y [N, C, OH, OW] and ∂L/∂x [N, C, H, W]

Conventions (CONVENTIONS.md)
----------------------------
* No padding, and no parameters: the functions take only x and the window geometry.
* The output size follows reference.conv's rule; a window that doesn't fit is refused.
* max: the whole gradient of a window goes to its first maximum in row-major order (as PyTorch
  on the CPU); ``ties`` computes the other variants a backend may declare (last, split).
  average: the sum divided by the window size KH·KW.
* L2: y = √(Σ x²) over the window (torch's ``lp_pool2d`` with ``norm_type=2``); its gradient
  x / y is taken as 0 where a window is all zeros (y = 0, where √ has no derivative).

Implementation: a short loop over the KH·KW window taps, each a strided view of x holding that
tap of every window at once (no loop over pixels). The average pool's forward pass works along
whole image rows where it can (it sums the window's rows first, at full width), as contiguous
runs are much cheaper than taps strided in both directions. Max and average pooling, forward
and backward, work through a large batch a few images at a time (reference._blocks: blocks that
fit in cache, on several threads). The ``_*_pool`` kernels keep their dtype.

"Invariance to image transformation", measured (``shift_sensitivity``): moving a whole image by
one pixel changes it by about as much as it holds (a thin bar lands on other pixels), while its
2×2 max- or average-pooled maps change by about half as much, since the bar stays in its window
half the time. A shift by a whole window moves the pooled maps by one cell: there the change is
as large as the image's (spec_tests/test_pooling.py states the figures).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from reference._blocks import for_each_block
from reference._checks import FloatArray, as_float_array, fail, one_of, positive_pair
from reference.conv import Pair, _output_size, _taps

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "l2_pool2d",
    "l2_pool2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "shift_images",
    "shift_sensitivity",
]


class _Pool(NamedTuple):
    x: FloatArray
    kernel: Pair
    stride: Pair
    out: Pair


def _pool_inputs(func: str, x: Any, kernel_size: Any, stride: Any) -> _Pool:
    x = as_float_array(func, "x", x)
    if x.ndim != 4:
        raise fail(func, f"x must be 4-D [N, C, H, W], got {x.ndim}-D with shape {x.shape} "
                         f"(no layout is guessed; a single image needs x[None])")
    if 0 in x.shape:
        raise fail(func, f"x must not have empty axes, got shape {x.shape}")
    kernel = positive_pair(func, "kernel_size", kernel_size)
    step = kernel if stride is None else positive_pair(func, "stride", stride)
    oh = _output_size(func, "H", x.shape[2], kernel[0], step[0], 0, what="window")
    ow = _output_size(func, "W", x.shape[3], kernel[1], step[1], 0, what="window")
    return _Pool(x, kernel, step, (oh, ow))


def _upstream(func: str, dy: Any, g: _Pool) -> FloatArray:
    dy = as_float_array(func, "dy", dy)
    if dy.shape != (*g.x.shape[:2], *g.out):
        raise fail(func, f"dy must have the output's shape {(*g.x.shape[:2], *g.out)}, got "
                         f"{dy.shape}")
    return dy


def _fold(ufunc: np.ufunc, terms: Iterable[NDArray[Any]], out: NDArray[Any]) -> NDArray[Any]:
    """out = terms[0] ∘ terms[1] ∘ ... for a binary ufunc ∘ (np.add, np.maximum), left to right."""
    items = iter(terms)
    np.copyto(out, next(items))
    for term in items:
        ufunc(out, term, out=out)
    return out


def _tiles(x: NDArray[Any], kernel: Pair, stride: Pair, out: Pair) -> bool:
    """True when the windows tile x exactly (stride = window, nothing left over): then every
    pixel lies in exactly one window, and a backward pass can assign instead of accumulate."""
    return stride == kernel and (out[0] * kernel[0], out[1] * kernel[1]) == x.shape[2:]


def _in_blocks(x: NDArray[Any], work: Callable[[slice], None]) -> None:
    """Run work(block) over blocks of the batch: each image is pooled on its own, so a few
    images at a time keep the temporaries in cache and the blocks can run on several threads
    (reference._blocks); a block is measured by the bytes of its images."""
    for_each_block(x.shape[0], x.itemsize * math.prod(x.shape[1:]), work)


# ---------------------------------------------------------------- max
def _max_pool(x: NDArray[Any], kernel: Pair, stride: Pair, out: Pair) -> NDArray[Any]:
    y = np.empty((*x.shape[:2], *out), dtype=x.dtype)

    def one_block(block: slice) -> None:
        _fold(np.maximum, _taps(x[block], kernel, stride, out),  # y = max_{u,v} x[SH·i+u, SW·j+v]
              out=y[block])

    _in_blocks(x, one_block)
    return y


TIES = ("first", "last", "split")
"""Where a window's gradient goes when its maximum occurs more than once (CONVENTIONS: "first",
the spec's and PyTorch's on the CPU; "last" in row-major order; "split" equally among them)."""


def _max_pool_backward(dy: NDArray[Any], x: NDArray[Any], kernel: Pair, stride: Pair,
                       out: Pair, ties: str = "first") -> NDArray[Any]:
    tiles = _tiles(x, kernel, stride, out)
    dx = np.empty_like(x) if tiles else np.zeros_like(x)
    last = kernel[0] * kernel[1] - 1

    def one_block(block: slice) -> None:
        x_b, dy_b, dx_b = x[block], dy[block], dx[block]  # this block's images
        y = _fold(np.maximum, _taps(x_b, kernel, stride, out),  # the window maxima again
                  out=np.empty(dy_b.shape, dtype=x.dtype))
        taps = list(zip(_taps(x_b, kernel, stride, out), _taps(dx_b, kernel, stride, out)))
        if ties == "split":                               # each of k tied maxima gets dy / k
            share = dy_b / _fold(np.add, ((tap == y) for tap, _ in taps),
                                 out=np.empty(y.shape, dtype=x.dtype))
            for tap, dtap in taps:
                if tiles:
                    np.multiply(tap == y, share, out=dtap)
                else:
                    dtap += (tap == y) * share
            return
        if ties == "last":                                # the first maximum counting backwards
            taps.reverse()
        unclaimed = np.ones(y.shape, dtype=bool)          # windows whose maximum is not found yet
        first, share = np.empty(y.shape, dtype=bool), np.empty_like(dy_b)  # reused for each tap
        for k, (tap, dtap) in enumerate(taps):
            if k < last:
                np.equal(tap, y, out=first)
                first &= unclaimed                        # the first maximum in row-major order
                unclaimed ^= first
            else:                                         # the last tap is the maximum of every
                first = unclaimed                         # window not claimed before it
            if tiles:                                     # (each pixel in one window only)
                np.multiply(first, dy_b, out=dtap)        # gets the window's whole gradient
            else:
                dtap += np.multiply(first, dy_b, out=share)

    _in_blocks(x, one_block)
    return dx


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> FloatArray:
    """Max pooling: y[n, c, i, j] = max over the window of x[n, c, SH·i + u, SW·j + v].

    Shapes: x [N, C, H, W] → y [N, C, OH, OW]. ``kernel_size`` and ``stride`` are an int or a
    pair (vertical, horizontal); the stride defaults to the window size. The slide's 2×2 max pool
    with stride 2 maps [[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]] (the input of the CS231n figure
    the slide shows; the lecture's text keeps only the output) to [[6, 8], [3, 4]].

    Raises: ValueError for x not 4-D, a window larger than x or one that doesn't fit
    ((H − KH)/SH + 1 not whole), a stride < 1; TypeError for non-integer sizes.
    """
    g = _pool_inputs("max_pool2d", x, kernel_size, stride)
    return _max_pool(g.x, g.kernel, g.stride, g.out)


def max_pool2d_backward(dy: Any, x: Any, kernel_size: Any, stride: Any = None,
                        ties: str = "first") -> FloatArray:
    """∂L/∂x of max pooling: each window's ∂L/∂y goes whole to the window's maximum.

    Shapes: dy [N, C, OH, OW], x [N, C, H, W] → dx [N, C, H, W]. Ties (a window holding its
    maximum more than once): ``ties="first"`` (the spec's) gives it all to the first maximum in
    row-major order, "last" to the last, "split" 1/k of it to each of the k tied maxima (the
    variants of the declared convention max_pool_ties). A pixel in several (overlapping) windows
    adds their shares.
    """
    g = _pool_inputs("max_pool2d_backward", x, kernel_size, stride)
    dy = _upstream("max_pool2d_backward", dy, g)
    ties = one_of("max_pool2d_backward", "ties", ties, TIES)
    return _max_pool_backward(dy, g.x, g.kernel, g.stride, g.out, ties)


# ---------------------------------------------------------------- average
def _avg_pool(x: NDArray[Any], kernel: Pair, stride: Pair, out: Pair) -> NDArray[Any]:
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out
    y = np.empty((*x.shape[:2], oh, ow), dtype=x.dtype)

    def one_block(block: slice) -> None:
        x_b = x[block]                                    # [n, C, H, W]
        # Σ over a window = Σ over its columns v of Σ over its rows u: the rows first, full width
        rows = _fold(np.add, (x_b[:, :, u:u + sh * oh:sh, :] for u in range(kh)),
                     out=np.empty((*x_b.shape[:2], oh, x_b.shape[3]), dtype=x.dtype))
        total = _fold(np.add, (rows[..., v:v + sw * ow:sw] for v in range(kw)), out=y[block])
        total /= kh * kw                                  # Σ_{u,v} x[SH·i+u, SW·j+v] / (KH·KW)

    _in_blocks(x, one_block)
    return y


def _avg_pool_backward(dy: NDArray[Any], x: NDArray[Any], kernel: Pair, stride: Pair,
                       out: Pair) -> NDArray[Any]:
    tiles = _tiles(x, kernel, stride, out)
    dx = np.empty_like(x) if tiles else np.zeros_like(x)

    def one_block(block: slice) -> None:
        share = dy[block] / (kernel[0] * kernel[1])       # ∂y/∂x = 1/(KH·KW) for every tap
        for dtap in _taps(dx[block], kernel, stride, out):
            if tiles:                                     # each pixel in one window only
                dtap[...] = share
            else:
                dtap += share

    _in_blocks(x, one_block)
    return dx


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> FloatArray:
    """Average pooling: y[n, c, i, j] = Σ_window x / (KH·KW).

    Shapes, arguments and errors as max_pool2d.
    """
    g = _pool_inputs("avg_pool2d", x, kernel_size, stride)
    return _avg_pool(g.x, g.kernel, g.stride, g.out)


def avg_pool2d_backward(dy: Any, x: Any, kernel_size: Any, stride: Any = None) -> FloatArray:
    """∂L/∂x of average pooling: every pixel of a window gets ∂L/∂y / (KH·KW).

    Shapes: dy [N, C, OH, OW], x [N, C, H, W] → dx [N, C, H, W].
    """
    g = _pool_inputs("avg_pool2d_backward", x, kernel_size, stride)
    dy = _upstream("avg_pool2d_backward", dy, g)
    return _avg_pool_backward(dy, g.x, g.kernel, g.stride, g.out)


# ---------------------------------------------------------------- L2
def _l2_pool(x: NDArray[Any], kernel: Pair, stride: Pair, out: Pair) -> NDArray[Any]:
    taps = _taps(x, kernel, stride, out)
    squares = np.square(next(taps))
    square = np.empty_like(squares)                       # reused for every tap
    for tap in taps:
        squares += np.square(tap, out=square)             # Σ_{u,v} x²
    return np.sqrt(squares, out=squares)                  # y = √(Σ x²)


def _l2_pool_backward(dy: NDArray[Any], x: NDArray[Any], kernel: Pair, stride: Pair,
                      out: Pair) -> NDArray[Any]:
    y = _l2_pool(x, kernel, stride, out)
    dy_over_y = np.divide(dy, y, out=np.zeros_like(y), where=y > 0)  # 0 for all-zero windows
    dx = np.zeros_like(x)
    share = np.empty_like(y)                              # reused for every tap
    for tap, dtap in zip(_taps(x, kernel, stride, out), _taps(dx, kernel, stride, out)):
        dtap += np.multiply(tap, dy_over_y, out=share)    # ∂y/∂x = x / y
    return dx


def l2_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> FloatArray:
    """L2 pooling: y[n, c, i, j] = √(Σ_window x²), torch's lp_pool2d with norm_type = 2.

    Shapes, arguments and errors as max_pool2d.
    """
    g = _pool_inputs("l2_pool2d", x, kernel_size, stride)
    return _l2_pool(g.x, g.kernel, g.stride, g.out)


def l2_pool2d_backward(dy: Any, x: Any, kernel_size: Any, stride: Any = None) -> FloatArray:
    """∂L/∂x of L2 pooling: ∂L/∂y · x / y for each pixel of a window (0 where y = 0).

    Shapes: dy [N, C, OH, OW], x [N, C, H, W] → dx [N, C, H, W].
    """
    g = _pool_inputs("l2_pool2d_backward", x, kernel_size, stride)
    dy = _upstream("l2_pool2d_backward", dy, g)
    return _l2_pool_backward(dy, g.x, g.kernel, g.stride, g.out)


# ---------------------------------------------------------------- invariance to a shift, measured
def shift_images(x: Any, shift: Any) -> FloatArray:
    """Every image moved by shift = (down, right) pixels (negative: up, left); zeros move in,
    what moves out is lost.  Shapes: x [N, C, H, W] → [N, C, H, W]."""
    x = as_float_array("shift_images", "x", x, ndim=4)
    if (not isinstance(shift, tuple) or len(shift) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in shift)):
        raise TypeError(f"shift_images: shift must be a pair of ints (down, right), got "
                        f"{shift!r}")
    dy, dx = shift
    H, W = x.shape[2:]
    out = np.zeros_like(x)
    out[..., max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
        x[..., max(-dy, 0):H - max(dy, 0), max(-dx, 0):W - max(dx, 0)]
    return out


def shift_sensitivity(x: Any, shift: Any, pool: str, kernel_size: Any = 2) -> tuple[float, float]:
    """How much a whole-image shift changes the images, and how much it changes their pooled maps:
    the means over the batch of ‖S x − x‖ / ‖x‖ and of ‖P(S x) − P(x)‖ / ‖P(x)‖, with S =
    shift_images(·, shift) and P the ``pool`` ("max" or "avg") pooling of ``kernel_size``
    windows (stride = window). A pooled change well below the image's is the approximate
    invariance the lecture means.

    Shapes: x [N, C, H, W] with no all-zero image → (image change, pooled change).
    """
    pools = {"max": max_pool2d, "avg": avg_pool2d}
    if pool not in pools:
        raise fail("shift_sensitivity", f"pool must be one of {sorted(pools)}, got {pool!r}")
    x = as_float_array("shift_sensitivity", "x", x, ndim=4, finite=True)
    moved = shift_images(x, shift)

    def change(after: FloatArray, before: FloatArray) -> float:
        size = np.linalg.norm(before.reshape(len(before), -1), axis=1)
        if np.any(size == 0):
            raise fail("shift_sensitivity", "x holds an all-zero image (or pooled map): its "
                                            "relative change is undefined")
        return float(np.mean(np.linalg.norm((after - before).reshape(len(before), -1), axis=1)
                             / size))

    P = pools[pool]
    return change(moved, x), change(P(moved, kernel_size), P(x, kernel_size))
