"""/metrics only on the admin port (CDS_ADMIN_PORT), never on the API port in production.

In-process, a request's port is the port of the URL it is sent to (ASGI ``scope["server"]``);
the last tests start ``ldn-cds serve`` for real, listening on both ports with two workers.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.support.conformance import error_message
from tests.support.security import (
    ADMIN_PORT,
    BASE_URL,
    DEPLOYMENT_SECRET,
    ISSUER,
    bearer,
    es384_key,
    jwks,
    mint,
    write_issuers,
)
from tests.support.servers import LOOPBACK, free_port, serve

KEY = es384_key()
API = "http://testserver"
ADMIN = f"http://testserver:{ADMIN_PORT}"


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    error_message(response.json())


def test_production_serves_metrics_on_the_admin_port_only(secure_client: TestClient) -> None:
    refused = secure_client.get(f"{API}/cds-services", headers=bearer(mint(KEY, iss="https://unknown.example")))
    assert refused.status_code == 401
    admin = secure_client.get(f"{ADMIN}/metrics")
    assert admin.status_code == 200 and "text/plain" in admin.headers["content-type"]
    assert "ldn_cds_auth_failures_total 1.0" in admin.text
    assert_not_found(secure_client.get(f"{API}/metrics"))


def test_the_admin_port_serves_health_and_metrics_and_nothing_else(secure_client: TestClient) -> None:
    assert secure_client.get(f"{ADMIN}/healthz").json() == {"status": "ok"}
    assert secure_client.get(f"{ADMIN}/readyz").status_code == 200
    for path in ("/cds-services", "/cds-services/ldn-order-select", "/docs", "/openapi.json"):
        assert_not_found(secure_client.get(f"{ADMIN}{path}"))
    assert_not_found(secure_client.post(f"{ADMIN}/cds-services/ldn-order-select", json={}))
    # The API port still has the probes a load balancer uses.
    assert secure_client.get(f"{API}/healthz").status_code == 200
    assert secure_client.get(f"{API}/readyz").status_code == 200


def test_production_without_an_admin_port_serves_no_metrics_and_says_so(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ldn_cds.startup"):
        client = make_client(admin_port=None)
    for base in (API, ADMIN, "http://testserver:8000"):
        assert_not_found(client.get(f"{base}/metrics"))
    assert any("CDS_ADMIN_PORT is not set" in record.getMessage() for record in caplog.records)


def test_development_keeps_metrics_on_the_api_port_unless_an_admin_port_is_set(tmp_path: Path) -> None:
    def app(**overrides: object) -> TestClient:
        return TestClient(
            create_app(Settings(env="development", database_url=f"sqlite:///{tmp_path}/d.db", **overrides))
        )

    with app() as plain:
        assert plain.get(f"{API}/metrics").status_code == 200
    with app(admin_port=ADMIN_PORT) as split:
        assert split.get(f"{ADMIN}/metrics").status_code == 200
        assert_not_found(split.get(f"{API}/metrics"))


# ------------------------------------------------------------------ the real server


def production_env(tmp_path: Path, admin_port: int) -> dict[str, str]:
    issuers = write_issuers(tmp_path, [{"iss": ISSUER, "jwks": jwks(KEY), "fhir_servers": []}])
    return {
        "CDS_ENV": "production",
        "CDS_PUBLIC_BASE_URL": BASE_URL,
        "CDS_TRUSTED_ISSUERS_FILE": str(issuers),
        "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/cds.db",
        "CDS_ADMIN_PORT": str(admin_port),
        "CDS_DEPLOYMENT_SECRET": DEPLOYMENT_SECRET,
    }


def test_the_real_server_listens_on_both_ports_with_two_workers(tmp_path: Path) -> None:
    admin_port = free_port()
    with serve(production_env(tmp_path, admin_port), tmp_path / "server.log", workers=2) as server:
        admin = f"http://{LOOPBACK}:{admin_port}"
        for _ in range(4):  # spread over both workers
            response = httpx.get(f"{server.base_url}/cds-services", headers=bearer(mint(KEY)))
            assert response.status_code == 200
        # Both workers' counts, whichever worker answers the scrape. A request is counted just
        # after its answer is sent, so the last one may need a moment to show.
        expected = 'ldn_cds_requests_total{endpoint="discovery",service="",status="200"} 4.0'
        deadline = time.monotonic() + 5
        while expected not in (metrics := httpx.get(f"{admin}/metrics")).text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert metrics.status_code == 200 and expected in metrics.text, metrics.text[-2000:]
        assert_not_found(httpx.get(f"{server.base_url}/metrics"))
        assert_not_found(httpx.get(f"{admin}/cds-services", headers=bearer(mint(KEY))))
        assert httpx.get(f"{admin}/healthz").status_code == 200


def test_the_server_refuses_an_admin_port_equal_to_the_api_port(tmp_path: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--host", LOOPBACK, "--port", str(port)],
        env={**os.environ, **production_env(tmp_path, port)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "CDS_ADMIN_PORT" in result.stderr and "must differ" in result.stderr
