"""The tolerance policy (reference.tolerance): the model's numbers and the comparison's report."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_within_tolerance_is_compares_rule_element_by_element() -> None:
    expected = np.array([[0.0, 10.0], [np.inf, 1.0]])
    tol = Tolerance(rtol=0.01, atol=0.01)          # allowed: 0.01·10 + 0.01·|e|
    actual = np.array([[0.1, 10.3], [np.inf, np.nan]])
    assert within_tolerance(actual, expected, tol).tolist() == [[True, False], [True, False]]
    assert compare(actual[0], expected[0], tol).ok is False
    assert within_tolerance([0.1], [0.0], tol).tolist() == [False]      # scale 1 on its own
    assert within_tolerance([0.1], [0.0], tol, scale=10.0).tolist() == [True]
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
