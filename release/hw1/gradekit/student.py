"""What a test holds: the `student` fixture's object, and the provider protocol behind it.

A provider runs the student's code: directly in this process (gradekit.direct) or in the grader's
sandboxed worker (autograder.sandbox.remote). The test sees the same `Student` in both modes.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol


class Provider(Protocol):
    def module(self, name: str) -> Any: ...
    def library(self, name: str) -> Any: ...
    def stage(self, files: list[tuple[str, bytes]]) -> str: ...
    def set_time_limit(self, seconds: float) -> None: ...
    def close(self) -> None: ...


class Student:
    """`student.<module>`: the student's module (direct, or through the grader's sandbox).

    Also, for tests of torch code: `student.torch` is torch *in the student's process*, to build the
    modules, optimizers, losses and DataLoaders the test hands to student code (they stay there as
    handles); `student.stage(files)` writes data files there and returns the folder's path as the
    student's code must open it.
    """

    def __init__(self, provider: Provider, modules: tuple[str, ...]) -> None:
        self._provider = provider
        self._modules = modules

    @property
    def torch(self) -> Any:
        return self._provider.library("torch")

    def stage(self, files: Mapping[str, bytes]) -> str:
        """Write {relative path: bytes} in this order (a listing may show that order) into a new
        folder the student's code can read; return its path. Paths use '/', without '..'."""
        return self._provider.stage([(str(rel), bytes(data)) for rel, data in files.items()])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._modules:
            raise AttributeError(f"the assignment has no module {name!r} (it has {', '.join(self._modules)})")
        return self._provider.module(name)
