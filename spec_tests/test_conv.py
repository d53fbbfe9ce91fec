"""Spec of reference.conv (lecture: "Kernels", "Kernel: 3x3 Example", "Convolution Settings",
"Details about the convolution layer", "Convolution layer examples", "Motivation – Image Data";
Part III's "CNNs for text").

Claims: conv.kernel, conv.sharing, conv.grid-size, conv.padding, conv.stride, conv.depth,
conv.output-size, conv.fc-cost, cnn.text; conventions nchw, cross-correlation, doesnt-fit.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from conformance.cases import Case
from conformance.strategies import (
    ConvCase,
    ConvGeometry,
    arrays,
    conv1d_cases,
    conv_cases,
    conv_geometries,
    shapes,
)
from reference import conv as C
from reference.fixtures import slide_case
from reference.gradcheck import check_gradients
from reference.tolerance import EXACT, Tolerance, assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch
from spec_tests.helpers.symbolic import derive, symbols
from spec_tests.helpers.tolerances import op_tolerance, torch_tolerances


def _one(image: Any) -> np.ndarray:
    """A single-channel image [H, W] as an NCHW batch of one."""
    return np.asarray(image, dtype=np.float64)[None, None]


def _tol(x: Any, w: Any, stride: Any, padding: Any, gradient: bool = False,
         results: int = 1) -> Tolerance:
    """The policy's tolerance for conv2d on this geometry (terms from the contract's rule)."""
    return op_tolerance("conv2d", {"x": x, "w": w}, {"stride": stride, "padding": padding},
                        gradient=gradient, results=results)


# ---------------------------------------------------------------- slides
@pytest.mark.claim("conv.kernel", "convention.cross-correlation")
@pytest.mark.slides
def test_sobel_kernel_over_the_slide_patch_gives_2() -> None:
    case = slide_case("sobel_patch")
    patch, kernel = _one(case["inputs"]["patch"]), _one(case["inputs"]["kernel"])
    assert_close(C.conv2d(patch, kernel), _one(case["expected"]["y"]), EXACT, what="Sobel patch")
    # a flipped kernel (true convolution) would give −2 here: the slide computes correlation
    assert C.conv2d(patch, kernel[..., ::-1, ::-1])[0, 0, 0, 0] == -2.0


@pytest.mark.claim("conv.padding", "convention.cross-correlation")
@pytest.mark.slides
@pytest.mark.parametrize("name", ["conv_5x5_no_padding", "conv_5x5_padding_1"])
def test_the_slides_5x5_input_without_and_with_zero_padding(name: str) -> None:
    case = slide_case(name)
    x, k = _one(case["inputs"]["x"]), _one(case["inputs"]["kernel"])
    p = case["params"]["padding"]
    y = C.conv2d(x, k, None, case["params"]["stride"], p)
    assert_close(y, _one(case["expected"]["y"]), EXACT, what=f"{name}: y")
    if "x_padded" in case["expected"]:
        assert_close(C.zero_pad(x, p), _one(case["expected"]["x_padded"]), EXACT,
                     what=f"{name}: the padded input")
        assert y.shape[2:] == x.shape[2:], "padding 1 lets every pixel be a centre: 5×5 out"


@pytest.mark.claim("conv.stride")
@pytest.mark.slides
@pytest.mark.parametrize("name", ["conv_5x5_stride_2", "conv_5x5_stride_2_padding_1"])
def test_the_slides_stride_2_examples_shrink_the_output(name: str) -> None:
    case = slide_case(name)
    x, k = _one(case["inputs"]["x"]), _one(case["inputs"]["kernel"])
    y = C.conv2d(x, k, None, case["params"]["stride"], case["params"]["padding"])
    assert_close(y, _one(case["expected"]["y"]), EXACT, what=name)


@pytest.mark.claim("conv.output-size", "convention.doesnt-fit")
@pytest.mark.slides
def test_output_sizes_of_7x7_input_with_3x3_filter_and_strides_1_2_3() -> None:
    case = slide_case("output_size_7x7_strides")
    n, f = case["inputs"]["n"], case["inputs"]["f"]
    for stride, size in case["expected"]["sizes"].items():
        assert C.output_size(n, f, int(stride)) == size
        assert C.conv2d(np.zeros((1, 1, n, n)), np.ones((1, 1, f, f)), None,
                        int(stride)).shape == (1, 1, size, size)
    for stride, arithmetic in case["expected"]["refused"].items():
        with pytest.raises(ValueError, match=r"doesn't fit.*" + re.escape(arithmetic)):
            C.output_size(n, f, int(stride))
        with pytest.raises(ValueError, match=r"^conv2d: .*\(7 − 3\)/3 \+ 1 = 2\.33"):
            C.conv2d(np.zeros((1, 1, n, n)), np.ones((1, 1, f, f)), None, int(stride))


@pytest.mark.claim("conv.output-size", "conv.padding")
@pytest.mark.slides
def test_padding_of_f_minus_1_over_2_keeps_size() -> None:
    keep = slide_case("output_size_pad_1_keeps_7x7")
    i, p = keep["inputs"], keep["params"]
    assert C.output_size(i["n"], i["f"], p["stride"], p["pad"]) == keep["expected"]["size"]
    same = slide_case("same_padding_odd_f")
    assert [C.same_padding(f) for f in same["inputs"]["f"]] == same["expected"]["pad"]


@pytest.mark.claim("conv.output-size", "conv.depth")
@pytest.mark.slides
@pytest.mark.parametrize("name", ["conv_layer_ten_5x5_filters_pad_2", "conv_layer_six_5x5_filters"])
def test_conv_layer_output_volumes_of_the_slides(name: str) -> None:
    case = slide_case(name)
    h, w, c = case["inputs"]["input_volume"]
    p = case["params"]
    x = np.zeros((1, c, h, w))                                   # the slide's H×W×C as NCHW
    kernels = np.zeros((p["filters"], c, p["f"], p["f"]))        # filters span the full depth
    y = C.conv2d(x, kernels, np.zeros(p["filters"]), p["stride"], p["pad"])
    oh, ow, depth = case["expected"]["output_volume"]
    assert y.shape == (1, depth, oh, ow), \
        f"y.shape = {y.shape}, but should be NCHW of {oh}×{ow}×{depth}"
    assert C.output_size(h, p["f"], p["stride"], p["pad"]) == oh


@pytest.mark.claim("conv.depth")
@pytest.mark.slides
def test_a_5x5_kernel_on_rgb_has_75_weights() -> None:
    case = slide_case("kernel_depth_75_weights")
    i, p = case["inputs"], case["params"]
    assert C.conv_parameter_count(i["kernel_size"], i["channels"], p["filters"],
                                  bias=p["bias"]) == case["expected"]["weights"]
    assert C.conv_parameter_count((5, 5), 3) == 76, "one bias per kernel on top"


@pytest.mark.claim("conv.fc-cost")
@pytest.mark.slides
def test_fully_connected_on_200x200x3_needs_120000_inputs_and_14_4_billion_weights() -> None:
    case = slide_case("fc_cost_200x200x3")
    i = case["inputs"]
    assert C.image_input_count(i["height"], i["width"], i["channels"]) == case["expected"]["inputs"]
    weights = C.fully_connected_weight_count(i["height"], i["width"], i["channels"])
    assert weights == case["expected"]["weights"] and isinstance(weights, int)
    # versus one 5×5 kernel on the same image: the same 75 weights at every position
    assert weights // C.conv_parameter_count(5, 3, bias=False) == 192_000_000


# ---------------------------------------------------------------- sympy
def _conv_sym(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: tuple[int, int],
              padding: tuple[int, int]) -> tuple[sp.Expr, dict[str, np.ndarray]]:
    """L = Σ g ∘ conv(x, w, b), written as the textbook loop over outputs and taps."""
    x, w, b = symbols("x", x_shape), symbols("w", w_shape), symbols("b", w_shape[0])
    (n, c, h, wd), (k, _, fh, fw) = x_shape, w_shape
    (sh, sw), (ph, pw) = stride, padding
    oh, ow = (h + 2 * ph - fh) // sh + 1, (wd + 2 * pw - fw) // sw + 1
    g = symbols("g", (n, k, oh, ow))
    terms = []
    for m, j, i, jj in np.ndindex(n, k, oh, ow):
        taps = [b[j]]
        for ch, u, v in np.ndindex(c, fh, fw):
            r, q = sh * i + u - ph, sw * jj + v - pw          # the pixel under tap (u, v)
            if 0 <= r < h and 0 <= q < wd:                    # padded pixels are zeros
                taps.append(w[j, ch, u, v] * x[m, ch, r, q])
        terms.append(g[m, j, i, jj] * sp.Add(*taps))          # g · (b_k + Σ_p W_p · pixel_p)
    return sp.Add(*terms), {"x": x, "w": w, "b": b, "g": g}


def _conv_square() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    return _conv_sym((1, 2, 4, 4), (2, 2, 3, 3), (1, 1), (1, 1))


def _conv_strided() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    return _conv_sym((1, 2, 5, 4), (2, 2, 3, 2), (2, 1), (1, 0))


@pytest.mark.claim("conv.kernel", "conv.padding", "conv.stride", "conv.grid-size")
@pytest.mark.sympy
@pytest.mark.parametrize(("builder", "stride", "padding"),
                         [(_conv_square, (1, 1), (1, 1)), (_conv_strided, (2, 1), (1, 0))])
def test_conv2d_and_its_gradients_match_the_symbolic_sum(builder: Any, stride: tuple[int, int],
                                                         padding: tuple[int, int]) -> None:
    derived = derive(builder)
    rng = np.random.default_rng(3)
    values = {k: rng.normal(size=s.shape) for k, s in derived.inputs.items()}
    _, grads = derived(**values)
    x, w, b, g = values["x"], values["w"], values["b"], values["g"]
    tol = _tol(x, w, stride, padding, gradient=True)
    # ∂L/∂g is the conv output itself: the forward, checked symbolically
    assert_close(C.conv2d(x, w, b, stride, padding), grads["g"], _tol(x, w, stride, padding),
                 what="y vs SymPy")
    dx, dw, db = C.conv2d_backward(g, x, w, b, stride, padding)
    assert_close(dx, grads["x"], tol, what="∂L/∂x vs SymPy")
    assert_close(dw, grads["w"], tol, what="∂L/∂w vs SymPy")
    assert_close(db, grads["b"], tol, what="∂L/∂b vs SymPy")


@pytest.mark.claim("conv.output-size")
@pytest.mark.sympy
def test_output_size_formula_as_an_identity() -> None:
    """SymPy's O = (N + 2P − F)/S + 1 (the last window starts at (O − 1)·S and ends at the padded
    input's end; P = (F − 1)/2 keeps the size at stride 1) against the reference: output_size
    equals O wherever O is whole and the kernel fits, refuses every other geometry, conv2d's
    output has O rows and O columns, and same_padding(F) is SymPy's solution of O = N.
    Bugs it catches (each tried): output_size with the padding on one side only, (N + P − F)/S
    + 1; with the padding ignored; flooring a geometry that doesn't fit, (7 − 3)//3 + 1 = 2,
    instead of refusing it; same_padding returning F//2 − 1."""
    N, F_, S, P = sp.symbols("N F S P", positive=True)
    O = (N + 2 * P - F_) / S + 1
    # the last of the O windows starts at (O − 1)·S and ends exactly at the padded input's end
    assert sp.simplify((O - 1) * S + F_ - (N + 2 * P)) == 0
    # with stride 1, padding (F − 1)/2 preserves the size
    assert sp.simplify(O.subs({S: 1, P: (F_ - 1) / 2}) - N) == 0
    # the slide's numbers: (7 − 3)/3 + 1 = 7/3 is not whole, (32 + 2·2 − 5)/1 + 1 = 32
    assert O.subs({N: 7, F_: 3, S: 3, P: 0}) == sp.Rational(7, 3)
    assert O.subs({N: 32, F_: 5, S: 1, P: 2}) == 32
    # the reference computes exactly this O, and refuses where it is not a whole number ≥ 1
    for n in range(1, 10):
        for f in range(1, 7):
            for stride in range(1, 4):
                for pad in range(3):
                    want = O.subs({N: n, F_: f, S: stride, P: pad})      # exact, a Rational
                    if f <= n + 2 * pad and want.is_integer:
                        assert C.output_size(n, f, stride, pad) == want, (n, f, stride, pad)
                    else:
                        with pytest.raises(ValueError, match=r"^output_size: "):
                            C.output_size(n, f, stride, pad)
    y = C.conv2d(np.zeros((1, 1, 9, 7)), np.zeros((1, 1, 3, 5)), None, stride=(3, 1),
                 padding=(0, 2))
    assert y.shape[2:] == (O.subs({N: 9, F_: 3, S: 3, P: 0}), O.subs({N: 7, F_: 5, S: 1, P: 2}))
    Q = sp.Symbol("Q")                          # the padding, 0 allowed
    for f in (1, 3, 5, 7, 9):
        (solution,) = sp.solve(sp.Eq(O.subs({S: 1, F_: f, P: Q}), N), Q)
        assert C.same_padding(f) == solution, f"same_padding({f})"


# ---------------------------------------------------------------- torch
# (N, C, K, OH, OW, FH, FW, SH, SW, PH, PW, bias): the input size is derived so that it fits
GEOMETRIES = [
    (1, 1, 1, 3, 3, 3, 3, 1, 1, 0, 0, True),     # the slide's setting
    (2, 3, 4, 4, 5, 3, 3, 1, 1, 1, 1, True),     # "same" padding, non-square image
    (3, 2, 3, 3, 2, 1, 3, 1, 1, 0, 0, False),    # a 1×3 kernel (grid size)
    (1, 4, 2, 2, 4, 3, 1, 1, 1, 0, 0, True),     # a 3×1 kernel
    (2, 2, 2, 3, 3, 3, 3, 2, 2, 0, 0, True),     # stride 2
    (2, 3, 1, 2, 3, 3, 3, 3, 3, 1, 1, True),     # stride 3 with padding
    (1, 2, 4, 3, 2, 2, 3, 1, 2, 0, 1, False),    # per-axis stride and padding
    (3, 1, 2, 2, 3, 3, 2, 3, 1, 2, 0, True),     # stride 3 by 1, padding 2 by 0
    (2, 4, 4, 4, 4, 5, 5, 1, 1, 2, 2, True),     # 5×5 with pad 2
    (1, 3, 3, 1, 1, 4, 3, 1, 1, 0, 0, True),     # kernel = input size
    (2, 2, 3, 3, 3, 1, 1, 2, 2, 0, 0, False),    # 1×1 kernel, stride 2
    (1, 1, 4, 2, 3, 2, 2, 2, 2, 1, 2, True),     # even kernel, padding larger on one axis
    (3, 4, 1, 2, 3, 3, 3, 2, 1, 2, 1, True),     # pad 2 with stride 2
    (2, 1, 3, 5, 1, 1, 3, 1, 1, 0, 1, True),     # a single output column
]


def _geometry(n: int, c: int, k: int, oh: int, ow: int, fh: int, fw: int, sh: int, sw: int,
              ph: int, pw: int) -> ConvGeometry:
    h, w = (oh - 1) * sh + fh - 2 * ph, (ow - 1) * sw + fw - 2 * pw
    return ConvGeometry(n, c, k, h, w, (fh, fw), (sh, sw), (ph, pw), (oh, ow))


@pytest.mark.claim("conv.kernel", "conv.padding", "conv.stride", "conv.depth", "conv.grid-size",
                   "convention.nchw", "convention.cross-correlation")
@pytest.mark.torch
@pytest.mark.parametrize("geo", GEOMETRIES,
                         ids=lambda g: "N{}C{}K{}O{}x{}F{}x{}S{}x{}P{}x{}b{:d}".format(*g))
def test_conv2d_and_its_gradients_match_torch(geo: tuple[Any, ...]) -> None:
    g = _geometry(*geo[:-1])
    rng = np.random.default_rng(sum(geo))
    x, w = rng.normal(size=g.x_shape), rng.normal(size=g.w_shape)
    b = rng.normal(size=g.k) if geo[-1] else None
    dy = rng.normal(size=g.out_shape)
    y = C.conv2d(x, w, b, g.stride, g.padding)
    dx, dw, db = C.conv2d_backward(dy, x, w, b, g.stride, g.padding)
    inputs = {"x": x, "w": w} | ({"b": b} if b is not None else {})
    grads = {"x": dx, "w": dw} | ({"b": db} if b is not None else {})
    assert (db is None) == (b is None)

    def torch_conv(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> Any:
        return F.conv2d(x, w, b, stride=g.stride, padding=g.padding)

    assert y.shape == g.out_shape
    assert_matches_torch(torch_conv, inputs, y, grads, dy, what=str(g),
                         **torch_tolerances("conv2d", inputs, {"stride": g.stride,
                                                               "padding": g.padding}))


# (N, C = embedding width d, K, L, F, S, P, bias)
TEXT = [(1, 4, 2, 7, 3, 1, 0, True), (2, 3, 3, 9, 2, 1, 1, False), (3, 5, 4, 11, 3, 2, 1, True),
        (2, 2, 1, 5, 5, 1, 2, True), (1, 6, 2, 8, 2, 3, 0, True)]


@pytest.mark.claim("cnn.text")
@pytest.mark.torch
@pytest.mark.parametrize(("n", "d", "k", "length", "f", "s", "p", "bias"), TEXT)
def test_conv1d_over_word_vectors_matches_torch(n: int, d: int, k: int, length: int, f: int,
                                                s: int, p: int, bias: bool) -> None:
    rng = np.random.default_rng(length + 10 * d)
    sentences = rng.normal(size=(n, length, d))            # N sentences of L word vectors
    x = C.word_channels(sentences)                         # [N, d, L]: dimensions as channels
    w, b = rng.normal(size=(k, d, f)), (rng.normal(size=k) if bias else None)
    y = C.conv1d(x, w, b, s, p)
    dy = rng.normal(size=y.shape)
    dx, dw, db = C.conv1d_backward(dy, x, w, b, s, p)
    inputs = {"x": x, "w": w} | ({"b": b} if b is not None else {})
    grads = {"x": dx, "w": dw} | ({"b": db} if b is not None else {})

    def torch_conv1d(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> Any:
        return F.conv1d(x, w, b, stride=s, padding=p)

    tols = torch_tolerances("conv1d", inputs, {"stride": s, "padding": p})
    assert_matches_torch(torch_conv1d, inputs, y, grads, dy, what="conv1d", **tols)

    # the same thing as a 2-D kernel [K, 1, F, d] covering the full embedding width, sliding down
    # the [L, d] "image" of each sentence: only one horizontal position fits
    def torch_text_as_image(words: torch.Tensor, w: torch.Tensor) -> Any:
        w2 = w.permute(0, 2, 1)[:, None]                   # [K, 1, F, d]
        return F.conv2d(words[:, None], w2, None, stride=(s, 1), padding=(p, 0))[..., 0]

    y_nob = C.conv1d(x, w, None, s, p)
    assert_matches_torch(torch_text_as_image, {"words": sentences, "w": w}, y_nob,
                         what="conv1d as a full-width 2-D kernel", **tols)


# ---------------------------------------------------------------- properties
@pytest.mark.claim("conv.kernel")
@pytest.mark.property
@given(conv_cases(bias=False), st.floats(-3, 3), st.data())
def test_conv_is_linear_in_x_and_in_w(case: ConvCase, alpha: float, data: st.DataObject) -> None:
    g = case.geometry
    x2 = data.draw(arrays(g.x_shape, bound=2.0), label="x2")
    w2 = data.draw(arrays(g.w_shape, bound=2.0), label="w2")
    conv = lambda x, w: C.conv2d(x, w, None, case.stride, case.padding)  # noqa: E731
    # one side adds two convolutions' sums: their rounding adds up (results=2)
    tol = _tol(case.x, case.w, case.stride, case.padding, results=2)
    assert_close(conv(case.x + alpha * x2, case.w), conv(case.x, case.w) + alpha * conv(x2, case.w),
                 tol, what="conv(x + αx', w) vs conv(x, w) + α conv(x', w)")
    assert_close(conv(case.x, case.w + alpha * w2), conv(case.x, case.w) + alpha * conv(case.x, w2),
                 tol, what="conv(x, w + αw') vs conv(x, w) + α conv(x, w')")


@pytest.mark.claim("conv.sharing")
@pytest.mark.property
@given(conv_geometries(max_stride=1, max_padding=0), st.integers(1, 3), st.integers(0, 3),
       st.data())
def test_shifting_the_input_shifts_the_output_away_from_borders(
        g: ConvGeometry, dy: int, dx: int, data: st.DataObject) -> None:
    # "use same set of kernels across entire image": the same weights at every position, so a
    # shift of the input by (dy, dx) shifts the output by (dy, dx) where no border is involved
    x = data.draw(arrays((g.n, g.c, g.h + dy, g.w + dx), bound=2.0), label="x")
    w = data.draw(arrays(g.w_shape, bound=2.0), label="w")
    b = data.draw(arrays((g.k,), bound=2.0), label="b")
    whole = C.conv2d(x, w, b)
    moved = C.conv2d(x[:, :, dy:, dx:], w, b)            # the image moved up-left by (dy, dx)
    assert_close(moved, whole[:, :, dy:, dx:], _tol(x, w, 1, 0),
                 what="conv(shift(x)) vs shift(conv(x))")


@pytest.mark.claim("conv.sharing", "conv.depth")
@pytest.mark.property
@given(conv_cases(bias=True), st.integers(0, 4), st.integers(0, 4), st.booleans())
def test_the_parameter_count_is_the_kernels_a_conv_uses_whatever_the_image_size(
        case: ConvCase, more_h: int, more_w: int, bias: bool) -> None:
    g = case.geometry
    b = case.b if bias else None
    count = C.conv_parameter_count(g.kernel, g.c, g.k, bias=bias)
    # the count is the size of the arrays the convolution actually takes: K kernels
    # [K, C, FH, FW] spanning all C channels, and one bias per kernel
    assert count == case.w.size + (0 if b is None else b.size), (count, case.w.shape)
    # the same arrays serve a larger image (grown by whole strides, with zeros, so that the
    # windows still fit): "use same set of kernels across entire image"
    (sh, sw), (oh, ow) = g.stride, g.out
    bigger = np.pad(case.x, ((0, 0), (0, 0), (0, more_h * sh), (0, more_w * sw)))
    y = C.conv2d(bigger, case.w, b, case.stride, case.padding)
    assert y.shape == (g.n, g.k, oh + more_h, ow + more_w)
    # the windows of the smaller image sit at the same places in the larger one (its extra
    # zeros are where the smaller one had zero padding), so they give the same outputs
    assert_close(y[:, :, :oh, :ow], C.conv2d(case.x, case.w, b, case.stride, case.padding),
                 _tol(case.x, case.w, case.stride, case.padding),
                 what="the same kernels at the same places of a larger image")


@pytest.mark.claim("conv.output-size", "conv.padding")
@pytest.mark.property
@given(conv_geometries(), st.sampled_from([1, 3, 5, 7]), st.integers(1, 9), st.integers(1, 9))
def test_output_size_formula_for_every_geometry_that_fits(g: ConvGeometry, f: int, h: int,
                                                          w: int) -> None:
    for n, fk, s, p, o in zip((g.h, g.w), g.kernel, g.stride, g.padding, g.out):
        assert C.output_size(n, fk, s, p) == o
        # the same count as placing the window at every S-th start that stays inside
        assert len(range(0, n + 2 * p - fk + 1, s)) == o
    y = C.conv2d(np.ones(g.x_shape), np.ones(g.w_shape), None, g.stride, g.padding)
    assert y.shape == g.out_shape, f"y.shape={y.shape}, but should be {g.out_shape}"
    # padding (F − 1)/2 with stride 1 preserves the size ("same" padding)
    p = C.same_padding(f)
    same = C.conv2d(np.ones((1, 1, h, w)), np.ones((1, 1, f, f)), None, 1, p)
    assert same.shape == (1, 1, h, w)


@pytest.mark.claim("conv.depth")
@pytest.mark.property
@given(conv_cases(bias=True))
def test_each_kernel_spans_all_channels_and_makes_one_output_map(case: ConvCase) -> None:
    g = case.geometry
    y = C.conv2d(case.x, case.w, case.b, case.stride, case.padding)
    assert y.shape[1] == g.k, "output depth = number of kernels"
    tol = _tol(case.x, case.w, case.stride, case.padding)
    assert case.b is not None
    for j in range(g.k):
        # map j is kernel j alone: Σ over channels of single-channel correlations, plus b_j
        per_channel = sum(C.conv2d(case.x[:, c:c + 1], case.w[j:j + 1, c:c + 1], None,
                                   case.stride, case.padding) for c in range(g.c))
        assert_close(y[:, j:j + 1], per_channel + case.b[j], tol, what=f"map {j}")


@pytest.mark.claim("conv.grid-size")
@pytest.mark.property
@given(arrays((2, 1, 4, 6), bound=3.0), arrays((1, 1, 1, 3), bound=3.0))
def test_a_1x3_kernel_is_a_weighted_sum_of_three_horizontal_neighbours(x: np.ndarray,
                                                                       w: np.ndarray) -> None:
    # "Kernel does not need to be square": height 1, width 3
    y = C.conv2d(x, w)
    expected = sum(w[0, 0, 0, v] * x[:, :, :, v:v + 4] for v in range(3))
    assert y.shape == (2, 1, 4, 4)
    assert_close(y, expected, tolerance(np.float64, terms=3), what="1×3 kernel")
    # and its transpose, 3×1, sums vertical neighbours
    yt = C.conv2d(np.swapaxes(x, 2, 3), np.swapaxes(w, 2, 3))
    assert_close(yt, np.swapaxes(y, 2, 3), EXACT, what="3×1 kernel on the transposed image")


@pytest.mark.claim("conv.kernel", "conv.padding", "conv.stride")
@pytest.mark.property
@given(conv_cases(geometries=conv_geometries(max_batch=2, max_channels=2, max_kernels=2,
                                             max_kernel=3, max_out=3)))
def test_conv2d_gradients_match_finite_differences(case: ConvCase) -> None:
    dx, dw, db = C.conv2d_backward(case.dy, case.x, case.w, case.b, case.stride, case.padding)
    analytic = {"x": dx, "w": dw} | ({"b": db} if case.b is not None else {})
    inputs = {"x": case.x, "w": case.w} | ({"b": case.b} if case.b is not None else {})
    check_gradients(lambda **kw: C.conv2d(**kw, stride=case.stride, padding=case.padding),
                    inputs, case.dy, analytic)


@pytest.mark.claim("convention.no-mutation", "conv.kernel")
@pytest.mark.property
@given(conv_cases(bias=True))
def test_conv_leaves_its_inputs_alone(case: ConvCase) -> None:
    before = [a.copy() for a in (case.x, case.w, case.b, case.dy) if a is not None]
    C.conv2d(case.x, case.w, case.b, case.stride, case.padding)
    C.conv2d_backward(case.dy, case.x, case.w, case.b, case.stride, case.padding)
    C.zero_pad(case.x, case.padding)
    after = [a for a in (case.x, case.w, case.b, case.dy) if a is not None]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.claim("conv.padding", "convention.no-mutation")
@pytest.mark.property
@pytest.mark.parametrize("padding", [0, (0, 0), (1, 0), 2])
@given(arrays(shapes(min_dims=2, max_dims=4, max_side=4), bound=3.0))
def test_zero_pad_returns_a_new_array_even_without_padding(padding: Any, x: np.ndarray) -> None:
    """zero_pad "returns a new array": never x itself nor a view of it, also for padding 0, so
    writing into the result leaves x as it was."""
    before = x.copy()
    out = C.zero_pad(x, padding)
    assert out is not x and not np.shares_memory(out, x)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    assert_close(out[..., ph:out.shape[-2] - ph, pw:out.shape[-1] - pw], x, EXACT, what="centre")
    out[...] = 99.0
    assert np.array_equal(x, before), "writing into zero_pad's result changed x"


def _conv1d_textbook(x: np.ndarray, w: np.ndarray, b: np.ndarray, s: int,
                     p: int) -> tuple[np.ndarray, Any]:
    """y[n,k,i] = b[k] + Σ_{c,j} w[k,c,j]·xpad[n,c,S·i+j], one output at a time (an independent
    loop over word positions), and its vector-Jacobian product by the same loops."""
    N, C_, L = x.shape
    K, _, F_ = w.shape
    xp = np.zeros((N, C_, L + 2 * p))
    xp[:, :, p:p + L] = x                                  # P zero "words" on each side
    OL = (L + 2 * p - F_) // s + 1
    y = np.empty((N, K, OL))
    for n, k, i in np.ndindex(N, K, OL):                   # word position i of sentence n
        y[n, k, i] = b[k] + sum(w[k, c, j] * xp[n, c, s * i + j]
                                for c in range(C_) for j in range(F_))

    def vjp(dy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dxp, dw, db = np.zeros_like(xp), np.zeros_like(w), np.zeros_like(b)
        for n, k, i in np.ndindex(N, K, OL):
            db[k] += dy[n, k, i]
            for c, j in np.ndindex(C_, F_):
                dw[k, c, j] += dy[n, k, i] * xp[n, c, s * i + j]
                dxp[n, c, s * i + j] += dy[n, k, i] * w[k, c, j]
        return dxp[:, :, p:p + L], dw, db

    return y, vjp


@pytest.mark.claim("cnn.text")
@pytest.mark.property
@given(conv1d_cases())
def test_conv1d_slides_each_kernel_over_the_word_positions(case: Case) -> None:
    x, w, b = (case.inputs[k] for k in ("x", "w", "b"))
    s, p = case.attrs["stride"], case.attrs["padding"]
    dy = case.upstream["y"]
    expected, vjp = _conv1d_textbook(x, w, b, s, p)
    tol = op_tolerance("conv1d", case.inputs, case.attrs)
    gtol = op_tolerance("conv1d", case.inputs, case.attrs, gradient=True)
    assert_close(C.conv1d(x, w, b, s, p), expected, tol, what="conv1d vs the textbook loop")
    for name, ours, theirs in zip(("dx", "dw", "db"), C.conv1d_backward(dy, x, w, b, s, p),
                                  vjp(dy)):
        assert_close(ours, theirs, gtol, what=f"conv1d {name} vs the textbook loop")


# ---------------------------------------------------------------- bad input
X4, W4 = np.zeros((2, 4, 8, 8)), np.zeros((6, 4, 3, 3))


@pytest.mark.claim("conv.kernel", "conv.depth", "conv.stride", "conv.padding", "conv.output-size",
                   "convention.errors", "convention.nchw", "convention.doesnt-fit")
@pytest.mark.errors
@pytest.mark.parametrize("fn", [C.conv2d, C.conv2d_backward])
@pytest.mark.parametrize(("args", "kind", "words"), [
    ((X4, np.zeros((6, 3, 3, 3))), ValueError,
     r"kernel has 3 input channels but x has 4 \(x.shape = \(2, 4, 8, 8\), "
     r"w.shape = \(6, 3, 3, 3\)\)"),
    ((np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 5))), ValueError,
     r"kernel is larger than the input along H: F = 5 > N = 3"),
    ((np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 5)), None, 1, (0, 1)), ValueError,
     r"larger than the input along H: F = 5 > N = 3"),
    ((np.zeros((1, 1, 5, 2)), np.zeros((1, 1, 5, 5)), None, 1, (0, 1)), ValueError,
     r"larger than the padded input along W: F = 5 > N \+ 2P = 2 \+ 2·1 = 4"),
    ((X4, W4, None, 0), ValueError, r"stride must be at least 1 per axis, got 0"),
    ((X4, W4, None, (1, -2)), ValueError, r"stride must be at least 1 per axis, got \(1, -2\)"),
    ((X4, W4, None, 1, -1), ValueError, r"padding must be at least 0 per axis, got -1"),
    ((X4, W4, None, 1.0), TypeError, r"stride must hold integers"),
    ((X4, W4, None, 1, (1, 1, 1)), ValueError, r"padding must be an int or a pair"),
    ((np.zeros((4, 8, 8)), W4), ValueError,
     r"x must be 4-D \[N, C, H, W\], got 3-D with shape \(4, 8, 8\).*x\[None\]"),
    ((X4, np.zeros((4, 3, 3))), ValueError, r"w must be 4-D \[K, C, FH, FW\], got 3-D"),
    ((np.zeros((2, 8, 8, 4)), W4), ValueError,                # NHWC is not guessed
     r"kernel has 4 input channels but x has 8"),
    ((np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), None, 3), ValueError,
     r"doesn't fit 7 pixels along H: \(7 − 3\)/3 \+ 1 = 2\.33"),
    ((np.zeros((1, 1, 9, 8)), np.zeros((1, 1, 3, 3)), None, 2, 2), ValueError,
     r"along W: \(8 \+ 2·2 − 3\)/2 \+ 1 = 5\.50 is not a whole number"),
    ((X4, W4, np.zeros(5)), ValueError,
     r"b must have shape \(6,\), one bias per kernel, got \(5,\)"),
    ((X4, np.full((6, 4, 3, 3), np.nan)), ValueError, r"w must be finite, got nan"),
    ((X4, W4, np.array([0, 0, 0, 0, 0, np.inf])), ValueError, r"b must be finite, got inf"),
    ((X4 > 0, W4), TypeError, r"x must hold real numbers.*dtype bool"),
    ((np.zeros((0, 4, 8, 8)), W4), ValueError, r"must not have empty axes"),
])
def test_conv2d_refuses_bad_geometry_and_input_by_name(fn: Any, args: tuple[Any, ...], kind: type,
                                                       words: str) -> None:
    name = fn.__name__
    call = (lambda: fn(np.zeros((1, 1, 1, 1)), *args)) if name == "conv2d_backward" else (
        lambda: fn(*args))
    with pytest.raises(kind, match=rf"^{name}: .*{words}"):
        call()


@pytest.mark.claim("conv.kernel", "cnn.text", "convention.errors")
@pytest.mark.errors
def test_backward_and_conv1d_refuse_bad_input_by_name() -> None:
    with pytest.raises(ValueError, match=r"^conv2d_backward: dy must have the output's shape "
                                         r"\(2, 6, 6, 6\), got \(2, 6, 8, 8\)"):
        C.conv2d_backward(np.zeros((2, 6, 8, 8)), X4, W4)
    with pytest.raises(ValueError, match=r"^conv1d: x must be 3-D \[N, C, L\], got 4-D"):
        C.conv1d(X4, np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match=r"^conv1d: w must be 3-D \[K, C, F\]"):
        C.conv1d(np.zeros((2, 4, 9)), W4)
    with pytest.raises(TypeError, match=r"^conv1d: stride must be an integer, got tuple"):
        C.conv1d(np.zeros((2, 4, 9)), np.zeros((2, 4, 3)), None, (1, 2))
    with pytest.raises(TypeError, match=r"^conv1d: padding must be an integer, got \(1,\)"):
        C.conv1d(np.zeros((2, 4, 9)), np.zeros((2, 4, 3)), None, 1, (1,))
    with pytest.raises(ValueError, match=r"^conv1d: .*along L: \(9 − 4\)/2 \+ 1 = 3\.50"):
        C.conv1d(np.zeros((2, 4, 9)), np.zeros((2, 4, 4)), None, 2)
    with pytest.raises(ValueError, match=r"^conv1d_backward: dy must have the output's shape "
                                         r"\(2, 2, 7\), got \(2, 2, 9\)"):
        C.conv1d_backward(np.zeros((2, 2, 9)), np.zeros((2, 4, 9)), np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match=r"^word_channels: words must be 3-D, got 2-D"):
        C.word_channels(np.zeros((5, 4)))


@pytest.mark.claim("conv.output-size", "conv.padding", "conv.fc-cost", "conv.depth",
                   "convention.errors", "convention.doesnt-fit")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "words"), [
    (lambda: C.output_size(7, 3, 3), ValueError, r"^output_size: .*\(7 − 3\)/3 \+ 1 = 2\.33"),
    (lambda: C.output_size(7, 3, 4, 1), ValueError, r"\(7 \+ 2·1 − 3\)/4 \+ 1 = 2\.50"),
    (lambda: C.output_size(3, 5), ValueError, r"^output_size: the kernel is larger than the input"),
    (lambda: C.output_size(7, 3, 0), ValueError, r"^output_size: stride must be at least 1"),
    (lambda: C.output_size(7, 3, 1, -1), ValueError, r"^output_size: pad must be at least 0"),
    (lambda: C.output_size(7, 3, 1, (1, 1)), TypeError, r"^output_size: pad must be an integer"),
    (lambda: C.output_size(7.0, 3), TypeError, r"^output_size: n must be an integer"),
    (lambda: C.same_padding(4), ValueError,
     r"^same_padding: F = 4 is even: \(F − 1\)/2 = 1\.5 is not whole"),
    (lambda: C.same_padding(0), ValueError, r"^same_padding: f must be at least 1"),
    (lambda: C.zero_pad(np.zeros(3), 1), ValueError, r"^zero_pad: x must be 2-D or 3-D or 4-D"),
    (lambda: C.zero_pad(np.zeros((3, 3)), -1), ValueError,
     r"^zero_pad: padding must be at least 0"),
    (lambda: C.conv_parameter_count(5, 0), ValueError,
     r"^conv_parameter_count: in_channels must be at least 1"),
    (lambda: C.conv_parameter_count((5, 0), 3), ValueError,
     r"^conv_parameter_count: kernel_size must be at least 1"),
    (lambda: C.conv_parameter_count(5, 3, bias=1), TypeError,
     r"^conv_parameter_count: bias must be True or False"),
    (lambda: C.image_input_count(200, 0, 3), ValueError, r"^image_input_count: width must be"),
    (lambda: C.fully_connected_weight_count(200, 200, 3, 0), ValueError,
     r"^fully_connected_weight_count: outputs must be at least 1"),
    (lambda: C.fully_connected_weight_count(200, 200.0, 3), TypeError,
     r"^fully_connected_weight_count: width must be an integer"),
])
def test_size_helpers_refuse_bad_input_by_name(call: Any, kind: type, words: str) -> None:
    with pytest.raises(kind, match=words):
        call()
