"""Warm a parent process: import what every grading child needs, but run no torch operation.

Forking after a torch operation can deadlock the child inside torch's thread pool, so this only
imports. torch.optim's first use otherwise pulls in torch._dynamo (about 1.5 s per process).
The sandbox's zygote is a fresh interpreter that imports torch too: it starts while this process
warms up, on another core. Before forking runners the collector is frozen: a runner's collections
(pytest's unraisable-exception plugin runs full ones at the end of each session) then skip the
inherited torch-sized heap instead of scanning it, and so never touch (copy) its pages.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, Protocol, TypeVar

WARM_MODULES = ("numpy", "torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch._dynamo",
                "torch.utils.flop_counter")


class _Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=_Closable)


def warm_up() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - torch is a dependency; stay usable without parts
            pass


def warm_up_while(start: Callable[[], T]) -> T:
    """`start()` here while `warm_up()` imports in a thread; start's result.

    `start` runs in this thread because the zygote it launches dies with the thread that started it
    (PR_SET_PDEATHSIG follows the parent thread, not the process). The import thread is joined
    before this returns, so later forks see one thread; if the imports fail, what `start` made is
    closed. Either one's exception is raised as is (start's first).
    """
    with ThreadPoolExecutor(1, thread_name_prefix="warm-up") as pool:
        imports = pool.submit(warm_up)
        try:
            started = start()
        finally:
            done = imports.exception()  # waits: never fork or return while the import thread runs
        if done is not None:
            started.close()
            raise done
        return started


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """In the block, everything allocated before it is left out of collections, here and in children
    forked in it; after it, the collector is normal again (a process that grades on)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
