"""The ``onnxruntime`` backend: ONNX Runtime's CPU execution provider behind the contract, forward
only.

Each call builds the op's ONNX model (conformance.adapters.onnx_models: one standard operator, or
a few where ONNX has none for the op; the same models as the ``onnx-reference`` backend) and runs
it in an ``InferenceSession`` on the CPU, one intra-op thread (the conformance cases are small;
one thread keeps runs reproducible on a shared machine). ONNX Runtime's inference sessions have
no gradients, so every gradient check is "not implemented".

float64: ONNX Runtime's CPU provider has double kernels for some operators only (1.32: none for
Conv, AveragePool, LpPool and RNN, so a session cannot be created; LSTM and GRU register double
kernels that refuse at run time, "LSTM operator does not support double yet"). For either, the
call raises NotImplementedError naming the operator and dtype, and the check is reported as not
implemented; nothing is cast to float32 behind the run's back (a float32 result in a float64 run
would be judged at float64's tolerance it was never computed to, and would hide the gap).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import NotImplemented as OrtNotImplemented
from onnxruntime.capi.onnxruntime_pybind11_state import RuntimeException as OrtRuntimeException

from conformance.adapters.onnx_models import OPSET, OnnxBackend, OnnxModel

__all__ = ["OnnxRuntimeBackend"]


class OnnxRuntimeBackend(OnnxBackend):
    """ONNX Runtime on the CPU, one method per contract op (forward only)."""

    name = "onnxruntime"
    version = f"{ort.__version__} (onnx {onnx.__version__}, opset {OPSET})"

    def __init__(self) -> None:
        super().__init__()
        self.options = ort.SessionOptions()
        self.options.intra_op_num_threads = 1
        self.options.inter_op_num_threads = 1
        self.options.log_severity_level = 4    # only fatal: errors come back as exceptions

    def session(self, built: OnnxModel) -> ort.InferenceSession:
        """An inference session of the model on the CPU; NotImplementedError where ONNX Runtime
        has no kernel for one of its operators in the model's dtype."""
        try:
            return ort.InferenceSession(built.proto.SerializeToString(), self.options,
                                        providers=["CPUExecutionProvider"])
        except OrtNotImplemented as exc:
            raise NotImplementedError(_no_kernel(built, str(exc))) from None

    def evaluate(self, built: OnnxModel) -> Sequence[np.ndarray]:
        session = self.session(built)
        try:
            return session.run(None, built.feeds)
        except OrtRuntimeException as exc:
            if _REFUSED_DTYPE.search(str(exc)):        # a kernel registered, but not for this
                raise NotImplementedError(_no_kernel(built, str(exc))) from None
            raise


_REFUSED_DTYPE = re.compile(r"does not support (double|float64)")
"""What ONNX Runtime's LSTM and GRU kernels say when they refuse float64 at run time."""


def _no_kernel(built: OnnxModel, message: str) -> str:
    dtypes = sorted({str(a.dtype) for a in built.feeds.values() if a.dtype.kind == "f"})
    lines = [line for line in message.strip().splitlines() if line.strip()]
    why = lines[-1].split("Status Message: ")[-1].strip() if lines else ""
    return (f"onnxruntime {ort.__version__} (CPU) has no {'/'.join(dtypes)} kernel for "
            f"{'+'.join(built.op_types)} ({why})")
