"""Taking the definitions out of a notebook: what is kept, what is never run, what is reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradekit.nbextract import (
    MAX_CODE_CHARS, MAX_NOTEBOOK_BYTES, Cell, NotebookError, extract, notebook_module, read_notebook,
)


def notebook(*cells: str | tuple[str, str], counts: list[int | None] | None = None, outputs: list | None = None) -> bytes:
    """An nbformat-4 notebook; a str is a code cell, (kind, source) any cell."""
    raw = []
    for i, cell in enumerate(cells):
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        entry = {"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            entry["execution_count"] = counts[i] if counts else None
            entry["outputs"] = outputs or []
        raw.append(entry)
    return json.dumps({"cells": raw, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def run_module(source: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Import the generated module in a fresh interpreter, cwd = tmp_path (no sandbox: markers would show)."""
    (tmp_path / "mod.py").write_text(source)
    return subprocess.run([sys.executable, "-c", "import mod; print(sorted(n for n in vars(mod) if not n.startswith('__')))"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_one_line_two_statements_keeps_the_import_and_never_runs_the_call(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    source = f"import os; os.system('touch {marker}')\n"
    result = extract(read_notebook(notebook(source)))
    proc = run_module(result.source, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "'os'" in proc.stdout
    assert not marker.exists()
    assert [s.text[:16] for s in result.not_run] == ["os.system('touch"]
    # the same line as plain Python does run: the check above can fail
    subprocess.run([sys.executable, "-c", source], check=True, timeout=60)
    assert marker.exists()


def test_shell_escapes_cell_magics_and_top_level_code_leave_no_marker(tmp_path: Path) -> None:
    markers = [tmp_path / n for n in ("bang", "bash", "writefile", "toplevel", "class_ok")]
    data = notebook(
        f"!touch {markers[0]}\nimport numpy as np\nfiles = !ls\n%matplotlib inline\nnp.zeros?\n",
        f"%%bash\ntouch {markers[1]}\n",
        f"%%writefile {markers[2]}\nprint('hi')\n",
        f"def f(x):\n    !echo inside\n    return 2 * x\n\nwith open('{markers[3]}', 'w') as fh:\n    fh.write('ran')\n",
        f"%%time\nLR = 1e-3\nfor _ in range(10**12):\n    pass\n",
    )
    result = notebook_module(data)
    proc = run_module(result.source + "\nassert f(2) == 4 and LR == 1e-3 and np.zeros(1).shape == (1,)\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not any(m.exists() for m in markers)
    whys = {(s.cell, s.why) for s in result.not_run}
    assert (2, "%%bash cell (not Python)") in whys and (3, "%%writefile cell (not Python)") in whys
    assert {s.line for s in result.not_run if s.cell == 1} == {1, 3, 4, 5}


def test_kept_nodes_are_compiled_not_source_lines() -> None:
    result = notebook_module(notebook("x = 1; print('side effect'); y = (x,\n   2)\n"))
    assert "side effect" not in result.source
    assert {f.name for f in result.found} == {"x", "y"}


@pytest.mark.parametrize("statement, kept", [
    ("N = 3", True), ("SHAPE = (3, -4)", True), ("NAMES = {'a': [1, 2.5]}", True), ("DT = np.float64", True),
    ("Number = Union[int, float]", True), ("EPS: float = 1e-8", True), ("a, b = 1, 2", True), ("K = 2 ** 10 + N", True),
    ("DEVICE = torch.device('cpu')", False), ("data = load()", False), ("x += 1", False), ("obj.attr = 1", False),
    ("print(1)", False), ("for i in range(3): pass", False), ("if True:\n    def g(): pass", False),
    ("try:\n    import google.colab\nexcept ImportError:\n    colab = None", True),
    ("try:\n    import x\nexcept ImportError:\n    print('no x')", False),
])
def test_what_counts_as_a_definition(statement: str, kept: bool) -> None:
    result = notebook_module(notebook(statement + "\n"))
    assert bool(result.found) == kept
    assert bool(result.not_run) != kept


def test_a_failing_import_costs_only_the_code_that_needs_it(tmp_path: Path) -> None:
    data = notebook("from course_helpers_on_my_laptop import drive\nimport math\n", "def uses_math():\n    return math.pi\n",
                    "def uses_drive():\n    return drive.mount('/content')\n", "from google.colab import files\n")
    source = notebook_module(data).source
    check = "\nassert uses_math() > 3\ntry:\n    uses_drive()\nexcept NameError:\n    print('no drive')\n"
    proc = run_module(source + check + "try:\n    files.upload()\nexcept RuntimeError as exc:\n    print(exc)\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "no drive" in proc.stdout and "google.colab.files is not imported at grading" in proc.stdout
    assert "cell 1, line 1 failed when defined: ModuleNotFoundError" in proc.stderr


def test_the_last_definition_counts_and_redefinitions_are_warned_about(tmp_path: Path) -> None:
    data = notebook("def f():\n    return 1\n", "def f():\n    return 2\n", "import math\n", "import math\n")
    result = notebook_module(data)
    assert result.where("f").cell == 2
    assert result.warnings == ("`f` is defined in cell 1 and again in cell 2: grading uses the last one (cell 2)",)
    proc = run_module(result.source + "\nassert f() == 2\n", tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_execution_counts_out_of_order_are_warned_about() -> None:
    in_order = notebook_module(notebook("a = 1\n", "b = 2\n", "c = 3\n", counts=[1, 2, None]))
    assert in_order.warnings == ()
    shuffled = notebook_module(notebook("a = 1\n", "b = 2\n", "c = 3\n", counts=[3, 1, 2]))
    assert len(shuffled.warnings) == 1 and "out of order (cell 2 ran before cell 1)" in shuffled.warnings[0]


def test_syntax_errors_are_reported_by_cell_and_cost_only_that_cell() -> None:
    result = notebook_module(notebook("def good():\n    return 1\n", ("markdown", "# not code"), "x = 1\ndef bad(:\n"))
    assert [(e.cell, e.line) for e in result.syntax_errors] == [(3, 2)]
    assert {f.name for f in result.found} == {"good"}


def test_future_imports_move_to_the_top_and_the_module_compiles() -> None:
    result = notebook_module(notebook("import numpy as np\n", "from __future__ import annotations\ndef f(x: Later) -> None:\n    pass\n"))
    compile(result.source, "mod.py", "exec")
    assert result.source.startswith("from __future__ import annotations\n")


def test_outputs_are_not_limited_but_code_and_size_are() -> None:
    big_output = [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "A" * (5 << 20)}}]
    assert notebook_module(notebook("x = 1\n", outputs=big_output)).found  # 5 MB of plots: accepted
    with pytest.raises(NotebookError, match="larger than"):
        read_notebook(b" " * (MAX_NOTEBOOK_BYTES + 1))
    with pytest.raises(NotebookError, match="KiB of code"):
        read_notebook(notebook("#" * (MAX_CODE_CHARS + 1)))


@pytest.mark.parametrize("data, message", [
    (b"\x89PNG not json", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    (json.dumps({"cells": [], "nbformat": 3}).encode(), "format 3"),
    (json.dumps({"worksheets": []}).encode(), "no list of cells"),
    (json.dumps({"cells": [1], "nbformat": 4}).encode(), "not a cell object"),
])
def test_unreadable_notebooks_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(NotebookError, match=message):
        read_notebook(data, "alice.ipynb")


def test_deeply_nested_code_is_a_syntax_error_of_its_cell_not_a_crash() -> None:
    deep = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    chains = ["X = " + "+".join(["1"] * n) + "\n" for n in (2000, 60000)] + ["Y = a" + ".b" * 2000 + "\n"]
    long = extract(tuple(Cell(i, "code", c) for i, c in enumerate(chains, start=1)))
    assert [e.cell for e in long.syntax_errors] == [1, 2, 3]
    nested = "".join("    " * i + "if True:\n" for i in range(150)) + "    " * 150 + "pass\n"
    result = extract((Cell(1, "code", deep), Cell(2, "code", nested), Cell(3, "code", "def ok():\n    return 1\n")))
    assert [e.cell for e in result.syntax_errors] == [1, 2]
    assert result.where("ok") is not None


def test_lines_inside_strings_that_look_like_magics_are_left_alone(tmp_path: Path) -> None:
    source = 'TEMPLATE = """\n%d items\n!important\n"""\n'
    result = notebook_module(notebook(source))
    proc = run_module(result.source + "\nassert TEMPLATE == '\\n%d items\\n!important\\n'\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert result.not_run == ()


def test_display_only_packages_are_not_imported_and_say_so_when_used(tmp_path: Path) -> None:
    data = notebook("import matplotlib.pyplot as plt\nimport seaborn\nfrom IPython.display import display\nimport math\n"
                    "import googleapiclient\n",
                    "def draw():\n    plt.plot([1])\n\ndef area(r):\n    return math.pi * r * r\n")
    result = notebook_module(data)
    check = ("import sys\nassert 'matplotlib' not in sys.modules and area(1) == math.pi\n"
             "try:\n    draw()\nexcept RuntimeError as exc:\n    print(exc)\n")
    proc = run_module(result.source + check, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "matplotlib.pyplot is not imported at grading" in proc.stdout
    assert [s.why for s in result.not_run] == ["display-only package, not imported"] * 3
