"""The files every `autograder grade` run leaves beside the results: grades.csv and a gradebook run."""

from __future__ import annotations

from ..grading import GradeReport
from . import grades_csv
from .gradebook import default_db, record_results


def write_run_files(report: GradeReport) -> int:
    """Write `<out>/grades.csv` and record the run in `<out>/gradebook.sqlite` (every run, so
    regrades can be diffed), from the results in memory. Returns the gradebook run's id."""
    grades_csv.write(report.out / "grades.csv", report.assignment.spec, report.results)
    return record_results(report.results, default_db(report.out), source=str(report.out))


__all__ = ["write_run_files"]
