"""The cnn reference solution agrees with PyTorch, and so does every number in the README.

Students are graded against solutions/cnn, so each function is checked here against torch:
output sizes against torch.nn.Conv2d/MaxPool2d shapes, parameter counts against the numel of
torch.nn modules, receptive fields against the support of an autograd gradient, and FLOPs against
torch.utils.flop_counter.FlopCounterMode (related exactly to the assignment's convention).
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "cnn" / "cnn.py"
README = ROOT / "assignments" / "cnn" / "README.md"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cnn_reference", SOLUTION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cnn = _load()
Layer = dict[str, Any]


# ---------------------------------------------------------------- torch references


def pair(v: Any) -> tuple[int, int]:
    return (v[0], v[1]) if isinstance(v, (list, tuple)) else (v, v)


def pool_stride(layer: Layer) -> Any:
    return layer["kernel_size"] if layer.get("stride") is None else layer["stride"]


def torch_module(layer: Layer, device: str = "meta") -> nn.Module:
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
    return sum(p.numel() for p in nn.Sequential(*(torch_module(layer) for layer in layers)).parameters())


def torch_receptive_field(layers: list[Layer]) -> tuple[int, int]:
    """Extent of the input pixels with a non-zero gradient of the top-left output unit.

    All-ones convolutions without padding (padding moves the field, it does not resize it), and
    average pooling in place of max pooling: the same windows, but the gradient reaches every
    pixel of a window instead of the argmax only. All weights are positive, so nothing cancels.
    """
    mods: list[nn.Module] = []
    size = [1, 1]  # an input large enough for at least one output unit
    for layer in layers:
        if layer["type"] == "relu":
            mods.append(nn.ReLU())
            continue
        k = pair(layer["kernel_size"])
        s = pair(layer.get("stride", 1) if layer["type"] == "conv2d" else pool_stride(layer))
        if layer["type"] == "conv2d":
            conv = nn.Conv2d(1, 1, k, stride=s, bias=False, dtype=torch.float64)
            nn.init.ones_(conv.weight)
            mods.append(conv)
        else:
            mods.append(nn.AvgPool2d(k, stride=s))
    for layer in reversed(layers):
        if layer["type"] != "relu":
            k = pair(layer["kernel_size"])
            s = pair(layer.get("stride", 1) if layer["type"] == "conv2d" else pool_stride(layer))
            size = [size[i] * s[i] + k[i] for i in range(2)]
    x = torch.ones(1, 1, *size, dtype=torch.float64, requires_grad=True)
    nn.Sequential(*mods)(x)[0, 0, 0, 0].backward()
    support = (x.grad[0, 0] != 0).numpy()
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def torch_flops(layers: list[Layer], input_shape: tuple[int, int, int]) -> int:
    """FlopCounterMode counts 2 * (multiply-accumulates) for conv2d and linear and nothing else.

    Under the assignment's convention a dot product of n terms costs 2n - 1 FLOPs plus 1 for the
    bias, so: ours = torch's - (outputs of layers without bias) + (comparisons of the max pools).
    """
    x = torch.empty(1, *input_shape, device="meta")
    adjust = 0
    with FlopCounterMode(display=False) as counter:
        for layer in layers:
            x = torch_module(layer)(x)
            if layer["type"] in ("conv2d", "linear") and not layer.get("bias", True):
                adjust -= x.numel()
            elif layer["type"] == "maxpool2d":
                kh, kw = pair(layer["kernel_size"])
                adjust += x.numel() * (kh * kw - 1)
    return counter.get_total_flops() + adjust


# ---------------------------------------------------------------- layer stacks


def vgg16_features() -> list[Layer]:
    """VGG16's 13 convolutions (3x3, padding 1) and 5 max pools (2x2, stride 2), up to pool5."""
    layers: list[Layer] = []
    channels = 3
    for width, n_convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(n_convs):
            layers += [{"type": "conv2d", "in_channels": channels, "out_channels": width, "kernel_size": 3,
                        "padding": 1}, {"type": "relu"}]
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


def random_layer(rng: np.random.Generator, shape: tuple[int, int, int], pairs: bool) -> Layer | None:
    """A random conv2d or maxpool2d that tiles the (C, H, W) input exactly, or None if none was found."""
    c, h, w = shape
    kind = "conv2d" if rng.random() < 0.65 else "maxpool2d"
    for _ in range(20):
        if kind == "conv2d":
            k = rng.integers(1, 6, size=2) if pairs else np.repeat(rng.integers(1, 6), 2)
            s = rng.integers(1, 4, size=2) if pairs else np.repeat(rng.integers(1, 4), 2)
            p = rng.integers(0, 3, size=2) if pairs else np.repeat(rng.integers(0, 3), 2)
        else:
            k = rng.integers(2, 4, size=2) if pairs else np.repeat(rng.integers(2, 4), 2)
            s = rng.integers(1, 4, size=2) if pairs else np.repeat(rng.integers(1, 4), 2)
            s = k.copy() if rng.random() < 0.5 else s
            p = np.zeros(2, dtype=int)
        k, s, p = [int(v) for v in k], [int(v) for v in s], [int(v) for v in p]
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
    """The shape after a layer, by the formula (random stacks only use layers that tile exactly)."""
    kind = layer["type"]
    if kind in ("conv2d", "maxpool2d"):
        (kh, kw), (ph, pw) = pair(layer["kernel_size"]), pair(layer.get("padding", 0))
        sh, sw = pair(layer.get("stride", 1) if kind == "conv2d" else pool_stride(layer))
        c = layer["out_channels"] if kind == "conv2d" else shape[0]
        return c, (shape[1] - kh + 2 * ph) // sh + 1, (shape[2] - kw + 2 * pw) // sw + 1
    if kind == "flatten":
        return (int(np.prod(shape)),)
    if kind == "linear":
        return (layer["out_features"],)
    return shape


def random_stack(rng: np.random.Generator, *, pairs: bool, head: bool) -> tuple[list[Layer], tuple[int, int, int]]:
    """1-5 random conv2d/maxpool2d/relu layers that tile exactly, optionally a flatten + linear head."""
    shape0 = (int(rng.integers(1, 5)), int(rng.integers(6, 30)), int(rng.integers(6, 30)))
    shape: tuple[int, ...] = shape0
    layers: list[Layer] = []
    for _ in range(int(rng.integers(1, 6))):
        layer = {"type": "relu"} if rng.random() < 0.25 else random_layer(rng, shape, pairs)
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


# ---------------------------------------------------------------- output_size


def test_output_size_matches_torch_shapes_exhaustively():
    """Whole sizes equal torch's; torch floors the others (we raise) or refuses them (we raise too)."""
    for W, F, S, P in itertools.product(range(1, 13), range(1, 7), range(1, 5), range(0, 4)):
        conv = nn.Conv2d(1, 1, F, stride=S, padding=P, device="meta")
        span = W - F + 2 * P
        if span >= 0 and span % S == 0:
            out = cnn.conv_output_size(W, F, S, P)
            assert type(out) is int
            assert out == conv(torch.empty(1, 1, W, W, device="meta")).shape[-1], (W, F, S, P)
        else:
            with pytest.raises(ValueError):
                cnn.conv_output_size(W, F, S, P)
            if span < 0:
                with pytest.raises(RuntimeError):
                    conv(torch.empty(1, 1, W, W, device="meta"))


def test_output_size_matches_maxpool_shapes():
    for W, F, S in itertools.product(range(2, 15), range(2, 5), range(1, 5)):
        if (W - F) >= 0 and (W - F) % S == 0:
            out = nn.MaxPool2d(F, stride=S)(torch.empty(1, 1, W, W, device="meta")).shape[-1]
            assert cnn.conv_output_size(W, F, S) == out


@pytest.mark.parametrize("args", [(0, 1), (5, 0), (5, 3, 0), (5, 3, 1, -1), (7.0, 3), (7, 3.0), (7, 3, True),
                                  (True, 1), (7, 3, 1, False), ("7", 3), (None, 3), (np.float64(7), 3),
                                  (3, 5), (3, 6, 3), (32, 5, 2), (10, 3, 1, 1.5)])
def test_output_size_rejects_invalid_arguments(args):
    with pytest.raises(ValueError):
        cnn.conv_output_size(*args)


def test_output_size_accepts_numpy_integers():
    assert cnn.conv_output_size(np.int64(7), np.int32(3), np.int64(2), np.int64(1)) == 4


# ---------------------------------------------------------------- parameter_count


def test_conv_parameters_match_torch():
    rng = np.random.default_rng(0)
    for _ in range(200):
        C, K = int(rng.integers(1, 20)), int(rng.integers(1, 20))
        F = int(rng.integers(1, 8)) if rng.random() < 0.5 else (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        bias = bool(rng.random() < 0.5)
        layer = {"type": "conv2d", "in_channels": C, "out_channels": K, "kernel_size": F, "bias": bias}
        assert cnn.conv_parameters(C, K, F, bias) == torch_parameters([layer])
        assert cnn.conv_parameters(C, K, list(F) if isinstance(F, tuple) else F, bias=bias) == torch_parameters([layer])


def test_count_parameters_matches_torch_on_random_stacks():
    rng = np.random.default_rng(1)
    for _ in range(150):
        layers, _ = random_stack(rng, pairs=True, head=True)
        assert cnn.count_parameters(layers) == torch_parameters(layers), layers


def test_count_parameters_of_vgg16():
    assert cnn.count_parameters(vgg16()) == torch_parameters(vgg16()) == 138_357_544


def test_count_parameters_rejects_unknown_layers():
    with pytest.raises(ValueError):
        cnn.count_parameters([{"type": "batchnorm2d", "num_features": 3}])


# ---------------------------------------------------------------- receptive_field


def _as_pair(rf: Any) -> tuple[int, int]:
    if isinstance(rf, tuple):
        assert len(rf) == 2 and rf[0] != rf[1] and all(type(v) is int for v in rf), rf
        return rf
    assert type(rf) is int, rf
    return rf, rf


def test_receptive_field_matches_torch_on_random_stacks():
    rng = np.random.default_rng(2)
    for pairs in (False, True):
        for _ in range(120):
            layers, _ = random_stack(rng, pairs=pairs, head=False)
            assert _as_pair(cnn.receptive_field(layers)) == torch_receptive_field(layers), layers


def test_receptive_field_when_pool_stride_exceeds_its_kernel():
    """The field is then not contiguous; its bounding box still follows the recursion."""
    layers = [{"type": "maxpool2d", "kernel_size": 2, "stride": 3}, {"type": "conv2d", "in_channels": 1,
                                                                       "out_channels": 1, "kernel_size": 2}]
    assert cnn.receptive_field(layers) == torch_receptive_field(layers)[0] == 5


def test_receptive_field_of_vgg16_pool5():
    layers = vgg16_features()
    assert cnn.receptive_field(layers) == torch_receptive_field(layers)[0] == 212
    # pool1 ... pool5
    pools = [i + 1 for i, layer in enumerate(layers) if layer["type"] == "maxpool2d"]
    assert [cnn.receptive_field(layers[:n]) for n in pools] == [torch_receptive_field(layers[:n])[0] for n in pools]


def test_receptive_field_square_rule():
    conv = {"type": "conv2d", "in_channels": 1, "out_channels": 1}
    assert cnn.receptive_field([{**conv, "kernel_size": (3, 1)}, {**conv, "kernel_size": [1, 3]}]) == 3
    assert cnn.receptive_field([{**conv, "kernel_size": (3, 5)}]) == (3, 5)
    assert cnn.receptive_field([]) == 1


@pytest.mark.parametrize("kind", ["linear", "flatten", "dropout"])
def test_receptive_field_rejects_other_layers(kind):
    with pytest.raises(ValueError):
        cnn.receptive_field([{"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 3},
                             {"type": kind, "in_features": 1, "out_features": 1}])


# ---------------------------------------------------------------- flops


def test_flops_match_flop_counter_on_random_stacks():
    rng = np.random.default_rng(3)
    for pairs, head in ((False, False), (True, False), (True, True)):
        for _ in range(80):
            layers, shape = random_stack(rng, pairs=pairs, head=head)
            assert cnn.count_flops(layers, shape) == torch_flops(layers, shape), (layers, shape)


def test_flops_of_vgg16():
    assert cnn.count_flops(vgg16(), (3, 224, 224)) == torch_flops(vgg16(), (3, 224, 224))


def test_flops_hand_worked_cases():
    one = {"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 3}
    assert cnn.count_flops([{**one, "bias": False}], (1, 3, 3)) == 9 + 8
    assert cnn.count_flops([one], (1, 3, 3)) == 9 + 8 + 1
    assert cnn.count_flops([{**one, "padding": 1}], (1, 3, 3)) == 9 * 18
    assert cnn.count_flops([{"type": "maxpool2d", "kernel_size": 2}], (2, 4, 4)) == 2 * 4 * 3
    assert cnn.count_flops([{"type": "relu"}, {"type": "flatten"}], (3, 5, 5)) == 0
    assert cnn.count_flops([{"type": "flatten"}, {"type": "linear", "in_features": 4, "out_features": 2}],
                           (1, 2, 2)) == 2 * (4 + 3 + 1)


@pytest.mark.parametrize("layers, shape", [
    ([{"type": "conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3}], (2, 8, 8)),
    ([{"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "stride": 2}], (1, 8, 8)),
    ([{"type": "maxpool2d", "kernel_size": 2}], (1, 5, 5)),
    ([{"type": "linear", "in_features": 4, "out_features": 2}], (1, 2, 2)),
    ([{"type": "flatten"}, {"type": "linear", "in_features": 5, "out_features": 2}], (1, 2, 2)),
    ([{"type": "softmax"}], (1, 2, 2)),
    ([], (1, 2)), ([], (0, 2, 2)), ([], (1.0, 2, 2)), ([], (True, 2, 2)),
])
def test_flops_reject_invalid_stacks(layers, shape):
    with pytest.raises(ValueError):
        cnn.count_flops(layers, shape)


# ---------------------------------------------------------------- the solution file


def test_solution_imports_only_numpy_and_the_standard_library():
    tree = ast.parse(SOLUTION.read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"numpy", "math", "typing", "__future__"}, imported


def test_every_function_returns_plain_ints():
    layers, shape = random_stack(np.random.default_rng(4), pairs=False, head=True)
    assert type(cnn.count_parameters(layers)) is int
    assert type(cnn.count_flops(layers, shape)) is int
    assert type(cnn.conv_parameters(np.int64(3), np.int64(4), np.int64(3))) is int


# ---------------------------------------------------------------- the README's numbers


def _readme_numbers() -> list[tuple[str, int, int]]:
    """(text quoted in the README, the reference's value, torch's value); the text's last number is the value."""
    rows: list[tuple[str, int, int]] = []

    def out_size(W: int, F: int, S: int = 1, P: int = 0) -> int:
        return nn.Conv2d(1, 1, F, stride=S, padding=P, device="meta")(torch.empty(1, 1, W, W, device="meta")).shape[-1]

    for quoted, args in (("conv_output_size(32, 5) == 28", (32, 5)),
                         ("conv_output_size(32, 5, S=3) == 10", (32, 5, 3)),
                         ("conv_output_size(32, 5, S=3, P=3) == 12", (32, 5, 3, 3)),
                         ("conv_output_size(227, 11, S=4) == 55", (227, 11, 4)),
                         ("conv_output_size(55, 3, S=2) == 27", (55, 3, 2))):
        rows.append((quoted, cnn.conv_output_size(*args), out_size(*args)))

    conv = {"type": "conv2d", "in_channels": 3, "out_channels": 96, "kernel_size": 11}
    rows.append(("conv_parameters(3, 96, 11) == 34944", cnn.conv_parameters(3, 96, 11), torch_parameters([conv])))
    conv = {"type": "conv2d", "in_channels": 5, "out_channels": 25, "kernel_size": 3}
    rows.append(("conv_parameters(5, 25, 3) == 1150", cnn.conv_parameters(5, 25, 3), torch_parameters([conv])))
    conv = {"type": "conv2d", "in_channels": 5, "out_channels": 25, "kernel_size": (1, 3), "bias": False}
    rows.append(("conv_parameters(5, 25, (1, 3), bias=False) == 375",
                 cnn.conv_parameters(5, 25, (1, 3), bias=False), torch_parameters([conv])))
    small = readme_small_net()
    side = 16
    for layer in small[:-2]:
        if layer["type"] in ("conv2d", "maxpool2d"):
            side = cnn.conv_output_size(side, layer["kernel_size"], layer.get("stride", 1) if layer["type"] == "conv2d"
                                        else layer["kernel_size"], layer.get("padding", 0))
    t_features = nn.Sequential(*(torch_module(layer) for layer in small[:-1]))(torch.empty(1, 3, 16, 16, device="meta"))
    rows.append(("16 × 3 × 3 = 144", 16 * side * side, t_features.numel()))
    rows.append(("count_parameters(net) == 2826", cnn.count_parameters(small), torch_parameters(small)))
    rows.append(("linear layers) has 138357544", cnn.count_parameters(vgg16()), torch_parameters(vgg16())))

    two = [{"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 3}] * 2
    rows.append(("two stacked 3x3 convolutions see 5", cnn.receptive_field(two), torch_receptive_field(two)[0]))
    rf = cnn.receptive_field(small[:-2])
    rows.append(("receptive_field(net[:-2]) == 10", rf, torch_receptive_field(small[:-2])[0]))
    rows.append(("receptive_field(vgg16_features) == 212", cnn.receptive_field(vgg16_features()),
                 torch_receptive_field(vgg16_features())[0]))
    rect = [{"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": (3, 5)},
            {"type": "maxpool2d", "kernel_size": 2}]
    ref_h, ref_w = cnn.receptive_field(rect)
    t_h, t_w = torch_receptive_field(rect)
    rows += [("returns (4,", ref_h, t_h), ("returns (4, 6)", ref_w, t_w)]
    cross = [{"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": (3, 1)},
             {"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": (1, 3)}]
    rows.append(("returns the int 3", cnn.receptive_field(cross), torch_receptive_field(cross)[0]))
    rows.append(("an empty list returns 1", cnn.receptive_field([]), torch_receptive_field([])[0]))

    seed_net = readme_flops_net()
    parts = [seed_net[:1], seed_net[:2], seed_net]
    nobias = [{**seed_net[0], "bias": False}]
    rows += [("layer C costs 564480", cnn.count_flops(parts[0], (30, 14, 14)), torch_flops(parts[0], (30, 14, 14))),
             ("(563892 without the bias", cnn.count_flops(nobias, (30, 14, 14)), torch_flops(nobias, (30, 14, 14))),
             ("the ReLU costs 0", cnn.count_flops(parts[1], (30, 14, 14)) - cnn.count_flops(parts[0], (30, 14, 14)),
              torch_flops(parts[1], (30, 14, 14)) - torch_flops(parts[0], (30, 14, 14))),
             ("layer P costs 864", cnn.count_flops(parts[2], (30, 14, 14)) - cnn.count_flops(parts[1], (30, 14, 14)),
              torch_flops(parts[2], (30, 14, 14)) - torch_flops(parts[1], (30, 14, 14))),
             ("count_flops(c_and_p, (30, 14, 14)) == 565344", cnn.count_flops(seed_net, (30, 14, 14)),
              torch_flops(seed_net, (30, 14, 14))),
             ("count_flops(net, (3, 16, 16)) == 197808", cnn.count_flops(small, (3, 16, 16)),
              torch_flops(small, (3, 16, 16)))]
    c_out = torch_module(seed_net[0])(torch.empty(1, 30, 14, 14, device="meta"))
    p_out = torch_module(seed_net[2])(c_out)
    c_side = cnn.conv_output_size(14, 4, S=2, P=1)
    rows += [("C's output is 12 × 7", c_side, c_out.shape[-2]), ("C's output is 12 × 7 × 7", c_side, c_out.shape[-1]),
             ("P's output is 12 × 3", cnn.conv_output_size(c_side, 3, S=2), p_out.shape[-2]),
             ("P's output is 12 × 3 × 3", cnn.conv_output_size(c_side, 3, S=2), p_out.shape[-1])]
    return rows


def readme_small_net() -> list[Layer]:
    return [
        {"type": "conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "relu"},
        {"type": "maxpool2d", "kernel_size": 2},
        {"type": "conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 3, "bias": False},
        {"type": "relu"},
        {"type": "maxpool2d", "kernel_size": 2},
        {"type": "flatten"},
        {"type": "linear", "in_features": 144, "out_features": 10},
    ]


def readme_flops_net() -> list[Layer]:
    return [
        {"type": "conv2d", "in_channels": 30, "out_channels": 12, "kernel_size": 4, "stride": 2, "padding": 1},
        {"type": "relu"},
        {"type": "maxpool2d", "kernel_size": 3, "stride": 2},
    ]


def test_readme_nets_are_quoted_as_written():
    """The README shows these two layer lists; they must be the ones whose numbers it quotes."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    for net in (readme_small_net(), readme_flops_net()):
        for layer in net:
            assert repr(layer).replace("'", '"') in text, layer


def test_every_number_in_the_readme_comes_from_the_reference_and_matches_torch():
    text = " ".join(README.read_text(encoding="utf-8").split())  # line breaks do not matter
    for quoted, ref, tch in _readme_numbers():
        assert quoted in text, f"the README no longer quotes {quoted!r}"
        number = int(re.findall(r"\d+", quoted)[-1])  # by convention the last number is the value
        assert number == ref, f"{quoted!r}: the reference computes {ref!r}"
        assert number == tch, f"{quoted!r}: torch computes {tch!r}"
