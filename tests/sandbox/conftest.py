"""Fixtures for the sandbox tests: one sandbox per session, student folders written from strings."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Callable, Iterator

import pytest

from autograder.sandbox import IsolationUnavailable, Limits, RemoteProvider, Sandbox

TEST_LIMITS = Limits(memory_bytes=512 << 20, cpu_seconds=60, processes=32, file_bytes=1 << 20, output_bytes=8192)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    if os.geteuid() != 0:
        pytest.skip("the sandbox tests need root (namespaces, uids, cgroups); CI runs them as root")
    try:
        box = Sandbox.start(work_dir=tmp_path_factory.mktemp("sandbox") / "work", limits=TEST_LIMITS)
    except IsolationUnavailable as exc:
        pytest.skip(f"this machine cannot provide the isolation: {exc}")
    yield box
    box.close()


@pytest.fixture
def student(sandbox: Sandbox, tmp_path: Path) -> Iterator[Callable[..., RemoteProvider]]:
    """student(name="alice", time_limit=5, **files) -> a provider for a folder with those files."""
    made: list[RemoteProvider] = []

    def make(name: str = "alice", time_limit: float = 5.0, **files: str) -> RemoteProvider:
        folder = tmp_path / "students" / name
        folder.mkdir(parents=True, exist_ok=True)
        for module, source in files.items():
            (folder / f"{module}.py").write_text(textwrap.dedent(source))
        provider = sandbox.provider(folder, student_id=name, time_limit=time_limit)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def processes_of_uid(uid: int) -> list[int]:
    """Every process on the machine (as root sees them) running as `uid`."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if uid in [int(x) for x in line.split()[1:]]:
                            out.append(int(entry))
                        break
        except OSError:
            continue
    return out
