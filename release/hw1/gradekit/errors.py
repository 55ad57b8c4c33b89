"""Exceptions shared by the checks, the direct provider and the grader's remote provider.

Every failure of a test is classified by its exception into a *cause* (see `cause_of`), so a
broken submission becomes data: a per-question reason and a score, never a grader crash.
"""

from __future__ import annotations


class GradekitError(Exception):
    """Base of all errors raised by the kit (not by student code)."""

    cause = "test_error"


class CheckFailure(AssertionError, GradekitError):
    """A check found a wrong answer. Its message is safe to show (values omitted in hidden tests)."""

    cause = "wrong_answer"


class StudentCodeError(GradekitError):
    """Something went wrong inside or around the student's code, outside a check."""

    cause = "exception"


class StudentImportError(StudentCodeError):
    """The student's module could not be imported (missing file, syntax error, error at import)."""

    cause = "import_error"

    def __init__(self, module: str, detail: str) -> None:
        super().__init__(f"could not import {module}.py: {detail}")
        self.module = module
        self.detail = detail


class StudentTimeout(StudentCodeError):
    """A call into student code exceeded the question's time limit."""

    cause = "timeout"

    def __init__(self, what: str, seconds: float, message: str | None = None) -> None:
        super().__init__(message or f"{what} did not return within the time limit of {seconds:g} s")
        self.what = what
        self.seconds = seconds


class StudentCrash(StudentCodeError):
    """The process running student code died (exit, signal, out of memory) during a call."""

    cause = "crash"


class StudentMemoryError(StudentCodeError):
    """Student code ran out of its memory limit."""

    cause = "memory"


class BadReturnValue(StudentCodeError):
    """Student code returned something that is not plain data where numbers were expected."""

    cause = "bad_return"


class StudentException(StudentCodeError):
    """Student code raised an exception that has no builtin equivalent on the grader side."""

    cause = "exception"

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message


def describe_import_error(exc: BaseException) -> str:
    """Why a module failed to import, in one line a student can act on."""
    if isinstance(exc, SyntaxError):
        text = f" near: {exc.text.strip()[:80]}" if exc.text and exc.text.strip() else ""
        return f"{type(exc).__name__} at line {exc.lineno}: {exc.msg}{text}"
    if isinstance(exc, SystemExit):
        return f"the module called exit({exc.code!r}) while being imported"
    return f"{type(exc).__name__}: {exc}"


STUDENT_TAG = "_gradekit_from_student"


def tag_student(exc: BaseException) -> BaseException:
    """Mark an exception as raised by student code (so it is not mistaken for a broken test)."""
    try:
        setattr(exc, STUDENT_TAG, True)
    except (AttributeError, TypeError):  # pragma: no cover - exotic exception types
        pass
    return exc


def cause_of(exc: BaseException) -> str:
    """Classify a test failure by the exception that ended it."""
    if isinstance(exc, GradekitError):
        return exc.cause
    if getattr(exc, STUDENT_TAG, False):
        if isinstance(exc, NotImplementedError):
            return "not_implemented"
        if isinstance(exc, MemoryError):
            return "memory"
        return "exception"
    if isinstance(exc, AssertionError):
        return "wrong_answer"
    return "test_error"
