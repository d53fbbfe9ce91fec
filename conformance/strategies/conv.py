"""Strategies for convolution and pooling: geometries that fit, drawn sizes first.

A geometry is drawn backwards from its output: output size, kernel size, stride and padding
first, then the input size that makes (H + 2P − F)/S + 1 come out exactly (the "doesn't fit"
rule of CONVENTIONS.md: the conformance cases use only geometries that fit). Arrays of the
consistent shapes are drawn last. Layout NCHW, kernels [K, C, FH, FW], per-axis stride and
padding as (vertical, horizontal) pairs::

    from conformance.strategies import conv_cases, pool_cases

    @given(conv_cases())
    def test_my_conv(case):
        y = my_conv2d(case.x, case.w, case.b, case.stride, case.padding)
        assert y.shape == case.geometry.out_shape
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from conformance.strategies.basic import arrays, once
from conformance.strategies.draws import Draws, HypothesisDraws

__all__ = [
    "ConvCase",
    "ConvGeometry",
    "PoolCase",
    "PoolGeometry",
    "conv_cases",
    "conv_geometries",
    "pool_cases",
    "pool_geometries",
]


@dataclass(frozen=True)
class ConvGeometry:
    """Sizes of a conv2d that fits: x [N, C, H, W], w [K, C, FH, FW], y [N, K, OH, OW]."""

    n: int
    c: int
    k: int
    h: int
    w: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    out: tuple[int, int]

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, self.h, self.w)

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return (self.k, self.c, *self.kernel)

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.k, *self.out)


def axis(d: Draws, name: str, max_kernel: int, max_stride: int, max_padding: int,
         max_out: int) -> tuple[int, int, int, int, int]:
    """One spatial axis that fits exactly: (input size, kernel, stride, padding, output size)."""
    out = d.integer(1, max_out, f"O{name}")
    f = d.integer(1, max_kernel, f"F{name}")
    s = d.integer(1, max_stride, f"S{name}")
    span = (out - 1) * s + f                       # the padded input the windows cover exactly
    p = d.integer(0, min(max_padding, (span - 1) // 2), f"P{name}")
    return span - 2 * p, f, s, p, out


def conv_geometry(d: Draws, *, max_batch: int = 3, max_channels: int = 4, max_kernels: int = 4,
                  max_kernel: int = 4, max_stride: int = 3, max_padding: int = 2,
                  max_out: int = 4) -> ConvGeometry:
    """One conv2d geometry from ``d`` (see ``conv_geometries``)."""
    n = d.integer(1, max_batch, "N")
    c = d.integer(1, max_channels, "C")
    k = d.integer(1, max_kernels, "K")
    h, fh, sh, ph, oh = axis(d, "H", max_kernel, max_stride, max_padding, max_out)
    w, fw, sw, pw, ow = axis(d, "W", max_kernel, max_stride, max_padding, max_out)
    return ConvGeometry(n, c, k, h, w, (fh, fw), (sh, sw), (ph, pw), (oh, ow))


@once
@st.composite
def conv_geometries(draw: st.DrawFn, *, max_batch: int = 3, max_channels: int = 4,
                    max_kernels: int = 4, max_kernel: int = 4, max_stride: int = 3,
                    max_padding: int = 2, max_out: int = 4) -> ConvGeometry:
    """A conv2d geometry that fits, per-axis kernel, stride and padding (square or not).

    N in 1..``max_batch``, C in 1..``max_channels``, K in 1..``max_kernels``; per axis an output
    size in 1..``max_out``, a kernel size in 1..``max_kernel``, a stride in 1..``max_stride`` and a
    padding in 0..``max_padding`` with 2P < (O − 1)·S + F, so the input size H is at least 1 and
    (H + 2P − F)/S + 1 = O exactly.
    """
    return conv_geometry(HypothesisDraws(draw), max_batch=max_batch, max_channels=max_channels,
                         max_kernels=max_kernels, max_kernel=max_kernel, max_stride=max_stride,
                         max_padding=max_padding, max_out=max_out)


@dataclass(frozen=True)
class ConvCase:
    """A conv2d call that fits: x, w, b (or None), stride, padding and an upstream gradient dy
    shaped like the output."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    stride: tuple[int, int]
    padding: tuple[int, int]
    dy: np.ndarray
    geometry: ConvGeometry


def conv_case(d: Draws, g: ConvGeometry, *, bias: bool | None = None,
              bound: float = 2.0) -> ConvCase:
    """The arrays of a conv2d case of geometry ``g`` from ``d`` (see ``conv_cases``)."""
    with_bias = d.boolean("bias") if bias is None else bias
    return ConvCase(
        x=d.array(g.x_shape, bound, "x"),
        w=d.array(g.w_shape, bound, "w"),
        b=d.array((g.k,), bound, "b") if with_bias else None,
        stride=g.stride,
        padding=g.padding,
        dy=d.array(g.out_shape, bound, "dy"),
        geometry=g,
    )


@once
@st.composite
def conv_cases(draw: st.DrawFn, *, bias: bool | None = None, bound: float = 2.0,
               geometries: st.SearchStrategy[ConvGeometry] | None = None,
               values: Callable[..., st.SearchStrategy[np.ndarray]] = arrays) -> ConvCase:
    """A conv2d case: a geometry that fits (from ``geometries``, ``conv_geometries()`` by
    default), then float64 arrays of its shapes, x [N, C, H, W], w [K, C, FH, FW], b [K] and
    dy [N, K, OH, OW], with finite values in [−bound, bound] (``bound`` = 2 by default), drawn
    by ``values(shape, bound=bound)`` (``arrays`` by default; property mode draws
    ``packed_arrays``). ``bias``: True (b an array), False (b None), or None to draw either."""
    g = draw(conv_geometries() if geometries is None else geometries, label="geometry")
    return conv_case(HypothesisDraws(draw, values), g, bias=bias, bound=bound)


@dataclass(frozen=True)
class PoolGeometry:
    """Sizes of a pooling that fits (no padding): x [N, C, H, W] → y [N, C, OH, OW]."""

    n: int
    c: int
    h: int
    w: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    out: tuple[int, int]

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, self.h, self.w)

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, *self.out)

    @property
    def overlapping(self) -> bool:
        """Whether some pixel lies in more than one window (a stride smaller than the window)."""
        return self.stride[0] < self.kernel[0] or self.stride[1] < self.kernel[1]


def pool_geometry(d: Draws, *, max_batch: int = 3, max_channels: int = 4, max_kernel: int = 3,
                  max_stride: int = 3, max_out: int = 4, overlap: bool = True) -> PoolGeometry:
    """One pooling geometry from ``d`` (see ``pool_geometries``)."""
    n = d.integer(1, max_batch, "N")
    c = d.integer(1, max_channels, "C")
    sizes = []
    for name in ("H", "W"):
        out = d.integer(1, max_out, f"O{name}")
        f = d.integer(1, max_kernel, f"K{name}")
        s = d.integer(1 if overlap else f, max(max_stride, f), f"S{name}")
        sizes.append(((out - 1) * s + f, f, s, out))
    (h, kh, sh, oh), (w, kw, sw, ow) = sizes
    return PoolGeometry(n, c, h, w, (kh, kw), (sh, sw), (oh, ow))


@st.composite
def pool_geometries(draw: st.DrawFn, *, max_batch: int = 3, max_channels: int = 4,
                    max_kernel: int = 3, max_stride: int = 3, max_out: int = 4,
                    overlap: bool = True) -> PoolGeometry:
    """A pooling geometry that fits (no padding): N in 1..``max_batch``, C in 1..``max_channels``;
    per axis an output size in 1..``max_out``, a window in 1..``max_kernel`` and a stride in
    1..max(``max_stride``, window); the input size is (O − 1)·S + F, so every window lies inside x.
    ``overlap=False`` draws strides ≥ the window (distinct patches, as the slides' pooling)."""
    return pool_geometry(HypothesisDraws(draw), max_batch=max_batch, max_channels=max_channels,
                         max_kernel=max_kernel, max_stride=max_stride, max_out=max_out,
                         overlap=overlap)


@dataclass(frozen=True)
class PoolCase:
    """A pooling call that fits: x, kernel_size, stride and an upstream gradient dy."""

    x: np.ndarray
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    dy: np.ndarray
    geometry: PoolGeometry


def pool_case(d: Draws, g: PoolGeometry, *, distinct: bool = False,
              bound: float = 2.0) -> PoolCase:
    """The arrays of a pooling case of geometry ``g`` from ``d`` (see ``pool_cases``)."""
    if distinct:
        size = int(np.prod(g.x_shape))
        order = d.permutation(size, "order of x")
        x = ((order - (size - 1) / 2) * (2 * bound / size)).reshape(g.x_shape)
    else:
        x = d.array(g.x_shape, bound, "x")
    return PoolCase(x, g.kernel, g.stride, d.array(g.out_shape, bound, "dy"), g)


@st.composite
def pool_cases(draw: st.DrawFn, *, distinct: bool = False, bound: float = 2.0,
               geometries: st.SearchStrategy[PoolGeometry] | None = None,
               values: Callable[..., st.SearchStrategy[np.ndarray]] = arrays) -> PoolCase:
    """A pooling case: a geometry that fits (from ``geometries``, ``pool_geometries()`` by
    default), then float64 arrays x [N, C, H, W] and dy [N, C, OH, OW] with finite values in
    [−bound, bound] (``bound`` = 2 by default), drawn by ``values(shape, bound=bound)``
    (``arrays`` by default; property mode draws ``packed_arrays``).

    ``distinct=True`` draws x instead as a shuffled even grid of values inside (−bound, bound)
    (no ties: neighbours 2·bound/size apart, size = x.size; the order a ``packed_permutations``),
    so that a max pool's gradient is defined everywhere and finite differences can check it.
    """
    g = draw(pool_geometries() if geometries is None else geometries, label="geometry")
    return pool_case(HypothesisDraws(draw, values), g, distinct=distinct, bound=bound)
