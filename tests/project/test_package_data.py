"""The installed package carries every data file the code reads (the container installs the
project as a wheel, not from the checkout: a file missing from package data is a 500 there)."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from tests.support.servers import PROJECT_ROOT, python_command


def test_the_wheel_holds_every_data_file_under_app(tmp_path: Path) -> None:
    # Built from a clean copy: setuptools reuses an in-tree build/ folder, stale files included.
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", source / "pyproject.toml")
    shutil.copytree(PROJECT_ROOT / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__"))
    command = python_command(
        "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path), str(source)
    )
    subprocess.run(command, check=True, cwd=tmp_path, timeout=120)
    (wheel,) = tmp_path.glob("ldn_cds-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    data_files = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in (PROJECT_ROOT / "app").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    assert data_files, "app/ has data files (terminology tables, the sandbox key)"
    assert data_files - packaged == set()
