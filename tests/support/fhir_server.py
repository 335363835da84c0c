"""The project's fixture FHIR server (devtools.fhir_server) served over real HTTP in a thread."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from devtools.fhir_server import FhirServerConfig, FixtureStore, create_fhir_app
from tests.support.servers import serve_in_thread

# The bearer token the test FHIR servers demand (API tests and integration tests).
FHIR_TOKEN = "test-fhir-bearer-token"


@dataclass
class FhirServer:
    base_url: str
    config: FhirServerConfig

    def reset(self) -> None:
        self.config.seen_authorization.clear()
        self.config.seen_paths.clear()

    @property
    def searched_types(self) -> list[str]:
        """Resource types searched (not read), in request order."""
        return [p.split("?")[0].strip("/").split("/")[0] for p in self.config.seen_paths if "?" in p]


@contextlib.contextmanager
def fhir_server_running(config: FhirServerConfig, store: FixtureStore | None = None) -> Iterator[FhirServer]:
    with serve_in_thread(create_fhir_app(config, store)) as server:
        yield FhirServer(base_url=server.base_url, config=config)
