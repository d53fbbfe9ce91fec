"""Spec of reference.kernels (lecture: "Kernels", "Kernel: 3x3 Example", "Kernels as Feature
Detectors").

Claims: conv.classic-kernels, conv.detectors (and conv.kernel for the Sobel kernel itself).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import arrays, finite_floats
from reference.conv import conv2d
from reference.fixtures import slide_case
from reference.kernels import CLASSIC, DETECTORS, KERNELS
from reference.tolerance import EXACT, Tolerance, assert_close, tolerance
from spec_tests.helpers.tolerances import allowance, op_tolerance


def _apply(image: np.ndarray, name: str, padding: int = 0) -> np.ndarray:
    """The kernel laid over every 3×3 window of a single-channel image [H, W] → [H', W']."""
    return conv2d(np.asarray(image, dtype=float)[None, None], KERNELS[name][None, None], None, 1,
                  padding)[0, 0]


def _slack(image: np.ndarray, name: str, padding: int = 0) -> float:
    """The rounding the policy allows on ``_apply(image, name)``: conv2d's tolerance (terms from
    the contract) on summands at most Σ_p |W_p|·max|pixel| in size, which is what sets the error
    where the result cancels (an edge detector on a flat area, a sharpened constant)."""
    tol = op_tolerance("conv2d", {"x": np.asarray(image)[None, None],
                                  "w": KERNELS[name][None, None]},
                       {"stride": (1, 1), "padding": (padding, padding)})
    return allowance(tol, float(np.abs(KERNELS[name]).sum() * np.max(np.abs(image))))


def _fixture_kernel(case: dict[str, object], name: str) -> np.ndarray:
    """A kernel of the classic-kernels fixture: its integer weights over its divisor."""
    inputs = case["inputs"]
    assert isinstance(inputs, dict)
    return np.asarray(inputs["kernels"][name], dtype=float) / inputs["divisors"].get(name, 1)


# ---------------------------------------------------------------- slides
@pytest.mark.claim("conv.kernel")
@pytest.mark.slides
def test_the_library_sobel_is_the_slides_kernel() -> None:
    case = slide_case("sobel_patch")
    assert np.array_equal(KERNELS["sobel_x"], case["inputs"]["kernel"])
    assert_close(_apply(case["inputs"]["patch"], "sobel_x"), case["expected"]["y"], EXACT,
                 what="Sobel over the slide's patch")


@pytest.mark.claim("conv.classic-kernels")
@pytest.mark.slides
def test_blur_sharpen_edge_detection_and_emboss_over_the_slide_patch() -> None:
    case = slide_case("classic_kernels_on_sobel_patch")
    tol = Tolerance(rtol=case["tolerance"], atol=case["tolerance"])
    assert set(case["expected"]["y"]) == set(case["inputs"]["kernels"]) == set(CLASSIC)
    for name, value in case["expected"]["y"].items():
        # the library's weights are the fixture's, written out by hand
        assert np.array_equal(KERNELS[name], _fixture_kernel(case, name)), \
            f"{name}: {KERNELS[name].tolist()} differs from the fixture's weights"
        assert_close(_apply(case["inputs"]["patch"], name), [[value]], tol, what=name)


@pytest.mark.claim("conv.detectors")
@pytest.mark.slides
def test_each_detector_responds_most_to_its_own_pattern() -> None:
    case = slide_case("detectors_on_their_patterns")
    assert set(case["inputs"]["detectors"]) == set(DETECTORS)
    for name, weights in case["inputs"]["detectors"].items():
        assert np.array_equal(KERNELS[name], weights), f"{name} differs from the slide's reading"
        for pattern, expected in case["expected"]["responses"][name].items():
            got = _apply(case["inputs"]["patterns"][pattern], name)
            assert_close(got, [[expected]], EXACT, what=f"{name} on a {pattern}")


@pytest.mark.claim("conv.detectors")
@pytest.mark.slides
def test_vertical_line_detector_peaks_on_the_line_in_an_image() -> None:
    case = slide_case("vertical_detector_on_an_image")
    assert np.array_equal(KERNELS["vertical_line"], case["inputs"]["kernel"])
    assert_close(_apply(case["inputs"]["image"], "vertical_line"), case["expected"]["y"], EXACT,
                 what="vertical line detector response map")


# ---------------------------------------------------------------- properties
@pytest.mark.claim("conv.classic-kernels")
@pytest.mark.property
@given(st.sampled_from(["box_blur", "gaussian_blur"]), arrays((6, 7), bound=5.0))
def test_blurs_average_the_neighbourhood(name: str, image: np.ndarray) -> None:
    out = _apply(image, name)
    # non-negative weights summing to 1: each output lies within its window's range
    windows = np.lib.stride_tricks.sliding_window_view(image, (3, 3))
    slack = _slack(image, name)
    assert np.all(out >= windows.min(axis=(-2, -1)) - slack)
    assert np.all(out <= windows.max(axis=(-2, -1)) + slack)


@pytest.mark.claim("conv.classic-kernels")
@pytest.mark.property
@given(st.sampled_from(["box_blur", "gaussian_blur"]), st.integers(0, 2**32 - 1))
def test_a_blur_shrinks_the_variance_of_noise_by_the_sum_of_squared_weights(name: str,
                                                                             seed: int) -> None:
    """Blurring smooths: each output over i.i.d. noise of variance 1 is Σ_p W_p·noise_p, of
    variance Σ_p W_p² (1/9 for the box blur, 36/256 for the Gaussian), far below 1.

    Measured on 200×200 pixels of seeded standard normal noise, the outputs' variance must be
    within 10 % of Σ W². The estimate from M = 198² outputs, correlated over 5×5 lags, has a
    relative standard deviation of about √(2·Σ_lag ρ²/M) ≈ 1.5 % (Σ ρ² = (19/9)² ≈ 4.5 for the
    box blur, less for the Gaussian): 10 % is more than 6 standard deviations. A kernel that
    does not average (weights of mixed sign, a wrong scale) keeps far more: sharpen keeps 29.
    """
    noise = np.random.default_rng(seed).standard_normal((200, 200))
    measured = float(np.var(_apply(noise, name)))
    expected = float(np.sum(KERNELS[name] ** 2))
    assert abs(measured / expected - 1.0) < 0.10, \
        f"{name}: Var(out) = {measured:.4f}, Σ W² = {expected:.4f}: not within 10 %"
    assert measured < 0.16, f"{name} kept {measured:.3f} of the noise's variance 1: no blur"


@pytest.mark.claim("conv.classic-kernels")
@pytest.mark.property
@given(finite_floats(5.0), finite_floats(2.0), finite_floats(2.0), st.sampled_from(CLASSIC))
def test_kernels_on_flat_and_linear_images(c: float, a: float, r: float, name: str) -> None:
    rows, cols = np.mgrid[0:5, 0:6].astype(float)
    flat = np.full((5, 6), c)
    total = float(KERNELS[name].sum())
    # blur, sharpen and emboss keep a flat image (weights sum to 1); edge detectors give 0 (sum 0)
    assert_close(total, 0.0 if name in ("sobel_x", "sobel_y", "edge_detection") else 1.0,
                 tolerance(np.float64, terms=9), what=f"Σ_p W_p of {name}")
    slack = _slack(flat, name)
    assert np.all(np.abs(_apply(flat, name) - total * c) <= slack), f"{name} on a flat image"
    ramp = a * cols + r * rows + c               # brightness rising a per column, r per row
    out, slack = _apply(ramp, name), _slack(ramp, name)
    if name == "edge_detection":
        # a discrete Laplacian: zero on any linear ramp, an edge detector, not a gradient
        assert np.all(np.abs(out) <= slack), f"Laplacian of a ramp: {out}"
    if name == "sobel_x":
        # responds to left-to-right change only: 1·a + 2·a + 1·a, twice (columns −1 and +1)
        assert np.all(np.abs(out - 8 * a) <= slack), f"Sobel x of a ramp: {out}, not {8 * a}"
    if name == "sobel_y":
        assert np.all(np.abs(out - 8 * r) <= slack), f"Sobel y of a ramp: {out}, not {8 * r}"


@pytest.mark.claim("conv.classic-kernels")
@pytest.mark.property
@given(st.integers(1, 4), st.integers(1, 4), finite_floats(5.0).filter(lambda v: abs(v) > 0.1))
def test_edge_detection_lights_up_at_a_step_edge_only(row: int, col: int, height: float) -> None:
    image = np.zeros((6, 6))
    image[row:, col:] = height                   # a bright corner region
    out = _apply(image, "edge_detection", padding=1)
    flat = np.ones((6, 6), dtype=bool)
    flat[max(row - 1, 0):row + 1, :] = False     # pixels next to the horizontal edge
    flat[:, max(col - 1, 0):col + 1] = False     # and the vertical one
    inside = flat & (np.arange(6)[:, None] > 0) & (np.arange(6)[:, None] < 5) \
        & (np.arange(6)[None, :] > 0) & (np.arange(6)[None, :] < 5)
    assert np.all(np.abs(out[inside]) <= _slack(image, "edge_detection", 1)), \
        "flat areas give 0"
    assert np.max(np.abs(out[~flat])) >= abs(height), "the edge gives a response"


@pytest.mark.claim("conv.detectors")
@pytest.mark.property
@given(st.sampled_from(DETECTORS), st.integers(5, 8), st.integers(5, 8), st.data())
def test_a_detector_peaks_at_its_pattern_anywhere_and_stays_lower_on_the_others(
        pattern: str, h: int, w: int, data: st.DataObject) -> None:
    # the pattern: +1 cells of its detector, drawn at a random place of a blank image
    cells = np.argwhere(KERNELS[pattern] > 0)
    r = data.draw(st.integers(0, h - 3), label="row")
    c = data.draw(st.integers(0, w - 3), label="col")
    image = np.zeros((h, w))
    image[cells[:, 0] + r, cells[:, 1] + c] = 1.0
    for name in DETECTORS:
        response = _apply(image, name, padding=1)     # every pixel a centre, partial views too
        if name == pattern:
            assert response.max() == 3.0
            assert np.argwhere(response == 3.0).tolist() == [[r + 1, c + 1]], \
                "the peak sits where the pattern's centre is"
        else:
            assert response.max() <= 2.0, f"{name} on a {pattern}: {response.max()}"


@pytest.mark.claim("conv.classic-kernels", "conv.detectors")
@pytest.mark.errors
def test_the_library_kernels_are_read_only_3x3_float64() -> None:
    for name, k in KERNELS.items():
        assert k.shape == (3, 3) and k.dtype == np.float64, name
        with pytest.raises(ValueError, match="read-only"):
            k[1, 1] = 0.0
    assert set(CLASSIC) | set(DETECTORS) == set(KERNELS)
