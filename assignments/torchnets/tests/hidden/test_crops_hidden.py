"""Hidden tests for crops.py: odd margins, uneven sizes, folders written in shuffled order, against
the reference. Crops copy pixels, so everything is compared exactly."""

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
def test_crops_on_odd_margins(student, reference, rng):
    for _ in range(3):
        c, size = int(rng.integers(1, 4)), int(rng.integers(2, 6))
        h, w = size + int(rng.integers(0, 6)), size + int(rng.integers(0, 6))
        h += (h - size) % 2 == 0  # an odd margin in at least one dimension
        image = torch.from_numpy(rng.standard_normal((c, h, w)).astype("float32"))
        checks.check_array(student.crops.center_crop(image, size), reference.crops.center_crop(image, size),
                           name="center_crop with an odd margin", hint="top = (H - size) // 2 rounds down")
        checks.check_array(student.crops.five_crop(image, size), reference.crops.five_crop(image, size),
                           name="five_crop", hint="order: center, top-left, top-right, bottom-left, bottom-right")
    image = torch.zeros(2, 5, 9)
    checks.check_raises(ValueError, student.crops.center_crop, image, 6, name="center_crop taller than the image")
    checks.check_raises(ValueError, student.crops.five_crop, image, 6, name="five_crop taller than the image")


def _tree(rng) -> tuple[dict[str, np.ndarray], list[str]]:
    """Six classes of 5 to 7 images, written in shuffled order: a listing in sorted order by chance
    (1 in 720 for the classes, at most 1 in 120 per class's files) cannot hide an unsorted listdir."""
    classes = [f"n{int(v):05d}_{k}" for k, v in enumerate(rng.integers(0, 99999, size=6))]
    pictures = {}
    for cls in classes:
        for _ in range(int(rng.integers(5, 8))):
            h, w = int(rng.integers(5, 9)), int(rng.integers(5, 9))
            pictures[f"{cls}/img_{int(rng.integers(0, 10**6)):06d}.npy"] = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    order = list(pictures)
    rng.shuffle(order)  # written in shuffled order: a directory listing need not be sorted
    return pictures, order


@pytest.mark.question("crop_dataset", weight=3)
@pytest.mark.parametrize("five", [False, True])
def test_crop_dataset_on_a_shuffled_tree(student, reference, rng, tmp_path, five):
    pictures, order = _tree(rng)
    files = {name: npy(pictures[name]) for name in order}
    root = student.stage(files)
    for name in order:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(files[name])
    limit = int(rng.integers(len(pictures) // 2, len(pictures)))
    ds = student.crops.CropDataset(root, data_limit=limit, five_crop=five, crop=5)
    ref = reference.crops.CropDataset(str(tmp_path), data_limit=limit, five_crop=five, crop=5)
    checks.check_equal(ds.classes, ref.classes, name="CropDataset.classes", hint="sorted class folder names")
    checks.check_int(len(ds), len(ref), name="len(CropDataset) with data_limit")
    for i in range(len(ref)):
        got, want = ds[i], ref[i]
        checks.check_int(got["label"], want["label"], name="an item's label", hint="files sorted within each class")
        checks.check_equal(str(got["image"].dtype), "torch.float32", name="an item's image dtype")
        checks.check_array(got["image"], want["image"], name="an item's image",
                           hint="(H, W, 3) uint8 on disk: channels first, divide by 255, then crop")
