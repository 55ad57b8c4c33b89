"""Public tests for training.py, against loops written here with torch.

Models, optimizers and losses given to your functions are built in your code's process with
`student.torch` (torch there) and get the same weights as the copies the tests train here.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gradekit import checks


def small_net(torch_module) -> object:
    n = torch_module.nn
    return n.Sequential(n.Linear(4, 6), n.BatchNorm1d(6), n.ReLU(), n.Linear(6, 3)).double()


def batches(n: int, size: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (n,), generator=g)
    return [(x[i:i + size], y[i:i + size]) for i in range(0, n, size)]


@pytest.mark.question("train_epoch", weight=2)
def test_train_epoch_matches_a_torch_loop(student):
    torch.manual_seed(0)
    mine = small_net(torch)
    theirs = small_net(student.torch)
    theirs.load_state_dict(mine.state_dict())
    data = batches(10, 4, 1)  # a short last batch of 2
    opt = torch.optim.SGD(mine.parameters(), lr=0.1, momentum=0.9)
    mine.train()
    total, correct = 0.0, 0
    for x, y in data:
        opt.zero_grad()
        out = mine(x)
        loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        total += loss.item() * len(y)
        correct += int((out.argmax(1) == y).sum())
    result = student.training.train_epoch(theirs, data, student.torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9),
                                          student.torch.nn.CrossEntropyLoss())
    loss, acc = checks.unpack(result, 2, name="train_epoch(...)")
    checks.check_close(loss, total / 10, name="mean loss over the epoch",
                       hint="weight each batch's mean loss by its number of samples")
    checks.check_close(acc, correct / 10, name="accuracy over the epoch")
    state = theirs.state_dict()
    for key, value in mine.state_dict().items():
        checks.check_array(state[key], value, name=f"{key} after the epoch")


@pytest.mark.question("train_epoch")
def test_evaluate_changes_nothing(student):
    torch.manual_seed(2)
    mine = small_net(torch)
    theirs = small_net(student.torch)
    theirs.load_state_dict(mine.state_dict())
    data = batches(7, 3, 3)
    mine.eval()
    with torch.no_grad():
        outs = [(mine(x), y) for x, y in data]
    expected_loss = sum(nn.functional.cross_entropy(o, y).item() * len(y) for o, y in outs) / 7
    expected_acc = sum(int((o.argmax(1) == y).sum()) for o, y in outs) / 7
    loss, acc = checks.unpack(student.training.evaluate(theirs, data, student.torch.nn.CrossEntropyLoss()), 2,
                              name="evaluate(...)")
    checks.check_close(loss, expected_loss, name="mean loss (eval mode)")
    checks.check_close(acc, expected_acc, name="accuracy (eval mode)")
    state = theirs.state_dict()
    for key, value in mine.state_dict().items():
        checks.check_array(state[key], value, name=f"{key} after evaluate (must be unchanged)")


@pytest.mark.question("memorization")
def test_memorize_learns_random_labels(student):
    """The graded protocol: 128 random images and labels, 20 epochs, 75% (chance: 10%), best of 3 seeds."""
    g = torch.Generator().manual_seed(5)
    images = torch.rand(128, 1, 28, 28, generator=g)
    labels = torch.randint(0, 10, (128,), generator=g)
    best = 0.0
    for seed in range(3):
        out = student.training.memorize(images, labels, epochs=20, seed=seed)
        checks.check_equal(sorted(out), ["accuracy", "loss", "model"], name="keys of memorize's result")
        checks.check_int(len(out["loss"]), 20, name="len(result['loss'])")
        checks.check_int(len(out["accuracy"]), 20, name="len(result['accuracy'])")
        model = out["model"]
        model.eval()
        best = max(best, float((model(images).argmax(1) == labels).double().mean()))
        if best >= 0.75:
            break
    checks.check_true(best >= 0.75, name="the returned model's accuracy on the training images (eval mode) >= 0.75",
                      hint="keep images and labels paired; see the README's recommended network and optimizer")


@pytest.mark.question("five_crop_eval")
def test_five_crop_logits_average_the_crops(student):
    torch.manual_seed(3)
    mine = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 4))
    theirs = student.torch.nn.Sequential(student.torch.nn.Flatten(), student.torch.nn.Linear(2 * 3 * 3, 4))
    theirs.load_state_dict(mine.state_dict())
    x = torch.rand(3, 5, 2, 3, 3)
    with torch.no_grad():
        expected = torch.stack([mine(x[:, k]) for k in range(5)]).mean(0)
        single = mine(x[:, 0])
    checks.check_array(student.training.five_crop_logits(theirs, x), expected, name="five_crop_logits of (3, 5, 2, 3, 3)")
    checks.check_array(student.training.five_crop_logits(theirs, x[:, 0]), single, name="five_crop_logits of (3, 2, 3, 3)")


@pytest.mark.question("five_crop_eval")
def test_run_validation_over_dict_batches(student):
    torch.manual_seed(4)
    mine = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 4))
    theirs = student.torch.nn.Sequential(student.torch.nn.Flatten(), student.torch.nn.Linear(2 * 3 * 3, 4))
    theirs.load_state_dict(mine.state_dict())
    data = [{"image": torch.rand(n, 5, 2, 3, 3), "label": torch.randint(0, 4, (n,))} for n in (3, 2)]
    total, correct = 0.0, 0
    with torch.no_grad():
        for b in data:
            logits = torch.stack([mine(b["image"][:, k]) for k in range(5)]).mean(0)
            total += nn.functional.cross_entropy(logits, b["label"]).item() * len(b["label"])
            correct += int((logits.argmax(1) == b["label"]).sum())
    loss, acc = checks.unpack(student.training.run_validation(theirs, data, student.torch.nn.CrossEntropyLoss()), 2,
                              name="run_validation(...)")
    checks.check_close(loss, total / 5, name="mean loss over the validation set")
    checks.check_close(acc, correct / 5, name="accuracy over the validation set")
