"""Public tests for cnn.py: fixed layers, expected values computed here with PyTorch.

Output sizes come from the shapes torch.nn.Conv2d and MaxPool2d produce, parameter counts from
the parameters of torch.nn modules, receptive fields from the gradient of one output unit with
respect to the input, and FLOPs from torch's output shapes and the convention of README.md.
Modules whose parameters are only counted live on the "meta" device (no memory); shapes come from
forward passes of small zero tensors on the CPU.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import pytest
import torch
from torch import nn

from gradekit import checks

Layer = dict[str, Any]


@contextmanager
def torch_small(grad: bool = False) -> Iterator[None]:
    """One thread (and no autograd unless asked): on tiny tensors the thread pool costs more than the work."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.set_grad_enabled(grad):
            yield
    finally:
        torch.set_num_threads(threads)


def pair(v: Any) -> tuple[int, int]:
    return (v[0], v[1]) if isinstance(v, (list, tuple)) else (v, v)


def torch_module(layer: Layer, device: str = "cpu") -> nn.Module:
    """The torch.nn module a layer dict describes."""
    kind = layer["type"]
    if kind == "conv2d":
        return nn.Conv2d(layer["in_channels"], layer["out_channels"], tuple(pair(layer["kernel_size"])),
                         stride=layer.get("stride", 1), padding=layer.get("padding", 0),
                         bias=layer.get("bias", True), device=device)
    if kind == "linear":
        return nn.Linear(layer["in_features"], layer["out_features"], bias=layer.get("bias", True), device=device)
    if kind == "maxpool2d":
        return nn.MaxPool2d(layer["kernel_size"], stride=layer.get("stride"))
    return {"relu": nn.ReLU, "flatten": nn.Flatten}[kind]()


def torch_parameters(layers: list[Layer]) -> int:
    return sum(p.numel() for p in nn.Sequential(*(torch_module(layer, "meta") for layer in layers)).parameters())


def torch_receptive_field(layers: list[Layer], size: int = 48) -> tuple[int, int]:
    """(height, width) of the input pixels with a non-zero gradient of the top-left output unit.

    All-ones convolutions without padding (padding moves the field, it does not resize it), and
    average pooling in place of max pooling: the same windows, but the gradient reaches every pixel
    of a window, not only the largest one.
    """
    mods: list[nn.Module] = []
    for layer in layers:
        if layer["type"] == "conv2d":
            conv = nn.Conv2d(1, 1, tuple(pair(layer["kernel_size"])), stride=layer.get("stride", 1),
                             bias=False, dtype=torch.float64)
            nn.init.ones_(conv.weight)
            mods.append(conv)
        elif layer["type"] == "maxpool2d":
            stride = layer.get("stride")
            mods.append(nn.AvgPool2d(layer["kernel_size"], stride=layer["kernel_size"] if stride is None else stride))
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    with torch_small(grad=True):
        nn.Sequential(*mods)(x)[0, 0, 0, 0].backward()
    support = (x.grad[0, 0] != 0).numpy()
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def expected_flops(layers: list[Layer], input_shape: tuple[int, int, int]) -> int:
    """The README's convention, with every output shape taken from torch."""
    x = torch.zeros(1, *input_shape)
    total = 0
    for layer in layers:
        inputs = x.shape[1]
        with torch_small():
            x = torch_module(layer)(x)
        bias = 1 if layer.get("bias", True) else 0
        if layer["type"] == "conv2d":
            kh, kw = pair(layer["kernel_size"])
            n = inputs * kh * kw
            total += x.numel() * (2 * n - 1 + bias)  # n multiplies, n - 1 adds, the bias add
        elif layer["type"] == "linear":
            total += x.numel() * (2 * inputs - 1 + bias)
        elif layer["type"] == "maxpool2d":
            kh, kw = pair(layer["kernel_size"])
            total += x.numel() * (kh * kw - 1)  # the max of k_h * k_w numbers
    return total


def conv(c: int, k: int, kernel: Any, **kw: Any) -> Layer:
    return {"type": "conv2d", "in_channels": c, "out_channels": k, "kernel_size": kernel, **kw}


RELU: Layer = {"type": "relu"}
FLATTEN: Layer = {"type": "flatten"}

# the network of README.md, question 2 (for 3 x 16 x 16 images)
NET = [
    conv(3, 8, 3, padding=1), RELU, {"type": "maxpool2d", "kernel_size": 2},
    conv(8, 16, 3, bias=False), RELU, {"type": "maxpool2d", "kernel_size": 2},
    FLATTEN, {"type": "linear", "in_features": 144, "out_features": 10},
]
# README.md, question 4: conv layer C, a ReLU, max pool P
C_AND_P = [conv(30, 12, 4, stride=2, padding=1), RELU, {"type": "maxpool2d", "kernel_size": 3, "stride": 2}]


# ---------------------------------------------------------------- output_size


@pytest.mark.question("output_size", weight=2)
@pytest.mark.parametrize("W, F, S, P", [(32, 5, 1, 0), (32, 5, 3, 0), (32, 5, 3, 3), (227, 11, 4, 0),
                                        (55, 3, 2, 0), (14, 4, 2, 1), (7, 7, 1, 0), (3, 5, 1, 1), (1, 1, 1, 0)])
def test_output_size_matches_torch_conv2d(student, W, F, S, P):
    with torch_small():
        out = nn.Conv2d(1, 1, F, stride=S, padding=P)(torch.zeros(1, 1, W, W))
    checks.check_int(student.cnn.conv_output_size(W, F, S, P), out.shape[-1],
                     name=f"conv_output_size({W}, {F}, S={S}, P={P})",
                     hint="(W - F + 2P) / S + 1: padding is added on both sides")


@pytest.mark.question("output_size")
def test_output_size_uses_defaults(student):
    checks.check_int(student.cnn.conv_output_size(7, 3), 5, name="conv_output_size(7, 3) (S=1, P=0 by default)")


@pytest.mark.question("output_size")
@pytest.mark.parametrize("args, why", [
    ((32, 5, 2, 0), "(32 - 5) / 2 is not whole"),
    ((3, 5, 1, 0), "the filter is wider than the input"),
    ((0, 3, 1, 0), "W < 1"),
    ((7, 3, 0, 0), "S < 1"),
    ((7, 3, 1, -1), "P < 0"),
    ((7.0, 3, 1, 0), "W is a float"),
    ((7, 3, True, 0), "S is a bool"),
], ids=["not-whole", "filter-too-wide", "W-zero", "S-zero", "P-negative", "float", "bool"])
def test_output_size_raises_value_error(student, args, why):
    checks.check_raises(ValueError, student.cnn.conv_output_size, *args,
                        name=f"conv_output_size{args} must raise ValueError: {why}")


# ---------------------------------------------------------------- parameter_count


@pytest.mark.question("parameter_count")
@pytest.mark.parametrize("C, K, F, bias", [(3, 96, 11, True), (5, 25, 3, True), (16, 32, (3, 5), True),
                                           (5, 25, [1, 3], False), (1, 1, 1, False)])
def test_conv_parameters_match_torch(student, C, K, F, bias):
    expected = torch_parameters([conv(C, K, F, bias=bias)])
    checks.check_int(student.cnn.conv_parameters(C, K, F, bias=bias), expected,
                     name=f"conv_parameters({C}, {K}, {F!r}, bias={bias})",
                     hint="K filters of C x F_h x F_w weights, plus one bias per filter")


@pytest.mark.question("parameter_count")
def test_count_parameters_of_the_readme_net(student):
    checks.check_int(student.cnn.count_parameters(NET), torch_parameters(NET), name="count_parameters(net) of README.md")
    no_bias = [dict(layer, bias=False) if layer["type"] in ("conv2d", "linear") else layer for layer in NET]
    checks.check_int(student.cnn.count_parameters(no_bias), torch_parameters(no_bias),
                     name="count_parameters(net) with bias=False everywhere")


# ---------------------------------------------------------------- receptive_field


RF_CASES = {
    "one-3x3-conv": [conv(1, 1, 3)],
    "two-3x3-convs": [conv(1, 1, 3), RELU, conv(1, 1, 3)],
    "conv-then-pool": [conv(1, 1, 3), {"type": "maxpool2d", "kernel_size": 2}],
    "readme-net": NET[:-2],
    "strided-conv": [conv(1, 1, 5, stride=2), conv(1, 1, 3)],
    "pool-stride-1": [{"type": "maxpool2d", "kernel_size": 3, "stride": 1}, conv(1, 1, 3, stride=2), conv(1, 1, 2)],
}


@pytest.mark.question("receptive_field", weight=2)
@pytest.mark.parametrize("name", list(RF_CASES))
def test_receptive_field_square_stacks(student, name):
    layers = RF_CASES[name]
    height, width = torch_receptive_field(layers)
    checks.check_int(student.cnn.receptive_field(layers), height, name=f"receptive_field of {name}: {layers}",
                     hint="walk back from one output unit: r = (r - 1) * stride + kernel")


@pytest.mark.question("receptive_field")
def test_receptive_field_non_square(student):
    layers = [conv(1, 1, (3, 5)), {"type": "maxpool2d", "kernel_size": 2}]
    expected = torch_receptive_field(layers)
    got = checks.unpack(student.cnn.receptive_field(layers), 2, name=f"receptive_field({layers})")
    for axis, value, want in zip(("height", "width"), got, expected):
        checks.check_int(value, want, name=f"receptive_field({layers}): the {axis}",
                         hint="a non-square field is a tuple (height, width); each axis has its own kernel sizes")


# ---------------------------------------------------------------- flops


@pytest.mark.question("flops", weight=2)
def test_flops_worked_example(student):
    shape = (30, 14, 14)
    for n, what in ((1, "layer C"), (2, "layer C and the ReLU"), (3, "C, ReLU and P")):
        layers = C_AND_P[:n]
        checks.check_int(student.cnn.count_flops(layers, shape), expected_flops(layers, shape),
                         name=f"count_flops of README.md's example, {what}",
                         hint="per output value of a conv: n multiplies, n - 1 adds, 1 bias add; a max of m numbers costs m - 1")


@pytest.mark.question("flops")
@pytest.mark.parametrize("layers, expected, what", [
    ([conv(1, 1, 3, bias=False)], 9 + 8, "one 3x3 dot product: 9 multiplies, 8 adds"),
    ([conv(1, 1, 3)], 9 + 8 + 1, "one 3x3 dot product and a bias: 9 multiplies, 8 + 1 adds"),
    ([{"type": "maxpool2d", "kernel_size": 3}], 8, "one max of 9 numbers: 8 comparisons"),
    ([RELU, FLATTEN], 0, "relu and flatten are free"),
], ids=["conv-no-bias", "conv-bias", "maxpool", "relu-flatten"])
def test_flops_hand_worked(student, layers, expected, what):
    checks.check_int(student.cnn.count_flops(layers, (1, 3, 3)), expected, name=f"count_flops on a 1x3x3 input: {what}")


@pytest.mark.question("flops", weight=2)
@pytest.mark.parametrize("layers, shape", [
    (NET, (3, 16, 16)),
    ([conv(2, 4, (3, 5), stride=(1, 2), padding=(1, 0), bias=False), RELU,
      {"type": "maxpool2d", "kernel_size": (2, 3), "stride": 2}], (2, 10, 17)),
    ([conv(3, 6, 5), {"type": "maxpool2d", "kernel_size": 2}, FLATTEN,
      {"type": "linear", "in_features": 6 * 6 * 6, "out_features": 4, "bias": False}], (3, 16, 16)),
], ids=["readme-net", "non-square", "linear-head"])
def test_flops_stacks(student, layers, shape):
    checks.check_int(student.cnn.count_flops(layers, shape), expected_flops(layers, shape),
                     name=f"count_flops({layers}, {shape})",
                     hint="compute each layer's output shape with conv_output_size, height and width separately")
