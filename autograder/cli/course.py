"""`autograder release` and `autograder grade`: parse options, call the library, print.

Errors are not handled here: they propagate to the one handler in `autograder.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..course import CourseDir
from ..errors import EXIT_FAILED, ReleaseError, TestsBroken


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


@click.command("new")
@click.argument("name")
@click.option("--title", help="The assignment's title (default: from NAME).")
def new(name: str, title: str | None) -> None:
    """Scaffold assignment NAME: assignment.yaml, README, solution, a public and a hidden test, mutants.

    \b
    Run it in the course folder (or set AUTOGRADER_COURSE); a folder without assignments/ becomes
    a course. Then `autograder release NAME` and `pytest` in release/NAME work right away; see
    docs/authoring.md for the rules (five bug mutants per question, test ids, points).
    """
    from ..scaffold import scaffold

    course = CourseDir.find_optional() or CourseDir(Path.cwd())
    for path in scaffold(course, name, title):
        click.echo(f"wrote {path}")
    click.echo(f"next: autograder release {name} && (cd release/{name} && pytest)")


@click.command()
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--assignment", "-a", help="Assignment name; optional when the files match only one.")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("grades"), show_default=True,
              help="Folder for <student>.json and grades.csv.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Parallel submissions (0: one per core).")
@click.option("--regrade", is_flag=True, help="Grade again students that already have a result in --out.")
@click.option("--unsafe", is_flag=True, help="Grade even when the machine cannot isolate student code.")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Grade on this Ray cluster ('auto' on a node of it; --jobs is then per node). "
                   "Needs the extra: pip install 'dl-autograder[cluster]'.")
@click.option("--gradescope-results", type=click.Path(path_type=Path),
              help="Also write Gradescope's results.json here. For one submission only: refused (exit 2, nothing "
                   "written) when SUBMISSIONS holds several; Gradescope grades one student per run.")
@click.option("--batch-size", type=click.IntRange(min=0), default=0,
              help="Students graded per runner process and pytest session (0: chosen from the count and --jobs).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def grade(submissions: Path, assignment: str | None, out: Path, jobs: int, regrade: bool, unsafe: bool,
          ray_address: str | None, gradescope_results: Path | None, batch_size: int, quiet: bool) -> None:
    """Grade every submission in SUBMISSIONS (one <student>/ folder or <student>.zip each).

    Other files in SUBMISSIONS (README.md, notes.txt, a .tar.gz) are not submissions: they are
    listed once as skipped. In a submission only the assignment's files are staged; extras are
    ignored and listed as warnings in that student's result and feedback. Students whose result is
    an internal grader error are graded again by the next run, without --regrade.

    \b
    Exit codes: 0 every submission got a result (a broken submission gets 0 and a reason);
    1 the grader failed for some submission; 2 could not run (no course, no assignment, no
    submissions, bad options; nothing written); 3 the assignment's own tests are broken (e.g. a
    test file skipped for a missing dependency): fix them and grade again.
    Outside the course folder, set AUTOGRADER_COURSE=/path/to/course.
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
                           one_submission=gradescope_results is not None, batch_size=batch_size, ray=ray_address)
    try:
        report = run(course, submissions, options, on_start=on_start, on_result=on_result)
    finally:
        if bar:
            bar[0].close()
    if report.tests_broken:  # no grades.csv or gradebook run from tests that could not run
        click.echo("\n".join(terminal(line) for line in report.warnings + report.grader_errors), err=True)
        raise TestsBroken(f"the assignment's tests are broken: {terminal(report.tests_broken)}")
    if report.rerun:
        click.echo(f"re-run on other nodes after a Ray node was lost: {', '.join(sorted(set(report.rerun)))}", err=True)
    gradebook_run = write_run_files(report)
    if gradescope_results is not None and report.results:
        write_results_json(gradescope_results, report.results[0], report.assignment.spec.questions,
                           report.assignment.hidden_scores)
    for line in summary_lines(report.assignment.spec, report.results, graded=len(report.graded),
                              resumed=len(report.resumed), skipped=report.skipped):
        click.echo(line)
    click.echo(f"results: {out}/<student>.json and {out}/grades.csv; gradebook run {gradebook_run} "
               f"in {out}/gradebook.sqlite")
    for line in report.warnings:
        click.echo(f"warning: {terminal(line)}", err=True)
    if report.grader_errors:
        click.echo("\n".join(terminal(line) for line in report.grader_errors), err=True)
        sys.exit(EXIT_FAILED)
