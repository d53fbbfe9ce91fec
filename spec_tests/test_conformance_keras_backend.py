"""Tests of the ``keras`` adapter (conformance.adapters.keras_backend), skipped without Keras.

Every default case in float64 and float32, one op per test item: all pass except exactly the
failures that docs/scoreboard-notes-frameworks.md records (spec_tests/helpers/frameworks.py). No
time limit per call (``timeout=None``): each case compiles its own XLA program, and a slow, shared
machine is not a finding.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None:    # (importorskip would import it on TensorFlow)
    pytest.skip("Keras is not installed (pip install nnspec[keras])", allow_module_level=True)

import jax

from conformance.adapters.keras_backend import KerasBackend, keras
from conformance.contract import OPS
from conformance.runner import run
from spec_tests.helpers.frameworks import run_op_as_listed

pytestmark = [pytest.mark.infrastructure, pytest.mark.frameworks]

NOT_IMPLEMENTED = {"lp_pool2d"}
K1 = {f"{op}[{check}-golden-0{k}]" for op in ("tanh", "rnn", "lstm", "gru")
      for check in ("forward", "gradient") for k in range(1, 6)}
"""K1's expected failures, float64 only: golden 01–05 (05: the saturating case) of tanh and
the recurrent layers, forward and gradient (docs/xfail/keras.txt lists them by pattern)."""


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_keras_passes_every_default_case_but_the_listed_ones(dtype: str, op: str) -> None:
    report = run_op_as_listed("keras", op, dtype, NOT_IMPLEMENTED, timeout=None)
    assert report.backend_version == f"keras {keras.__version__} (jax {jax.__version__})"
    assert {r.id for r in report.results if r.status == "xfail"} == (
        {c for c in K1 if c.startswith(f"{op}[")} if dtype == "float64" else set())
    assert {r.style for r in report.results if r.check == "gradient"} == {"vjp"}


def test_keras_runs_on_jax() -> None:
    assert keras.backend.backend() == "jax"


def test_the_diagnosis_names_the_float32_arithmetic_of_the_float64_failures() -> None:
    """The harness's diagnosis on a real framework (the tests above run without it): the recorded
    float64 forward failures of tanh are said to match float32 arithmetic (its gradient checks
    fail by an exception of jax.vjp, with no values to diagnose)."""
    report = run("keras", ops=["tanh"], dtype="float64", timeout=None)
    failures = {r.id: r.diagnosis or "" for r in report.failures()}
    assert set(failures) == {c for c in K1 if c.startswith("tanh[")}
    forward = [d for check, d in failures.items() if check.startswith("tanh[forward")]
    assert len(forward) == 5 and all(d.startswith("matches float32 arithmetic") for d in forward)


def test_float64_tanh_is_float32_in_keras_on_jax() -> None:
    """The recorded float64 failures: Keras's tanh (and so SimpleRNN, LSTM and GRU, whose cells
    use it) returns float32 for float64 input with JAX's x64 mode on; sigmoid keeps float64."""
    x = np.array([0.5, -1.25])
    backend = KerasBackend()
    assert backend.sigmoid(x).dtype == np.float64               # (switches x64 on)
    assert jax.config.read("jax_enable_x64")
    assert keras.ops.tanh(x).dtype == "float32"
    assert keras.backend.result_type("float64", float) == "float32"
    y = backend.tanh(x)
    assert y.dtype == np.float32 and np.allclose(y, np.tanh(x), rtol=1e-6)


def test_gru_gates_are_permuted_to_kerass_order() -> None:
    """PyTorch's stacked r, z, n rows become Keras's z, r, h columns: with only the update gate's
    input bias large, z ≈ 1 and the state stays h0 (were it read as r, the state would move)."""
    h = 2
    w_ih, w_hh = np.zeros((3 * h, 1)), np.zeros((3 * h, h))
    b_ih, b_hh = np.zeros(3 * h), np.zeros(3 * h)
    b_ih[h:2 * h] = 50.0                                       # z's block in PyTorch's order
    h0 = np.array([[0.3, -0.7]])
    out, h_n = KerasBackend().gru(np.ones((3, 1, 1)), h0, w_ih, w_hh, b_ih, b_hh)
    assert np.allclose(h_n, h0) and np.allclose(out[-1], h0)
