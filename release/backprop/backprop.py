"""Backpropagation by hand: staged gates, a composite layer, and a small MLP.

Every function takes and returns numpy arrays (float64). "Gradient" always means the derivative
of the function's output with respect to its input for an upstream gradient of 1 (elementwise
functions), or of the stated scalar loss (the MLP).
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sigmoid 1 / (1 + exp(-x)) elementwise, and its derivative, through staged gates.

    Forward through four gates: a = -x (negate), b = exp(a), c = 1 + b (add one), f = 1 / c
    (reciprocal). Backward through the same gates, downstream = upstream * local, starting from
    an upstream gradient of 1 at f.

    Args:
        x: an array of any shape (1-D, 2-D, 3-D, ...).

    Returns:
        (out, dx): two arrays of x's shape; out = sigmoid(x) and dx = d out / d x.

    The inputs may be large (|x| up to 1000): out and dx must be finite (no NaN, no overflow).
    The plain gates overflow for x << 0 (exp(1000) = inf, and 0 * inf = NaN on the way back).
    Hint: run the gates on -|x|, whose exp lies in (0, 1], and use sigmoid(-z) = exp(-z) / (1 + exp(-z))
    and that the derivative of the sigmoid is an even function.
    """
    raise NotImplementedError("sigmoid: not implemented yet")


def complex_layer(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f = ln(x) * sigmoid(sqrt(y)) / sigmoid((x + y)**2) elementwise, with df/dx and df/dy.

    Break f into gates (for example a = ln x, b = sqrt y, c = sigmoid(b), d = a * c,
    g = x + y, h = g**2, i = sigmoid(h), j = 1 / i, f = d * j), then backpropagate an upstream
    gradient of 1. x and y reach f along several paths: add the contributions of every path.
    You may reuse `sigmoid` above (its dx is the local gradient of a sigmoid gate).

    Args:
        x: array with x > 0.
        y: array of x's shape with y > 0.

    Returns:
        (out, fx, fy): three arrays of x's shape; out = f(x, y), fx = df/dx, fy = df/dy.
    """
    raise NotImplementedError("complex_layer: not implemented yet")


def mlp_backward(
    As: list[np.ndarray], bs: list[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Gradients of the loss 0.5 * ||y_L - y||^2 for an MLP, by backpropagation.

    The network has L = len(As) layers:
        y_0 = x,
        y_l = sigmoid(A_l @ y_{l-1} + b_l)   for l = 1, ..., L-1  (hidden layers),
        y_L = A_L @ y_{L-1} + b_L                                  (linear output layer).

    Shapes (column vectors):
        As[l-1]: (n_l, n_{l-1})    bs[l-1]: (n_l, 1)    x: (n_0, 1)    y: (n_L, 1)

    Returns:
        (dAs, dbs): two lists of length L with dAs[l-1] = dloss/dA_l of shape (n_l, n_{l-1}) and
        dbs[l-1] = dloss/db_l of shape (n_l, 1), exactly the shapes of As and bs.
    """
    raise NotImplementedError("mlp_backward: not implemented yet")
