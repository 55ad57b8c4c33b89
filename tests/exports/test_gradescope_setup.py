"""setup.sh of the Gradescope bundle, run for real against stub apt-get/python commands: it picks a
Python >= 3.11 (installing python3.11 where the image's python3 is older) and installs the CPU-only
torch build, never PyPI's CUDA one, unless the instructor asks."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.exports.gradescope_bundle import CPU_TORCH_INDEX, build_autograder_zip

STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "$LOG"
"""
# a python stub: answers the version check with its own version, makes a venv with a logging pip
PYTHON = STUB + """
case "$1" in
  -c) [ "{ok}" = yes ] && exit 0 || exit 1 ;;
  -m) mkdir -p "$3/bin"; printf '#!/bin/sh\\necho "pip $*" >> "$LOG"\\n' > "$3/bin/pip"; chmod +x "$3/bin/pip" ;;
esac
"""


def _setup(tmp_path: Path, *, python3_ok: bool, apt_has_311: bool, **build: str) -> list[str]:
    from tests.toycourse import make_course

    course = CourseDir(make_course(tmp_path / "course"))
    bundle = build_autograder_zip(course, "toy", tmp_path / "autograder.zip", **build)
    script = tmp_path / "setup.sh"
    with zipfile.ZipFile(bundle) as z:
        script.write_bytes(z.read("setup.sh"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stubs = {"apt-get": STUB + ('case "$*" in *python3.11*) exit ' + ("0" if apt_has_311 else "1") + ";; esac\n"),
             "python3": PYTHON.format(ok="yes" if python3_ok else "no"), "python3.11": PYTHON.format(ok="yes")}
    for name, text in stubs.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LOG": str(log), "AUTOGRADER_ROOT": str(tmp_path / "ag")}
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    lines = log.read_text().splitlines()
    if done.returncode != 0:
        lines.append(f"exit {done.returncode}: {done.stderr.strip()}")
    return lines


@pytest.mark.parametrize("python3_ok", [True, False])
def test_setup_installs_cpu_torch_with_a_recent_enough_python(tmp_path: Path, python3_ok: bool) -> None:
    log = _setup(tmp_path, python3_ok=python3_ok, apt_has_311=True)
    venv_maker = [line for line in log if " -m venv " in line]
    assert venv_maker and venv_maker[0].startswith("python3 " if python3_ok else "python3.11 ")
    pips = [line for line in log if line.startswith("pip ")]
    assert pips[0].startswith(f"pip install -q --index-url {CPU_TORCH_INDEX} torch==")
    assert not any(line.startswith("exit") for line in log)


def test_setup_says_which_base_image_to_pick_when_no_python_fits(tmp_path: Path) -> None:
    log = _setup(tmp_path, python3_ok=False, apt_has_311=False)
    assert log[-1].startswith("exit 1") and "Ubuntu 24.04 base image" in log[-1]
    assert not any(line.startswith("pip ") for line in log)


def test_pypi_torch_only_when_asked(tmp_path: Path) -> None:
    log = _setup(tmp_path, python3_ok=True, apt_has_311=True, torch_index_url="")
    pips = [line for line in log if line.startswith("pip ")]
    assert len(pips) == 1 and "--index-url" not in pips[0]
    assert os.path.basename(CPU_TORCH_INDEX) == "cpu"
