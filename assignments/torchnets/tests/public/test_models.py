"""Public tests for models.py: layers by name, shapes and logits against torch.nn built from the spec.

Your modules are built in your code's process; the tests compare them with modules they build from
the README's specification with torch.nn, after copying the same weights into both by name
(`load_state_dict`). Weights travel as float16 (half the bytes) and are loaded into float32 layers.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gradekit import checks


def alexnet_spec(num_classes: int = 10, dropout: float = 0.5) -> nn.Module:
    model = nn.Module()
    model.conv_layer1 = nn.Sequential(nn.Conv2d(1, 96, 4), nn.ReLU(), nn.Conv2d(96, 96, 3), nn.ReLU())
    model.conv_layer2 = nn.Sequential(nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2))
    model.conv_layer3 = nn.Sequential(nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2))
    model.fc_layer1 = nn.Sequential(nn.Dropout(dropout), nn.Linear(6400, 800), nn.ReLU(), nn.Linear(800, num_classes))
    return model


def alexnet_forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model.conv_layer3(model.conv_layer2(model.conv_layer1(x)))
    return model.fc_layer1(torch.flatten(out, 1))


def layout(model) -> list[tuple[str, str, str]]:
    """(name, class, settings) of every submodule; ReLU's inplace flag is the student's choice."""
    rows = []
    for name, module in model.named_modules():
        if not name:
            continue  # the model itself: its class name is yours
        kind = module._get_name()
        rows.append((name, kind, "" if kind == "ReLU" else module.extra_repr()))
    return rows


def half_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return {k: v.half() for k, v in model.state_dict().items()}


@pytest.mark.question("alexnet_mnist")
def test_alexnet_layers_by_name(student):
    received = layout(student.models.AlexNetMNIST())
    with torch.device("meta"):  # the layout only: no weights to initialize
        expected = layout(alexnet_spec())
    checks.check_equal([r[0] for r in received], [e[0] for e in expected], name="AlexNetMNIST submodule names")
    checks.check_equal(received, expected, name="AlexNetMNIST layers (name, type, settings)")


@pytest.mark.question("alexnet_mnist", weight=2)
def test_alexnet_logits_match_torch(student):
    torch.manual_seed(0)
    spec = alexnet_spec().eval()
    weights = half_weights(spec)
    model = student.models.AlexNetMNIST()
    model.load_state_dict(weights)
    model.eval()
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        expected = alexnet_forward(spec, x)
    checks.check_array(model(x), expected, name="AlexNetMNIST logits in eval mode",
                       hint="no softmax at the end; flatten from dimension 1 (keep the batch dimension)")


def inception_spec(kind: str, in_ch: int, sizes: tuple[int, ...]) -> nn.Module:
    m = nn.Module()
    if kind == "naive":
        c1, c3, c5 = sizes
        m.branch1 = nn.Conv2d(in_ch, c1, 1)
        m.branch3 = nn.Conv2d(in_ch, c3, 3, padding=1)
        m.branch5 = nn.Conv2d(in_ch, c5, 5, padding=2)
        m.branch_pool = nn.MaxPool2d(3, stride=1, padding=1)
    else:
        c1, r3, c3, r5, c5, pp = sizes
        m.branch1 = nn.Conv2d(in_ch, c1, 1)
        m.branch3 = nn.Sequential(nn.Conv2d(in_ch, r3, 1), nn.Conv2d(r3, c3, 3, padding=1))
        m.branch5 = nn.Sequential(nn.Conv2d(in_ch, r5, 1), nn.Conv2d(r5, c5, 5, padding=2))
        m.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(in_ch, pp, 1))
    return m


def inception_forward(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([m.branch1(x), m.branch3(x), m.branch5(x), m.branch_pool(x)], dim=1)


@pytest.mark.question("inception")
@pytest.mark.parametrize("kind", ["naive", "bottleneck"])
def test_inception_blocks_match_torch(student, kind):
    torch.manual_seed(1)
    sizes = (2, 3, 2) if kind == "naive" else (2, 2, 3, 1, 2, 2)
    spec = inception_spec(kind, 4, sizes)
    cls = student.models.InceptionNaive if kind == "naive" else student.models.InceptionBottleneck
    block = cls(4, *sizes)
    state = block.state_dict()
    checks.check_equal(sorted(state), sorted(spec.state_dict()), name=f"Inception{kind.title()} parameter names")
    checks.check_equal({k: tuple(v.shape) for k, v in state.items()},
                       {k: tuple(v.shape) for k, v in spec.state_dict().items()},
                       name=f"Inception{kind.title()} parameter shapes")
    block.load_state_dict(spec.state_dict())
    x = torch.rand(2, 4, 7, 6)
    with torch.no_grad():
        expected = inception_forward(spec, x)
    checks.check_array(block(x), expected, name=f"Inception{kind.title()} output (channels concatenated in order)")
