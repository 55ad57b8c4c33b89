"""Crops and a `Dataset` of image folders, in plain torch (torchvision is not available).

Images are (C, H, W) tensors (channels first, as torch stores them); the files on disk are numpy
arrays of shape (H, W, 3) and dtype uint8 (channels last, as images are usually stored).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset


def center_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """The size x size window of a (C, H, W) image whose top-left corner is ((H-size)//2, (W-size)//2).

    Raises ValueError when size is larger than H or W (there is no such window).
    """
    raise NotImplementedError("center_crop: not implemented yet")


def five_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """The five size x size crops of a (C, H, W) image, stacked: (5, C, size, size).

    Order: center (as `center_crop`), top-left, top-right, bottom-left, bottom-right; the corner
    crops touch their two image borders. Raises ValueError when size is larger than H or W.
    """
    raise NotImplementedError("five_crop: not implemented yet")


class CropDataset(Dataset):
    """Images in `root/<class>/*.npy` with their class index, center-cropped or five-cropped.

    `.classes` is the sorted list of class folder names; an image's label is its folder's index in
    it. Images are taken class by class, each class's files in sorted order; `data_limit` keeps only
    the first `data_limit` of that list. `ds[i]` is {"image": float32 tensor with values in [0, 1]
    (uint8 / 255), (3, crop, crop), or (5, 3, crop, crop) with five_crop=True; "label": int}.
    """

    def __init__(self, root: str, data_limit: int | None = None, five_crop: bool = False, crop: int = 224) -> None:
        raise NotImplementedError("__init__: not implemented yet")

    def __len__(self) -> int:
        raise NotImplementedError("__len__: not implemented yet")

    def __getitem__(self, index: int) -> dict[str, Any]:
        raise NotImplementedError("__getitem__: not implemented yet")
