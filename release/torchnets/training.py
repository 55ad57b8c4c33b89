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
    raise NotImplementedError("train_epoch: not implemented yet")


def evaluate(model: nn.Module, loader: Iterable, loss_fn: Any) -> tuple[float, float]:
    """(mean_loss, accuracy) as in `train_epoch`, in eval mode and without gradients.

    Parameters, gradients and BatchNorm running statistics stay exactly as they were.
    """
    raise NotImplementedError("evaluate: not implemented yet")


def make_memorizer(num_classes: int = 10) -> nn.Module:
    """The network the README recommends for `memorize`: a two-layer perceptron on the pixels."""
    raise NotImplementedError("make_memorizer: not implemented yet")


def memorize(images: torch.Tensor, labels: torch.Tensor, *, epochs: int, seed: int) -> dict[str, Any]:
    """The random-label experiment, scaled down: train until the network memorizes `labels`.

    images (N, 1, 28, 28) float32, labels (N,) int64 (random: there is nothing to generalize).
    Seed everything from `seed` (the same seed gives the same numbers), train `epochs` epochs of
    shuffled mini-batches with `train_epoch` and `nn.CrossEntropyLoss()`, and return
    {"loss": [mean loss per epoch], "accuracy": [accuracy per epoch], "model": the trained model}.
    """
    raise NotImplementedError("memorize: not implemented yet")


def five_crop_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits (B, classes): for x (B, 5, C, s, s) the mean over the five crops of each image's logits,
    for x (B, C, s, s) simply model(x). Run the crops through the model as one batch of B*5."""
    raise NotImplementedError("five_crop_logits: not implemented yet")


def run_validation(model: nn.Module, loader: Iterable, loss_fn: Any) -> tuple[float, float]:
    """(mean_loss, accuracy) over batches {"image": (B, 5, C, s, s) or (B, C, s, s), "label": (B,)}.

    Eval mode, no gradients, logits from `five_crop_logits`; loss and accuracy as in `evaluate`.
    """
    raise NotImplementedError("run_validation: not implemented yet")
