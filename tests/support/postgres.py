"""A throw-away PostgreSQL server for tests: initdb + pg_ctl in a temp dir on a free loopback port.

Skips (with the reason) when the server binaries are missing or the server will not
start. As root, PostgreSQL must run as another user: the Debian package's ``postgres``.
Install on Debian/Ubuntu with ``apt-get install -y postgresql`` (binaries land in
``/usr/lib/postgresql/<version>/bin``, which is searched here).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _server_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True)
    return next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A running server; yields its URL (``postgresql://ldn@127.0.0.1:<port>/postgres``)."""
    bin_dir = _server_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: `apt-get install -y postgresql`")
    run_as: dict[str, int] = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    root = Path(tempfile.mkdtemp(prefix="ldn-cds-pg-"))
    if run_as:
        os.chown(root, run_as["user"], run_as["group"])
    data, log, port = root / "data", root / "server.log", _free_port()

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / args[0]), *args[1:]], capture_output=True, text=True, timeout=timeout, cwd=root, **run_as
        )

    started = False
    try:
        init = run("initdb", "-D", str(data), "-U", "ldn", "--auth=trust", "-E", "UTF8", "--no-sync")
        if init.returncode != 0:
            pytest.skip(f"initdb failed: {init.stderr.strip()[-300:]}")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        start = run("pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "30", "start")
        if start.returncode != 0:
            detail = log.read_text(errors="replace")[-500:] if log.exists() else start.stderr
            pytest.skip(f"PostgreSQL did not start: {detail.strip()}")
        started = True
        yield f"postgresql://ldn@127.0.0.1:{port}/postgres"
    finally:
        if started:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
