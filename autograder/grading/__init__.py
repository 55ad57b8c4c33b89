"""Grading: submissions -> pool (forked runners) -> runner (a pytest session) -> results.

The public surface is `grade()` with its options and report; `inprocess` runs tests with no
isolation, for project tests and the benchmark. See `flow` for the order of the stages.
"""

from __future__ import annotations

from .flow import GradeOptions, GradeReport, choose_assignment, grade

__all__ = ["GradeOptions", "GradeReport", "choose_assignment", "grade"]
