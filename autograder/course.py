"""The course: the one place that knows where assignments, solutions and releases live.

The CLI builds one `CourseDir` per command (`CourseDir.find()`) and passes it down; nothing below
the CLI looks at the current directory or the environment to find the course again.
`AUTOGRADER_COURSE` is read here and only here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gradekit.spec import AssignmentSpec

from .config import Assignment, load_assignment
from .errors import ConfigError, LayoutError

ENV_COURSE = "AUTOGRADER_COURSE"  # the course folder, when commands run outside it


@dataclass(frozen=True)
class CourseDir:
    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> "CourseDir":
        """The course root: $AUTOGRADER_COURSE, else the nearest folder upwards with `assignments/`."""
        env = os.environ.get(ENV_COURSE)
        if env:
            return cls(Path(env).resolve())
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "assignments").is_dir():
                return cls(folder)
        raise LayoutError(f"no course folder (one with assignments/) at or above {here}; "
                          f"cd into it or set {ENV_COURSE}=/path/to/course")

    @classmethod
    def find_optional(cls, start: Path | None = None) -> "CourseDir | None":
        """The course, or None: exports also work from result files alone, outside any course."""
        try:
            return cls.find(start)
        except LayoutError:
            return None

    @property
    def assignments_dir(self) -> Path:
        return self.root / "assignments"

    def assignment_names(self) -> list[str]:
        return sorted(p.parent.name for p in self.assignments_dir.glob("*/assignment.yaml"))

    def assignment(self, name: str) -> Assignment:
        path = self.assignments_dir / name / "assignment.yaml"
        if not path.is_file():
            known = ", ".join(self.assignment_names()) or "none"
            raise LayoutError(f"no assignment {name!r} (looked for {path}; known: {known})")
        return load_assignment(path)

    def spec_if_known(self, name: str) -> AssignmentSpec | None:
        """The assignment's spec if this course has it, else None (results from elsewhere still export)."""
        if not (self.assignments_dir / name / "assignment.yaml").is_file():
            return None
        return self.assignment(name).spec

    def assignments(self) -> list[Assignment]:
        return [self.assignment(n) for n in self.assignment_names()]

    def tests_dir(self, name: str, *, hidden: bool) -> Path:
        return self.assignments_dir / name / "tests" / ("hidden" if hidden else "public")

    def readme(self, name: str) -> Path:
        return self.assignments_dir / name / "README.md"

    def mutants_file(self, name: str) -> Path:
        return self.assignments_dir / name / "mutants.yaml"

    def solutions_dir(self, name: str) -> Path:
        return self.root / "solutions" / name

    def release_dir(self, name: str) -> Path:
        return self.root / "release" / name

    def examples_dir(self) -> Path:
        return self.root / "examples" / "submissions"


__all__ = ["CourseDir", "ENV_COURSE", "LayoutError", "ConfigError"]
