"""The backprop reference solutions agree with PyTorch, and so does every number in the README.

Students are graded against solutions/backprop, so each function is checked here against an
independent implementation: torch.sigmoid, torch.autograd and torch.optim (float64).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions" / "backprop"
README = ROOT / "assignments" / "backprop" / "README.md"
RTOL, ATOL = 1e-10, 1e-12  # reference vs torch, both float64


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"backprop_reference_{name}", SOLUTIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bp = _load("backprop")
optim = _load("optim")
autodiff = _load("autodiff")


def close(a: Any, b: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- torch references


def torch_sigmoid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = torch.sigmoid(t)
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def torch_complex_layer(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    f = torch.log(xt) * torch.sigmoid(torch.sqrt(yt)) / torch.sigmoid((xt + yt) ** 2)
    f.sum().backward()
    return f.detach().numpy(), xt.grad.numpy(), yt.grad.numpy()


def torch_mlp(As: list, bs: list, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    At = [torch.tensor(A, dtype=torch.float64, requires_grad=True) for A in As]
    bt = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in bs]
    h = torch.tensor(x, dtype=torch.float64)
    for ell, (A, b) in enumerate(zip(At, bt)):
        h = A @ h + b
        if ell < len(At) - 1:
            h = torch.sigmoid(h)
    (0.5 * ((h - torch.tensor(y, dtype=torch.float64)) ** 2).sum()).backward()
    return [A.grad.numpy() for A in At], [b.grad.numpy() for b in bt]


def torch_adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    """One torch.optim.Adam/AdamW step from an arbitrary state (m, v after step t - 1)."""
    p = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([p], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    if t > 1:
        opt.state[p] = {"step": torch.tensor(float(t - 1)), "exp_avg": torch.tensor(m, dtype=torch.float64),
                        "exp_avg_sq": torch.tensor(v, dtype=torch.float64)}
    p.grad = torch.tensor(g, dtype=torch.float64)
    opt.step()
    state = opt.state[p]
    return p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()


def torch_sgd_step(w, g, velocity, lr=0.01, momentum=0.9):
    p = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum)
    opt.state[p] = {"momentum_buffer": torch.tensor(velocity, dtype=torch.float64)}
    p.grad = torch.tensor(g, dtype=torch.float64)
    opt.step()
    return p.detach().numpy(), opt.state[p]["momentum_buffer"].numpy()


def torch_value(f: Callable, *xs: float) -> tuple[float, list[float]]:
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


# ---------------------------------------------------------------- backprop.py


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4)])
def test_sigmoid_matches_torch(shape):
    x = np.random.default_rng(1).normal(size=shape) * 5
    out, dx = bp.sigmoid(x)
    t_out, t_dx = torch_sigmoid(x)
    close(out, t_out)
    close(dx, t_dx)


def test_sigmoid_is_stable_for_large_inputs():
    x = np.concatenate([[-1000.0, -746.0, -745.0, -710.0, -709.0, -40.0, 0.0, 40.0, 709.0, 710.0, 1000.0],
                        np.random.default_rng(2).uniform(-1000, 1000, size=50)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid value
        out, dx = bp.sigmoid(x)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    t_out, t_dx = torch_sigmoid(x)
    close(out, t_out, atol=1e-15)
    close(dx, t_dx, atol=1e-15)  # torch's s(1 - s) rounds to 0 where the reference keeps e^-|x|


def test_complex_layer_matches_torch():
    rng = np.random.default_rng(3)
    for shape in [(5,), (3, 4), (2, 2, 3)]:
        x, y = rng.uniform(1e-3, 12.0, size=shape), rng.uniform(1e-4, 10.0, size=shape)
        for got, want in zip(bp.complex_layer(x, y), torch_complex_layer(x, y)):
            close(got, want)


@pytest.mark.parametrize("sizes", [[3, 2], [3, 4, 2], [4, 5, 5, 3], [1, 3, 6, 3, 1], [5, 2, 7, 4]])
def test_mlp_backward_matches_torch(sizes):
    rng = np.random.default_rng(len(sizes))
    As = [rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=(o, 1)) for o in sizes[1:]]
    x, y = rng.normal(size=(sizes[0], 1)), rng.normal(size=(sizes[-1], 1))
    dAs, dbs = bp.mlp_backward(As, bs, x, y)
    t_dAs, t_dbs = torch_mlp(As, bs, x, y)
    assert len(dAs) == len(dbs) == len(As)
    for got, want in zip(dAs + dbs, t_dAs + t_dbs):
        close(got, want)


# ---------------------------------------------------------------- optim.py

ADAM_HYPER = [
    {},
    dict(lr=0.05, beta1=0.8, beta2=0.95),
    dict(lr=0.01, beta1=0.95, beta2=0.9, eps=0.1),
    dict(lr=0.02, eps=1e-4),
    dict(lr=0.1, weight_decay=0.3),
    dict(lr=0.2, weight_decay=0.5, decoupled=True),
    dict(lr=0.03, beta1=0.7, beta2=0.9, decoupled=True),
]


@pytest.mark.parametrize("hyper", ADAM_HYPER)
@pytest.mark.parametrize("t", [1, 2, 7])
def test_adam_single_step_from_any_state_matches_torch(hyper, t):
    rng = np.random.default_rng(t)
    w, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)) * 1e-3
    m = np.zeros((3, 4)) if t == 1 else rng.normal(size=(3, 4)) * 1e-3
    v = np.zeros((3, 4)) if t == 1 else rng.uniform(0.2, 1.5, size=(3, 4)) ** 2 * 1e-6
    got = optim.adam_step(w, g, m, v, t, **hyper)
    want = torch_adam_step(w, g, m, v, t, **hyper)
    for a, b in zip(got, want):
        close(a, b)
    close(got[0] - w, want[0] - w, rtol=1e-8)  # the update itself, not only w


@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("hyper", [dict(lr=0.05, betas=(0.85, 0.97), eps=1e-3, weight_decay=0.2),
                                   dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)])
def test_adam_trajectory_matches_torch(decoupled, hyper):
    rng = np.random.default_rng(7)
    a, b, w0 = rng.uniform(0.1, 2.0, size=6), rng.normal(size=6), rng.normal(size=6) * 2
    p = torch.tensor(w0, requires_grad=True)
    opt = (torch.optim.AdamW if decoupled else torch.optim.Adam)([p], **hyper)
    w, m, v = w0, np.zeros(6), np.zeros(6)
    for t in range(1, 101):
        opt.zero_grad()
        (0.5 * torch.tensor(a) * p**2 + torch.tensor(b) * p + 0.3 * torch.cos(p)).sum().backward()
        opt.step()
        w, m, v = optim.adam_step(w, a * w + b - 0.3 * np.sin(w), m, v, t, lr=hyper["lr"], beta1=hyper["betas"][0],
                                  beta2=hyper["betas"][1], eps=hyper["eps"], weight_decay=hyper["weight_decay"],
                                  decoupled=decoupled)
        close(w, p.detach().numpy(), rtol=1e-9)
    close(m, opt.state[p]["exp_avg"].numpy(), rtol=1e-9)
    close(v, opt.state[p]["exp_avg_sq"].numpy(), rtol=1e-9)


@pytest.mark.parametrize("hyper", [{}, dict(lr=0.3, momentum=0.5), dict(lr=0.05, momentum=0.99), dict(momentum=0.0)])
def test_momentum_single_step_matches_torch(hyper):
    rng = np.random.default_rng(11)
    w, g, vel = rng.normal(size=(2, 5)), rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    w_new, vel_new = optim.momentum_step(w, g, vel, **hyper)
    t_w, t_vel = torch_sgd_step(w, g, vel, **hyper)
    close(w_new, t_w)
    # with momentum=0 torch keeps no buffer; the formula's velocity is then the gradient
    close(vel_new, g if hyper.get("momentum") == 0.0 else t_vel)


def test_momentum_trajectory_matches_torch_and_textbook_form():
    rng = np.random.default_rng(12)
    a, b, w0 = rng.uniform(0.1, 2.0, size=6), rng.normal(size=6), rng.normal(size=6) * 2
    lr, mu = 0.1, 0.85
    p = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=mu)
    w, vel, w_tb, u = w0, np.zeros(6), w0.copy(), np.zeros(6)
    for _ in range(100):
        opt.zero_grad()
        (0.5 * torch.tensor(a) * p**2 + torch.tensor(b) * p + 0.3 * torch.cos(p)).sum().backward()
        opt.step()
        w, vel = optim.momentum_step(w, a * w + b - 0.3 * np.sin(w), vel, lr=lr, momentum=mu)
        u = mu * u - lr * (a * w_tb + b - 0.3 * np.sin(w_tb))
        w_tb = w_tb + u
        close(w, p.detach().numpy(), rtol=1e-9)
        close(w, w_tb, rtol=1e-9, atol=1e-12)
    close(vel, opt.state[p]["momentum_buffer"].numpy(), rtol=1e-9)


def test_optimizers_do_not_modify_inputs():
    rng = np.random.default_rng(13)
    arrays = [rng.normal(size=4) for _ in range(3)] + [rng.uniform(size=4)]
    copies = [x.copy() for x in arrays]
    optim.adam_step(*arrays, 3, weight_decay=0.1)
    optim.adam_step(*arrays, 3, weight_decay=0.1, decoupled=True)
    optim.momentum_step(*arrays[:3])
    for x, c in zip(arrays, copies):
        np.testing.assert_array_equal(x, c)


# ---------------------------------------------------------------- autodiff.py


def _seed(x, c):
    d = x**2 / x.log()
    return (d + c) * (d - c)


def _reflected(x, c):
    return (2 - x) * (3 * c) + 1 / x - (1 + c) / 4 + 5 * (0.5 - c) / (2 + x) + (-x)


def _powers(x, c):
    return (x * c).exp() + x**-1.5 - c.log() * x**0.5 + (x - c) ** 2 / c**3 + x**3


def _shared(x, c):
    a = x * c
    b = a.exp() * a
    return (b + a) * (a - x) / (b + 1)


def _long_reuse(x, c):
    t = x
    for _ in range(12):
        t = t * x / c + t
    return t.log() + t / (t + c)


@pytest.mark.parametrize("f", [_seed, _reflected, _powers, _shared, _long_reuse])
@pytest.mark.parametrize(("x0", "c0"), [(3.0, 5.0), (1.7, 0.4), (0.6, 1.9)])
def test_value_matches_torch_autograd(f, x0, c0):
    x, c = autodiff.Value(x0), autodiff.Value(c0)
    out = f(x, c)
    out.backward()
    t_out, (t_dx, t_dc) = torch_value(f, x0, c0)
    close(out.data, t_out)
    close(x.grad, t_dx)
    close(c.grad, t_dc)


def test_value_backward_on_a_long_chain():
    """No recursion limit: 5000 nodes deep."""
    x = autodiff.Value(0.5)
    t = x
    for _ in range(5000):
        t = t * 0.999 + 0.001
    t.backward()
    close(x.grad, 0.999**5000)


# ---------------------------------------------------------------- solutions use numpy only


@pytest.mark.parametrize("name", ["backprop", "optim", "autodiff"])
def test_solutions_import_only_numpy_and_the_standard_library(name):
    tree = ast.parse((SOLUTIONS / f"{name}.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"numpy", "math", "typing", "__future__"}, imported


# ---------------------------------------------------------------- the README's numbers


def _readme_numbers() -> list[tuple[str, float, float]]:
    """(text quoted in the README, the reference's value, torch's value); the text's last number is the value."""
    rows: list[tuple[str, float, float]] = []

    out, dx = bp.sigmoid(np.array([2.0]))
    t_out, t_dx = torch_sigmoid(np.array([2.0]))
    rows += [("out = 0.8807971", out[0], t_out[0]), ("dx = 0.1049936", dx[0], t_dx[0])]

    got = bp.complex_layer(np.array([2.0]), np.array([1.0]))
    want = torch_complex_layer(np.array([2.0]), np.array([1.0]))
    for label, g, w in zip(("out = 0.5067937", "fx = 0.3651992", "fy = 0.0677737"), got, want):
        rows.append((label, g[0], w[0]))

    As, bs, x, y = [np.array([[0.5]]), np.array([[2.0]])], [np.zeros((1, 1))] * 2, np.ones((1, 1)), np.ones((1, 1))
    dAs, dbs = bp.mlp_backward(As, bs, x, y)
    t_dAs, t_dbs = torch_mlp(As, bs, x, y)
    rows += [("∂loss/∂A_1 = 0.1151136", dAs[0].item(), t_dAs[0].item()),
             ("∂loss/∂b_1 = 0.1151136", dbs[0].item(), t_dbs[0].item()),
             ("∂loss/∂A_2 = 0.1524519", dAs[1].item(), t_dAs[1].item()),
             ("∂loss/∂b_2 = 0.2449187", dbs[1].item(), t_dbs[1].item())]

    def two_adam_steps(fn: Callable, **kw: Any) -> list:
        w1, m1, v1 = fn(np.array([1.0]), np.array([0.5]), np.zeros(1), np.zeros(1), 1, lr=0.1, **kw)
        w2, m2, v2 = fn(w1, np.array([-1.0]), m1, v1, 2, lr=0.1, **kw)
        return [float(np.asarray(a)[0]) for a in (w1, m1, v1, w2, m2, v2)]

    ref, tch = two_adam_steps(optim.adam_step), two_adam_steps(torch_adam_step)
    labels = ("gives w = 0.900000", "m = 0.05,", "v = 0.00025", "w = 0.936610", "m = -0.055", "v = 0.00124975")
    rows += list(zip(labels, ref, tch))
    ref, tch = two_adam_steps(optim.adam_step, weight_decay=0.1), two_adam_steps(torch_adam_step, weight_decay=0.1)
    rows += [("give w = 0.900000", ref[0], tch[0]), ("then 0.925264", ref[3], tch[3])]
    ref = two_adam_steps(optim.adam_step, weight_decay=0.1, decoupled=True)
    tch = two_adam_steps(torch_adam_step, weight_decay=0.1, decoupled=True)
    rows += [("w = 0.890000", ref[0], tch[0]), ("then 0.917710", ref[3], tch[3])]

    w1, v1 = optim.momentum_step(np.array([1.0]), np.array([0.5]), np.zeros(1), lr=0.1, momentum=0.9)
    tw1, tv1 = torch_sgd_step(np.array([1.0]), np.array([0.5]), np.zeros(1), lr=0.1, momentum=0.9)
    w2, v2 = optim.momentum_step(w1, np.array([-1.0]), v1, lr=0.1, momentum=0.9)
    tw2, tv2 = torch_sgd_step(tw1, np.array([-1.0]), tv1, lr=0.1, momentum=0.9)
    rows += [("w = 0.95", w1[0], tw1[0]), ("velocity = 0.5", v1[0], tv1[0]),
             ("w = 1.005", w2[0], tw2[0]), ("velocity = -0.55", v2[0], tv2[0])]

    x, c = autodiff.Value(3.0), autodiff.Value(5.0)
    out = _seed(x, c)
    out.backward()
    t_out, (t_dx, t_dc) = torch_value(_seed, 3.0, 5.0)
    rows += [("out.data = 42.1113714", out.data, t_out), ("x.grad = 48.7568934", x.grad, t_dx),
             ("c.grad = -10.0000000", c.grad, t_dc)]
    return rows


def test_every_number_in_the_readme_comes_from_the_reference_and_matches_torch():
    text = " ".join(README.read_text(encoding="utf-8").split())  # line breaks do not matter
    for quoted, ref, tch in _readme_numbers():
        assert quoted in text, f"the README no longer quotes {quoted!r}"
        number = re.findall(r"-?\d+(?:\.\d+)?", quoted)[-1]  # by convention the last number is the value
        decimals = len(number.partition(".")[2])
        half_ulp = 0.5 * 10.0**-decimals + 1e-12
        assert abs(float(number) - ref) <= half_ulp, f"{quoted!r}: the reference computes {ref!r}"
        assert abs(float(number) - tch) <= half_ulp, f"{quoted!r}: torch computes {tch!r}"
