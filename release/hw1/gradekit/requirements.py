"""What a released folder's tests need (requirements.txt), and a one-line message when it is missing.

Standard library only: the release's conftest.py calls this before it loads the kit (which imports
numpy), so a student without numpy or torch gets "install these" instead of a traceback.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

# pip names whose import name differs
_IMPORT_NAMES = {"pyyaml": "yaml", "scikit-learn": "sklearn", "pillow": "PIL", "opencv-python": "cv2"}


def import_name(requirement: str) -> str:
    """`torch==2.13.0` -> `torch`; `PyYAML>=6` -> `yaml`."""
    name = re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower()
    return _IMPORT_NAMES.get(name, name.replace("-", "_"))


def read_requirements(folder: Path) -> list[str]:
    """The requirement lines of `folder/requirements.txt` (none if there is no such file)."""
    path = Path(folder) / "requirements.txt"
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def missing(folder: Path | str) -> list[str]:
    """The requirements of `folder` (a folder, or a file in it) that cannot be imported here."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    return [req for req in read_requirements(folder) if not _importable(import_name(req))]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError, AttributeError):  # e.g. blocked with sys.modules[name] = None
        return False


def message(missing_requirements: list[str]) -> str:
    """One line: what is missing and the command that installs it."""
    names = ", ".join(import_name(r) for r in missing_requirements)
    return (f"the tests need {names}, which is not installed for this Python: run "
            "`python -m pip install -r requirements.txt` in this folder (see the README's Setup section)")
