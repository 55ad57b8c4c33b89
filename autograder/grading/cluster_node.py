"""The node side of `grade --ray`: one warm grading process per node, driven by that node's actor.

The head (`cluster.py`) places one `NodeGrader` actor on each Ray node. The actor writes the
course files it was sent through Ray's object store into a private folder and starts this module
as a plain child process (`python -m autograder.grading.cluster_node`). Ray's worker processes run
many threads and the grading pool forks, so the forking happens here, in a fresh single-threaded
interpreter, exactly as in a local run: warm up, start the sandbox once, import the reference
solutions once, then for every batch `pool.run_all` grades the students in forked runners.

The actor and this process speak JSON lines (stdin: the configuration, then one batch per line;
stdout: a hello, then one `{"result": ...}` per student as it finishes and `{"done": ...}` per
batch). The actor forwards those lines as text, so what reaches the head is JSON, never a pickled
object; the head alone writes `<student>.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import IO, Any, Iterator

from .. import __version__


def versions() -> dict[str, str]:
    """What must match between the head and every node for the scores to be the same."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch = version("torch")
    except PackageNotFoundError:
        torch = "missing"
    return {"autograder": __version__, "torch": torch, "python": "%d.%d" % sys.version_info[:2]}


def write_files(files: dict[str, bytes], root: Path) -> None:
    """Write `{relative posix path: bytes}` under `root`; a path that would leave `root` is refused."""
    for name, data in files.items():
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"refusing to write {name!r} outside {root}")
        target = root.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class NodeGrader:
    """The Ray actor on one node: holds the node's warm grading process and feeds it batches.

    Plain class; `cluster.py` wraps it with `ray.remote` so that this module never imports Ray.
    """

    def __init__(self, course_files: dict[str, bytes], assignment: str, jobs: int, unsafe: bool,
                 batch_size: int = 0) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="autograder-node-"))  # private (0700): course + staging
        self.batches = 0
        write_files(course_files, self.root / "course")
        self.log_path = self.root / "node.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-s", "-m", "autograder.grading.cluster_node"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log, cwd=str(self.root), close_fds=True)
        cfg = {"course": str(self.root / "course"), "assignment": assignment, "jobs": jobs, "unsafe": unsafe,
               "batch_size": batch_size, "parent": os.getpid()}
        self._send(cfg)
        self.hello_line = self._receive()

    def hello(self) -> str:
        """The node's hello as JSON text: protections, isolation, jobs and versions, or why it failed."""
        return self.hello_line

    def grade(self, batch: list[tuple[str, dict[str, bytes]]]) -> Iterator[str]:
        """Grade a batch of staged submissions; yield one JSON line per student as it finishes, then `done`."""
        self.batches += 1
        folder = self.root / "submissions" / f"batch-{self.batches}"
        try:
            paths = []
            for student, files in batch:
                write_files(files, folder / student)
                paths.append([student, str(folder / student)])
            self._send({"batch": paths})
            while True:
                line = self._receive()
                yield line
                if "done" in json.loads(line):
                    return
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Stop the grading process (it closes its sandbox) and remove this node's files."""
        try:
            if self.proc.poll() is None:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def _receive(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            try:
                tail = self.log_path.read_text(errors="replace")[-2000:]
            except OSError:
                tail = ""
            raise RuntimeError(f"the grading process on this node exited (status {code}): {tail}")
        return line.decode().rstrip("\n")


# ---------------------------------------------------------------- the grading process


def _say(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, allow_nan=False) + "\n")
    channel.flush()


def main() -> int:
    """The node's grading process: configuration on stdin, then one batch per line until stdin closes."""
    channel = os.fdopen(os.dup(1), "w")  # the protocol; anything else printed goes to the log
    os.dup2(2, 1)
    cfg = json.loads(sys.stdin.readline())
    from ..sandbox import _sys

    _sys.libc.prctl(_sys.PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)  # the actor gone (node lost): stop
    if os.getppid() != cfg["parent"]:
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # runs the clean-up below

    from ..course import CourseDir
    from ..sandbox.host import IsolationUnavailable, Sandbox
    from ..sandbox.remote import SandboxError
    from ..store import to_dict
    from .pool import ready_to_fork, run_all
    from .submissions import Submission
    from .warm import warm_up_while

    course = CourseDir(Path(cfg["course"]))
    assignment = course.assignment(cfg["assignment"])
    jobs = int(cfg["jobs"]) or os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="autograder-"))
    os.chmod(work, 0o711)
    try:
        try:
            sandbox = warm_up_while(lambda: Sandbox.start(work_dir=work / "sandbox", unsafe=bool(cfg["unsafe"])))
        except (IsolationUnavailable, SandboxError) as exc:
            _say(channel, {"failed": str(exc), "versions": versions()})
            return 0
        try:
            protections = tuple(sandbox.protections)
            with ready_to_fork(course, assignment) as reference:  # as in flow.grade
                _say(channel, {"protections": list(protections), "isolation": sandbox.describe(), "jobs": jobs,
                               "versions": versions(), "max_score": assignment.spec.max_score})
                for number, line in enumerate(sys.stdin):
                    request = json.loads(line)
                    folder = work / f"batch-{number}"
                    (folder / "out").mkdir(parents=True)
                    subs = [Submission(student, Path(path)) for student, path in request["batch"]]
                    errors: list[str] = []  # the head notes internal errors from the results themselves
                    broken: list[str] = []
                    for result in run_all(course, assignment, sandbox, reference, subs, folder, folder / "out",
                                          jobs, protections, errors, broken, int(cfg["batch_size"])):
                        _say(channel, {"result": to_dict(result)})
                    _say(channel, {"done": True, "broken": broken})
                    shutil.rmtree(folder, ignore_errors=True)
        finally:
            sandbox.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
