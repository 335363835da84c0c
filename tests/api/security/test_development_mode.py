"""Development mode: no JWT needed (loudly), the sandbox's key pinned, a JWT that is sent still checked."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ops.development import MODE_HEADER, banner
from app.security import issuers as issuers_module
from app.security.issuers import SANDBOX_ISSUER, SANDBOX_JKU, TrustedIssuer, build_registry
from app.security.jwks import JwksCache
from app.security.keys import read_jwks
from app.settings import Settings
from devtools.fixtures import FIXTURE_TODAY, hook_request, scenario
from tests.support.conformance import error_message
from tests.support.security import BASE_URL, bearer, es384_key, jwks, mint, write_issuers
from tests.support.servers import PROJECT_ROOT, free_port, running_process

SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"


def dev_settings(tmp_path: Path, **overrides) -> Settings:
    return Settings(
        env="development", public_base_url=BASE_URL, database_url=f"sqlite:///{tmp_path}/dev.db", **overrides
    )


def test_requests_without_a_jwt_are_accepted_in_development(client: TestClient) -> None:
    assert client.get("/cds-services").status_code == 200


def test_development_mode_warns_loudly_at_start_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ldn_cds.startup"), TestClient(create_app(dev_settings(tmp_path))):
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
            response = (
                dev.get(path, headers=bearer(token))
                if path == "/cds-services"
                else dev.post(path, json=body, headers=bearer(token))
            )
            # Authenticated: discovery answers; feedback reaches its check for an issued card.
            assert response.status_code == (200 if path == "/cds-services" else 400), path


def test_development_accepts_the_loopback_aliases_of_the_public_url_as_aud(tmp_path: Path) -> None:
    key = es384_key()
    path = write_issuers(tmp_path, [{"iss": "https://ehr.example", "jwks": jwks(key), "fhir_servers": []}])
    settings = Settings(
        env="development",
        public_base_url="http://localhost:8000",
        trusted_issuers_file=path,
        database_url=f"sqlite:///{tmp_path}/dev.db",
    )
    with TestClient(create_app(settings)) as dev:
        for base in ("http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"):
            token = mint(key, iss="https://ehr.example", aud=base + "/cds-services")
            assert dev.get("/cds-services", headers=bearer(token)).status_code == 200, base
        wrong_port = mint(key, iss="https://ehr.example", aud="http://127.0.0.1:9000/cds-services")
        assert dev.get("/cds-services", headers=bearer(wrong_port)).status_code == 401


# ---------------------------------------------------- safe by default (issue 12, item 4)


def test_every_development_response_says_development_mode(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {
        "discovery": client.get("/cds-services"),
        "404": client.post("/cds-services/nope", json={}),
        "400": client.post(
            "/cds-services/ldn-order-select", content=b"{", headers={"Content-Type": "application/json"}
        ),
        "401": client.get("/cds-services", headers={"Authorization": "Bearer not-a-jwt"}),
        "preflight": client.options(
            "/cds-services",
            headers={"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "GET"},
        ),
        "health": client.get("/healthz"),
    }
    for name, response in answers.items():
        assert response.headers.get(MODE_HEADER) == "development", name
    sandbox_call = client.get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert MODE_HEADER.lower() in sandbox_call.headers["access-control-expose-headers"].lower()

    class BrokenPipeline:  # a bug inside the service: the answer is a 500, still marked
        async def cards(self, *args: object) -> None:
            raise RuntimeError("a bug")

    with TestClient(client.app, raise_server_exceptions=False) as unguarded:
        monkeypatch.setattr(client.app.state, "pipeline", BrokenPipeline())  # after the lifespan built the real one
        crashed = unguarded.post("/cds-services/ldn-patient-view", json=hook_request(scenario("crps-patient-view")))
    assert crashed.status_code == 500 and crashed.headers.get(MODE_HEADER) == "development"
    assert "a bug" not in crashed.text


def test_a_refused_cors_preflight_is_an_operation_outcome_too(client: TestClient) -> None:
    response = client.options(
        "/cds-services", headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 400
    assert "Disallowed CORS origin" in error_message(response.json())
    assert response.headers[MODE_HEADER] == "development"


def test_production_responses_carry_no_development_header(secure_client: TestClient) -> None:
    for response in (secure_client.get("/cds-services"), secure_client.get("/healthz"), secure_client.get("/nope")):
        assert MODE_HEADER not in response.headers


def test_the_banner_says_exactly_what_is_not_checked() -> None:
    text = banner(Settings(env="development"), "127.0.0.1", 8000)
    assert len(text.splitlines()) > 10
    for unchecked in (
        "WITHOUT an Authorization header is accepted",
        f"CDS Hooks sandbox ({SANDBOX_ISSUER}) is trusted",
        "anyone can sign a token",
        "localhost, 127.0.0.1 and [::1] are accepted",
        "any http(s) server on loopback is read",
        "https://sandbox.cds-hooks.org",  # the CORS origins, as configured
        "X-CDS-Mode: development",
    ):
        assert unchecked in text, unchecked
    assert "BEYOND LOOPBACK" not in text
    assert "BEYOND LOOPBACK" in banner(Settings(env="development"), "0.0.0.0", 8000)


def test_development_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    env = {**os.environ, "CDS_ENV": "development", "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/dev.db"}
    env.pop("CDS_ALLOW_INSECURE_DEV_ON_NETWORK", None)
    for host in ("0.0.0.0", "::", "192.0.2.10"):
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--host", host, "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
        )
        assert result.returncode == 2, (host, result.stderr)
        assert "loopback only" in result.stderr and "CDS_ALLOW_INSECURE_DEV_ON_NETWORK=1" in result.stderr
        assert "Traceback" not in result.stderr


def test_development_on_the_network_only_when_asked_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "CDS_ENV": "development",
        "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/dev.db",
        "CDS_ALLOW_INSECURE_DEV_ON_NETWORK": "1",
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "0.0.0.0", "--port", str(port)]
    with running_process(command, port=port, ready_path="/healthz", env=env, log_path=tmp_path / "dev.log") as server:
        assert httpx.get(f"{server.base_url}/cds-services").headers[MODE_HEADER] == "development"
        log = server.log()
    assert "DEVELOPMENT MODE" in log and "LISTENING BEYOND LOOPBACK" in log


def test_a_sandbox_entry_without_the_sandbox_jku_is_warned_about_and_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The warning's claim checked for real: with such an entry, a sandbox-shaped token (it always
    names its jku) is refused; with the jku listed, the same kind of token is accepted."""
    stand_in = es384_key(SANDBOX_KID)  # we cannot sign with the sandbox's key; the entry holds ours
    entry = {"iss": SANDBOX_ISSUER, "jwks": jwks(stand_in), "fhir_servers": []}

    def sandbox_token() -> dict[str, str]:
        return bearer(mint(stand_in, iss=SANDBOX_ISSUER, header={"jku": SANDBOX_JKU}))

    path = write_issuers(tmp_path, [entry])
    with (
        caplog.at_level(logging.WARNING, logger="ldn_cds.startup"),
        TestClient(create_app(dev_settings(tmp_path, trusted_issuers_file=path))) as dev,
    ):
        assert dev.get("/cds-services", headers=sandbox_token()).status_code == 401
    (warning,) = [r.getMessage() for r in caplog.records if SANDBOX_JKU in r.getMessage()]
    assert f'"jku_urls": ["{SANDBOX_JKU}"]' in warning and "401" in warning

    caplog.clear()
    path = write_issuers(tmp_path, [{**entry, "jku_urls": [SANDBOX_JKU]}])
    with (
        caplog.at_level(logging.WARNING, logger="ldn_cds.startup"),
        TestClient(create_app(dev_settings(tmp_path, trusted_issuers_file=path))) as dev,
    ):
        assert dev.get("/cds-services", headers=sandbox_token()).status_code == 200
    assert not [r for r in caplog.records if SANDBOX_JKU in r.getMessage()]
