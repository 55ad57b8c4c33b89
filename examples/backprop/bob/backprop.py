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
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    # forward through the gates on |x| (exp never overflows there)
    a = -np.abs(x)
    b = np.exp(a)
    c = 1.0 + b
    f = 1.0 / c  # sigmoid(|x|)
    out = np.where(x >= 0, f, b * f)  # sigmoid(-z) = exp(-z) / (1 + exp(-z))
    # backward through the same gates, upstream gradient 1
    df = np.ones_like(x)
    dc = df * (1.0 / c**2)
    db = dc * 1.0
    da = db * b
    dz = da * -1.0  # d sigmoid(z) / dz at z = |x|
    dx = dz  # sigmoid' is even: sigmoid'(x) = sigmoid'(|x|)
    return out, dx
    # END SOLUTION


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
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    # forward
    a = np.log(x)
    b = np.sqrt(y)
    c, dc_db = sigmoid(b)
    d = a * c
    g = x + y
    h = g**2
    i, di_dh = sigmoid(h)
    j = 1.0 / i
    out = d * j
    # backward: output gate
    fd = j
    fj = d
    # denominator branch (x and y both)
    fi = fj * (-1.0 / i**2)
    fh = fi * di_dh
    fg = fh * 2.0 * g
    fx_1 = fg
    fy_1 = fg
    # ln x branch
    fa = fd * c
    fx_2 = fa / x
    # sqrt y branch
    fc = fd * a
    fb = fc * dc_db
    fy_2 = fb / (2.0 * b)
    # paths meet
    fx = fx_1 + fx_2
    fy = fy_1 + fy_2
    return out, fx, fy
    # END SOLUTION


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
    # BEGIN SOLUTION
    As = [np.asarray(A, dtype=np.float64) for A in As]
    bs = [np.asarray(b, dtype=np.float64) for b in bs]
    L = len(As)
    # forward, keeping each layer's input and its pre-activation
    ys = [np.asarray(x, dtype=np.float64)]
    zs = []
    for ell in range(L):
        z = As[ell] @ ys[-1] + bs[ell]
        zs.append(z)
        ys.append(sigmoid(z)[0] if ell < L - 1 else z)
    # backward: dy holds dloss/dy_l, delta holds dloss/dz_l
    dAs: list[np.ndarray] = [np.empty(0)] * L
    dbs: list[np.ndarray] = [np.empty(0)] * L
    dy = ys[-1] - np.asarray(y, dtype=np.float64)
    for ell in reversed(range(L)):
        delta = dy * sigmoid(zs[ell])[1] if ell < L - 1 else dy
        dAs[ell] = delta @ ys[ell].T
        dbs[ell] = delta
        dy = As[ell].T @ delta
    return dAs, dbs
    # END SOLUTION
