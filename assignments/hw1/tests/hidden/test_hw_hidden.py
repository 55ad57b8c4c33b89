"""Hidden tests for hw.py: per-student random shapes, values, hyperparameters, steps and sizes.

Expected values come from the reference solution (checked against torch in
tests/assignments/test_hw1_reference.py); messages never show inputs or expected values.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradekit import checks

SIGMOID_PAIR = "sigmoid returns (out, dx)"
ADAM_TRIPLE = "adam_step returns (w, m, v)"

# (hyperparameters, t, gradient scale): each case varies something a plausible bug gets wrong
ADAM_CASES = {
    "defaults-first-step": ({}, 1, 1.0),
    "defaults-later-step": ({}, 7, 1.0),
    "other-lr-and-betas": (dict(lr=0.05, beta1=0.8, beta2=0.95), 3, 1.0),
    "large-eps-small-grad": (dict(lr=0.01, beta1=0.95, beta2=0.9, eps=0.1), 10, 1e-2),
}


@pytest.mark.question("sigmoid")
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)], ids=["1d", "2d", "3d"])
def test_sigmoid_values_and_derivative(student, reference, rng, shape):
    x = rng.normal(size=shape) * 4
    out, dx = checks.unpack(student.hw.sigmoid(x), 2, name=SIGMOID_PAIR)
    want_out, want_dx = reference.hw.sigmoid(x)
    checks.check_array(out, want_out, name=f"sigmoid(x) for a {len(shape)}-D array")
    checks.check_array(dx, want_dx, name=f"d sigmoid / dx for a {len(shape)}-D array", hint="sigmoid'(x) = out * (1 - out)")


@pytest.mark.question("sigmoid")
def test_sigmoid_wide_range(student, reference, rng):
    """Inputs up to |x| = 30 (exp(30) is finite: a plain formula is fine) and exact zeros."""
    x = np.concatenate([rng.uniform(-30, 30, size=8), [0.0, -0.0, 30.0, -30.0]])
    out, dx = checks.unpack(student.hw.sigmoid(x), 2, name=SIGMOID_PAIR)
    want_out, want_dx = reference.hw.sigmoid(x)
    checks.check_array(out, want_out, name="sigmoid(x) for |x| up to 30")
    checks.check_array(dx, want_dx, name="d sigmoid / dx for |x| up to 30")


def adam_state(rng: np.random.Generator, t: int, scale: float, shape: tuple) -> tuple[np.ndarray, ...]:
    """Parameters, a gradient and a plausible state after t - 1 steps (zeros when t = 1)."""
    w = rng.normal(size=shape) * 2
    g = rng.normal(size=shape) * scale
    if t == 1:
        return w, g, np.zeros(shape), np.zeros(shape)
    return w, g, rng.normal(size=shape) * 0.3 * scale, (rng.uniform(0.2, 1.5, size=shape) * scale) ** 2


@pytest.mark.question("adam_step", weight=2)
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_single_step(student, reference, rng, case):
    hyper, t, scale = ADAM_CASES[case]
    w, g, m, v = adam_state(rng, t, scale, (3, 4))
    got = checks.unpack(student.hw.adam_step(w, g, m, v, t, **hyper), 3, name=ADAM_TRIPLE)
    want = reference.hw.adam_step(w, g, m, v, t, **hyper)
    for label, received, expected in zip(("w_new", "m_new", "v_new"), got, want):
        checks.check_array(received, expected, name=f"adam_step ({case}): {label}",
                           hint="bias corrections 1 - beta**t; eps outside the square root; m, v before correction")


@pytest.mark.question("adam_step")
def test_adam_trajectory(student, reference, rng):
    """20 steps with per-student lr and betas; the student's own state is fed back each step."""
    lr, beta1, beta2 = float(rng.uniform(0.01, 0.1)), float(rng.uniform(0.7, 0.9)), float(rng.uniform(0.95, 0.999))
    w = ref_w = rng.normal(size=(2, 3))
    m = v = ref_m = ref_v = np.zeros((2, 3))
    step = student.hw.adam_step
    for t in range(1, 21):
        g = np.cos(ref_w) + ref_w  # the same gradient sequence for the student and the reference
        w, m, v = checks.unpack(step(ref_w, g, ref_m, ref_v, t, lr=lr, beta1=beta1, beta2=beta2), 3, name=ADAM_TRIPLE)
        ref_w, ref_m, ref_v = reference.hw.adam_step(ref_w, g, ref_m, ref_v, t, lr=lr, beta1=beta1, beta2=beta2)
        checks.check_array(w, ref_w, name=f"w after step {t} of 20")
    checks.check_array(m, ref_m, name="m after 20 steps")
    checks.check_array(v, ref_v, name="v after 20 steps")


def conv_cases(rng: np.random.Generator, n: int) -> list[tuple[int, int, int, int]]:
    """Valid (W, F, S, P): fixed ones where padding decides the divisibility, then random ones."""
    cases = [(7, 3, 3, 1), (10, 4, 4, 1), (5, 1, 2, 2)]
    while len(cases) < n:
        S, P, F, out = (int(rng.integers(1, 5)), int(rng.integers(0, 4)), int(rng.integers(1, 8)), int(rng.integers(1, 30)))
        W = (out - 1) * S + F - 2 * P
        if W >= 1:
            cases.append((W, F, S, P))
    return cases


@pytest.mark.question("conv_output_size")
def test_conv_output_size_hidden(student, reference, rng):
    size = student.hw.conv_output_size
    for W, F, S, P in conv_cases(rng, 15):
        checks.check_int(size(W, F, S, P), reference.hw.conv_output_size(W, F, S, P),
                         name="conv_output_size on a valid layer", hint="(W - F + 2P) // S + 1, an int")


@pytest.mark.question("conv_output_size")
def test_conv_output_size_raises_hidden(student):
    """Strides that do not tile the padded input, padding included in the divisibility."""
    for W, F, S, P in [(9, 3, 3, 1), (8, 3, 2, 0), (12, 5, 4, 2), (11, 3, 3, 0)]:
        checks.check_raises(ValueError, student.hw.conv_output_size, W, F, S, P,
                            name="conv_output_size when (W - F + 2P) / S is not whole",
                            hint="check (W - F + 2P) % S, padding included")
