"""ONNX models of the contract's ops, written once for the two ONNX backends.

``model(op, arrays, attrs)`` builds, for one call of a contract op, a small ONNX model (opset
``OPSET``) of the standard operator an ONNX user would export it as, and says how to feed it and
how to read its outputs back in the contract's layout. ``OnnxBackend`` turns that into a backend
object: one method per contract op that builds the model and asks a subclass to evaluate it.
Two subclasses share it: ``onnxruntime`` (conformance.adapters.onnxruntime_backend, ONNX Runtime's
CPU execution provider) and ``onnx-reference`` (conformance.adapters.onnx_reference_backend,
``onnx.reference.ReferenceEvaluator``).

The operators (``OnnxModel.op_types``)::

    step           GreaterOrEqual(x, 0) then Cast: ONNX has no step operator
    sigmoid, tanh, relu          Sigmoid, Tanh, Relu
    linear         Gemm(x, w, b, transB=1)                    (x wᵀ + b)
    softmax        Softmax(axis=-1)
    cross_entropy  SoftmaxCrossEntropyLoss(reduction="mean")
    max_margin     Relu(Sub(Add(Δ, s_c), s)): ONNX has no hinge operator
    conv2d, conv1d Conv(x, w, b, strides, pads)               (cross-correlation, NCHW / NCL)
    max_pool2d     MaxPool;  avg_pool2d  AveragePool;  lp_pool2d  LpPool(p=2)
    rnn            RNN(activations=["Tanh"])
    lstm           LSTM                                       (gates i, o, f, c)
    gru            GRU(linear_before_reset=1)                 (gates z, r, h; "reset after")
    embedding      Gather(E, ids, axis=0)

The glue is layout only, done on the arrays before they are fed: the recurrent weights get a
leading direction axis, their stacked gate blocks are permuted from the contract's (PyTorch's)
order to ONNX's (LSTM i, f, g, o → i, o, f, c; GRU r, z, n → z, r, h), the two biases are
concatenated into ONNX's one B = [Wb, Rb], and the outputs lose the direction axis. Every number
is computed by the ONNX operator. Models are built in the dtype of the arrays (float32 or float64;
ids int64) and checked with ``onnx.checker``; nothing is cast.

ONNX has forward operators only: these backends have no gradients (no ``vjp``, no
``<op>_backward``), so every gradient check is reported as not implemented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from conformance.contract import OPS

__all__ = ["BUILDERS", "GRU_ORDER", "LSTM_ORDER", "OPSET", "OnnxBackend", "OnnxModel", "model"]

OPSET = 21
"""The ONNX opset of every model (onnx 1.16 and onnxruntime 1.18 are the first to know it, the
extra's lower bounds)."""

LSTM_ORDER = (0, 3, 1, 2)
"""ONNX's LSTM gate blocks i, o, f, c as positions of the contract's i, f, g, o."""
GRU_ORDER = (1, 0, 2)
"""ONNX's GRU gate blocks z, r, h as positions of the contract's r, z, n."""

_ELEM = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
         np.dtype(np.int64): TensorProto.INT64}


@dataclass(frozen=True)
class OnnxModel:
    """One call of a contract op as an ONNX model: the model, the arrays to feed it by input
    name, and ``finish``, which turns the model's outputs into the contract's outputs."""

    proto: onnx.ModelProto
    feeds: dict[str, np.ndarray]
    finish: Callable[[Sequence[np.ndarray]], tuple[np.ndarray, ...]] = field(repr=False)

    @property
    def op_types(self) -> list[str]:
        """The ONNX operators of the graph, in order (``["Conv"]``)."""
        return [n.op_type for n in self.proto.graph.node]


def _as_is(outputs: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    return tuple(outputs)


def _graph(nodes: list[onnx.NodeProto], feeds: dict[str, np.ndarray], outputs: list[str],
           dtype: np.dtype, constants: dict[str, np.ndarray] | None = None,
           finish: Callable[[Sequence[np.ndarray]], tuple[np.ndarray, ...]] = _as_is
           ) -> OnnxModel:
    """A checked model of ``nodes``: inputs typed and shaped as ``feeds``, outputs in ``dtype``
    (shaped by ONNX's shape inference), ``constants`` as initializers."""
    inputs = [helper.make_tensor_value_info(name, _ELEM[a.dtype], a.shape)
              for name, a in feeds.items()]
    outs = [helper.make_tensor_value_info(name, _ELEM[dtype], None) for name in outputs]
    inits = [numpy_helper.from_array(a, name) for name, a in (constants or {}).items()]
    graph = helper.make_graph(nodes, "nnspec", inputs, outs, initializer=inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="nnspec")
    # ONNX's shape inference types the outputs (the checker wants their shapes) and checks types
    proto = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    onnx.checker.check_model(proto)
    return OnnxModel(proto, feeds, finish)


def _float_dtype(arrays: Sequence[np.ndarray]) -> np.dtype:
    dtypes = {a.dtype for a in arrays if a.dtype.kind == "f"}
    if len(dtypes) != 1 or next(iter(dtypes)) not in _ELEM:
        raise TypeError(f"onnx models: the float inputs must share one dtype, float32 or "
                        f"float64, got {sorted(str(d) for d in dtypes)}")
    return next(iter(dtypes))


# ---------------------------------------------------------------- one builder per op
def _unary(op_type: str, x: np.ndarray) -> OnnxModel:
    return _graph([helper.make_node(op_type, ["x"], ["y"])], {"x": x}, ["y"], x.dtype)


def _step(x: np.ndarray) -> OnnxModel:
    nodes = [helper.make_node("GreaterOrEqual", ["x", "zero"], ["at_least_zero"]),
             helper.make_node("Cast", ["at_least_zero"], ["y"], to=_ELEM[x.dtype])]
    return _graph(nodes, {"x": x}, ["y"], x.dtype, {"zero": np.zeros((), x.dtype)})


def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> OnnxModel:
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
    return _graph([node], {"x": x, "w": w, "b": b}, ["y"], x.dtype)


def _softmax(x: np.ndarray) -> OnnxModel:
    node = helper.make_node("Softmax", ["x"], ["y"], axis=-1)
    return _graph([node], {"x": x}, ["y"], x.dtype)


def _cross_entropy(logits: np.ndarray, targets: np.ndarray) -> OnnxModel:
    node = helper.make_node("SoftmaxCrossEntropyLoss", ["logits", "targets"], ["loss"],
                            reduction="mean")
    return _graph([node], {"logits": logits, "targets": targets}, ["loss"], logits.dtype)


def _max_margin(s: np.ndarray, s_c: np.ndarray, delta: float) -> OnnxModel:
    nodes = [helper.make_node("Add", ["delta", "s_c"], ["shifted"]),       # Δ + s_c
             helper.make_node("Sub", ["shifted", "s"], ["margin"]),        # Δ + s_c − s
             helper.make_node("Relu", ["margin"], ["J"])]                  # max(0, ·)
    return _graph(nodes, {"s": s, "s_c": s_c}, ["J"], s.dtype,
                  {"delta": np.array(delta, dtype=s.dtype)})


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Any, padding: Any) -> OnnxModel:
    strides = [int(v) for v in np.atleast_1d(stride)]
    pads = [int(v) for v in np.atleast_1d(padding)]
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], strides=strides,
                            pads=pads + pads,                 # begins of each axis, then ends
                            kernel_shape=list(w.shape[2:]))
    return _graph([node], {"x": x, "w": w, "b": b}, ["y"], x.dtype)


def _pool(op_type: str, x: np.ndarray, kernel_size: Any, stride: Any, **extra: Any) -> OnnxModel:
    node = helper.make_node(op_type, ["x"], ["y"], kernel_shape=[int(k) for k in kernel_size],
                            strides=[int(s) for s in stride], **extra)
    return _graph([node], {"x": x}, ["y"], x.dtype)


def _stacked(w: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """The gate blocks of a stacked weight (rows) or bias, put in ``order``."""
    blocks = np.split(w, len(order), axis=0)
    return np.concatenate([blocks[k] for k in order], axis=0)


def _recurrent(op_type: str, order: Sequence[int], x: np.ndarray, h0: np.ndarray,
               c0: np.ndarray | None, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray,
               b_hh: np.ndarray, **extra: Any) -> OnnxModel:
    """ONNX's RNN / LSTM / GRU, one direction, time-major (layout 0): X [T, N, D],
    W [1, G·H, D], R [1, G·H, H], B [1, 2·G·H], initial states [1, N, H]; outputs
    Y [T, 1, N, H], Y_h [1, N, H] (and Y_c), returned without the direction axis."""
    feeds = {"X": x, "W": _stacked(w_ih, order)[None], "R": _stacked(w_hh, order)[None],
             "B": np.concatenate([_stacked(b_ih, order), _stacked(b_hh, order)])[None],
             "initial_h": h0[None]}
    names = ["X", "W", "R", "B", "", "initial_h"]           # "": no sequence_lens
    outputs = ["Y", "Y_h"]
    if c0 is not None:
        feeds["initial_c"] = c0[None]
        names.append("initial_c")
        outputs.append("Y_c")
    node = helper.make_node(op_type, names, outputs, hidden_size=h0.shape[1], **extra)

    def finish(out: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
        y, *states = out
        return (y[:, 0], *(s[0] for s in states))

    return _graph([node], feeds, outputs, x.dtype, finish=finish)


def _rnn(x: np.ndarray, h0: np.ndarray, *weights: np.ndarray) -> OnnxModel:
    return _recurrent("RNN", (0,), x, h0, None, *weights, activations=["Tanh"])


def _lstm(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, *weights: np.ndarray) -> OnnxModel:
    return _recurrent("LSTM", LSTM_ORDER, x, h0, c0, *weights)


def _gru(x: np.ndarray, h0: np.ndarray, *weights: np.ndarray) -> OnnxModel:
    return _recurrent("GRU", GRU_ORDER, x, h0, None, *weights, linear_before_reset=1)


def _embedding(ids: np.ndarray, E: np.ndarray) -> OnnxModel:
    node = helper.make_node("Gather", ["E", "ids"], ["y"], axis=0)
    return _graph([node], {"ids": ids, "E": E}, ["y"], E.dtype)


BUILDERS: dict[str, Callable[..., OnnxModel]] = {
    "step": _step,
    "sigmoid": partial(_unary, "Sigmoid"),
    "tanh": partial(_unary, "Tanh"),
    "relu": partial(_unary, "Relu"),
    "linear": _linear,
    "softmax": _softmax,
    "cross_entropy": _cross_entropy,
    "max_margin": _max_margin,
    "conv2d": _conv,
    "conv1d": _conv,
    "max_pool2d": partial(_pool, "MaxPool"),
    "avg_pool2d": partial(_pool, "AveragePool"),
    "lp_pool2d": partial(_pool, "LpPool", p=2),
    "rnn": _rnn,
    "lstm": _lstm,
    "gru": _gru,
    "embedding": _embedding,
}

def model(op: str, arrays: Sequence[np.ndarray], attrs: Sequence[Any] = ()) -> OnnxModel:
    """The ONNX model of one call of contract op ``op`` on ``arrays`` (the contract's inputs, in
    order) and ``attrs`` (its attributes, in order)."""
    if op not in BUILDERS:
        raise NotImplementedError(f"onnx models: no model of op {op!r}")
    spec = OPS[op]
    given = [np.asarray(a, dtype=np.int64 if arg.kind == "index" else None, order="C")
             for arg, a in zip(spec.inputs, arrays)]          # (ascontiguousarray makes 0-d 1-d)
    _float_dtype(given)
    return BUILDERS[op](*given, *attrs)


class OnnxBackend:
    """A backend that evaluates ``model(op, ...)`` for each contract op; a subclass says how
    (``evaluate``), what it is called (``name``) and its ``version``."""

    name = "onnx"
    version = "unknown"

    def __init__(self) -> None:
        for op in BUILDERS:
            setattr(self, op, partial(self._forward, op))

    def evaluate(self, built: OnnxModel) -> Sequence[np.ndarray]:
        """The model's outputs, in the graph's order, on ``built.feeds``."""
        raise NotImplementedError

    def _forward(self, op: str, *args: Any) -> tuple[np.ndarray, ...] | np.ndarray:
        n = len(OPS[op].inputs)
        built = model(op, args[:n], args[n:])
        outs = built.finish([np.asarray(o) for o in self.evaluate(built)])
        return outs if len(outs) > 1 else outs[0]
