"""Homework 1: a sigmoid with its derivative, one bias-corrected Adam step, a conv output size.

The three-function homework existing autograders (nbgrader, Otter) were timed on; see README.md.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The logistic function 1 / (1 + exp(-x)), elementwise, and its derivative.

    Args:
        x: an array of any shape.

    Returns:
        (out, dx): out = sigmoid(x) and dx = d sigmoid(x) / dx = out * (1 - out), both of x's shape.
    """
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))  # never overflows
    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    dx = out * (1.0 - out)
    return out, dx
    # END SOLUTION


def adam_step(
    w: np.ndarray,
    grad: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    t: int,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One bias-corrected Adam step, as torch.optim.Adam takes it.

    Args:
        w: parameters, any shape; grad: dloss/dw, w's shape.
        m, v: first and second moments after step t - 1 (zeros before the first step).
        t: the number of this step, counted from 1.
        lr, beta1, beta2, eps: as in torch.optim.Adam.

    Returns:
        (w_new, m_new, v_new), each of w's shape, where
        m_new = beta1 m + (1 - beta1) grad, v_new = beta2 v + (1 - beta2) grad**2,
        w_new = w - lr * m_hat / (sqrt(v_hat) + eps), m_hat = m_new / (1 - beta1**t),
        v_hat = v_new / (1 - beta2**t). Inputs are not modified.
    """
    # BEGIN SOLUTION
    g = np.asarray(grad, dtype=np.float64)
    m_new = beta1 * np.asarray(m, dtype=np.float64) + (1.0 - beta1) * g
    v_new = beta2 * np.asarray(v, dtype=np.float64) + (1.0 - beta2) * g * g
    m_hat = m_new / (1.0 - beta1**t)
    v_hat = v_new / (1.0 - beta2**t)
    w_new = np.asarray(w, dtype=np.float64) - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w_new, m_new, v_new
    # END SOLUTION


def conv_output_size(W: int, F: int, S: int = 1, P: int = 0) -> int:
    """Output width (W - F + 2P) / S + 1 of a convolution along one dimension.

    Args:
        W: input width; F: filter width; S: stride; P: zero padding on each side.

    Returns:
        The output width, an int.

    Raises:
        ValueError: when (W - F + 2P) / S is not a whole number (the strides do not tile the input).
    """
    # BEGIN SOLUTION
    span = W - F + 2 * P
    if span % S != 0:
        raise ValueError(f"stride {S} does not tile W - F + 2P = {span} exactly")
    return int(span // S + 1)
    # END SOLUTION
