"""`grade --ray ADDRESS`: the same grading run on a Ray cluster, the head writing every result.

Ray does the cluster's work: it places one `NodeGrader` actor on every node that has CPUs (hard
node affinity), ships the course files and the submissions through its object store, streams
each student's result back as it lands (a generator method), and says when a node is lost. The
head (this process) only hands the next students to whichever actor is free, as
`ray.util.ActorPool` would, and hands a lost actor's unfinished students back to the queue.

Why the object store and not a shared path: a KubeRay pod or a `ray up` VM has no folder in
common with the head unless someone mounts one, while the assignment's tests and solutions (put
once, fetched once per node) and the submissions' chosen files (read here by
`submissions.read_submission`, at most 8 MiB a student) are small.

What crosses back is one JSON line per student (the result record's `to_dict`), parsed by
`store`'s strict reader; the head alone writes `<out>/<student>.json` atomically, and only the
first result of a student, so a re-run student is never written twice. Resume, `--regrade` and
the gradebook are `flow`'s and the CLI's, untouched.

A process that has joined a Ray cluster keeps Ray's threads after `ray.shutdown()`; a local
`grade()` afterwards in the same process forks runners from it, which can crash them (seen:
SIGSEGV). The CLI grades once per process; a library caller should do the same.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..config import Assignment
from ..course import CourseDir
from ..errors import GradingError, ResultsError
from ..results import Result, clean_warnings, error_result
from ..store import from_dict, write_result
from .cluster_node import NodeGrader, versions
from .notebook_route import notebook_route
from .pool import now
from .submissions import Submission, SubmissionError, read_submission

INSTALL_HINT = "pip install 'dl-autograder[cluster]'"
MAX_ATTEMPTS = 3  # nodes a student may be lost with before it gets an internal-error result
BATCH_PER_JOB = 8  # at most this many students per job of a node in one batch


def import_ray() -> Any:
    """Ray, or a GradingError that says how to install it (the optional extra)."""
    try:
        import ray
    except ImportError:
        raise GradingError(f"--ray needs Ray, the optional cluster extra: {INSTALL_HINT} "
                           "(on this machine and on every node; see docs/cluster.md)") from None
    return ray


def course_files(course: CourseDir, assignment: Assignment) -> dict[str, bytes]:
    """The files a node needs to grade: the assignment folder (yaml, tests) and its reference solutions."""
    files = {}
    for base in (course.assignments_dir / assignment.name, course.solutions_dir(assignment.name)):
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(course.root).as_posix()] = path.read_bytes()
    return files


@dataclass
class _Node:
    node_id: str
    address: str
    actor: Any
    jobs: int = 1
    protections: tuple[str, ...] = ()
    isolation: str = ""
    lost: bool = False


@dataclass
class _Flight:
    """A batch in flight on a node: the students it has not yet reported, and their staging warnings."""

    node: _Node
    pending: dict[str, Submission] = field(default_factory=dict)
    warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)  # the node found the assignment's tests broken: why


class RayCluster:
    """Actors on the cluster's nodes, each holding a warm sandbox; see the module docstring."""

    def __init__(self, ray: Any, address: str, assignment: Assignment, nodes: list[_Node], left_out: list[str],
                 owns_connection: bool, route: Callable[..., Any] | None = None) -> None:
        self.ray = ray
        self.address = address
        self.assignment = assignment
        self.nodes = nodes
        self.left_out = left_out
        self.owns_connection = owns_connection
        self.route = route  # notebook hand-ins become module files here, on the head, as in a local run
        self.protections = tuple(p for p in nodes[0].protections if all(p in n.protections for n in nodes))

    @classmethod
    def connect(cls, address: str, course: CourseDir, assignment: Assignment, *, jobs: int = 0,
                unsafe: bool = False, batch_size: int = 0) -> RayCluster:
        """Join the cluster at `address` and start one actor per node with CPUs; raise GradingError if none can grade."""
        ray = import_ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        owns = not ray.is_initialized()
        if owns:
            try:
                ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise GradingError(f"cannot connect to the Ray cluster at {address}: {exc}; start it first "
                                   "(`ray start --head` or KubeRay, see docs/cluster.md) and pass its address") from None
        try:
            actor_class = ray.remote(num_cpus=0, max_restarts=0)(NodeGrader)
            files = ray.put(course_files(course, assignment))  # once; each node fetches it once
            nodes = []
            for info in ray.nodes():
                cpus = int(info.get("Resources", {}).get("CPU", 0))
                if not info.get("Alive") or cpus < 1:
                    continue  # e.g. a KubeRay head started with num-cpus 0: it coordinates, it does not grade
                strategy = NodeAffinitySchedulingStrategy(info["NodeID"], soft=False)
                actor = actor_class.options(scheduling_strategy=strategy).remote(
                    files, assignment.name, jobs or cpus, unsafe, batch_size)
                nodes.append(_Node(info["NodeID"], info.get("NodeManagerAddress", "?"), actor))
            usable, left_out = _greet(ray, nodes, assignment)
        except BaseException:
            if owns:
                ray.shutdown()
            raise
        if not usable:
            if owns:
                ray.shutdown()
            why = "; ".join(left_out) or "the cluster has no alive node with CPUs"
            raise GradingError(f"no node of the Ray cluster at {address} can grade: {why}")
        return cls(ray, address, assignment, usable, left_out, owns, notebook_route(course, assignment.spec))

    def describe(self) -> str:
        """One line: where the run grades and each node's sandbox (the same line as a local run's, per node)."""
        kinds = sorted({n.isolation for n in self.nodes})
        jobs = sum(n.jobs for n in self.nodes)
        line = f"ray cluster at {self.address}: {len(self.nodes)} nodes, {jobs} jobs; " + " | ".join(kinds)
        if self.left_out:
            line += "; left out: " + "; ".join(self.left_out)
        return line

    def run(self, todo: list[Submission], out: Path, grader_errors: list[str], broken: list[str],
            rerun: list[str]) -> Iterator[Result]:
        """Grade `todo` on the nodes; write and yield each student's result exactly once, as it lands.

        Students of a lost node go back to the queue (their ids appended to `rerun`); after
        MAX_ATTEMPTS lost nodes, or with no node left, a student gets an internal-error result.
        As in `pool.run_all`, a node that found the assignment's tests broken appends why to
        `broken`, and the students it could not grade get no result (the next run grades them).
        """
        ray = self.ray
        queue: deque[Submission] = deque(todo)
        attempts: Counter[str] = Counter()
        idle: deque[_Node] = deque(self.nodes)
        # batches of equal length per job, about two per job in all: a node's share of the run, halved
        per_job = max(1, min(BATCH_PER_JOB, math.ceil(len(todo) / (2 * sum(n.jobs for n in self.nodes)))))
        flights: dict[Any, _Flight] = {}
        while queue or flights:
            while queue and idle:
                node = idle.popleft()
                flight = _Flight(node)
                payload = []
                for sub in [queue.popleft() for _ in range(min(per_job * node.jobs, len(queue)))]:
                    try:  # read and chosen here, with the same rules and bounds as a local run
                        files, warnings = read_submission(sub, self.assignment.spec.files, self.route)
                    except SubmissionError as exc:  # the student's error, as in a local run
                        yield self._write(out, error_result(self.assignment.spec, sub.student, str(exc),
                                                            protections=self.protections, graded_at=now()))
                        continue
                    payload.append((sub.student, files))
                    flight.pending[sub.student] = sub
                    flight.warnings[sub.student] = warnings
                if not payload:
                    idle.appendleft(node)
                    continue
                flights[self._send(node, payload)] = flight
            if not flights:  # students left and no node to grade them
                for sub in queue:
                    yield self._internal_error(out, sub, "no Ray node is left to grade on", grader_errors)
                return
            ready, _ = ray.wait(list(flights), num_returns=1, timeout=10.0)
            for generator in ready:
                flight = flights[generator]
                try:
                    line = ray.get(next(generator))
                except StopIteration:
                    del flights[generator]
                    idle.append(flight.node)
                    for sub in flight.pending.values():
                        if flight.broken:
                            grader_errors.append(f"{sub.student}: not graded, the assignment's tests are broken")
                        else:
                            yield self._internal_error(out, sub, f"node {flight.node.address} did not report it",
                                                       grader_errors)
                    continue
                except ray.exceptions.RayError as exc:  # the node, its actor or its grading process is gone
                    del flights[generator]
                    self._drop(flight.node)
                    for sub in reversed(list(flight.pending.values())):
                        attempts[sub.student] += 1
                        if attempts[sub.student] >= MAX_ATTEMPTS:
                            yield self._internal_error(out, sub, f"{attempts[sub.student]} nodes were lost while "
                                                       f"grading it (last: {_first_line(exc)})", grader_errors)
                        else:
                            queue.appendleft(sub)
                            rerun.append(sub.student)
                    continue
                result = self._accept(line, flight, out, grader_errors, broken)
                if result is not None:
                    yield result

    def _send(self, node: _Node, payload: list[tuple[str, dict[str, bytes]]]) -> Any:
        """Hand a batch to a node: the files go through the object store; returns the result stream."""
        return node.actor.grade.remote(self.ray.put(payload))

    def _accept(self, line: str, flight: _Flight, out: Path, grader_errors: list[str],
                broken: list[str]) -> Result | None:
        """One line from a node: a student's result (checked, then written) or the end of a batch."""
        message = json.loads(line)
        if "done" in message:  # the node's internal errors were noted with their results, below
            flight.broken = [str(why) for why in message.get("broken", ())]
            broken.extend(flight.broken)
            return None
        data = message.get("result")
        student = data.get("student") if isinstance(data, dict) else None
        source = f"node {flight.node.address}, student {student!r}"
        sub = flight.pending.pop(student, None) if isinstance(student, str) else None
        if sub is None:
            grader_errors.append(f"{source}: a result for a student not in its batch; ignored")
            return None
        try:
            result = from_dict(data, source)
            spec = self.assignment.spec
            if result.assignment != spec.name or result.max_score != spec.max_score:
                raise ResultsError(f"{source}: graded {result.assignment!r} for {result.max_score} points, "
                                   f"expected {spec.name!r} for {spec.max_score}")
        except ResultsError as exc:
            return self._internal_error(out, sub, f"the node sent an invalid result ({exc})", grader_errors)
        if result.status == "graded":  # the node staged the files chosen here: the choice's warnings are ours
            result = dataclasses.replace(result, warnings=clean_warnings(flight.warnings.get(student, ())))
        elif result.internal_error:
            grader_errors.append(f"{student}: {result.error}")
        return self._write(out, result)

    def _internal_error(self, out: Path, sub: Submission, why: str, grader_errors: list[str]) -> Result:
        result = error_result(self.assignment.spec, sub.student, f"internal grader error on the Ray cluster ({why}); "
                              "this is not the student's fault: report it; the next run grades it again",
                              cause="test_error", protections=self.protections, graded_at=now())
        grader_errors.append(f"{sub.student}: {result.error}")
        return self._write(out, result)

    def _drop(self, node: _Node) -> None:
        node.lost = True
        try:
            self.ray.kill(node.actor)
        except self.ray.exceptions.RayError:
            pass  # already gone with its node

    @staticmethod
    def _write(out: Path, result: Result) -> Result:
        write_result(out / f"{result.student}.json", result)
        return result

    def close(self, *, graceful: bool = True) -> None:
        """Stop every node's grading process (each closes its sandbox), then leave the cluster.

        Not graceful (the run failed or was interrupted): the actors are killed at once, and each
        node's grading process, told by the kernel that its parent died, closes its sandbox.
        """
        ray = self.ray
        try:
            alive = [n for n in self.nodes if not n.lost]
            if alive and graceful:
                ray.wait([n.actor.close.remote() for n in alive], num_returns=len(alive), timeout=60.0)
            for node in alive:
                self._drop(node)
        finally:
            if self.owns_connection:
                ray.shutdown()

    def __enter__(self) -> RayCluster:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(graceful=exc_type is None)


def _greet(ray: Any, nodes: list[_Node], assignment: Assignment) -> tuple[list[_Node], list[str]]:
    """Each node's hello: the nodes that can grade, and a reason for each one that cannot."""
    mine = versions()
    usable, left_out = [], []
    for node in nodes:
        try:
            hello = json.loads(ray.get(node.actor.hello.remote()))
        except ray.exceptions.RayError as exc:
            left_out.append(f"node {node.address}: {_first_line(exc)}")
            ray.kill(node.actor)
            continue
        problem = hello.get("failed")
        if not problem and hello.get("versions") != mine:
            problem = (f"it has {hello.get('versions')}, this machine {mine}; install the same versions on "
                       "every node (docs/cluster.md)")
        if not problem and hello.get("max_score") != assignment.spec.max_score:
            problem = f"it reads {assignment.name} as {hello.get('max_score')} points, this machine {assignment.spec.max_score}"
        if problem:
            left_out.append(f"node {node.address}: {problem}")
            ray.kill(node.actor)
            continue
        node.jobs = int(hello["jobs"])
        node.protections = tuple(hello["protections"])
        node.isolation = str(hello["isolation"])
        usable.append(node)
    return usable, left_out


def _staged_files(sub: Submission, assignment: Assignment, staging: Path) -> dict[str, bytes]:
    """The submission's files as the node will see them, validated here by `submissions.stage`."""
    staged = stage(sub, assignment.spec.files, staging / sub.student)
    try:
        return {name: (staged.folder / name).read_bytes() for name in staged.files}
    finally:
        shutil.rmtree(staged.folder, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    """The line that says why: Ray wraps the node's own error (e.g. `ModuleNotFoundError: No module named
    'autograder'`) in a long report, so the last `...Error:` line is shown, or the report's first line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b:", line)]
    return (causes[-1] if causes else f"{type(exc).__name__}: {lines[0] if lines else ''}")[:500]
