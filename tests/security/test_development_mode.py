"""Development mode: no JWT needed (loudly), the sandbox's key pinned, a JWT that is sent still checked."""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.security import issuers as issuers_module
from app.security.issuers import SANDBOX_ISSUER, SANDBOX_JKU, TrustedIssuer, build_registry
from app.security.jwks import JwksCache
from app.security.keys import read_jwks
from app.settings import Settings
from devtools.fixtures import FIXTURE_TODAY
from tests.security.support import BASE_URL, bearer, es384_key, jwks, mint, write_issuers

SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"


def dev_settings(tmp_path: Path, **overrides) -> Settings:
    return Settings(env="development", public_base_url=BASE_URL, database_url=f"sqlite:///{tmp_path}/dev.db", **overrides)


def test_requests_without_a_jwt_are_accepted_in_development(client: TestClient) -> None:
    assert client.get("/cds-services").status_code == 200


def test_development_mode_warns_loudly_at_start_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ldn_cds.startup"):
        with TestClient(create_app(dev_settings(tmp_path))):
            pass
    warning = next(r for r in caplog.records if r.name == "ldn_cds.startup" and r.levelno == logging.WARNING)
    assert "DEVELOPMENT MODE" in warning.getMessage() and "WITHOUT a client JWT" in warning.getMessage()


def test_a_jwt_that_is_sent_is_still_verified(client: TestClient) -> None:
    stranger = es384_key()
    token = mint(stranger, iss=SANDBOX_ISSUER, header={"kid": SANDBOX_KID, "jku": SANDBOX_JKU})
    assert client.get("/cds-services", headers=bearer(token)).status_code == 401
    assert client.get("/cds-services", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401


def test_an_issuers_file_works_in_development_too(tmp_path: Path) -> None:
    key = es384_key()
    path = write_issuers(tmp_path, [{"iss": "https://ehr.example", "jwks": jwks(key), "fhir_servers": []}])
    with TestClient(create_app(dev_settings(tmp_path, trusted_issuers_file=path))) as dev:
        assert dev.get("/cds-services", headers=bearer(mint(key, iss="https://ehr.example"))).status_code == 200


def test_the_pinned_sandbox_key_is_the_published_one() -> None:
    published = json.loads(resources.files("app.security").joinpath("sandbox_jwks.json").read_text())
    (jwk,) = published["keys"]
    assert jwk["kid"] == SANDBOX_KID and jwk["crv"] == "P-384" and jwk["alg"] == "ES384"
    sandbox = build_registry(Settings(env="development")).get(SANDBOX_ISSUER)
    assert sandbox is not None
    assert sandbox.inline_keys[SANDBOX_KID].algorithm_name == "ES384"
    assert sandbox.allows_jku(SANDBOX_JKU)


def test_a_sandbox_shaped_token_is_verified_with_the_pinned_key_without_fetching_its_jku(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox's exact header and claims (ES384, kid, jku; no sub, no nbf). We cannot sign
    with the sandbox's own key here, so its pinned key is swapped for one of ours, same kid."""
    stand_in = es384_key(SANDBOX_KID)
    monkeypatch.setattr(
        issuers_module,
        "sandbox_issuer",
        lambda: TrustedIssuer(
            iss=SANDBOX_ISSUER,
            fhir_servers=frozenset(),
            inline_keys=read_jwks(jwks(stand_in)).keys,
            jku_urls=frozenset({SANDBOX_JKU}),
        ),
    )

    async def no_fetch(*args, **kwargs):
        raise AssertionError("the sandbox jku must not be fetched: its key is pinned")

    monkeypatch.setattr(JwksCache, "key", no_fetch)
    with TestClient(create_app(dev_settings(tmp_path), today=lambda: FIXTURE_TODAY)) as dev:
        for path in ("/cds-services", "/cds-services/ldn-patient-view/feedback"):
            token = mint(stand_in, path, iss=SANDBOX_ISSUER, header={"jku": SANDBOX_JKU})
            body = {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z"}]}
            response = dev.get(path, headers=bearer(token)) if path == "/cds-services" else dev.post(
                path, json=body, headers=bearer(token)
            )
            assert response.status_code == 200, path


def test_development_accepts_the_loopback_aliases_of_the_public_url_as_aud(tmp_path: Path) -> None:
    key = es384_key()
    path = write_issuers(tmp_path, [{"iss": "https://ehr.example", "jwks": jwks(key), "fhir_servers": []}])
    settings = Settings(
        env="development", public_base_url="http://localhost:8000", trusted_issuers_file=path,
        database_url=f"sqlite:///{tmp_path}/dev.db",
    )
    with TestClient(create_app(settings)) as dev:
        for base in ("http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"):
            token = mint(key, iss="https://ehr.example", aud=base + "/cds-services")
            assert dev.get("/cds-services", headers=bearer(token)).status_code == 200, base
        wrong_port = mint(key, iss="https://ehr.example", aud="http://127.0.0.1:9000/cds-services")
        assert dev.get("/cds-services", headers=bearer(wrong_port)).status_code == 401
