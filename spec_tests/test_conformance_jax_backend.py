"""Tests of the ``jax`` adapter (conformance.adapters.jax_backend).

The full runs (every case, float64 and float32) are in .ci/run; JAX compiles a program per case
and shape, so here: one golden case per op in float32, a few ops in float64 (x64 switched on by
the adapter), and the max-pool tie case that a naive JAX max pool gets wrong. Without JAX
installed the whole module is skipped at collection (JAX is an optional extra).
"""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is optional: pip install 'nnspec[jax]'")
import jax.numpy as jnp  # noqa: E402

from conformance.adapters.jax_backend import JaxBackend  # noqa: E402
from conformance.cases import Case, golden_cases  # noqa: E402
from conformance.contract import OPS  # noqa: E402
from conformance.runner import run  # noqa: E402

pytestmark = pytest.mark.infrastructure


def first_golden_per_op() -> list[Case]:
    firsts: dict[str, Case] = {}
    for case in golden_cases():
        firsts.setdefault(case.op, case)
    return list(firsts.values())


def test_jax_passes_a_case_of_every_op_in_float32() -> None:
    report = run("jax", dtype="float32", cases=first_golden_per_op())
    assert report.ok, "\n".join(r.line() for r in report.failures())
    assert report.skipped == 0 and report.passed == 2 * len(first_golden_per_op())


def test_float64_runs_compute_in_float64() -> None:
    report = run("jax", dtype="float64", ops=["conv2d", "lstm", "cross_entropy"],
                 cases=first_golden_per_op())
    assert report.ok, "\n".join(r.line() for r in report.failures())
    assert jax.config.read("jax_enable_x64")
    y = JaxBackend().tanh(np.array([0.5]))
    assert y.dtype == np.float64 and abs(y[0] - np.tanh(0.5)) < 1e-15   # float32: ~1e-8 off


def test_max_pool_ties_send_the_gradient_to_the_first_maximum() -> None:
    """jnp.max would share a tied window's gradient; the contract gives it to the first."""
    tie = [c for c in golden_cases(["max_pool2d"]) if c.about.startswith("max_pool2d: tied")]
    report = run("jax", ops=["max_pool2d"], cases=tie, dtype="float32")
    assert report.ok and report.passed == 2
    x = jnp.ones((1, 1, 2, 2))
    _, pull = jax.vjp(lambda x: jnp.max(x), x)
    assert float(pull(jnp.ones(()))[0][0, 0, 0, 0]) == 0.25     # why the adapter gathers


def test_every_contract_op_is_there() -> None:
    backend = JaxBackend()
    assert all(callable(getattr(backend, op, None)) for op in OPS)
    with pytest.raises(NotImplementedError, match="jax backend: no op 'conv3d'"):
        backend.vjp("conv3d", (), {}, ())
