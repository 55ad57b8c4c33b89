"""Hidden tests for models.py: per-student weights loaded by name, logits and dropout compared with
the reference (solutions/torchnets, itself checked against torch.nn in the project tests).

Weights are drawn per student (`seed`), rounded to float16 so that they travel at half the bytes and
load exactly into float32 layers. Both sides compute on one thread, so logits agree to the last bit;
the question's tolerance (rtol 1e-5) only absorbs a different but equivalent order of operations.
"""

from __future__ import annotations

import pytest
import torch

from gradekit import checks


def random_weights(shapes: dict[str, tuple[int, ...]], seed: int, scale: float = 1.0) -> dict[str, torch.Tensor]:
    """Weights like torch's default init (uniform, about 1/sqrt(fan_in)), per student, float16."""
    g = torch.Generator().manual_seed(seed % (2**63))
    out = {}
    for name, shape in shapes.items():
        fan_in = max(1, int(torch.tensor(shape[1:]).prod())) if len(shape) > 1 else max(1, shape[0])
        bound = scale / fan_in ** 0.5
        out[name] = ((torch.rand(shape, generator=g) * 2 - 1) * bound).half()
    return out


def alexnet_shapes(num_classes: int = 10) -> dict[str, tuple[int, ...]]:
    """The parameter names and shapes the README specifies (checked against the reference in the project tests)."""
    convs = {"conv_layer1.0": (96, 1, 4, 4), "conv_layer1.2": (96, 96, 3, 3), "conv_layer2.0": (256, 96, 5, 5),
             "conv_layer3.0": (384, 256, 3, 3), "conv_layer3.2": (384, 384, 3, 3), "conv_layer3.4": (256, 384, 3, 3),
             "fc_layer1.1": (800, 6400), "fc_layer1.3": (num_classes, 800)}
    out = {}
    for name, shape in convs.items():
        out[f"{name}.weight"] = shape
        out[f"{name}.bias"] = (shape[0],)
    return out


@pytest.mark.question("alexnet_mnist", weight=3)
def test_alexnet_logits_and_dropout_with_your_weights(student, reference, seed):
    weights = random_weights(alexnet_shapes(), seed)
    ref = reference.models.AlexNetMNIST()
    ref.load_state_dict(weights)
    model = student.models.AlexNetMNIST()
    model.load_state_dict(weights)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(seed % 1000))
    model.eval()
    ref.eval()
    checks.check_array(model(x), ref(x), name="AlexNetMNIST logits in eval mode (your weights)",
                       hint="no softmax; flatten from dimension 1; no dropout in eval mode; layers in the README's order")
    model.train()
    ref.train()
    student.torch.manual_seed(seed % 1000)
    received = model(x[:1])
    with torch.random.fork_rng():
        torch.manual_seed(seed % 1000)
        expected_train = ref(x[:1])
    checks.check_array(received, expected_train, name="AlexNetMNIST logits in train mode (dropout, same random mask)",
                       hint="nn.Dropout(dropout) first in fc_layer1, active only in train mode")


@pytest.mark.question("alexnet_mnist")
def test_alexnet_options(student):
    model = student.models.AlexNetMNIST(num_classes=7, dropout=0.2)
    checks.check_close(model.fc_layer1[0].p, 0.2, name="dropout probability of AlexNetMNIST(dropout=0.2)")
    checks.check_int(model.fc_layer1[3].out_features, 7, name="outputs of AlexNetMNIST(num_classes=7)")


def _sizes(rng, kind: str) -> tuple[int, ...]:
    n = 3 if kind == "naive" else 6
    return tuple(int(v) for v in rng.choice(range(1, 9), size=n, replace=False))  # distinct: swaps show


@pytest.mark.question("inception", weight=2)
@pytest.mark.parametrize("kind", ["naive", "bottleneck"])
def test_inception_with_your_sizes_and_weights(student, reference, rng, seed, kind):
    in_ch = int(rng.integers(9, 12))  # apart from the branch sizes
    sizes = _sizes(rng, kind)
    name = "InceptionNaive" if kind == "naive" else "InceptionBottleneck"
    ref = getattr(reference.models, name)(in_ch, *sizes)
    block = getattr(student.models, name)(in_ch, *sizes)
    expected_state = ref.state_dict()
    state = block.state_dict()
    checks.check_equal({k: tuple(v.shape) for k, v in state.items()},
                       {k: tuple(v.shape) for k, v in expected_state.items()},
                       name=f"{name} parameter names and shapes")
    checks.check_int(sum(v.numel() for v in state.values()), sum(v.numel() for v in expected_state.values()),
                     name=f"{name} number of parameters")
    weights = {k: v.float() for k, v in random_weights({k: tuple(v.shape) for k, v in expected_state.items()}, seed).items()}
    ref.load_state_dict(weights)
    block.load_state_dict(weights)
    h, w = (int(v) for v in rng.integers(3, 9, size=2))
    x = torch.from_numpy(rng.standard_normal((2, in_ch, h, w)).astype("float32"))
    checks.check_array(block(x), ref(x), name=f"{name} output",
                       hint="1x1, 3x3, 5x5, pool branches concatenated on dim 1 in this order, same height and width")
