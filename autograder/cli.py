"""The `autograder` command: parses options, calls the library, maps its errors to exit codes.

Exit codes: 0 every submission got a result; 1 the grader failed for some submission; 2 the grader
could not run at all (bad options, missing assignment, invalid assignment.yaml, no isolation).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .config import ConfigError
from .layout import CourseDir, LayoutError

USAGE_ERRORS = (ConfigError, LayoutError)


def _course() -> CourseDir:
    try:
        return CourseDir.find()
    except LayoutError as exc:
        raise click.ClickException(str(exc)) from None


class _Exit(click.ClickException):
    exit_code = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autograder")
def main() -> None:
    """Release, grade and export deep-learning assignments."""


@main.command()
@click.argument("names", nargs=-1)
@click.option("--check", is_flag=True, help="Only check that release/ is up to date with its sources.")
def release(names: tuple[str, ...], check: bool) -> None:
    """Generate release/<name>/ (stubs, public tests, kit) from the reference solutions."""
    from .release import ReleaseError, check_release, write_release

    course = _course()
    try:
        targets = list(names) or course.assignment_names()
        stale = []
        for name in targets:
            if check:
                stale += check_release(course, name)
            else:
                click.echo(f"wrote {write_release(course, name)}")
    except (ReleaseError, *USAGE_ERRORS) as exc:
        raise _Exit(str(exc)) from None
    if stale:
        click.echo("\n".join(stale), err=True)
        raise _Exit("release/ is out of date: run `autograder release`")
    if check:
        click.echo("release/ is up to date")


@main.command()
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--assignment", "-a", help="Assignment name; optional when the files match only one.")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("grades"), show_default=True,
              help="Folder for <student>.json and grades.csv.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Parallel submissions (0: one per core).")
@click.option("--regrade", is_flag=True, help="Grade again students that already have a result in --out.")
@click.option("--unsafe", is_flag=True, help="Grade even when the machine cannot isolate student code.")
@click.option("--gradescope-results", type=click.Path(path_type=Path), help="Also write Gradescope's results.json here.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def grade(submissions: Path, assignment: str | None, out: Path, jobs: int, regrade: bool, unsafe: bool,
          gradescope_results: Path | None, quiet: bool) -> None:
    """Grade every submission in SUBMISSIONS (one <student>/ folder or <student>.zip each)."""
    from tqdm import tqdm

    from .grading import GradeOptions, GradingError
    from .grading import grade as run
    from .summary import summary_lines

    course = _course()
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
                           gradescope_results=gradescope_results)
    try:
        report = run(course, submissions, options, on_start=on_start, on_result=on_result)
    except (GradingError, *USAGE_ERRORS) as exc:
        raise _Exit(str(exc)) from None
    finally:
        if bar:
            bar[0].close()
    for line in summary_lines(report.assignment.spec, report.results, graded=len(report.graded),
                              resumed=len(report.resumed)):
        click.echo(line)
    click.echo(f"results: {out}/<student>.json and {out}/grades.csv; gradebook run {report.gradebook_run} "
               f"in {out}/gradebook.sqlite")
    if report.grader_errors:
        click.echo("\n".join(report.grader_errors), err=True)
        sys.exit(1)


from .cli_lms import register  # noqa: E402 - the LMS commands attach to `main`

register(main)
