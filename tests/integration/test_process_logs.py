"""The real server process (``ldn-cds serve``, uvicorn, DEBUG logging): its output is JSON lines
(after development mode's banner), request lines carry the operational fields, and no token,
JWT or patient id appears."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from devtools.fhir_server import FhirServerConfig, create_fhir_app
from devtools.fixtures import hook_request, scenario
from tests.support.security import (
    bearer,
    es384_key,
    jwks,
    mint,
    write_issuers,
)
from tests.support.servers import PROJECT_ROOT, asgi_server, free_port, serve

SERVICE = "/cds-services/ldn-order-select"
ACCESS_TOKEN = "ehr-access-token-process-91ab"
ISS = "https://ehr.example/cds-client"


def healthcheck(port: int) -> int:
    command = [sys.executable, "-m", "app.cli", "healthcheck", "--port", str(port), "--timeout", "2"]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, timeout=30).returncode


def test_server_logs_are_json_and_carry_no_secrets(tmp_path: Path) -> None:
    key = es384_key()
    issuers = write_issuers(tmp_path, [{"iss": ISS, "jwks": jwks(key), "fhir_servers": []}])
    env = {
        "CDS_ENV": "development",
        "CDS_LOG_LEVEL": "DEBUG",
        "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/cds.db",
        "CDS_TRUSTED_ISSUERS_FILE": str(issuers),
    }
    config = FhirServerConfig(required_token=ACCESS_TOKEN)
    secrets = [ACCESS_TOKEN]
    log_path = tmp_path / "server.log"
    with asgi_server(create_fhir_app(config)) as fhir, serve(env, log_path) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        env_aud = "http://localhost:8000"  # the default CDS_PUBLIC_BASE_URL in development
        request = hook_request(
            scenario("oxycodone-active-ldn-select"), with_prefetch=False, fhir_server=fhir, access_token=ACCESS_TOKEN
        )
        secrets.append(request["context"]["patientId"])
        token = mint(key, SERVICE, iss=ISS, aud=env_aud + SERVICE)
        secrets.append(token)
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            response = http.post(SERVICE, json=request, headers=bearer(token))
            assert response.status_code == 200, response.text
            assert config.seen_authorization
            assert http.post(SERVICE, json=request, headers=bearer(token)).status_code == 401  # replayed
            assert http.post(SERVICE, json={**request, "hook": "x"}).status_code == 400
            assert http.get("/cds-services").status_code == 200
        assert healthcheck(port) == 0
    assert healthcheck(free_port()) == 1

    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    # Development mode opens with its banner (for a person, on stderr); then only JSON lines.
    first_json = next(i for i, line in enumerate(lines) if line.startswith("{"))
    banner, lines = "\n".join(lines[:first_json]), lines[first_json:]
    assert "DEVELOPMENT MODE" in banner and "Not checked in this mode" in banner
    entries = [json.loads(line) for line in lines]  # every other line is one JSON object
    for line in lines:
        for secret in secrets:
            assert secret not in line, line[:300]
    requests = [e for e in entries if e.get("logger") == "ldn_cds.request" and e.get("endpoint") == "service"]
    ok = next(e for e in requests if e["status"] == 200)
    assert ok["hook_instance"] == request["hookInstance"] and ok["service"] == "ldn-order-select"
    assert ok["cards"] >= 1 and ok["latency_ms"] > 0 and ok["iss"] == ISS
    assert {e["status"] for e in requests} == {200, 401, 400}
    assert any("DEVELOPMENT MODE" in e["msg"] for e in entries)
