"""SIGTERM lets requests in flight finish: a hook call waiting on a slow FHIR server is answered
in full before the process exits (real ``ldn-cds serve`` subprocess)."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import date
from pathlib import Path

import httpx

from devtools.fhir_server import FhirServerConfig, create_fhir_app
from devtools.fixtures import hook_request, scenario
from tests.support.conformance import assert_conformant_response
from tests.support.servers import serve, serve_in_thread

FHIR_DELAY_SECONDS = 1.0


def test_sigterm_finishes_the_request_in_flight(tmp_path: Path) -> None:
    env = {"CDS_ENV": "development", "CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}"}
    fhir = create_fhir_app(FhirServerConfig(delay_seconds=FHIR_DELAY_SECONDS, today=date.today()))
    answers: list[httpx.Response] = []

    with serve_in_thread(fhir) as fhir_server, serve(env, tmp_path / "service.log") as service:
        # No prefetch: the service must read the slow FHIR server, so the call takes ~1 s.
        body = hook_request(
            scenario("oxycodone-active-ldn-select"),
            with_prefetch=False,
            fhir_server=fhir_server.base_url,
            today=date.today(),
        )

        def call() -> None:
            answers.append(httpx.post(f"{service.base_url}/cds-services/ldn-order-select", json=body, timeout=10))

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(FHIR_DELAY_SECONDS / 3)  # the request is now waiting on the FHIR server
        os.killpg(service.process.pid, signal.SIGTERM)
        caller.join(timeout=10)
        exit_code = service.process.wait(timeout=10)

    # uvicorn drains, shuts the app down, then re-raises the signal it caught.
    assert exit_code in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in service.log()
    (answer,) = answers
    assert answer.status_code == 200
    cards = assert_conformant_response(answer.json())
    assert cards[0]["indicator"] == "critical", "the answer is complete, not cut short"
