"""Hidden tests for autodiff.py: expressions on per-student inputs against torch.autograd.

Every expression is written once and run on the student's `Value`s and on torch tensors.
"""

from __future__ import annotations

from typing import Callable

import pytest
import torch

from gradekit import checks

ACCUMULATE_HINT = "a node used several times must receive the sum (+=) of the gradients of all its uses"
TOPO_HINT = ("call each node's _backward once, in reverse topological order, after the node has received "
             "its whole gradient; " + ACCUMULATE_HINT)


def seed_expression(x, c):
    d = x**2 / x.log()
    return (d + c) * (d - c)


def reflected(x, c):
    return (2 - x) * (3 * c) + 1 / x - (1 + c) / 4 + 5 * (0.5 - c) / (2 + x)


def powers_and_exp(x, c):
    return (x * c).exp() + x**-1.5 - c.log() * x**0.5 + (x - c) ** 2 / c**3


def shared_subexpression(x, c):
    """a feeds b, and both a and b feed the output: order matters."""
    a = x * c
    b = a.exp() * a
    return (b + a) * (a - x) / (b + 1)


def long_reuse(x, c):
    """t_{k+1} = t_k * x / c + t_k: every node is used twice, seven deep."""
    t = x
    for _ in range(7):
        t = t * x / c + t
    return t.log() + t / (t + c)


EXPRESSIONS: dict[str, tuple[Callable, str]] = {
    "seed": (seed_expression, "((x**2/log x) + c)((x**2/log x) - c)"),
    "reflected": (reflected, "reflected operators (number + - * / Value)"),
    "powers-exp-log": (powers_and_exp, "negative and fractional powers, exp and log"),
    "shared": (shared_subexpression, "a subexpression used by a later node and by the output"),
    "long-reuse": (long_reuse, "a deep chain in which every node is used twice"),
}
INPUTS = {
    "seed": ((1.5, 6.0), (-6.0, 6.0)),
    "reflected": ((0.3, 3.0), (-2.0, 2.0)),
    "powers-exp-log": ((0.3, 2.0), (0.5, 2.0)),
    "shared": ((-1.0, 1.0), (-1.0, 1.0)),
    "long-reuse": ((0.5, 1.5), (2.0, 4.0)),
}


def torch_result(f: Callable, x: float, c: float) -> tuple[float, float, float]:
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ct = torch.tensor(c, dtype=torch.float64, requires_grad=True)
    out = f(xt, ct)
    out.backward()
    return out.item(), xt.grad.item(), ct.grad.item()


@pytest.mark.question("autodiff", weight=5)
@pytest.mark.parametrize("case", list(EXPRESSIONS))
def test_expression_vs_torch(student, rng, case):
    f, text = EXPRESSIONS[case]
    (x_lo, x_hi), (c_lo, c_hi) = INPUTS[case]
    x0, c0 = float(rng.uniform(x_lo, x_hi)), float(rng.uniform(c_lo, c_hi))
    V = student.autodiff.Value
    x, c = V(x0), V(c0)
    out = f(x, c)
    out.backward()
    exp_out, exp_dx, exp_dc = torch_result(f, x0, c0)
    hint = TOPO_HINT if case in ("seed", "shared", "long-reuse") else (
        "check the reflected operators (2 - x is x.__rsub__(2)) and the local gradients of **, exp and log")
    checks.check_close(out.data, exp_out, name=f"{text}: out.data",
                       hint="forward values: check each operator, including the reflected ones")
    checks.check_close(x.grad, exp_dx, name=f"{text}: x.grad vs torch.autograd", hint=hint)
    checks.check_close(c.grad, exp_dc, name=f"{text}: c.grad vs torch.autograd", hint=hint)


@pytest.mark.question("autodiff")
def test_constants_and_intermediates(student, rng):
    """Gradients also reach intermediate nodes and Values that only enter through a constant factor."""
    x0, y0 = float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.5, 2.0))
    V = student.autodiff.Value
    x, y = V(x0), V(y0)
    d = x / y
    out = (d * 3 - 2) * d + y.exp() / 2
    out.backward()
    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y0, dtype=torch.float64, requires_grad=True)
    dt = xt / yt
    dt.retain_grad()
    ot = (dt * 3 - 2) * dt + yt.exp() / 2
    ot.backward()
    checks.check_close(out.data, ot.item(), name="(3 d - 2) d + exp(y)/2 with d = x / y: out.data")
    checks.check_close(d.grad, dt.grad.item(), name="gradient at the intermediate node d = x / y", hint=ACCUMULATE_HINT)
    checks.check_close(x.grad, xt.grad.item(), name="x.grad through d = x / y", hint="d (x / y) / dx = 1 / y")
    checks.check_close(y.grad, yt.grad.item(), name="y.grad through d = x / y and exp(y)",
                       hint="d (x / y) / dy = -x / y**2; " + ACCUMULATE_HINT)
