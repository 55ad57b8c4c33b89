"""Regenerate the example submissions from the reference solutions and the mutant bank.

    python examples/generate.py

alice: the reference (full marks). bob: three plausible bugs from mutants.yaml (partial marks).
carol.zip: broken (a syntax error in backprop.py, an endless loop in optim.py, exit() at import of
autodiff.py): each costs only the questions it touches.
backprop-notebooks/: the same three as notebooks, shaped like JupyterLab's (see notebooks.py).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import yaml

from notebooks import write_notebooks

ROOT = Path(__file__).resolve().parent.parent
BOB_BUGS = {("sigmoid", "reciprocal-gate-sign-error"), ("adam_step", "no-bias-correction"),
            ("autodiff", "mul-assigns-instead-of-accumulating")}


def main() -> None:
    solutions = ROOT / "solutions" / "backprop"
    dest = ROOT / "examples" / "backprop"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(solutions, dest / "alice", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(solutions, dest / "bob", ignore=shutil.ignore_patterns("__pycache__"))
    mutants = yaml.safe_load((ROOT / "assignments" / "backprop" / "mutants.yaml").read_text())
    chosen = [m for m in mutants if m["kind"] == "bug" and (m["question"], m["name"]) in BOB_BUGS]
    assert len(chosen) == len(BOB_BUGS), [m["name"] for m in chosen]
    for m in chosen:
        path = dest / "bob" / m["file"]
        path.write_text(path.read_text().replace(m["replace"], m["with"]))
    broken = {
        "backprop.py": (solutions / "backprop.py").read_text().replace("def sigmoid(x", "def sigmoid(x,,", 1),
        "optim.py": (solutions / "optim.py").read_text().replace("def adam_step(", "def adam_step(*a, **k):\n    while True:\n        pass\n\n\ndef _unused_adam_step(", 1),
        "autodiff.py": "import sys\nsys.exit(0)\n",
    }
    with zipfile.ZipFile(dest / "carol.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, text in sorted(broken.items()):
            info = zipfile.ZipInfo(f"carol/{name}", date_time=(2026, 1, 1, 0, 0, 0))
            z.writestr(info, text)


    backprop_source = broken["backprop.py"]
    carol_backprop = backprop_source[backprop_source.index("def sigmoid"):].rstrip("\n")
    optim_source = broken["optim.py"]
    carol_adam = optim_source[optim_source.index("def adam_step"):optim_source.index("def momentum_step")].rstrip("\n")
    nb_dest = ROOT / "examples" / "backprop-notebooks"
    if nb_dest.exists():
        shutil.rmtree(nb_dest)
    write_notebooks(ROOT, chosen, carol_backprop, carol_adam)


if __name__ == "__main__":
    main()
