"""Direct calls into student code in this process: a student's own `pytest`, and project tests.

Values cross exactly as they do under the grader's sandbox: arguments are copied in, results are
copied out as plain data, and other objects come back as handles. So a submission scores the same
locally and at grading time (except for the hidden tests and the time limits).
"""

from __future__ import annotations

import importlib.util
import operator
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from . import codec
from .errors import BadReturnValue, StudentImportError, describe_import_error, tag_student
from .handles import Handle


def _copy_in(value: Any) -> Any:
    """Copy plain arguments; unwrap handles of student objects to the objects themselves."""

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
        return codec.decode(codec.encode(v, ref))

    return unwrap(value)


def _copy_out(value: Any) -> Any:
    try:
        return codec.plainify(value, DirectHandle)
    except codec.NotPlainData as exc:
        raise BadReturnValue(str(exc)) from None


class DirectHandle(Handle):
    """A handle whose operations run on the real object, here."""

    __slots__ = ("_gk_obj",)

    def __init__(self, obj: Any, type_name: str | None = None) -> None:
        super().__init__(type_name or type(obj).__name__)
        object.__setattr__(self, "_gk_obj", obj)

    def _gk_apply(self, operation: str, *operands: Any) -> Any:
        obj = self._gk_obj
        if operation == "getattr":
            return _copy_out(_student(getattr, obj, operands[0]))
        if operation in ("call", "call_capture"):
            args, kwargs = _copy_in(tuple(operands[0])), _copy_in(dict(operands[1]))
            result = _copy_out(_student(obj, *args, **kwargs))
            if operation == "call":
                return result
            return result, _copy_out(args), _copy_out(kwargs)
        if operation in ("binop", "rbinop", "unary"):
            fn = getattr(operator, operands[0])
            if operation == "unary":
                return _copy_out(_student(fn, obj))
            other = _copy_in(operands[1])
            pair = (obj, other) if operation == "binop" else (other, obj)
            return _copy_out(_student(fn, *pair))
        raise ValueError(f"unknown operation {operation!r}")


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
        self.prefix = prefix  # a non-empty prefix keeps references apart from student modules
        self._loaded: dict[str, Any] = {}
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
        return DirectHandle(module, "module")

    def set_time_limit(self, seconds: float) -> None:
        """Direct calls have no time limit: students interrupt their own runs."""

    def close(self) -> None:
        for name in self.modules:
            sys.modules.pop(f"{self.prefix}{name}", None)
        if not self.prefix:
            sys.modules.update(self._saved)
            try:
                sys.path.remove(str(self.folder))
            except ValueError:
                pass
