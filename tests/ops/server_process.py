"""``ldn-cds serve`` as a real subprocess (uvicorn, real sockets, real database file), for
tests that kill it, restart it or read its logs."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.support.servers import LOOPBACK, RunningProcess, free_port, running_process


@contextlib.contextmanager
def serve(env: Mapping[str, str], log_path: Path, *, workers: int = 1, timeout: float = 30) -> Iterator[RunningProcess]:
    """The server on a free port, once ``/readyz`` answers; its log kept at ``log_path``."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with running_process(
        command, port=port, ready_path="/readyz", env=env, timeout=timeout, log_path=log_path
    ) as server:
        yield server
