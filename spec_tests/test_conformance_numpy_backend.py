"""Tests of the ``numpy`` adapter (conformance.adapters.numpy_backend): the reference behind the
contract passes every case in both dtypes, and the little arithmetic the adapter adds is right."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.adapters import numpy_backend as NB
from conformance.backends import load_backend
from conformance.cases import Case, golden_cases
from conformance.contract import OPS
from conformance.runner import run
from reference.gradcheck import numerical_vjp
from reference.tolerance import FINITE_DIFFERENCE, assert_close

pytestmark = pytest.mark.infrastructure


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_reference_passes_every_case(dtype: str) -> None:
    report = run("numpy", dtype=dtype)
    assert report.ok, "\n".join(r.line() for r in report.failures())
    missing = sorted({r.case.op for r in report.results if r.status == "skip"})
    assert not missing, f"ops not wired to the reference: {missing}"
    assert {r.case.op for r in report.results} == set(OPS)


def test_every_op_has_a_forward_and_a_backward() -> None:
    for op in OPS.values():
        assert callable(getattr(NB, op.name, None)), op.name
        assert callable(getattr(NB, op.backward_name, None)), op.backward_name


def test_softmax_backward_matches_finite_differences() -> None:
    """The reference has no softmax_backward: the adapter's y ∘ (dy − Σ dy y) is checked here."""
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    expected = numerical_vjp(lambda x: NB.softmax(x), {"x": x}, dy)["x"]
    assert_close(NB.softmax_backward(dy, x), expected, FINITE_DIFFERENCE, what="softmax dx")


def test_rnn_bias_gradients_are_equal_and_h_n_joins_the_last_step() -> None:
    rng = np.random.default_rng(1)
    T, N, D, H = 3, 2, 2, 3
    args = (rng.normal(size=(T, N, D)), rng.normal(size=(N, H)), rng.normal(size=(H, D)),
            rng.normal(size=(H, H)), rng.normal(size=H), rng.normal(size=H))
    out, h_n = NB.rnn(*args)
    np.testing.assert_array_equal(out[-1], h_n)
    d_out = rng.normal(size=(T, N, H))
    d_h = rng.normal(size=(N, H))
    grads = NB.rnn_backward(d_out, d_h, *args)
    np.testing.assert_array_equal(grads[4], grads[5])
    folded = d_out.copy()
    folded[-1] += d_h
    assert_close(grads[0], NB.rnn_backward(folded, np.zeros((N, H)), *args)[0], what="dx")


@pytest.mark.parametrize("case", golden_cases(), ids=lambda c: c.id)
def test_outputs_and_gradients_are_new_writable_arrays(case: Case) -> None:
    """What the reference returns belongs to the caller: writable, no memory shared with any input
    or upstream gradient, nor with another output (a read-only alias of x, a view of the cache or
    out[-1] returned as h_n would let a caller's write change something else)."""
    backend = load_backend("numpy")
    inputs = {k: v.copy() for k, v in case.inputs.items()}
    upstream = {k: v.copy() for k, v in case.upstream.items()}
    outs = dict(zip((o.name for o in OPS[case.op].outputs),
                    backend.call_forward(case.op, inputs, case.attrs)))
    grads = backend.call_gradient(case.op, inputs, case.attrs, upstream)
    given = {**{f"input {k}": v for k, v in inputs.items()},
             **{f"upstream d{k}": v for k, v in upstream.items()}}
    returned = {**{f"output {k}": v for k, v in outs.items()},
                **{f"gradient d{k}": v for k, v in grads.items()}}
    for name, arr in returned.items():
        assert arr.flags.writeable, f"{case.id}: {name} is read-only"
        shared = [g for g, v in given.items() if np.shares_memory(arr, v)]
        assert not shared, f"{case.id}: {name} shares memory with {shared}"
    names = list(returned)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not np.shares_memory(returned[a], returned[b]), \
                f"{case.id}: {a} and {b} share memory"
    for k, v in case.inputs.items():
        assert np.array_equal(inputs[k], v), f"{case.id}: input {k} was changed"
