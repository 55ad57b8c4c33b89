"""Take the definitions out of a Jupyter notebook without running it.

A notebook hand-in is graded like "Restart & Run All" over its definitions only: top-level imports,
functions, classes and simple constant assignments, in document order (the last definition of a
name counts). Everything else (training loops, plots, prints, downloads, `!pip`, `%%bash`) is not
run and is listed as such. The kept syntax-tree nodes themselves are turned back into source with
`ast.unparse`, each in its own `try`, so `import os; os.system(...)` keeps the import and drops the
call, and a failing import (`from google.colab import drive`) costs only the code that uses it.

This module needs only the standard library: the grader uses it, and so do the check cells of the
released notebook (with only pytest, numpy and torch installed).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

MAX_NOTEBOOK_BYTES = 32 << 20  # outputs (plots) may be large; the code may not
MAX_CODE_CHARS = 1 << 20  # as much code as one .py file may hold
GUARD = "_autograder_failed"

# IPython cell magics whose body is ordinary Python; any other cell magic (%%bash, %%writefile,
# %%html, %%script ...) makes the whole cell not Python and it is not run.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
# Packages that only draw or display: importing matplotlib alone costs seconds per student (its font
# cache, in a fresh sandbox), and graded code must not plot. Their names are bound to a stand-in that
# says so when used.
DISPLAY_ONLY = ("matplotlib", "seaborn", "plotly", "bokeh", "altair", "IPython", "ipywidgets", "google.colab")
STANDIN = "_autograder_display_only"
CHECK_MODULE = "gradekit.nbcheck"  # the released notebook's check cells import it
CHECK_CELL = "the release's check cell: it runs the public tests in Jupyter, never at grading"
_MAGIC_LINE = re.compile(r"^\s*(?:[!%]|[A-Za-z_][\w.,\s]*=\s*[!%])")
_HELP_LINE = re.compile(r"^\s*(?:\?{1,2}[\w.*]+|[\w.*]+\?{1,2})\s*$")


class NotebookError(ValueError):
    """The file is not a notebook we can read; the message says what to do."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position among all cells, as JupyterLab shows them
    kind: str  # "code", "markdown", "raw"
    source: str
    execution_count: int | None = None
    cell_id: str = ""


@dataclass(frozen=True)
class Found:
    """A name the kept code defines, and where."""

    name: str
    cell: int
    line: int
    kind: str  # "def", "class", "import", "constant"


@dataclass(frozen=True)
class Skipped:
    """A statement or line that grading does not run, and why."""

    cell: int
    line: int
    text: str
    why: str


@dataclass(frozen=True)
class Extraction:
    source: str  # a module of the kept definitions, each guarded on its own
    found: tuple[Found, ...]
    not_run: tuple[Skipped, ...]
    syntax_errors: tuple[Skipped, ...]
    warnings: tuple[str, ...]

    def where(self, name: str) -> Found | None:
        """The definition of `name` that counts (the last one), or None."""
        last = None
        for item in self.found:
            if item.name == name:
                last = item
        return last


def read_notebook(data: bytes, filename: str = "the notebook") -> tuple[Cell, ...]:
    """The cells of an nbformat-4 notebook given as bytes; NotebookError for anything else."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{filename} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB; clear the outputs "
                            "(Edit > Clear Outputs of All Cells), save and hand it in again")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotebookError(f"{filename} is not a notebook (not valid JSON: {str(exc)[:120]}); "
                            "save it from Jupyter as .ipynb and hand it in again") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise NotebookError(f"{filename} is not a Jupyter notebook (no list of cells); save it from Jupyter as .ipynb")
    major = doc.get("nbformat")
    if major != 4:
        raise NotebookError(f"{filename} is notebook format {major!r}; only format 4 (Jupyter 4 and later) is "
                            "graded: open it in a current JupyterLab, save, and hand it in again")
    cells = []
    code_chars = 0
    for number, raw in enumerate(doc["cells"], start=1):
        if not isinstance(raw, dict):
            raise NotebookError(f"{filename}: cell {number} is not a cell object; save the notebook from Jupyter again")
        source = raw.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{filename}: cell {number} has no readable source; save the notebook from Jupyter again")
        kind = raw.get("cell_type") if raw.get("cell_type") in ("code", "markdown", "raw") else "raw"
        if kind == "code":
            code_chars += len(source)
        count = raw.get("execution_count")
        cell_id = raw.get("id")
        cells.append(Cell(number, kind, source, count if isinstance(count, int) and not isinstance(count, bool) else None,
                          cell_id if isinstance(cell_id, str) else ""))
    if code_chars > MAX_CODE_CHARS:
        raise NotebookError(f"{filename} has more than {MAX_CODE_CHARS >> 10} KiB of code; hand in only your solution")
    return tuple(cells)


def python_lines(cell: Cell) -> tuple[str, list[Skipped]]:
    """The cell's source with IPython-only lines blanked (line numbers kept), and what was dropped."""
    lines = cell.source.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return "", [Skipped(cell.number, 1, first[:80], f"%%{magic} cell (not Python)")]
        dropped = [Skipped(cell.number, 1, first[:80], "cell magic")]
        lines[0] = ""
    else:
        try:  # plain Python already: leave every line alone (a "%" line inside a string stays)
            ast.parse(cell.source)
            return cell.source, []
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            dropped = []
    out = []
    continued = False
    for number, line in enumerate(lines, start=1):
        if continued or _MAGIC_LINE.match(line) or _HELP_LINE.match(line):
            if not continued:
                dropped.append(Skipped(cell.number, number, line.strip()[:80], "IPython magic, shell or help line"))
            continued = line.rstrip().endswith("\\")
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}pass" if indent else "")  # keep an indented block non-empty
            continue
        out.append(line)
    return "\n".join(out), dropped


def _simple_value(node: ast.AST) -> bool:
    """Literals, names, dotted names and arithmetic of them: values that run no student code."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Attribute):
        return _simple_value(node.value) and isinstance(node.value, (ast.Name, ast.Attribute))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_simple_value(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _simple_value(k) for k in node.keys) and all(_simple_value(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return _simple_value(node.operand)
    if isinstance(node, ast.BinOp):
        return _simple_value(node.left) and _simple_value(node.right)
    if isinstance(node, ast.Subscript):  # type aliases: Number = Union[int, float]
        return isinstance(node.value, (ast.Name, ast.Attribute)) and _simple_value(node.value) and _simple_value(node.slice)
    return False


def _target_names(target: ast.AST) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names = [_target_names(e) for e in target.elts]
        return None if any(n is None for n in names) else [x for n in names for x in n]  # type: ignore[union-attr]
    return None


def kept_names(node: ast.stmt) -> list[tuple[str, str]] | None:
    """(name, kind) pairs a statement defines if grading keeps it; None if it is not run."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        if any(alias.name == "*" for alias in node.names):
            return [("*", "import")]
        return [((alias.asname or alias.name).split(".")[0], "import") for alias in node.names]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [(node.name, "def")]
    if isinstance(node, ast.ClassDef):
        return [(node.name, "class")]
    if isinstance(node, ast.Assign) and _simple_value(node.value):
        names = [_target_names(t) for t in node.targets]
        if all(n is not None for n in names):
            return [(x, "constant") for n in names for x in n]  # type: ignore[union-attr]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.simple:
        if node.value is None or _simple_value(node.value):
            return [(node.target.id, "constant")]
    if isinstance(node, ast.Try):
        # try: import x / except ImportError: x = None -- kept when every branch only defines
        body = [*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)]
        parts = [[] if isinstance(s, ast.Pass) else kept_names(s) for s in body]
        if all(p is not None for p in parts):
            return [x for p in parts for x in p]  # type: ignore[union-attr]
    return None


def _summary(node: ast.stmt, source: str) -> str:
    text = (ast.get_source_segment(source, node) or type(node).__name__).strip().split("\n")[0]
    return text[:80] + (" ..." if len(text) > 80 else "")


def _display(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in DISPLAY_ONLY)


def display_only(node: ast.stmt) -> list[tuple[str, str]] | None:
    """(bound name, module) for an import of a display-only package; None for any other statement."""
    if isinstance(node, ast.Import) and all(_display(a.name) for a in node.names):
        return [((a.asname or a.name).split(".")[0], a.asname and a.name or a.name.split(".")[0]) for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and _display(node.module or ""):
        return [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names if a.name != "*"]
    return None


def _guarded(node: ast.stmt, cell: int) -> str:
    body = ast.unparse(node)
    indented = "\n".join("    " + line if line else line for line in body.split("\n"))
    return (f"# cell {cell}, line {node.lineno}\ntry:\n{indented}\nexcept Exception as _exc:\n"
            f"    {GUARD}({cell}, {node.lineno}, _exc)\n")


HEADER = f'''"""Definitions taken from a notebook by autograder: only imports, functions, classes and simple
constants are run; every other statement is not run at grading."""

class {STANDIN}:
    def __init__(self, name):
        self._autograder_name = name

    def __getattr__(self, attr):
        raise RuntimeError(f"{{self._autograder_name}} is not imported at grading (it only draws or displays): "
                           "graded code must not plot or display")

def {GUARD}(cell, line, exc):
    import sys
    print(f"autograder: cell {{cell}}, line {{line}} failed when defined: {{type(exc).__name__}}: {{exc}}", file=sys.stderr)

'''


def extract(cells: tuple[Cell, ...]) -> Extraction:
    """Keep the top-level definitions of every code cell, in document order; see the module docstring."""
    future: list[str] = []
    blocks: list[str] = []
    found: list[Found] = []
    not_run: list[Skipped] = []
    errors: list[Skipped] = []
    warnings: list[str] = []
    for cell in cells:
        if cell.kind != "code" or not cell.source.strip():
            continue
        text, dropped = python_lines(cell)
        not_run += dropped
        try:
            tree = ast.parse(text, filename=f"cell {cell.number}")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            line = getattr(exc, "lineno", None) or 1
            why = getattr(exc, "msg", None) or type(exc).__name__
            errors.append(Skipped(cell.number, line, (text.split("\n")[line - 1] if line <= text.count("\n") + 1 else "")[:80], str(why)))
            continue
        if any(isinstance(n, ast.ImportFrom) and n.module == CHECK_MODULE for n in tree.body):
            not_run.append(Skipped(cell.number, 1, "check cell", CHECK_CELL))  # runs in Jupyter only
            continue
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                future.append(ast.unparse(node))
                continue
            standins = display_only(node)
            if standins is not None:
                not_run.append(Skipped(cell.number, node.lineno, _summary(node, text), "display-only package, not imported"))
                blocks += [f"{name} = {STANDIN}({module!r})\n" for name, module in standins]
                continue
            try:
                names = kept_names(node)
                if names is None:
                    not_run.append(Skipped(cell.number, node.lineno, _summary(node, text), "not a definition"))
                    continue
                blocks.append(_guarded(node, cell.number))
            except (RecursionError, ValueError) as exc:  # absurdly nested code
                errors.append(Skipped(cell.number, node.lineno, _summary(node, text), f"too deeply nested ({type(exc).__name__})"))
                continue
            for name, kind in names:
                found.append(Found(name, cell.number, node.lineno, kind))
    warnings += _twice(found) + _out_of_order(cells)
    source = "\n".join(dict.fromkeys(future)) + ("\n" if future else "") + HEADER + "\n".join(blocks)
    return Extraction(source, tuple(found), tuple(not_run), tuple(errors), tuple(warnings))


def _twice(found: list[Found]) -> list[str]:
    seen: dict[str, Found] = {}
    out = []
    for item in found:
        if item.kind == "import":
            continue
        first = seen.get(item.name)
        if first is not None and first.cell != item.cell:
            out.append(f"`{item.name}` is defined in cell {first.cell} and again in cell {item.cell}: "
                       f"grading uses the last one (cell {item.cell})")
        seen[item.name] = item
    return out


def _out_of_order(cells: tuple[Cell, ...]) -> list[str]:
    counted = [(c.number, c.execution_count) for c in cells if c.kind == "code" and c.execution_count is not None]
    for (a, count_a), (b, count_b) in zip(counted, counted[1:]):
        if count_b < count_a:
            return [f"cells were run out of order (cell {b} ran before cell {a}); grading runs the definitions "
                    "top to bottom, like Kernel > Restart Kernel and Run All Cells: check that your notebook "
                    "works that way"]
    return []


def notebook_module(data: bytes, filename: str = "the notebook") -> Extraction:
    """read_notebook + extract: the module for a notebook's bytes."""
    return extract(read_notebook(data, filename))
