"""How often does memorization fail? Failure rates over seeds for the graded protocol.

The hidden test of `memorization` draws N=128 random 28x28 images and random labels per student,
calls memorize(images, labels, epochs=20, seed=s) and passes when the returned model (eval mode)
reaches 75% accuracy (chance: 10%) on them, trying up to three seeds. This script runs that protocol for the
recommended network (the reference: a two-layer perceptron with Adam, lr 1e-3, batches of 32) and
for alternatives a student might choose, over many data draws, and reports the failure rate of a
single seed and of the best of three.

    python bench/bench_memorize.py --trials 200
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
N, EPOCHS, TRIES, THRESHOLD = 128, 20, 3, 0.75  # as in assignments/torchnets/tests/hidden/test_training_hidden.py


def _training():
    spec = importlib.util.spec_from_file_location("torchnets_training", ROOT / "solutions" / "torchnets" / "training.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_cnn(classes: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 16, 5, stride=2), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2), nn.ReLU(),
                         nn.Flatten(), nn.Linear(32 * 5 * 5, classes))


CONFIGS = {
    # name: (network factory, optimizer factory)
    "mlp-adam (recommended)": (lambda c: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, c)),
                               lambda p: torch.optim.Adam(p, lr=1e-3)),
    "small-cnn-adam": (small_cnn, lambda p: torch.optim.Adam(p, lr=1e-3)),
    "small-cnn-sgd-momentum": (small_cnn, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "mlp-sgd-momentum": (lambda c: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, c)),
                         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
}


def memorize(training, make_net, make_opt, images, labels, seed: int) -> nn.Module:
    """The reference's memorize with the network and optimizer swapped."""
    torch.manual_seed(seed)
    model = make_net(10)
    optimizer = make_opt(model.parameters())
    order = torch.Generator().manual_seed(seed)
    for _ in range(EPOCHS):
        perm = torch.randperm(len(labels), generator=order)
        training.train_epoch(model, [(images[i], labels[i]) for i in perm.split(32)], optimizer, nn.CrossEntropyLoss())
    return model


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(images).argmax(1) == labels).double().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=200, help="data draws (students) per configuration")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    training = _training()
    figures = {}
    for name, (make_net, make_opt) in CONFIGS.items():
        single_fail = best_fail = 0
        t0 = time.process_time()
        runs = 0
        for trial in range(args.trials):
            rng = np.random.default_rng(trial)
            images = torch.from_numpy(rng.random((N, 1, 28, 28), dtype="float32"))
            labels = torch.from_numpy(rng.integers(0, 10, size=N))
            passed = False
            for k in range(TRIES):
                runs += 1
                ok = accuracy(memorize(training, make_net, make_opt, images, labels, trial * 7 + k), images, labels) >= THRESHOLD
                if k == 0 and not ok:
                    single_fail += 1
                if ok:
                    passed = True
                    break
            best_fail += not passed
        figures[name] = {"trials": args.trials, "single_seed_failures": single_fail, "best_of_3_failures": best_fail,
                         "cpu_s_per_run": round((time.process_time() - t0) / runs, 3)}
        print(f"{name:24s} single seed fails {single_fail:4d}/{args.trials}   best of {TRIES} fails "
              f"{best_fail:4d}/{args.trials}   {figures[name]['cpu_s_per_run']:.3f} s CPU per run", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
