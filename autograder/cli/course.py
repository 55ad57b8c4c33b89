"""`autograder release` and `autograder grade`: parse options, call the library, print.

Errors are not handled here: they propagate to the one handler in `autograder.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..course import CourseDir
from ..errors import EXIT_FAILED, ReleaseError


@click.command()
@click.argument("names", nargs=-1)
@click.option("--check", is_flag=True, help="Only check that release/ is up to date with its sources.")
def release(names: tuple[str, ...], check: bool) -> None:
    """Generate release/<name>/ (stubs, public tests, kit) from the reference solutions."""
    from ..release import check_release, write_release

    course = CourseDir.find()
    targets = list(names) or course.assignment_names()
    stale = []
    for name in targets:
        if check:
            stale += check_release(course, name)
        else:
            click.echo(f"wrote {write_release(course, name)}")
    if stale:
        click.echo("\n".join(stale), err=True)
        raise ReleaseError("release/ is out of date: run `autograder release`")
    if check:
        click.echo("release/ is up to date")


@click.command()
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--assignment", "-a", help="Assignment name; optional when the files match only one.")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("grades"), show_default=True,
              help="Folder for <student>.json and grades.csv.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Parallel submissions (0: one per core).")
@click.option("--regrade", is_flag=True, help="Grade again students that already have a result in --out.")
@click.option("--unsafe", is_flag=True, help="Grade even when the machine cannot isolate student code.")
@click.option("--gradescope-results", type=click.Path(path_type=Path), help="Also write Gradescope's results.json here.")
@click.option("--batch-size", type=click.IntRange(min=0), default=0,
              help="Students graded per runner process and pytest session (0: chosen from the count and --jobs).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def grade(submissions: Path, assignment: str | None, out: Path, jobs: int, regrade: bool, unsafe: bool,
          gradescope_results: Path | None, batch_size: int, quiet: bool) -> None:
    """Grade every submission in SUBMISSIONS (one <student>/ folder or <student>.zip each).

    Other files in SUBMISSIONS (README.md, notes.txt, a .tar.gz) are not submissions: they are
    listed once as skipped. In a submission only the assignment's files are staged; extras are
    ignored and listed as warnings in that student's result and feedback. Students whose result is
    an internal grader error are graded again by the next run, without --regrade.
    """
    from tqdm import tqdm

    from ..exports.gradescope import write_results_json
    from ..exports.run_files import write_run_files
    from ..exports.summary import summary_lines
    from ..grading import GradeOptions
    from ..grading import grade as run
    from ..textsafe import terminal

    course = CourseDir.find()
    bar: list[tqdm] = []

    def on_start(report, todo: int) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"isolation: {report.isolation}", err=True)
        if report.resumed:
            click.echo(f"resuming: {len(report.resumed)} students already graded (use --regrade to grade again)", err=True)
        bar.append(tqdm(total=todo, unit="student", disable=quiet or todo == 0, file=sys.stderr))

    def on_result(result) -> None:  # type: ignore[no-untyped-def]
        if bar:
            bar[0].set_postfix_str(result.student[:20], refresh=False)
            bar[0].update(1)

    options = GradeOptions(out=out, assignment=assignment, jobs=jobs, regrade=regrade, unsafe=unsafe,
                           batch_size=batch_size)
    try:
        report = run(course, submissions, options, on_start=on_start, on_result=on_result)
    finally:
        if bar:
            bar[0].close()
    gradebook_run = write_run_files(report)
    if gradescope_results is not None and report.results:
        write_results_json(gradescope_results, report.results[0], report.assignment.spec.questions)
    for line in summary_lines(report.assignment.spec, report.results, graded=len(report.graded),
                              resumed=len(report.resumed), skipped=report.skipped):
        click.echo(line)
    click.echo(f"results: {out}/<student>.json and {out}/grades.csv; gradebook run {gradebook_run} "
               f"in {out}/gradebook.sqlite")
    if report.grader_errors:
        click.echo("\n".join(terminal(line) for line in report.grader_errors), err=True)
        sys.exit(EXIT_FAILED)
