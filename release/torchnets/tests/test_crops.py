"""Public tests for crops.py: crops against slicing by hand, and CropDataset over a small folder tree.

The data files are written by the test and *staged* where your code can read them
(`student.stage`); `root` is the folder as your code must open it.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from gradekit import checks


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


@pytest.mark.question("crop_dataset")
def test_center_crop_takes_the_middle(student):
    image = torch.arange(3 * 7 * 9, dtype=torch.float32).reshape(3, 7, 9)
    out = student.crops.center_crop(image, 4)
    checks.check_array(out, image[:, 1:5, 2:6], name="center_crop of a (3, 7, 9) image to 4",
                       hint="top = (H - size) // 2, left = (W - size) // 2, on a (C, H, W) tensor")
    checks.check_raises(ValueError, student.crops.center_crop, image, 8, name="center_crop larger than the image")


@pytest.mark.question("crop_dataset")
def test_five_crop_order(student):
    image = torch.arange(2 * 6 * 5, dtype=torch.float32).reshape(2, 6, 5)
    out = student.crops.five_crop(image, 3)
    expected = torch.stack([image[:, 1:4, 1:4], image[:, :3, :3], image[:, :3, 2:], image[:, 3:, :3], image[:, 3:, 2:]])
    checks.check_array(out, expected, name="five_crop (center, top-left, top-right, bottom-left, bottom-right)")


@pytest.mark.question("crop_dataset", weight=2)
def test_crop_dataset_classes_labels_and_images(student):
    rng = np.random.default_rng(0)
    pictures = {f"{c}/{i}.npy": rng.integers(0, 256, size=(6, 7, 3), dtype=np.uint8)
                for c in ("dog", "cat") for i in (2, 0, 1)}
    root = student.stage({name: npy(a) for name, a in pictures.items()})
    ds = student.crops.CropDataset(root, crop=4)
    checks.check_equal(ds.classes, ["cat", "dog"], name="CropDataset.classes (sorted folder names)")
    checks.check_int(len(ds), 6, name="len(CropDataset)")
    item = ds[4]  # dog/1.npy: classes sorted, files sorted within a class
    checks.check_equal(sorted(item), ["image", "label"], name="keys of an item")
    checks.check_int(item["label"], 1, name="label of the fifth item")
    image = item["image"]
    checks.check_equal(str(image.dtype), "torch.float32", name="dtype of an item's image")
    pixels = torch.from_numpy(pictures["dog/1.npy"]).permute(2, 0, 1).float() / 255
    checks.check_array(image, pixels[:, 1:5, 1:5], name="image of the fifth item (channels first, / 255, center crop)")
    five = student.crops.CropDataset(root, data_limit=2, five_crop=True, crop=3)
    checks.check_int(len(five), 2, name="len(CropDataset(data_limit=2))")
    checks.check_equal(tuple(five[1]["image"].shape), (5, 3, 3, 3), name="shape of a five-crop item")
