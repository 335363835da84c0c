"""``ldn-cds serve`` refuses to start on an unusable database: one line on stderr, exit status 2,
and no server (issue 11: it used to be a uvicorn traceback and exit 3). Real processes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import LOOPBACK, PROJECT_ROOT, free_port, python_command


def serve(database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CDS_ENV": "development", "CDS_DATABASE_URL": database_url}
    command = python_command("-m", "app.cli", "serve", "--host", LOOPBACK, "--port", str(free_port()))
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)


def unreachable_databases(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "a-file").write_text("not a folder")
    return {
        "missing folder": f"sqlite:///{tmp_path}/no/such/folder/cds.db",
        "no place to write (the folder is a file)": f"sqlite:///{tmp_path}/a-file/cds.db",
        "PostgreSQL not listening": f"postgresql://ldn:secret@{LOOPBACK}:{free_port()}/ldn",
    }


@pytest.mark.parametrize(
    "case", ["missing folder", "no place to write (the folder is a file)", "PostgreSQL not listening"]
)
def test_an_unusable_database_is_one_line_and_exit_status_2(tmp_path: Path, case: str) -> None:
    url = unreachable_databases(tmp_path)[case]
    result = serve(url, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1, result.stderr[-2000:]
    assert result.stderr.startswith("ldn-cds: refusing to start: CDS_DATABASE_URL is not usable")
    assert "Traceback" not in result.stderr and "secret" not in result.stderr  # the password is not echoed
    assert "Uvicorn running" not in result.stdout + result.stderr


def test_missing_terminology_data_refuses_to_start_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A data file left out of the installed package: refused at start-up, not a 500 per patient.
    from app.cli import main as cli_main
    from app.knowledge import therapies

    monkeypatch.setattr(therapies, "DATA_DIR", tmp_path)
    therapies.standard_care.cache_clear()
    monkeypatch.setenv("CDS_ENV", "development")
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path}/cds.db")
    try:
        with pytest.raises(SystemExit) as exited:
            cli_main(["serve", "--port", "1"])
    finally:
        therapies.standard_care.cache_clear()
    error = capsys.readouterr().err
    assert exited.value.code == 2 and error.count("\n") == 1
    assert "terminology data cannot be read" in error and "standard_care.toml" in error
