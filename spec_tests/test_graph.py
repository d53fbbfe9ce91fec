"""Spec of reference.graph (lecture: "Computation Graphs", "BACKPROPAGATION", "Calculus to the
Rescue"): backpropagation is the chain rule applied node by node in reverse topological order.

Claims: graph.backprop; conventions errors, no-mutation, float64.

Each expression below is written once and run on three backends: reference.graph.Node, torch
tensors (autograd) and SymPy symbol arrays (through the small ``Sym`` adapter), the way
micrograd's tests compare one expression across libraries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import (
    DenseCase,
    NetworkCase,
    arrays,
    dense_cases,
    finite_floats,
    network_cases,
)
from reference.feedforward import dense, dense_backward
from reference.gradcheck import check_gradients, numerical_gradient
from reference.graph import Node, as_node
from reference.tolerance import FINITE_DIFFERENCE, assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch
from spec_tests.helpers.symbolic import derive, elementwise, sigma, symbols

SHAPES = {"u": (2, 3), "v": (3,), "w": (3, 2)}

# name → (expression of u [2, 3], v [3], w [3, 2], smooth?) — one body for every backend
EXPRESSIONS: dict[str, tuple[Callable[..., Any], bool]] = {
    "add with broadcasting": (lambda u, v, w: ((u + v) * (u + v)).sum(), True),
    "sub, rsub and neg": (lambda u, v, w: ((u - v) * -u).sum() + (1.0 - v).sum() * 2.0, True),
    "mul and pow": (lambda u, v, w: (u * u * v).sum() + (u ** 3).mean(), True),
    "div and rdiv": (lambda u, v, w: (u / (v * v + 1.0)).sum() + (2.0 / (v * v + 1.0)).sum(),
                     True),
    "matmul 2-D": (lambda u, v, w: ((u @ w) * (u @ w)).sum(), True),
    "matmul with vectors": (lambda u, v, w: ((u @ v) * (v @ w)).sum(), True),
    "transpose": (lambda u, v, w: (w.T * u).sum() + (u.T @ u).sum(), True),
    "sum over an axis": (lambda u, v, w: (u.sum(0) * v).sum() + (u.sum(1) ** 2).sum(), True),
    "mean over an axis": (lambda u, v, w: (u.mean(0) * v).sum() + (u.mean(1) * u.mean(1)).mean(),
                          True),
    "sigmoid": (lambda u, v, w: (u.sigmoid() * v).sum(), True),
    "tanh": (lambda u, v, w: ((u @ w).tanh() ** 2).sum(), True),
    "exp and log": (lambda u, v, w: (u.exp() * v).sum() + (v * v + 1.0).log().sum(), True),
    "two dense layers": (lambda u, v, w: ((u @ w).tanh() @ w.T + v).sigmoid().mean(), True),
    "relu": (lambda u, v, w: ((u @ w).relu() * (u @ w)).sum() + (u.relu() * v).sum(), False),
}


def _point(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=s) for k, s in SHAPES.items()}


def _run_graph(expr: Callable[..., Any], values: dict[str, np.ndarray]
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    leaves = {k: Node(v) for k, v in values.items()}
    out = expr(**leaves)
    out.backward()
    return out.value, {k: n.grad for k, n in leaves.items()}


# ---------------------------------------------------------------- sympy
class Sym:
    """SymPy symbol arrays with the Node/torch method names, so one expression runs on all."""

    def __init__(self, a: Any) -> None:
        self.a = np.asarray(a, dtype=object)

    @staticmethod
    def _raw(o: Any) -> Any:
        return o.a if isinstance(o, Sym) else o

    def __add__(self, o: Any) -> Sym: return Sym(self.a + self._raw(o))
    def __radd__(self, o: Any) -> Sym: return Sym(self._raw(o) + self.a)
    def __sub__(self, o: Any) -> Sym: return Sym(self.a - self._raw(o))
    def __rsub__(self, o: Any) -> Sym: return Sym(self._raw(o) - self.a)
    def __mul__(self, o: Any) -> Sym: return Sym(self.a * self._raw(o))
    def __rmul__(self, o: Any) -> Sym: return Sym(self._raw(o) * self.a)
    def __truediv__(self, o: Any) -> Sym: return Sym(self.a / self._raw(o))
    def __rtruediv__(self, o: Any) -> Sym: return Sym(self._raw(o) / self.a)
    def __neg__(self) -> Sym: return Sym(-self.a)
    def __pow__(self, n: Any) -> Sym: return Sym(self.a ** n)
    def __matmul__(self, o: Any) -> Sym: return Sym(self.a @ self._raw(o))

    @property
    def T(self) -> Sym:
        return Sym(self.a.T)

    def sum(self, axis: int | None = None) -> Sym:
        return Sym(self.a.sum(axis=axis))

    def mean(self, axis: int | None = None) -> Sym:
        total = self.a.sum(axis=axis)
        return Sym(total / sp.Integer(self.a.size // max(np.size(total), 1)))

    def _map(self, f: Callable[[Any], Any]) -> Sym:
        return Sym(elementwise(f, self.a))

    def sigmoid(self) -> Sym: return self._map(sigma)
    def tanh(self) -> Sym: return self._map(sp.tanh)
    def exp(self) -> Sym: return self._map(sp.exp)
    def log(self) -> Sym: return self._map(sp.log)


def _builder(name: str) -> Callable[[], tuple[sp.Expr, dict[str, np.ndarray]]]:
    def build() -> tuple[sp.Expr, dict[str, np.ndarray]]:
        syms = {k: symbols(k, s) for k, s in SHAPES.items()}
        out = EXPRESSIONS[name][0](**{k: Sym(a) for k, a in syms.items()})
        return out.a.item(), syms

    return build


SYMBOLIC = {name: _builder(name) for name, (_, smooth) in EXPRESSIONS.items() if smooth}


@pytest.mark.claim("graph.backprop")
@pytest.mark.sympy
@pytest.mark.parametrize("name", sorted(SYMBOLIC))
def test_each_operation_backpropagates_the_derivative_sympy_derives(name: str) -> None:
    derived = derive(SYMBOLIC[name])
    for seed in (10, 11):
        values = _point(seed)
        value, grads = derived(**values)
        ours, our_grads = _run_graph(EXPRESSIONS[name][0], values)
        assert_close(ours, value, tolerance(terms=6, depth=2), what=f"{name}: value")
        for k in SHAPES:
            assert_close(our_grads[k], grads[k], tolerance(terms=6, depth=2, gradient=True),
                         what=f"{name}: ∂L/∂{k} against SymPy")


# ---------------------------------------------------------------- torch
@pytest.mark.claim("graph.backprop")
@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_each_operation_backpropagates_as_torch_autograd(name: str) -> None:
    values = _point(12)
    ours, grads = _run_graph(EXPRESSIONS[name][0], values)
    assert_matches_torch(EXPRESSIONS[name][0], values, ours, grads, terms=6, depth=2, what=name)


def _graph_network(x: Node, layers: list[tuple[Node, Node]], acts: tuple[str, ...]) -> Node:
    a = x
    for (W, b), f in zip(layers, acts):
        z = a @ W.T + b                               # z = Wx + b
        a = z if f == "identity" else getattr(z, f)()  # a = f(z)
    return a


@pytest.mark.claim("graph.backprop")
@pytest.mark.torch
def test_graph_reproduces_a_three_layer_dense_network_and_its_loss_gradients_in_torch() -> None:
    rng = np.random.default_rng(13)
    sizes, acts = [4, 6, 5, 3], ("sigmoid", "tanh", "relu")
    inputs: dict[str, np.ndarray] = {"x": rng.normal(size=(7, 4)), "y": rng.normal(size=(7, 3))}
    for i in range(3):
        inputs[f"W{i}"] = rng.normal(size=(sizes[i + 1], sizes[i]))
        inputs[f"b{i}"] = rng.normal(size=sizes[i + 1])
    nodes = {k: Node(v) for k, v in inputs.items()}
    layers = [(nodes[f"W{i}"], nodes[f"b{i}"]) for i in range(3)]
    loss = ((_graph_network(nodes["x"], layers, acts) - nodes["y"]) ** 2).mean()
    loss.backward()

    def torch_network(x: torch.Tensor, y: torch.Tensor, **p: torch.Tensor) -> torch.Tensor:
        a = torch.sigmoid(F.linear(x, p["W0"], p["b0"]))
        a = torch.tanh(F.linear(a, p["W1"], p["b1"]))
        a = F.relu(F.linear(a, p["W2"], p["b2"]))
        return F.mse_loss(a, y)

    grads = {k: n.grad for k, n in nodes.items() if k != "y"}
    assert_matches_torch(torch_network, inputs, loss.value, grads, terms=6, depth=3,
                         what="3-layer network")


# ---------------------------------------------------------------- properties
@pytest.mark.claim("graph.backprop")
@pytest.mark.property
@given(network_cases(max_layers=4))
def test_graph_gradients_equal_dense_backward_chained_over_the_layers(
        case: NetworkCase) -> None:
    # reference: feedforward.dense forward layer by layer, then dense_backward in reverse
    inputs, a = [], case.x
    for (W, b), f in zip(case.layers, case.activations):
        inputs.append(a)
        a = dense(a, W, b, f)
    expected, da = [], case.upstream
    for (W, b), f, a_prev in reversed(list(zip(case.layers, case.activations, inputs))):
        da, dW, db = dense_backward(da, a_prev, W, b, f)
        expected.append((dW, db))
    expected.reverse()
    # the graph: build the same network from Nodes, seed the root with the upstream gradient
    x = Node(case.x)
    layers = [(Node(W), Node(b)) for W, b in case.layers]
    out = _graph_network(x, layers, case.activations)
    out.backward(case.upstream)
    tol = tolerance(terms=5, depth=len(layers), gradient=True)
    assert_close(out.value, a, tolerance(terms=5, depth=len(layers)), what="network output")
    assert_close(x.grad, da, tol, what="∂L/∂x")
    for i, ((W, b), (dW, db)) in enumerate(zip(layers, expected)):
        assert_close(W.grad, dW, tol, what=f"∂L/∂W of layer {i + 1}")
        assert_close(b.grad, db, tol, what=f"∂L/∂b of layer {i + 1}")


@pytest.mark.claim("graph.backprop")
@pytest.mark.property
@given(dense_cases(), st.sampled_from(["sigmoid", "tanh", "identity"]), st.data())
def test_graph_gradients_of_a_dense_layer_match_finite_differences(
        case: DenseCase, f: str, data: st.DataObject) -> None:
    upstream = data.draw(arrays((case.x.shape[0], case.W.shape[0])), label="upstream")
    leaves = {k: Node(v) for k, v in case.as_dict().items()}
    out = _graph_network(leaves["x"], [(leaves["W"], leaves["b"])], (f,))
    out.backward(upstream)
    check_gradients(lambda x, W, b: dense(x, W, b, f), case.as_dict(), upstream,
                    {k: n.grad for k, n in leaves.items()})


# a random program: each step combines earlier nodes, so nodes are reused along many paths
_STEPS = st.lists(st.tuples(st.sampled_from(["+", "-", "*", "tanh"]), st.integers(0, 20),
                            st.integers(0, 20)), min_size=1, max_size=8)


def _run_program(steps: list[tuple[str, int, int]], a: Any, b: Any) -> list[Any]:
    values = [a, b]
    for op, i, j in steps:
        u, v = values[i % len(values)], values[j % len(values)]
        values.append(u + v if op == "+" else u - v if op == "-" else u * v if op == "*"
                      else (u.tanh() if isinstance(u, Node) else np.tanh(u)))
    return values


@pytest.mark.claim("graph.backprop")
@pytest.mark.property
@given(_STEPS, arrays(3, bound=1.0), arrays(3, bound=1.0))
def test_backprop_visits_parents_after_children_and_sums_over_every_path(
        steps: list[tuple[str, int, int]], a: np.ndarray, b: np.ndarray) -> None:
    leaf_a, leaf_b = Node(a), Node(b)
    nodes = _run_program(steps, leaf_a, leaf_b)
    root = nodes[-1].sum()
    order = root.topological_order()
    position = {id(n): i for i, n in enumerate(order)}
    assert len(position) == len(order), "a node appears twice in the topological order"
    assert order[-1] is root
    for n in order:   # every node comes after all of its parents
        assert all(position[id(p)] < position[id(n)] for p in n.parents), n
    root.backward()
    first = (leaf_a.grad.copy(), leaf_b.grad.copy())
    root.backward()   # each call starts afresh: the same gradients, not doubled
    assert np.array_equal(leaf_a.grad, first[0]) and np.array_equal(leaf_b.grad, first[1])
    # the chain rule sums over every path from a leaf to the root (grads accumulate with +=)
    for leaf, name in ((leaf_a, "a"), (leaf_b, "b")):
        def total(v: np.ndarray, name: str = name) -> float:
            args = (v, b) if name == "a" else (a, v)
            return float(np.sum(_run_program(steps, *args)[-1]))
        numeric = numerical_gradient(total, leaf.value)
        assert_close(leaf.grad, numeric, FINITE_DIFFERENCE, what=f"∂L/∂{name}")


@pytest.mark.claim("graph.backprop")
@pytest.mark.property
@given(arrays((2, 3)), finite_floats(5.0))
def test_a_node_used_k_times_gets_k_contributions_and_broadcasts_sum_back(
        x: np.ndarray, c: float) -> None:
    u = Node(x)
    (u + u + u).sum().backward()
    assert np.array_equal(u.grad, np.full((2, 3), 3.0)), "three uses, three contributions"
    b = Node(np.array([c, c, c]))
    (u + b).sum().backward()      # b is copied to both rows: its gradient sums the copies
    assert np.array_equal(b.grad, np.full(3, 2.0)) and np.array_equal(u.grad, np.ones((2, 3)))
    s = Node(c)
    (u * s).sum().backward()      # a scalar broadcast to every element gets the sum
    assert_close(s.grad, x.sum(), tolerance(terms=6), what="∂/∂s of Σ s·x")
    row = Node(np.ones((1, 3)))   # a [1, 3] row stretched over 2 rows
    (2.0 + 3.0 * (u + row)).sum().backward()
    assert np.array_equal(row.grad, np.full((1, 3), 6.0)) and np.array_equal(u.grad,
                                                                             np.full((2, 3), 3.0))
    (np.array([[1.0, -1.0]]) @ u).sum().backward()   # ndarray @ Node: Node.__rmatmul__
    assert np.array_equal(u.grad, np.array([[1.0] * 3, [-1.0] * 3]))


@pytest.mark.claim("convention.float64", "convention.no-mutation", "graph.backprop")
@pytest.mark.property
@given(st.sampled_from([np.int32, np.int64, np.float32, np.float64]))
def test_nodes_hold_float64_copies_and_backward_leaves_inputs_alone(dtype: type) -> None:
    """float64 inputs included: those are the ones a Node could share memory with (the others
    are always converted into new arrays), so only they can show a write into the caller's
    array. Bug it catches (tried): Node.__init__ keeping ``np.asarray(value, dtype=float64)``
    (the caller's own array, writable) and relu clamping in place, ``np.maximum(v, 0,
    out=v)``: the float64 x changes and this test fails, where with int and float32 inputs
    alone it passed."""
    x = np.array([[1, -2, 3], [0, 2, 1]], dtype=dtype)
    w = np.array([[0.5, -1.0], [2.0, 0.25], [-1.5, 1.0]], dtype=dtype)
    before, w_before = x.copy(), w.copy()
    u, v = Node(x), Node(w)
    assert u.value.dtype == np.float64 and u.grad.dtype == np.float64
    # every operation applied to the leaves themselves (the nodes that hold the inputs), then
    # backward through all of them
    h = u.relu() + u.sigmoid() * u.tanh() - (u / 4.0).exp() + (u * u + 1.0).log() + u ** 2
    (h.mean(0).sum() + (u @ v).sum() + (u.T @ u).sum() + v.relu().sum() - v.T.sum()).backward()
    assert np.array_equal(x, before) and x.dtype == dtype, "a Node changed its input x"
    assert np.array_equal(w, w_before), "a Node changed its input w"
    # and the graph's own values stayed what they were computed as
    assert np.array_equal(u.value, before.astype(np.float64))
    assert as_node(u) is u and isinstance(as_node(2), Node)
    assert "op='leaf'" in repr(u) and "op='@'" in repr(u @ u.T)


# ---------------------------------------------------------------- bad input
_u = Node(np.ones((2, 3)))
BAD_CALLS = [
    (lambda: Node("3"), TypeError, r"^Node: value must be a real array, got str"),
    (lambda: Node(np.array([True])), TypeError, r"^Node: value must hold real numbers"),
    (lambda: as_node("x"), TypeError, r"^as_node: value must be a real array, got str 'x'"),
    (lambda: as_node([[1.0], [2.0, 3.0]]), TypeError, r"^as_node: value must be a real array"),
    (lambda: as_node(1j), TypeError, r"^as_node: value must hold real numbers"),
    (lambda: _u + "1", TypeError, r"^as_node: value must be a real array, got str '1'"),
    (lambda: _u + np.ones(2), ValueError,
     r"^Node.__add__: operand shapes \(2, 3\) and \(2,\) do not broadcast"),
    (lambda: _u * np.ones((3, 2)), ValueError, r"^Node.__mul__: operand shapes"),
    (lambda: _u @ np.ones((2, 2)), ValueError,
     r"^Node.__matmul__: inner sizes differ: \(2, 3\) @ \(2, 2\) \(3 != 2\)"),
    (lambda: Node(np.ones((1, 2, 3))) @ np.ones(3), ValueError,
     r"^Node.__matmul__: operands must be 1-D or 2-D"),
    (lambda: _u ** "2", TypeError, r"^Node.__pow__: the exponent must be a real number, got str"),
    (lambda: Node([0.0, 1.0]) ** -1, ValueError, r"^Node.__pow__: 0 \*\* -1.0 has no derivative"),
    (lambda: Node([0.0, 1.0]) ** 0.5, ValueError, r"^Node.__pow__: 0 \*\* 0.5 has no derivative"),
    (lambda: Node([-1.0, 1.0]) ** 0.5, ValueError, r"^Node.__pow__: a negative value \*\* 0.5"),
    (lambda: Node([0.0, 1.0]).log(), ValueError, r"^Node.log: log needs values > 0, got minimum"),
    (lambda: _u.sum(2), ValueError, r"^Node.sum: axis 2 is out of range for shape \(2, 3\)"),
    (lambda: _u.mean(1.0), TypeError, r"^Node.sum: axis must be an int or None, got 1.0"),
    (lambda: _u.sum().backward(np.ones(2)), ValueError,
     r"^Node.backward: grad must have the root's shape \(\), got \(2,\)"),
]


@pytest.mark.claim("graph.backprop", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "words"), BAD_CALLS)
def test_graph_operations_refuse_bad_input_by_name(call: Callable[[], Any], kind: type,
                                                   words: str) -> None:
    with pytest.raises(kind, match=words):
        call()


@pytest.mark.claim("graph.backprop", "convention.stable")
@pytest.mark.property
@given(st.floats(1e3, 1e300))
def test_exp_overflows_to_inf_without_a_warning_and_activations_stay_finite(big: float) -> None:
    # beyond |x| ≈ 745 the exact limits are what float64 holds: e^big = inf, e^−big = 0
    u = Node([big, -big, 0.0])
    assert list(u.exp().value) == [np.inf, 0.0, 1.0]
    assert list(u.sigmoid().value) == [1.0, 0.0, 0.5]
    u.tanh().sum().backward()
    assert np.all(np.isfinite(u.grad))
