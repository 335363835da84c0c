"""API-test fixtures: apps with chosen settings, and a real FHIR server on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from devtools.fhir_server import FhirServerConfig
from devtools.fixtures import FIXTURE_TODAY
from tests.support.fhir_server import FHIR_TOKEN, FhirServer, fhir_server_running


@pytest.fixture
def make_client(tmp_path) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**settings)``: a TestClient over a fresh app with those settings.

    Server errors come back as HTTP 500 responses (not raised), so a test can assert
    that client input never produces one.
    """
    with contextlib.ExitStack() as stack:

        def factory(*, today: date = FIXTURE_TODAY, **overrides) -> TestClient:
            settings = Settings(env="development", database_url=f"sqlite:///{tmp_path}/test.db", **overrides)
            app = create_app(settings, today=lambda: today)
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))

        yield factory


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[TestClient]:
    """The service with default settings, clock fixed at the fixtures' day (shared by a module)."""
    database = tmp_path_factory.mktemp("api") / "test.db"
    settings = Settings(env="development", database_url=f"sqlite:///{database}")
    with TestClient(create_app(settings, today=lambda: FIXTURE_TODAY), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def _shared_fhir_server() -> Iterator[FhirServer]:
    with fhir_server_running(FhirServerConfig(required_token=FHIR_TOKEN, today=FIXTURE_TODAY)) as server:
        yield server


@pytest.fixture
def fhir_server(_shared_fhir_server) -> FhirServer:
    """The fixture patients served over real HTTP on loopback; requires ``FHIR_TOKEN``."""
    _shared_fhir_server.reset()
    return _shared_fhir_server
