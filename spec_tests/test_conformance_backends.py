"""Tests of conformance.backends: loading backends by name and calling them by the contract."""

from __future__ import annotations

import importlib.metadata
import types
from typing import Any

import numpy as np
import pytest
import torch

from conformance import backends as B
from conformance.backends import BackendError, Bound, NotImplementedByBackend, load_backend

pytestmark = pytest.mark.infrastructure

X = {"x": np.array([-1.0, 2.0])}


class ClassBackend:
    """A backend class: load_backend instantiates it."""

    version = "1.2"

    def relu(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)


class DeviceBackend:
    def __init__(self, device: str | None = None) -> None:
        self.device = device


module_backend = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0), __version__="0.3")


def test_builtin_names_load_the_shipped_adapters() -> None:
    numpy_backend = load_backend("numpy")
    assert numpy_backend.name == "numpy" and numpy_backend.version.startswith("nnspec reference")
    torch_backend = load_backend("torch")
    assert type(torch_backend.obj).__name__ == "TorchBackend"
    assert torch_backend.version == torch.__version__
    assert load_backend(torch_backend) is torch_backend


def test_module_and_attribute_paths_load_objects_and_classes() -> None:
    by_module = load_backend("conformance.adapters.numpy_backend")
    assert by_module.forward_fn("relu") is not None
    instance = load_backend("spec_tests.test_conformance_backends:ClassBackend")
    assert isinstance(instance.obj, ClassBackend) and instance.version == "1.2"
    namespace = load_backend("spec_tests.test_conformance_backends:module_backend")
    assert namespace.version == "0.3"
    with_device = load_backend("spec_tests.test_conformance_backends:DeviceBackend", device="x")
    assert with_device.obj.device == "x"


def test_objects_are_used_as_they_are() -> None:
    bound = load_backend(ClassBackend())
    assert bound.name == "ClassBackend"
    assert load_backend(types.SimpleNamespace(name="mine")).name == "mine"
    assert load_backend(object()).version == "unknown"


def test_a_registered_entry_point_name_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = importlib.metadata.EntryPoint(
        name="mine", value="spec_tests.test_conformance_backends:ClassBackend",
        group=B.ENTRY_POINT_GROUP)

    def entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
        return [ep] if group == B.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    bound = load_backend("mine")
    assert bound.name == "mine" and isinstance(bound.obj, ClassBackend)
    with pytest.raises(BackendError, match=f"use one of {', '.join(sorted({*B.BUILTIN, 'mine'}))}"):
        load_backend("yours")


@pytest.mark.parametrize(("name", "device", "message"), [
    ("nosuch", None, "unknown backend 'nosuch': use one of " + ", ".join(sorted(
        {*B.BUILTIN, *importlib.metadata.entry_points(group=B.ENTRY_POINT_GROUP).names}))),
    ("nosuch_pkg.mod:thing", None, "cannot import 'nosuch_pkg.mod'"),
    ("conformance.contract:nothing", None, "'conformance.contract' has no attribute 'nothing'"),
    ("numpy", "cuda", "backend 'numpy' has no device option"),
    ("spec_tests.test_conformance_backends:ClassBackend", "cuda", "has no device option"),
])
def test_backends_that_cannot_be_loaded_say_why(name: str, device: str | None,
                                                message: str) -> None:
    with pytest.raises(BackendError, match=message):
        load_backend(name, device=device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is there")
def test_torch_on_cuda_without_cuda_is_refused() -> None:
    with pytest.raises(BackendError, match="TorchBackend\\(device='cuda'\\) raised ValueError: "
                       "torch backend: device 'cuda' asked for, but CUDA is not available"):
        load_backend("torch", device="cuda")


def test_forward_results_may_be_arrays_tuples_lists_of_arrays_or_dicts() -> None:
    def gru(*args: Any) -> dict[str, Any]:
        return {"out": np.ones((1, 1)), "h_n": torch.ones(1, requires_grad=True)}

    bound = Bound(types.SimpleNamespace(relu=lambda x: (np.array([0.0, 2.0]),), gru=gru,
                                        rnn=lambda *a: [np.ones((1, 1)), 1.0]), "t")
    (y,) = bound.call_forward("relu", X, {})
    assert isinstance(y, np.ndarray) and y.tolist() == [0.0, 2.0]
    zeros = {n: np.zeros(1) for n in ("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh")}
    out, h_n = bound.call_forward("gru", zeros, {})
    assert out.shape == (1, 1) and h_n.tolist() == [1.0]
    out, h_n = bound.call_forward("rnn", zeros, {})             # a list of two outputs
    assert out.shape == (1, 1) and h_n.shape == ()


@pytest.mark.parametrize(("returned", "message"), [
    ((np.zeros(1),), "lstm returned 1 values, expected 3 \\(out, h_n, c_n\\)"),
    (np.zeros(1), "lstm returned a ndarray, expected a tuple of 3 arrays"),
    ({"out": 0}, "lstm returned a dict without \\['h_n', 'c_n'\\]"),
    ((np.zeros(1), None, np.zeros(1)), "lstm returned None for h_n"),
    ((np.zeros(1), [[1.0]], np.zeros(1)), "lstm returned a list for h_n, not an array"),
    ((np.zeros(1), "x", np.zeros(1)), "lstm returned a str for h_n, not an array"),
    ({"out": 0, "h_n": 0, "c_n": np.array([b"x"])}, "lstm returned an array of \\|S1 for c_n"),
])
def test_results_the_contract_cannot_read_are_errors(returned: Any, message: str) -> None:
    bound = Bound(types.SimpleNamespace(lstm=lambda *a: returned), "t")
    with pytest.raises(BackendError, match=message):
        bound.call_forward("lstm", {n: np.zeros(1) for n in
                                    ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")}, {})


def test_gradients_come_from_the_backward_function_first_then_vjp() -> None:
    calls: list[str] = []

    def vjp(op: str, inputs: tuple[np.ndarray, ...], attrs: dict[str, Any],
            cotangents: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        calls.append(f"vjp {op} {attrs}")
        return (cotangents[0] * 2,)

    def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        calls.append("relu_backward")
        return dy * (x > 0)

    both = Bound(types.SimpleNamespace(relu_backward=relu_backward, vjp=vjp), "t")
    assert both.gradient_style("relu") == "backward"
    assert both.call_gradient("relu", X, {}, {"y": np.ones(2)})["x"].tolist() == [0.0, 1.0]
    assert both.gradient_style("max_pool2d") == "vjp"
    grads = both.call_gradient("max_pool2d", {"x": np.ones((1, 1, 2, 2))},
                               {"kernel_size": (2, 2), "stride": (2, 2)},
                               {"y": np.ones((1, 1, 1, 1))})
    assert grads["x"].shape == (1, 1, 1, 1)
    assert calls == ["relu_backward", "vjp max_pool2d {'kernel_size': (2, 2), 'stride': (2, 2)}"]


def test_missing_ops_and_gradients_are_not_implemented() -> None:
    bare = Bound(types.SimpleNamespace(relu=lambda x: x, vjp="not callable"), "bare")
    assert bare.forward_fn("sigmoid") is None and bare.gradient_style("relu") is None
    with pytest.raises(NotImplementedByBackend, match="bare has no sigmoid"):
        bare.call_forward("sigmoid", X, {})
    with pytest.raises(NotImplementedByBackend, match="bare has neither relu_backward nor vjp"):
        bare.call_gradient("relu", X, {}, {"y": np.ones(2)})


def test_to_numpy_detaches_torch_tensors() -> None:
    t = torch.ones(2, requires_grad=True) * 3
    assert B.to_numpy(t).tolist() == [3.0, 3.0]
    assert B.to_numpy(1.5).shape == ()
