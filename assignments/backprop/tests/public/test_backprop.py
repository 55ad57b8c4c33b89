"""Public tests for backprop.py: the sigmoid gate, the composite layer and MLP backprop.

Expected values come from PyTorch (torch.sigmoid, torch.autograd) computed inside each test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradekit import checks


def torch_sigmoid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sigmoid(x) and its elementwise derivative, by torch.autograd."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = torch.sigmoid(t)
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def torch_complex_layer(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f = ln(x) sigmoid(sqrt(y)) / sigmoid((x + y)^2) and its elementwise gradients, by autograd."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    f = torch.log(xt) * torch.sigmoid(torch.sqrt(yt)) / torch.sigmoid((xt + yt) ** 2)
    f.sum().backward()
    return f.detach().numpy(), xt.grad.numpy(), yt.grad.numpy()


def torch_mlp_grads(As: list, bs: list, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    """dloss/dA_l and dloss/db_l of 0.5 ||y_L - y||^2, by autograd."""
    At = [torch.tensor(A, dtype=torch.float64, requires_grad=True) for A in As]
    bt = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in bs]
    out = torch.tensor(x, dtype=torch.float64)
    for ell, (A, b) in enumerate(zip(At, bt)):
        out = A @ out + b
        if ell < len(At) - 1:
            out = torch.sigmoid(out)
    loss = 0.5 * ((out - torch.tensor(y, dtype=torch.float64)) ** 2).sum()
    loss.backward()
    return [A.grad.numpy() for A in At], [b.grad.numpy() for b in bt]


@pytest.mark.question("sigmoid", weight=2)
def test_sigmoid_small_inputs(student):
    x = np.array([-4.0, -1.5, -0.5, 0.0, 0.5, 2.0, 3.0])
    out, dx = checks.unpack(student.backprop.sigmoid(x), 2, name="sigmoid(x) returns (out, dx)")
    exp_out, exp_dx = torch_sigmoid(x)
    checks.check_array(out, exp_out, name="sigmoid(x): out for a 1-D x", hint="out = 1 / (1 + exp(-x))")
    checks.check_gradient(
        dx, exp_dx, name="sigmoid(x): dx for a 1-D x",
        hint="downstream = upstream * local at each gate: 1/c -> -1/c**2, 1 + b -> 1, exp(a) -> exp(a), -x -> -1",
    )


@pytest.mark.question("sigmoid")
def test_sigmoid_worked_example(student):
    """The README's numbers: sigmoid(2) and its derivative."""
    x = np.array([2.0])
    out, dx = checks.unpack(student.backprop.sigmoid(x), 2, name="sigmoid([2.0])")
    exp_out, exp_dx = torch_sigmoid(x)
    checks.check_array(out, exp_out, name="sigmoid([2.0]): out")
    checks.check_gradient(dx, exp_dx, name="sigmoid([2.0]): dx")


@pytest.mark.question("sigmoid")
def test_sigmoid_keeps_shape(student):
    x = np.array([[-2.0, 0.25, 1.0], [0.0, -0.75, 5.0]])
    out, dx = checks.unpack(student.backprop.sigmoid(x), 2, name="sigmoid(x) for a 2-D x")
    exp_out, exp_dx = torch_sigmoid(x)
    checks.check_array(out, exp_out, name="sigmoid(x): out for a 2x3 x", hint="work elementwise; keep x's shape")
    checks.check_gradient(dx, exp_dx, name="sigmoid(x): dx for a 2x3 x", hint="work elementwise; keep x's shape")


@pytest.mark.question("complex_layer", weight=2)
def test_complex_layer_small_inputs(student):
    x = np.array([0.5, 1.0, 2.0, 3.0])
    y = np.array([0.25, 1.0, 1.0, 0.5])
    out, fx, fy = checks.unpack(student.backprop.complex_layer(x, y), 3, name="complex_layer(x, y) returns (out, fx, fy)")
    exp_out, exp_fx, exp_fy = torch_complex_layer(x, y)
    checks.check_array(out, exp_out, name="complex_layer: out", hint="f = ln(x) * sigmoid(sqrt(y)) / sigmoid((x + y)**2)")
    checks.check_gradient(fx, exp_fx, name="complex_layer: df/dx",
                          hint="x reaches f through ln(x) and through (x + y): add both paths")
    checks.check_gradient(fy, exp_fy, name="complex_layer: df/dy",
                          hint="y reaches f through sqrt(y) and through (x + y): add both paths; d sqrt(y)/dy = 1 / (2 sqrt(y))")


@pytest.mark.question("complex_layer")
def test_complex_layer_2d(student):
    x = np.array([[0.2, 1.5, 4.0], [2.5, 0.9, 1.1]])
    y = np.array([[2.0, 0.1, 0.3], [1.0, 4.0, 0.05]])
    out, fx, fy = checks.unpack(student.backprop.complex_layer(x, y), 3, name="complex_layer(x, y) for 2-D x, y")
    exp_out, exp_fx, exp_fy = torch_complex_layer(x, y)
    checks.check_array(out, exp_out, name="complex_layer: out for 2x3 inputs")
    checks.check_gradient(fx, exp_fx, name="complex_layer: df/dx for 2x3 inputs")
    checks.check_gradient(fy, exp_fy, name="complex_layer: df/dy for 2x3 inputs")


def _mlp(sizes: list[int], seed: int) -> tuple[list, list, np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    As = [gen.normal(size=(n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    bs = [gen.normal(size=(n_out, 1)) for n_out in sizes[1:]]
    return As, bs, gen.normal(size=(sizes[0], 1)), gen.normal(size=(sizes[-1], 1))


@pytest.mark.question("mlp_backprop", weight=2)
def test_mlp_two_layers(student):
    As, bs, x, y = _mlp([3, 4, 2], seed=0)
    dAs, dbs = checks.unpack(student.backprop.mlp_backward(As, bs, x, y), 2, name="mlp_backward returns (dAs, dbs)")
    exp_dAs, exp_dbs = torch_mlp_grads(As, bs, x, y)
    dAs = checks.unpack(dAs, 2, name="dAs for a 2-layer MLP (one array per layer)")
    dbs = checks.unpack(dbs, 2, name="dbs for a 2-layer MLP (one array per layer)")
    for ell in range(2):
        checks.check_gradient(dAs[ell], exp_dAs[ell], name=f"dloss/dA_{ell + 1} (shape of A_{ell + 1})",
                              hint="dA_l = delta_l @ y_{l-1}.T with delta_l = dloss/dz_l; no sigmoid on the last layer")
        checks.check_gradient(dbs[ell], exp_dbs[ell], name=f"dloss/db_{ell + 1} (shape (n_l, 1))",
                              hint="db_l = delta_l, a column vector like b_l")


@pytest.mark.question("mlp_backprop")
def test_mlp_three_layers(student):
    As, bs, x, y = _mlp([2, 5, 3, 1], seed=1)
    dAs, dbs = checks.unpack(student.backprop.mlp_backward(As, bs, x, y), 2, name="mlp_backward returns (dAs, dbs)")
    exp_dAs, exp_dbs = torch_mlp_grads(As, bs, x, y)
    dAs = checks.unpack(dAs, 3, name="dAs for a 3-layer MLP")
    dbs = checks.unpack(dbs, 3, name="dbs for a 3-layer MLP")
    for ell in range(3):
        checks.check_gradient(dAs[ell], exp_dAs[ell], name=f"dloss/dA_{ell + 1} in a 2-5-3-1 MLP",
                              hint="going back: dloss/dy_{l-1} = A_l.T @ delta_l, then delta_{l-1} = that * sigmoid'(z_{l-1})")
        checks.check_gradient(dbs[ell], exp_dbs[ell], name=f"dloss/db_{ell + 1} in a 2-5-3-1 MLP")
