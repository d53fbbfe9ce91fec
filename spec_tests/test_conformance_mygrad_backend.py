"""Tests of the ``mygrad`` adapter (conformance.adapters.mygrad_backend), skipped without MyGrad.

Every default case in float64 and float32: all pass except exactly the failures that
docs/scoreboard-notes-frameworks.md records (spec_tests/helpers/frameworks.py).
"""

from __future__ import annotations

import numpy as np
import pytest

mygrad = pytest.importorskip("mygrad",
                             reason="MyGrad is not installed (pip install nnspec[mygrad])")

from conformance.adapters.mygrad_backend import MyGradBackend  # noqa: E402
from conformance.runner import run  # noqa: E402
from spec_tests.helpers.frameworks import assert_only_listed_failures, xfail_file  # noqa: E402

pytestmark = [pytest.mark.infrastructure, pytest.mark.frameworks]

NOT_IMPLEMENTED = {"step", "avg_pool2d", "lp_pool2d", "rnn", "lstm", "gru"}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mygrad_passes_every_default_case_but_the_listed_ones(dtype: str) -> None:
    report = run("mygrad", dtype=dtype, xfail=xfail_file("mygrad"))
    assert report.backend == "mygrad" and report.backend_version == f"mygrad {mygrad.__version__}"
    assert_only_listed_failures(report, NOT_IMPLEMENTED)
    sigmoid = ["sigmoid[forward-golden-05]", "sigmoid[gradient-golden-05]"]        # M2
    assert sorted(r.id for r in report.results if r.status == "xfail") == sorted(
        (["cross_entropy[gradient-golden-05]"] if dtype == "float64" else []) + sigmoid)
    warned = [r for r in report.results if r.id in sigmoid]
    assert all(r.warnings == ("RuntimeWarning: overflow encountered in exp",) for r in warned)


def test_the_sigmoid_is_right_at_minus_1e4_but_warns() -> None:
    """M2: MyGrad's σ = 1 / (1 + e^−x) overflows e^−x at x = −1e4 (a RuntimeWarning), and the
    limit 1 / (1 + inf) = 0 is right: the stability convention's failure is the warning."""
    with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):
        y = MyGradBackend().sigmoid(np.array([-1e4, 0.0, 1e4]))
    assert y.tolist() == [0.0, 0.5, 1.0]


def test_the_cross_entropy_gradient_loses_bits_in_proportion_to_the_logits() -> None:
    """The recorded float64 failure: MyGrad's p = exp(x − logsumexp(x)) subtracts two numbers near
    1e4, so p is off by about |x|·eps relative; exp(x − max x)/Σ (torch, nnspec) is not."""
    x = np.array([[10001.12890625, 9998.81933594, 10004.02734375, 9997.28125, 9998.42675781]])
    (dx,) = MyGradBackend().vjp("cross_entropy", (x, np.array([1])), {}, (np.array(1.0),))
    shifted = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    shifted[0, 1] -= 1.0
    error = np.max(np.abs(dx - shifted) / np.abs(shifted))
    assert 1e-13 < error < 1e4 * np.finfo(np.float64).eps * 10
    small = x - 1e4 + 1.0                        # the same softmax at |x| ≈ 4: no such loss
    (dx_small,) = MyGradBackend().vjp("cross_entropy", (small, np.array([1])), {}, (np.array(1.0),))
    assert np.max(np.abs(dx_small - shifted) / np.abs(shifted)) < 1e-14
