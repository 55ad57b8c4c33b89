"""The after-grading commands: LMS exports, feedback, class report, gradebook, Gradescope bundle.

Each command only parses options, reads the results (a folder or a gradebook run), takes the
assignment's spec from the course when there is one, and calls `autograder.exports`. Errors
propagate to the one handler in `autograder.cli`: 2 for bad input or options (nothing written),
1 for an upload Canvas refused or an incomplete roster match under --strict.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import click

from ..course import CourseDir
from ..errors import ResultsError

DEFAULT_RESULTS = Path("grades")


def _echo(lines: list[str]) -> None:
    """Print report lines; they may hold student-controlled text, so control characters are escaped."""
    from ..textsafe import terminal

    for line in lines:
        click.echo(terminal(line))


def _results_source(f: Callable[..., Any]) -> Callable[..., Any]:
    """RESULTS folder, or --run from the gradebook."""
    f = click.option("--assignment", "-a", help="Only the results of this assignment (if RESULTS holds several).")(f)
    f = click.option("--db", type=click.Path(path_type=Path),
                     help="Gradebook file for --run (default: RESULTS/gradebook.sqlite).")(f)
    f = click.option("--run", "run", metavar="RUN",
                     help="Use the results of this gradebook run (an id, 'latest' or 'previous') instead of RESULTS.")(f)
    return click.argument("results", required=False, type=click.Path(path_type=Path))(f)


def _load(results: Path | None, run: str | None, db: Path | None, assignment: str | None):  # type: ignore[no-untyped-def]
    from ..exports.gradebook import default_db, results_for_run
    from ..store import read_results

    folder = results or DEFAULT_RESULTS
    if run is not None:
        loaded = results_for_run(db or default_db(folder), run)
        if assignment and loaded and loaded[0].assignment != assignment:
            raise ResultsError(f"run {run} is for assignment {loaded[0].assignment!r}, not {assignment!r}")
    else:
        loaded = read_results(folder, assignment=assignment)
    course = CourseDir.find_optional()  # exports also work from result files alone, outside a course
    return loaded, course.spec_if_known(loaded[0].assignment) if course is not None else None


def _strictness(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--strict", is_flag=True,
                     help="Fail (exit 1, nothing written) if any student is graded but not on the roster, or the reverse.")(f)
    return click.option("--missing", type=click.Choice(["skip", "zero"]), default="skip", show_default=True,
                        help="Roster students without a result: leave them out (listed) or give them 0.")(f)


@click.group()
def export() -> None:
    """Export grades for an LMS gradebook (Canvas, Moodle) or nbgrader's gradebook."""


@export.command("canvas")
@_results_source
@click.option("--roster", required=True, type=click.Path(path_type=Path), help="Roster CSV (student, name, canvas_id, ...).")
@click.option("--canvas-assignment-id", "canvas_assignment_id", required=True, metavar="ID",
              help="The assignment's id in Canvas (the number at the end of its URL).")
@click.option("--title", help="Assignment title for the column (default: assignment.yaml's title).")
@click.option("--out", "-o", type=click.Path(path_type=Path), help="CSV file to write for Grades > Import.")
@click.option("--points-possible/--no-points-possible", default=True, show_default=True,
              help="Add the 'Points Possible' row.")
@_strictness
@click.option("--upload", is_flag=True, help="Post the grades through Canvas's REST API (a dry run unless --no-dry-run).")
@click.option("--canvas-url", metavar="URL", help="Canvas address for --upload, e.g. https://canvas.example.edu.")
@click.option("--course-id", metavar="ID", help="Canvas course id for --upload.")
@click.option("--token-env", default="CANVAS_API_TOKEN", show_default=True,
              help="Environment variable that holds the Canvas API token.")
@click.option("--comments", is_flag=True, help="With --upload, also post a short per-question summary as a comment.")
@click.option("--dry-run/--no-dry-run", default=True, show_default=True,
              help="With --upload, only print what would be posted.")
def export_canvas(results: Path | None, run: str | None, db: Path | None, assignment: str | None, roster: Path,
                  canvas_assignment_id: str, title: str | None, out: Path | None, points_possible: bool,
                  missing: str, strict: bool, upload: bool, canvas_url: str | None, course_id: str | None,
                  token_env: str, comments: bool, dry_run: bool) -> None:
    """Write a Canvas gradebook-import CSV (and optionally upload the grades)."""
    from ..exports.canvas import export_canvas_csv, upload_canvas
    from ..exports.roster import load_roster

    if out is None and not upload:
        raise click.UsageError("pass --out FILE for the CSV, or --upload to post grades through the API")
    if upload and not (canvas_url and course_id):
        raise click.UsageError("--upload needs --canvas-url and --course-id")
    loaded, spec = _load(results, run, db, assignment)
    people = load_roster(roster)
    name = title or (spec.title if spec is not None else loaded[0].assignment)
    if out is not None:
        _echo(export_canvas_csv(loaded, people, out, title=name, canvas_assignment_id=canvas_assignment_id,
                                points_possible=points_possible, missing=missing, strict=strict).lines())
    if upload:
        report = upload_canvas(loaded, people, base_url=canvas_url or "", token=os.environ.get(token_env),
                               course_id=course_id or "", assignment_id=canvas_assignment_id, dry_run=dry_run,
                               comments=comments, missing=missing, strict=strict)
        _echo(report.lines())


@export.command("moodle")
@_results_source
@click.option("--roster", required=True, type=click.Path(path_type=Path), help="Roster CSV (student, email, ...).")
@click.option("--identity", type=click.Choice(["email", "username", "idnumber"]), default="email", show_default=True,
              help="The one column Moodle maps to its users.")
@click.option("--item", help="Grade item name (default: assignment.yaml's title).")
@click.option("--per-question", is_flag=True, help="Also one grade item column per question.")
@click.option("--feedback", is_flag=True, help="Add a feedback column for the total.")
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True, help="CSV file to write.")
@_strictness
def export_moodle(results: Path | None, run: str | None, db: Path | None, assignment: str | None, roster: Path,
                  identity: str, item: str | None, per_question: bool, feedback: bool, out: Path, missing: str,
                  strict: bool) -> None:
    """Write a CSV for Moodle's Grades > Import > CSV file."""
    from ..exports.moodle import export_moodle_csv
    from ..exports.roster import load_roster

    loaded, spec = _load(results, run, db, assignment)
    name = item or (spec.title if spec is not None else loaded[0].assignment)
    _echo(export_moodle_csv(loaded, load_roster(roster), out, identity=identity, item=name,
                            per_question=per_question, feedback=feedback, missing=missing, strict=strict).lines())


@export.command("nbgrader")
@_results_source
@click.option("--course-dir", required=True, type=click.Path(path_type=Path),
              help="The nbgrader course folder (where gradebook.db is).")
@click.option("--notebook", help="The notebook's name in nbgrader (default: the assignment's name).")
def export_nbgrader(results: Path | None, run: str | None, db: Path | None, assignment: str | None,
                    course_dir: Path, notebook: str | None) -> None:
    """Write per-question scores into nbgrader's gradebook (needs the `notebooks` extra)."""
    from ..notebook.nbgrader_export import export_nbgrader as write

    loaded, _spec = _load(results, run, db, assignment)
    _echo(write(loaded, course_dir, notebook=notebook).lines())


@click.command("feedback")
@_results_source
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Folder for <student>.md/.html (default: RESULTS/feedback).")
@click.option("--notebooks", type=click.Path(path_type=Path, exists=True, file_okay=False), metavar="SUBMISSIONS",
              help="Also write <student>.ipynb for notebook hand-ins in SUBMISSIONS: scores after the graded cells.")
def feedback_cmd(results: Path | None, run: str | None, db: Path | None, assignment: str | None, out: Path | None,
                 notebooks: Path | None) -> None:
    """Write each student's feedback as Markdown and as self-contained HTML."""
    from ..exports.feedback import write_feedback

    loaded, spec = _load(results, run, db, assignment)
    folder = out or (results or DEFAULT_RESULTS) / "feedback"
    paths = write_feedback(loaded, folder, spec)
    if notebooks is not None:  # notebooks (autograder/notebook/)
        from ..notebook.feedback_notebook import write_feedback_notebooks

        paths += write_feedback_notebooks(loaded, notebooks, folder, spec)
    click.echo(f"wrote {len(paths)} files ({len(loaded)} students) in {folder}")


@click.command("report")
@_results_source
@click.option("--out", "-o", type=click.Path(path_type=Path), help="HTML file (default: RESULTS/report.html).")
@click.option("--feedback", "feedback_dir", type=click.Path(path_type=Path),
              help="Folder of the feedback pages to link per student (default: RESULTS/feedback, as `autograder feedback` writes).")
def report_cmd(results: Path | None, run: str | None, db: Path | None, assignment: str | None, out: Path | None,
               feedback_dir: Path | None) -> None:
    """Write the class report: score distribution, pass rates, failure causes, errors, one row per student.

    Its numbers count graded submissions only; ungradable ones are listed apart. Needs only the base install.
    """
    from ..exports.report import write_report

    loaded, spec = _load(results, run, db, assignment)
    target = out or (results or DEFAULT_RESULTS) / "report.html"
    folder = feedback_dir or (results or DEFAULT_RESULTS) / "feedback"
    links = {r.student: os.path.relpath(folder / f"{r.student}.html", target.parent)
             for r in loaded if (folder / f"{r.student}.html").is_file()}
    path = write_report(loaded, target, spec, links)
    click.echo(f"wrote {path} ({len(loaded)} students)")
    if len(links) < len(loaded):
        click.echo(f"{len(loaded) - len(links)} students have no feedback page in {folder} to link: "
                   f"run `autograder feedback {results or DEFAULT_RESULTS}` first, then the report again")


@click.group()
def gradebook() -> None:
    """Keep every grading run in a SQLite gradebook."""


@gradebook.command("record")
@click.argument("results", required=False, type=click.Path(path_type=Path))
@click.option("--db", type=click.Path(path_type=Path), help="Gradebook file (default: RESULTS/gradebook.sqlite).")
@click.option("--label", default="", help="A note for this run, e.g. 'after fixing test tolerance'.")
@click.option("--assignment", "-a", help="Only the results of this assignment (if RESULTS holds several).")
def gradebook_record(results: Path | None, db: Path | None, label: str, assignment: str | None) -> None:
    """Record the results in RESULTS (default: grades) as a new run."""
    from ..exports.gradebook import default_db, record_run

    folder = results or DEFAULT_RESULTS
    run_id = record_run(folder, db, label=label, assignment=assignment)
    click.echo(f"recorded run {run_id} in {db or default_db(folder)}")


@gradebook.command("runs")
@click.option("--db", type=click.Path(path_type=Path), default=DEFAULT_RESULTS / "gradebook.sqlite", show_default=True)
def gradebook_runs(db: Path) -> None:
    """List the recorded runs."""
    from ..exports.gradebook import list_runs

    runs = list_runs(db)
    _echo([r.line() for r in runs] or [f"no runs in {db}"])


@click.command("diff")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--db", type=click.Path(path_type=Path), default=DEFAULT_RESULTS / "gradebook.sqlite", show_default=True)
def diff_cmd(run_a: str, run_b: str, db: Path) -> None:
    """Show what changed between two gradebook runs (ids, 'latest' or 'previous')."""
    from ..exports.gradebook import diff

    _echo(diff(db, run_a, run_b).lines())


@click.command("gradescope")
@click.argument("assignment")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("autograder.zip"), show_default=True)
@click.option("--student-field", type=click.Choice(["email", "id"]), default="email", show_default=True,
              help="Which field of Gradescope's users[] is the student id (and so the seed).")
@click.option("--unsafe", is_flag=True, help="Grade without isolation inside Gradescope (if its container cannot isolate).")
@click.option("--torch-index-url", default="https://download.pytorch.org/whl/cpu", show_default=True, metavar="URL",
              help="Package index for torch in setup.sh: PyTorch's CPU-only wheels by default; '' for PyPI.")
def gradescope_cmd(assignment: str, out: Path, student_field: str, unsafe: bool, torch_index_url: str) -> None:
    """Build Gradescope's autograder.zip for ASSIGNMENT."""
    from ..exports.gradescope_bundle import build_autograder_zip

    course = CourseDir.find()
    path = build_autograder_zip(course, assignment, out, student_field=student_field, unsafe=unsafe,
                                torch_index_url=torch_index_url)
    click.echo(f"wrote {path}: upload it in Gradescope's Configure Autograder page")


EXPORT_COMMANDS = (export, feedback_cmd, report_cmd, gradebook, diff_cmd, gradescope_cmd)

__all__ = ["EXPORT_COMMANDS"]
