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
from tests.support.servers import VENV_BIN, RunningProcess, free_port, python_command, running_process


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
    port = free_port()
    database = tmp_path_factory.mktemp("service") / "ldn-cds.db"
    executable = VENV_BIN / "ldn-cds"
    if executable.exists():
        command = [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port)]
    else:
        command = python_command(
            "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)
        )
    env = {"CDS_ENV": "development", "CDS_DATABASE_URL": f"sqlite:///{database}", "WEB_CONCURRENCY": "1"}
    with running_process(command, port=port, ready_path="/cds-services", env=env, timeout=30) as process:
        yield process


@pytest.fixture(scope="session")
def service(service_process) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_process.base_url, timeout=15) as client:
        yield client
