"""Hidden tests for optim.py: every hyperparameter varied, arbitrary optimizer states, both decay
modes, long trajectories against torch.optim, and inputs left unmodified.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

from gradekit import checks

# A hint belongs to its check: w is checked only after m and v of the same step passed.
BIAS_HINT = ("m and v are right, so the update is wrong: did you apply the bias corrections 1 - beta1**t and "
             "1 - beta2**t, with t counted from 1?")
STATE_HINT = "returned before the bias correction: it is the state the next step starts from"

# (hyperparameters, t, gradient scale): each case varies something a plausible bug gets wrong
ADAM_CASES = {
    "defaults-first-step": ({}, 1, 1.0),
    "defaults-later-step": ({}, 7, 1.0),
    "other-lr-and-betas": (dict(lr=0.05, beta1=0.8, beta2=0.95), 3, 1.0),
    "large-eps-small-grad": (dict(lr=0.01, beta1=0.95, beta2=0.9, eps=0.1), 10, 1e-2),
    "eps-vs-tiny-grad": (dict(lr=0.02, eps=1e-4), 2, 1e-5),
    "l2-decay": (dict(lr=0.1, weight_decay=0.3), 4, 1.0),
    "decoupled-decay": (dict(lr=0.2, weight_decay=0.5, decoupled=True), 5, 1.0),
    "decoupled-flag-without-decay": (dict(lr=0.03, beta1=0.7, beta2=0.9, weight_decay=0.0, decoupled=True), 2, 1.0),
}

MOMENTUM_CASES = {
    "defaults": {},
    "large-lr-weak-momentum": dict(lr=0.3, momentum=0.5),
    "heavy-momentum": dict(lr=0.05, momentum=0.99),
    "zero-momentum": dict(lr=0.1, momentum=0.0),
}


def adam_state(rng: np.random.Generator, t: int, scale: float, shape: tuple) -> tuple[np.ndarray, ...]:
    """Parameters, a gradient and a plausible state after t - 1 steps (zeros when t = 1)."""
    w = rng.normal(size=shape) * 2
    g = rng.normal(size=shape) * scale
    if t == 1:
        return w, g, np.zeros(shape), np.zeros(shape)
    m = rng.normal(size=shape) * 0.3 * scale
    v = (rng.uniform(0.2, 1.5, size=shape) * scale) ** 2
    return w, g, m, v


class Quadratic:
    """A per-student loss sum(0.5 a w^2 + b w + 0.3 cos w), in numpy and in torch."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.a = rng.uniform(0.1, 2.0, size=n)
        self.b = rng.normal(size=n)

    def grad(self, w: np.ndarray) -> np.ndarray:
        return self.a * w + self.b - 0.3 * np.sin(w)

    def torch_run(self, make_opt: Callable[[list], Any], w0: np.ndarray, steps: int) -> tuple[np.ndarray, list[dict]]:
        """w and the optimizer's state after each step."""
        w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
        opt = make_opt([w])
        a, b = torch.tensor(self.a), torch.tensor(self.b)
        out, states = [], []
        for _ in range(steps):
            opt.zero_grad()
            (0.5 * a * w**2 + b * w + 0.3 * torch.cos(w)).sum().backward()
            opt.step()
            out.append(w.detach().numpy().copy())
            states.append({k: v.numpy().copy() for k, v in opt.state[w].items() if k != "step"})
        return np.array(out), states


# ---------------------------------------------------------------- adam_step


@pytest.mark.question("adam_step", weight=3)
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_single_step(student, reference, rng, case):
    hyper, t, scale = ADAM_CASES[case]
    w, g, m, v = adam_state(rng, t, scale, (3, 4))
    got = checks.unpack(student.optim.adam_step(w, g, m, v, t, **hyper), 3, name="adam_step returns (w_new, m_new, v_new)")
    ref = reference.optim.adam_step(w, g, m, v, t, **hyper)
    w_new, m_new, v_new = got
    what = f"adam_step ({case})"
    checks.check_array(m_new, ref[1], name=f"{what}: m_new", hint="m = beta1 * m + (1 - beta1) * g, g including L2 decay, " + STATE_HINT)
    checks.check_array(v_new, ref[2], name=f"{what}: v_new", hint="v = beta2 * v + (1 - beta2) * g**2, g including L2 decay, " + STATE_HINT)
    w_new = checks.check_array(w_new, ref[0], name=f"{what}: w_new", hint=BIAS_HINT)
    checks.check_array(w_new - w, np.asarray(ref[0]) - w, name=f"{what}: the update w_new - w",
                       hint="w_new = w - lr * m_hat / (sqrt(v_hat) + eps): eps outside the square root; "
                            "AdamW: w * (1 - lr * weight_decay) first")


@pytest.mark.question("adam_step", weight=2)
@pytest.mark.parametrize("decoupled", [False, True], ids=["adam-l2", "adamw"])
def test_adam_trajectory_vs_torch(student, rng, decoupled):
    """25 steps on a per-student loss with non-default lr, betas, eps and weight decay."""
    loss = Quadratic(rng, 5)
    w0 = rng.normal(size=5) * 2
    lr, betas, eps, wd = float(rng.uniform(0.02, 0.1)), (0.85, 0.97), 1e-3, float(rng.uniform(0.05, 0.3))
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    expected, states = loss.torch_run(lambda p: cls(p, lr=lr, betas=betas, eps=eps, weight_decay=wd), w0, 25)
    label = f"25 steps vs torch.optim.{cls.__name__} with weight decay"
    step = student.optim.adam_step  # looked up once: each use of a handle is a round trip in the grader
    w, m, v = w0, np.zeros(5), np.zeros(5)
    for t in range(1, 26):
        w, m, v = checks.unpack(
            step(w, loss.grad(w), m, v, t, lr=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                 weight_decay=wd, decoupled=decoupled),
            3, name="adam_step returns (w_new, m_new, v_new)")
        checks.check_array(m, states[t - 1]["exp_avg"], name=f"{label}: m after step {t} (torch's exp_avg)",
                           hint="Adam: g = grad + wd * w enters m; AdamW: the plain grad. m is " + STATE_HINT)
        checks.check_array(v, states[t - 1]["exp_avg_sq"], name=f"{label}: v after step {t} (torch's exp_avg_sq)",
                           hint="v is " + STATE_HINT)
        w = checks.check_array(w, expected[t - 1], name=f"{label}: w after step {t}",
                               hint="AdamW: w * (1 - lr * wd) before the update. " + BIAS_HINT)


@pytest.mark.question("adam_step")
@pytest.mark.parametrize("decoupled", [False, True], ids=["adam-l2", "adamw"])
def test_adam_does_not_modify_inputs(student, rng, decoupled):
    w, g, m, v = adam_state(rng, 3, 1.0, (2, 3))
    originals = [a.copy() for a in (w, g, m, v)]
    _, args, _ = student.optim.adam_step.call_capturing_args(w, g, m, v, 3, lr=0.1, weight_decay=0.2, decoupled=decoupled)
    for name, before, after in zip(("w", "grad", "m", "v"), originals, args):
        checks.check_array(after, before, name=f"adam_step leaves its argument {name} unchanged", rtol=0, atol=0,
                           hint="compute new arrays instead of updating in place (m *= ..., w -= ...)")


# ---------------------------------------------------------------- momentum


@pytest.mark.question("momentum")
@pytest.mark.parametrize("case", list(MOMENTUM_CASES))
def test_momentum_single_step(student, reference, rng, case):
    hyper = MOMENTUM_CASES[case]
    w, g, vel = rng.normal(size=(2, 5)), rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    w_new, vel_new = checks.unpack(student.optim.momentum_step(w, g, vel, **hyper), 2,
                                   name="momentum_step returns (w_new, velocity_new)")
    ref_w, ref_vel = reference.optim.momentum_step(w, g, vel, **hyper)
    what = f"momentum_step ({case})"
    checks.check_array(vel_new, ref_vel, name=f"{what}: velocity_new from a non-zero velocity",
                       hint="velocity_new = momentum * velocity + grad (torch's form, no lr, no dampening)")
    checks.check_array(w_new, ref_w, name=f"{what}: w_new", hint="w_new = w - lr * velocity_new")


@pytest.mark.question("momentum", weight=1.5)
def test_momentum_trajectory_vs_torch(student, rng):
    """30 steps: torch.optim.SGD(momentum) and the textbook form u = mu u - lr g; w += u agree with you."""
    loss = Quadratic(rng, 6)
    w0 = rng.normal(size=6) * 2
    lr, mu = float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.6, 0.9))
    expected, states = loss.torch_run(lambda p: torch.optim.SGD(p, lr=lr, momentum=mu), w0, 30)
    w_tb, u = w0.copy(), np.zeros(6)
    textbook = []
    for _ in range(30):
        u = mu * u - lr * loss.grad(w_tb)
        w_tb = w_tb + u
        textbook.append(w_tb)
    step = student.optim.momentum_step
    w, vel = w0, np.zeros(6)
    for k in range(30):
        w, vel = checks.unpack(step(w, loss.grad(w), vel, lr=lr, momentum=mu), 2,
                               name="momentum_step returns (w_new, velocity_new)")
        w = checks.check_array(w, expected[k], name=f"30 steps vs torch.optim.SGD(momentum): w after step {k + 1}",
                               hint="velocity = momentum * velocity + grad; w = w - lr * velocity")
        checks.check_array(w, textbook[k], name=f"30 steps vs the textbook form: w after step {k + 1}")
    checks.check_array(vel, states[-1]["momentum_buffer"], name="velocity after 30 steps (torch's momentum_buffer)")


@pytest.mark.question("momentum", weight=0.5)
def test_momentum_does_not_modify_inputs(student, rng):
    w, g, vel = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)
    originals = [a.copy() for a in (w, g, vel)]
    _, args, _ = student.optim.momentum_step.call_capturing_args(w, g, vel, lr=0.1, momentum=0.9)
    for name, before, after in zip(("w", "grad", "velocity"), originals, args):
        checks.check_array(after, before, name=f"momentum_step leaves its argument {name} unchanged", rtol=0, atol=0,
                           hint="compute new arrays instead of updating in place (velocity *= ...)")
