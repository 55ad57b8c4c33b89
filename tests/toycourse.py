"""A tiny course written into a temporary folder, for tests of the machinery (not of the content)."""

from __future__ import annotations

from pathlib import Path

ASSIGNMENT = """\
name: toy
title: Toy assignment
files: [toy.py, extra.py]
questions:
  - id: double
    title: Double an array
    file: toy.py
    points: {public: 1, hidden: 2}
    time_limit: 2
  - id: counter
    title: A counter object
    file: extra.py
    points: {public: 1, hidden: 1}
    time_limit: 2
"""

SOLUTION_TOY = '''\
"""Double things."""
import numpy as np


def double(x):
    """Return 2 * x as a numpy array."""
    # BEGIN SOLUTION
    return 2 * np.asarray(x, dtype=float)
    # END SOLUTION
'''

SOLUTION_EXTRA = '''\
class Counter:
    def __init__(self, start):
        # BEGIN SOLUTION
        self.value = start
        # END SOLUTION

    def add(self, k):
        # BEGIN SOLUTION
        self.value += k
        return self
        # END SOLUTION
'''

PUBLIC_TEST = '''\
import numpy as np
import pytest
from gradekit import checks


@pytest.mark.question("double")
@pytest.mark.parametrize("x", [0.5, 3.0])
def test_double(student, x):
    checks.check_array(student.toy.double(np.array([x])), np.array([2 * x]), name="double(x)")


@pytest.mark.question("counter")
def test_counter(student):
    c = student.extra.Counter(3)
    checks.check_close(c.add(2).value, 5.0, name="Counter(3).add(2).value")
'''

HIDDEN_TEST = '''\
import pytest
from gradekit import checks


@pytest.mark.question("double")
def test_double_random(student, reference, rng):
    x = rng.normal(size=(4, 3)) * 3
    checks.check_array(student.toy.double(x), reference.toy.double(x), name="double(x) on random input")


@pytest.mark.question("counter")
def test_counter_many(student, rng):
    c = student.extra.Counter(0)
    steps = rng.integers(1, 5, size=4)
    for k in steps:
        c = c.add(int(k))
    checks.check_close(c.value, float(steps.sum()), name="Counter after several adds")
'''


def make_course(root: Path) -> Path:
    """Write the toy course under `root` and return it."""
    files = {
        "assignments/toy/assignment.yaml": ASSIGNMENT,
        "assignments/toy/README.md": "# Toy\n\nDouble an array; count.\n",
        "assignments/toy/tests/public/test_toy.py": PUBLIC_TEST,
        "assignments/toy/tests/hidden/test_toy_hidden.py": HIDDEN_TEST,
        "solutions/toy/toy.py": SOLUTION_TOY,
        "solutions/toy/extra.py": SOLUTION_EXTRA,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def submission(folder: Path, toy: str | None = None, extra: str | None = None) -> Path:
    """A student folder with the reference files, optionally replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toy.py").write_text(toy if toy is not None else SOLUTION_TOY)
    (folder / "extra.py").write_text(extra if extra is not None else SOLUTION_EXTRA)
    return folder
