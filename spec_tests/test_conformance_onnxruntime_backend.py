"""Tests of the ``onnxruntime`` adapter (conformance.adapters.onnxruntime_backend).

The adapter runs every default case in both dtypes here (about a second each): every check passes
or is not implemented for exactly the reasons recorded in docs/scoreboard-notes.md (no gradients;
in float64, the operators ONNX Runtime's CPU provider has no double kernel for), and the notes'
reproducers still hold. The models are onnx_models's, tested with the onnx-reference adapter.
Skipped cleanly where onnx or onnxruntime is not installed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnxruntime.capi.onnxruntime_pybind11_state import (  # noqa: E402
    InvalidArgument,
    RuntimeException,
)

from conformance.adapters.onnx_models import OPSET, OnnxModel, model  # noqa: E402
from conformance.adapters.onnxruntime_backend import OnnxRuntimeBackend  # noqa: E402
from conformance.contract import OPS  # noqa: E402
from conformance.runner import DTYPES, run  # noqa: E402
from spec_tests.helpers.scoreboard_notes import findings, reproducers  # noqa: E402

pytestmark = pytest.mark.infrastructure

NO_FLOAT64 = "No float64 kernel for Conv, AveragePool, LpPool, RNN (a gap of the framework)"
REFUSES_FLOAT64 = "LSTM and GRU load in float64, then refuse to run (a bug of the framework)"
NOT_IN_FLOAT64: dict[str, tuple[str, str]] = {
    "conv2d": ("Conv", NO_FLOAT64), "conv1d": ("Conv", NO_FLOAT64),
    "avg_pool2d": ("AveragePool", NO_FLOAT64), "lp_pool2d": ("LpPool", NO_FLOAT64),
    "rnn": ("RNN", NO_FLOAT64),
    "lstm": ("LSTM", REFUSES_FLOAT64), "gru": ("GRU", REFUSES_FLOAT64),
}
"""The ops whose forward is not implemented in float64 → (ONNX operator, finding in the notes)."""

RECORDED_FAILURES: dict[str, dict[str, str]] = {"float64": {}, "float32": {}}
"""Per dtype: each check that fails → the title of its finding in docs/scoreboard-notes.md."""


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_check_passes_but_the_recorded_findings(dtype: str) -> None:
    report = run("onnxruntime", dtype=dtype)
    recorded = RECORDED_FAILURES[dtype]
    assert {r.id for r in report.failures()} == set(recorded), "\n".join(
        r.line() for r in report.failures())
    missing = NOT_IN_FLOAT64 if dtype == "float64" else {}
    notes = set(findings("onnxruntime"))
    assert set(recorded.values()) | {title for _, title in missing.values()} <= notes
    forward = [r for r in report.results if r.check == "forward" and r.id not in recorded]
    assert {r.case.op for r in forward} == set(OPS)
    for r in forward:
        if r.case.op in missing:
            assert r.status == "skip", r.line()
            assert f"has no float64 kernel for {missing[r.case.op][0]} (" in r.reason, r.line()
        else:
            assert r.status == "pass", r.line()
    gradient = [r for r in report.results if r.check == "gradient"]
    assert gradient and all(r.status == "skip" and "has neither" in r.reason for r in gradient)
    assert "Forward only (the framework's scope)" in notes
    assert report.backend_version == f"{ort.__version__} (onnx {onnx.__version__}, opset {OPSET})"


def test_the_reproducers_in_the_scoreboard_notes_hold() -> None:
    snippets = reproducers("onnxruntime")
    assert len(snippets) == 2
    for code in snippets:
        exec(compile(code, "docs/scoreboard-notes.md (onnxruntime)", "exec"), {})


def test_a_float64_lstm_is_not_implemented_and_a_float32_one_runs() -> None:
    backend = OnnxRuntimeBackend()
    weights = [np.full(s, 0.1) for s in [(8, 3), (8, 2), (8,), (8,)]]
    args = [np.ones((2, 1, 3)), np.zeros((1, 2)), np.zeros((1, 2)), *weights]
    with pytest.raises(NotImplementedError, match=r"no float64 kernel for LSTM \(LSTM operator "
                                                  r"does not support double yet\)"):
        backend.lstm(*args)
    out, h_n, c_n = backend.lstm(*(a.astype(np.float32) for a in args))
    assert out.dtype == np.float32 and out.shape == (2, 1, 2) and h_n.shape == c_n.shape == (1, 2)
    assert np.array_equal(out[-1], h_n) and (c_n > 0).all()


def test_other_errors_of_onnx_runtime_stay_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a kernel that refuses the dtype is "not implemented"; anything else fails the check."""
    backend = OnnxRuntimeBackend()
    with pytest.raises(InvalidArgument, match="out of data bounds"):
        backend.embedding(np.array([5]), np.ones((2, 3)))               # an id past V

    class Failing:
        def run(self, names: object, feeds: object) -> Sequence[np.ndarray]:
            raise RuntimeException("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : out of memory")

    def failing(built: OnnxModel) -> Failing:
        return Failing()

    monkeypatch.setattr(backend, "session", failing)
    with pytest.raises(RuntimeException, match="out of memory"):
        backend.relu(np.zeros(2))


def test_sessions_run_on_one_cpu_thread() -> None:
    backend = OnnxRuntimeBackend()
    assert backend.options.intra_op_num_threads == 1
    session = backend.session(model("relu", [np.zeros(2)]))
    assert session.get_providers() == ["CPUExecutionProvider"]
