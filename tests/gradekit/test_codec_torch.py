"""Torch values in the codec: tensors are plain data (exact dtype, shape, values), size-capped and
strictly decoded; subclasses and dtypes numpy lacks stay opaque. Handles index, measure and iterate
the same way in direct mode as through the sandbox (tests/sandbox/test_torch_remote.py)."""

from __future__ import annotations

import collections

import pytest
import torch

from gradekit import codec
from gradekit.direct import DirectHandle, DirectProvider, write_staged
from gradekit.errors import BadReturnValue
from gradekit.handles import MAX_ITEMS


def roundtrip(value):
    return codec.decode(codec.loads(codec.dumps(codec.encode(value))))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64, torch.complex64, torch.int8,
                                   torch.uint8, torch.int16, torch.int32, torch.int64, torch.bool])
def test_tensors_cross_bit_for_bit(dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(3, 4, generator=g, dtype=torch.float64) * 100).to(dtype)
    if dtype.is_floating_point:
        x[0, 0] = float("nan")
        x[0, 1] = float("-inf")
    out = roundtrip(x.t())  # a non-contiguous view
    assert type(out) is torch.Tensor and out.dtype == dtype and out.shape == (4, 3)
    assert out.view(torch.uint8 if dtype is torch.bool else dtype).numpy().tobytes() == x.t().contiguous().numpy().tobytes()


def test_autograd_state_is_dropped_and_containers_become_plain() -> None:
    w = torch.nn.Parameter(torch.ones(2))
    out = roundtrip({"p": w, "y": (w * 3).sum()})
    assert type(out["p"]) is torch.Tensor and not out["p"].requires_grad and out["y"].item() == 6.0
    assert roundtrip(torch.Size([2, 3])) == (2, 3)
    state = roundtrip(collections.OrderedDict(weight=torch.zeros(1), bias=torch.ones(1)))
    assert type(state) is dict and list(state) == ["weight", "bias"]
    assert roundtrip(torch.zeros(0, 3)).shape == (0, 3) and roundtrip(torch.tensor(2.5)).shape == ()


def test_subclasses_and_unsupported_dtypes_stay_opaque() -> None:
    class Sneaky(torch.Tensor):
        pass

    for value in (torch.ones(2).as_subclass(Sneaky), torch.ones(2, dtype=torch.bfloat16),
                  torch.ones(2, 2).to_sparse(), torch.ones(2, device="meta")):
        with pytest.raises(codec.NotPlainData):
            codec.encode(value)


def test_large_tensors_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codec, "MAX_ARRAY_BYTES", 64)
    codec.encode(torch.zeros(16))
    with pytest.raises(codec.NotPlainData, match="too large"):
        codec.encode(torch.zeros(17))


@pytest.mark.parametrize("wire", [
    {"__tensor__": "<f4", "shape": [3], "data": "AAAAAA=="},        # 4 bytes for 3 floats
    {"__tensor__": "|O", "shape": [1], "data": "AAAAAAAAAAA="},      # objects are not numbers
    {"__tensor__": "<f4", "shape": [-1], "data": ""},
    {"__tensor__": "<f4", "shape": [1], "data": "not base64!"},
    {"__tensor__": "<f4", "shape": [0], "data": "", "extra": 1},
    {"__tensor__": ">f4", "shape": [2], "data": "AAAAAAAAAAA="},       # a byte order torch does not take
    {"__tensor__": "<f4", "shape": [1] * 40, "data": "AAAAAA=="},    # too many dimensions
])
def test_malformed_tensors_are_refused(wire: dict) -> None:
    with pytest.raises(codec.DecodeError):
        codec.decode(wire)


class Box:
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        if i >= self.n:
            raise IndexError(i)
        return {"x": torch.tensor([float(i)]), "obj": Box(i)}


def test_direct_handles_index_measure_and_iterate() -> None:
    h = DirectHandle(Box(3))
    assert len(h) == 3
    item = h[2]
    assert torch.equal(item["x"], torch.tensor([2.0])) and isinstance(item["obj"], DirectHandle)
    assert len(item["obj"]) == 2
    assert [float(i["x"]) for i in h] == [0.0, 1.0, 2.0]
    with pytest.raises(IndexError):
        h[5]
    with pytest.raises(BadReturnValue, match=f"more than {MAX_ITEMS}"):
        list(DirectHandle(iter(range(MAX_ITEMS + 1))))
    with pytest.raises(BadReturnValue):
        bool(h)


def test_staging_keeps_order_and_refuses_escapes(tmp_path) -> None:
    write_staged(str(tmp_path), [("b/2.bin", b"2"), ("a/1.bin", b"1")])
    assert (tmp_path / "b" / "2.bin").read_bytes() == b"2"
    for bad in ("../x", "/etc/x", "a/../../x", ""):
        with pytest.raises(ValueError):
            write_staged(str(tmp_path), [(bad, b"x")])
    provider = DirectProvider(tmp_path, ())
    try:
        folder = provider.stage([("c/3.bin", b"3")])
        assert open(f"{folder}/c/3.bin", "rb").read() == b"3"
        assert provider.library("torch").zeros(2).shape == (2,)
    finally:
        provider.close()
    import os
    assert not os.path.exists(folder)
