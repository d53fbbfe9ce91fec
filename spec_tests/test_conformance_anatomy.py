"""Tests of conformance.anatomy: for every WHERE and HOW tag, a constructed failure that shows it
and a near miss that must not; real ops' layouts (a conv padding bug, an LSTM gate block, a
recurrence drifting with t); the issue's two example lines; and Hypothesis properties that the
tags are always true of the data and that noise gets no "how"."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance.anatomy import Anatomy, _factor, _ranges, _tag_number, anatomies, anatomy
from conformance.backends import load_backend
from conformance.cases import complete
from conformance.checks import default_cases
from conformance.contract import OPS
from reference.tolerance import EXACT, Tolerance, tolerance, within_tolerance

pytestmark = pytest.mark.infrastructure

TOL = tolerance(np.float64, terms=4, gradient=True)
REF = load_backend("numpy")


def _one(op: str, check: str, name: str, got: Any, expected: Any, inputs: Any = None,
         attrs: Any = None, tol: Tolerance = TOL) -> Anatomy:
    result = anatomy(op, check, name, np.asarray(got, dtype=np.float64),
                     np.asarray(expected, dtype=np.float64), tol, inputs or {}, attrs or {})
    assert len(result.text) <= 160, result.text
    assert "\n" not in result.text and not result.text.endswith(("; ", ";", ",")), result.text
    json.dumps(result.to_dict(), allow_nan=False)       # JSON-ready, whatever the case
    return result


def _image(shape: tuple[int, ...] = (2, 3, 5, 6), seed: int = 0) -> np.ndarray:
    """Values well away from 0, so that any change of them is outside the tolerance."""
    rng = np.random.default_rng(seed)
    return rng.uniform(1.0, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _border(shape: tuple[int, ...], axes: tuple[int, ...] = (2, 3)) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for axis in axes:
        index: list[Any] = [slice(None)] * len(shape)
        index[axis] = [0, shape[axis] - 1]
        mask[tuple(index)] = True
    return mask


# ---------------------------------------------------------------- the issue's examples
def test_a_conv_padding_bug_shows_as_border_rows_the_issues_first_line() -> None:
    # a backward that drops the output positions touching the padding (2×2 kernel, padding
    # (1, 0)): only the first and last rows of dx get the wrong gradient
    rng = np.random.default_rng(1)
    inputs = {"x": rng.normal(size=(1, 1, 8, 6)), "w": rng.normal(size=(2, 1, 2, 2)),
              "b": rng.normal(size=2)}
    attrs = {"stride": (1, 1), "padding": (1, 0)}
    y = REF.values("forward", "conv2d", inputs, attrs, {})["y"]
    dy = rng.normal(size=y.shape)
    expected = REF.values("gradient", "conv2d", inputs, attrs, {"y": dy})
    dropped = dy.copy()
    dropped[:, :, [0, -1], :] = 0.0
    got = REF.values("gradient", "conv2d", inputs, attrs, {"y": dropped})
    found = anatomies("conv2d", "gradient", got, expected, TOL, inputs, attrs)
    assert [a.array for a in found] == ["dx", "dw", "db"]
    dx = found[0]
    assert dx.text == "dx wrong at 12/48 elements, all on the border rows/cols; interior exact"
    assert (dx.wrong, dx.total, dx.where, dx.how) == (12, 48, ("border",), ())
    assert dx.to_dict() == {"array": "dx", "wrong": 12, "total": 48, "where": ["border"],
                            "how": [], "text": dx.text, "first": [0, 0, 0, 0],
                            "sides": ["top", "bottom"]}


def _lstm(seed: int = 2, h: int = 16, t: int = 4) -> tuple[dict[str, np.ndarray],
                                                          dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    n, d = 2, 3
    inputs = {"x": rng.normal(size=(t, n, d)), "h0": rng.normal(size=(n, h)),
              "c0": rng.normal(size=(n, h)), "w_ih": 0.3 * rng.normal(size=(4 * h, d)),
              "w_hh": 0.3 * rng.normal(size=(4 * h, h)), "b_ih": rng.normal(size=4 * h),
              "b_hh": rng.normal(size=4 * h)}
    outputs = REF.values("forward", "lstm", inputs, {}, {})
    upstream = {k: rng.normal(size=v.shape) for k, v in outputs.items()}
    return inputs, REF.values("gradient", "lstm", inputs, {}, upstream)


def test_an_lstm_gate_block_scaled_the_issues_second_line() -> None:
    inputs, expected = _lstm()
    got = {**expected, "w_ih": expected["w_ih"].copy()}
    got["w_ih"][16:32] *= 2.0                                   # the f block, H = 16
    tol = tolerance(np.float64, terms=40, depth=4, gradient=True)
    (found,) = anatomies("lstm", "gradient", got, expected, tol, inputs, {})
    assert found.text == ("dw_ih wrong only in gate block f (rows 16–31); other blocks exact; "
                          "×2 there")
    assert (found.where, found.how, found.wrong, found.total) == (("gate:f",), ("factor:2",),
                                                                  48, 192)
    detail = found.to_dict()
    assert (detail["gates"], detail["gate_rows"], detail["factor"]) == (["f"], [[16, 31]], 2.0)


def test_a_recurrence_drifting_with_t_grows_with_t() -> None:
    rng = np.random.default_rng(3)
    t, n, d, h = 6, 2, 3, 4
    inputs = {"x": rng.normal(size=(t, n, d)), "h0": 0.1 * rng.normal(size=(n, h)),
              "w_ih": 0.3 * rng.normal(size=(h, d)), "w_hh": 0.5 * rng.normal(size=(h, h)),
              "b_ih": 0.1 * rng.normal(size=h), "b_hh": 0.1 * rng.normal(size=h)}
    expected = REF.values("forward", "rnn", inputs, {}, {})
    got = REF.values("forward", "rnn", {**inputs, "w_hh": 1.1 * inputs["w_hh"]}, {}, {})
    per_step = np.abs(got["out"] - expected["out"]).max(axis=(1, 2))
    assert np.all(np.diff(per_step) > 0)                      # the data: it does grow
    out, h_n = anatomies("rnn", "forward", got, expected, TOL, inputs, {})
    assert out.where == ("everywhere", "grows-with-t") and out.how == ()
    assert out.text == ("out wrong at all 48 elements; the error grows step by step from t = 0 "
                        "to t = 5")
    assert out.to_dict()["step_errors"] == pytest.approx(per_step.tolist())
    assert h_n.array == "h_n" and "grows-with-t" not in h_n.where


# ---------------------------------------------------------------- where
def test_everywhere_every_element_or_every_nonzero_one() -> None:
    e = _image((1, 1, 3, 3))
    assert _one("conv2d", "forward", "y", 3 * e, e).where == ("everywhere",)
    sparse = np.zeros(8)
    sparse[[1, 4]] = [1.0, 2.0]
    got = sparse * 2
    found = _one("relu", "gradient", "x", got, sparse)
    assert found.where == ("everywhere",)
    assert found.text.startswith("dx wrong at 2/8 elements, exactly those whose expected value "
                                 "is not 0")
    got[0] = 5.0                                    # and one where 0 is expected
    assert _one("relu", "gradient", "x", got, sparse).text.startswith(
        "dx wrong at 3/8 elements, among them all those whose expected value is not 0")
    near = 3 * e
    near[0, 0, 1, 1] = e[0, 0, 1, 1]                 # one right element
    assert "everywhere" not in _one("conv2d", "forward", "y", near, e).where


def test_border_and_interior_and_their_near_misses() -> None:
    e = _image()
    border = _border(e.shape)
    got = np.where(border, e + 1.0, e)
    found = _one("max_pool2d", "gradient", "x", got, e)
    assert found.to_dict()["sides"] == ["top", "bottom", "left", "right"]
    assert found.where == ("border",) and found.text.startswith(
        f"dx wrong at {border.sum()}/{e.size} elements, all on the border rows/cols; "
        f"interior exact")
    # all border elements but one wrong, and one interior element: no "border"
    near = got.copy()
    near[0, 0, 0, 0] = e[0, 0, 0, 0]
    near[0, 0, 2, 2] += 1.0
    assert "border" not in _one("max_pool2d", "gradient", "x", near, e).where
    inner = np.where(~border, e * 2, e)
    found = _one("conv2d", "forward", "y", inner, e)
    assert found.where == ("interior",) and "border rows/cols exact" in found.text
    inner[1, 2, 0, 3] += 1.0                         # and one on the border
    assert "interior" not in _one("conv2d", "forward", "y", inner, e).where
    # no interior (H = 2): every element is on the border, so "border" says nothing
    flat = _image((1, 1, 2, 5))
    assert _one("conv2d", "forward", "y", flat + 1, flat).where == ("everywhere",)
    seq = _image((2, 2, 6))                          # conv1d: the first/last positions
    found = _one("conv1d", "gradient", "x", np.where(_border(seq.shape, (2,)), seq * 3, seq),
                 seq)
    assert found.where == ("border",) and "border positions; interior exact" in found.text
    assert found.to_dict()["sides"] == ["first", "last"]


def test_x_equal_zero_for_relu_prime_at_zero() -> None:
    x = np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -2.0]])
    dy = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    expected = np.where(x > 0, dy, 0.0)
    got = np.where(x >= 0, dy, 0.0)                  # relu'(0) = 1
    found = _one("relu", "gradient", "x", got, expected, {"x": x})
    assert "x==0" in found.where and "all where x = 0; elsewhere exact" in found.text
    near = got.copy()
    near[0, 2] = 7.0                                 # and one where x = 2
    assert "x==0" not in _one("relu", "gradient", "x", near, expected, {"x": x}).where
    assert "x==0" not in _one("linear", "gradient", "x", got, expected, {"x": x}).where


def test_the_sign_of_x_for_a_gradient_through_abs_x() -> None:
    # an L2-pool backward through |x|: dx flips sign exactly where x < 0
    x = _image((1, 2, 4, 4), seed=3)
    attrs = {"kernel_size": (2, 2), "stride": (2, 2)}
    y = REF.values("forward", "lp_pool2d", {"x": x}, {**attrs, "p": 2.0}, {})["y"]
    dy = np.ones_like(y)
    expected = REF.values("gradient", "lp_pool2d", {"x": x}, {**attrs, "p": 2.0}, {"y": dy})["x"]
    got = np.abs(expected)
    found = _one("lp_pool2d", "gradient", "x", got, expected, {"x": x}, attrs)
    assert "x<0" in found.where and "x>0" not in found.where
    assert "all where x < 0; elsewhere exact" in found.text and "sign" in found.how
    near = got.copy()
    near[x > 0] *= 1.5                               # wrong at both signs now
    assert not {"x<0", "x>0"} & set(_one("lp_pool2d", "gradient", "x", near, expected, {"x": x},
                                         attrs).where)
    # a leaky relu: y wrong only where x < 0; but two wrong elements are a coin's chance
    v = np.array([[-1.0, 0.0, 2.0, -3.0], [1.5, -0.5, 3.0, 4.0]])
    leaky = _one("relu", "forward", "y", np.where(v > 0, v, 0.01 * v), np.maximum(v, 0.0),
                 {"x": v})
    assert "x<0" in leaky.where
    two = np.maximum(v, 0.0)
    two[0, 0], two[1, 0] = 1.0, 9.0                  # wrong at x = −1 and x = 1.5
    assert "x>0" not in _one("relu", "forward", "y", two, np.maximum(v, 0.0), {"x": v}).where
    one_sign = np.maximum(v, 0.0)
    one_sign[0, 2], one_sign[1, 0] = 5.0, 5.0        # two wrong, both where x > 0
    assert "x>0" not in _one("relu", "forward", "y", one_sign, np.maximum(v, 0.0),
                             {"x": v}).where
    # a convolution's dx does not depend on the sign of x
    conv_x = _image((1, 1, 4, 4))
    flipped = np.where(conv_x < 0, -conv_x, conv_x)
    assert "x<0" not in _one("conv2d", "gradient", "x", flipped, conv_x, {"x": conv_x}).where


def test_ties_for_max_pool_only_in_windows_with_a_tied_maximum() -> None:
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = 9.0              # the top-left window's maximum, tied
    attrs = {"kernel_size": (2, 2), "stride": (2, 2)}
    y = REF.values("forward", "max_pool2d", {"x": x}, attrs, {})["y"]
    dy = np.arange(1.0, 1.0 + y.size).reshape(y.shape)
    expected = REF.values("gradient", "max_pool2d", {"x": x}, attrs, {"y": dy})["x"]
    got = expected.copy()
    got[0, 0, 0, :2] = dy[0, 0, 0, 0] / 2            # split between the tied maxima
    found = _one("max_pool2d", "gradient", "x", got, expected, {"x": x}, attrs)
    assert "ties" in found.where and "all in windows with a tied maximum" in found.text
    near = got.copy()
    near[0, 0, 3, 3] += 1.0                          # and one in an untied window
    assert "ties" not in _one("max_pool2d", "gradient", "x", near, expected, {"x": x},
                              attrs).where
    y_got = y.copy()
    y_got[0, 0, 0, 0] = 4.5                          # the forward of the tied window
    assert "ties" in _one("max_pool2d", "forward", "y", y_got, y, {"x": x}, attrs).where
    assert "ties" not in _one("max_pool2d", "forward", "y", y_got, y, {"x": x}, {}).where


def test_kink_for_max_margin() -> None:
    s = np.array([2.0, 1.0, 3.0, 0.5])
    s_c = np.array([1.0, 1.0, 2.0, 2.0])             # Δ + s_c − s = 0, 1, 0, 2.5
    expected = np.array([0.0, 1.0, 0.0, 1.0])        # ds_c = dJ where J > 0, dJ = 1
    got = np.array([1.0, 1.0, 1.0, 1.0])             # slope 1 at the kink (torch's clamp)
    attrs = {"delta": 1.0}
    found = _one("max_margin", "gradient", "s_c", got, expected, {"s": s, "s_c": s_c}, attrs)
    assert "kink" in found.where and "all at the kink Δ + s_c − s = 0" in found.text
    near = got.copy()
    near[3] = 2.0
    assert "kink" not in _one("max_margin", "gradient", "s_c", near, expected,
                              {"s": s, "s_c": s_c}, attrs).where


def test_large_inputs_elementwise_and_by_softmax_row() -> None:
    x = np.array([-800.0, -1.0, 0.5, 30.0, 2.0])
    expected = 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))
    got = expected.copy()
    got[0] = np.nan                                  # exp overflow in an unstable sigmoid
    got[3] = np.inf
    found = _one("sigmoid", "forward", "y", got, expected, {"x": x})
    assert found.where == ("large",) and found.how == ("nonfinite",)
    assert found.text == ("y wrong at 2/5 elements, all where |x| > 20; elsewhere exact; 1 nan "
                          "and 1 inf where finite values are expected (first at (0,))")
    assert (found.to_dict()["nan"], found.to_dict()["inf"]) == (1, 1)
    near = got.copy()
    near[1] = 0.9
    assert "large" not in _one("sigmoid", "forward", "y", near, expected, {"x": x}).where
    logits = np.array([[1.0, 2.0, 3.0], [1.0, 50.0, 0.0], [0.0, 0.0, 1.0]])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    bad = p.copy()
    bad[1] = [0.0, np.nan, 0.0]
    found = _one("softmax", "forward", "y", bad, p, {"x": logits})
    assert "large" in found.where and "all in rows with an |x| > 20" in found.text
    found = _one("cross_entropy", "gradient", "logits", bad, p, {"logits": logits})
    assert "large" in found.where and "|logits| > 20" in found.text


def test_gate_blocks_of_lstm_and_gru_and_the_near_miss() -> None:
    inputs, expected = _lstm(h=3)
    got = expected["b_hh"].copy()
    got[6:9] += 1.0                                  # the g block
    found = _one("lstm", "gradient", "b_hh", got, expected["b_hh"], inputs)
    assert found.where == ("gate:g",) and found.how == ("offset:1",)
    assert found.text == ("db_hh wrong only in gate block g (rows 6–8); other blocks exact; "
                          "off by +1 there")
    got[0] += 1.0                                    # and one element of block i
    near = _one("lstm", "gradient", "b_hh", got, expected["b_hh"], inputs)
    assert near.where == ("gate:i,g",) and "gate blocks i, g (rows 0–2, 6–8)" in near.text
    part = expected["w_hh"].copy()
    part[4, 0] *= -1.0                               # one element of block f
    part[5, 2] *= -1.0
    found = _one("lstm", "gradient", "w_hh", part, expected["w_hh"], inputs)
    assert found.where == ("gate:f",) and found.how == ("factor:-1", "sign")
    assert found.text.startswith("dw_hh wrong at 2/36 elements, only in gate block f (rows 3–5)")
    assert found.text.endswith("×−1 there (the sign flipped)")
    gru = {"h0": np.zeros((2, 2))}
    e = _image((6, 3))
    found = _one("gru", "gradient", "w_ih", np.where(np.arange(6)[:, None] >= 4, 0.0, e), e,
                 gru)
    assert found.where == ("gate:n",) and "zeros" in found.how
    everything = _one("gru", "gradient", "w_ih", e + 1, e, gru)
    assert not [t for t in everything.where if t.startswith("gate")]


def test_first_and_last_step_of_a_recurrent_array() -> None:
    e = _image((4, 2, 3))
    first = e.copy()
    first[0] *= 2
    found = _one("gru", "forward", "out", first, e)
    assert found.where == ("step:first",) and "all at the first step (t = 0)" in found.text
    first[1, 0, 0] += 1.0                            # and one at t = 1
    assert "step:first" not in _one("gru", "forward", "out", first, e).where
    last = e.copy()
    last[3, 1] = 0.0
    found = _one("rnn", "gradient", "x", last, e)
    assert found.where == ("step:last", "rows:1")
    assert found.text.startswith("dx wrong at 3/24 elements, all at the last step (t = 3); "
                                 "other steps exact; only in batch row 1")
    last[2, 0, 0] = 9.0                              # and one at t = 2
    assert not {"step:last", "step:first"} & set(_one("rnn", "gradient", "x", last, e).where)
    short = _image((1, 2, 3))                        # T = 1: no other step to speak of
    assert _one("rnn", "forward", "out", short * 2, short).where == ("everywhere",)


def test_grows_with_t_and_its_near_misses() -> None:
    e = np.ones((5, 1, 2))
    steps = np.array([0.0, 0.1, 0.2, 0.4, 0.8])[:, None, None]
    found = _one("lstm", "forward", "out", e + steps, e)
    assert found.where == ("grows-with-t",)
    assert found.text == "out wrong at 8/10 elements, the error grows step by step from t = 1 " \
                         "to t = 4"
    back = _one("lstm", "gradient", "x", e + steps[::-1], e)
    assert back.where == ("grows-with-t",)
    assert "from t = 3 back to t = 0" in back.text
    for bumps in ([0.1, 0.3, 0.2, 0.4, 0.5],            # not monotone
                  [0.0, 0.0, 0.0, 0.2, 0.4],            # two steps only
                  [0.1, 0.2, 0.0, 0.3, 0.4],            # a gap
                  [0.5, 0.5 + 1e-15, 0.5 + 2e-15, 0.5 + 3e-15, 0.5 + 4e-15]):   # rounding
        got = e + np.array(bumps)[:, None, None]
        assert "grows-with-t" not in _one("lstm", "forward", "out", got, e).where, bumps
    nan = e + steps
    nan[4, 0, 0] = np.nan
    assert "grows-with-t" not in _one("lstm", "forward", "out", nan, e).where


def test_rows_and_channels() -> None:
    e = _image((3, 4, 3, 3))
    got = e.copy()
    got[1, 2] += 1.0
    got[1, 3, 0, 0] += 1.0
    found = _one("avg_pool2d", "forward", "y", got, e)
    assert found.where == ("rows:1", "channels:2,3")
    assert "only in batch row 1; other batch rows exact; only in channels 2, 3" in found.text
    got[0, 0, 0, 0] += 1.0                           # now in rows 0, 1, channels 0, 2, 3
    assert _one("avg_pool2d", "forward", "y", got, e).where == ("rows:0,1", "channels:0,2,3")
    got[2, 1, 0, 1] += 1.0                           # and in every row and every channel
    assert _one("avg_pool2d", "forward", "y", got, e).where == ()
    w = _image((4, 3))
    found = _one("linear", "gradient", "w", np.where(np.arange(4)[:, None] == 2, w * 3, w), w)
    assert found.where == ("rows:2",) and "only in row 2" in found.text
    kernels = _image((3, 2, 2, 2))
    got = kernels.copy()
    got[[0, 2], 1] *= 2
    found = _one("conv2d", "gradient", "w", got, kernels)
    assert found.where == ("rows:0,2", "channels:1") and "only in kernels 0, 2" in found.text
    table = _image((5, 2))
    assert _one("embedding", "gradient", "E", table * [[1], [2], [1], [1], [1]],
                table).where == ("rows:1",)


# ---------------------------------------------------------------- how
@pytest.mark.parametrize(("c", "tag", "shown"), [
    (2.0, "factor:2", "×2 there"), (0.5, "factor:1/2", "×1/2 there"),
    (-1.0, "factor:-1", "×−1 there (the sign flipped)"), (9.0, "factor:9", "×9 there"),
    (1 / 9, "factor:1/9", "×1/9 there"), (0.7312, "factor:0.7312", "×0.7312 there"),
    (-4.0, "factor:-4", "×−4 there"),
])
def test_a_constant_factor_is_named_as_the_lecture_would(c: float, tag: str, shown: str) -> None:
    e = _image((2, 3))
    found = _one("linear", "forward", "y", c * e, e)
    assert found.how[0] == tag and found.text == f"y wrong at all 6 elements; {shown}"
    assert found.to_dict()["factor"] == pytest.approx(c)
    assert ("sign" in found.how) == (c == -1.0)


def test_factor_near_misses_and_exact_tolerances() -> None:
    e = _image((2, 3))
    got = 2 * e
    got[1, 2] *= 1.001                               # one element not quite ×2
    assert _one("linear", "forward", "y", got, e).how == ()
    single = e[0].copy()
    single[1] *= 2                                   # one wrong element: any factor fits it
    found = _one("linear", "gradient", "b", single, e[0])
    assert found.how == () and found.text == (f"db wrong at 1/3 elements (first at (1,): got "
                                              f"{single[1]:.6g}, expected {e[0, 1]:.6g})")
    ints = np.array([[3.0, 6.0, 9.0], [1.0, 2.0, 7.0]])
    assert _one("linear", "forward", "y", ints / 3, ints, tol=EXACT).how == ("factor:1/3",)
    close = _one("linear", "forward", "y", e * 2.0000015, e)
    assert close.how == ("factor:2.0000015",) and close.text.endswith("×2.0000015 there")
    ulp = ints * (1 + 2.2e-16)                       # wrong under EXACT, by rounding only
    assert _one("linear", "forward", "y", ulp, ints, tol=EXACT).how == ()


def test_offset_zeros_and_their_near_misses() -> None:
    e = _image((2, 4))
    found = _one("tanh", "forward", "y", e - 0.25, e)
    assert found.how == ("offset:-0.25",) and found.text.endswith("off by −0.25 there")
    off = _one("tanh", "forward", "y", e + 0.3, e)
    assert off.how == ("offset:0.3",) and off.to_dict()["offset"] == pytest.approx(0.3)
    assert off.text.endswith("off by +0.3 there")
    near = e + 0.3
    near[1, 1] += 0.1
    assert _one("tanh", "forward", "y", near, e).how == ()
    zeros = _one("conv2d", "gradient", "b", np.zeros(4), np.array([1.0, -2.0, 3.0, 4.0]))
    assert zeros.how == ("zeros",) and "0 there, where the expected values are not" in zeros.text
    some = _one("conv2d", "gradient", "b", [0.0, 0.0, 1e-3, 0.0], [1.0, -2.0, 3.0, 4.0])
    assert "zeros" not in some.how
    both = _one("conv2d", "gradient", "b", [0.0, 0.0, 0.0], [2.0, 2.0, 2.0])
    assert both.how == ("zeros", "offset:-2")        # all expected equal: both hold


def test_a_factor_per_row() -> None:
    e = _image((3, 4))
    got = e * np.array([[2.0], [3.0], [1.0]])        # rows 0, 1 scaled differently
    found = _one("linear", "forward", "y", got, e)
    assert found.where == ("rows:0,1",) and found.how == ("row-factor",)
    assert found.text.endswith("a factor per batch row (0 ×2, 1 ×3)")
    assert found.to_dict()["row_factors"] == {"0": 2.0, "1": 3.0}
    same = _one("linear", "forward", "y", e * np.array([[2.0], [2.0], [1.0]]), e)
    assert same.how == ("factor:2",)                 # one factor for all: not "row-factor"
    near = got.copy()
    near[1, 0] += 0.5
    assert "row-factor" not in _one("linear", "forward", "y", near, e).how
    many = _image((5, 2))
    found = _one("linear", "forward", "y", many * np.arange(2.0, 7.0)[:, None], many)
    assert found.text.endswith("a factor per batch row (0 ×2, 1 ×3, 2 ×4, …)")


def test_transposes_square_blocked_and_in_the_transposed_shape() -> None:
    w = _image((3, 3))
    found = _one("linear", "gradient", "w", w.T, w)
    assert found.how == ("transpose",) and found.text.endswith(
        "it is the expected array transposed")
    near = w.T.copy()
    near[0, 1] += 1.0
    assert "transpose" not in _one("linear", "gradient", "w", near, w).how
    wide = _image((2, 3))
    shape = _one("linear", "gradient", "w", wide.T, wide)
    assert (shape.how, shape.where, shape.wrong) == (("shape", "transpose"), (), 6)
    assert shape.text == "dw has shape (3, 2), expected (2, 3) = [M, D]; it is the expected " \
                         "array transposed"
    assert shape.to_dict()["shape"] == [3, 2] and shape.to_dict()["expected_shape"] == [2, 3]
    other = _one("linear", "gradient", "w", np.zeros((3, 2)), wide)
    assert other.how == ("shape",) and other.text == (
        "dw has shape (3, 2), expected (2, 3) = [M, D]; its axes in another order: [D, M]")
    assert "shape" not in _one("linear", "gradient", "w", np.zeros((2, 3)), wide).how
    h = 2
    w_hh = _image((3 * h, h))
    blocks = w_hh.reshape(3, h, h).transpose(0, 2, 1).reshape(3 * h, h)
    found = _one("gru", "gradient", "w_hh", blocks, w_hh, {"h0": np.zeros((1, h))})
    assert "transpose" in found.how and "each gate block is the expected block transposed" in \
        found.text


def test_gate_blocks_permuted() -> None:
    inputs, expected = _lstm(h=2)
    order = [0, 3, 2, 1]                             # i, o, g, f: ONNX's order read as torch's
    got = np.concatenate([expected["w_ih"][2 * k:2 * k + 2] for k in order])
    found = _one("lstm", "gradient", "w_ih", got, expected["w_ih"], inputs)
    assert found.where == ("gate:f,o",) and found.how == ("block-permutation",)
    assert found.text.endswith("its gate blocks are the expected ones in the order (i, o, g, f)")
    assert found.to_dict()["permutation"] == ["i", "o", "g", "f"]
    near = got.copy()
    near[2, 0] += 1.0
    assert "block-permutation" not in _one("lstm", "gradient", "w_ih", near, expected["w_ih"],
                                           inputs).how
    half = expected["w_ih"].copy()
    half[2:4] = expected["w_ih"][6:8]                # f holds o, but o stays: no permutation
    assert "block-permutation" not in _one("lstm", "gradient", "w_ih", half, expected["w_ih"],
                                           inputs).how


def test_shifts_by_a_pixel_or_a_step() -> None:
    e = _image((1, 2, 4, 5))
    got = e.copy()
    got[..., 1:] = e[..., :-1]                       # one col to the right
    found = _one("conv2d", "forward", "y", got, e)
    assert "shift:3:+1" in found.how and "shifted 1 col right (axis 3)" in found.text
    assert found.to_dict()["shift"] == [{"axis": 3, "k": 1}]
    up = e.copy()
    up[:, :, :-2] = e[:, :, 2:]                      # two rows up
    up[:, :, -2:] = 0.0                              # whatever is shifted in: not checked
    assert "shift:2:-2" in _one("conv2d", "gradient", "x", up, e).how
    seq = _image((5, 2, 3))
    later = seq.copy()
    later[1:] = seq[:-1]
    found = _one("rnn", "forward", "out", later, seq)
    assert "shift:0:+1" in found.how and "shifted 1 step later (axis 0)" in found.text
    line = _image((1, 1, 6))
    left = line.copy()
    left[..., :-1] = line[..., 1:]
    assert "shifted 1 position left (axis 2)" in _one("conv1d", "forward", "y", left, line).text
    near = got.copy()
    near[0, 0, 2, 3] += 1.0
    assert not [t for t in _one("conv2d", "forward", "y", near, e).how if t.startswith("shift")]


def test_nonfinite_values_with_their_first_index() -> None:
    e = _image((2, 3))
    got = e.copy()
    got[1, 1] = np.nan
    got[1, 2] = -np.inf
    got[0, 0] *= 2
    found = _one("linear", "forward", "y", got, e)
    assert found.how == ("nonfinite",)
    assert found.text == ("y wrong at 3/6 elements (first at (0, 0): got "
                          f"{got[0, 0]:.6g}, expected {e[0, 0]:.6g}); 1 nan and 1 inf where "
                          "finite values are expected (first at (1, 1))")
    # near misses: an infinity where it is expected is right; a huge finite value is no nan
    inf = np.array([np.inf, 1.0, 2.0])
    assert _one("relu", "forward", "y", [np.inf, 1.0, 2.0], inf).wrong == 0
    huge = _one("relu", "forward", "y", [np.inf, 1e300, 2.0], inf)
    assert huge.wrong == 1 and "nonfinite" not in huge.how


def test_a_scalar_within_tolerance_and_odd_values() -> None:
    loss = _one("cross_entropy", "forward", "loss", 4.5, 1.5)
    assert loss.text == "loss wrong: got 4.5, expected 1.5 (×3)" and loss.how == ()
    assert (loss.wrong, loss.total, loss.where) == (1, 1, ("everywhere",))
    # one element: its ratio is shown when it reads as a factor, but it is no "how" tag
    assert _one("cross_entropy", "forward", "loss", 4.6, 1.5).text == (
        "loss wrong: got 4.6, expected 1.5")
    assert _one("relu", "forward", "y", [[1.0 + 1e-9]], [[1.0]]).text == (
        "y wrong: got 1.000000001, expected 1")
    assert _one("relu", "forward", "y", [np.nan], [0.5]).text.startswith(
        "y wrong: got nan, expected 0.5; 1 nan where finite values are expected")
    fine = _one("relu", "forward", "y", [1.0, 2.0], [1.0, 2.0])
    assert (fine.wrong, fine.text) == (0, "y within tolerance at all 2 elements")
    odd = anatomy("relu", "forward", "y", ["a", "b"], np.ones(2), TOL, {}, {})
    assert (odd.wrong, odd.how, odd.text) == (2, (), "y is not an array of numbers (list)")


def test_anatomies_are_in_the_contract_order_and_leave_passing_arrays_out() -> None:
    e = {"b": np.ones(2), "x": np.ones((2, 3)), "w": np.ones((2, 3))}
    got = {"b": np.ones(2) * 2, "x": np.ones((2, 3)), "w": np.zeros((2, 3))}
    found = anatomies("linear", "gradient", got, e, TOL, {}, {})
    assert [a.array for a in found] == ["dw", "db"]
    empty = anatomies("linear", "forward", {"y": np.zeros((2, 0))}, {"y": np.zeros((0, 3))}, TOL,
                      {}, {})
    assert [(a.array, a.wrong, a.how) for a in empty] == [("y", 0, ("shape",))]
    outside = anatomies("not_an_op", "forward", {"q": np.ones(2)}, {"q": np.zeros(2)}, TOL, {},
                        {})
    assert [a.array for a in outside] == ["q"]


def test_odd_inputs_never_break_an_anatomy() -> None:
    e = _image((1, 1, 4, 4))
    # missing or mismatched inputs and attributes: the tags that need them are left out
    assert "ties" not in _one("max_pool2d", "gradient", "x", e * 2, e,
                              {"x": np.ones((1, 1, 2, 2))},
                              {"kernel_size": (2, 2), "stride": (2, 2)}).where
    assert _one("lstm", "gradient", "w_ih", e[0, 0] * 2, e[0, 0]).where == ("everywhere",)
    assert _one("rnn", "gradient", "w_hh", e[0, 0] * 2, e[0, 0], {"h0": np.zeros((1, 4))}
                ).where == ("everywhere",)
    assert _one("max_margin", "gradient", "s", [1.0, 2.0], [0.0, 0.0], {"s": np.ones(3)}
                ).where == ("everywhere",)
    assert _one("softmax", "forward", "y", 2.0, 1.0, {"x": np.array(3.0)}).how == ()


def test_texts_stay_on_one_short_line_and_numbers_read_as_the_lecture_writes_them() -> None:
    e = _image((12, 12, 5, 5))
    got = e.copy()
    odd = np.arange(1, 12, 2)
    got[odd[:, None], odd, 0, :] *= -1               # many tags at once
    found = _one("max_pool2d", "forward", "y", got, e)
    assert found.where == ("border", "rows:1,3,5,7,9,11", "channels:1,3,5,7,9,11")
    assert found.how == ("factor:-1", "sign")
    # too long for one line: the other places go first, the border and the factor stay
    assert found.text == ("y wrong at 180/3600 elements, all on the border rows/cols; interior "
                          "exact; only in batch rows 1, 3, 5, 7, 9, 11; ×−1 there (the sign "
                          "flipped)")
    assert _ranges([0, 1, 2, 3, 5, 7, 8]) == "0–3, 5, 7, 8"
    assert _ranges([0, 2, 4, 6, 8, 10, 12]) == "0, 2, 4, 6, 8, 10, …"
    assert [_factor(c) for c in (3.0, -1 / 3, 0.0, 2.5)] == ["3", "−1/3", "0", "2.5"]
    assert [_tag_number(c) for c in (-2.0, 0.5, -0.25)] == ["-2", "1/2", "-1/4"]
    assert _tag_number(2.0000015) == "2.0000015"      # close to 2, but not 2: all its digits


@pytest.mark.parametrize("op", list(OPS))
def test_every_golden_and_slide_case_of_every_op_gets_a_true_anatomy(op: str) -> None:
    """A backend doubling a random part of every array, on every case: each anatomy counts the
    elements the tolerance rule finds wrong, tags the doubling where it can be told, and leaves
    out the arrays it left right."""
    rng = np.random.default_rng(sum(map(ord, op)))
    for case in (complete(c) for c in default_cases([op])):
        for check in ("forward", "gradient") if case.has_gradient else ("forward",):
            expected = case.expected if check == "forward" else case.expected_grads
            assert expected is not None
            tol = case.tolerance_for(check, np.float64)
            got, wrong = {}, {}
            for name, e in expected.items():
                e = np.asarray(e, dtype=np.float64)
                got[name] = np.where(rng.random(e.shape) < 0.5, 2 * e, e)
                wrong[name] = ~within_tolerance(got[name], e, tol)
            found = anatomies(op, check, got, expected, tol, case.inputs, case.attrs)
            prefix = "d" if check == "gradient" else ""
            assert [a.array for a in found] == [prefix + n for n in expected if wrong[n].any()]
            for a in found:
                mask = wrong[a.array[len(prefix):]]
                assert (a.wrong, a.total) == (int(mask.sum()), mask.size), case.name
                assert len(a.text) <= 160 and a.text.startswith(a.array), a.text
                assert ("everywhere" in a.where) == bool(
                    mask.all() or mask[np.asarray(expected[a.array[len(prefix):]]) != 0].all())
                if a.wrong >= 2:                # (one element: any factor would fit it)
                    assert a.how[0] == "factor:2" and "row-factor" not in a.how, (case.name, a)


# ---------------------------------------------------------------- properties
@st.composite
def _image_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 5),
                           st.integers(1, 5)))
    mask = draw(hnp.arrays(bool, shape))
    return mask, _image(shape, seed=draw(st.integers(0, 2**16)))


@given(_image_case(), st.sampled_from([2.0, -1.0, 0.5]))
def test_location_tags_hold_exactly_when_the_mask_says_so(case: Any, c: float) -> None:
    mask, e = case
    got = np.where(mask, c * e, e)
    found = _one("conv2d", "gradient", "x", got, e)
    if not mask.any():
        assert found.wrong == 0
        return
    wrong = ~within_tolerance(got, e, TOL)
    assert (wrong == mask).all() and found.wrong == int(mask.sum())
    border = _border(e.shape)
    assert ("border" in found.where) == (not (mask & ~border).any() and (~border).any())
    assert ("interior" in found.where) == (not (mask & border).any())
    if "border" in found.where:                      # the sides named hold every wrong element
        h, w = np.indices(e.shape[2:])
        lines = {"top": h == 0, "bottom": h == e.shape[2] - 1, "left": w == 0,
                 "right": w == e.shape[3] - 1}
        covered = np.logical_or.reduce([lines[side] for side in found.to_dict()["sides"]])
        assert not (mask & ~covered).any()
    assert ("everywhere" in found.where) == bool(mask.all())
    rows = [t for t in found.where if t.startswith("rows:")]
    touched = [n for n in range(e.shape[0]) if mask[n].any()]
    assert rows == ([f"rows:{','.join(map(str, touched))}"]
                    if len(touched) < e.shape[0] else [])
    channels = [t for t in found.where if t.startswith("channels:")]
    used = [k for k in range(e.shape[1]) if mask[:, k].any()]
    assert channels == ([f"channels:{','.join(map(str, used))}"] if len(used) < e.shape[1]
                        else [])
    if mask.sum() >= 2:                               # a factor fits two elements or more
        assert found.how[0] == f"factor:{_tag_number(c)}"
    else:
        assert found.how == ()


@given(st.integers(1, 4).flatmap(lambda t: hnp.arrays(bool, (t, 2, 3))), st.integers(0, 2**16))
def test_step_and_row_tags_of_time_major_arrays_hold_exactly_when_the_mask_says_so(
        mask: np.ndarray, seed: int) -> None:
    e = _image(mask.shape, seed)
    found = _one("rnn", "gradient", "x", np.where(mask, e * 3, e), e)
    if not mask.any():
        return
    t = mask.shape[0]
    assert ("step:first" in found.where) == (t > 1 and not mask[1:].any())
    assert ("step:last" in found.where) == (t > 1 and not mask[:-1].any())
    batch = [n for n in range(2) if mask[:, n].any()]
    assert [w for w in found.where if w.startswith("rows:")] == (
        [f"rows:{batch[0]}"] if len(batch) == 1 else [])
    assert found.to_dict()["steps"] == [s for s in range(t) if mask[s].any()]


@given(hnp.arrays(bool, (12, 3)), st.integers(0, 2**16))
def test_gate_tags_hold_exactly_when_the_mask_stays_in_the_blocks(mask: np.ndarray,
                                                                   seed: int) -> None:
    e = _image((12, 3), seed)
    found = _one("lstm", "gradient", "w_ih", np.where(mask, e + 2.0, e), e,
                 {"h0": np.zeros((1, 3))})
    blocks = [g for j, g in enumerate("ifgo") if mask[3 * j:3 * j + 3].any()]
    gates = [t for t in found.where if t.startswith("gate:")]
    assert gates == ([f"gate:{','.join(blocks)}"] if 0 < len(blocks) < 4 else [])


@given(st.integers(0, 2**16), st.integers(2, 30))
def test_noise_gets_no_how(seed: int, count: int) -> None:
    rng = np.random.default_rng(seed)
    e = _image((2, 3, 4, 4), seed)
    got = e.copy()
    where = rng.choice(e.size, size=count, replace=False)
    got.flat[where] += rng.normal(size=count)
    found = _one("conv2d", "forward", "y", got, e)
    assert found.how == ()


@given(_image_case(), st.sampled_from(["factor", "offset", "shift", "zeros"]),
       st.integers(0, 2**16))
def test_every_how_tag_is_true_of_the_data(case: Any, how: str, seed: int) -> None:
    mask, e = case
    rng = np.random.default_rng(seed)
    changed = {"factor": e * rng.choice([-1.0, 2.0, 1 / 3, 0.7]), "offset": e + rng.normal(),
               "shift": np.roll(e, 1, axis=3), "zeros": np.zeros_like(e)}[how]
    got = np.where(mask, changed, e)
    found = _one("avg_pool2d", "gradient", "x", got, e)
    wrong = ~within_tolerance(got, e, TOL)
    g, x = got[wrong], e[wrong]
    loose = Tolerance(1e-12, 1e-12)
    for tag in found.how:
        kind, _, value = tag.partition(":")
        if kind == "factor":
            c = found.to_dict()["factor"]
            assert _tag_number(c) == value and within_tolerance(g, c * x, loose).all()
        elif kind == "offset":
            d = found.to_dict()["offset"]
            assert within_tolerance(g, x + d, loose).all()
        elif kind == "zeros":
            assert np.all(g == 0) and np.all(x != 0)
        elif kind == "sign":
            assert found.to_dict()["factor"] == -1.0
        else:
            assert kind == "shift", tag
            axis, k = (int(v) for v in value.split(":"))
            n = e.shape[axis]
            at = np.indices(e.shape)[axis] - k            # got[..., i] = e[..., i − k]
            source = np.take_along_axis(e, np.clip(at, 0, n - 1), axis=axis)
            checked = wrong & (at >= 0) & (at < n)
            assert within_tolerance(got[checked], source[checked], loose).all()


def test_another_shape_in_the_contracts_letters() -> None:
    ones = np.ones((1, 2, 4))
    swapped = _one("rnn", "forward", "out", np.zeros((2, 2, 4)), ones,
                   {"x": np.zeros((1, 2, 3)), "h0": np.zeros((2, 4))})
    assert swapped.text == ("out has shape (2, 2, 4), expected (1, 2, 4) = [T, N, H]; its axis "
                            "0 has N's size (2) where T's (1) belongs")
    assert swapped.how == ("shape",)
    empty = _one("conv2d", "gradient", "x", np.zeros((2, 3, 0, 7)), np.ones((2, 3, 5, 7)))
    assert empty.how == ("shape", "empty") and empty.to_dict()["empty_axes"] == [2]
    assert empty.text.endswith("= [N, C, H, W]; it is empty along H")
    dropped = _one("linear", "forward", "y", np.arange(4.0), np.arange(4.0).reshape(4, 1))
    assert dropped.how == ("shape", "size-1-axes") and dropped.text.endswith(
        "the right values, with axes of size 1 dropped")
    added = _one("relu", "gradient", "x", np.ones((1, 1, 3)), np.ones((1, 3)))
    assert added.text == ("dx has shape (1, 1, 3), expected (1, 3); the right values, with "
                          "axes of size 1 added")
    other = _one("linear", "forward", "y", np.arange(4.0), np.arange(4.0).reshape(4, 1) + 1)
    assert other.how == ("shape",)                   # the values differ: no relation
    moved = _one("linear", "forward", "y", np.arange(4.0).reshape(4, 1),
                 np.arange(4.0).reshape(1, 4))
    assert "transpose" in moved.how                  # (a 2-D one is a transpose first)


def test_a_kernel_gradient_wrong_at_one_offset_says_which() -> None:
    """A conv backward whose loop over the kernel's taps stops one short (blind review #6,
    m27): dw is 0 at the last offset only."""
    w = _image((2, 3, 4), seed=5)                    # conv1d kernels [K, C, F]
    got = w.copy()
    got[:, :, 3] = 0.0
    found = _one("conv1d", "gradient", "w", got, w)
    assert "offset:F:3" in found.where and found.to_dict()["kernel_offsets"] == {"F": [3]}
    assert "only at kernel offset j = 3 (the last) of F = 4; other offsets exact" in found.text
    w2 = _image((2, 2, 3, 3), seed=6)                # conv2d [K, C, FH, FW]
    got2 = w2.copy()
    got2[:, :, :, 0] *= 2.0
    found2 = _one("conv2d", "gradient", "w", got2, w2)
    assert "offset:FW:0" in found2.where and "offset:FH" not in " ".join(found2.where)
    assert "only at kernel offset q = 0 (the first) of FW = 3" in found2.text
    assert not [t for t in _one("linear", "gradient", "w", got2[0, 0], w2[0, 0]).where
                if t.startswith("offset")]           # not a kernel
