"""One step of two optimizers, written so that many steps reproduce torch.optim exactly.

Each function takes the parameters, their gradient and the optimizer's state as numpy arrays and
returns the new parameters and the new state. Inputs must not be modified (return new arrays).
"""

from __future__ import annotations

import numpy as np


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
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One bias-corrected Adam step (torch.optim.Adam, or torch.optim.AdamW when `decoupled`).

    Args:
        w: parameters, any shape.
        grad: dloss/dw at w, w's shape.
        m, v: first and second moment estimates after step t-1 (zeros before the first step).
        t: the number of this step, counted from 1 (t = 1 for the first step).
        lr, beta1, beta2, eps: as in torch.optim.Adam.
        weight_decay: decay coefficient lambda (0 = none).
        decoupled: False: L2 decay as torch.optim.Adam: the gradient becomes grad + lambda * w.
            True: decoupled decay as torch.optim.AdamW: w is first scaled by (1 - lr * lambda),
            then the Adam update uses the plain gradient.

    The update (g = the gradient after L2 decay, if any):
        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * g**2
        m_hat = m_new / (1 - beta1**t),   v_hat = v_new / (1 - beta2**t)
        w_new = w - lr * m_hat / (sqrt(v_hat) + eps)

    Returns:
        (w_new, m_new, v_new), each of w's shape; m_new and v_new are the moments before bias
        correction (the state to pass to the next step).
    """
    # BEGIN SOLUTION
    w = np.asarray(w, dtype=np.float64)
    g = np.asarray(grad, dtype=np.float64)
    if weight_decay and decoupled:
        w = w * (1.0 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * w
    m_new = beta1 * np.asarray(m, dtype=np.float64) + (1.0 - beta1) * g
    v_new = beta2 * np.asarray(v, dtype=np.float64) + (1.0 - beta2) * g * g
    m_hat = m_new / (1.0 - beta1**t)
    v_hat = v_new / (1.0 - beta2**t)
    w_new = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w_new, m_new, v_new
    # END SOLUTION


def momentum_step(
    w: np.ndarray,
    grad: np.ndarray,
    velocity: np.ndarray,
    lr: float = 0.01,
    momentum: float = 0.9,
) -> tuple[np.ndarray, np.ndarray]:
    """One step of heavy-ball momentum in torch.optim.SGD's form (no dampening, no Nesterov).

        velocity_new = momentum * velocity + grad
        w_new = w - lr * velocity_new

    Start from velocity = 0. With a constant lr this gives the same iterates as the textbook form
    u_new = momentum * u - lr * grad, w_new = w + u_new (there u = -lr * velocity), but the state
    you return must be `velocity` as defined here.

    Returns:
        (w_new, velocity_new), each of w's shape.
    """
    # BEGIN SOLUTION
    velocity_new = momentum * np.asarray(velocity, dtype=np.float64) + np.asarray(grad, dtype=np.float64)
    w_new = np.asarray(w, dtype=np.float64) - lr * velocity_new
    return w_new, velocity_new
    # END SOLUTION
