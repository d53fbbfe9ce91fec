"""The ``onnx-reference`` backend: ONNX's own reference evaluator behind the contract, forward
only.

``onnx.reference.ReferenceEvaluator`` is the NumPy implementation of the ONNX operators that the
ONNX project publishes next to the specification. Each call builds the op's ONNX model
(conformance.adapters.onnx_models, the same models the ``onnxruntime`` backend runs) and evaluates
it; there are no gradients, so every gradient check is "not implemented". It runs float32 and
float64 alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

from conformance.adapters.onnx_models import OPSET, OnnxBackend, OnnxModel

__all__ = ["OnnxReferenceBackend"]


class OnnxReferenceBackend(OnnxBackend):
    """onnx.reference.ReferenceEvaluator, one method per contract op (forward only)."""

    name = "onnx-reference"
    version = f"{onnx.__version__} (onnx.reference, opset {OPSET})"

    def evaluate(self, built: OnnxModel) -> Sequence[np.ndarray]:
        # run(None, ...) gives every output as a list (a dict only with intermediate results)
        return cast(list[np.ndarray], ReferenceEvaluator(built.proto).run(None, built.feeds))
