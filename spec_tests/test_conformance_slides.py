"""Tests of conformance.slides: the lecture's worked examples as conformance cases.

The reference must reproduce every slide case (the numbers were computed by hand from the slide);
so must PyTorch, which shows the fixtures and the contract's conventions (cross-correlation, the
max-pool tie rule, relu'(0) = 0, ...) agree with what frameworks compute.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.backends import load_backend
from conformance.cases import Case
from conformance.contract import OPS
from conformance.runner import run_case
from conformance.slides import SLIDES, slide_cases_for, slides_of
from reference.fixtures import slide_case

CASES = slide_cases_for()


def _param(case: Case) -> object:
    return pytest.param(case, marks=pytest.mark.claim(*case.claims), id=case.name)


@pytest.mark.infrastructure
def test_every_mapped_fixture_exists_and_gives_cases_of_contract_ops() -> None:
    for name in SLIDES:
        assert slide_case(name)["name"] == name
    assert {c.op for c in CASES} <= set(OPS)
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.op for c in CASES} >= {"step", "relu", "sigmoid", "linear", "max_margin", "conv2d",
                                     "max_pool2d", "avg_pool2d"}
    # Part I's networks, layer by layer: the gates, the 2-2-1 network, XOR, the window classifier
    linear = {c.name: c.claims for c in slides_of("linear")}
    for name, claim in [("perceptron_gate_and_sum", "perceptron.gates"),
                        ("perceptron_gate_not_sum", "perceptron.gates"),
                        ("two_two_one_step_output_linear_adjusted", "ff.example"),
                        ("two_two_one_relu_hidden_linear", "ff.example"),
                        ("xor_network_output_linear", "hidden.xor"),
                        ("window_paris_relu_hidden_linear", "window.score"),
                        ("window_paris_logistic_score_linear", "window.gradients")]:
        assert linear.get(name) == (claim,), f"{name}: {linear.get(name)}"
    assert {c.name for c in slides_of("sigmoid")} == {"window_paris_logistic_hidden_sigmoid"}
    assert [c.name for c in slides_of("max_pool2d")] == ["max_pool_2x2_stride_2"]


@pytest.mark.infrastructure
def test_the_slides_own_numbers_are_kept() -> None:
    (sobel,) = slides_of("conv2d")[:1]
    assert sobel.name == "sobel_patch"
    assert sobel.expected is not None and sobel.expected["y"].tolist() == [[[[2.0]]]]
    pool = slides_of("max_pool2d")[0]
    assert pool.expected is not None and pool.expected["y"][0, 0].tolist() == [[6, 8], [3, 4]]
    assert pool.upstream["y"][0, 0].tolist() == [[10, 20], [30, 40]]
    blur = next(c for c in CASES if c.name == "classic_kernels_on_sobel_patch")
    assert blur.tolerance is not None and blur.tolerance.rtol == 1e-15
    assert blur.inputs["w"].shape == (7, 1, 3, 3)


@pytest.mark.slides
@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_the_reference_reproduces_the_slide(case: Case) -> None:
    results = run_case(load_backend("numpy"), case)
    assert [r.status for r in results] == ["pass"] * len(results), [r.line() for r in results]
    assert all(r.max_abs_error == 0.0 for r in results if case.tolerance is None)


@pytest.mark.infrastructure
def test_pytorch_reproduces_every_slide_in_both_dtypes() -> None:
    torch_backend = load_backend("torch")
    for dtype in (np.float64, np.float32):
        bad = [r.line() for c in CASES for r in run_case(torch_backend, c, dtype)
               if r.status != "pass"]
        assert not bad, "\n".join(bad)


@pytest.mark.infrastructure
@pytest.mark.parametrize(("slope", "sign", "passes"), [(0.0, 1.0, True), (0.5, 1.0, True),
                                                       (1.0, 1.0, True), (0.0, -1.0, False)])
def test_any_subgradient_at_the_margin_kink_passes_the_slide_cases(slope: float, sign: float,
                                                                   passes: bool) -> None:
    """Δ + s_c − s = 0 happens on the slide (s = 4, s_c = 3, Δ = 1): nnspec's 0, torch's clamp
    (1) and JAX's maximum (½) are all subgradients there and pass, while a wrong sign away from
    the kink still fails."""
    def max_margin_backward(dJ: np.ndarray, s: np.ndarray, s_c: np.ndarray,
                            delta: float) -> tuple[np.ndarray, np.ndarray]:
        d = delta + s_c - s
        slope_of_d = np.where(d > 0, sign, np.where(d == 0, slope, 0.0))
        return -dJ * slope_of_d, dJ * slope_of_d

    backend = type("Margin", (), {
        "max_margin": staticmethod(lambda s, s_c, delta: np.maximum(0.0, delta + s_c - s)),
        "max_margin_backward": staticmethod(max_margin_backward)})()
    cases = slides_of("max_margin")
    assert any(np.any(c.attrs["delta"] + c.inputs["s_c"] - c.inputs["s"] == 0) for c in cases)
    results = [r for c in cases for r in run_case(load_backend(backend), c)]
    assert len(results) == 4
    assert all(r.status == "pass" for r in results) is passes, [r.line() for r in results]
