"""Hidden tests for training.py, against the reference run on the grader's side with the same
weights, data and optimizer settings.

train_epoch and evaluate are checked exactly on float64 models (BatchNorm and dropout included, a
short last batch); memorization by the returned model's accuracy, recomputed here, with the best
of up to three seeds (a correct network does not memorize on every seed: see the README).
"""

from __future__ import annotations

import pytest
import torch

from gradekit import checks

MEMORIZE_N, MEMORIZE_EPOCHS, MEMORIZE_TRIES, MEMORIZE_ACCURACY = 128, 20, 3, 0.75  # bench/bench_memorize.py


def net(torch_module, d_in: int, hidden: int, classes: int, dropout: bool) -> object:
    n = torch_module.nn
    layers = [n.Linear(d_in, hidden), n.BatchNorm1d(hidden), n.ReLU()]
    if dropout:
        layers.append(n.Dropout(0.3))
    return n.Sequential(*layers, n.Linear(hidden, classes)).double()


def data(rng, n: int, size: int, d_in: int, classes: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    x = torch.from_numpy(rng.standard_normal((n, d_in)))
    y = torch.from_numpy(rng.integers(0, classes, size=n))
    return [(x[i:i + size], y[i:i + size]) for i in range(0, n, size)]


def twins(student, reference_torch, rng, dropout: bool) -> tuple:
    d_in, hidden, classes = int(rng.integers(3, 7)), int(rng.integers(4, 9)), int(rng.integers(2, 5))
    mine = net(reference_torch, d_in, hidden, classes, dropout)
    theirs = net(student.torch, d_in, hidden, classes, dropout)
    theirs.load_state_dict(mine.state_dict())
    return mine, theirs, d_in, classes


def states_equal(received: dict, expected: dict, what: str) -> None:
    checks.check_equal(sorted(received), sorted(expected), name=f"state_dict keys {what}")
    for key, value in expected.items():
        checks.check_array(received[key], value, name=f"{key} {what}")


@pytest.mark.question("train_epoch", weight=3)
@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_train_epoch_exactly(student, reference, rng, seed, optimizer):
    mine, theirs, d_in, classes = twins(student, torch, rng, dropout=False)
    size = 4
    n = size * int(rng.integers(2, 4)) + int(rng.integers(2, 4))  # a short last batch (of 2 or 3: BatchNorm needs 2)
    batches = data(rng, n, size, d_in, classes)
    make = {"sgd_momentum": lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9),
            "adam": lambda t, p: t.optim.Adam(p, lr=0.01)}[optimizer]
    mine.eval()  # train_epoch must switch to train mode itself
    theirs.eval()
    expected = reference.training.train_epoch(mine, batches, make(torch, mine.parameters()), torch.nn.CrossEntropyLoss())
    result = student.training.train_epoch(theirs, batches, make(student.torch, theirs.parameters()),
                                          student.torch.nn.CrossEntropyLoss())
    loss, acc = checks.unpack(result, 2, name="train_epoch(...)")
    checks.check_close(loss, expected[0], name="mean loss of the epoch", hint="weight each batch's mean by its size")
    checks.check_close(acc, expected[1], name="accuracy of the epoch", hint="count correct samples, divide by all samples")
    states_equal(theirs.state_dict(), mine.state_dict(), "after one epoch (weights and BatchNorm statistics)")


@pytest.mark.question("train_epoch", weight=2)
def test_evaluate_is_exact_and_changes_nothing(student, reference, rng):
    mine, theirs, d_in, classes = twins(student, torch, rng, dropout=True)
    warm = data(rng, 8, 4, d_in, classes)  # give BatchNorm non-trivial running statistics
    reference.training.train_epoch(mine, warm, torch.optim.SGD(mine.parameters(), lr=0.1), torch.nn.CrossEntropyLoss())
    theirs.load_state_dict(mine.state_dict())
    theirs.train()
    batches = data(rng, int(rng.integers(5, 11)), 3, d_in, classes)
    before = mine.state_dict()
    expected = reference.training.evaluate(mine, batches, torch.nn.CrossEntropyLoss())
    loss, acc = checks.unpack(student.training.evaluate(theirs, batches, student.torch.nn.CrossEntropyLoss()), 2,
                              name="evaluate(...)")
    checks.check_close(loss, expected[0], name="evaluate's mean loss", hint="eval mode: no dropout, running statistics")
    checks.check_close(acc, expected[1], name="evaluate's accuracy")
    states_equal(theirs.state_dict(), before, "after evaluate (nothing may change)")


def _memorize_data(rng) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(rng.random((MEMORIZE_N, 1, 28, 28), dtype="float32"))
    labels = torch.from_numpy(rng.integers(0, 10, size=MEMORIZE_N))
    return images, labels


def _accuracy(model, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    return float((model(images).argmax(1) == labels).double().mean())


@pytest.mark.question("memorization", weight=2)
def test_memorizes_random_labels(student, rng, seed):
    images, labels = _memorize_data(rng)
    best = 0.0
    for k in range(MEMORIZE_TRIES):  # best of a few seeds: a threshold must not be a lottery
        out = student.training.memorize(images, labels, epochs=MEMORIZE_EPOCHS, seed=(seed + k) % 10**6)
        checks.check_equal(sorted(out), ["accuracy", "loss", "model"], name="keys of memorize's result")
        best = max(best, _accuracy(out["model"], images, labels))
        if best >= MEMORIZE_ACCURACY:
            break
    checks.check_true(best >= MEMORIZE_ACCURACY,
                      name=f"the returned model reaches {MEMORIZE_ACCURACY:.0%} accuracy on the random labels "
                           f"(eval mode, {MEMORIZE_EPOCHS} epochs, best of {MEMORIZE_TRIES} seeds)",
                      hint="keep images and labels paired when shuffling; use the README's recommended setup")


@pytest.mark.question("memorization", weight=2)
def test_memorize_history_is_reproducible_and_honest(student, rng, seed):
    images, labels = _memorize_data(rng)
    images, labels = images[:48], labels[:48]
    s = seed % 10**6
    first = student.training.memorize(images, labels, epochs=3, seed=s)
    again = student.training.memorize(images, labels, epochs=3, seed=s)
    for key in ("loss", "accuracy"):
        checks.check_int(len(first[key]), 3, name=f"len(result[{key!r}]) for epochs=3")
        checks.check_array(again[key], first[key], rtol=0.0, atol=0.0, name=f"result[{key!r}] for the same seed twice",
                           hint="seed torch (and the shuffling) from `seed` inside memorize")
    acc = first["accuracy"]
    checks.check_true(all(0.0 <= a <= 1.0 for a in acc), name="accuracies are fractions in [0, 1]")
    checks.check_true(all(abs(a * 48 - round(a * 48)) < 1e-9 for a in acc),
                      name="each epoch's accuracy is a fraction of the 48 samples")
    checks.check_true(all(loss > 0 for loss in first["loss"]), name="losses are positive cross-entropies")


def _crop_batches(rng, n: int, size: int, crops: bool) -> list[dict]:
    out = []
    for i in range(0, n, size):
        b = min(size, n - i)
        shape = (b, 5, 3, 4, 4) if crops else (b, 3, 4, 4)
        out.append({"image": torch.from_numpy(rng.random(shape, dtype="float32")),
                    "label": torch.from_numpy(rng.integers(0, 3, size=b))})
    return out


def _crop_net(torch_module) -> object:
    n = torch_module.nn
    return n.Sequential(n.Flatten(), n.Linear(48, 8), n.BatchNorm1d(8), n.ReLU(), n.Dropout(0.5), n.Linear(8, 3))


@pytest.mark.question("five_crop_eval", weight=2)
def test_five_crop_logits_against_reference(student, reference, rng):
    mine, theirs = _crop_net(torch), _crop_net(student.torch)
    theirs.load_state_dict(mine.state_dict())
    mine.eval()
    theirs.eval()
    for crops in (True, False):
        x = _crop_batches(rng, int(rng.integers(2, 5)), 8, crops)[0]["image"]
        checks.check_array(student.training.five_crop_logits(theirs, x), reference.training.five_crop_logits(mine, x),
                           name=f"five_crop_logits of a {'(B, 5, C, s, s)' if crops else '(B, C, s, s)'} batch",
                           hint="run B*5 crops as one batch, then average the logits of each image's five crops")


@pytest.mark.question("five_crop_eval", weight=2)
def test_run_validation_over_dict_batches(student, reference, rng):
    mine, theirs = _crop_net(torch), _crop_net(student.torch)
    warm = [(b["image"].flatten(0, 1), b["label"].repeat_interleave(5)) for b in _crop_batches(rng, 6, 3, True)]
    reference.training.train_epoch(mine, warm, torch.optim.SGD(mine.parameters(), lr=0.1), torch.nn.CrossEntropyLoss())
    theirs.load_state_dict(mine.state_dict())
    theirs.train()
    batches = _crop_batches(rng, int(rng.integers(5, 9)), 3, True)  # a short last batch
    expected = reference.training.run_validation(mine, batches, torch.nn.CrossEntropyLoss())
    loss, acc = checks.unpack(student.training.run_validation(theirs, batches, student.torch.nn.CrossEntropyLoss()), 2,
                              name="run_validation(...)")
    checks.check_close(loss, expected[0], name="validation mean loss", hint="eval mode; weight batches by size")
    checks.check_close(acc, expected[1], name="validation accuracy")
