"""Which top-level functions and classes a question's student writes, and the code given around them.

Derived from the sources, never from a notebook: a symbol is graded when its reference definition
holds a solution region; it belongs to the question whose README heading names it in backticks
(`## 1. `sigmoid(x)` ... (question `sigmoid`)`), else to the first question whose public tests use
it (`student.models.AlexNetMNIST` in a test marked `question("alexnet_mnist")`), else to the
question of the nearest claimed symbol of its file. A README section headed by a file name
(`## models.py`) describes that file and goes with it.
The release notebook is laid out with this, and feedback says where each question's symbols were.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from gradekit.spec import AssignmentSpec

from ..course import CourseDir

BEGIN = "# BEGIN SOLUTION"
_HEADING = re.compile(r"^##\s+(?P<text>.*)\(question `(?P<qid>[a-z][a-z0-9_]*)`\)\s*$")
_SPAN = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Block:
    """A top-level statement of a solution file: its source and the names it defines."""

    source: str
    names: tuple[str, ...]
    graded: bool  # holds a solution region: the student writes it
    kind: str  # "import", "def", "other"


@dataclass(frozen=True)
class Layout:
    blocks: dict[str, tuple[Block, ...]]  # file -> its top-level statements, in order
    docstrings: dict[str, str]  # file -> module docstring
    symbols: dict[str, tuple[str, ...]]  # question id -> graded names
    sections: dict[str, str]  # question id -> its README section (markdown), may be ""
    intro: str  # the README before the first question's section, less the file sections
    file_sections: dict[str, str]  # file -> its README section (`## models.py`), may be absent


def split_module(source: str) -> tuple[str, tuple[Block, ...]]:
    """A solution file as its docstring and top-level blocks (comments above a block stay with it)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    body = list(tree.body)
    doc = ""
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc = body[0].value.value
        start_after = body[0].end_lineno or 0
        body = body[1:]
    else:
        start_after = 0
    blocks = []
    for node in body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        while first - 1 > start_after and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        end = node.end_lineno or node.lineno
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
            end += 1  # indented comments after the last statement (`# END SOLUTION`) belong to it
        text = "".join(lines[first - 1:end]).rstrip() + "\n"
        start_after = end
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = tuple((a.asname or a.name).split(".")[0] for a in node.names)
            kind = "import"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names, kind = (node.name,), "def"
        else:
            names = tuple(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
            kind = "other"
        blocks.append(Block(text, names, BEGIN in text and kind == "def", kind))
    return doc, tuple(blocks)


def layout(course: CourseDir, spec: AssignmentSpec, readme: str | None = None) -> Layout:
    """The assignment's notebook layout from solutions/ and the README (`readme`: the release's
    generated README, so the notebook shows its Setup and points sections; else the source README,
    whose question headings and so whose symbols are the same)."""
    blocks: dict[str, tuple[Block, ...]] = {}
    docs: dict[str, str] = {}
    for file in spec.files:
        docs[file], blocks[file] = split_module((course.solutions_dir(spec.name) / file).read_text(encoding="utf-8"))
    if readme is None:
        readme_path = course.readme(spec.name)
        readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    intro, sections, named, file_sections = _sections(readme, spec.files)
    used = _used_by_tests(course.tests_dir(spec.name, hidden=False))
    owner: dict[tuple[str, str], str] = {}  # (file, graded name) -> question id
    for source in (named, used):
        for q in spec.questions:
            graded = [n for b in blocks[q.file] if b.graded for n in b.names]
            for name in source.get(q.id, ()):
                if name in graded:
                    owner.setdefault((q.file, name), q.id)
    for file in spec.files:
        order = [n for b in blocks[file] if b.graded for n in b.names]
        for i, name in enumerate(order):
            if (file, name) not in owner:
                near = [owner[(file, n)] for n in order[i + 1:] + order[:i][::-1] if (file, n) in owner]
                first = next((q.id for q in spec.questions if q.file == file), None)
                if near or first:
                    owner[(file, name)] = near[0] if near else first  # type: ignore[assignment]
    symbols = {q.id: tuple(n for b in blocks[q.file] if b.graded for n in b.names if owner.get((q.file, n)) == q.id)
               for q in spec.questions}
    return Layout(blocks, docs, symbols, sections, intro, file_sections)


def _used_by_tests(folder: Path) -> dict[str, tuple[str, ...]]:
    """Question id -> the `student.<module>.<name>` names its tests in `folder` use, in order."""
    used: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("test_*.py")) if folder.is_dir() else []:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue  # the release and the grader report broken tests themselves
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            qids = [d.args[0].value for d in node.decorator_list
                    if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "question"
                    and d.args and isinstance(d.args[0], ast.Constant) and isinstance(d.args[0].value, str)]
            names = [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute)
                     and isinstance(n.value.value, ast.Name) and n.value.value.id == "student"]
            for qid in qids:
                used.setdefault(qid, []).extend(names)
    return {qid: tuple(dict.fromkeys(names)) for qid, names in used.items()}


def _sections(readme: str, files: tuple[str, ...]) -> tuple[str, dict[str, str], dict[str, tuple[str, ...]], dict[str, str]]:
    """The README's text before the questions, each question's section, the names its heading
    quotes, and the sections headed by a file name."""
    intro: list[str] = []
    sections: dict[str, list[str]] = {}
    named: dict[str, tuple[str, ...]] = {}
    by_file: dict[str, list[str]] = {}
    current: list[str] | None = intro
    for line in readme.splitlines():
        match = _HEADING.match(line)
        if match:
            current = sections.setdefault(match["qid"], [])
            named[match["qid"]] = tuple(dict.fromkeys(_SPAN.findall(match["text"])))
        elif line.startswith("## ") and line[3:].strip().strip("`") in files:
            current = by_file.setdefault(line[3:].strip().strip("`"), [])
            continue  # the notebook gives the file its own heading
        elif line.startswith("## "):
            current = None if sections else intro
            if current is None:
                continue
        if current is None:
            continue
        current.append(line)
    return ("\n".join(intro).strip() + "\n", {k: "\n".join(v).strip() + "\n" for k, v in sections.items()}, named,
            {k: "\n".join(v).strip() + "\n" for k, v in by_file.items()})
