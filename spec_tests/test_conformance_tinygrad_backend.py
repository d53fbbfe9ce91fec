"""Tests of the ``tinygrad`` adapter (conformance.adapters.tinygrad_backend), skipped without
tinygrad.

Every default case in float64 and float32 on tinygrad's CPU device (kernels compiled by clang),
one op per test item: all pass except exactly the failures that
docs/scoreboard-notes-frameworks.md records (spec_tests/helpers/frameworks.py). No time limit per
call (``timeout=None``): tinygrad compiles each new kernel with clang, and the first LSTM call of
a cold cache takes tens of seconds on a shared machine, which is not a finding.
"""

from __future__ import annotations

import numpy as np
import pytest

tinygrad = pytest.importorskip("tinygrad", reason="tinygrad is not installed "
                                                   "(pip install nnspec[tinygrad])")

from conformance.adapters.tinygrad_backend import TinygradBackend  # noqa: E402
from conformance.checks import default_cases  # noqa: E402
from conformance.contract import OPS  # noqa: E402
from conformance.runner import run  # noqa: E402
from spec_tests.helpers.frameworks import assert_lists_name_ops, run_op_as_recorded  # noqa: E402

pytestmark = [pytest.mark.infrastructure, pytest.mark.frameworks]

NOT_IMPLEMENTED = {"step", "lp_pool2d", "rnn", "gru"}
TIES = "tinygrad: max pooling splits a window's gradient equally among tied maxima"
SATURATED = "T2. The LSTM gradient is nan at saturated gates (a bug of tinygrad's autograd)"
RECORDED = {dtype: {"max_pool2d[gradient-golden-07]": TIES, "lstm[gradient-golden-05]": SATURATED}
            for dtype in ("float64", "float32")}


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tinygrad_passes_every_default_case_but_the_recorded_ones(dtype: str, op: str) -> None:
    report = run_op_as_recorded("tinygrad", op, dtype, RECORDED[dtype], NOT_IMPLEMENTED,
                                timeout=None)
    assert report.backend_version.startswith("tinygrad 0.") and "(CPU)" in report.backend_version


def test_the_recorded_lists_name_ops_of_the_contract() -> None:
    for recorded in RECORDED.values():
        assert_lists_name_ops(recorded, NOT_IMPLEMENTED)


def test_the_diagnosis_names_the_split_of_tied_maxima() -> None:
    """The harness's diagnosis on a real framework (the tests above run without it), on the
    recorded max-pool failure's case alone."""
    case = next(c for c in default_cases(["max_pool2d"]) if c.name == "07")
    report = run("tinygrad", cases=[case], dtype="float32", timeout=None)
    (failure,) = report.failures()
    assert failure.id in RECORDED["float32"] and failure.diagnosis is not None
    assert failure.diagnosis.startswith("matches the gradient split equally between the tied "
                                        "maxima")


def test_max_pool_ties_share_the_gradient() -> None:
    """The recorded failure: tinygrad's max pool gives each of k tied maxima 1/k of the gradient;
    the contract (like torch) gives it whole to the first maximum."""
    backend = TinygradBackend()
    (dx,) = backend.vjp("max_pool2d", (np.ones((1, 1, 2, 2)),),
                        {"kernel_size": (2, 2), "stride": (2, 2)}, (np.ones((1, 1, 1, 1)),))
    assert dx.tolist() == [[[[0.25, 0.25], [0.25, 0.25]]]]
    x = np.array([[[[1.0, 3.0], [3.0, 2.0]]]])                 # two tied maxima of four
    (dx,) = backend.vjp("max_pool2d", (x,), {"kernel_size": (2, 2), "stride": (2, 2)},
                        (np.full((1, 1, 1, 1), 2.0),))
    assert dx.tolist() == [[[[0.0, 1.0], [1.0, 0.0]]]]


def test_a_scalar_stays_a_scalar() -> None:
    """0-d inputs keep their shape (np.ascontiguousarray would make them 1-d)."""
    out = TinygradBackend().max_margin(np.array(0.25), np.array(0.5), 1.0)
    assert out.shape == () and float(out) == 1.25


def test_the_python_device_is_there_without_a_compiler() -> None:
    backend = TinygradBackend(device="PYTHON")
    assert backend.version.endswith("(PYTHON)")
    assert backend.relu(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]
