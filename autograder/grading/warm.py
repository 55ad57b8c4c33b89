"""Warm a parent process: import what every grading child needs, but run no torch operation.

Forking after a torch operation can deadlock the child inside torch's thread pool, so this only
imports. torch.optim's first use otherwise pulls in torch._dynamo (about 1.5 s per process).
"""

from __future__ import annotations

import importlib
import os

WARM_MODULES = ("numpy", "torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch._dynamo",
                "torch.utils.flop_counter")


def warm_up() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - torch is a dependency; stay usable without parts
            pass
