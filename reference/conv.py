"""Convolution (lecture: "Kernels", "Kernel: 3x3 Example", "Convolution Settings" (grid size,
padding, stride, depth), "Details about the convolution layer", "Convolution layer examples",
"Motivation – Image Data"; and Part III's "CNNs for text").

    Output over the centered pixel is Σ_{p=1}^{P} W_p · pixel_p
    Output size: (N − F) / stride + 1            (N − F + 2P with P pixels of zero padding)

Notation
--------
N            batch size
C            input channels, the "depth" of the image (3 for RGB)
H, W         input height and width (the lecture's N for a square input)
K            number of kernels (filters) = output depth
FH, FW       kernel height and width (the lecture's F for a square kernel)
S = (SH, SW) stride per axis (vertical, horizontal)
P = (PH, PW) zero padding per axis, the same on both sides
OH, OW       output height and width, (H + 2PH − FH)/SH + 1 and (W + 2PW − FW)/SW + 1
x            input images [N, C, H, W] (NCHW)
w            kernels [K, C, FH, FW]: kernel k spans all C channels
b            biases [K] (or None)
y            output [N, K, OH, OW], y[n, k, i, j] = b[k] + Σ_{c,u,v} w[k, c, u, v] ·
             x_pad[n, c, SH·i + u, SW·j + v]: the slide's Σ_p W_p · pixel_p, p = (c, u, v)
dy           upstream gradient ∂L/∂y [N, K, OH, OW]; dx, dw, db = ∂L/∂x, ∂L/∂w, ∂L/∂b

Conventions (CONVENTIONS.md)
----------------------------
* "Convolution" is cross-correlation: the kernel is laid over the pixels as it is, not flipped
  (the slide's Sobel example = 2 and padded example top-left = −1 are computed this way).
* Layout NCHW; no layout is guessed: x must be 4-D (use ``x[None]`` for one image).
* Stride and padding may differ per axis (an int means both); padding is zeros.
* A geometry whose (N + 2P − F)/S + 1 is not whole "doesn't fit" and is refused with the
  arithmetic in the message; it is never cropped.

Implementation: the windows are copied once into a contiguous "im2col" matrix whose rows are
the taps p = (c, u, v) and whose columns are the windows, one tap at a time (tap (u, v) of every
window is one strided view of the padded images); the slide's sum is then ONE matrix product, and
so are ∂L/∂W and ∂L/∂pixel in the backward pass, whose col2im sends each tap's share back with one
strided add. This runs on a few images at a time (reference._blocks: blocks of images whose
im2col matrix fits in cache, on BLAS's threads), and ∂L/∂W and ∂L/∂b add up the blocks' sums.
The ``_conv2d_*`` kernels keep the dtype they are given (the public functions validate and
compute in float64); the benchmark times float32 with them.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from reference._blocks import for_each_block
from reference._checks import (
    FloatArray,
    as_float_array,
    fail,
    nonnegative_pair,
    positive_int,
    positive_pair,
)

__all__ = [
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "conv_parameter_count",
    "fully_connected_weight_count",
    "image_input_count",
    "output_size",
    "same_padding",
    "word_channels",
    "zero_pad",
]

Pair = tuple[int, int]


# ---------------------------------------------------------------- output size
def _output_size(func: str, axis: str, n: int, f: int, s: int, p: int,
                 what: str = "kernel") -> int:
    """(n + 2p − f)/s + 1, or the lecture's "doesn't fit" as a ValueError showing the numbers.

    The one place of the rule: conv2d, conv1d, the pooling functions and output_size call it.
    """
    if f > n + 2 * p:
        padded = f"N = {n}" if p == 0 else f"N + 2P = {n} + 2·{p} = {n + 2 * p}"
        raise fail(func, f"the {what} is larger than the {'padded ' if p else ''}input along "
                         f"{axis}: F = {f} > {padded}")
    if (n + 2 * p - f) % s:
        padded = f"{n} − {f}" if p == 0 else f"{n} + 2·{p} − {f}"
        value = (n + 2 * p - f) / s + 1
        raise fail(func, f"a {what} of size {f} with stride {s} and padding {p} doesn't fit "
                         f"{n} pixels along {axis}: ({padded})/{s} + 1 = {value:.2f} is not a "
                         f"whole number (N + 2P − F must be a multiple of the stride)")
    return (n + 2 * p - f) // s + 1


def output_size(n: int, f: int, stride: int = 1, pad: int = 0) -> int:
    """Output size (N + 2P − F)/S + 1 of a kernel of size F sliding over N pixels along one axis.

    Parameters
    ----------
    n : input size N along the axis (≥ 1).
    f : kernel (or pooling window) size F along the axis (≥ 1).
    stride : the step S (≥ 1).
    pad : zeros P added on each side (≥ 0).

    Returns
    -------
    int, the number of window positions.

    Raises
    ------
    ValueError
        When F > N + 2P, or when (N + 2P − F)/S + 1 is not whole: the slide's 7×7 input with a
        3×3 filter and stride 3 gives "(7 − 3)/3 + 1 = 2.33", which "doesn't fit".
    TypeError
        For non-integer arguments.
    """
    n = positive_int("output_size", "n", n)
    f = positive_int("output_size", "f", f)
    s = positive_int("output_size", "stride", stride)
    if isinstance(pad, (tuple, list)):
        raise TypeError(f"output_size: pad must be an integer, got {pad!r} (one axis at a time)")
    p = nonnegative_pair("output_size", "pad", pad)[0]
    return _output_size("output_size", "the axis", n, f, s, p)


def same_padding(f: int) -> int:
    """The zero padding (F − 1)/2 that keeps the size with stride 1: F = 3, 5, 7 → 1, 2, 3.

    Raises
    ------
    ValueError
        For an even F: (F − 1)/2 is then not whole and no symmetric zero padding keeps the size
        (the lecture's reason to "typically use odd numbers so that there is a center pixel").
    """
    f = positive_int("same_padding", "f", f)
    if f % 2 == 0:
        raise fail("same_padding", f"F = {f} is even: (F − 1)/2 = {(f - 1) / 2} is not whole, so "
                                   f"no symmetric zero padding keeps the size (use an odd F)")
    return (f - 1) // 2


# ---------------------------------------------------------------- padding
def _pad(x: NDArray[Any], padding: Pair) -> NDArray[Any]:
    """Zeros around the last two axes (a view of x itself when there is no padding).

    Written out rather than np.pad: one zeroed array and one copy of x into its middle, which
    takes half of np.pad's time on im2col's blocks (np.pad is general: any width, any mode)."""
    ph, pw = padding
    if ph == pw == 0:
        return x
    h, w = x.shape[-2:]
    xp = np.zeros((*x.shape[:-2], h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    xp[..., ph:ph + h, pw:pw + w] = x                     # x in the middle, zeros around it
    return xp


def zero_pad(x: Any, padding: Any) -> FloatArray:
    """Zero padding: P rows of zeros above and below, P columns left and right of every image.

    Shapes: x [..., H, W] (2-D to 4-D, e.g. NCHW) → [..., H + 2PH, W + 2PW]. ``padding`` is an
    int or a per-axis pair (PH, PW) ≥ 0. Returns a new array.
    """
    x = as_float_array("zero_pad", "x", x, ndim=(2, 3, 4))
    return _pad(x, nonnegative_pair("zero_pad", "padding", padding)).copy()


# ---------------------------------------------------------------- the kernels (any dtype)
def _taps(a: NDArray[Any], kernel: Pair, stride: Pair, out: Pair) -> Iterator[NDArray[Any]]:
    """Tap (u, v) of every window of a [·, ·, H, W] (two leading axes of any meaning), as a view
    [·, ·, OH, OW] holding pixel (SH·i + u, SW·j + v) for every window (i, j); the taps in
    row-major order, so the t-th is (u, v) = divmod(t, FW). Shared with reference.pooling."""
    (fh, fw), (sh, sw), (oh, ow) = kernel, stride, out
    for u in range(fh):
        for v in range(fw):
            yield a[:, :, u:u + sh * oh:sh, v:v + sw * ow:sw]


def _im2col(x: NDArray[Any], kernel: Pair, stride: Pair, padding: Pair,
            out: Pair) -> NDArray[Any]:
    """The windows of x [N, C, H, W] as a contiguous [C·FH·FW, N·OH·OW] matrix: row p = (c, u, v)
    holds pixel_p of every window of the batch."""
    xp = _pad(x.transpose(1, 0, 2, 3), padding)           # [C, N, HP, WP], zero-padded
    c, n = xp.shape[:2]
    cols = np.empty((c, kernel[0] * kernel[1], n, *out), dtype=x.dtype)  # [C, FH·FW, N, OH, OW]
    for t, tap in enumerate(_taps(xp, kernel, stride, out)):
        cols[:, t] = tap                                  # tap t = (u, v) of every window
    return cols.reshape(c * kernel[0] * kernel[1], n * out[0] * out[1])


def _cols_bytes(x: NDArray[Any], w: NDArray[Any], out: Pair) -> int:
    """The bytes of one image's im2col columns (C·FH·FW × OH·OW values), the measure of a block."""
    return w[0].size * out[0] * out[1] * np.result_type(x, w).itemsize


def _conv2d_forward(x: NDArray[Any], w: NDArray[Any], b: NDArray[Any] | None,
                    stride: Pair, padding: Pair, out: Pair) -> NDArray[Any]:
    k = w.shape[0]
    y = np.empty((x.shape[0], k, *out), dtype=np.result_type(x, w))
    w_rows = w.reshape(k, -1)                             # row k: kernel k's weights W_kp

    def one_block(block: slice) -> None:                  # a few images of the batch
        cols = _im2col(x[block], w.shape[2:], stride, padding, out)  # [P = C·FH·FW, n·OH·OW]
        y_block = (w_rows @ cols).reshape(k, -1, *out)    # y_k = Σ_p W_kp · pixel_p, every k
        if b is not None:
            y_block += b[:, None, None, None]             # + b_k
        y[block] = y_block.transpose(1, 0, 2, 3)          # [n, K, OH, OW]

    for_each_block(x.shape[0], _cols_bytes(x, w, out), one_block)
    return y


def _conv2d_backward(dy: NDArray[Any], x: NDArray[Any], w: NDArray[Any], stride: Pair,
                     padding: Pair) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    c, h, wd = x.shape[1:]
    k, _, fh, fw = w.shape
    ph, pw = padding
    out = dy.shape[2:]
    dx = np.empty(x.shape, dtype=np.result_type(w, dy))
    w_rows = w.reshape(k, -1)

    def one_block(block: slice) -> tuple[NDArray[Any], NDArray[Any]]:
        n = dy[block].shape[0]
        cols = _im2col(x[block], (fh, fw), stride, padding, out)  # pixel_p of every window
        delta = dy[block].transpose(1, 0, 2, 3).reshape(k, -1)    # ∂L/∂y     [K, n·OH·OW]
        dcols = w_rows.T @ delta                          # ∂L/∂pixel_p = Σ_k W_kp · ∂L/∂y_k
        dcols = dcols.reshape(c, fh * fw, n, *out)
        dxp = np.zeros((c, n, h + 2 * ph, wd + 2 * pw), dtype=dx.dtype)
        for t, tap in enumerate(_taps(dxp, (fh, fw), stride, out)):  # every tap sends its share
            tap += dcols[:, t]                            # back to the pixels it read; overlaps add
        dx[block] = dxp[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3)
        dw = (cols @ delta.T).T                           # ∂L/∂W_kp = Σ ∂L/∂y_k · pixel_p
                                                          # (as [P, K]: BLAS's faster way round)
        db = delta.sum(axis=1)                            # ∂L/∂b_k = Σ_{n,i,j} ∂L/∂y_k
        return dw, db

    parts = for_each_block(x.shape[0], _cols_bytes(x, w, out), one_block)
    dw = functools.reduce(np.add, (dw for dw, _ in parts))  # the blocks' sums, added up
    db = functools.reduce(np.add, (db for _, db in parts))
    return dx, dw.reshape(w.shape), db


# ---------------------------------------------------------------- checks
class _Conv(NamedTuple):
    x: FloatArray
    w: FloatArray
    b: FloatArray | None
    stride: Pair
    padding: Pair
    out: Pair


_LAYOUT = {2: ("[N, C, H, W]", "[K, C, FH, FW]", ("H", "W")),
           1: ("[N, C, L]", "[K, C, F]", ("L",))}


def _conv_inputs(func: str, x: Any, w: Any, b: Any, stride: Any, padding: Any,
                 spatial: int) -> _Conv:
    x_layout, w_layout, axes = _LAYOUT[spatial]
    x = as_float_array(func, "x", x)
    if x.ndim != spatial + 2:
        raise fail(func, f"x must be {spatial + 2}-D {x_layout}, got {x.ndim}-D with shape "
                         f"{x.shape} (no layout is guessed; a single example needs x[None])")
    w = as_float_array(func, "w", w, finite=True)
    if w.ndim != spatial + 2:
        raise fail(func, f"w must be {spatial + 2}-D {w_layout}, got {w.ndim}-D with shape "
                         f"{w.shape}")
    if 0 in x.shape or 0 in w.shape:
        raise fail(func, f"x and w must not have empty axes, got x.shape = {x.shape}, "
                         f"w.shape = {w.shape}")
    if w.shape[1] != x.shape[1]:
        raise fail(func, f"kernel has {w.shape[1]} input channels but x has {x.shape[1]} "
                         f"(x.shape = {x.shape}, w.shape = {w.shape})")
    if b is not None:
        b = as_float_array(func, "b", b, finite=True)
        if b.shape != (w.shape[0],):
            raise fail(func, f"b must have shape ({w.shape[0]},), one bias per kernel, got "
                             f"{b.shape} (w.shape = {w.shape})")
    if spatial == 1:
        s2 = (1, positive_int(func, "stride", stride))
        if isinstance(padding, bool) or not isinstance(padding, numbers.Integral):
            raise TypeError(f"{func}: padding must be an integer, got {padding!r}")
        p2 = (0, nonnegative_pair(func, "padding", padding)[1])
    else:
        s2 = positive_pair(func, "stride", stride)
        p2 = nonnegative_pair(func, "padding", padding)
    out = [_output_size(func, a, n, f, s, p)
           for a, n, f, s, p in zip(axes, x.shape[2:], w.shape[2:], s2[-spatial:], p2[-spatial:])]
    return _Conv(x, w, b, s2, p2, (1, out[0]) if spatial == 1 else (out[0], out[1]))


def _upstream(func: str, dy: Any, shape: tuple[int, ...]) -> FloatArray:
    dy = as_float_array(func, "dy", dy)
    if dy.shape != shape:
        raise fail(func, f"dy must have the output's shape {shape}, got {dy.shape}")
    return dy


# ---------------------------------------------------------------- conv2d
def conv2d(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0) -> FloatArray:
    """y[n, k, i, j] = Σ_p W_kp · pixel_p + b_k: every kernel k laid over every window (i, j).

    The sum runs over the taps p = (c, u, v) of a window, across all C input channels; the
    window of output (i, j) starts at pixel (SH·i, SW·j) of the zero-padded input.

    Shapes
    ------
    x [N, C, H, W], w [K, C, FH, FW], b [K] or None → y [N, K, OH, OW] with
    OH = (H + 2PH − FH)/SH + 1 and OW = (W + 2PW − FW)/SW + 1.

    Parameters
    ----------
    stride, padding : an int (both axes) or a pair (vertical, horizontal); stride ≥ 1,
        padding ≥ 0 (zeros, on both sides).

    Raises
    ------
    ValueError
        For x or w not 4-D, a channel mismatch, b not [K], a kernel larger than the padded input,
        a geometry that doesn't fit, a stride < 1, a negative padding, non-finite w or b.
    TypeError
        For non-real arrays or non-integer stride/padding.

    Notes
    -----
    Cross-correlation (no kernel flip), as the slides and every framework compute it.
    """
    g = _conv_inputs("conv2d", x, w, b, stride, padding, spatial=2)
    return _conv2d_forward(g.x, g.w, g.b, g.stride, g.padding, g.out)


def conv2d_backward(dy: Any, x: Any, w: Any, b: Any = None, stride: Any = 1,
                    padding: Any = 0) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Gradients of conv2d: ∂L/∂W_kp = Σ_{n,i,j} ∂L/∂y[n, k, i, j] · pixel_p of window (n, i, j),
    ∂L/∂pixel_p = Σ_k W_kp ∂L/∂y_k (summed over the windows that read the pixel),
    ∂L/∂b_k = Σ_{n,i,j} ∂L/∂y[n, k, i, j].

    Shapes: dy [N, K, OH, OW] and conv2d's arguments → (dx [N, C, H, W], dw [K, C, FH, FW],
    db [K], or None when b is None). A pixel read by several windows gets the sum of their
    contributions; padded zeros get none (their gradient is dropped).

    Raises: as conv2d, and ValueError when dy is not shaped like conv2d's output.
    """
    g = _conv_inputs("conv2d_backward", x, w, b, stride, padding, spatial=2)
    dy = _upstream("conv2d_backward", dy, (g.x.shape[0], g.w.shape[0], *g.out))
    dx, dw, db = _conv2d_backward(dy, g.x, g.w, g.stride, g.padding)
    return dx, dw, (db if g.b is not None else None)


# ---------------------------------------------------------------- conv1d ("CNNs for text")
def word_channels(words: Any) -> FloatArray:
    """A batch of sentences of word vectors [N, L, d] as conv1d input [N, d, L].

    The d components of a word vector become the channels, so a conv1d kernel [K, d, F]
    covers the full embedding width and F consecutive words: it is the 2-D kernel [K, 1, F, d]
    sliding down the [L, d] "image" of the sentence, which can only move along the words.
    """
    words = as_float_array("word_channels", "words", words, ndim=3)
    return np.ascontiguousarray(words.transpose(0, 2, 1))


def conv1d(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0) -> FloatArray:
    """y[n, k, t] = Σ_{c,f} w[k, c, f] · x_pad[n, c, S·t + f] + b_k: conv2d along one axis.

    "CNNs for text": with x = word_channels(sentences) the channels are the embedding
    dimensions, and each kernel reads F consecutive whole word vectors.

    Shapes: x [N, C, L], w [K, C, F], b [K] or None → y [N, K, OL], OL = (L + 2P − F)/S + 1.
    stride (≥ 1) and padding (≥ 0) are ints. Raises as conv2d.
    """
    g = _conv_inputs("conv1d", x, w, b, stride, padding, spatial=1)
    y = _conv2d_forward(g.x[:, :, None, :], g.w[:, :, None, :], g.b, g.stride, g.padding, g.out)
    return y[:, :, 0, :]


def conv1d_backward(dy: Any, x: Any, w: Any, b: Any = None, stride: Any = 1,
                    padding: Any = 0) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Gradients of conv1d: (dx [N, C, L], dw [K, C, F], db [K] or None), as conv2d_backward."""
    g = _conv_inputs("conv1d_backward", x, w, b, stride, padding, spatial=1)
    dy = _upstream("conv1d_backward", dy, (g.x.shape[0], g.w.shape[0], g.out[1]))
    dx, dw, db = _conv2d_backward(dy[:, :, None, :], g.x[:, :, None, :], g.w[:, :, None, :],
                                  g.stride, g.padding)
    return dx[:, :, 0, :], dw[:, :, 0, :], (db if g.b is not None else None)


# ---------------------------------------------------------------- parameter counts
def conv_parameter_count(kernel_size: Any, in_channels: int, out_channels: int = 1, *,
                         bias: bool = True) -> int:
    """K·(FH·FW·C) weights (+ K biases): a 5×5 kernel on RGB has 5·5·3 = 75 weights.

    The count does not depend on the image size: the same kernels slide over the whole image.
    ``kernel_size`` is F or (FH, FW).
    """
    fh, fw = positive_pair("conv_parameter_count", "kernel_size", kernel_size)
    c = positive_int("conv_parameter_count", "in_channels", in_channels)
    k = positive_int("conv_parameter_count", "out_channels", out_channels)
    if not isinstance(bias, bool):
        raise TypeError(f"conv_parameter_count: bias must be True or False, got {bias!r}")
    return k * fh * fw * c + (k if bias else 0)


def _image_size(func: str, height: int, width: int, channels: int) -> int:
    h = positive_int(func, "height", height)
    w = positive_int(func, "width", width)
    return h * w * positive_int(func, "channels", channels)


def image_input_count(height: int, width: int, channels: int) -> int:
    """H·W·C values in an image: 200×200 pixels × 3 channels = 120,000."""
    return _image_size("image_input_count", height, width, channels)


def fully_connected_weight_count(height: int, width: int, channels: int,
                                 outputs: int | None = None) -> int:
    """Weights of a fully connected layer on an image: (H·W·C) · outputs, outputs = H·W·C by
    default, so (200·200·3)² = 14,400,000,000 (the lecture's motivation for convolutions).

    Exact Python integers (no overflow).
    """
    inputs = _image_size("fully_connected_weight_count", height, width, channels)
    m = inputs if outputs is None else positive_int("fully_connected_weight_count", "outputs",
                                                    outputs)
    return inputs * m
