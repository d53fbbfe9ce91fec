"""Computation graphs and reverse-mode backpropagation (lecture: "Computation Graphs",
"BACKPROPAGATION", "Calculus to the Rescue").

    Backpropagation tells us how to make a single adjustment using calculus.
    Use calculus, chain rule, etc. etc.; functions are chosen to have "nice" derivatives.

A network is a graph of operations. Every Node keeps its value, the nodes it was computed from
(its parents) and a small closure that knows the operation's local derivative. ``backward()``
visits the graph in reverse topological order (the root first, the inputs last) and applies the
chain rule node by node: each node passes ∂L/∂(node) times its local derivative on to its
parents. A node used twice receives two contributions, so gradients accumulate with ``+=``:
the chain rule's sum over every path.

Notation
--------
L            the root (usually a scalar loss); ``L.backward()`` fills ``node.grad = ∂L/∂node``
node.value   a float64 scalar (0-d array) or array
node.grad    ∂L/∂node, the shape of node.value
u, v         operands of an operation; out its result

Broadcasting follows NumPy (b [M] added to z [N, M] is copied to every row). The gradient of a
broadcast operand is summed back over the copies, to the operand's own shape.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from reference._checks import FloatArray, as_float_array, fail
from reference.activations import ACTIVATIONS

__all__ = ["Node", "as_node"]


def as_node(value: Any) -> Node:
    """``value`` itself if it is a Node, else a new leaf (constant) Node holding it.

    Raises TypeError, naming as_node, for anything that is not a real number or array.
    """
    if isinstance(value, Node):
        return value
    return Node(as_float_array("as_node", "value", value))


def _unbroadcast(grad: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """Sum ``grad`` down to ``shape``: a broadcast operand gets the sum over its copies."""
    while grad.ndim > len(shape):                  # axes broadcasting added in front
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):            # axes of size 1 stretched to the others
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _broadcast_shape(op: str, u: Node, v: Node) -> None:
    try:
        np.broadcast_shapes(u.shape, v.shape)
    except ValueError:
        raise fail(f"Node.{op}", f"operand shapes {u.shape} and {v.shape} do not broadcast "
                                 f"(NumPy broadcasting rules)") from None


class Node:
    """A value in a computation graph, with its gradient ∂L/∂node after ``L.backward()``.

    Build graphs with the operators ``+ - * / ** @`` (numbers and arrays are wrapped as constant
    leaves), ``.T``, ``.sum(axis)``, ``.mean(axis)`` and the elementwise ``.sigmoid()``,
    ``.tanh()``, ``.relu()``, ``.exp()``, ``.log()``.

    Raises
    ------
    TypeError if value is not real (bool, complex, str, ragged lists).
    """

    __array_ufunc__ = None   # ndarray ⊕ Node defers to Node's reflected operator

    def __init__(self, value: Any, parents: tuple[Node, ...] = (), op: str = "") -> None:
        self.value: FloatArray = as_float_array("Node", "value", value)
        self.grad: FloatArray = np.zeros_like(self.value)
        self.parents = parents
        self.op = op
        self._backward: Callable[[], None] = lambda: None   # a leaf passes nothing on

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"Node(op={self.op or 'leaf'!r}, shape={self.shape})"

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Node:
        v = as_node(other)
        _broadcast_shape("__add__", self, v)
        out = Node(self.value + v.value, (self, v), "+")          # out = u + v

        def backward() -> None:                                   # ∂out/∂u = ∂out/∂v = 1
            self.grad += _unbroadcast(out.grad, self.shape)
            v.grad += _unbroadcast(out.grad, v.shape)

        out._backward = backward
        return out

    def __mul__(self, other: Any) -> Node:
        v = as_node(other)
        _broadcast_shape("__mul__", self, v)
        out = Node(self.value * v.value, (self, v), "*")          # out = u ∘ v

        def backward() -> None:                                   # ∂out/∂u = v, ∂out/∂v = u
            self.grad += _unbroadcast(v.value * out.grad, self.shape)
            v.grad += _unbroadcast(self.value * out.grad, v.shape)

        out._backward = backward
        return out

    def __pow__(self, exponent: Any) -> Node:
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise TypeError(f"Node.__pow__: the exponent must be a real number, got "
                            f"{type(exponent).__name__}")
        n = float(exponent)
        if n < 1 and np.any(self.value == 0):
            raise fail("Node.__pow__", f"0 ** {n} has no derivative (the value holds zeros)")
        if not n.is_integer() and np.any(self.value < 0):
            raise fail("Node.__pow__", f"a negative value ** {n} is not real (the value holds "
                                       f"negative numbers)")
        out = Node(self.value ** n, (self,), f"**{n:g}")          # out = uⁿ

        def backward() -> None:                                   # ∂out/∂u = n uⁿ⁻¹
            self.grad += n * self.value ** (n - 1) * out.grad

        out._backward = backward
        return out

    def __neg__(self) -> Node:
        return self * -1.0

    def __sub__(self, other: Any) -> Node:
        return self + (-as_node(other))

    def __truediv__(self, other: Any) -> Node:
        return self * as_node(other) ** -1

    def __radd__(self, other: Any) -> Node:
        return as_node(other) + self

    def __rsub__(self, other: Any) -> Node:
        return as_node(other) - self

    def __rmul__(self, other: Any) -> Node:
        return as_node(other) * self

    def __rtruediv__(self, other: Any) -> Node:
        return as_node(other) / self

    # ------------------------------------------------------------ linear algebra
    def __matmul__(self, other: Any) -> Node:
        v = as_node(other)
        if self.value.ndim not in (1, 2) or v.value.ndim not in (1, 2):
            raise fail("Node.__matmul__", f"operands must be 1-D or 2-D, got shapes {self.shape} "
                                          f"and {v.shape}")
        if self.shape[-1] != v.shape[0]:
            raise fail("Node.__matmul__", f"inner sizes differ: {self.shape} @ {v.shape} "
                                          f"({self.shape[-1]} != {v.shape[0]})")
        out = Node(self.value @ v.value, (self, v), "@")          # out = u v
        # a 1-D left operand is a row [1, K], a 1-D right operand a column [K, 1]
        u2 = self.value.reshape(-1, self.shape[-1])
        v2 = v.value.reshape(v.shape[0], -1)

        def backward() -> None:                                   # ∂L/∂u = G vᵀ, ∂L/∂v = uᵀ G
            G = out.grad.reshape(u2.shape[0], v2.shape[1])
            self.grad += (G @ v2.T).reshape(self.shape)
            v.grad += (u2.T @ G).reshape(v.shape)

        out._backward = backward
        return out

    def __rmatmul__(self, other: Any) -> Node:
        return as_node(other) @ self

    @property
    def T(self) -> Node:
        out = Node(self.value.T, (self,), "T")                    # out = uᵀ

        def backward() -> None:                                   # ∂L/∂u = (∂L/∂out)ᵀ
            self.grad += out.grad.T

        out._backward = backward
        return out

    # ------------------------------------------------------------ reductions
    def _axis(self, op: str, axis: Any) -> int | None:
        if axis is None:
            return None
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Node.{op}: axis must be an int or None, got {axis!r}")
        ax, ndim = int(axis), self.value.ndim
        if not -ndim <= ax < ndim:
            raise fail(f"Node.{op}", f"axis {ax} is out of range for shape {self.shape}")
        return ax % ndim

    def sum(self, axis: Any = None) -> Node:
        """out = Σ u over ``axis`` (all elements when None)."""
        ax = self._axis("sum", axis)
        out = Node(self.value.sum(axis=ax), (self,), "sum")

        def backward() -> None:                                   # ∂out/∂u_i = 1 for each i
            g = out.grad if ax is None else np.expand_dims(out.grad, ax)
            self.grad += np.broadcast_to(g, self.shape)

        out._backward = backward
        return out

    def mean(self, axis: Any = None) -> Node:
        """out = (1/n) Σ u over ``axis``, n the number of elements summed."""
        total = self.sum(axis)
        return total * (total.value.size / max(self.value.size, 1))

    # ------------------------------------------------------------ elementwise functions
    def _elementwise(self, name: str, f: Callable[[FloatArray], FloatArray],
                     df: Callable[[FloatArray], FloatArray]) -> Node:
        out = Node(f(self.value), (self,), name)                  # out = f(u)

        def backward() -> None:                                   # ∂L/∂u = f'(u) ∘ ∂L/∂out
            self.grad += df(self.value) * out.grad

        out._backward = backward
        return out

    def sigmoid(self) -> Node:
        """σ(u) = 1/(1 + e^−u), σ' = σ(1 − σ)."""
        return self._elementwise("sigmoid", ACTIVATIONS["sigmoid"].f, ACTIVATIONS["sigmoid"].df)

    def tanh(self) -> Node:
        """tanh(u), tanh' = 1 − tanh²."""
        return self._elementwise("tanh", ACTIVATIONS["tanh"].f, ACTIVATIONS["tanh"].df)

    def relu(self) -> Node:
        """max(0, u), relu'(0) = 0."""
        return self._elementwise("relu", ACTIVATIONS["relu"].f, ACTIVATIONS["relu"].df)

    def exp(self) -> Node:
        """e^u (overflows to inf above u ≈ 709, as float64 must), (e^u)' = e^u."""
        def exp(u: FloatArray) -> FloatArray:
            with np.errstate(over="ignore"):
                return np.exp(u)

        return self._elementwise("exp", exp, exp)

    def log(self) -> Node:
        """log u for u > 0, (log u)' = 1/u."""
        if np.any(self.value <= 0):
            raise fail("Node.log", f"log needs values > 0, got minimum {self.value.min()} "
                                   f"(shape {self.shape})")
        return self._elementwise("log", np.log, lambda u: 1.0 / u)

    # ------------------------------------------------------------ backpropagation
    def topological_order(self) -> list[Node]:
        """Every node this one depends on, each after all of its parents (self last)."""
        order: list[Node] = []
        seen: set[int] = set()
        stack: list[tuple[Node, bool]] = [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))                        # revisit after its parents
                stack.extend((p, False) for p in node.parents)
        return order

    def backward(self, grad: Any = None) -> None:
        """Fill ``node.grad = ∂L/∂node`` for every node L (this one) depends on.

        ``grad`` seeds ∂L/∂L: 1 by default (for an array root, the gradient of the sum of its
        elements), or an upstream gradient of this node's shape. Each call starts afresh: every
        grad in the graph is reset to 0, then the chain rule runs node by node in reverse
        topological order, each node adding its contribution to its parents' grads with +=.

        Raises
        ------
        ValueError if ``grad`` does not have this node's shape.
        """
        seed = np.ones_like(self.value) if grad is None else as_float_array(
            "Node.backward", "grad", grad)
        if seed.shape != self.shape:
            raise fail("Node.backward", f"grad must have the root's shape {self.shape}, "
                                        f"got {seed.shape}")
        order = self.topological_order()
        for node in order:
            node.grad = np.zeros_like(node.value)
        self.grad = seed.copy()                                   # ∂L/∂L
        for node in reversed(order):                              # the root first
            node._backward()                                      # chain rule, one node
