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
    raise NotImplementedError("sigmoid: not implemented yet")


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
    raise NotImplementedError("adam_step: not implemented yet")


def conv_output_size(W: int, F: int, S: int = 1, P: int = 0) -> int:
    """Output width (W - F + 2P) / S + 1 of a convolution along one dimension.

    Args:
        W: input width; F: filter width; S: stride; P: zero padding on each side.

    Returns:
        The output width, an int.

    Raises:
        ValueError: when (W - F + 2P) / S is not a whole number (the strides do not tile the input).
    """
    raise NotImplementedError("conv_output_size: not implemented yet")
