"""The notebook twins of the example submissions, shaped like what JupyterLab saves.

    python examples/generate.py        # writes examples/backprop-notebooks/ too

Each notebook starts from the solved release notebook and gets what real hand-ins carry: cell ids,
execution counts, outputs (a plot, printed tables), `!pip` and `%matplotlib` lines, a `%%bash` cell,
a shell call, a help line and a training cell that would run for ten minutes. None of that runs at
grading, so each notebook grades exactly like its `.py` twin in examples/backprop/:

alice.ipynb: the reference. bob.ipynb: the same three bugs as bob/, cells run out of order, a
Colab-only import that fails, nbgrader metadata removed from one cell and edited in another.
carol.ipynb: broken like carol.zip: her backprop functions pasted into one cell with a syntax
error, an endless loop in adam_step, the Value cell deleted and a top-level `sys.exit(0)`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import struct
import zlib
from pathlib import Path
from typing import Any

from autograder.course import CourseDir
from autograder.notebook.release_notebook import dumps
from autograder.release import notebook_doc

MARKERS = ("ran-training-at-grading.txt", "ran-bash-at-grading.txt", "ran-shell-at-grading.txt",
           "ran-pip-at-grading.txt")
TRAINING = f'''\
# Train a tiny model with my adam_step and plot the loss (about ten minutes on my laptop).
import time
import matplotlib.pyplot as plt

target = np.array([1.0, -2.0, 0.5])
w, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
history = []
for t in range(1, 601):
    time.sleep(1.0)
    grad = 2 * (w - target)
    w, m, v = adam_step(w, grad, m, v, t, lr=0.05)
    history.append(float(((w - target) ** 2).sum()))
with open("{MARKERS[0]}", "w") as fh:
    fh.write("the training cell ran")
plt.plot(history)
plt.yscale("log")
plt.show()
'''
SHELL_CELLS = [
    f"!pip install -q torch numpy && touch {MARKERS[3]}\n%matplotlib inline",
    f"%%bash\ntouch {MARKERS[1]}\necho done",
    f'import os; os.system("touch {MARKERS[2]}")\nadam_step?',
]


def _png(width: int = 64, height: int = 48) -> str:
    """A small valid PNG (a gradient), base64 as Jupyter stores plot outputs."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 4 % 256, y * 5 % 256, 160))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    raw += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(raw).decode()


def _uuid(student: str, n: int) -> str:
    h = hashlib.sha256(f"{student}-{n}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _code(source: str) -> dict[str, Any]:
    lines = source.split("\n")
    return {"cell_type": "code", "metadata": {}, "source": [x + "\n" for x in lines[:-1]] + [lines[-1]],
            "execution_count": None, "outputs": []}


def _text(cell: dict[str, Any]) -> str:
    return "".join(cell["source"])


def _set(cell: dict[str, Any], text: str) -> None:
    lines = text.split("\n")
    cell["source"] = [x + "\n" for x in lines[:-1]] + [lines[-1]]


def _saved_by_jupyterlab(doc: dict[str, Any], student: str, order: list[int] | None = None) -> dict[str, Any]:
    """Ids, execution counts (in `order` of code cells, else top to bottom), outputs, kernel metadata."""
    doc["metadata"]["language_info"] = {
        "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py", "mimetype": "text/x-python",
        "name": "python", "nbconvert_exporter": "python", "pygments_lexer": "ipython3", "version": "3.11.2"}
    code = [c for c in doc["cells"] if c["cell_type"] == "code"]
    ranks = order or list(range(len(code)))
    for n, cell in enumerate(doc["cells"]):
        cell["id"] = _uuid(student, n)
    for rank, cell in zip(ranks, code):
        cell["execution_count"] = rank + 1
        text = _text(cell)
        if "check(" in text:
            cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["Checking ...\n", "1 passed\n"]}]
        elif "plt.show()" in text:
            cell["outputs"] = [{"data": {"image/png": _png(), "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                                "metadata": {}, "output_type": "display_data"}]
    return doc


def _add_experiments(doc: dict[str, Any]) -> None:
    doc["cells"].insert(2, _code(SHELL_CELLS[0]))
    doc["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["## My experiments"]})
    doc["cells"] += [_code(TRAINING), _code(SHELL_CELLS[1]), _code(SHELL_CELLS[2])]


def write_notebooks(root: Path, dest: Path, bob_bugs: list[dict[str, Any]], carol_files: dict[str, str]) -> None:
    """`dest`/{alice,bob,carol}.ipynb, examples/backprop-notebooks/ (see the module docstring)."""
    course = CourseDir(root)
    solved = notebook_doc(course, "backprop", solved=True)
    dest.mkdir(parents=True, exist_ok=True)
    backprop_source, optim_source = carol_files["backprop.py"], carol_files["optim.py"]
    carol_backprop = backprop_source[backprop_source.index("def sigmoid"):].rstrip("\n")
    carol_adam = optim_source[optim_source.index("def adam_step"):optim_source.index("def momentum_step")].rstrip("\n")

    alice = copy.deepcopy(solved)
    _add_experiments(alice)
    (dest / "alice.ipynb").write_bytes(dumps(_saved_by_jupyterlab(alice, "alice")))

    bob = copy.deepcopy(solved)
    _add_experiments(bob)
    for bug in bob_bugs:
        cells = [c for c in bob["cells"] if bug["replace"] in _text(c)]
        assert len(cells) == 1, bug["name"]
        _set(cells[0], _text(cells[0]).replace(bug["replace"], bug["with"]))
    setup = next(c for c in bob["cells"] if c.get("id") == "setup")
    _set(setup, _text(setup) + "\nfrom google.colab import drive  # works on Colab only")
    for cell in bob["cells"]:
        meta = cell["metadata"].get("nbgrader")
        if meta and meta["grade_id"] == "sigmoid":
            meta["points"] = 1000  # edited metadata: points come from assignment.yaml
        if meta and meta["grade_id"] == "adam_step-adam_step":
            cell["metadata"] = {}  # metadata lost (copied into another editor)
    n_code = sum(c["cell_type"] == "code" for c in bob["cells"])
    order = list(range(n_code))
    order[3], order[4] = order[4], order[3]  # ran two cells out of order
    (dest / "bob.ipynb").write_bytes(dumps(_saved_by_jupyterlab(bob, "bob", order)))

    carol = copy.deepcopy(solved)
    _add_experiments(carol)
    graded = {c.get("id"): c for c in carol["cells"]}
    _set(graded["sigmoid-sigmoid"], carol_backprop)  # all of backprop.py pasted into one cell
    carol["cells"].remove(graded["complex_layer-complex_layer"])
    carol["cells"].remove(graded["mlp_backprop-mlp_backward"])
    _set(graded["adam_step-adam_step"], carol_adam)
    carol["cells"].remove(graded["autodiff-Value"])  # deleted by accident
    carol["cells"].append(_code("import sys\nsys.exit(0)  # stop here when running all"))
    (dest / "carol.ipynb").write_bytes(dumps(_saved_by_jupyterlab(carol, "carol")))
