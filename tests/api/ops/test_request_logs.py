"""One structured log record per request, and no token, JWT or patient id in any log record."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.ops.logging import JsonFormatter, RedactingFilter, scrub
from devtools.fhir_server import FhirServerConfig, create_fhir_app
from devtools.fixtures import hook_request, scenario
from tests.support.security import SigningKey, bearer, mint
from tests.support.servers import asgi_server

SERVICE = "/cds-services/ldn-order-select"
ACCESS_TOKEN = "ehr-access-token-7d3c1a"


def test_each_service_call_logs_hook_instance_service_status_latency_and_card_count(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    request = hook_request(scenario("oxycodone-active-ldn-select"))
    with caplog.at_level(logging.INFO, logger="ldn_cds.request"):
        cards = client.post(SERVICE, json=request).json()["cards"]
    (record,) = [r for r in caplog.records if r.name == "ldn_cds.request"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["hook_instance"] == request["hookInstance"]
    assert entry["service"] == "ldn-order-select"
    assert entry["status"] == 200
    assert entry["cards"] == len(cards)
    assert isinstance(entry["latency_ms"], float)
    assert entry["level"] == "INFO" and entry["ts"].endswith("+00:00")


def test_nothing_secret_reaches_the_logs(
    make_client: Callable[..., TestClient], issuer_entry: dict, es_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    """A production call that reads a real FHIR server with a token, plus refusals and errors,
    with every logger at DEBUG: no JWT, access token or patient id in any record."""
    config = FhirServerConfig(required_token=ACCESS_TOKEN)
    secrets: list[str] = [ACCESS_TOKEN]
    with asgi_server(create_fhir_app(config)) as fhir, caplog.at_level(logging.DEBUG):
        client = make_client(issuers=[{**issuer_entry, "fhir_servers": [fhir]}])
        request = hook_request(
            scenario("oxycodone-active-ldn-select"), with_prefetch=False, fhir_server=fhir, access_token=ACCESS_TOKEN
        )
        patient_id = request["context"]["patientId"]
        secrets.append(patient_id)
        token = mint(es_key, SERVICE)
        secrets.append(token)
        assert client.post(SERVICE, json=request, headers=bearer(token)).status_code == 200
        assert config.seen_authorization  # the FHIR server really was read, with the token
        assert client.post(SERVICE, json=request, headers=bearer(token)).status_code == 401  # replay
        bad = mint(es_key, SERVICE, aud="https://elsewhere.example")
        secrets.append(bad)
        assert client.post(SERVICE, json=request, headers=bearer(bad)).status_code == 401
        broken = {**request, "hook": "patient-view"}
        assert client.post(SERVICE, json=broken, headers=bearer(mint(es_key, SERVICE))).status_code == 400

    assert caplog.records, "expected some log records"
    formatter = JsonFormatter()
    for record in caplog.records:
        for text in (record.getMessage(), formatter.format(record)):
            for secret in secrets:
                assert secret not in text, f"{record.name} logged a secret: {text[:200]}"


def test_bearer_tokens_and_jwts_are_scrubbed_from_any_record() -> None:
    jwt_like = "eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
    assert scrub(f"Authorization: Bearer abc.def-123 and {jwt_like}") == (
        "Authorization: Bearer [redacted] and [jwt redacted]"
    )
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed with %s", (f"Bearer {jwt_like}",), None)
    RedactingFilter().filter(record)
    assert jwt_like not in record.getMessage()
    assert jwt_like not in JsonFormatter().format(
        logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s", (jwt_like,), None)
    )
