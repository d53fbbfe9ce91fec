"""Spec of reference.pooling (lecture: "Pooling", "Pooling: Max-pool", "Pooling: Average-pool",
"Pooling Layer").

Claims: pool.max, pool.avg, pool.l2, pool.properties; convention pooling (and doesnt-fit).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from conformance.strategies import PoolCase, PoolGeometry, pool_cases, pool_geometries
from reference import _blocks as B
from reference import pooling as P
from reference.conv import Pair
from reference.fixtures import slide_case
from reference.gradcheck import check_gradients
from reference.tolerance import EXACT, Tolerance, assert_close
from spec_tests.helpers.oracles import assert_matches_torch
from spec_tests.helpers.symbolic import derive, symbols
from spec_tests.helpers.tolerances import allowance, op_tolerance

POOLS = {"max": (P.max_pool2d, P.max_pool2d_backward),
         "avg": (P.avg_pool2d, P.avg_pool2d_backward),
         "l2": (P.l2_pool2d, P.l2_pool2d_backward)}


OP = {"max": "max_pool2d", "avg": "avg_pool2d", "l2": "lp_pool2d"}   # the contract's names


def _window(g: PoolGeometry) -> int:
    """KH·KW, the number of elements of one window."""
    return g.kernel[0] * g.kernel[1]


def _tol(kind: str, g: PoolGeometry, gradient: bool = False) -> Tolerance:
    """The policy's tolerance for a pooling of this geometry (terms from the contract's rule)."""
    return op_tolerance(OP[kind], {"x": np.empty(g.x_shape)},
                        {"kernel_size": g.kernel, "stride": g.stride}, gradient=gradient)


# ---------------------------------------------------------------- slides
@pytest.mark.claim("pool.max", "convention.pooling")
@pytest.mark.slides
def test_2x2_max_pool_with_stride_2_gives_6_8_3_4() -> None:
    case = slide_case("max_pool_2x2_stride_2")
    x, dy = (np.array(case["inputs"][k], dtype=float)[None, None] for k in ("x", "dy"))
    k, s = case["params"]["kernel_size"], case["params"]["stride"]
    assert_close(P.max_pool2d(x, k, s), np.array(case["expected"]["y"])[None, None], EXACT,
                 what="max pool")
    assert_close(P.max_pool2d(x, k), np.array(case["expected"]["y"])[None, None], EXACT,
                 what="max pool, stride defaulting to the window")
    assert_close(P.max_pool2d_backward(dy, x, k, s), np.array(case["expected"]["dx"])[None, None],
                 EXACT, what="max pool gradient")


@pytest.mark.claim("pool.avg", "convention.pooling")
@pytest.mark.slides
def test_2x2_average_pool_keeps_the_mean_of_each_patch() -> None:
    case = slide_case("avg_pool_2x2_stride_2")
    x, dy = (np.array(case["inputs"][k], dtype=float)[None, None] for k in ("x", "dy"))
    k, s = case["params"]["kernel_size"], case["params"]["stride"]
    assert_close(P.avg_pool2d(x, k, s), np.array(case["expected"]["y"])[None, None], EXACT,
                 what="average pool")
    assert_close(P.avg_pool2d_backward(dy, x, k, s), np.array(case["expected"]["dx"])[None, None],
                 EXACT, what="average pool gradient")


# ---------------------------------------------------------------- sympy
def _pool_sym(kind: str) -> tuple[sp.Expr, dict[str, np.ndarray]]:
    """L = Σ g ∘ pool(x) over a 1×2×4×3 input, 2×2 windows, stride (2, 1): a textbook loop."""
    x, g = symbols("x", (1, 2, 4, 3)), symbols("g", (1, 2, 2, 2))
    terms = []
    for n, c, i, j in np.ndindex(1, 2, 2, 2):
        window = [x[n, c, 2 * i + u, j + v] for u in range(2) for v in range(2)]
        if kind == "avg":
            y = sp.Add(*window) / 4
        else:
            y = sp.sqrt(sp.Add(*(p**2 for p in window)))
        terms.append(g[n, c, i, j] * y)
    return sp.Add(*terms), {"x": x, "g": g}


def _avg_sym() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    return _pool_sym("avg")


def _l2_sym() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    return _pool_sym("l2")


@pytest.mark.claim("pool.avg", "pool.l2")
@pytest.mark.sympy
@pytest.mark.parametrize(("kind", "builder"), [("avg", _avg_sym), ("l2", _l2_sym)])
def test_average_and_l2_pool_gradients_match_sympy(kind: str, builder: Any) -> None:
    derived = derive(builder)
    rng = np.random.default_rng(5)
    x, g = rng.normal(size=(1, 2, 4, 3)), rng.normal(size=(1, 2, 2, 2))
    _, grads = derived(x=x, g=g)
    forward, backward = POOLS[kind]
    tol = op_tolerance(OP[kind], {"x": x}, {"kernel_size": (2, 2), "stride": (2, 1)},
                       gradient=True)
    assert_close(forward(x, 2, (2, 1)), grads["g"], tol, what=f"{kind} pool vs SymPy")
    assert_close(backward(g, x, 2, (2, 1)), grads["x"], tol, what=f"∂L/∂x of {kind} vs SymPy")


# ---------------------------------------------------------------- torch
# (N, C, OH, OW, KH, KW, SH, SW); the input size is derived so that the windows fit
GEOMETRIES = [
    (1, 1, 2, 2, 2, 2, 2, 2),      # the slide's 2×2, stride 2
    (2, 3, 3, 4, 2, 2, 2, 2),
    (3, 2, 2, 3, 3, 3, 3, 3),
    (2, 4, 3, 3, 3, 3, 1, 1),      # overlapping windows
    (1, 2, 4, 2, 2, 3, 1, 2),      # non-square window, per-axis stride
    (2, 1, 2, 3, 3, 2, 2, 1),
    (3, 3, 2, 2, 1, 1, 2, 2),      # 1×1 window with a gap (stride > window)
    (1, 3, 1, 1, 4, 3, 1, 1),      # window = input
    (2, 2, 3, 2, 2, 2, 3, 3),      # stride > window
]


def _pool_geometry(n: int, c: int, oh: int, ow: int, kh: int, kw: int, sh: int,
                   sw: int) -> PoolGeometry:
    return PoolGeometry(n, c, (oh - 1) * sh + kh, (ow - 1) * sw + kw, (kh, kw), (sh, sw),
                        (oh, ow))


TORCH_POOLS = {
    "max": lambda k, s: lambda x: F.max_pool2d(x, k, s),
    "avg": lambda k, s: lambda x: F.avg_pool2d(x, k, s),
    "l2": lambda k, s: lambda x: F.lp_pool2d(x, 2, k, s),
}


@pytest.mark.claim("pool.max", "pool.avg", "pool.l2", "convention.pooling")
@pytest.mark.torch
@pytest.mark.parametrize("kind", sorted(POOLS))
@pytest.mark.parametrize("geo", GEOMETRIES, ids=lambda g: "N{}C{}O{}x{}K{}x{}S{}x{}".format(*g))
def test_pooling_and_its_gradient_match_torch(kind: str, geo: tuple[int, ...]) -> None:
    g = _pool_geometry(*geo)
    rng = np.random.default_rng(sum(geo))
    x = rng.permutation(np.prod(g.x_shape)).reshape(g.x_shape) / 7.0 - 2.0  # no ties
    dy = rng.normal(size=g.out_shape)
    forward, backward = POOLS[kind]
    y, dx = forward(x, g.kernel, g.stride), backward(dy, x, g.kernel, g.stride)
    assert y.shape == g.out_shape
    assert_matches_torch(TORCH_POOLS[kind](g.kernel, g.stride), {"x": x}, y, {"x": dx}, dy,
                         forward_tol=_tol(kind, g), gradient_tol=_tol(kind, g, gradient=True),
                         what=f"{kind} pool {g}")


@pytest.mark.claim("pool.max", "convention.pooling")
@pytest.mark.torch
@pytest.mark.parametrize(("kernel", "stride", "h", "w"),
                         [(2, 2, 6, 6), (3, 1, 7, 7), ((2, 3), (1, 2), 5, 7)])
def test_max_pool_ties_send_the_gradient_to_the_first_maximum_as_torch(kernel: Any, stride: Any,
                                                                      h: int, w: int) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 2, size=(2, 3, h, w)).astype(float)   # 0s and 1s: many ties
    y = P.max_pool2d(x, kernel, stride)
    dy = rng.normal(size=y.shape)
    dx = P.max_pool2d_backward(dy, x, kernel, stride)
    assert_matches_torch(lambda x: F.max_pool2d(x, kernel, stride), {"x": x}, y, {"x": dx}, dy,
                         terms=9, what="max pool with ties")


# ---------------------------------------------------------------- properties
@pytest.mark.claim("pool.properties", "convention.pooling")
@pytest.mark.property
@given(pool_cases())
def test_pooling_has_no_parameters_and_works_per_channel(case: PoolCase) -> None:
    for forward, backward in POOLS.values():
        # "Does not have parameters": only the input and the window geometry
        assert list(inspect.signature(forward).parameters) == ["x", "kernel_size", "stride"]
        # (the max pool's backward takes a convention option besides, ``ties``, with its default)
        names = list(inspect.signature(backward).parameters)
        assert names[:4] == ["dy", "x", "kernel_size", "stride"]
        assert names[4:] in ([], ["ties"])
        y = forward(case.x, case.kernel_size, case.stride)
        assert y.shape == case.geometry.out_shape
        # "operates over each activation map independently"
        for n, c in np.ndindex(*case.x.shape[:2]):
            alone = forward(case.x[n:n + 1, c:c + 1], case.kernel_size, case.stride)
            assert_close(y[n:n + 1, c:c + 1], alone, EXACT, what=f"{forward.__name__} map {n, c}")


@pytest.mark.claim("pool.properties", "pool.max")
@pytest.mark.property
@given(pool_geometries(overlap=False, max_kernel=3), st.data())
def test_max_pool_is_invariant_to_shifts_and_permutations_inside_each_window(
        g: PoolGeometry, data: st.DataObject) -> None:
    x = data.draw(pool_cases(geometries=st.just(g)), label="case").x
    (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    shuffled = x.copy()
    for i, j in np.ndindex(oh, ow):        # a reference loop over windows, in the test only
        block = shuffled[:, :, sh * i:sh * i + kh, sw * j:sw * j + kw]
        flat = block.reshape(*block.shape[:2], -1)
        block[...] = rng.permuted(flat, axis=-1).reshape(block.shape)
    assert_close(P.max_pool2d(shuffled, g.kernel, g.stride), P.max_pool2d(x, g.kernel, g.stride),
                 EXACT, what="max pool after moving pixels inside their windows")


@pytest.mark.claim("pool.avg", "pool.l2", "pool.max")
@pytest.mark.property
@given(pool_cases())
def test_average_is_at_most_max_and_l2_is_at_least_max(case: PoolCase) -> None:
    args = (case.x, case.kernel_size, case.stride)
    mx, avg, l2 = P.max_pool2d(*args), P.avg_pool2d(*args), P.l2_pool2d(*args)
    g = case.geometry
    # the rounding the policy allows on a window of values at most max|x| in size (the max is
    # exact; L2 can reach √(KH·KW)·max|x|)
    big = float(np.max(np.abs(case.x), initial=0.0))
    slack = allowance(_tol("avg", g), big)
    slack_l2 = allowance(_tol("l2", g), np.sqrt(_window(g)) * big)
    assert np.all(avg <= mx + slack), "avg ≤ max"
    assert np.all(l2 >= mx - slack_l2), "L2 = √Σx² ≥ max|x| ≥ max"
    assert np.all(l2 >= -P.max_pool2d(-case.x, case.kernel_size, case.stride) - slack_l2)
    # L2 is at most √(KH·KW) times the largest |x| of the window
    assert np.all(l2 <= np.sqrt(_window(g)) * P.max_pool2d(np.abs(case.x), case.kernel_size,
                                                            case.stride) + slack_l2)


@pytest.mark.claim("pool.max", "pool.avg", "pool.l2")
@pytest.mark.property
@given(st.sampled_from(sorted(POOLS)), pool_cases(distinct=True))
def test_pooling_gradients_match_finite_differences(kind: str, case: PoolCase) -> None:
    forward, backward = POOLS[kind]
    dx = backward(case.dy, case.x, case.kernel_size, case.stride)
    # distinct values: no max-pool tie and no all-zero L2 window, so the gradient is defined
    check_gradients(lambda x: forward(x, case.kernel_size, case.stride), {"x": case.x}, case.dy,
                    {"x": dx})


@pytest.mark.claim("pool.max", "convention.pooling")
@pytest.mark.property
@given(pool_cases())
def test_max_pool_gradient_goes_whole_to_one_pixel_per_window(case: PoolCase) -> None:
    g = case.geometry
    ones = np.ones(g.out_shape)
    dx = P.max_pool2d_backward(ones, case.x, case.kernel_size, case.stride)
    # every window hands its whole gradient to one of its pixels (the first maximum)
    assert dx.sum() == ones.sum()
    counted = P.avg_pool2d(dx, case.kernel_size, case.stride) * _window(g)  # per-window sums
    assert np.all(counted >= 1), "each window's maximum got the window's gradient"
    if not g.overlapping:
        assert set(np.unique(dx)) <= {0.0, 1.0}
        y = P.max_pool2d(case.x, case.kernel_size, case.stride)
        # the pixel that receives it holds the window's maximum
        assert_close(P.max_pool2d(np.where(dx > 0, case.x, -np.inf), case.kernel_size,
                                  case.stride), y, EXACT, what="the receiving pixel is a maximum")


@pytest.mark.claim("convention.pooling", "pool.l2")
@pytest.mark.property
@given(pool_cases(), st.data())
def test_l2_gradient_is_zero_on_all_zero_windows_and_average_divides_by_window_size(
        case: PoolCase, data: st.DataObject) -> None:
    zeros = np.zeros_like(case.x)
    assert np.array_equal(P.l2_pool2d_backward(case.dy, zeros, case.kernel_size, case.stride),
                          zeros)
    c = data.draw(st.floats(-5, 5), label="constant")
    flat = np.full_like(case.x, c)
    assert_close(P.avg_pool2d(flat, case.kernel_size, case.stride), np.full(case.dy.shape, c),
                 _tol("avg", case.geometry), what="average of a constant")
    assert_close(P.l2_pool2d(flat, case.kernel_size, case.stride),
                 np.full(case.dy.shape, abs(c) * np.sqrt(_window(case.geometry))),
                 _tol("l2", case.geometry), what="√(KH·KW·c²)")


# ---------------------------------------------------------------- bad input
FUNCS = [P.max_pool2d, P.avg_pool2d, P.l2_pool2d, P.max_pool2d_backward, P.avg_pool2d_backward,
         P.l2_pool2d_backward]


@pytest.mark.claim("pool.max", "pool.avg", "pool.l2", "convention.errors",
                   "convention.doesnt-fit")
@pytest.mark.errors
@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("x", "kernel", "stride", "kind", "words"), [
    (np.zeros((4, 4)), 2, None, ValueError, r"x must be 4-D \[N, C, H, W\], got 2-D"),
    (np.zeros((1, 1, 7, 7)), 3, 3, ValueError,
     r"window of size 3 with stride 3 and padding 0 doesn't fit 7 pixels along H: "
     r"\(7 − 3\)/3 \+ 1 = 2\.33"),
    (np.zeros((1, 1, 2, 6)), 3, 1, ValueError,
     r"the window is larger than the input along H: F = 3 > N = 2"),
    (np.zeros((1, 1, 4, 4)), 2, 0, ValueError, r"stride must be at least 1 per axis, got 0"),
    (np.zeros((1, 1, 4, 4)), 0, None, ValueError, r"kernel_size must be at least 1 per axis"),
    (np.zeros((1, 1, 4, 4)), 2.0, None, TypeError, r"kernel_size must hold integers"),
    (np.zeros((1, 1, 4, 4)), (2, 2, 2), None, ValueError, r"kernel_size must be an int or a pair"),
    (np.zeros((1, 0, 4, 4)), 2, None, ValueError, r"x must not have empty axes"),
    (np.array([[[["a"]]]]), 1, None, TypeError, r"x must be a real array|x must hold real numbers"),
])
def test_pooling_refuses_bad_input_by_name(fn: Any, x: Any, kernel: Any, stride: Any, kind: type,
                                           words: str) -> None:
    name = fn.__name__
    args = (np.zeros((1, 1, 2, 2)), x) if name.endswith("_backward") else (x,)
    with pytest.raises(kind, match=rf"^{name}: .*{words}"):
        fn(*args, kernel, stride)


@pytest.mark.claim("pool.max", "pool.avg", "pool.l2", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize("fn", FUNCS[3:], ids=lambda f: f.__name__)
def test_pooling_backward_refuses_a_dy_of_the_wrong_shape(fn: Any) -> None:
    with pytest.raises(ValueError, match=rf"^{fn.__name__}: dy must have the output's shape "
                                         r"\(1, 2, 2, 2\), got \(1, 2, 4, 4\)"):
        fn(np.zeros((1, 2, 4, 4)), np.zeros((1, 2, 4, 4)), 2)


# ---------------------------------------------------------------- a whole-image shift, measured
# (issue #15: "Invariance to image transformation"; claim pool.shift)
@pytest.mark.claim("pool.shift")
@pytest.mark.property
@given(st.integers(1, 3), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2**32 - 1),
       st.sampled_from(["max", "avg"]))
def test_a_shift_by_whole_windows_moves_the_pooled_maps_by_whole_cells(
        k: int, a: int, b: int, seed: int, pool: str) -> None:
    """Shifting by (a·k, b·k) pixels shifts the k×k-pooled maps by (a, b) cells, exactly: on the
    coarse grid pooling is equivariant, not invariant (zeros come in at the edge as in the
    image)."""
    x = np.random.default_rng(seed).normal(size=(2, 2, 3 * k, 3 * k))
    pooled = {"max": P.max_pool2d, "avg": P.avg_pool2d}[pool]
    assert_close(pooled(P.shift_images(x, (a * k, b * k)), k),
                 P.shift_images(pooled(x, k), (a, b)), EXACT, what="pool of shift vs shift of pool")


@pytest.mark.claim("pool.shift")
@pytest.mark.property
@given(st.integers(-2, 2), st.integers(-2, 2), st.integers(0, 2**32 - 1))
def test_pooled_maps_never_change_more_than_the_image_and_averages_far_less(
        dy: int, dx: int, seed: int) -> None:
    """For any shift: max pooling is 1-Lipschitz (|max a − max b| ≤ max |a − b| per window), so
    ‖P(Sx) − P(x)‖ ≤ ‖Sx − x‖; 2×2 average pooling maps a change of norm r to at most r/2
    (each mean of 4 values is at most their root-mean-square)."""
    x = np.random.default_rng(seed).normal(size=(3, 1, 6, 6))
    moved = P.shift_images(x, (dy, dx))
    image = np.linalg.norm(moved - x)
    assert np.linalg.norm(P.max_pool2d(moved, 2) - P.max_pool2d(x, 2)) <= image + 1e-12
    assert np.linalg.norm(P.avg_pool2d(moved, 2) - P.avg_pool2d(x, 2)) <= image / 2 + 1e-12


@pytest.mark.claim("pool.shift")
@pytest.mark.behaviour
def test_one_pixel_shifts_change_pooled_bar_images_about_half_as_much_as_the_images() -> None:
    """2000 noisy 8×8 bar images (reference.convnet.bars_dataset, seed 0, noise 0.2), shifted
    as a whole, 2×2 pooling. Measured mean relative changes (image → max pool, average pool):
    one pixel right 1.18 → 0.54, 0.74; one pixel down 1.19 → 0.55, 0.75; two pixels right (a
    whole window) 1.20 → 0.90, 1.15. Thresholds: after a one-pixel shift the pooled change is at
    most 0.5× the image's for max and 0.7× for average pooling; a whole-window shift changes
    the pooled maps at least 1.4× as much as a one-pixel shift (the invariance is to small
    shifts only)."""
    from reference.convnet import bars_dataset

    V, _ = bars_dataset(2000, 8, rng=0)
    for pool, most in (("max", 0.5), ("avg", 0.7)):
        for shift in ((0, 1), (1, 0)):
            image, pooled = P.shift_sensitivity(V, shift, pool)
            assert pooled <= most * image, f"{pool}, shift {shift}: {image:.3f} → {pooled:.3f}"
        _, small = P.shift_sensitivity(V, (0, 1), pool)
        _, window = P.shift_sensitivity(V, (0, 2), pool)
        assert window >= 1.4 * small, f"{pool}: window shift {window:.3f} vs one pixel {small:.3f}"


@pytest.mark.claim("pool.l2")
@pytest.mark.property
@pytest.mark.parametrize("upstream", [1.0, 1e10, -1e300])
def test_l2_pool_gradient_is_zero_on_an_all_zero_window_whatever_comes_from_above(
        upstream: float) -> None:
    """l2_pool2d_backward's "0 where y = 0", by hand: a 2×4 image, 2×2 windows. The left window
    is all zeros (y = 0): its pixels get 0, for any upstream gradient, never nan or inf. The
    right window [[3, 4], [0, 0]] has y = 5 and gets 2·x/y = [[1.2, 1.6], [0, 0]]."""
    x = np.array([[[[0.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]]]])
    dx = P.l2_pool2d_backward(np.array([[[[upstream, 2.0]]]]), x, 2)
    expected = np.array([[[[0.0, 0.0, 1.2, 1.6], [0.0, 0.0, 0.0, 0.0]]]])
    assert_close(dx, expected, Tolerance(rtol=1e-15, atol=0), what="∂L/∂x")


@pytest.mark.claim("pool.shift")
@pytest.mark.property
@given(st.integers(-3, 3), st.integers(-3, 3), st.integers(0, 2**32 - 1))
def test_shift_images_moves_every_pixel_down_by_the_first_and_right_by_the_second(
        down: int, right: int, seed: int) -> None:
    """shift_images(x, (down, right)): pixel (i, j) lands at (i + down, j + right); zeros move
    in, what moves out is lost. Checked pixel by pixel on 5×6 images (not square, so the two
    axes cannot stand in for each other)."""
    x = np.random.default_rng(seed).normal(size=(2, 3, 5, 6))
    expected = np.zeros_like(x)
    for i in range(5):
        for j in range(6):
            if 0 <= i - down < 5 and 0 <= j - right < 6:
                expected[..., i, j] = x[..., i - down, j - right]
    assert np.array_equal(P.shift_images(x, (down, right)), expected)


@pytest.mark.claim("pool.shift")
@pytest.mark.property
def test_shift_sensitivity_is_the_mean_relative_change_by_hand() -> None:
    """Two 4×4 images, shifted one pixel right, 2×2 max pooling. Image 1 holds 3 at (0, 0): it
    moves to (0, 1), ‖Sx − x‖ = √(9 + 9) = 3√2, relative √2; its window keeps its maximum, so
    the pooled change is 0. Image 2 holds 1 at (1, 1): it moves to (1, 2), relative change √2,
    and into the next window: pooled [[1, 0], [0, 0]] → [[0, 1], [0, 0]], relative √2. The
    means over the batch: (√2, √2/2). Relative, so the 3 of image 1 cancels."""
    x = np.zeros((2, 1, 4, 4))
    x[0, 0, 0, 0], x[1, 0, 1, 1] = 3.0, 1.0
    image, pooled = P.shift_sensitivity(x, (0, 1), "max")
    assert_close([image, pooled], [np.sqrt(2), np.sqrt(2) / 2], Tolerance(rtol=1e-15, atol=0),
                 what="(image change, pooled change)")


@pytest.mark.claim("pool.shift", "convention.errors")
@pytest.mark.errors
def test_shift_helpers_refuse_bad_input_by_name() -> None:
    x = np.ones((1, 1, 4, 4))
    with pytest.raises(TypeError, match=r"^shift_images: shift must be a pair of ints"):
        P.shift_images(x, (1.0, 0))
    with pytest.raises(ValueError, match=r"^shift_images: x must be 4-D"):
        P.shift_images(x[0], (1, 0))
    with pytest.raises(ValueError, match=r"^shift_sensitivity: pool must be one of"):
        P.shift_sensitivity(x, (1, 0), "l2")
    with pytest.raises(ValueError, match=r"^shift_sensitivity: x holds an all-zero image"):
        P.shift_sensitivity(np.zeros((1, 1, 4, 4)), (1, 0), "max")


# ---------------------------------------------------------------- the declarable tie rules
@pytest.mark.claim("convention.declared-variants", "pool.max")
@pytest.mark.torch
def test_max_pool_tie_variants_first_last_and_split_by_hand_and_as_torch() -> None:
    """One 2×2 window holding its maximum 5 three times (row-major positions 0, 1 and 3) and one
    without a tie; dy = (4, 7). first: all 4 to position 0; last: all 4 to position 3; split:
    4/3 to each of the three. Then torch, on many ties: amax of a window shares a tie equally,
    and max(dim) of the window read backwards picks the last maximum."""
    x = np.array([[[[5.0, 5.0, 1.0, 2.0], [0.0, 5.0, 3.0, 0.0]]]])           # [1, 1, 2, 4]
    dy = np.array([[[[4.0, 7.0]]]])
    by_hand = {
        "first": [[4.0, 0.0, 0.0, 0.0], [0.0, 0.0, 7.0, 0.0]],
        "last": [[0.0, 0.0, 0.0, 0.0], [0.0, 4.0, 7.0, 0.0]],
        "split": [[4 / 3, 4 / 3, 0.0, 0.0], [0.0, 4 / 3, 7.0, 0.0]],
    }
    for ties, dx in by_hand.items():
        assert_close(P.max_pool2d_backward(dy, x, 2, 2, ties=ties), np.array([[dx]]),
                     Tolerance(1e-15, 1e-15), what=f"ties={ties}")
    assert P.max_pool2d_backward(dy, x, 2, 2).tolist() == [[by_hand["first"]]]   # the default
    # torch: amax over the unfolded windows shares a tie equally (split); max(dim) of the window
    # read backwards sends it to the index it returns, the last maximum (last)
    rng = np.random.default_rng(8)
    x = rng.integers(0, 2, size=(2, 3, 6, 6)).astype(float)           # 0s and 1s: many ties
    dy = rng.normal(size=(2, 3, 3, 3))

    def windows(t: torch.Tensor) -> torch.Tensor:
        return t.unfold(2, 2, 2).unfold(3, 2, 2)                      # [N, C, OH, OW, 2, 2]

    torch_pools = {"split": lambda x: windows(x).amax(dim=(-2, -1)),
                   "last": lambda x: windows(x).flip(-2, -1).flatten(-2).max(dim=-1).values}
    for ties, pool in torch_pools.items():
        assert_matches_torch(pool, {"x": x}, P.max_pool2d(x, 2, 2),
                             {"x": P.max_pool2d_backward(dy, x, 2, 2, ties=ties)}, dy, terms=4,
                             what=f"max pool, ties={ties}")


@pytest.mark.claim("pool.max", "pool.avg", "convention.declared-variants")
@pytest.mark.torch
@pytest.mark.parametrize(("kernel", "stride", "h", "w"),
                         [((2, 2), (2, 2), 6, 8),         # the windows tile x
                          ((3, 2), (1, 2), 7, 8)],        # overlapping rows, a per-axis stride
                         ids=["tiling", "overlapping"])
def test_pooling_in_blocks_on_two_threads_matches_torch_under_every_tie_rule(
        kernel: Pair, stride: Pair, h: int, w: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch cut into blocks of 1–2 images, run on 2 threads (reference._blocks), gives torch's
    max and average pools and their gradients, with many ties (0s and 1s) under each tie rule.
    torch's oracles read the windows unfolded, [N, C, OH, OW, KH, KW]: max_pool2d (first), amax
    of a window (split), max(dim) of the window read backwards (last)."""
    monkeypatch.setattr(B, "BLOCK_BYTES", 2 * 3 * h * w * 8)         # 2 images a block: 4 blocks
    rng = np.random.default_rng(9)
    x = rng.integers(0, 2, size=(7, 3, h, w)).astype(float)
    y = P.max_pool2d(x, kernel, stride)
    dy = rng.normal(size=y.shape)
    assert len(B.blocks(7, x[0].nbytes)) == 4

    def windows(t: torch.Tensor) -> torch.Tensor:
        return t.unfold(2, kernel[0], stride[0]).unfold(3, kernel[1], stride[1])

    torch_max = {"first": lambda x: F.max_pool2d(x, kernel, stride),
                 "split": lambda x: windows(x).amax(dim=(-2, -1)),
                 "last": lambda x: windows(x).flip(-2, -1).flatten(-2).max(dim=-1).values}
    terms = kernel[0] * kernel[1]
    with threadpool_limits(2, user_api="blas"):
        for ties, pool in torch_max.items():
            assert_matches_torch(pool, {"x": x}, P.max_pool2d(x, kernel, stride),
                                 {"x": P.max_pool2d_backward(dy, x, kernel, stride, ties=ties)},
                                 dy, terms=terms, what=f"max pool in blocks, ties={ties}")
        assert_matches_torch(lambda x: F.avg_pool2d(x, kernel, stride), {"x": x},
                             P.avg_pool2d(x, kernel, stride),
                             {"x": P.avg_pool2d_backward(dy, x, kernel, stride)}, dy,
                             terms=terms, what="average pool in blocks")


@pytest.mark.claim("convention.declared-variants", "pool.max")
@pytest.mark.property
@given(pool_geometries(), st.integers(0, 2**32 - 1), st.sampled_from(["first", "last", "split"]))
def test_every_tie_rule_hands_each_window_its_whole_gradient(geometry: PoolGeometry, seed: int,
                                                              ties: str) -> None:
    """Whatever the tie rule, each window's ∂L/∂y lands whole on its maxima (the three differ
    only in how it is shared among tied ones), so Σ dx = Σ dy, dx is 0 off the maxima, and
    without ties the three agree."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, size=geometry.x_shape).astype(float)            # many ties
    dy = rng.normal(size=geometry.out_shape)
    k, s = geometry.kernel, geometry.stride
    dx = P.max_pool2d_backward(dy, x, k, s, ties=ties)
    assert_close(dx.sum(), dy.sum(), Tolerance(1e-12, 1e-12), what=f"Σ dx, ties={ties}")
    y = P.max_pool2d(x, k, s)
    at_max = np.zeros(x.shape, dtype=bool)
    for u in range(k[0]):
        for v in range(k[1]):
            tap = x[:, :, u:u + s[0] * y.shape[2]:s[0], v:v + s[1] * y.shape[3]:s[1]]
            at_max[:, :, u:u + s[0] * y.shape[2]:s[0], v:v + s[1] * y.shape[3]:s[1]] |= tap == y
    assert np.all(dx[~at_max] == 0)
    distinct = x + rng.permutation(x.size).reshape(x.shape) * 1e-3          # no ties at all
    assert_close(P.max_pool2d_backward(dy, distinct, k, s, ties=ties),
                 P.max_pool2d_backward(dy, distinct, k, s), Tolerance(1e-14, 1e-14),
                 what="no ties")   # (overlapping windows may add their shares in another order)


@pytest.mark.claim("convention.errors")
@pytest.mark.errors
def test_an_unknown_tie_rule_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"max_pool2d_backward: ties must be one of 'first', "
                                         r"'last', 'split', got str 'middle'"):
        P.max_pool2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 1, 2, 2)), 2, ties="middle")
