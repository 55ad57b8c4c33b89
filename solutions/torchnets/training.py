"""Training and evaluation loops, the random-label experiment, and five-crop validation.

A *loader* is anything you can iterate over that yields batches: a `torch.utils.data.DataLoader`,
or simply a list. For `train_epoch` and `evaluate` a batch is a pair (inputs, targets); for
`run_validation` it is a dict {"image": ..., "label": ...} as a DataLoader over `CropDataset` yields.
`loss_fn` returns the *mean* loss over the samples of a batch (like `nn.CrossEntropyLoss()`).
"""

from __future__ import annotations

from typing import Any, Iterable

import torch
from torch import nn


def train_epoch(model: nn.Module, loader: Iterable, optimizer: torch.optim.Optimizer,
                loss_fn: Any) -> tuple[float, float]:
    """One epoch of training in train mode: for each batch zero the gradients, forward, backward, step.

    Returns (mean_loss, accuracy) over the epoch, both Python floats: the loss averaged over
    *samples* (a batch's mean loss weighted by its size, so a short last batch counts less), and
    the fraction of samples whose largest logit (computed before the step) is the target.
    """
    # BEGIN SOLUTION
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        n = targets.shape[0]
        total_loss += loss.item() * n
        correct += int((outputs.argmax(dim=1) == targets).sum().item())
        count += n
    return total_loss / count, correct / count
    # END SOLUTION


def evaluate(model: nn.Module, loader: Iterable, loss_fn: Any) -> tuple[float, float]:
    """(mean_loss, accuracy) as in `train_epoch`, in eval mode and without gradients.

    Parameters, gradients and BatchNorm running statistics stay exactly as they were.
    """
    # BEGIN SOLUTION
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            outputs = model(inputs)
            n = targets.shape[0]
            total_loss += loss_fn(outputs, targets).item() * n
            correct += int((outputs.argmax(dim=1) == targets).sum().item())
            count += n
    return total_loss / count, correct / count
    # END SOLUTION


def make_memorizer(num_classes: int = 10) -> nn.Module:
    """The network the README recommends for `memorize`: a two-layer perceptron on the pixels."""
    # BEGIN SOLUTION
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 256), nn.ReLU(), nn.Linear(256, num_classes))
    # END SOLUTION


def memorize(images: torch.Tensor, labels: torch.Tensor, *, epochs: int, seed: int) -> dict[str, Any]:
    """The random-label experiment, scaled down: train until the network memorizes `labels`.

    images (N, 1, 28, 28) float32, labels (N,) int64 (random: there is nothing to generalize).
    Seed everything from `seed` (the same seed gives the same numbers), train `epochs` epochs of
    shuffled mini-batches with `train_epoch` and `nn.CrossEntropyLoss()`, and return
    {"loss": [mean loss per epoch], "accuracy": [accuracy per epoch], "model": the trained model}.
    """
    # BEGIN SOLUTION
    torch.manual_seed(seed)
    model = make_memorizer(int(labels.max().item()) + 1 if labels.numel() else 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    batch_size = 32
    history: dict[str, Any] = {"loss": [], "accuracy": []}
    for _ in range(epochs):
        perm = torch.randperm(len(labels), generator=order)
        batches = [(images[idx], labels[idx]) for idx in perm.split(batch_size)]
        loss, accuracy = train_epoch(model, batches, optimizer, loss_fn)
        history["loss"].append(loss)
        history["accuracy"].append(accuracy)
    history["model"] = model
    return history
    # END SOLUTION


def five_crop_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits (B, classes): for x (B, 5, C, s, s) the mean over the five crops of each image's logits,
    for x (B, C, s, s) simply model(x). Run the crops through the model as one batch of B*5."""
    # BEGIN SOLUTION
    if x.dim() == 5:
        batch, crops = x.shape[:2]
        logits = model(x.reshape(batch * crops, *x.shape[2:]))
        return logits.reshape(batch, crops, -1).mean(dim=1)
    return model(x)
    # END SOLUTION


def run_validation(model: nn.Module, loader: Iterable, loss_fn: Any) -> tuple[float, float]:
    """(mean_loss, accuracy) over batches {"image": (B, 5, C, s, s) or (B, C, s, s), "label": (B,)}.

    Eval mode, no gradients, logits from `five_crop_logits`; loss and accuracy as in `evaluate`.
    """
    # BEGIN SOLUTION
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for batch in loader:
            images, labels = batch["image"], batch["label"]
            logits = five_crop_logits(model, images)
            n = labels.shape[0]
            total_loss += loss_fn(logits, labels).item() * n
            correct += int((logits.argmax(dim=1) == labels).sum().item())
            count += n
    return total_loss / count, correct / count
    # END SOLUTION
