"""The course directory: the one place that knows where assignments, solutions and releases live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .config import Assignment, ConfigError, load_assignment


class LayoutError(LookupError):
    """A course folder or assignment is missing; the message says where we looked."""


@dataclass(frozen=True)
class CourseDir:
    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> "CourseDir":
        """The course root: $AUTOGRADER_COURSE, else the nearest folder upwards with `assignments/`."""
        env = os.environ.get("AUTOGRADER_COURSE")
        if env:
            return cls(Path(env).resolve())
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "assignments").is_dir():
                return cls(folder)
        raise LayoutError(f"no course folder (one with assignments/) at or above {here}; cd into it or set AUTOGRADER_COURSE")

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


__all__ = ["CourseDir", "LayoutError", "ConfigError"]
