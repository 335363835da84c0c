"""Shared fixtures: the app with a fixed clock, and conformance on every response."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from devtools.fixtures import FIXTURE_TODAY

# tests/image builds and runs the container image (root, buildah, podman, minutes): only
# `make image-check` runs it, never `make test`.
collect_ignore = [] if os.environ.get("LDN_IMAGE_CHECK") == "1" else ["image"]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(env="development", database_url=f"sqlite:///{tmp_path}/test.db")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, today=lambda: FIXTURE_TODAY)) as test_client:
        yield test_client
