"""Regenerate the example submissions from the reference solutions and the mutant bank.

    python examples/generate.py            # rewrite examples/backprop/ and examples/torchnets/
    python examples/generate.py --check    # exit 1 if an examples folder is out of date (a project test)

For each assignment with examples: alice is the reference (full marks), bob has three plausible bugs
from mutants.yaml (partial marks), carol.zip is broken and each break costs only the questions it
touches. backprop's carol: a syntax error in backprop.py, an endless loop in optim.py, exit() at
import of autodiff.py. torchnets' carol: exit() at import of models.py, a syntax error in crops.py,
an endless loop in five_crop_logits (training.py).
backprop-notebooks/: backprop's three as notebooks, shaped like JupyterLab's (see notebooks.py).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # notebooks.py, also when a test loads this file
from notebooks import write_notebooks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BOB_BUGS = {
    "backprop": {("sigmoid", "reciprocal-gate-sign-error"), ("adam_step", "no-bias-correction"),
                 ("autodiff", "mul-assigns-instead-of-accumulating")},
    "torchnets": {("alexnet_mnist", "softmax-in-forward"), ("crop_dataset", "unsorted-listdir-of-files"),
                  ("train_epoch", "no-zero-grad")},
}
NOTEBOOKS = {"backprop": ("backprop-notebooks",)}  # assignment -> its notebook twins' folder


def carol(name: str, solutions: Path) -> dict[str, str]:
    """The broken submission's files."""
    if name == "backprop":
        return {
            "backprop.py": (solutions / "backprop.py").read_text().replace("def sigmoid(x", "def sigmoid(x,,", 1),
            "optim.py": (solutions / "optim.py").read_text().replace("def adam_step(", "def adam_step(*a, **k):\n    while True:\n        pass\n\n\ndef _unused_adam_step(", 1),
            "autodiff.py": "import sys\nsys.exit(0)\n",
        }
    return {
        "models.py": "import sys\nsys.exit(0)\n",
        "crops.py": (solutions / "crops.py").read_text().replace("def center_crop(image", "def center_crop(image,,", 1),
        "training.py": (solutions / "training.py").read_text().replace("def five_crop_logits(", "def five_crop_logits(*a, **k):\n    while True:\n        pass\n\n\ndef _unused_five_crop_logits(", 1),
    }


def build(name: str, dest: Path) -> None:
    """Write the example submissions of assignment `name` into `dest` (replaced)."""
    solutions = ROOT / "solutions" / name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(solutions, dest / "alice", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(solutions, dest / "bob", ignore=shutil.ignore_patterns("__pycache__"))
    mutants = yaml.safe_load((ROOT / "assignments" / name / "mutants.yaml").read_text())
    chosen = [m for m in mutants if m["kind"] == "bug" and (m["question"], m["name"]) in BOB_BUGS[name]]
    assert len(chosen) == len(BOB_BUGS[name]), [m["name"] for m in chosen]
    for m in chosen:
        path = dest / "bob" / m["file"]
        path.write_text(path.read_text().replace(m["replace"], m["with"]))
    with zipfile.ZipFile(dest / "carol.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
        for filename, text in sorted(carol(name, solutions).items()):
            info = zipfile.ZipInfo(f"carol/{filename}", date_time=(2026, 1, 1, 0, 0, 0))
            z.writestr(info, text)
    for folder in NOTEBOOKS.get(name, ()):  # the same students as notebooks (notebooks.py)
        nb_dest = dest.parent / folder
        if nb_dest.exists():
            shutil.rmtree(nb_dest)
        write_notebooks(ROOT, nb_dest, chosen, carol(name, solutions))


def contents(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, with zip files compared by their entries."""
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                found.update({f"{rel}!{n}": z.read(n) for n in sorted(z.namelist())})
        else:
            found[rel] = path.read_bytes()
    return found


def stale() -> list[str]:
    """The example files that differ from what `build` writes now (empty: up to date)."""
    differ = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in BOB_BUGS:
            fresh = Path(tmp) / name
            build(name, fresh)
            for folder in (name, *NOTEBOOKS.get(name, ())):
                want, have = contents(Path(tmp) / folder), contents(ROOT / "examples" / folder)
                differ += [f"{folder}/{k}" for k in sorted(want.keys() | have.keys()) if want.get(k) != have.get(k)]
    return differ


def main(argv: list[str]) -> int:
    if "--check" in argv:
        differ = stale()
        if differ:
            print("examples are out of date (run python examples/generate.py): " + ", ".join(differ))
            return 1
        print("examples are up to date")
        return 0
    for name in BOB_BUGS:
        build(name, ROOT / "examples" / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
