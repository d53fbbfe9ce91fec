"""The shared input checks (reference._checks): every message names function, argument, what it
got and what was expected (CONVENTIONS: Errors)."""

from __future__ import annotations

import numpy as np
import pytest

from reference import _checks as C

pytestmark = pytest.mark.infrastructure


def test_as_float_array_copies_converts_and_checks_rank_and_finiteness() -> None:
    x = np.array([1, 2, 3], dtype=np.int32)
    out = C.as_float_array("f", "x", x, ndim=1)
    assert out.dtype == np.float64 and out.base is None and out is not x
    with pytest.raises(ValueError, match=r"^f: x must be 2-D or 4-D, got 1-D with shape \(3,\)"):
        C.as_float_array("f", "x", x, ndim=(2, 4))
    with pytest.raises(ValueError, match=r"^f: W must be finite, got nan at index \(1,\)"):
        C.as_float_array("f", "W", [1.0, np.nan], finite=True)
    with pytest.raises(ValueError, match=r"^f: b must be finite, got inf at index \(\)"):
        C.as_float_array("f", "b", np.inf, finite=True)


def test_as_index_array_checks_dtype_rank_and_range() -> None:
    assert C.as_index_array("f", "ids", [0, 2], size=3).dtype == np.int64
    with pytest.raises(TypeError, match="ids must hold integer ids"):
        C.as_index_array("f", "ids", [0.0], size=3)
    with pytest.raises(TypeError, match="ids must be an integer array, got NoneType"):
        C.as_index_array("f", "ids", None, size=3)
    with pytest.raises(ValueError, match=r"ids holds id 3, outside \[0, 3\)"):
        C.as_index_array("f", "ids", [3], size=3)
    with pytest.raises(ValueError, match=r"ids holds id -1"):
        C.as_index_array("f", "ids", [-1, 0], size=3)
    with pytest.raises(ValueError, match="ids must be 2-D, got 1-D"):
        C.as_index_array("f", "ids", [0], ndim=2, size=3)


def test_check_shape_shows_the_wanted_shape_with_wildcards() -> None:
    C.check_shape("f", "b", np.zeros(4), (4,))
    with pytest.raises(ValueError, match=r"^f: b must have shape \(4,\), got \(3,\) \(one per"):
        C.check_shape("f", "b", np.zeros(3), (4,), "one per kernel")
    with pytest.raises(ValueError, match=r"must have shape \(\*, 3\), got \(2, 2\)$"):
        C.check_shape("f", "x", np.zeros((2, 2)), (None, 3))


def test_recurrent_sequences_and_states_are_non_empty_and_finite() -> None:
    x = C.as_sequence("f", "x", np.zeros((3, 2, 4), dtype=np.float32))
    assert x.shape == (3, 2, 4) and x.dtype == np.float64
    with pytest.raises(ValueError, match=r"^f: x must be 3-D, got 2-D"):
        C.as_sequence("f", "x", np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"^f: x must be a non-empty sequence \[T, N, D\] with "
                                         r"T, N, D ≥ 1, got shape \(3, 0, 4\)"):
        C.as_sequence("f", "x", np.zeros((3, 0, 4)))
    with pytest.raises(ValueError, match=r"^f: x must be finite, got inf at index \(0, 1, 2\)"):
        C.as_sequence("f", "x", np.where(np.arange(24).reshape(3, 2, 4) == 6, np.inf, 0.0))
    assert C.as_state("f", "h0", [[1, 2]], 1, 2).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match=r"^f: h0 must have shape \(2, 2\), got \(1, 2\) "
                                         r"\(N = 2, H = 2\)"):
        C.as_state("f", "h0", [[1, 2]], 2, 2)
    with pytest.raises(ValueError, match=r"^f: h0 must be finite, got nan"):
        C.as_state("f", "h0", [[np.nan, 2]], 1, 2)


def test_scalar_and_pair_settings() -> None:
    assert C.positive_int("f", "steps", np.int64(3)) == 3
    with pytest.raises(TypeError, match="steps must be an integer, got bool True"):
        C.positive_int("f", "steps", True)
    with pytest.raises(ValueError, match="steps must be at least 1, got 0"):
        C.positive_int("f", "steps", 0)
    assert C.positive_number("f", "lr", 1) == 1.0
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got nan"):
        C.positive_number("f", "lr", float("nan"))
    with pytest.raises(TypeError, match="lr must be a real number, got str"):
        C.positive_number("f", "lr", "0.1")
    assert C.positive_pair("f", "stride", 2) == (2, 2)
    assert C.nonnegative_pair("f", "padding", (0, 1)) == (0, 1)
    with pytest.raises(ValueError, match=r"stride must be at least 1 per axis, got \(1, 0\)"):
        C.positive_pair("f", "stride", (1, 0))
    with pytest.raises(ValueError, match="padding must be at least 0 per axis, got -1"):
        C.nonnegative_pair("f", "padding", -1)
    with pytest.raises(ValueError, match=r"an int or a pair \(vertical, horizontal\)"):
        C.positive_pair("f", "stride", (1, 2, 3))
    with pytest.raises(TypeError, match="stride must hold integers, got 1.5"):
        C.positive_pair("f", "stride", 1.5)


def test_rng_from_takes_a_generator_or_a_seed_only() -> None:
    g = np.random.default_rng(0)
    assert C.rng_from("f", g) is g
    assert C.rng_from("f", 7).integers(100) == np.random.default_rng(7).integers(100)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed"):
        C.rng_from("f", None)


def test_as_named_arrays_wants_exactly_the_names_each_finite() -> None:
    p = C.as_named_arrays("f", "params", {"W": [[1, 2]], "b": [0]}, ("W", "b"), {"W": 2, "b": 1})
    assert p["W"].dtype == np.float64 and p["b"].shape == (1,)
    with pytest.raises(TypeError, match=r"^f: params must be a mapping of exactly \['W'\] to "
                                        r"arrays, got list"):
        C.as_named_arrays("f", "params", [1], ("W",))
    with pytest.raises(ValueError, match=r"^f: params must map exactly \['W', 'b'\] to arrays, "
                                         r"got \['W'\]"):
        C.as_named_arrays("f", "params", {"W": [1.0]}, ("W", "b"))
    with pytest.raises(ValueError, match=r"^f: params\['W'\] must be 2-D, got 1-D"):
        C.as_named_arrays("f", "params", {"W": [1.0]}, ("W",), {"W": 2})
    with pytest.raises(ValueError, match=r"^f: params\['W'\] must be finite"):
        C.as_named_arrays("f", "params", {"W": [np.nan]}, ("W",))
