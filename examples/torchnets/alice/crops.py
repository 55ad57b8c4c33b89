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
    # BEGIN SOLUTION
    _, height, width = image.shape
    if size > height or size > width:
        raise ValueError(f"cannot crop {size}x{size} out of an image of {height}x{width}")
    top, left = (height - size) // 2, (width - size) // 2
    return image[:, top:top + size, left:left + size]
    # END SOLUTION


def five_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """The five size x size crops of a (C, H, W) image, stacked: (5, C, size, size).

    Order: center (as `center_crop`), top-left, top-right, bottom-left, bottom-right; the corner
    crops touch their two image borders. Raises ValueError when size is larger than H or W.
    """
    # BEGIN SOLUTION
    _, height, width = image.shape
    center = center_crop(image, size)
    corners = [image[:, :size, :size], image[:, :size, width - size:],
               image[:, height - size:, :size], image[:, height - size:, width - size:]]
    return torch.stack([center] + corners)
    # END SOLUTION


class CropDataset(Dataset):
    """Images in `root/<class>/*.npy` with their class index, center-cropped or five-cropped.

    `.classes` is the sorted list of class folder names; an image's label is its folder's index in
    it. Images are taken class by class, each class's files in sorted order; `data_limit` keeps only
    the first `data_limit` of that list. `ds[i]` is {"image": float32 tensor with values in [0, 1]
    (uint8 / 255), (3, crop, crop), or (5, 3, crop, crop) with five_crop=True; "label": int}.
    """

    def __init__(self, root: str, data_limit: int | None = None, five_crop: bool = False, crop: int = 224) -> None:
        # BEGIN SOLUTION
        self.root = root
        self.five_crop = five_crop
        self.crop = crop
        self.classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        self.items: list[tuple[str, int]] = []
        for label, name in enumerate(self.classes):
            folder = os.path.join(root, name)
            for file in sorted(f for f in os.listdir(folder) if f.endswith(".npy")):
                self.items.append((os.path.join(folder, file), label))
        if data_limit is not None:
            self.items = self.items[:data_limit]
        # END SOLUTION

    def __len__(self) -> int:
        # BEGIN SOLUTION
        return len(self.items)
        # END SOLUTION

    def __getitem__(self, index: int) -> dict[str, Any]:
        # BEGIN SOLUTION
        path, label = self.items[index]
        pixels = np.load(path)  # (H, W, 3) uint8
        image = torch.from_numpy(pixels).permute(2, 0, 1).to(torch.float32) / 255.0
        if self.five_crop:
            image = five_crop(image, self.crop)
        else:
            image = center_crop(image, self.crop)
        return {"image": image.contiguous(), "label": label}
        # END SOLUTION
