"""/healthz, /readyz and /metrics: what an orchestrator and Prometheus see."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.storage.database import DatabaseError
from devtools.fhir_server import create_fhir_app
from devtools.fixtures import hook_request, scenario
from tests.support.cards import issued_card
from tests.support.conformance import error_message
from tests.support.servers import asgi_server, free_port

SERVICE = "/cds-services/ldn-order-select"


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition text (0 when absent)."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_healthz_answers_without_a_jwt_even_in_production(secure_client: TestClient) -> None:
    assert secure_client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_the_database(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}

    def down() -> None:
        raise DatabaseError("gone")

    monkeypatch.setattr(client.app.state.database, "ping", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "database" in error_message(response.json())


def test_request_latency_per_service_and_cards_by_kind_and_indicator(client: TestClient) -> None:
    response = client.post(SERVICE, json=hook_request(scenario("oxycodone-active-ldn-select")))
    cards = response.json()["cards"]
    client.get("/cds-services")
    client.post("/cds-services/made-up-service", json={})
    metrics = client.get("/metrics").text
    assert "text/plain" in client.get("/metrics").headers["content-type"]
    assert (
        sample(metrics, "ldn_cds_request_duration_seconds_count", endpoint="service", service="ldn-order-select") == 1
    )
    assert sample(metrics, "ldn_cds_request_duration_seconds_count", endpoint="discovery") == 1
    assert sample(metrics, "ldn_cds_requests_total", endpoint="service", service="unknown", status="404") == 1
    assert "made-up-service" not in metrics  # label values come from fixed sets only
    assert (
        sample(
            metrics,
            "ldn_cds_cards_emitted_total",
            service="ldn-order-select",
            kind="opioid-conflict",
            indicator="critical",
        )
        == 1
    )
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("ldn_cds_cards_emitted_total{")
    )
    assert total == len(cards)


def test_fhir_fallback_calls_and_failures_are_counted(client: TestClient) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/fhir"
    request = hook_request(scenario("oxycodone-active-ldn-select"), with_prefetch=False, fhir_server=unreachable)
    assert client.post(SERVICE, json=request).status_code == 200
    metrics = client.get("/metrics").text
    calls = sample(metrics, "ldn_cds_fhir_fallback_calls_total", operation="search")
    assert calls >= 1
    assert (
        sample(metrics, "ldn_cds_fhir_fallback_failures_total", operation="search", reason="fhir-unreachable") == calls
    )

    with asgi_server(create_fhir_app()) as fhir:
        request = hook_request(scenario("oxycodone-active-ldn-select"), with_prefetch=False, fhir_server=fhir)
        assert client.post(SERVICE, json=request).status_code == 200
    metrics = client.get("/metrics").text
    assert sample(metrics, "ldn_cds_fhir_fallback_calls_total", operation="search") >= 2 * calls
    assert (
        sample(metrics, "ldn_cds_fhir_fallback_failures_total", operation="search", reason="fhir-unreachable") == calls
    )
    assert sample(metrics, "ldn_cds_fhir_fallback_duration_seconds_count", operation="search") >= 2 * calls


def test_feedback_and_auth_failures_are_counted(client: TestClient) -> None:
    card = issued_card(client)["uuid"]
    item = {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z"}
    client.post(SERVICE + "/feedback", json={"feedback": [item]})
    client.get("/cds-services", headers={"Authorization": "Bearer nonsense"})
    metrics = client.get("/metrics").text
    assert sample(metrics, "ldn_cds_feedback_total", kind="opioid-conflict", outcome="overridden") == 1
    assert sample(metrics, "ldn_cds_auth_failures_total") == 1  # counted, with no reason label


def test_metrics_can_be_switched_off(make_client: Callable[..., TestClient]) -> None:
    assert make_client(metrics_enabled=False).get("/metrics").status_code == 404
