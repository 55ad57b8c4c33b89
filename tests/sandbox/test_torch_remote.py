"""Torch through the sandbox: tensors as plain data, the worker's torch for tests, handles that
index, measure and iterate, staged data files, DataLoader workers, timeouts that lose objects."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from autograder.sandbox import RemoteObject
from gradekit.errors import BadReturnValue, StudentTimeout, cause_of

NETS = """
import os
import torch as th          # an alias: tests never reach torch through the student's module
from torch.utils.data import DataLoader, Dataset

def double(x):
    return x * 2

def info(x):
    return str(x.dtype), tuple(x.shape), bool(x.requires_grad)

def step(model, batches, optimizer, loss_fn):
    model.train()
    for xb, yb in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
    return model.state_dict()

class Squares(Dataset):
    def __init__(self, n):
        self.n = n
    def __len__(self):
        return self.n
    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        return {"x": th.tensor([float(i)]), "y": i * i}

def endless():
    i = 0
    while True:
        yield i
        i += 1

def listing(root):
    return os.listdir(root), [open(os.path.join(root, "a", n), "rb").read().hex() for n in sorted(os.listdir(os.path.join(root, "a")))]

def loader_workers(n):
    return [b["y"] for b in DataLoader(Squares(6), batch_size=2, num_workers=n)]

def hang():
    while True:
        pass

def preloaded():
    import sys
    return "torch._dynamo" in sys.modules  # no test or student code imported it in this worker
"""


def test_tensors_cross_exactly_both_ways(student) -> None:
    nets = student(nets=NETS).module("nets")
    for x in (torch.arange(12, dtype=torch.float64).reshape(3, 4), torch.tensor([1, -2], dtype=torch.int64),
              torch.tensor([True, False]), torch.zeros(0, 5, dtype=torch.float32)):
        out = nets.double(x)
        assert type(out) is torch.Tensor and out.dtype == (x * 2).dtype and out.shape == x.shape
        assert torch.equal(out, x * 2)
    assert nets.info(torch.ones(2, 3, dtype=torch.float16)) == ("torch.float16", (2, 3), False)


def test_worker_torch_builds_modules_optimizers_and_losses(student) -> None:
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2).double()
    p = student(nets=NETS)
    th = p.library("torch")
    model = th.nn.Linear(3, 2).double()
    assert isinstance(model, RemoteObject)
    model.load_state_dict({k: v.clone() for k, v in ref.state_dict().items()})
    opt = th.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(4, 3, dtype=torch.float64), torch.tensor([0, 1, 1, 0])
    state = p.module("nets").step(model, [(x, y)] * 2, opt, th.nn.CrossEntropyLoss())
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        ref_opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    assert type(state) is dict and set(state) == {"weight", "bias"}
    for k, v in ref.state_dict().items():
        assert torch.equal(state[k], v), k  # float64, one thread on both sides: identical
    assert tuple(model.weight.shape) == (2, 3)  # torch.Size arrives as a tuple


def test_handles_index_measure_and_iterate(student) -> None:
    nets = student(nets=NETS).module("nets")
    ds = nets.Squares(5)
    assert len(ds) == 5
    item = ds[3]
    assert item["y"] == 9 and torch.equal(item["x"], torch.tensor([3.0]))
    with pytest.raises(IndexError):
        ds[7]
    assert [b["y"] for b in ds] == [0, 1, 4, 9, 16]
    with pytest.raises(BadReturnValue, match="more than"):
        list(nets.endless())


def test_staged_files_keep_their_order_and_bytes(student) -> None:
    p = student(nets=NETS)
    files = {"a/z.bin": b"zz", "a/b.bin": b"bb", "c/x.bin": b"\x00\x01"}
    root = p.stage(list(files.items()))
    names, contents = p.module("nets").listing(root)
    assert sorted(names) == ["a", "c"] and contents == [b"bb".hex(), b"zz".hex()]
    with pytest.raises(BadReturnValue, match="cannot stage"):
        p.stage([("../evil", b"x")])


def test_dataloader_with_worker_processes(student) -> None:
    nets = student(nets=NETS, time_limit=20).module("nets")
    assert [b.tolist() for b in nets.loader_workers(0)] == [[0, 1], [4, 9], [16, 25]]
    try:
        out = nets.loader_workers(2)
    except PermissionError as exc:  # re-raised as itself, with the reason
        assert "num_workers=0" in str(exc)
    else:
        assert [b.tolist() for b in out] == [[0, 1], [4, 9], [16, 25]]


def test_timeout_says_later_failures_come_from_it(student) -> None:
    p = student(nets=NETS, time_limit=1)
    th = p.library("torch")
    model = th.nn.Linear(2, 2)
    with pytest.raises(StudentTimeout):
        p.module("nets").hang()
    with pytest.raises(StudentTimeout, match="lost when an earlier call") as info:
        model(torch.zeros(1, 2))
    assert cause_of(info.value) == "timeout" and "nets.hang()" in str(info.value)
    assert tuple(p.library("torch").zeros(2).shape) == (2,)  # a fresh worker serves later tests


def test_float32_training_agrees_bitwise_with_the_grader(student) -> None:
    """The cause of float32 disagreements was the thread count: intra-op parallel reductions sum in a
    different order. The worker runs one thread, and so do grading runners (and this test process,
    tests/conftest.py): then a float32 epoch gives identical bits on both sides."""
    assert torch.get_num_threads() == 1
    p = student(nets=NETS)
    th = p.library("torch")
    assert th.get_num_threads() == 1

    def net(t):
        n = t.nn
        return n.Sequential(n.Conv2d(1, 4, 3), n.BatchNorm2d(4), n.ReLU(), n.Flatten(), n.Linear(4 * 10 * 10, 10))

    g = torch.Generator().manual_seed(0)
    batches = [(torch.rand(8, 1, 12, 12, generator=g), torch.randint(0, 10, (8,), generator=g)) for _ in range(3)]
    torch.manual_seed(0)
    mine = net(torch)
    theirs = net(th)
    theirs.load_state_dict(mine.state_dict())
    state = p.module("nets").step(theirs, batches, th.optim.Adam(theirs.parameters(), lr=1e-2), th.nn.CrossEntropyLoss())
    opt = torch.optim.Adam(mine.parameters(), lr=1e-2)
    for x, y in batches:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(mine(x), y).backward()
        opt.step()
    for key, value in mine.state_dict().items():
        assert torch.equal(state[key], value), key


def test_zygote_preloads_what_the_first_optimizer_step_imports(student) -> None:
    """torch.optim's first step imports torch._dynamo (about 1.2 s of CPU); the zygote pays it once."""
    assert student(nets=NETS).module("nets").preloaded() is True
