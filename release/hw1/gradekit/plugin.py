"""The pytest plugin behind every assignment test: fixtures, the `question` marker, outcomes, table.

A host (the grader, or a project test) may put a `Session` in `config.stash[SESSION]` before
`pytest_configure` runs; otherwise one is built from the command-line options, which default to a
student's released folder (the rootdir holding `assignment.json`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pytest

from . import context, hooks
from .direct import DirectProvider
from .errors import GradekitError, StudentTimeout, cause_of
from .scoring import Outcome
from .spec import AssignmentSpec, load_spec
from .student import Provider, Student
from .table import points_table

PUBLIC_STUDENT = "public"


class Batch(Protocol):
    """Several students in one pytest session (the grader, the benchmark): collection happens once.

    Tests are parametrized by a session-scoped fixture, so pytest runs all of one student's tests,
    then the next student's: `open` when a student starts, `close` when done, then the hook
    `pytest_gradekit_student_done` (gradekit.hooks) carries that student's outcomes."""

    student_ids: list[str]

    def open(self, student_id: str) -> Provider: ...
    def close(self, student_id: str, provider: Provider) -> None: ...


@dataclass
class Session:
    """Everything one run of an assignment's tests needs, and the outcomes it produced."""

    spec: AssignmentSpec
    student: Provider | None = None
    reference: Provider | None = None
    student_id: str = PUBLIC_STUDENT
    summary: bool = True
    outcomes: list[Outcome] = field(default_factory=list)
    batch: Batch | None = None
    timed_out: set[tuple[str, str]] = field(default_factory=set)  # (student, question)


SESSION = pytest.StashKey[Session]()
_WEIGHT = pytest.StashKey[float]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradekit", "assignment grading")
    group.addoption("--gradekit-assignment", metavar="DIR", help="released assignment folder (with assignment.json, e.g. release/<name>); default: rootdir")
    group.addoption("--gradekit-student-dir", metavar="DIR", help="folder with the student's files; default: rootdir")
    group.addoption("--gradekit-solutions", metavar="DIR", help="reference solutions; default: ../../solutions/<name>")
    group.addoption("--gradekit-student-id", default=PUBLIC_STUDENT, help="student id that seeds hidden tests")
    group.addoption("--gradekit-no-summary", action="store_true", help="do not print the points table")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "question(id, weight=1): the assignment question a test belongs to")
    config.pluginmanager.register(_ShortReports(), "gradekit-short-reports")
    if SESSION not in config.stash:
        session = _session_from_options(config)
        if session is not None:
            config.stash[SESSION] = session


def _session_from_options(config: pytest.Config) -> Session | None:
    """A session for a student folder or for --gradekit-assignment; None when this is neither."""
    root = Path(config.rootpath)
    option = config.getoption("--gradekit-assignment")
    if option is None and not (root / "assignment.json").exists():
        return None  # installed but not an assignment run: stay inert
    assignment_dir = Path(option or root)
    try:
        spec = load_spec(assignment_dir)
    except FileNotFoundError as exc:  # e.g. an assignments/<name> folder (yaml): the kit reads only json
        raise pytest.UsageError(str(exc)) from None
    student_dir = Path(config.getoption("--gradekit-student-dir") or root)
    solutions = config.getoption("--gradekit-solutions")
    if solutions is None:
        guess = assignment_dir.resolve().parent.parent / "solutions" / spec.name
        solutions = guess if guess.is_dir() else None
    reference = DirectProvider(Path(solutions), spec.modules, prefix="gradekit_reference_") if solutions else None
    return Session(
        spec=spec,
        student=DirectProvider(student_dir, spec.modules),
        reference=reference,
        student_id=config.getoption("--gradekit-student-id"),
        summary=not config.getoption("--gradekit-no-summary"),
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION, None)
    if session is not None:
        if session.student is not None:
            session.student.close()
        if session.reference is not None:
            session.reference.close()


def is_hidden(item: pytest.Item) -> bool:
    """Hidden tests are the files under a `hidden/` folder (below the rootdir)."""
    path = Path(item.path)
    try:
        path = path.relative_to(item.config.rootpath)
    except ValueError:
        pass
    return "hidden" in path.parts[:-1]


def _question_of(item: pytest.Item) -> tuple[str, float]:
    marker = item.get_closest_marker("question")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: every test needs @pytest.mark.question(<id>)")
    return str(marker.args[0]), float(marker.kwargs.get("weight", 1.0))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if SESSION not in config.stash:
        return
    spec = config.stash[SESSION].spec
    known = {q.id for q in spec.questions}
    cases: dict[tuple[str, str], int] = {}
    for item in items:
        qid, _ = _question_of(item)
        if qid not in known:
            raise pytest.UsageError(f"{item.nodeid}: unknown question {qid!r} (assignment.yaml has {sorted(known)})")
        key = (str(item.path), getattr(item, "originalname", item.name))
        cases[key] = cases.get(key, 0) + 1
    per_student = len(config.stash[SESSION].batch.student_ids) if config.stash[SESSION].batch else 1
    for item in items:
        _, weight = _question_of(item)
        cases_here = cases[(str(item.path), getattr(item, "originalname", item.name))] / per_student
        item.stash[_WEIGHT] = weight / cases_here


_TOKEN = "gkstudent"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    session = metafunc.config.stash.get(SESSION, None)
    if session is None or session.batch is None or "_gk_submission" not in metafunc.fixturenames:
        return
    ids = session.batch.student_ids
    metafunc.parametrize("_gk_submission", ids, indirect=True, scope="session",
                         ids=[f"{_TOKEN}{i}" for i in range(len(ids))])


def test_name(item: pytest.Item) -> str:
    """The item's name without the batch's student parameter: the same for every student."""
    name = item.name
    if "[" not in name:
        return name
    base, _, params = name.partition("[")
    parts = [p for p in params[:-1].split("-") if not (p.startswith(_TOKEN) and p[len(_TOKEN):].isdigit())]
    return f"{base}[{'-'.join(parts)}]" if parts else base


def test_nodeid(item: pytest.Item) -> str:
    return item.nodeid[: len(item.nodeid) - len(item.name)] + test_name(item)


test_name.__test__ = False  # type: ignore[attr-defined]  # not tests: helpers named like them
test_nodeid.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def _gk_submission(request: pytest.FixtureRequest) -> Any:
    """(student id, provider) of the student whose tests are running."""
    session = _session(request.config)
    if session.batch is None:
        yield session.student_id, session.student
        return
    sid = request.param
    provider = session.batch.open(sid)
    try:
        yield sid, provider
    finally:
        session.batch.close(sid, provider)
        request.config.hook.pytest_gradekit_student_done(
            config=request.config, student_id=sid, outcomes=[o for o in session.outcomes if o.student == sid])


def seed_for(student_id: str, assignment: str, test: str) -> int:
    """A stable seed per (student, assignment, test): every student gets their own variant."""
    digest = hashlib.sha256(f"{student_id}\0{assignment}\0{test}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _session(config: pytest.Config) -> Session:
    try:
        return config.stash[SESSION]
    except KeyError:
        pytest.fail("not an assignment run: pass --gradekit-assignment DIR", pytrace=False)


@pytest.fixture
def seed(request: pytest.FixtureRequest, _gk_submission: Any) -> int:
    session = _session(request.config)
    who = _gk_submission[0] if is_hidden(request.node) else PUBLIC_STUDENT
    return seed_for(who, session.spec.name, f"{Path(request.node.path).name}::{test_name(request.node)}")


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture
def student(request: pytest.FixtureRequest, _gk_submission: Any) -> Student:
    session = _session(request.config)
    sid, provider = _gk_submission
    qid, _ = _question_of(request.node)
    limit = session.spec.question(qid).time_limit
    if (sid, qid) in session.timed_out:
        # one hang costs the question, not one time limit per remaining test
        raise StudentTimeout(qid, limit, f"not run: an earlier test of {qid!r} already exceeded the time limit of {limit:g} s")
    provider.set_time_limit(limit)
    return Student(provider, session.spec.modules)


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> Student:
    session = _session(request.config)
    if session.reference is None:
        pytest.fail("the reference solution is only available to hidden tests, at grading time", pytrace=False)
    return Student(session.reference, session.spec.modules)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    session = item.config.stash.get(SESSION, None)
    if session is None:
        return (yield)
    qid, _ = _question_of(item)
    q = session.spec.question(qid)
    token = context.CURRENT.set(
        context.TestContext(question=qid, rtol=q.rtol, atol=q.atol, hidden=is_hidden(item), time_limit=q.time_limit)
    )
    try:
        return (yield)
    finally:
        context.CURRENT.reset(token)


def failure_message(exc: BaseException, hidden: bool) -> str:
    """The message a student sees for a failed test; hidden tests never echo values."""
    cause = cause_of(exc)
    if cause == "not_implemented":
        return "not implemented yet"
    if isinstance(exc, GradekitError):
        return str(exc)
    if cause == "exception":
        text = f"{type(exc).__name__}: {exc}"
        return text[:500]
    if hidden:
        return {"wrong_answer": "a hidden check failed", "test_error": "the test could not run"}.get(cause, cause)
    return f"{type(exc).__name__}: {exc}"[:2000]


class _ShortReports:
    """Registered by `pytest_configure`: a second makereport implementation beside the recorder."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
        """A short report for kit and student-code failures, without pytest's traceback rendering.

        Rendering a traceback costs tens of milliseconds per failure and nobody reads it: the message
        says what failed. Other failures (bugs in a test) keep pytest's full report.
        """
        session = item.config.stash.get(SESSION, None)
        if session is None or call.excinfo is None or call.when == "teardown":
            return None
        exc = call.excinfo.value
        cause = cause_of(exc)
        if not (isinstance(exc, GradekitError) or cause in ("not_implemented", "exception", "memory")):
            return None
        qid, _ = _question_of(item)
        return pytest.TestReport(
            item.nodeid, item.location, {k: 1 for k in item.keywords}, "failed",
            f"[{qid}] {failure_message(exc, is_hidden(item))}", call.when, [], call.duration,
            start=call.start, stop=call.stop, user_properties=item.user_properties,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if SESSION not in item.config.stash:
        return report
    if (call.when == "call") or (call.when == "setup" and not report.passed):
        _record(item, call, report)
    return report


def _record(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    session = item.config.stash[SESSION]
    qid, _ = _question_of(item)
    hidden = is_hidden(item)
    callspec = getattr(item, "callspec", None)
    who = callspec.params.get("_gk_submission", session.student_id) if callspec else session.student_id
    base = dict(nodeid=test_nodeid(item), question=qid, hidden=hidden, weight=item.stash[_WEIGHT],
                duration=call.duration, student=who)
    if report.passed:
        outcome = Outcome(passed=True, cause="passed", **base)
    elif report.skipped:
        outcome = Outcome(passed=False, cause="skipped", message="skipped", **base)
    else:
        exc = call.excinfo.value if call.excinfo is not None else RuntimeError("unknown failure")
        cause = cause_of(exc)
        message = failure_message(exc, hidden)
        outcome = Outcome(passed=False, cause=cause, message=message, **base)
        if cause == "timeout":
            session.timed_out.add((who, qid))
        report.gk_cause = cause  # type: ignore[attr-defined]
    session.outcomes.append(outcome)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """Untouched stubs are counted as "not implemented", not listed as a wall of failures.

    The run still fails (pytest counts report.failed); the points table gives one line per question.
    """
    if report.failed and getattr(report, "gk_cause", None) == "not_implemented":
        return "not implemented", "N", "NOT IMPLEMENTED"
    return None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session = config.stash.get(SESSION, None)
    if session is None or not session.summary or not session.outcomes:
        return
    terminalreporter.section(f"points: {session.spec.title}")
    for line in points_table(session.spec, session.outcomes):
        terminalreporter.write_line(line)
