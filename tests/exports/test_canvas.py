"""Canvas: the gradebook-import CSV checked against the importer's rules, and the REST upload
against a local HTTP server answering the documented endpoints."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

import pytest

from autograder.exports.canvas import export_canvas_csv, upload_canvas
from autograder.errors import CanvasUploadError, ExportError, OutputPathError, RosterError
from autograder.exports.roster import load_roster
from autograder.results import Result
from tests.exports.factory import write_roster

# The local test server speaks plain HTTP; canvasapi warns about that, rightly, for real servers.
pytestmark = pytest.mark.filterwarnings("ignore:Canvas may respond unexpectedly:UserWarning")

TITLE_AND_ID = re.compile(r"\A(.*)\s+\((\d+)\)\z".replace(r"\z", r"\Z"))  # Canvas: Assignment.title_and_id


def validate_canvas_csv(text: str) -> dict[str, Any]:
    """The rules of Canvas's GradebookImporter: header row, optional SIS columns, Points Possible row."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    assert len(header) >= 3 and re.search("Student", header[0]) and re.search("ID", header[1])
    student_columns = 3
    if not re.search("Section", header[2]):
        assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3])
        assert re.search("Section", header[4])
        student_columns = 5
    columns = header[student_columns:]
    assert columns, "at least one assignment column"
    for col in columns:
        assert TITLE_AND_ID.match(col), f"assignment column {col!r} must be 'Title (id)'"
    points = None
    students = []
    for row in rows[1:]:
        assert len(row) == len(header), f"row {row} has {len(row)} cells, header {len(header)}"
        if re.search("Points Possible", row[0]):
            assert all(cell == "" for cell in row[1:student_columns])
            points = [float(x) for x in row[student_columns:]]
            continue
        assert row[1] or (student_columns == 5 and (row[2] or row[3])), "each student needs an id to match"
        for cell in row[student_columns:]:
            assert re.fullmatch(r"\d+(\.\d+)?", cell), f"grade {cell!r} is a plain number"
        students.append(row)
    return {"header": header, "points": points, "students": students}


def test_csv_follows_canvas_import_rules(tmp_path: Path, results: list[Result], roster) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "canvas.csv"
    report = export_canvas_csv(results, roster, out, title="Demo: backprop", canvas_assignment_id="4321")
    parsed = validate_canvas_csv(out.read_text(encoding="utf-8"))
    assert parsed["header"] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Demo: backprop (4321)"]
    assert parsed["points"] == [15.0]
    assert [r[0] for r in parsed["students"]] == ["Liddell, Alice", "Builder, Bob", "Carol, Ann", "Dave, D"]
    assert parsed["students"][1] == ["Builder, Bob", "102", "S002", "bbuilder", "Sec 1", "9"]
    assert parsed["students"][3][-1] == "0"  # an error result exports its 0
    assert report.rows == 4 and [e.student for e in report.match.no_result] == ["erin"]
    assert "erin" in "\n".join(report.lines())
    assert out.read_bytes().count(b"\r\n") == 6  # RFC 4180 line ends from the csv module


def test_without_sis_columns_and_missing_zero(tmp_path: Path, results: list[Result]) -> None:
    roster = load_roster(write_roster(tmp_path / "r.csv", "student,name,canvas_id\nalice,A,1\nzed,Z,9\n"))
    out = tmp_path / "c.csv"
    export_canvas_csv(results, roster, out, title="T", canvas_assignment_id=7, points_possible=False, missing="zero")
    parsed = validate_canvas_csv(out.read_text())
    assert parsed["header"] == ["Student", "ID", "Section", "T (7)"] and parsed["points"] is None
    assert parsed["students"] == [["A", "1", "", "15"], ["Z", "9", "", "0"]]


def test_roster_without_canvas_ids_is_refused(tmp_path: Path, results: list[Result]) -> None:
    out = tmp_path / "c.csv"
    roster = load_roster(write_roster(tmp_path / "r.csv", "student,email\nalice,a@x\n"))
    with pytest.raises(RosterError, match="missing column 'canvas_id or sis_user_id or sis_login_id'"):
        export_canvas_csv(results, roster, out, title="T", canvas_assignment_id=7)
    roster = load_roster(write_roster(tmp_path / "r.csv", "student,canvas_id\nalice,1\nbob,\n"))
    with pytest.raises(RosterError, match="row 3 \\(student 'bob'\\) has no canvas_id"):
        export_canvas_csv(results, roster, out, title="T", canvas_assignment_id=7)
    assert not out.exists() and list(tmp_path.glob(".c.csv*")) == []


def test_bad_assignment_id_and_unwritable_path(tmp_path: Path, results: list[Result], roster) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ExportError, match="must be a number"):
        export_canvas_csv(results, roster, tmp_path / "c.csv", title="T", canvas_assignment_id="abc")
    with pytest.raises(OutputPathError, match="does not exist"):
        export_canvas_csv(results, roster, tmp_path / "no" / "c.csv", title="T", canvas_assignment_id=1)
    with pytest.raises(OutputPathError, match="is a folder"):
        export_canvas_csv(results, roster, tmp_path, title="T", canvas_assignment_id=1)


def test_failed_export_keeps_the_previous_file(tmp_path: Path, results: list[Result]) -> None:
    out = tmp_path / "c.csv"
    out.write_text("previous export\n")
    roster = load_roster(write_roster(tmp_path / "r.csv", "student,canvas_id\nalice,1\nbob,\n"))
    with pytest.raises(RosterError):
        export_canvas_csv(results, roster, out, title="T", canvas_assignment_id=7)
    assert out.read_text() == "previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "grades", "r.csv"]


# ---------------------------------------------------------------- REST upload


class FakeCanvas:
    """Answers GET course, GET assignment, POST submissions/update_grades, GET progress."""

    def __init__(self, *, progress_states: tuple[str, ...] = ("queued", "running", "completed"),
                 token: str = "sekret") -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]], str]] = []
        self.states = list(progress_states)
        self.token = token
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                path = urlparse(self.path).path
                fake.requests.append((method, path, parse_qs(body), self.headers.get("Authorization", "")))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._reply(401, {"errors": [{"message": "Invalid access token."}]})
                if method == "GET" and path == "/api/v1/courses/5":
                    return self._reply(200, {"id": 5, "name": "Deep learning"})
                if method == "GET" and path == "/api/v1/courses/5/assignments/4321":
                    return self._reply(200, {"id": 4321, "course_id": 5, "name": "Demo", "points_possible": 15})
                if method == "POST" and path == "/api/v1/courses/5/assignments/4321/submissions/update_grades":
                    return self._reply(200, {"id": 77, "workflow_state": fake.states.pop(0), "tag": "submissions_update"})
                if method == "GET" and path == "/api/v1/progress/77":
                    state = fake.states.pop(0) if fake.states else "completed"
                    return self._reply(200, {"id": 77, "workflow_state": state, "message": "boom" if state == "failed" else None})
                return self._reply(404, {"errors": [{"message": "The specified resource does not exist."}]})

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeCanvas":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_canvas() -> Iterator[FakeCanvas]:
    with FakeCanvas() as fake:
        yield fake


def _upload(results: list[Result], roster, url: str, **kw: Any):  # type: ignore[no-untyped-def]
    return upload_canvas(results, roster, base_url=url, token=kw.pop("token", "sekret"), course_id=5,
                         assignment_id=4321, poll_interval=0.01, timeout=5, **kw)


def test_dry_run_is_the_default_and_sends_nothing(fake_canvas: FakeCanvas, results: list[Result], roster) -> None:  # type: ignore[no-untyped-def]
    report = upload_canvas(results, roster, base_url=fake_canvas.url, token="sekret", course_id=5, assignment_id=4321)
    assert report.dry_run and fake_canvas.requests == []
    text = "\n".join(report.lines())
    assert "would post 4 grades" in text and "bob -> 102: 9" in text and "nothing was sent" in text


def test_upload_posts_grades_and_waits_for_the_job(fake_canvas: FakeCanvas, results: list[Result], roster) -> None:  # type: ignore[no-untyped-def]
    report = _upload(results, roster, fake_canvas.url, dry_run=False, comments=True)
    assert not report.dry_run and len(report.grades) == 4
    methods = [(m, p) for m, p, _, _ in fake_canvas.requests]
    assert methods[:3] == [("GET", "/api/v1/courses/5"), ("GET", "/api/v1/courses/5/assignments/4321"),
                           ("POST", "/api/v1/courses/5/assignments/4321/submissions/update_grades")]
    assert methods[3:] == [("GET", "/api/v1/progress/77")] * 2  # queued -> running -> completed
    form = fake_canvas.requests[2][2]
    assert form["grade_data[101][posted_grade]"] == ["15"] and form["grade_data[102][posted_grade]"] == ["9"]
    assert form["grade_data[104][posted_grade]"] == ["0"]
    assert "Total 9/15" in form["grade_data[102][text_comment]"][0]
    assert all(auth == "Bearer sekret" for *_, auth in fake_canvas.requests)


def test_upload_uses_sis_ids_when_there_is_no_canvas_id(fake_canvas: FakeCanvas, tmp_path: Path,
                                                        results: list[Result]) -> None:
    roster = load_roster(write_roster(tmp_path / "r.csv", "student,sis_user_id,sis_login_id\nalice,S1,\nbob,,bb\n"))
    _upload(results, roster, fake_canvas.url, dry_run=False)
    form = fake_canvas.requests[2][2]
    assert form["grade_data[sis_user_id:S1][posted_grade]"] == ["15"]
    assert form["grade_data[sis_login_id:bb][posted_grade]"] == ["9"]


def test_upload_failures_are_clear(results: list[Result], roster) -> None:  # type: ignore[no-untyped-def]
    with FakeCanvas(progress_states=("queued", "failed")) as fake:
        with pytest.raises(CanvasUploadError, match="'failed': boom"):
            _upload(results, roster, fake.url, dry_run=False)
    with FakeCanvas() as fake:
        with pytest.raises(CanvasUploadError, match="refused.*token"):
            _upload(results, roster, fake.url, dry_run=False, token="wrong")
        with pytest.raises(ExportError, match="no Canvas API token"):
            _upload(results, roster, fake.url, dry_run=False, token=None)
    with pytest.raises(ExportError, match="course id must be a number"):
        upload_canvas(results, roster, base_url="http://x", token="t", course_id="abc", assignment_id=1)
