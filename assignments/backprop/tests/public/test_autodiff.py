"""Public tests for autodiff.py: the Value class against torch.autograd."""

from __future__ import annotations

import pytest
import torch

from gradekit import checks


def torch_grads(f, x: float, c: float) -> tuple[float, float, float]:
    """f(x, c), df/dx and df/dc by torch.autograd (float64)."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ct = torch.tensor(c, dtype=torch.float64, requires_grad=True)
    out = f(xt, ct)
    out.backward()
    return out.item(), xt.grad.item(), ct.grad.item()


def seed_expression(x, c):
    """((x^2 / ln x) + c) ((x^2 / ln x) - c): d is used twice."""
    d = x**2 / x.log()
    return (d + c) * (d - c)


@pytest.mark.question("autodiff", weight=2)
def test_seed_expression(student):
    V = student.autodiff.Value
    x, c = V(3.0), V(5.0)
    out = seed_expression(x, c)
    out.backward()
    exp_out, exp_dx, exp_dc = torch_grads(seed_expression, 3.0, 5.0)
    checks.check_close(out.data, exp_out, name="out.data for x = 3, c = 5")
    checks.check_close(x.grad, exp_dx, name="x.grad for x = 3, c = 5",
                       hint="d = x**2 / x.log() is used twice and x twice inside d: gradients must add up (+=)")
    checks.check_close(c.grad, exp_dc, name="c.grad for x = 3, c = 5", hint="c enters with + and with -")


@pytest.mark.question("autodiff")
def test_reflected_operators(student):
    V = student.autodiff.Value

    def f(x, c):
        return (2 - x) * (3 * c) + 1 / x + (1 + c) / 4

    x, c = V(1.5), V(-0.5)
    out = f(x, c)
    out.backward()
    exp_out, exp_dx, exp_dc = torch_grads(f, 1.5, -0.5)
    checks.check_close(out.data, exp_out, name="(2 - x) * (3 * c) + 1 / x + (1 + c) / 4: out.data",
                       hint="2 - x calls x.__rsub__(2), 3 * c calls c.__rmul__(3), 1 / x calls x.__rtruediv__(1)")
    checks.check_close(x.grad, exp_dx, name="... x.grad")
    checks.check_close(c.grad, exp_dc, name="... c.grad")


@pytest.mark.question("autodiff")
def test_exp_pow_log(student):
    V = student.autodiff.Value

    def f(x, c):
        return (x * c).exp() + x**-1.5 - c.log() * x**0.5

    x, c = V(0.7), V(1.3)
    out = f(x, c)
    out.backward()
    exp_out, exp_dx, exp_dc = torch_grads(f, 0.7, 1.3)
    checks.check_close(out.data, exp_out, name="(x c).exp() + x**-1.5 - c.log() x**0.5: out.data")
    checks.check_close(x.grad, exp_dx, name="... x.grad", hint="d x**n / dx = n x**(n-1) for any real n")
    checks.check_close(c.grad, exp_dc, name="... c.grad")
