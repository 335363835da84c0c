"""Fixtures for tests that need a production-mode app: its issuer publishes an ES384 key over real
HTTP on loopback (``jwks_url``) and carries an RS384 key inline. Imported by the conftest of each
test package that uses them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from devtools.fixtures import FIXTURE_TODAY
from tests.support.security import (
    ISSUER,
    JsonServer,
    SigningKey,
    es384_key,
    json_server,
    jwks,
    production_settings,
    rs384_key,
    write_issuers,
)


@pytest.fixture(scope="session")
def es_key() -> SigningKey:
    return es384_key("es384-current")


@pytest.fixture(scope="session")
def rs_key() -> SigningKey:
    return rs384_key("rs384-inline")


@pytest.fixture(scope="session")
def stranger_key() -> SigningKey:
    """A key nobody trusts (the attacker's)."""
    return es384_key("es384-current")  # same kid as the real one, different key


@pytest.fixture
def jwks_http(es_key: SigningKey, stranger_key: SigningKey) -> Iterator[JsonServer]:
    with json_server({"/jwks.json": jwks(es_key), "/attacker/jwks.json": jwks(stranger_key)}) as server:
        yield server


@pytest.fixture
def issuer_entry(jwks_http: JsonServer, rs_key: SigningKey) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "jwks_url": jwks_http.url("/jwks.json"),
        "jwks": jwks(rs_key),
        "fhir_servers": ["https://ehr.test/fhir"],
    }


@pytest.fixture
def make_client(tmp_path: Path, issuer_entry: dict[str, Any]) -> Iterator[Callable[..., TestClient]]:
    """Build a started production app: ``make_client(issuers=[...], **settings_overrides)``."""
    with ExitStack() as stack:

        def build(issuers: list[dict[str, Any]] | None = None, **overrides: Any) -> TestClient:
            path = write_issuers(tmp_path, issuers if issuers is not None else [issuer_entry])
            app = create_app(production_settings(tmp_path, path, **overrides), today=lambda: FIXTURE_TODAY)
            return stack.enter_context(TestClient(app))

        yield build


@pytest.fixture
def secure_client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
