"""Tests of the ``torch`` adapter (conformance.adapters.torch_backend).

The full runs (every case, float64 and float32) are in .ci/run; here one golden case per op and
every slide case, in both dtypes, which reaches every op of the adapter.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conformance.adapters.torch_backend import TorchBackend
from conformance.cases import Case, golden_cases
from conformance.contract import OPS
from conformance.runner import default_cases, run

pytestmark = pytest.mark.infrastructure


def first_golden_per_op_and_slides() -> list[Case]:
    chosen, seen = [], set()
    for case in default_cases():
        if case.source == "slide":
            chosen.append(case)
        elif case.op not in seen:
            chosen.append(case)
            seen.add(case.op)
    return chosen


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_passes_a_case_of_every_op(dtype: str) -> None:
    report = run("torch", dtype=dtype, cases=first_golden_per_op_and_slides())
    assert report.ok, "\n".join(r.line() for r in report.failures())
    assert report.skipped == 0
    assert {r.case.op for r in report.results} == {c.op for c in golden_cases()}
    assert {r.style for r in report.results if r.check == "gradient"} == {"vjp"}


def test_every_contract_op_is_there() -> None:
    backend = TorchBackend()
    assert all(callable(getattr(backend, op, None)) for op in OPS)
    with pytest.raises(NotImplementedError, match="torch backend: no op 'conv3d'"):
        backend.vjp("conv3d", (), {}, ())


def test_outputs_come_back_in_the_dtype_given() -> None:
    backend = TorchBackend("cpu")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert backend.softmax(x).dtype == np.float32
    out, _, c_n = backend.lstm(np.zeros((2, 1, 3)), np.zeros((1, 2)), np.zeros((1, 2)),
                                 *(np.ones(s) for s in [(8, 3), (8, 2), (8,), (8,)]))
    assert out.dtype == np.float64 and out.shape == (2, 1, 2) and c_n.shape == (1, 2)


def test_step_passes_no_gradient() -> None:
    (dx,) = TorchBackend().vjp("step", (np.array([-1.0, 0.0, 2.0]),), {}, (np.ones(3),))
    assert dx.tolist() == [0.0, 0.0, 0.0]


def test_the_vjp_is_the_gradient_of_the_cotangents_inner_product_with_the_outputs() -> None:
    """vjp differentiates Σ ⟨c, o⟩ (torch.autograd.grad given grad_outputs would import SymPy):
    each output's gradient is its own cotangent, and a cotangent of another shape is refused,
    not broadcast."""
    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    (dx,) = TorchBackend().vjp("relu", (x,), {}, (np.array([[5.0, 6.0], [7.0, 8.0]]),))
    assert dx.tolist() == [[0.0, 6.0], [7.0, 0.0]]
    # one LSTM step from h0 = c0 = 0, x = 1, every weight and bias 0.5: each gate's input is
    # 0.5 + 0.5 + 0.5 = 1.5, and with the cotangent on c_1 alone, ∂c_1/∂c_0 = f = σ(1.5)
    zero = np.zeros((1, 2))
    weights = [np.full(s, 0.5) for s in [(8, 1), (8, 2), (8,), (8,)]]
    grads = TorchBackend().vjp("lstm", (np.ones((1, 1, 1)), zero, zero, *weights), {},
                               (np.zeros((1, 1, 2)), zero, np.ones((1, 2))))
    np.testing.assert_allclose(grads[2], [[1 / (1 + np.exp(-1.5))] * 2], rtol=1e-15)
    with pytest.raises(ValueError, match="relu's outputs and cotangents differ in shape"):
        TorchBackend().vjp("relu", (x,), {}, (np.ones(2),))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA on this machine")
def test_the_device_option_runs_on_cuda() -> None:  # pragma: no cover - needs a GPU
    report = run("torch", device="cuda", ops=["conv2d", "lstm"])
    assert report.ok and report.device == "cuda"
