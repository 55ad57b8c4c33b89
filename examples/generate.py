"""Regenerate the example submissions from the reference solutions and the mutant bank.

    python examples/generate.py            # rewrite examples/backprop/
    python examples/generate.py --check    # exit 1 if examples/backprop/ is out of date (a project test)

alice: the reference (full marks). bob: three plausible bugs from mutants.yaml (partial marks).
carol.zip: broken (a syntax error in backprop.py, an endless loop in optim.py, exit() at import of
autodiff.py): each costs only the questions it touches.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOB_BUGS = {("sigmoid", "reciprocal-gate-sign-error"), ("adam_step", "no-bias-correction"),
            ("autodiff", "mul-assigns-instead-of-accumulating")}


def build(dest: Path) -> None:
    """Write the example submissions into `dest` (replaced)."""
    solutions = ROOT / "solutions" / "backprop"
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
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "backprop"
        build(fresh)
        want, have = contents(fresh), contents(ROOT / "examples" / "backprop")
    return sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))


def main(argv: list[str]) -> int:
    if "--check" in argv:
        differ = stale()
        if differ:
            print("examples/backprop is out of date (run python examples/generate.py): " + ", ".join(differ))
            return 1
        print("examples/backprop is up to date")
        return 0
    build(ROOT / "examples" / "backprop")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
