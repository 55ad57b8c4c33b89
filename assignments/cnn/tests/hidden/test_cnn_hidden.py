"""Hidden tests for cnn.py: random layers and stacks per student, compared with the reference.

Inputs are drawn from `rng` (a variant per student); the reference is solutions/cnn, itself checked
against torch in the project tests. Output sizes and parameter counts are also compared with torch
here (cheap: small zero tensors, and parameters on the "meta" device, which allocates nothing).
Check names never show inputs.
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


# ---------------------------------------------------------------- helpers


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


def torch_module(layer: Layer) -> nn.Module:
    kind = layer["type"]
    if kind == "conv2d":
        return nn.Conv2d(layer["in_channels"], layer["out_channels"], tuple(pair(layer["kernel_size"])),
                         stride=layer.get("stride", 1), padding=layer.get("padding", 0),
                         bias=layer.get("bias", True), device="meta")
    if kind == "linear":
        return nn.Linear(layer["in_features"], layer["out_features"], bias=layer.get("bias", True), device="meta")
    if kind == "maxpool2d":
        return nn.MaxPool2d(layer["kernel_size"], stride=layer.get("stride"))
    return {"relu": nn.ReLU, "flatten": nn.Flatten}[kind]()


def torch_parameters(layers: list[Layer]) -> int:
    return sum(p.numel() for p in nn.Sequential(*(torch_module(layer) for layer in layers)).parameters())


def conv(c: int, k: int, kernel: Any, **kw: Any) -> Layer:
    return {"type": "conv2d", "in_channels": c, "out_channels": k, "kernel_size": kernel, **kw}


def vgg16_features() -> list[Layer]:
    """VGG16's 13 convolutions (3x3, padding 1) with ReLUs and 5 max pools (2x2, stride 2), up to pool5."""
    layers: list[Layer] = []
    channels = 3
    for width, n_convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(n_convs):
            layers += [conv(channels, width, 3, padding=1), {"type": "relu"}]
            channels = width
        layers.append({"type": "maxpool2d", "kernel_size": 2, "stride": 2})
    return layers


def vgg16() -> list[Layer]:
    return vgg16_features() + [
        {"type": "flatten"},
        {"type": "linear", "in_features": 512 * 7 * 7, "out_features": 4096}, {"type": "relu"},
        {"type": "linear", "in_features": 4096, "out_features": 4096}, {"type": "relu"},
        {"type": "linear", "in_features": 4096, "out_features": 1000},
    ]


def _fits(n: int, k: int, s: int, p: int) -> bool:
    return n - k + 2 * p >= 0 and (n - k + 2 * p) % s == 0


def _arg(rng: np.random.Generator, h: int, w: int) -> Any:
    """An int when square (usually), else a tuple or a list (height, width)."""
    if h == w and rng.random() < 0.7:
        return h
    return (h, w) if rng.random() < 0.5 else [h, w]


def _draw(rng: np.random.Generator, low: int, high: int, pairs: bool) -> list[int]:
    v = rng.integers(low, high, size=2) if pairs else np.repeat(rng.integers(low, high), 2)
    return [int(x) for x in v]


def random_layer(rng: np.random.Generator, shape: tuple[int, ...], pairs: bool) -> Layer | None:
    """A random conv2d or maxpool2d that tiles the (C, H, W) input exactly, or None if none was found."""
    c, h, w = shape
    kind = "conv2d" if rng.random() < 0.65 else "maxpool2d"
    for _ in range(20):
        if kind == "conv2d":
            k, s, p = _draw(rng, 1, 6, pairs), _draw(rng, 1, 4, pairs), _draw(rng, 0, 3, pairs)
        else:
            k, p = _draw(rng, 2, 4, pairs), [0, 0]
            s = list(k) if rng.random() < 0.5 else _draw(rng, 1, 4, pairs)
        if _fits(h, k[0], s[0], p[0]) and _fits(w, k[1], s[1], p[1]):
            break
    else:
        return None
    layer: Layer = {"type": kind, "kernel_size": _arg(rng, *k)}
    if kind == "conv2d":
        layer = {"type": kind, "in_channels": c, "out_channels": int(rng.integers(1, 6)), **layer}
        if s != [1, 1] or rng.random() < 0.3:
            layer["stride"] = _arg(rng, *s)
        if p != [0, 0] or rng.random() < 0.3:
            layer["padding"] = _arg(rng, *p)
        if rng.random() < 0.6:
            layer["bias"] = bool(rng.random() < 0.5)
    elif s != k or rng.random() < 0.3:
        layer["stride"] = _arg(rng, *s)
    return layer


def output_shape(layer: Layer, shape: tuple[int, ...]) -> tuple[int, ...]:
    kind = layer["type"]
    if kind in ("conv2d", "maxpool2d"):
        (kh, kw), (ph, pw) = pair(layer["kernel_size"]), pair(layer.get("padding", 0))
        stride = layer.get("stride")
        sh, sw = pair((1 if kind == "conv2d" else layer["kernel_size"]) if stride is None else stride)
        c = layer["out_channels"] if kind == "conv2d" else shape[0]
        return c, (shape[1] - kh + 2 * ph) // sh + 1, (shape[2] - kw + 2 * pw) // sw + 1
    if kind == "flatten":
        return (int(np.prod(shape)),)
    if kind == "linear":
        return (layer["out_features"],)
    return shape


def random_stack(rng: np.random.Generator, *, pairs: bool, head: bool,
                 min_layers: int = 1) -> tuple[list[Layer], tuple[int, int, int]]:
    """Random conv2d/maxpool2d/relu layers that tile exactly, optionally a flatten + linear head."""
    shape0 = (int(rng.integers(1, 5)), int(rng.integers(6, 30)), int(rng.integers(6, 30)))
    shape: tuple[int, ...] = shape0
    layers: list[Layer] = []
    target = int(rng.integers(min_layers, 6))  # conv2d and maxpool2d layers, relu not counted
    for _ in range(50):
        if sum(layer["type"] != "relu" for layer in layers) >= target:
            break
        layer = {"type": "relu"} if rng.random() < 0.2 else random_layer(rng, shape, pairs)
        if layer is not None:
            layers.append(layer)
            shape = output_shape(layer, shape)
    if head:
        layers.append({"type": "flatten"})
        for _ in range(int(rng.integers(1, 3))):
            layer = {"type": "linear", "in_features": int(np.prod(shape)), "out_features": int(rng.integers(1, 12))}
            if rng.random() < 0.6:
                layer["bias"] = bool(rng.random() < 0.5)
            layers.append(layer)
            shape = output_shape(layer, shape)
    return layers, shape0


def check_field(received: Any, expected: Any, *, name: str, hint: str = "") -> None:
    """An int for a square field, a pair (height, width) otherwise."""
    if isinstance(expected, int):
        checks.check_int(received, expected, name=name,
                         hint=hint or "a square receptive field is returned as one int")
        return
    got = checks.unpack(received, 2, name=f"{name} (a non-square field is a tuple (height, width))")
    for axis, value, want in zip(("height", "width"), got, expected):
        checks.check_int(value, want, name=f"{name}: the {axis}", hint=hint)


# ---------------------------------------------------------------- output_size


@pytest.mark.question("output_size", weight=2)
def test_output_size_random_whole_cases(student, reference, rng):
    """Exact tilings: F may exceed W when padded, P and S up to 5, P = 0 and S = 1 included."""
    for i in range(12):
        F, S, P = int(rng.integers(1, 12)), int(rng.integers(1, 6)), int(rng.integers(0, 6))
        if i < 3:
            P = 0
        if i in (3, 4):
            S = 1
        low = max(0, -((F - 2 * P - 1) // S))  # W - F + 2P = m * S with m >= 0 and W >= 1
        W = int(rng.integers(low, low + 20)) * S + F - 2 * P
        expected = reference.cnn.conv_output_size(W, F, S, P)
        with torch_small():
            t_out = nn.Conv2d(1, 1, F, stride=S, padding=P)(torch.zeros(1, 1, W, W))
        got = student.cnn.conv_output_size(W, F, S, P)
        hint = "(W - F + 2P) / S + 1, with P added on both sides"
        checks.check_int(got, expected, name=f"conv_output_size, random case {i + 1}", hint=hint)
        checks.check_int(got, t_out.shape[-1], name=f"conv_output_size vs nn.Conv2d, random case {i + 1}", hint=hint)


@pytest.mark.question("output_size")
def test_output_size_raises_when_not_whole(student, rng):
    """Strides that do not tile the padded input, and filters wider than the padded input."""
    for i in range(6):
        S, F, P = int(rng.integers(2, 6)), int(rng.integers(1, 8)), int(rng.integers(0, 4))
        W = int(rng.integers(1, 10)) * S + F - 2 * P + int(rng.integers(1, S))
        if W < 1:
            W += S * ((1 - W) // S + 1)
        checks.check_raises(ValueError, student.cnn.conv_output_size, W, F, S, P,
                            name=f"conv_output_size must raise ValueError when (W - F + 2P) / S is not whole ({i + 1})",
                            hint="do not round: check that S divides W - F + 2P")
    for i in range(3):
        P = int(rng.integers(0, 3))
        W = int(rng.integers(1, 8))
        F = W + 2 * P + int(rng.integers(1, 4))
        S = 1 if i == 0 else int(rng.integers(1, 3))  # S = 1: every negative span is a multiple of S
        checks.check_raises(ValueError, student.cnn.conv_output_size, W, F, S, P,
                            name=f"conv_output_size must raise ValueError when F > W + 2P ({i + 1})",
                            hint="W - F + 2P < 0 gives no output at all")


@pytest.mark.question("output_size")
def test_output_size_rejects_invalid_arguments(student, rng):
    W, F = int(rng.integers(8, 20)), 2 * int(rng.integers(0, 3)) + 1
    cases = [
        ((0, F, 1, 0), "W = 0"), ((-W, F, 1, 0), "W < 0"), ((W, 0, 1, 0), "F = 0"), ((W, F, 0, 0), "S = 0"),
        ((W, F, -1, 0), "S < 0"), ((W, F, 1, -1), "P < 0"), ((float(W), F, 1, 0), "W a float"),
        ((W, float(F), 1, 0), "F a float"), ((W, F, 1, 0.5), "P a float"), ((W, F, True, 0), "S a bool"),
        ((W, F, 1, False), "P a bool"), ((str(W), F, 1, 0), "W a string"),
    ]
    for args, why in cases:
        checks.check_raises(ValueError, student.cnn.conv_output_size, *args,
                            name=f"conv_output_size must raise ValueError: {why}",
                            hint="check every argument: an int (not a bool), W, F, S >= 1 and P >= 0")


# ---------------------------------------------------------------- parameter_count


@pytest.mark.question("parameter_count")
def test_conv_parameters_random(student, reference, rng):
    for i in range(8):
        C, K = int(rng.integers(1, 64)), int(rng.integers(1, 64))
        F = int(rng.integers(1, 8)) if i < 3 else _arg(rng, int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        kwargs = {} if i % 3 == 0 else {"bias": bool(i % 3 == 1)}
        expected = reference.cnn.conv_parameters(C, K, F, **kwargs)
        got = student.cnn.conv_parameters(C, K, F, **kwargs)
        hint = "K filters of C x F_h x F_w weights, plus K biases when bias is True (the default)"
        checks.check_int(got, expected, name=f"conv_parameters, random case {i + 1}", hint=hint)
        checks.check_int(got, torch_parameters([conv(C, K, F, **kwargs)]),
                         name=f"conv_parameters vs nn.Conv2d, random case {i + 1}", hint=hint)


@pytest.mark.question("parameter_count", weight=2)
def test_count_parameters_random_stacks(student, reference, rng):
    for i in range(8):
        layers, _ = random_stack(rng, pairs=i >= 2, head=True)
        got = student.cnn.count_parameters(layers)
        hint = "conv2d and linear: weights plus biases unless bias is False; pooling, relu, flatten: none"
        checks.check_int(got, reference.cnn.count_parameters(layers), name=f"count_parameters, random network {i + 1}",
                         hint=hint)
        checks.check_int(got, torch_parameters(layers), name=f"count_parameters vs torch, random network {i + 1}",
                         hint=hint)


@pytest.mark.question("parameter_count", weight=0.5)
def test_count_parameters_vgg16(student, reference):
    checks.check_int(student.cnn.count_parameters(vgg16()), reference.cnn.count_parameters(vgg16()),
                     name="count_parameters of VGG16 (13 convolutions, 3 linear layers)")


@pytest.mark.question("parameter_count", weight=0.5)
def test_count_parameters_rejects_unknown_layers(student):
    layers = [conv(3, 4, 3), {"type": "batchnorm2d", "num_features": 4}]
    checks.check_raises(ValueError, student.cnn.count_parameters, layers,
                        name="count_parameters must raise ValueError for an unknown layer type")


# ---------------------------------------------------------------- receptive_field


@pytest.mark.question("receptive_field", weight=1.5)
def test_receptive_field_vgg16(student, reference):
    """pool5 of VGG16, and each earlier pool (prefixes of the same list)."""
    layers = vgg16_features()
    ends = [i + 1 for i, layer in enumerate(layers) if layer["type"] == "maxpool2d"]
    for n, end in enumerate(ends, start=1):
        check_field(student.cnn.receptive_field(layers[:end]), reference.cnn.receptive_field(layers[:end]),
                    name=f"receptive_field of VGG16 up to pool{n}",
                    hint="each layer maps r output units to (r - 1) * stride + kernel input units")


@pytest.mark.question("receptive_field", weight=1.5)
def test_receptive_field_random_square_stacks(student, reference, rng):
    for i in range(8):
        layers, _ = random_stack(rng, pairs=False, head=False, min_layers=2)
        check_field(student.cnn.receptive_field(layers), reference.cnn.receptive_field(layers),
                    name=f"receptive_field, random square network {i + 1}",
                    hint="walk back from the output: r = (r - 1) * stride + kernel; "
                         "a max pool's stride defaults to its size")


@pytest.mark.question("receptive_field")
def test_receptive_field_random_non_square_stacks(student, reference, rng):
    for i in range(8):
        layers, _ = random_stack(rng, pairs=True, head=False, min_layers=2)
        check_field(student.cnn.receptive_field(layers), reference.cnn.receptive_field(layers),
                    name=f"receptive_field, random network with (height, width) pairs {i + 1}",
                    hint="height and width use their own kernel sizes and strides")


@pytest.mark.question("receptive_field")
def test_receptive_field_conventions(student, reference, rng):
    k = int(rng.integers(2, 5))
    cases = [
        ([{"type": "maxpool2d", "kernel_size": k}, conv(1, 1, 3)], "a max pool's stride defaults to its size"),
        ([{"type": "maxpool2d", "kernel_size": k, "stride": None}, conv(1, 1, 3)], "stride None means its size"),
        ([conv(1, 1, (k + 1, 1)), conv(1, 1, [1, k + 1])], "a square field is one int, whatever the kernels"),
        ([conv(1, 1, (k, k), stride=[2, 2])], "a square pair is one int"),
        ([], "an empty network: a pixel sees itself"),
    ]
    for layers, why in cases:
        check_field(student.cnn.receptive_field(layers), reference.cnn.receptive_field(layers),
                    name=f"receptive_field: {why}")
    for kind, extra in (("flatten", {}), ("linear", {"in_features": 4, "out_features": 2})):
        layers = [conv(1, 1, 3), {"type": kind, **extra}]
        checks.check_raises(ValueError, student.cnn.receptive_field, layers,
                            name=f"receptive_field must raise ValueError for a {kind} layer")


# ---------------------------------------------------------------- flops


@pytest.mark.question("flops", weight=2)
def test_flops_conv_relu_pool(student, reference, rng):
    """The README's shape of network (conv, ReLU, max pool) with random sizes, bias on and off."""
    for i in range(6):
        C, K = int(rng.integers(1, 40)), int(rng.integers(1, 20))
        F, S, P = int(rng.integers(1, 6)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
        pool = int(rng.integers(2, 4))
        pool_stride = pool if i % 2 == 0 else int(rng.integers(1, 3))  # even cases: the default stride
        pool_in = (int(rng.integers(1, 5)) - 1) * pool_stride + pool  # both layers tile exactly
        side = (pool_in - 1) * S + F - 2 * P
        if side < 1:
            side, P = side + 2 * P, 0
        bias = {} if i % 3 == 0 else {"bias": i % 3 == 1}  # default, True, False
        pool_layer: Layer = {"type": "maxpool2d", "kernel_size": pool}
        if i % 2:
            pool_layer["stride"] = pool_stride
        layers = [conv(C, K, F, stride=S, padding=P, **bias), {"type": "relu"}, pool_layer]
        shape = (C, side, side)
        checks.check_int(student.cnn.count_flops(layers, shape), reference.cnn.count_flops(layers, shape),
                         name=f"count_flops of conv, relu, max pool, random case {i + 1}",
                         hint="conv: 2n - 1 per output plus 1 for the bias; max of m numbers: m - 1; relu: 0")


@pytest.mark.question("flops", weight=2)
def test_flops_random_stacks(student, reference, rng):
    for i in range(10):
        layers, shape = random_stack(rng, pairs=i >= 3, head=i % 2 == 1)
        checks.check_int(student.cnn.count_flops(layers, shape), reference.cnn.count_flops(layers, shape),
                         name=f"count_flops, random network {i + 1}",
                         hint="shapes from conv_output_size along height and width; kernel, stride, padding may be pairs")


@pytest.mark.question("flops")
def test_flops_vgg16(student, reference, rng):
    side = 32 * int(rng.integers(1, 8))
    for layers, shape, what in ((vgg16(), (3, 224, 224), "VGG16 on a 224 x 224 image"),
                                (vgg16_features(), (3, side, side), "VGG16's convolutions and pools, random image size")):
        checks.check_int(student.cnn.count_flops(layers, shape), reference.cnn.count_flops(layers, shape),
                         name=f"count_flops of {what}")


@pytest.mark.question("flops")
def test_flops_reject_invalid_networks(student, rng):
    """Mismatched shapes. (Sizes that do not tile come from conv_output_size: graded in output_size.)"""
    C, side = int(rng.integers(1, 5)), 2 * int(rng.integers(4, 10)) + 1
    cases = [
        ([conv(C + 1, 2, 3)], (C, side, side), "in_channels differs from the input's channels"),
        ([conv(C, 2, 3), conv(C + 2, 2, 3)], (C, side, side), "in_channels differs from the previous out_channels"),
        ([{"type": "linear", "in_features": C * side * side, "out_features": 2}], (C, side, side), "linear before flatten"),
        ([{"type": "flatten"}, {"type": "linear", "in_features": side, "out_features": 2}], (C, side, side),
         "in_features differs from the flattened size"),
        ([{"type": "softmax"}], (C, side, side), "an unknown layer type"),
        ([{"type": "relu"}], (C, side), "input_shape is not (C, H, W)"),
    ]
    for layers, shape, why in cases:
        checks.check_raises(ValueError, student.cnn.count_flops, layers, shape,
                            name=f"count_flops must raise ValueError: {why}")
