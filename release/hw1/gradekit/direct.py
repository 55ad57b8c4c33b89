"""Direct calls into student code in this process: a student's own `pytest`, and project tests.

Values cross exactly as they do under the grader's sandbox: arguments are copied in, results are
copied out as plain data, and other objects come back as handles. So a submission scores the same
locally and at grading time (except for the hidden tests and the time limits).
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import operator
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from . import codec
from .errors import BadReturnValue, StudentImportError, describe_import_error, tag_student
from .handles import LIBRARIES, Handle


def _copy_in(value: Any, trusted: bool = False) -> Any:
    """Copy plain arguments; unwrap handles of student objects to the objects themselves.

    `trusted` (the reference solution, in the tests' own process): values are passed as themselves,
    uncopied, so the test can hand it objects such as a model it built.
    """

    def ref(obj: Any) -> int:
        raise TypeError(f"cannot pass a {type(obj).__name__} to student code")

    def unwrap(v: Any) -> Any:
        if isinstance(v, DirectHandle):
            return v._gk_obj
        if isinstance(v, Handle):
            raise TypeError("a handle from another submission")
        if isinstance(v, (list, tuple)):
            return type(v)(unwrap(x) for x in v)
        if isinstance(v, dict):
            return {k: unwrap(x) for k, x in v.items()}
        if trusted:
            return v  # the reference is the course's own code: no copy (a model's weights can be 40 MB)
        return codec.decode(codec.encode(v, ref))

    return unwrap(value)


def _copy_out(value: Any, handle: type[DirectHandle] | None = None) -> Any:
    try:
        return codec.plainify(value, handle or DirectHandle)
    except codec.NotPlainData as exc:
        raise BadReturnValue(str(exc)) from None


class DirectHandle(Handle):
    """A handle whose operations run on the real object, here."""

    __slots__ = ("_gk_obj",)
    _gk_trusted = False  # a constant per class: ReferenceHandle accepts the test's objects

    def __init__(self, obj: Any, type_name: str | None = None) -> None:
        super().__init__(type_name or type(obj).__name__)
        object.__setattr__(self, "_gk_obj", obj)

    def _gk_in(self, value: Any) -> Any:
        return _copy_in(value, self._gk_trusted)

    def _gk_out(self, value: Any) -> Any:
        return _copy_out(value, type(self))

    def _gk_apply(self, operation: str, *operands: Any) -> Any:
        obj = self._gk_obj
        if operation == "getattr":
            return self._gk_out(_student(getattr, obj, operands[0]))
        if operation in ("call", "call_capture"):
            args, kwargs = self._gk_in(tuple(operands[0])), self._gk_in(dict(operands[1]))
            result = self._gk_out(_student(obj, *args, **kwargs))
            if operation == "call":
                return result
            return result, self._gk_out(args), self._gk_out(kwargs)
        if operation in ("binop", "rbinop", "unary"):
            fn = getattr(operator, operands[0])
            if operation == "unary":
                return self._gk_out(_student(fn, obj))
            other = self._gk_in(operands[1])
            pair = (obj, other) if operation == "binop" else (other, obj)
            return self._gk_out(_student(fn, *pair))
        if operation == "getitem":
            return self._gk_out(_student(operator.getitem, obj, self._gk_in(operands[0])))
        if operation == "len":
            return self._gk_out(_student(len, obj))
        if operation == "iter":
            limit = int(operands[0])
            items = _student(lambda: list(itertools.islice(iter(obj), limit + 1)))
            if len(items) > limit:
                raise BadReturnValue(f"iterating a {self._gk_type} object gave more than {limit} items")
            return self._gk_out(items)
        raise ValueError(f"unknown operation {operation!r}")


class ReferenceHandle(DirectHandle):
    """A handle to the reference solution: the test's own objects (a model, an optimizer) pass as is."""

    __slots__ = ()
    _gk_trusted = True


def _student(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run student code; any exception it raises is tagged as the student's."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raise tag_student(exc)


class DirectProvider:
    """Imports a submission's modules from a folder, fresh for each provider."""

    def __init__(self, folder: Path, modules: tuple[str, ...], *, prefix: str = "") -> None:
        self.folder = Path(folder).resolve()
        self.modules = modules
        self.prefix = prefix  # non-empty: the reference (kept apart from student modules; trusted)
        self._loaded: dict[str, Any] = {}
        self._staged: list[str] = []
        self._saved = {name: sys.modules.pop(name) for name in modules if not prefix and name in sys.modules}
        if not prefix:
            sys.path.insert(0, str(self.folder))

    def module(self, name: str) -> Any:
        if name not in self.modules:
            raise AttributeError(f"the assignment has no module {name!r}")
        if name not in self._loaded:
            self._loaded[name] = self._import(name)
        loaded = self._loaded[name]
        if isinstance(loaded, StudentImportError):
            raise StudentImportError(loaded.module, loaded.detail)
        return loaded

    def _import(self, name: str) -> Any:
        path = self.folder / f"{name}.py"
        if not path.is_file():
            return StudentImportError(name, f"there is no file {name}.py in {self.folder}")
        full = f"{self.prefix}{name}"
        spec = importlib.util.spec_from_file_location(full, path)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import is the student's too
            sys.modules.pop(full, None)
            return StudentImportError(name, describe_import_error(exc))
        return (ReferenceHandle if self.prefix else DirectHandle)(module, "module")

    def library(self, name: str) -> Any:
        """A library module (torch) as the student's code sees it, for tests to build objects with."""
        if name not in LIBRARIES:
            raise AttributeError(f"tests may only reach the libraries {', '.join(LIBRARIES)}")
        return DirectHandle(importlib.import_module(name), "module")

    def stage(self, files: list[tuple[str, bytes]]) -> str:
        """Write `files` (relative path, content), in this order, into a new folder; return its path."""
        folder = tempfile.mkdtemp(prefix="gradekit-staged-")
        self._staged.append(folder)
        write_staged(folder, files)
        return folder

    def set_time_limit(self, seconds: float) -> None:
        """Direct calls have no time limit: students interrupt their own runs."""

    def close(self) -> None:
        for folder in self._staged:
            shutil.rmtree(folder, ignore_errors=True)
        self._staged.clear()
        for name in self.modules:
            sys.modules.pop(f"{self.prefix}{name}", None)
        if not self.prefix:
            sys.modules.update(self._saved)
            try:
                sys.path.remove(str(self.folder))
            except ValueError:
                pass


STAGE_MAX_BYTES = 64 << 20


def write_staged(folder: str, files: list[tuple[str, bytes]]) -> None:
    """Create `files` below `folder` in the given order (the order a directory listing may show).

    Paths are relative, '/'-separated, without '..'; nothing outside `folder` is ever written. Used
    by the direct provider and by the grader's worker, so both stage data the same way.
    """
    total = 0
    for rel, data in files:
        parts = rel.split("/")
        if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"cannot stage {rel!r}: use a relative path without '..'")
        total += len(data)
        if total > STAGE_MAX_BYTES:
            raise ValueError(f"staged files exceed {STAGE_MAX_BYTES >> 20} MiB")
        path = folder
        for part in parts[:-1]:
            path = f"{path}/{part}"
            if not os.path.isdir(path):
                os.mkdir(path, 0o755)
        fd = os.open(f"{path}/{parts[-1]}", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
