"""Set up a local virtual environment and run jaxgeo's main job or its test suite.

Usage (from a clean clone, with only Python 3.11+ installed)::

    python3 tools/dev.py example [extra CLI arguments]   # the main job on the embedded example
    python3 tools/dev.py test [extra pytest arguments]   # the test suite (slow tests excluded)

The first call creates ``.venv/`` beside this repository and installs jaxgeo into it
(with the ``test`` extra for ``test``); later calls reinstall only when
``pyproject.toml`` changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _ensure_env(extra: str | None) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"jaxgeo needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"[dev] creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    target = "." if extra is None else f".[{extra}]"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".jaxgeo-installed-{extra or 'core'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"[dev] installing jaxgeo{'' if extra is None else f'[{extra}]'} (editable)", flush=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "-q", "-e", target], cwd=ROOT, check=True
    )
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"example", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "example":
        _ensure_env(None)
        args = rest or ["gravity", "invert", "--example", "dipping-block", "--out", "jaxgeo-output"]
        return subprocess.call([str(BIN / "jaxgeo"), *args], cwd=ROOT)
    _ensure_env("test")
    code = subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
