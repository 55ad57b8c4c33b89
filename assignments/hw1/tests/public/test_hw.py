"""Public tests for hw.py: the homework's six tests (seven points), expected values from PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradekit import checks

SIGMOID_PAIR = "sigmoid returns (out, dx)"
ADAM_TRIPLE = "adam_step returns (w, m, v)"


@pytest.mark.question("sigmoid")
def test_sigmoid_forward(student):
    x = np.random.RandomState(0).randn(4, 5)
    out, _ = checks.unpack(student.hw.sigmoid(x), 2, name=SIGMOID_PAIR)
    checks.check_array(out, torch.sigmoid(torch.from_numpy(x)).numpy(), name="sigmoid(x) vs torch.sigmoid")


@pytest.mark.question("sigmoid")
def test_sigmoid_grad(student):
    x = np.random.RandomState(1).randn(3, 7)
    _, dx = checks.unpack(student.hw.sigmoid(x), 2, name=SIGMOID_PAIR)
    xt = torch.from_numpy(x).requires_grad_(True)
    torch.sigmoid(xt).sum().backward()
    checks.check_array(dx, xt.grad.numpy(), name="d sigmoid / dx vs autograd", hint="sigmoid'(x) = out * (1 - out)")


@pytest.mark.question("adam_step", weight=2)
def test_adam_matches_torch(student):
    rs = np.random.RandomState(2)
    w0 = rs.randn(3, 4)
    grads = [rs.randn(3, 4) for _ in range(5)]
    p = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt = torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    step = student.hw.adam_step  # looked up once: each use of a handle is a round trip in the grader
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, start=1):
        opt.zero_grad()
        p.grad = torch.from_numpy(g.copy())
        opt.step()
        w, m, v = checks.unpack(step(w, g, m, v, t, lr=1e-2), 3, name=ADAM_TRIPLE)
    checks.check_array(w, p.detach().numpy(), name="w after 5 steps vs torch.optim.Adam",
                       hint="bias corrections 1 - beta1**t and 1 - beta2**t, t counted from 1")


@pytest.mark.question("adam_step")
def test_adam_moments(student):
    g = np.random.RandomState(3).randn(5)
    z = np.zeros(5)
    _, m, v = checks.unpack(student.hw.adam_step(np.ones(5), g, z, z, 1), 3, name=ADAM_TRIPLE)
    checks.check_array(m, 0.1 * g, name="first moment m after step 1", hint="m = beta1 m + (1 - beta1) g")
    checks.check_array(v, 0.001 * g**2, name="second moment v after step 1", hint="v = beta2 v + (1 - beta2) g**2")


@pytest.mark.question("conv_output_size")
def test_conv_output_size(student):
    size = student.hw.conv_output_size
    for (W, F, S, P), want in [((32, 3, 1, 1), 32), ((227, 11, 4, 0), 55), ((7, 3, 2, 0), 3), ((5, 5, 1, 0), 1)]:
        got_torch = torch.nn.functional.conv1d(torch.zeros(1, 1, W), torch.zeros(1, 1, F), stride=S, padding=P).shape[-1]
        assert got_torch == want  # the table above is torch's own output width
        checks.check_int(size(W, F, S, P), want, name=f"conv_output_size({W}, {F}, {S}, {P})")
    checks.check_int(size(10, 3), 8, name="conv_output_size(10, 3) with the default S=1, P=0")


@pytest.mark.question("conv_output_size")
def test_conv_output_size_raises(student):
    checks.check_raises(ValueError, student.hw.conv_output_size, 6, 3, 2, 0, name="conv_output_size(6, 3, 2, 0)",
                        hint="(6 - 3 + 0) / 2 is not whole: raise ValueError")
