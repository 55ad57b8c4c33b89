"""Public tests for optim.py: Adam/AdamW and momentum against torch.optim over several steps."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

from gradekit import checks

A = np.array([1.0, 0.5, 2.0, 0.1])
B = np.array([-0.5, 0.3, 0.0, 1.0])
# Each hint belongs to the check it sits on: a state check (m, v) says what the state is; an update
# check (w) runs only after m and v of the same step passed, so it can blame the update itself.
BIAS_HINT = ("m and v are right, so the update is wrong: did you apply the bias corrections 1 - beta1**t and "
             "1 - beta2**t, with t counted from 1, and put eps outside the square root?")
M_HINT = ("m_new = beta1 * m + (1 - beta1) * g, returned before the bias correction: it is the state the next "
          "step starts from")
V_HINT = ("v_new = beta2 * v + (1 - beta2) * g**2, returned before the bias correction: it is the state the next "
          "step starts from")


def loss_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of sum(0.5 * A w^2 + B w + 0.3 cos w), a loss whose gradient depends on w."""
    return A * w + B - 0.3 * np.sin(w)


def torch_run(make_opt: Callable[[list], Any], w0: np.ndarray, steps: int) -> tuple[np.ndarray, list[dict]]:
    """w after each step of a torch optimizer on the same loss (float64), and its state after each step."""
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([w])
    At, Bt = torch.tensor(A), torch.tensor(B)
    out, states = [], []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * At * w**2 + Bt * w + 0.3 * torch.cos(w)).sum().backward()
        opt.step()
        out.append(w.detach().numpy().copy())
        states.append({k: v.numpy().copy() for k, v in opt.state[w].items() if k != "step"})
    return np.array(out), states


def student_adam_run(student, w0: np.ndarray, expected: np.ndarray, states: list[dict], label: str,
                     **hyper: Any) -> tuple:
    """Run the student's adam_step on the loss, checking m, v, then w after every step; returns the final (m, v)."""
    step = student.optim.adam_step  # looked up once: each use of a handle is a round trip in the grader
    w, m, v = w0, np.zeros_like(w0), np.zeros_like(w0)
    for t in range(1, len(expected) + 1):
        w, m, v = checks.unpack(step(w, loss_grad(w), m, v, t, **hyper), 3,
                                name="adam_step returns (w_new, m_new, v_new)")
        checks.check_array(m, states[t - 1]["exp_avg"], name=f"{label}: m after step {t} (torch's exp_avg)", hint=M_HINT)
        checks.check_array(v, states[t - 1]["exp_avg_sq"], name=f"{label}: v after step {t} (torch's exp_avg_sq)",
                           hint=V_HINT)
        w = checks.check_array(w, expected[t - 1], name=f"{label}: w after step {t}", hint=BIAS_HINT)
    return m, v


@pytest.mark.question("adam_step")
def test_adam_first_step(student):
    w, g = np.array([1.0, -2.0, 0.5]), np.array([0.5, -1.0, 0.01])
    zeros = np.zeros(3)
    w1, m1, v1 = checks.unpack(student.optim.adam_step(w, g, zeros, zeros, 1, lr=0.1), 3,
                               name="adam_step returns (w_new, m_new, v_new)")
    wt = torch.tensor(w, requires_grad=True)
    opt = torch.optim.Adam([wt], lr=0.1)
    wt.grad = torch.tensor(g)
    opt.step()
    state = opt.state[wt]
    checks.check_array(m1, state["exp_avg"].numpy(), name="m after step 1", hint=M_HINT)
    checks.check_array(v1, state["exp_avg_sq"].numpy(), name="v after step 1", hint=V_HINT)
    checks.check_array(w1, wt.detach().numpy(), name="w after step 1",
                       hint="with the bias corrections at t = 1 the first step is about lr * sign(g)")


@pytest.mark.question("adam_step", weight=2)
def test_adam_ten_steps(student):
    w0 = np.array([1.0, -1.0, 0.5, 2.0])
    expected, states = torch_run(lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99)), w0, 10)
    student_adam_run(student, w0, expected, states, "Adam(lr=0.05, betas=(0.8, 0.99)) vs torch.optim.Adam",
                     lr=0.05, beta1=0.8, beta2=0.99)


@pytest.mark.question("adam_step", weight=2)
@pytest.mark.parametrize("decoupled", [False, True], ids=["adam-l2", "adamw"])
def test_adam_weight_decay(student, decoupled):
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    w0 = np.array([1.0, -1.0, 0.5, 2.0])
    expected, _ = torch_run(lambda p: cls(p, lr=0.05, weight_decay=0.1), w0, 10)
    label = f"decoupled={decoupled} vs torch.optim.{cls.__name__}(lr=0.05, weight_decay=0.1)"
    step = student.optim.adam_step
    w, m, v = w0, np.zeros(4), np.zeros(4)
    for t in range(1, 11):
        w, m, v = checks.unpack(step(w, loss_grad(w), m, v, t, lr=0.05, weight_decay=0.1,
                                                        decoupled=decoupled), 3, name="adam_step returns (w_new, m_new, v_new)")
        w = checks.check_array(w, expected[t - 1], name=f"{label}: w after step {t}",
                               hint="Adam: g = grad + wd * w before the moments; AdamW: w = w * (1 - lr * wd), then Adam with the plain grad")


@pytest.mark.question("adam_step")
def test_adam_does_not_modify_inputs(student):
    w, g, m, v = np.array([1.0, 2.0]), np.array([0.3, -0.2]), np.array([0.1, 0.0]), np.array([0.01, 0.02])
    _, args, _ = student.optim.adam_step.call_capturing_args(w, g, m, v, 2, weight_decay=0.1, decoupled=True)
    for name, before, after in zip(("w", "grad", "m", "v"), (w, g, m, v), args):
        checks.check_array(after, before, name=f"adam_step leaves its argument {name} unchanged", rtol=0, atol=0,
                           hint="compute new arrays (m_new = beta1 * m + ...) instead of updating in place (m *= ...)")


@pytest.mark.question("momentum", weight=2)
def test_momentum_matches_torch_sgd(student):
    w0 = np.array([1.0, -1.0, 0.5, 2.0])
    expected, states = torch_run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), w0, 15)
    step = student.optim.momentum_step
    w, vel = w0, np.zeros(4)
    for k in range(15):
        w, vel = checks.unpack(step(w, loss_grad(w), vel, lr=0.1, momentum=0.9), 2,
                               name="momentum_step returns (w_new, velocity_new)")
        w = checks.check_array(w, expected[k], name=f"SGD(lr=0.1, momentum=0.9): w after step {k + 1}",
                               hint="velocity = momentum * velocity + grad; then w = w - lr * velocity (the new one)")
    checks.check_array(vel, states[-1]["momentum_buffer"], name="velocity after 15 steps (torch's momentum_buffer)")


@pytest.mark.question("momentum")
def test_momentum_equals_textbook_form(student):
    """The torch form and the textbook form u = mu * u - lr * g, w = w + u give the same iterates."""
    w0 = np.array([0.5, -1.5, 1.0, 0.0])
    w_tb, u = w0.copy(), np.zeros(4)
    w, vel = w0, np.zeros(4)
    step = student.optim.momentum_step
    for k in range(10):
        u = 0.8 * u - 0.05 * loss_grad(w_tb)
        w_tb = w_tb + u
        w, vel = checks.unpack(step(w, loss_grad(w), vel, lr=0.05, momentum=0.8), 2,
                               name="momentum_step returns (w_new, velocity_new)")
        w = checks.check_array(w, w_tb, name=f"w after step {k + 1} vs the textbook form u = 0.8 u - 0.05 g; w = w + u")
    checks.check_array(vel, -u / 0.05, name="velocity after 10 steps (= -u / lr)",
                       hint="return velocity in torch's form: momentum * velocity + grad (no lr inside)")
