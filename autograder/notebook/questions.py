"""Which top-level functions and classes a question's student writes, and the code given around them.

Derived from the sources, never from a notebook: a symbol is graded when its reference definition
holds a solution region; it belongs to the question whose README heading names it in backticks
(`## 1. `sigmoid(x)` ... (question `sigmoid`)`), else to its file's first question that names none.
The release notebook is laid out with this, and feedback says where each question's symbols were.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

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
    intro: str  # the README before the first question's section


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
    intro, sections, named = _sections(readme)
    symbols: dict[str, tuple[str, ...]] = {}
    claimed: set[str] = set()
    for q in spec.questions:
        graded = [n for b in blocks[q.file] if b.graded for n in b.names]
        mine = tuple(n for n in named.get(q.id, ()) if n in graded)
        symbols[q.id] = mine
        claimed |= set(mine)
    for q in spec.questions:
        if not symbols[q.id]:
            rest = tuple(n for b in blocks[q.file] if b.graded for n in b.names if n not in claimed)
            symbols[q.id] = rest
            claimed |= set(rest)
    return Layout(blocks, docs, symbols, sections, intro)


def _sections(readme: str) -> tuple[str, dict[str, str], dict[str, tuple[str, ...]]]:
    """The README's text before the questions, each question's section, and the names its heading quotes."""
    intro: list[str] = []
    sections: dict[str, list[str]] = {}
    named: dict[str, tuple[str, ...]] = {}
    current: list[str] | None = intro
    for line in readme.splitlines():
        match = _HEADING.match(line)
        if match:
            current = sections.setdefault(match["qid"], [])
            named[match["qid"]] = tuple(dict.fromkeys(_SPAN.findall(match["text"])))
        elif line.startswith("## "):
            current = None if sections else intro
            if current is None:
                continue
        if current is None:
            continue
        current.append(line)
    return "\n".join(intro).strip() + "\n", {k: "\n".join(v).strip() + "\n" for k, v in sections.items()}, named
