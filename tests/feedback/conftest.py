from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.feedback.postgres import postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL server for the session (skips with the reason if none can be started)."""
    with postgres_server() as url:
        yield url
