"""The networks of the PyTorch half: a modified AlexNet for MNIST and two inception blocks.

The tests load weights into your modules by parameter name (`load_state_dict`), so the attribute
names, the order of the layers inside each `nn.Sequential` and the layer types are part of the
specification (see README.md). Build the layers with `torch.nn`; do not add or drop layers.
"""

from __future__ import annotations

import torch
from torch import nn


class AlexNetMNIST(nn.Module):
    """AlexNet modified for 28x28 grayscale inputs (the random-label experiment's network).

    Attributes (in this order): `conv_layer1`, `conv_layer2`, `conv_layer3`, `fc_layer1`, each an
    `nn.Sequential` laid out exactly as in README.md. `forward(x)` takes (N, 1, 28, 28) floats and
    returns logits (N, num_classes): no softmax (CrossEntropyLoss applies log-softmax itself).
    """

    def __init__(self, num_classes: int = 10, dropout: float = 0.5) -> None:
        super().__init__()
        raise NotImplementedError("__init__: not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: not implemented yet")


class InceptionNaive(nn.Module):
    """The naive inception block: 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side.

    Branches, concatenated on the channel dimension in this order: Conv2d(in_ch, c1, 1);
    Conv2d(in_ch, c3, 3, padding=1); Conv2d(in_ch, c5, 5, padding=2); MaxPool2d(3, stride=1,
    padding=1) passing the input's channels through. Output channels: c1 + c3 + c5 + in_ch.
    No activation inside the block. Attributes: `branch1`, `branch3`, `branch5`, `branch_pool`.
    """

    def __init__(self, in_ch: int, c1: int, c3: int, c5: int) -> None:
        super().__init__()
        raise NotImplementedError("__init__: not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: not implemented yet")


class InceptionBottleneck(nn.Module):
    """The inception block with 1x1 bottleneck convolutions (GoogLeNet's "inception module").

    Branches, concatenated on the channel dimension in this order: `branch1` = Conv2d(in_ch, c1, 1);
    `branch3` = Sequential(Conv2d(in_ch, r3, 1), Conv2d(r3, c3, 3, padding=1)); `branch5` =
    Sequential(Conv2d(in_ch, r5, 1), Conv2d(r5, c5, 5, padding=2)); `branch_pool` =
    Sequential(MaxPool2d(3, stride=1, padding=1), Conv2d(in_ch, pool_proj, 1)).
    Output channels: c1 + c3 + c5 + pool_proj. No activation inside the block.
    """

    def __init__(self, in_ch: int, c1: int, r3: int, c3: int, r5: int, c5: int, pool_proj: int) -> None:
        super().__init__()
        raise NotImplementedError("__init__: not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: not implemented yet")

