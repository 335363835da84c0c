"""The real service process and a real FHIR server process, on free loopback ports.

Both run against today's real date: the FHIR server shifts the fixture patients to
today (``--today``), and tests build hook requests with ``today=date.today()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from tests.support.fhir_server import FHIR_TOKEN
from tests.support.postgres import postgres_server
from tests.support.servers import RunningProcess, free_port, python_command, running_process, serve


@pytest.fixture(scope="session")
def fhir_process() -> Iterator[RunningProcess]:
    port = free_port()
    command = python_command(
        "-m", "devtools.fhir_server", "--port", str(port), "--token", FHIR_TOKEN, "--today", date.today().isoformat()
    )
    with running_process(command, port=port, ready_path="/metadata") as process:
        yield process


@pytest.fixture(scope="session")
def service_process(tmp_path_factory) -> Iterator[RunningProcess]:
    directory = tmp_path_factory.mktemp("service")
    env = {
        "CDS_ENV": "development",
        "CDS_DATABASE_URL": f"sqlite:///{directory / 'ldn-cds.db'}",
        "WEB_CONCURRENCY": "1",
    }
    with serve(env, directory / "service.log") as process:
        yield process


@pytest.fixture(scope="session")
def service(service_process) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_process.base_url, timeout=15) as client:
        yield client


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL server for the session (skips with the reason if none can be started)."""
    with postgres_server() as url:
        yield url
