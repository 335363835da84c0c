"""Real server processes on loopback: started, awaited, measured (/proc), stopped by pid."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stats import proc_status_kib

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ServerProcess:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mib(self) -> float | None:
        kib = proc_status_kib(self.pid, "VmRSS")
        return kib / 1024 if kib is not None else None

    def peak_rss_mib(self) -> float | None:
        kib = proc_status_kib(self.pid, "VmHWM")
        return kib / 1024 if kib is not None else None

    def wait_ready(self, probe: bytes, timeout: float = 30.0) -> None:
        """Until the server answers ``probe`` (a full HTTP request) with any status line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as conn:
                    conn.sendall(probe)
                    if conn.recv(16).startswith(b"HTTP/1.1"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not answer within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_uvicorn(name: str, app: str, log_dir: Path, env: dict[str, str] | None = None) -> ServerProcess:
    """``uvicorn <app> --factory`` on a free loopback port, one worker, no access log.

    (Not ``--fd``: uvicorn wraps an inherited fd as a UNIX socket, which leaves Nagle
    on for TCP connections and adds ~40 ms delayed-ACK stalls to every response.)
    """
    port = free_port()
    log_path = log_dir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
    return ServerProcess(name=name, process=process, port=port, log_path=log_path)


def start_module(name: str, module: str, args: list[str], port: int, log_dir: Path) -> ServerProcess:
    """``python -m <module> <args>`` that listens on ``port`` by itself."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    return ServerProcess(name=name, process=process, port=port, log_path=log_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
