"""The package layering (``.importlinter``) holds, and the check would catch a violation.

docs/architecture.md says what each layer owns; this is what keeps it true.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.servers import PROJECT_ROOT

LINT_IMPORTS = Path(PROJECT_ROOT / ".venv" / "bin" / "lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    command = [str(LINT_IMPORTS if LINT_IMPORTS.exists() else shutil.which("lint-imports")), "--no-cache"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(root)})


def test_every_layer_contract_is_kept() -> None:
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 kept, 0 broken" in result.stdout


def _copy_with(tmp_path: Path, module: str, line: str) -> Path:
    shutil.copytree(PROJECT_ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}\n")
    return tmp_path


def test_a_rule_that_reads_the_fhir_server_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy_with(
        tmp_path, "app/rules/positioning.py", "from app.fhir.client import FhirClient  # illegal: rules are pure"
    )
    result = lint_imports(root)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "app.rules.positioning -> app.fhir.client" in result.stdout


def test_wire_types_that_import_the_service_break_the_contract(tmp_path: Path) -> None:
    root = _copy_with(tmp_path, "app/cds/models.py", "from app.settings import Settings  # illegal: cds is the leaf")
    result = lint_imports(root)
    assert result.returncode != 0 and "app.cds.models -> app.settings" in result.stdout
