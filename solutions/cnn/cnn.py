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
    # BEGIN SOLUTION
    for name, value, low in (("W", W, 1), ("F", F, 1), ("S", S, 1), ("P", P, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an int, got {type(value).__name__}")
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    span = W - F + 2 * P  # how far the filter slides over the padded input
    if span < 0:
        raise ValueError(f"a filter of width {F} does not fit an input of width {W} padded by {P}")
    if span % S != 0:
        raise ValueError(f"stride {S} does not tile (W - F + 2P) = {span} exactly")
    return int(span // S + 1)
    # END SOLUTION


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
    # BEGIN SOLUTION
    kh, kw = as_pair(F)
    return int(K * C * kh * kw + (K if bias else 0))
    # END SOLUTION


def count_parameters(layers: list[Layer]) -> int:
    """Trainable parameters of a network given as a list of layer dicts (see the module docstring).

    conv2d and linear layers have weights (and biases unless "bias" is False); maxpool2d, relu and
    flatten have none.

    Returns:
        The total, an int (equal to sum(p.numel()) of the equivalent torch.nn.Sequential).

    Raises:
        ValueError: for a layer whose "type" is not one of the five above.
    """
    # BEGIN SOLUTION
    total = 0
    for layer in layers:
        kind = layer["type"]
        if kind == "conv2d":
            total += conv_parameters(layer["in_channels"], layer["out_channels"], layer["kernel_size"],
                                     layer.get("bias", True))
        elif kind == "linear":
            n_in, n_out = layer["in_features"], layer["out_features"]
            total += n_out * n_in + (n_out if layer.get("bias", True) else 0)
        elif kind not in ("maxpool2d", "relu", "flatten"):
            raise ValueError(f"unknown layer type {kind!r}")
    return int(total)
    # END SOLUTION


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
    # BEGIN SOLUTION
    rf_h, rf_w = 1, 1
    for layer in reversed(layers):  # walk back from the output unit: r_in = (r_out - 1) * s + k
        kind = layer["type"]
        if kind == "relu":
            continue
        if kind not in ("conv2d", "maxpool2d"):
            raise ValueError(f"receptive_field handles conv2d, maxpool2d and relu layers, not {kind!r}")
        kh, kw = as_pair(layer["kernel_size"])
        default_stride = 1 if kind == "conv2d" else layer["kernel_size"]
        stride = layer.get("stride")
        sh, sw = as_pair(default_stride if stride is None else stride)
        rf_h = (rf_h - 1) * sh + kh
        rf_w = (rf_w - 1) * sw + kw
    return int(rf_h) if rf_h == rf_w else (int(rf_h), int(rf_w))
    # END SOLUTION


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
    # BEGIN SOLUTION
    if len(input_shape) != 3 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1
                                    for v in input_shape):
        raise ValueError(f"input_shape must be three positive ints (C, H, W), got {input_shape!r}")
    shape: tuple[int, ...] = tuple(int(v) for v in input_shape)
    total = 0
    for layer in layers:
        kind = layer["type"]
        if kind == "conv2d":
            if len(shape) != 3 or shape[0] != layer["in_channels"]:
                raise ValueError(f"conv2d expects {layer['in_channels']} channels, receives shape {shape}")
            c, h, w = shape
            kh, kw = as_pair(layer["kernel_size"])
            sh, sw = as_pair(layer.get("stride", 1))
            ph, pw = as_pair(layer.get("padding", 0))
            k = layer["out_channels"]
            ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
            n = c * kh * kw
            total += k * ho * wo * (n + (n - 1) + (1 if layer.get("bias", True) else 0))
            shape = (k, ho, wo)
        elif kind == "maxpool2d":
            if len(shape) != 3:
                raise ValueError(f"maxpool2d needs a (C, H, W) input, receives shape {shape}")
            c, h, w = shape
            kh, kw = as_pair(layer["kernel_size"])
            stride = layer.get("stride")
            sh, sw = as_pair(layer["kernel_size"] if stride is None else stride)
            ho, wo = conv_output_size(h, kh, sh), conv_output_size(w, kw, sw)
            total += c * ho * wo * (kh * kw - 1)
            shape = (c, ho, wo)
        elif kind == "linear":
            n, k = layer["in_features"], layer["out_features"]
            if len(shape) != 1 or shape[0] != n:
                raise ValueError(f"linear expects {n} features, receives shape {shape} (flatten first)")
            total += k * (n + (n - 1) + (1 if layer.get("bias", True) else 0))
            shape = (k,)
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind != "relu":
            raise ValueError(f"unknown layer type {kind!r}")
    return int(total)
    # END SOLUTION
