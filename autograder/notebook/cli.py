"""The notebook commands, attached to the main `autograder` group: `export nbgrader`."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli_lms import _echo, _errors, _load, _results_source


@click.command("nbgrader")
@_results_source
@click.option("--course-dir", required=True, type=click.Path(path_type=Path),
              help="The nbgrader course folder (with gradebook.db).")
@click.option("--notebook", help="The notebook's name in nbgrader (default: the assignment's name).")
def export_nbgrader_cmd(results: Path | None, run: str | None, db: Path | None, assignment: str | None,
                        course_dir: Path, notebook: str | None) -> None:
    """Write per-question scores into nbgrader's gradebook (needs the `notebooks` extra)."""
    from .nbgrader_export import export_nbgrader

    with _errors():
        loaded, _spec = _load(results, run, db, assignment)
        _echo(export_nbgrader(loaded, course_dir, notebook=notebook).lines())


def register(main: click.Group) -> None:
    export = main.commands["export"]
    assert isinstance(export, click.Group)
    export.add_command(export_nbgrader_cmd)
