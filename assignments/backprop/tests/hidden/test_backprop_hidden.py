"""Hidden tests for backprop.py: random shapes and values per student, extreme inputs, and
gradients checked three ways (the reference, torch.autograd, centered finite differences).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradekit import checks

SHAPES = [(9,), (3, 4), (2, 3, 4)]


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


def mlp_loss(As: list, bs: list, x: np.ndarray, y: np.ndarray) -> float:
    """0.5 ||y_L - y||^2 in plain numpy (for finite differences)."""
    out = x
    for ell, (A, b) in enumerate(zip(As, bs)):
        out = A @ out + b
        if ell < len(As) - 1:
            out = 0.5 * (1.0 + np.tanh(0.5 * out))  # sigmoid, without overflow
    return float(0.5 * np.sum((out - y) ** 2))


def torch_mlp_grads(As: list, bs: list, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    At = [torch.tensor(A, dtype=torch.float64, requires_grad=True) for A in As]
    bt = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in bs]
    out = torch.tensor(x, dtype=torch.float64)
    for ell, (A, b) in enumerate(zip(At, bt)):
        out = A @ out + b
        if ell < len(At) - 1:
            out = torch.sigmoid(out)
    (0.5 * ((out - torch.tensor(y, dtype=torch.float64)) ** 2).sum()).backward()
    return [A.grad.numpy() for A in At], [b.grad.numpy() for b in bt]


def random_mlp(rng: np.random.Generator, sizes: list[int]) -> tuple[list, list, np.ndarray, np.ndarray]:
    As = [rng.normal(size=(n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=(n_out, 1)) for n_out in sizes[1:]]
    return As, bs, rng.normal(size=(sizes[0], 1)), rng.normal(size=(sizes[-1], 1)) * 2


# ---------------------------------------------------------------- sigmoid


@pytest.mark.question("sigmoid", weight=2)
@pytest.mark.parametrize("shape", SHAPES, ids=["1d", "2d", "3d"])
def test_sigmoid_random_shapes(student, reference, rng, shape):
    x = rng.normal(size=shape) * 4
    out, dx = checks.unpack(student.backprop.sigmoid(x), 2, name=f"sigmoid(x) for x of shape {shape}")
    ref_out, ref_dx = reference.backprop.sigmoid(x)
    t_out, t_dx = torch_sigmoid(x)
    checks.check_array(out, ref_out, name=f"sigmoid: out for random x of shape {shape}",
                       hint="work elementwise and keep x's shape")
    checks.check_array(out, t_out, name=f"sigmoid: out vs torch.sigmoid, shape {shape}")
    checks.check_gradient(dx, ref_dx, name=f"sigmoid: dx for random x of shape {shape}",
                          hint="chain the local gradients of the four gates: -1/c**2, 1, exp(a), -1")
    checks.check_gradient(dx, t_dx, name=f"sigmoid: dx vs torch.autograd, shape {shape}")


@pytest.mark.question("sigmoid", weight=2)
def test_sigmoid_extreme_inputs(student, reference, rng):
    """|x| up to 1000: out in [0, 1], dx finite, no NaN, still accurate."""
    fixed = np.array([-1000.0, -746.0, -709.0, -100.0, -36.0, 36.0, 100.0, 709.0, 746.0, 1000.0])
    x = np.concatenate([fixed, rng.uniform(-1000.0, 1000.0, size=10), rng.uniform(-60.0, 60.0, size=10)]).reshape(5, 6)
    out, dx = checks.unpack(student.backprop.sigmoid(x), 2, name="sigmoid(x) for large |x|")
    ref_out, ref_dx = reference.backprop.sigmoid(x)
    t_out, t_dx = torch_sigmoid(x)
    hint = "exp(-x) overflows for x << 0 and 0 * inf = NaN: run the gates on -|x| (see the docstring)"
    out = checks.check_array(out, ref_out, name="sigmoid: out for |x| up to 1000 (finite, in [0, 1])", hint=hint)
    checks.check_true(np.all((out >= 0) & (out <= 1)), name="sigmoid: 0 <= out <= 1 for |x| up to 1000", hint=hint)
    checks.check_array(out, t_out, name="sigmoid: out for |x| up to 1000 vs torch.sigmoid", hint=hint)
    checks.check_gradient(dx, ref_dx, name="sigmoid: dx for |x| up to 1000 (finite, no NaN)", hint=hint)
    checks.check_gradient(dx, t_dx, name="sigmoid: dx for |x| up to 1000 vs torch.autograd", hint=hint)


@pytest.mark.question("sigmoid")
def test_sigmoid_finite_differences(student, reference, rng):
    x = rng.uniform(-6.0, 6.0, size=(2, 5))
    _, dx = checks.unpack(student.backprop.sigmoid(x), 2, name="sigmoid(x)")
    numeric = checks.numeric_gradient(lambda z: np.sum(reference.backprop.sigmoid(z)[0]), x)
    checks.check_gradient(dx, numeric, name="sigmoid: dx vs centered finite differences", rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------- complex_layer


@pytest.mark.question("complex_layer", weight=2)
@pytest.mark.parametrize("shape", SHAPES, ids=["1d", "2d", "3d"])
def test_complex_layer_random_shapes(student, reference, rng, shape):
    x = rng.uniform(0.05, 3.0, size=shape)
    y = rng.uniform(0.05, 3.0, size=shape)
    out, fx, fy = checks.unpack(student.backprop.complex_layer(x, y), 3, name=f"complex_layer(x, y) for shape {shape}")
    ref_out, ref_fx, ref_fy = reference.backprop.complex_layer(x, y)
    t_out, t_fx, t_fy = torch_complex_layer(x, y)
    checks.check_array(out, ref_out, name=f"complex_layer: out, shape {shape}",
                       hint="f = ln(x) * sigmoid(sqrt(y)) / sigmoid((x + y)**2)")
    checks.check_gradient(fx, ref_fx, name=f"complex_layer: df/dx, shape {shape}",
                          hint="x reaches f through ln(x) and through (x + y): add both paths; d (x+y)**2 = 2 (x+y)")
    checks.check_gradient(fy, ref_fy, name=f"complex_layer: df/dy, shape {shape}",
                          hint="y reaches f through sqrt(y) and through (x + y): add both paths")
    checks.check_gradient(fx, t_fx, name=f"complex_layer: df/dx vs torch.autograd, shape {shape}")
    checks.check_gradient(fy, t_fy, name=f"complex_layer: df/dy vs torch.autograd, shape {shape}")


@pytest.mark.question("complex_layer")
def test_complex_layer_edge_values(student, reference, rng):
    """x near 0 and near 1 (ln x ~ 0), tiny y (steep sqrt), large x + y (sigmoid saturates)."""
    x = np.concatenate([[1e-3, 0.999, 1.0, 1.001, 8.0, 12.0], rng.uniform(1e-3, 12.0, size=6)])
    y = np.concatenate([[1e-4, 1e-3, 7.0, 0.5, 10.0, 1e-4], rng.uniform(1e-4, 10.0, size=6)])
    out, fx, fy = checks.unpack(student.backprop.complex_layer(x, y), 3, name="complex_layer(x, y) at edge values")
    ref_out, ref_fx, ref_fy = reference.backprop.complex_layer(x, y)
    checks.check_array(out, ref_out, name="complex_layer: out at edge values")
    checks.check_gradient(fx, ref_fx, name="complex_layer: df/dx at edge values")
    checks.check_gradient(fy, ref_fy, name="complex_layer: df/dy at edge values")


@pytest.mark.question("complex_layer")
def test_complex_layer_finite_differences(student, reference, rng):
    x = rng.uniform(0.2, 2.0, size=(2, 3))
    y = rng.uniform(0.2, 2.0, size=(2, 3))
    _, fx, fy = checks.unpack(student.backprop.complex_layer(x, y), 3, name="complex_layer(x, y)")
    num_fx = checks.numeric_gradient(lambda z: np.sum(reference.backprop.complex_layer(z, y)[0]), x)
    num_fy = checks.numeric_gradient(lambda z: np.sum(reference.backprop.complex_layer(x, z)[0]), y)
    checks.check_gradient(fx, num_fx, name="complex_layer: df/dx vs centered finite differences", atol=1e-7)
    checks.check_gradient(fy, num_fy, name="complex_layer: df/dy vs centered finite differences", atol=1e-7)


# ---------------------------------------------------------------- mlp_backprop


@pytest.mark.question("mlp_backprop", weight=4)
@pytest.mark.parametrize(
    "sizes", [[3, 2], [3, 4, 2], [4, 5, 5, 3], [1, 3, 6, 3, 1], [5, 2, 7, 4]],
    ids=["1-layer", "2-layer", "3-layer-square", "4-layer", "3-layer-narrow"],
)
def test_mlp_random_networks(student, reference, rng, sizes):
    As, bs, x, y = random_mlp(rng, sizes)
    L = len(As)
    dAs, dbs = checks.unpack(student.backprop.mlp_backward(As, bs, x, y), 2, name="mlp_backward returns (dAs, dbs)")
    dAs = checks.unpack(dAs, L, name=f"dAs: one array per layer ({L} layers)")
    dbs = checks.unpack(dbs, L, name=f"dbs: one array per layer ({L} layers)")
    ref_dAs, ref_dbs = reference.backprop.mlp_backward(As, bs, x, y)
    t_dAs, t_dbs = torch_mlp_grads(As, bs, x, y)
    arch = "-".join(map(str, sizes))
    for ell in range(L):
        last = ell == L - 1
        hint = ("the output layer is linear: delta_L = y_L - y, no sigmoid' there" if last else
                "delta_l = (A_{l+1}.T @ delta_{l+1}) * sigmoid'(z_l) with z_l = A_l y_{l-1} + b_l")
        checks.check_gradient(dAs[ell], ref_dAs[ell], name=f"{arch} MLP: dloss/dA_{ell + 1}",
                              hint=hint + "; dA_l = delta_l @ y_{l-1}.T")
        checks.check_gradient(dbs[ell], ref_dbs[ell], name=f"{arch} MLP: dloss/db_{ell + 1} (shape (n_l, 1))", hint=hint)
        checks.check_gradient(dAs[ell], t_dAs[ell], name=f"{arch} MLP: dloss/dA_{ell + 1} vs torch.autograd")
        checks.check_gradient(dbs[ell], t_dbs[ell], name=f"{arch} MLP: dloss/db_{ell + 1} vs torch.autograd")


@pytest.mark.question("mlp_backprop", weight=2)
def test_mlp_finite_differences(student, rng):
    As, bs, x, y = random_mlp(rng, [3, 4, 3, 2])
    dAs, dbs = checks.unpack(student.backprop.mlp_backward(As, bs, x, y), 2, name="mlp_backward returns (dAs, dbs)")
    dAs = checks.unpack(dAs, 3, name="dAs: one array per layer (3 layers)")
    dbs = checks.unpack(dbs, 3, name="dbs: one array per layer (3 layers)")
    for ell in range(3):
        def f_A(A: np.ndarray, ell: int = ell) -> float:
            return mlp_loss(As[:ell] + [A] + As[ell + 1:], bs, x, y)

        def f_b(b: np.ndarray, ell: int = ell) -> float:
            return mlp_loss(As, bs[:ell] + [b] + bs[ell + 1:], x, y)

        checks.check_gradient(dAs[ell], checks.numeric_gradient(f_A, As[ell]),
                              name=f"dloss/dA_{ell + 1} vs centered finite differences", rtol=1e-5, atol=1e-7)
        checks.check_gradient(dbs[ell], checks.numeric_gradient(f_b, bs[ell]),
                              name=f"dloss/db_{ell + 1} vs centered finite differences", rtol=1e-5, atol=1e-7)
