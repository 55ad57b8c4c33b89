"""A small reverse-mode automatic differentiation engine for scalars.

Build an expression from `Value`s and numbers, call `backward()` on the result, and every `Value`
that took part holds d result / d itself in `.grad`:

    x = Value(3.0)
    c = Value(5.0)
    d = x**2 / x.log()
    out = (d + c) * (d - c)
    out.backward()        # now x.grad = d out / dx and c.grad = d out / dc

Each operation creates a new node that remembers its parents and how to pass its gradient on
to them (`_backward`). A node used several times (d above) receives gradient along every use:
gradients accumulate (+=). `backward()` visits the nodes in reverse topological order, so a
node passes its gradient on only after it has received all of it.
"""

from __future__ import annotations

import math
from typing import Callable, Union

Number = Union[int, float]


class Value:
    """A scalar in a computation graph: its value `.data` and its gradient `.grad`."""

    def __init__(self, data: float, parents: tuple["Value", ...] = ()) -> None:
        self.data = float(data)
        self.grad = 0.0
        self._parents = parents
        self._backward: Callable[[], None] = lambda: None  # adds self.grad's share to each parent

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    @staticmethod
    def _wrap(other: Union["Value", Number]) -> "Value":
        """Numbers in an expression become constant nodes."""
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other: Union["Value", Number]) -> "Value":
        """self + other."""
        # BEGIN SOLUTION
        other = Value._wrap(other)
        out = Value(self.data + other.data, (self, other))

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def __mul__(self, other: Union["Value", Number]) -> "Value":
        """self * other."""
        # BEGIN SOLUTION
        other = Value._wrap(other)
        out = Value(self.data * other.data, (self, other))

        def _backward() -> None:
            self.grad = other.data * out.grad
            other.grad = self.data * out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def __pow__(self, exponent: Number) -> "Value":
        """self ** exponent, for a number exponent (int or float)."""
        # BEGIN SOLUTION
        n = float(exponent)
        out = Value(self.data**n, (self,))

        def _backward() -> None:
            self.grad += n * self.data ** (n - 1.0) * out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def log(self) -> "Value":
        """The natural logarithm ln(self), for self.data > 0."""
        # BEGIN SOLUTION
        out = Value(math.log(self.data), (self,))

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out
        # END SOLUTION

    def exp(self) -> "Value":
        """exp(self)."""
        # BEGIN SOLUTION
        out = Value(math.exp(self.data), (self,))

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def __neg__(self) -> "Value":
        """-self."""
        # BEGIN SOLUTION
        return self * -1.0
        # END SOLUTION

    def __sub__(self, other: Union["Value", Number]) -> "Value":
        """self - other."""
        # BEGIN SOLUTION
        return self + (-Value._wrap(other))
        # END SOLUTION

    def __truediv__(self, other: Union["Value", Number]) -> "Value":
        """self / other."""
        # BEGIN SOLUTION
        return self * Value._wrap(other) ** -1
        # END SOLUTION

    def __radd__(self, other: Number) -> "Value":
        """other + self, e.g. 2 + x."""
        # BEGIN SOLUTION
        return Value._wrap(other) + self
        # END SOLUTION

    def __rsub__(self, other: Number) -> "Value":
        """other - self, e.g. 2 - x."""
        # BEGIN SOLUTION
        return Value._wrap(other) - self
        # END SOLUTION

    def __rmul__(self, other: Number) -> "Value":
        """other * self, e.g. 3 * x."""
        # BEGIN SOLUTION
        return Value._wrap(other) * self
        # END SOLUTION

    def __rtruediv__(self, other: Number) -> "Value":
        """other / self, e.g. 1 / x."""
        # BEGIN SOLUTION
        return Value._wrap(other) / self
        # END SOLUTION

    def backward(self) -> None:
        """Set self.grad = 1, then pass gradients to every node self depends on.

        Order the nodes topologically (each node after its parents), then call `_backward` in
        the reverse order, so that a node has received its whole gradient before passing it on.
        Build the order without deep recursion (graphs can be long chains).
        """
        # BEGIN SOLUTION
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for parent in node._parents:
                if id(parent) not in seen:
                    stack.append((parent, False))
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
        # END SOLUTION
