"""The in-process mode: one pytest session for a batch, outcomes delivered per student by the kit's hook."""

from __future__ import annotations

from pathlib import Path

from autograder.course import CourseDir
from autograder.grading.inprocess import run_inprocess_batch
from autograder.results import build_result
from tests.toycourse import SOLUTION_TOY, make_course, submission

BUGGY_TOY = SOLUTION_TOY.replace("return 2 * np.asarray(x, dtype=float)",
                                 "return 2 * np.asarray(x, dtype=float) + (np.abs(x) > 1)")


def test_each_student_gets_their_own_outcomes_through_the_hook(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path / "course"))
    assignment = course.assignment("toy")
    folders = {"alice": submission(tmp_path / "subs" / "alice"),
               "bob": submission(tmp_path / "subs" / "bob", toy=BUGGY_TOY)}
    outcomes = run_inprocess_batch(course, assignment, folders)
    assert set(outcomes) == {"alice", "bob"}, "the hook fired once per student of the batch"
    assert all(o.student == sid for sid, got in outcomes.items() for o in got)
    alice = build_result(assignment.spec, "alice", outcomes["alice"])
    bob = build_result(assignment.spec, "bob", outcomes["bob"])
    assert alice.score == alice.max_score == assignment.spec.max_score
    assert bob.max_score == assignment.spec.max_score and bob.score < bob.max_score
    assert bob.question("counter").score == bob.question("counter").max_score  # only `double` is buggy
    assert len(outcomes["alice"]) == len(outcomes["bob"]), "the same tests ran for both"


def test_a_batch_can_run_chosen_questions_and_hidden_tests_only(tmp_path: Path) -> None:
    """The mutant bank's mode: only the chosen question's tests run, and with public=False only hidden ones."""
    course = CourseDir(make_course(tmp_path / "course"))
    assignment = course.assignment("toy")
    folders = {"bob": submission(tmp_path / "subs" / "bob", toy=BUGGY_TOY)}
    everything = run_inprocess_batch(course, assignment, folders)["bob"]
    chosen = run_inprocess_batch(course, assignment, folders, public=False, questions=frozenset({"double"}))["bob"]
    assert {o.question for o in everything} == {q.id for q in assignment.spec.questions} != {"double"}
    assert chosen and {o.question for o in chosen} == {"double"} and all(o.hidden for o in chosen)
    assert {o.nodeid for o in chosen} == {o.nodeid for o in everything if o.question == "double" and o.hidden}
