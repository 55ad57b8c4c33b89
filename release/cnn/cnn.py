"""Sizes, parameters, receptive fields and FLOPs of convolutional networks, by hand.

A network is a list of layer dicts whose keys mirror the arguments of the torch.nn constructors:

    {"type": "conv2d", "in_channels": 3, "out_channels": 16, "kernel_size": 3,
     "stride": 1, "padding": 0, "bias": True}             # stride, padding, bias optional
    {"type": "maxpool2d", "kernel_size": 2, "stride": 2}  # stride optional: defaults to kernel_size
    {"type": "relu"}
    {"type": "flatten"}
    {"type": "linear", "in_features": 512, "out_features": 10, "bias": True}   # bias optional

kernel_size, stride and padding are an int (the same for height and width) or a pair
(height, width), a list or a tuple, exactly as in torch. Missing optional keys take torch's
defaults: stride 1 and padding 0 for conv2d, stride = kernel_size for maxpool2d, bias True.
Sizes are counted for one image (batch size 1). Every function returns a Python int (or, for
a non-square receptive field, a tuple of two ints); see README.md for the conventions.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

Layer = dict[str, Any]


def as_pair(value: int | Sequence[int]) -> tuple[int, int]:
    """(height, width) from an int or a pair, as torch reads kernel_size, stride and padding.

    Given: use it so that every function handles square and non-square layers the same way.
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"expected an int or a pair (height, width), got {value!r}")
        return value[0], value[1]
    return value, value


def conv_output_size(W: int, F: int, S: int = 1, P: int = 0) -> int:
    """Output width (W - F + 2P) / S + 1 of a convolution (or pooling) along one dimension.

    Args:
        W: input width (an int >= 1).
        F: filter width (an int >= 1).
        S: stride (an int >= 1).
        P: zero padding added on *each* side (an int >= 0).

    Returns:
        The output width, an int.

    Raises:
        ValueError: when an argument is not an int (bool and float are not accepted, even 7.0),
            is out of range, or when (W - F + 2P) / S + 1 is not a whole number >= 1 (the filter
            does not fit the padded input, or the strides do not tile it exactly).
    """
    raise NotImplementedError("conv_output_size: not implemented yet")


def conv_parameters(C: int, K: int, F: int | Sequence[int], bias: bool = True) -> int:
    """Trainable parameters of a conv layer: K filters of shape C x F_h x F_w, plus K biases.

    Args:
        C: input channels.
        K: number of filters (output channels).
        F: kernel size, an int or a pair (height, width).
        bias: whether the layer has one bias per filter (torch's default True).

    Returns:
        The number of parameters, an int (equal to sum(p.numel()) of torch.nn.Conv2d(C, K, F, bias=bias)).
    """
    raise NotImplementedError("conv_parameters: not implemented yet")


def count_parameters(layers: list[Layer]) -> int:
    """Trainable parameters of a network given as a list of layer dicts (see the module docstring).

    conv2d and linear layers have weights (and biases unless "bias" is False); maxpool2d, relu and
    flatten have none.

    Returns:
        The total, an int (equal to sum(p.numel()) of the equivalent torch.nn.Sequential).

    Raises:
        ValueError: for a layer whose "type" is not one of the five above.
    """
    raise NotImplementedError("count_parameters: not implemented yet")


def receptive_field(layers: list[Layer]) -> int | tuple[int, int]:
    """Receptive field of one output unit of a stack of conv2d, maxpool2d and relu layers.

    The receptive field is the side of the smallest rectangle of input pixels that contains every
    input pixel the unit depends on. Padding does not change its size (only where it lies); relu
    does not change it; a maxpool2d window counts like a conv kernel of the same size and stride.
    Height and width are computed independently.

    Returns:
        An int when the receptive field is square (height == width), otherwise the pair
        (height, width) as a tuple of two ints. An empty list gives 1 (a pixel sees itself).

    Raises:
        ValueError: for a "linear" or "flatten" layer (a fully connected unit sees the whole
            input, whatever its size) or an unknown layer type.
    """
    raise NotImplementedError("receptive_field: not implemented yet")


def count_flops(layers: list[Layer], input_shape: Sequence[int]) -> int:
    """FLOPs of one forward pass of one image of shape (C, H, W) through the layers.

    Convention (README.md, "FLOPs"): 1 FLOP per scalar multiplication, addition or comparison.
      * conv2d: every output value is a dot product of n = in_channels * k_h * k_w terms (padding
        zeros included): n multiplications and n - 1 additions, plus 1 addition for the bias if the
        layer has one. Output sizes come from conv_output_size along height and width.
      * linear: every output is a dot product of n = in_features terms: n multiplications, n - 1
        additions, plus 1 for the bias if present.
      * maxpool2d: every output value is the max of k_h * k_w numbers: k_h * k_w - 1 comparisons.
      * relu, flatten: 0.

    Returns:
        The total, an int.

    Raises:
        ValueError: when input_shape is not three positive ints; when a layer's output size is not
            whole (conv_output_size raises); when a conv2d's in_channels differs from the channels
            it receives; when a linear layer does not follow a flatten (or another linear) or its
            in_features differs from the number of features it receives; for an unknown type.
    """
    raise NotImplementedError("count_flops: not implemented yet")
