"""The tolerance policy (reference.tolerance): the model's numbers and the comparison's report."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference.tolerance import (
    EXACT,
    Tolerance,
    assert_close,
    compare,
    tolerance,
    within_tolerance,
)

pytestmark = pytest.mark.infrastructure


@pytest.mark.parametrize(("dtype", "terms", "depth", "gradient", "expected"), [
    (np.float64, 1, 1, False, 1.42e-14),
    (np.float64, 16 * 3 * 3, 1, False, 9.24e-14),
    (np.float32, 16 * 3 * 3, 1, False, 4.96e-5),
    ("float32", 20, 12, True, 1.0e-3),
])
def test_the_documented_examples_of_the_model(dtype, terms, depth, gradient, expected) -> None:  # type: ignore[no-untyped-def]
    tol = tolerance(dtype, terms=terms, depth=depth, gradient=gradient)
    assert tol.rtol == pytest.approx(expected, rel=0.005)
    assert tol.atol == tol.rtol


def test_looser_for_float32_more_terms_deeper_and_gradients() -> None:
    base = tolerance(np.float64)
    assert tolerance(np.float32).rtol > 1e6 * base.rtol
    assert tolerance(np.float64, terms=100).rtol > base.rtol
    assert tolerance(np.float64, depth=5).rtol == pytest.approx(5 * base.rtol)
    assert tolerance(np.float64, gradient=True).rtol == pytest.approx(4 * base.rtol)


def test_tolerance_refuses_integer_dtypes_and_empty_sums() -> None:
    with pytest.raises(TypeError, match="floating dtype, got int64"):
        tolerance(np.int64)
    with pytest.raises(ValueError, match="terms and depth must be ≥ 1"):
        tolerance(np.float64, terms=0)


def test_compare_reports_error_ratio_and_worst_index_passing_or_not() -> None:
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    actual = expected.copy()
    actual[1, 0] += 1e-2
    tol = Tolerance(rtol=1e-3, atol=1e-3)
    result = compare(actual, expected, tol)
    assert not result.ok
    assert result.worst_index == (1, 0)
    assert result.max_abs_error == pytest.approx(1e-2)
    assert result.error_ratio == pytest.approx(1e-2 / (1e-3 * 4 + 1e-3 * 3))
    assert "exceeds rtol=0.001" in result.describe() and "index (1, 0)" in result.describe()
    passing = compare(expected + 1e-9, expected, tol)
    assert passing.ok and "within" in passing.describe() and 0 < passing.error_ratio < 1


def test_compare_handles_shapes_nonfinite_values_and_empty_arrays() -> None:
    assert compare(np.zeros(2), np.zeros(3), EXACT).reason == "shape (2,), but should be (3,)"
    assert compare([np.inf, 1.0], [np.inf, 1.0], EXACT).ok
    assert compare([-np.inf], [-np.inf], EXACT).ok
    for got in (1.0, -np.inf, np.nan, 1e308):            # an infinity agrees only with itself
        assert not compare([got], [np.inf], Tolerance(1.0, 1.0)).ok, got
    assert not compare([np.inf], [1.0], Tolerance(1.0, 1.0)).ok
    assert not compare([np.nan, 1.0], [0.0, 1.0], Tolerance(1.0, 1.0)).ok
    assert compare(np.zeros((0, 3)), np.zeros((0, 3)), EXACT).ok
    assert compare(2.0, 2.0, EXACT).worst_index == ()


def _compare_by_hand(actual: list[float], expected: list[float],
                     tol: Tolerance) -> tuple[object, ...]:
    """compare's rule in plain Python, one element at a time: (ok, max abs error, max rel error,
    error ratio, worst index, actual and expected there)."""
    finite_e = [abs(e) if math.isfinite(e) else 0.0 for e in expected]
    scale = max(1.0, *finite_e)
    diffs, ratios, rels = [], [], []
    for a, e, fe in zip(actual, expected, finite_e):
        d = 0.0 if (not math.isfinite(e) and a == e) else abs(a - e)   # inf meets inf
        d = math.inf if math.isnan(d) else d                             # nan meets nothing
        allowed = tol.atol * scale + tol.rtol * fe
        diffs.append((d, allowed))
        ratios.append(0.0 if d == 0.0 else d / allowed if allowed else math.inf)
        rels.append(0.0 if d == 0.0 or fe == 0.0 else d / fe)
    ratio = [math.inf if math.isnan(r) else r for r in ratios]           # (argmax: nan first)
    worst = next(i for i, r in enumerate(ratios) if math.isnan(r) or r == max(ratio))
    return (all(d <= allowed for d, allowed in diffs), max(d for d, _ in diffs), max(rels),
            ratios[worst], (worst,), actual[worst], expected[worst])


def _nan_named(values: tuple[object, ...]) -> tuple[object, ...]:
    """``values`` with nan written "nan", so that tuples holding nan compare equal."""
    return tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in values)


SPECIAL = st.sampled_from([0.0, -0.0, 1e308, -1e308, math.inf, -math.inf, math.nan])
NEAR = st.floats(-1e-3, 1e-3)


@st.composite
def actual_and_expected(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    """Pairs of lists: expected values, ordinary or special, and actual ones near them (within
    tolerance or not) or special too."""
    expected = draw(st.lists(st.one_of(st.floats(-4, 4), SPECIAL), min_size=1, max_size=6),
                    label="expected")
    actual = [draw(st.one_of(NEAR.map(lambda d, e=e: e + d), SPECIAL), label="actual")
              for e in expected]
    return actual, expected


@pytest.mark.parametrize("tol", [Tolerance(1e-6, 1e-6), Tolerance(1e-3, 0.0), EXACT],
                         ids=["tight", "no-atol", "exact"])
@pytest.mark.parametrize(("actual", "expected"), [
    ([1.0 + 1e-7, -2.0, 0.5], [1.0, -2.0 + 1e-9, 0.0]),          # all finite
    ([1e308, 2.0], [-1e308, 2.0]),                               # a − e overflows
    ([np.inf, np.nan, 0.0], [np.inf, 1.0, 0.0]),                 # infinities and nan
])
def test_compare_follows_its_rule_element_by_element(actual: list[float],
                                                     expected: list[float],
                                                     tol: Tolerance) -> None:
    found = compare(actual, expected, tol)
    assert _nan_named((found.ok, found.max_abs_error, found.max_rel_error, found.error_ratio,
                       found.worst_index, found.actual_at_worst, found.expected_at_worst)) == (
        _nan_named(_compare_by_hand(actual, expected, tol)))


@given(actual_and_expected(), st.sampled_from([Tolerance(1e-6, 1e-6), Tolerance(0.1, 0.0),
                                               EXACT]))
def test_compare_follows_its_rule_on_drawn_values(pair: tuple[list[float], list[float]],
                                                  tol: Tolerance) -> None:
    actual, expected = pair
    found = compare(actual, expected, tol)
    assert _nan_named((found.ok, found.max_abs_error, found.max_rel_error, found.error_ratio,
                       found.worst_index, found.actual_at_worst, found.expected_at_worst)) == (
        _nan_named(_compare_by_hand(actual, expected, tol)))


def test_within_tolerance_is_compares_rule_element_by_element() -> None:
    expected = np.array([[0.0, 10.0], [np.inf, 1.0]])
    tol = Tolerance(rtol=0.01, atol=0.01)          # allowed: 0.01·10 + 0.01·|e|
    actual = np.array([[0.1, 10.3], [np.inf, np.nan]])
    assert within_tolerance(actual, expected, tol).tolist() == [[True, False], [True, False]]
    assert compare(actual[0], expected[0], tol).ok is False
    assert within_tolerance([0.1], [0.0], tol).tolist() == [False]      # scale 1 on its own
    assert within_tolerance([0.1], [0.0], tol, scale=10.0).tolist() == [True]
    # scale = max(1, max|expected|): 1 for expected values below 1, never their own size
    assert within_tolerance([0.5 + 8e-7], [0.5], Tolerance(rtol=0.0, atol=1e-6)).tolist() == [True]
    assert compare([0.5 + 8e-7], [0.5], Tolerance(rtol=0.0, atol=1e-6)).ok
    assert within_tolerance([-np.inf, 1.0], [np.inf, 1.0], tol).tolist() == [False, True]
    assert within_tolerance(np.zeros((0, 2)), np.zeros((0, 2)), EXACT).shape == (0, 2)
    with pytest.raises(ValueError, match=r"actual has shape \(2,\), expected has shape \(3,\)"):
        within_tolerance(np.zeros(2), np.zeros(3), EXACT)


def test_assert_close_names_what_it_compares() -> None:
    assert_close([1.0], [1.0])
    with pytest.raises(AssertionError, match=r"^dW: max abs error 0.5"):
        assert_close([1.5], [1.0], EXACT, what="dW")


def test_relative_error_is_only_measured_where_the_expected_value_is_not_zero() -> None:
    result = compare([1e-3, 2.0], [0.0, 1.0], Tolerance(rtol=1.0, atol=1.0))
    assert result.max_rel_error == pytest.approx(1.0)
    assert result.max_abs_error == pytest.approx(1.0)
    on_zeros = compare([0.5, 1.0], [0.0, 1.0], EXACT)           # the only error on a 0
    assert on_zeros.max_rel_error == 0.0
    assert on_zeros.describe().startswith("max abs error 0.5, max rel error undefined (every "
                                          "error is where 0 is expected) exceeds ")
    assert compare([0.0], [0.0], EXACT).describe().startswith("max abs error 0, max rel error 0 ")


def test_the_module_docstring_examples_hold() -> None:
    import doctest

    import reference.tolerance

    result = doctest.testmod(reference.tolerance)
    assert result.attempted == 5 and result.failed == 0
