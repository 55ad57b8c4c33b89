"""`autograder new NAME`: a new assignment that releases, runs and grades right away.

It writes the six things every assignment has (assignment.yaml, a README with the generated
sections' markers, a solution with markers, one public and one hidden test, mutants.yaml with the
five bug mutants a question needs), so an instructor starts from something that works and edits
it; docs/authoring.md walks through the rest.
"""

from __future__ import annotations

import re
from pathlib import Path

from .course import CourseDir
from .errors import ConfigError, LayoutError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

ASSIGNMENT_YAML = """\
name: {name}
title: "{title}"
files: [{name}.py]                   # the files a student submits
questions:
  - id: scale                        # every test names its question: @pytest.mark.question("scale")
    title: "Scale an array"
    file: {name}.py
    points: {{public: 1, hidden: 2}}   # public: earned by the released tests; hidden: at grading
    tolerance: {{rtol: 1.0e-5, atol: 1.0e-8}}
    time_limit: 10                   # seconds per call into student code
"""

README = """\
# {title}

Write `scale(x, factor)` in `{name}.py`: the array `x` multiplied by the number `factor`, as a float
array of `x`'s shape. Replace `raise NotImplementedError(...)` with your code; keep the name and the
signature.

<!-- autograder: setup -->

<!-- autograder: submit -->

## Running the tests

```bash
pytest            # in this folder
```

prints pytest's report, then your public points per question.

<!-- autograder: points -->
"""

SOLUTION = '''\
"""{title}."""

import numpy as np


def scale(x, factor):
    """Return factor * x as a float array of x's shape."""
    # BEGIN SOLUTION
    return float(factor) * np.asarray(x, dtype=float)
    # END SOLUTION
'''

PUBLIC_TEST = '''\
"""Public tests: expected values computed here with numpy (students have no reference solution)."""

import numpy as np
import pytest

from gradekit import checks

pytestmark = pytest.mark.question("scale")


@pytest.mark.parametrize("factor", [2.0, -0.5])
def test_scale_small_array(student, factor):
    x = np.array([[1.0, -2.0, 3.5]])
    checks.check_array(student.{name}.scale(x, factor), factor * x, name=f"scale(x, {{factor}})",
                       hint="multiply every element by factor; keep x's shape")
'''

HIDDEN_TEST = '''\
"""Hidden tests: inputs seeded per student (`rng`), expected values from the reference solution."""

import pytest

from gradekit import checks

pytestmark = pytest.mark.question("scale")


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)], ids=["1d", "2d", "3d"])
def test_scale_random(student, reference, rng, shape):
    x = rng.normal(size=shape) * 5
    factor = float(rng.uniform(-3, 3))
    checks.check_array(student.{name}.scale(x, factor), reference.{name}.scale(x, factor),
                       name=f"scale of a random {{len(shape)}}-d array", hint="multiply every element by factor")
'''

MUTANTS = """\
# Plausible student bugs: each must lose points on the hidden tests of its question (at least five
# per question), and correct alternatives must keep full marks (tests/assignments/test_bank.py).
- {{question: scale, name: adds-instead-of-multiplying, kind: bug, file: {name}.py,
   replace: "return float(factor) * np.asarray(x, dtype=float)", with: "return np.asarray(x, dtype=float) + factor"}}
- {{question: scale, name: ignores-factor, kind: bug, file: {name}.py,
   replace: "return float(factor) * np.asarray(x, dtype=float)", with: "return np.asarray(x, dtype=float)"}}
- {{question: scale, name: squares-x, kind: bug, file: {name}.py,
   replace: "return float(factor) * np.asarray(x, dtype=float)", with: "return float(factor) * np.asarray(x, dtype=float) ** 2"}}
- {{question: scale, name: truncates-to-int, kind: bug, file: {name}.py,
   replace: "return float(factor) * np.asarray(x, dtype=float)", with: "return float(factor) * np.asarray(x, dtype=int)"}}
- {{question: scale, name: flattens, kind: bug, file: {name}.py,
   replace: "return float(factor) * np.asarray(x, dtype=float)", with: "return (float(factor) * np.asarray(x, dtype=float)).ravel()"}}
- {{question: scale, name: np-multiply, kind: alternative, file: {name}.py,
   replace: "return float(factor) * np.asarray(x, dtype=float)", with: "return np.multiply(x, factor, dtype=float)"}}
"""


def scaffold(course: CourseDir, name: str, title: str | None = None) -> list[Path]:
    """Write a new assignment NAME into the course; returns the files written. Never overwrites."""
    if not _NAME.match(name):
        raise ConfigError(f"assignment name {name!r}: use lower-case letters, digits and _ (it is also the "
                          "student's module name), e.g. `autograder new linear_layer`")
    title = title or name.replace("_", " ").capitalize()
    base = course.assignments_dir / name
    files = {
        base / "assignment.yaml": ASSIGNMENT_YAML,
        base / "README.md": README,
        base / "tests" / "public" / f"test_{name}.py": PUBLIC_TEST,
        base / "tests" / "hidden" / f"test_{name}_hidden.py": HIDDEN_TEST,
        base / "mutants.yaml": MUTANTS,
        course.solutions_dir(name) / f"{name}.py": SOLUTION,
    }
    existing = [p for p in files if p.exists()] + [p for p in (base, course.solutions_dir(name)) if p.exists()]
    if existing:
        raise LayoutError(f"assignment {name!r} already exists ({existing[0]}); choose another name")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=name, title=title.replace('"', "'")), encoding="utf-8")
    return list(files)


__all__ = ["scaffold"]
