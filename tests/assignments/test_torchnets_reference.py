"""The torchnets reference agrees with PyTorch, and so does every number in the README.

Students are graded against solutions/torchnets, so each part is checked here against modules
built independently from torch.nn (the README's specification), against training loops written
with torch.optim, and against index arithmetic for the crops. The README's numbers (shapes after
each block, parameter counts) are recomputed with torch, never copied.
"""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions" / "torchnets"
README = ROOT / "assignments" / "torchnets" / "README.md"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"torchnets_reference_{name}", SOLUTIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


models, crops, training = _load("models"), _load("crops"), _load("training")


def spec_alexnet(device: str = "cpu") -> nn.Sequential:
    """The README's table as one flat torch.nn.Sequential (no attribute names involved)."""
    return nn.Sequential(
        nn.Conv2d(1, 96, 4, device=device), nn.ReLU(), nn.Conv2d(96, 96, 3, device=device), nn.ReLU(),
        nn.Conv2d(96, 256, 5, padding=2, device=device), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(256, 384, 3, padding=1, device=device), nn.ReLU(), nn.Conv2d(384, 384, 3, padding=1, device=device),
        nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1, device=device), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(6400, 800, device=device), nn.ReLU(), nn.Linear(800, 10, device=device))


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_alexnet_is_the_spec_network() -> None:
    torch.manual_seed(0)
    ref = models.AlexNetMNIST()
    spec = spec_alexnet()
    ref_params = [p for _, p in ref.named_parameters()]
    assert [tuple(p.shape) for p in ref_params] == [tuple(p.shape) for p in spec.parameters()]
    spec.load_state_dict(dict(zip(spec.state_dict(), ref.state_dict().values())))
    x = torch.rand(2, 1, 28, 28)
    ref.eval(), spec.eval()
    with torch.no_grad():
        assert torch.equal(ref(x), spec(x))
        ref.train(), spec.train()
        torch.manual_seed(3)
        a = ref(x)
        torch.manual_seed(3)
        b = spec(x)
    assert torch.equal(a, b) and not torch.equal(a, ref.eval()(x))  # dropout acts in train mode only
    names = [n for n, _ in ref.named_children()]
    assert names == ["conv_layer1", "conv_layer2", "conv_layer3", "fc_layer1"]
    options = models.AlexNetMNIST(num_classes=7, dropout=0.2)
    assert options.fc_layer1[0].p == 0.2 and options.fc_layer1[3].out_features == 7


def spec_inception(kind: str, in_ch: int, *s: int) -> list[nn.Module]:
    if kind == "naive":
        c1, c3, c5 = s
        return [nn.Conv2d(in_ch, c1, 1), nn.Conv2d(in_ch, c3, 3, padding=1), nn.Conv2d(in_ch, c5, 5, padding=2),
                nn.MaxPool2d(3, stride=1, padding=1)]
    c1, r3, c3, r5, c5, pp = s
    return [nn.Conv2d(in_ch, c1, 1), nn.Sequential(nn.Conv2d(in_ch, r3, 1), nn.Conv2d(r3, c3, 3, padding=1)),
            nn.Sequential(nn.Conv2d(in_ch, r5, 1), nn.Conv2d(r5, c5, 5, padding=2)),
            nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(in_ch, pp, 1))]


@pytest.mark.parametrize("kind", ["naive", "bottleneck"])
def test_inception_matches_branches_built_from_torch(kind: str) -> None:
    torch.manual_seed(1)
    sizes = (3, 4, 2) if kind == "naive" else (3, 2, 4, 1, 2, 5)
    block = (models.InceptionNaive if kind == "naive" else models.InceptionBottleneck)(6, *sizes)
    branches = spec_inception(kind, 6, *sizes)
    holder = nn.ModuleList(branches)
    holder.load_state_dict(dict(zip(holder.state_dict(), block.state_dict().values())))
    x = torch.randn(2, 6, 7, 5)
    with torch.no_grad():
        assert torch.equal(block(x), torch.cat([b(x) for b in branches], dim=1))


def _readme_numbers() -> dict[str, int]:
    """Every number the README quotes about the networks, recomputed with torch.nn."""
    shapes = {}
    x = torch.zeros(1, 1, 28, 28, device="meta")
    net = spec_alexnet("meta")
    for i, layer in enumerate(net):
        x = layer(x)
        shapes[i] = tuple(x.shape[1:])
    naive = nn.ModuleList(spec_inception("naive", 256, 128, 192, 96)).to("meta")
    bottle = nn.ModuleList(spec_inception("bottleneck", 256, 128, 64, 192, 64, 96, 64)).to("meta")
    z = torch.zeros(1, 256, 32, 32, device="meta")
    return {
        "alexnet parameters": n_params(net),
        "conv_layer1 output": shapes[3], "conv_layer2 output": shapes[6], "conv_layer3 output": shapes[13],
        "flattened": shapes[14][0],
        "naive parameters": n_params(naive), "naive channels": sum(b(z).shape[1] for b in naive),
        "bottleneck parameters": n_params(bottle), "bottleneck channels": sum(b(z).shape[1] for b in bottle),
    }


def test_readme_numbers_come_from_torch() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    nums = _readme_numbers()
    assert f"has {nums['alexnet parameters']} trainable parameters" in text
    for block in ("conv_layer1", "conv_layer2", "conv_layer3"):
        c, h, w = nums[f"{block} output"]
        assert re.search(rf"`{block}` \|[^|]*\| \(N, {c}, {h}, {w}\)", text), block
    assert f"256 * 5 * 5 = {nums['flattened']}" in text
    assert (f"the naive block has {nums['naive parameters']} parameters and outputs {nums['naive channels']} channels"
            in text)
    assert (f"the bottleneck block has {nums['bottleneck parameters']} parameters and outputs "
            f"{nums['bottleneck channels']} channels") in text
    ratio = nums["naive parameters"] / nums["bottleneck parameters"]
    assert 2.5 < ratio < 3.5, "the README says 'about three'"
    # the reference solution gives the same numbers
    assert n_params(models.AlexNetMNIST()) == nums["alexnet parameters"]
    assert n_params(models.InceptionNaive(256, 128, 192, 96)) == nums["naive parameters"]
    assert n_params(models.InceptionBottleneck(256, 128, 64, 192, 64, 96, 64)) == nums["bottleneck parameters"]


# ---------------------------------------------------------------- crops


@pytest.mark.parametrize(("h", "w", "size"), [(7, 9, 4), (6, 6, 3), (5, 8, 5), (4, 4, 4)])
def test_crops_are_windows_at_the_documented_corners(h: int, w: int, size: int) -> None:
    image = torch.randn(3, h, w)
    windows = image.unfold(1, size, 1).unfold(2, size, 1)  # (C, H-size+1, W-size+1, size, size): every window
    corners = [((h - size) // 2, (w - size) // 2), (0, 0), (0, w - size), (h - size, 0), (h - size, w - size)]
    expected = torch.stack([windows[:, t, l] for t, l in corners])
    assert torch.equal(crops.five_crop(image, size), expected)
    assert torch.equal(crops.center_crop(image, size), expected[0])
    with pytest.raises(ValueError):
        crops.center_crop(image, max(h, w) + 1)


def test_crop_dataset_reads_sorted_classes_and_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {}
    for name in ("b/2.npy", "a/9.npy", "b/0.npy", "a/1.npy", "c/5.npy"):  # written out of order
        (tmp_path / name).parent.mkdir(exist_ok=True)
        arrays[name] = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
        buf = io.BytesIO()
        np.save(buf, arrays[name])
        (tmp_path / name).write_bytes(buf.getvalue())
    ds = crops.CropDataset(str(tmp_path), data_limit=4, five_crop=True, crop=3)
    assert ds.classes == ["a", "b", "c"] and len(ds) == 4
    for i, (name, label) in enumerate([("a/1.npy", 0), ("a/9.npy", 0), ("b/0.npy", 1), ("b/2.npy", 1)]):
        item = ds[i]
        assert item["label"] == label and item["image"].dtype == torch.float32
        chw = torch.tensor(arrays[name], dtype=torch.float64).permute(2, 0, 1) / 255
        assert torch.allclose(item["image"].double(), crops.five_crop(chw, 3), atol=1e-7)


# ---------------------------------------------------------------- training


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.2), nn.Linear(6, 3)).double()


def _batches(seed: int, n: int = 11, size: int = 4) -> list:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 4, generator=g, dtype=torch.float64), torch.randint(0, 3, (n,), generator=g)
    return [(x[i:i + size], y[i:i + size]) for i in range(0, n, size)]


def test_train_epoch_is_a_torch_optim_loop() -> None:
    torch.manual_seed(0)
    a, b = _net(), _net()
    b.load_state_dict(a.state_dict())
    data = _batches(1)
    opt_b = torch.optim.Adam(b.parameters(), lr=0.01)
    torch.manual_seed(5)
    loss, acc = training.train_epoch(a.eval(), data, torch.optim.Adam(a.parameters(), lr=0.01), nn.CrossEntropyLoss())
    torch.manual_seed(5)
    b.train()
    losses, hits = [], 0
    for x, y in data:
        opt_b.zero_grad()
        out = b(x)
        step_loss = nn.functional.cross_entropy(out, y)
        step_loss.backward()
        opt_b.step()
        losses.append(step_loss.item() * len(y))
        hits += int((out.argmax(1) == y).sum())
    assert loss == pytest.approx(sum(losses) / 11, rel=1e-12) and acc == hits / 11
    for key, value in b.state_dict().items():
        assert torch.equal(a.state_dict()[key], value), key


def test_evaluate_changes_nothing_and_matches_eval_mode() -> None:
    torch.manual_seed(2)
    model = _net()
    training.train_epoch(model, _batches(3), torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = _batches(4, n=7, size=3)
    loss, acc = training.evaluate(model.train(), data, nn.CrossEntropyLoss())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with torch.no_grad():
        outs = [(model.eval()(x), y) for x, y in data]
    assert loss == pytest.approx(sum(nn.functional.cross_entropy(o, y).item() * len(y) for o, y in outs) / 7, rel=1e-12)
    assert acc == sum(int((o.argmax(1) == y).sum()) for o, y in outs) / 7


def test_memorize_is_reproducible_and_memorizes() -> None:
    g = torch.Generator().manual_seed(9)
    images, labels = torch.rand(128, 1, 28, 28, generator=g), torch.randint(0, 10, (128,), generator=g)
    first = training.memorize(images, labels, epochs=20, seed=1)
    again = training.memorize(images[:32], labels[:32], epochs=2, seed=1)
    assert again["loss"] == training.memorize(images[:32], labels[:32], epochs=2, seed=1)["loss"]
    assert len(first["loss"]) == len(first["accuracy"]) == 20
    model = first["model"].eval()
    with torch.no_grad():
        assert float((model(images).argmax(1) == labels).double().mean()) >= 0.75
    assert first["accuracy"][-1] > first["accuracy"][0] and first["loss"][-1] < first["loss"][0]


def test_five_crop_evaluation_averages_per_crop_logits() -> None:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 4)).eval()
    x = torch.rand(3, 5, 3, 2, 2)
    with torch.no_grad():
        expected = sum(model(x[:, k]) for k in range(5)) / 5
        assert torch.allclose(training.five_crop_logits(model, x), expected, atol=1e-6)
        assert torch.equal(training.five_crop_logits(model, x[:, 0]), model(x[:, 0]))
    data = [{"image": x[:2], "label": torch.tensor([0, 3])}, {"image": x[2:], "label": torch.tensor([1])}]
    loss, acc = training.run_validation(model.train(), data, nn.CrossEntropyLoss())
    with torch.no_grad():
        logits = training.five_crop_logits(model.eval(), x)
    assert loss == pytest.approx(nn.functional.cross_entropy(logits, torch.tensor([0, 3, 1])).item(), rel=1e-6)
    assert acc == float((logits.argmax(1) == torch.tensor([0, 3, 1])).double().mean())


def test_readme_states_the_graded_protocol_and_limits() -> None:
    """The memorization protocol and the time limits in the README are the ones the tests and yaml use."""
    import yaml

    text = " ".join(README.read_text(encoding="utf-8").split())
    hidden = (ROOT / "assignments" / "torchnets" / "tests" / "hidden" / "test_training_hidden.py").read_text()
    n, epochs, tries, accuracy = re.search(
        r"MEMORIZE_N, MEMORIZE_EPOCHS, MEMORIZE_TRIES, MEMORIZE_ACCURACY = (\d+), (\d+), (\d+), ([\d.]+)", hidden).groups()
    assert f"N={n} images" in text and f"epochs={epochs}" in text and "up to three seeds" in text and tries == "3"
    assert f"at least {round(float(accuracy) * 100)}% of the labels" in text
    limits = {q["id"]: q["time_limit"] for q in yaml.safe_load((README.parent / "assignment.yaml").read_text())["questions"]}
    assert (f"({limits['alexnet_mnist']} s for AlexNet, {limits['memorization']} s for `memorize`, "
            f"{limits['inception']} s otherwise)") in text
    assert {limits[q] for q in limits if q not in ("alexnet_mnist", "memorization")} == {limits["inception"]}
