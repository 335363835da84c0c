"""Real HTTP servers for tests: subprocesses and in-thread uvicorn, on free loopback ports.

Every server here is started by a context manager that always stops it, and is
only handed out once it answers HTTP (polled, never a fixed sleep).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens (connection refused)."""
    return f"http://{LOOPBACK}:{free_port()}/fhir"


def wait_until_ready(url: str, *, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll ``url`` until it answers with any HTTP status below 500."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"server for {url} exited before it was ready")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last_error = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout} s (last error: {last_error})")


@dataclass
class RunningProcess:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group (workers too): no shutdown hooks, no flushing."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _stop(running: RunningProcess) -> None:
    """SIGTERM the process group, SIGKILL it if it has not exited within 10 s."""
    if running.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(running.process.pid, signal.SIGTERM)
    try:
        running.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        running.kill()


@contextlib.contextmanager
def running_process(
    command: Sequence[str],
    *,
    port: int,
    ready_path: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 20.0,
    log_path: Path | None = None,
) -> Iterator[RunningProcess]:
    """Start ``command`` (which must listen on ``port``), wait until it answers, always stop it.

    The process gets its own process group, so stopping it also stops any workers it
    forked. Its output goes to ``log_path`` (kept), or to a temporary file (removed).
    """
    base_url = f"http://{LOOPBACK}:{port}"
    keep_log = log_path is not None
    if log_path is None:
        with tempfile.NamedTemporaryFile(prefix="ldn-cds-test-", suffix=".log", delete=False) as temporary:
            log_path = Path(temporary.name)
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(command), cwd=PROJECT_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = RunningProcess(base_url=base_url, process=process, log_path=log_path)
    try:
        try:
            wait_until_ready(base_url + ready_path, timeout=timeout, alive=lambda: process.poll() is None)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{' '.join(command)} did not start: {exc}\n--- log ---\n{running.log()}") from exc
        yield running
    finally:
        _stop(running)
        if not keep_log:
            log_path.unlink(missing_ok=True)


def python_command(*args: str) -> list[str]:
    """``args`` run with the project's virtualenv Python (falls back to this interpreter)."""
    python = VENV_BIN / "python"
    return [str(python if python.exists() else Path(sys.executable)), *args]


@contextlib.contextmanager
def serve(env: Mapping[str, str], log_path: Path, *, workers: int = 1, timeout: float = 30) -> Iterator[RunningProcess]:
    """``ldn-cds serve`` as a real subprocess (uvicorn, real sockets, real database file) on a
    free port, once ``/readyz`` answers; its log kept at ``log_path``. For tests that kill it,
    restart it or read its logs."""
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


@dataclass
class ThreadedServer:
    base_url: str
    server: uvicorn.Server
    port: int


@contextlib.contextmanager
def serve_in_thread(app, *, path: str = "", lifespan: str = "off") -> Iterator[ThreadedServer]:
    """Serve an ASGI app with uvicorn on a free loopback port in a daemon thread
    (``lifespan="on"`` for the service itself: one real uvicorn worker).

    The socket is bound before the server starts, so the port cannot be taken
    by someone else in between.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("in-thread server did not start")
            time.sleep(0.01)
        yield ThreadedServer(base_url=f"http://{LOOPBACK}:{port}{path}", server=server, port=port)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@contextlib.contextmanager
def asgi_server(app: Any) -> Iterator[str]:
    """Serve an ASGI app (e.g. the fixture FHIR server) over real HTTP on loopback; its base URL."""
    with serve_in_thread(app) as server:
        yield server.base_url


@contextlib.contextmanager
def silent_tcp_server() -> Iterator[str]:
    """A loopback TCP server that accepts connections and never answers (a hung FHIR server)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(16)
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{listener.getsockname()[1]}/fhir"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        listener.close()
