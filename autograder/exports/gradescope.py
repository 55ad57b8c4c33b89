"""Gradescope: results.json in Gradescope's autograder format, from results in memory.

results.json follows Gradescope's autograder specification: a top-level `score` (which overrides
the sum of the tests), `execution_time`, `output`, `output_format`, `visibility`,
`stdout_visibility` and `tests`; each test has `name`, `number` ("1.2", for ordering), `score`,
`max_score`, `status` ("passed"/"failed"), `output`, `output_format`, `tags` and `visibility`
(hidden, after_due_date, after_published, visible).

The specification: "if test cases are hidden, students will not be able to see their total score".
assignment.yaml's `hidden_scores` uses it. `until_published` (the default): each question's hidden
tests are one entry with the question's `hidden_visibility`, carrying their points, so students
see neither those points nor their total before publication and cannot probe the hidden tests by
resubmitting. `visible`: points never sit on a test students cannot see; the hidden entries carry
none and one visible "Hidden tests (all questions)" entry carries them, so the total shows at once.

The autograder.zip that runs our grader inside Gradescope is built by `gradescope_bundle`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from gradekit.spec import QuestionSpec

from ..errors import GradescopeError
from ..results import Result
from ..store import to_dict, write_json_atomic
from ..textsafe import markdown
from .feedback import hint, short_name

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
HIDDEN_SCORES = ("until_published", "visible")  # assignment.yaml's hidden_scores
DEFAULT_HIDDEN_VISIBILITY = "after_published"
_WHEN = {"hidden": "never shown to students", "after_due_date": "shown after the due date",
         "after_published": "shown when grades are published", "visible": "shown now"}


def _round(x: float) -> float:
    return round(float(x), 6)


def _question_info(q: Any) -> dict[str, Any]:
    """A question from assignment.yaml as a dict, whether given as a QuestionSpec or a mapping."""
    get = q.get if isinstance(q, Mapping) else (lambda k, d=None: getattr(q, k, d))
    visibility = get("hidden_visibility", None) or DEFAULT_HIDDEN_VISIBILITY
    if visibility not in VISIBILITIES:
        raise GradescopeError(f"question {get('id')!r}: hidden_visibility {visibility!r} is not one of "
                              f"{', '.join(VISIBILITIES)}; fix assignment.yaml")
    return {"id": get("id"), "title": get("title", None) or get("id"), "hidden_visibility": visibility}


def to_gradescope(result: Mapping[str, Any], questions: Iterable[Any] = (),
                  hidden_scores: str = "until_published") -> dict[str, Any]:
    """Gradescope's results.json for one result dict (the grader's JSON), pure: no I/O.

    `questions` are assignment.yaml's questions (QuestionSpec objects or dicts with id, title and
    hidden_visibility); questions only in the result default to `after_published`. `hidden_scores`
    is assignment.yaml's policy: "until_published" puts each question's hidden points on its own
    entry with its hidden_visibility, so Gradescope shows students neither those points nor their
    total before grades are published (resubmitting reveals nothing about the hidden tests);
    "visible" pools them on one visible entry so the total is always shown.
    """
    if hidden_scores not in HIDDEN_SCORES:
        raise GradescopeError(f"hidden_scores {hidden_scores!r} is not one of {', '.join(HIDDEN_SCORES)}")
    withheld = hidden_scores == "until_published"
    if not isinstance(result, Mapping):  # a results.Result
        result = to_dict(result)
    spec = {info["id"]: info for info in (_question_info(q) for q in questions)}
    rq = {q["id"]: q for q in result.get("questions", [])}
    order = [qid for qid in spec if qid in rq] + [qid for qid in rq if qid not in spec]
    tests: list[dict[str, Any]] = []
    pooled_score = pooled_max = 0.0
    pooled: list[str] = []
    public_score = public_max = hidden_score = hidden_max = 0.0
    for i, qid in enumerate(order, start=1):
        q = rq[qid]
        info = spec.get(qid) or _question_info({"id": qid, "title": q.get("title")})
        title = info["title"]
        visibility = info["hidden_visibility"]
        qtests = q.get("tests") or []
        n = 0
        if not qtests:  # an error result: nothing ran for this question
            n += 1
            tests.append({"name": f"{title}", "number": f"{i}.{n}", "score": _round(q.get("score", 0.0)),
                          "max_score": _round(q.get("max_score", 0.0)), "status": "failed",
                          "output": "Not graded: " + (result.get("error") or "no tests ran for this question."),
                          "output_format": "text", "tags": [qid], "visibility": "visible"})
            public_max += float(q.get("max_score", 0.0))
            continue
        for t in (t for t in qtests if not t.get("hidden")):
            n += 1
            message = (t.get("message") or "").strip()
            output = message if not t.get("passed") and message else ("" if t.get("passed") else hint(t.get("cause", "")))
            tests.append({"name": f"{title}: {short_name(t['name'])}", "number": f"{i}.{n}",
                          "score": _round(t["score"]), "max_score": _round(t["max_score"]),
                          "status": "passed" if t.get("passed") else "failed", "output": output,
                          "output_format": "text", "tags": [qid, "public"], "visibility": "visible"})
            public_score += float(t["score"])
            public_max += float(t["max_score"])
        hidden = [t for t in qtests if t.get("hidden")]
        if not hidden:
            continue
        n += 1
        h_score = sum(float(t["score"]) for t in hidden)
        h_max = sum(float(t["max_score"]) for t in hidden)
        hidden_score += h_score
        hidden_max += h_max
        passed = sum(bool(t.get("passed")) for t in hidden)
        lines = [f"Hidden tests: {passed} of {len(hidden)} passed, {_round(h_score):g} / {_round(h_max):g} points."]
        lines += [f"Hidden test {k}: failed: {hint(t.get('cause', ''))}"
                  for k, t in enumerate(hidden, start=1) if not t.get("passed")]
        entry = {"name": f"{title}: hidden tests", "number": f"{i}.{n}", "score": 0.0, "max_score": 0.0,
                 "status": "passed" if passed == len(hidden) else "failed", "output": "\n".join(lines),
                 "output_format": "text", "tags": [qid, "hidden"], "visibility": visibility}
        if withheld:
            entry["visibility"] = visibility if visibility != "visible" else "after_published"
            entry["score"], entry["max_score"] = _round(h_score), _round(h_max)
        elif visibility == "visible":
            entry["score"], entry["max_score"] = _round(h_score), _round(h_max)
        else:
            pooled_score += h_score
            pooled_max += h_max
            pooled.append(title)
            entry["output"] += "\nThese points are counted in 'Hidden tests (all questions)'."
        tests.append(entry)
    if pooled:
        whens = sorted({_WHEN[spec[qid]["hidden_visibility"]] for qid in order
                        if qid in spec and spec[qid]["hidden_visibility"] != "visible"})
        tests.append({
            "name": "Hidden tests (all questions)", "number": str(len(order) + 1),
            "score": _round(pooled_score), "max_score": _round(pooled_max),
            "status": "passed" if pooled_score >= pooled_max else "failed",
            "output": (f"Points from the hidden tests of: {', '.join(pooled)}. Their results per question are "
                       f"{' or '.join(whens) or 'shown later'}."),
            "output_format": "text", "tags": ["hidden"], "visibility": "visible",
        })
    score = _round(result.get("score", 0.0))
    max_score = _round(result.get("max_score", 0.0))
    summary = [f"**Score: {score:g} / {max_score:g}**", ""]
    if result.get("status") == "error":
        summary += ["This submission could not be graded: " + markdown(result.get("error") or "unknown reason"), ""]
    elif withheld and hidden_max:
        summary = [f"**Public tests: {_round(public_score):g} / {_round(public_max):g} points**", "",
                   "Your hidden-test results and your total score are shown when grades are published."]
    else:
        summary.append(f"Public tests: {_round(public_score):g} / {_round(public_max):g} points. "
                       f"Hidden tests: {_round(hidden_score):g} / {_round(hidden_max):g} points.")
    warnings = [w for w in result.get("warnings") or () if isinstance(w, str)]
    if warnings:
        summary += ["", "About your submission:", "", *(f"- {markdown(w)}" for w in warnings)]
    duration = result.get("duration_s") or 0.0
    return {
        "score": score,
        "execution_time": max(0, int(round(float(duration)))),
        "output": "\n".join(summary).strip(),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def failure_results(message: str) -> dict[str, Any]:
    """What students see when the grader itself could not run: score 0 and a plain explanation."""
    return {"score": 0.0, "execution_time": 0, "output": message, "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def write_results_json(path: Path, result: Result, questions: Iterable[QuestionSpec] = (),
                       hidden_scores: str = "until_published") -> Path:
    """Gradescope's results.json for one student, written atomically (`hidden_scores`: assignment.yaml's)."""
    return write_json_atomic(path, to_gradescope(result, questions, hidden_scores))


__all__ = ["to_gradescope", "failure_results", "write_results_json", "VISIBILITIES"]
