"""The lock files pin every dependency of pyproject.toml, with hashes, at versions it allows.

``make run`` and the image install requirements.lock; ``make test`` installs
requirements-test.lock, which must pin the runtime packages at the same versions.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(path: Path) -> dict[str, str]:
    """name -> pinned version, after checking that every pin carries at least one sha256 hash."""
    found: dict[str, str] = {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text())
    for block in blocks:
        match = _PIN.match(block)
        if match is None:
            continue
        assert "--hash=sha256:" in block, f"{path.name}: {match.group(1)} has no hash"
        found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def assert_pinned(requirements: list[str], locked: dict[str, str], lock_name: str) -> None:
    for line in requirements:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in {lock_name}: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock_name} pins {requirement.name}=={locked[name]}, outside {requirement.specifier}: run `make lock`"
        )


def test_the_runtime_lock_pins_every_dependency_with_hashes() -> None:
    locked = pins(ROOT / "requirements.lock")
    assert_pinned(project()["dependencies"], locked, "requirements.lock")
    assert "setuptools" in locked, "the image builds the project without isolation, with the pinned setuptools"


def test_the_test_lock_adds_the_test_tools_and_keeps_the_runtime_versions() -> None:
    runtime = pins(ROOT / "requirements.lock")
    test = pins(ROOT / "requirements-test.lock")
    extras = project()["optional-dependencies"]
    assert_pinned(project()["dependencies"] + extras["test"] + extras["bench"], test, "requirements-test.lock")
    differing = {name: (version, test[name]) for name, version in runtime.items() if test.get(name) != version}
    assert differing == {}, "runtime packages pinned differently in the two locks: run `make lock`"
