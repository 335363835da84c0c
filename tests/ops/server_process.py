"""``ldn-cds serve`` as a real subprocess (uvicorn, real sockets, real database file), for
tests that kill it, restart it or read its logs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import LOOPBACK, free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServerProcess:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown hooks, no flushing."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextlib.contextmanager
def serve(env: Mapping[str, str], log_path: Path, *, workers: int = 1, timeout: float = 30) -> Iterator[ServerProcess]:
    port = free_port()
    command = [sys.executable, "-m", "app.cli", "serve", "--host", LOOPBACK, "--port", str(port), "--workers", str(workers)]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = ServerProcess(f"http://{LOOPBACK}:{port}", process, log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
            try:
                if httpx.get(server.base_url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after {timeout} s:\n{server.log()}")
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
