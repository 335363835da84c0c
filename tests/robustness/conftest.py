"""Robustness suite: hostile input, failing FHIR servers, request limits.

``make test`` runs it with a few examples per property; ``make fuzz`` sets
``LDN_FUZZ_EXAMPLES=10000`` and runs only the tests marked ``fuzz``.

Every test here talks to loopback only: an autouse guard refuses any other
connection, so a fuzzed ``fhirServer`` can never reach the network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.robustness import robust_settings, service_client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: property-based fuzzing; LDN_FUZZ_EXAMPLES sets the number of examples (make fuzz)"
    )


def _is_loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) and address else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every outgoing connection that is not to loopback (the service may be told
    to read any https ``fhirServer`` in development mode)."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"robustness tests stay on loopback, not {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if not _is_loopback(address):
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One in-process service per module (hypothesis runs many examples against it)."""
    with service_client(robust_settings(tmp_path_factory.mktemp("service"))) as client:
        yield client
