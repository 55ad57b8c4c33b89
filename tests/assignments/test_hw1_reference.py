"""The hw1 reference agrees with PyTorch: hidden tests take their expected values from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

SOLUTION = Path(__file__).resolve().parents[2] / "solutions" / "hw1" / "hw.py"
_spec = importlib.util.spec_from_file_location("hw1_reference", SOLUTION)
assert _spec is not None and _spec.loader is not None
hw = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hw)


def test_sigmoid_matches_torch() -> None:
    x = np.concatenate([np.random.default_rng(0).normal(size=50) * 10, [0.0, 30.0, -30.0, 700.0, -700.0]])
    out, dx = hw.sigmoid(x)
    xt = torch.tensor(x, requires_grad=True)
    torch.sigmoid(xt).sum().backward()
    np.testing.assert_allclose(out, torch.sigmoid(xt).detach().numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize(("lr", "betas", "eps", "start"), [(1e-3, (0.9, 0.999), 1e-8, 1), (0.05, (0.8, 0.95), 0.1, 4)])
def test_adam_matches_torch_from_any_state(lr: float, betas: tuple, eps: float, start: int) -> None:
    """Steps start..start+9 from a torch state, compared with torch.optim.Adam step by step."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 4))
    p = torch.nn.Parameter(torch.tensor(w))
    opt = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, start + 10):
        g = rng.normal(size=w.shape)
        p.grad = torch.tensor(g)
        opt.step()
        w, m, v = hw.adam_step(w, g, m, v, t, lr=lr, beta1=betas[0], beta2=betas[1], eps=eps)
        state = opt.state[p]
        np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(m, state["exp_avg"].numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(v, state["exp_avg_sq"].numpy(), rtol=1e-12, atol=1e-14)


def test_conv_output_size_matches_torch() -> None:
    for W in range(1, 16):
        for F in range(1, 6):
            for S in range(1, 5):
                for P in range(3):
                    if W - F + 2 * P < 0:
                        continue
                    width = torch.nn.functional.conv1d(torch.zeros(1, 1, W), torch.zeros(1, 1, F), stride=S, padding=P).shape[-1]
                    if (W - F + 2 * P) % S:
                        with pytest.raises(ValueError):
                            hw.conv_output_size(W, F, S, P)
                    else:
                        got = hw.conv_output_size(W, F, S, P)
                        assert type(got) is int and got == width, (W, F, S, P)
