"""Server limits of ``ldn-cds serve`` (issue 11), against the real process over loopback sockets:
request-head size and time, body time, and requests in progress per worker.

Limits are set low through the environment so each attack is cut off in about a second;
the bounds asserted are generous multiples of them (the machine is shared), and every
test checks that the worker still answers afterwards.
"""

from __future__ import annotations

import concurrent.futures
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.conformance import error_message
from tests.support.loopback import HostileFhirServer
from tests.support.robustness import base_request
from tests.support.servers import LOOPBACK, RunningProcess, serve

HEADER_LIMIT = 8 * 1024
HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
CONCURRENCY = 2
DEADLINE = 2.0
SELECT = "/cds-services/ldn-order-select"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    directory: Path = tmp_path_factory.mktemp("limits")
    env = {
        "CDS_ENV": "development",
        "CDS_DATABASE_URL": f"sqlite:///{directory}/cds.db",
        "CDS_MAX_HEADER_BYTES": str(HEADER_LIMIT),
        "CDS_HEADER_READ_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
        "CDS_BODY_READ_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "CDS_MAX_CONCURRENT_REQUESTS": str(CONCURRENCY),
        "CDS_FHIR_DEADLINE_SECONDS": str(DEADLINE),
    }
    with serve(env, directory / "server.log") as running:
        yield running


def port_of(server: RunningProcess) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def healthy(server: RunningProcess) -> bool:
    return httpx.get(server.base_url + "/healthz", timeout=5).status_code == 200


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection; and when that was."""
    started = time.monotonic()
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received, time.monotonic() - started


# ------------------------------------------------------------------ request head size


def test_a_head_just_under_the_limit_is_served(server: RunningProcess) -> None:
    padding = "x" * (HEADER_LIMIT - 512)
    assert httpx.get(server.base_url + "/healthz", headers={"X-Padding": padding}, timeout=5).status_code == 200


def test_a_huge_header_is_refused_before_it_is_read_and_the_worker_keeps_answering(server: RunningProcess) -> None:
    """64 MiB offered (no login is needed to send a head); refused after the first few KiB."""
    with socket.create_connection((LOOPBACK, port_of(server)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: ")
        sent, chunk = 0, b"a" * 65536
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer, _ = read_until_closed(sock, 5)
    assert sent < 16 * 1024 * 1024, f"the server read {sent // 1024} KiB of one header"
    assert answer.startswith(b"HTTP/1.1 400") or answer == b""
    assert healthy(server)


def test_a_head_over_the_limit_in_one_packet_with_its_body_is_refused(server: RunningProcess) -> None:
    padding = b"x" * HEADER_LIMIT
    head = f"POST {SELECT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Padding: ".encode()
    with socket.create_connection((LOOPBACK, port_of(server)), timeout=10) as sock:
        sock.sendall(head + padding + b"\r\n\r\n{}")
        answer, _ = read_until_closed(sock, 5)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert healthy(server)


def test_a_head_under_the_limit_sent_with_a_large_body_in_one_write_is_served(server: RunningProcess) -> None:
    """The head limit counts the head only: a body in the same packets (the usual case) is not head."""
    body = json.dumps(base_request()).encode()
    body += b" " * max(0, 4 * HEADER_LIMIT - len(body))  # trailing whitespace: still the same JSON
    padding = b"x" * (HEADER_LIMIT - 1024)
    head = (
        f"POST {SELECT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\nX-Padding: "
    ).encode()
    with socket.create_connection((LOOPBACK, port_of(server)), timeout=10) as sock:
        sock.sendall(head + padding + b"\r\n\r\n" + body)
        answer, _ = read_until_closed(sock, 10)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert b'"cards"' in answer


# ------------------------------------------------------------------ request head time


def test_a_head_trickled_byte_by_byte_is_cut_off_at_the_head_timeout(server: RunningProcess) -> None:
    with socket.create_connection((LOOPBACK, port_of(server)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed_after = None
        while time.monotonic() - started < 10:
            try:
                sock.sendall(b"X")  # one byte of a header that never ends, every 100 ms
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            time.sleep(0.1)
    assert closed_after is not None and closed_after < HEAD_TIMEOUT + 3, closed_after
    assert healthy(server)


def test_a_connection_that_sends_nothing_is_closed_at_the_head_timeout(server: RunningProcess) -> None:
    with socket.create_connection((LOOPBACK, port_of(server)), timeout=10) as sock:
        answer, seconds = read_until_closed(sock, 10)
    assert answer == b"" and seconds < HEAD_TIMEOUT + 3, seconds


def test_keep_alive_still_works_for_heads_that_arrive_in_time(server: RunningProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            time.sleep(HEAD_TIMEOUT / 2)


# ------------------------------------------------------------------ body time


def test_a_body_trickled_byte_by_byte_is_a_408_at_the_body_timeout(server: RunningProcess) -> None:
    head = f"POST {SELECT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    with socket.create_connection((LOOPBACK, port_of(server)), timeout=10) as sock:
        sock.sendall(head.encode())
        started, answer = time.monotonic(), b""
        sock.settimeout(0.1)
        while time.monotonic() - started < 10 and not answer:
            try:
                sock.sendall(b" ")
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        seconds = time.monotonic() - started
        rest, _ = read_until_closed(sock, 5)  # the 408 says "Connection: close"
        answer += rest
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"request body not received" in answer
    assert seconds < BODY_TIMEOUT + 3, seconds
    assert healthy(server)


# ------------------------------------------------------------------ requests in progress


def test_past_the_concurrency_limit_a_call_gets_503_at_once_while_health_probes_answer(server: RunningProcess) -> None:
    """Two calls wait on a FHIR server that never answers (until the 2 s deadline); a third
    is refused at once; /healthz and /readyz answer throughout; afterwards calls succeed."""
    with HostileFhirServer() as fhir:
        held = json.dumps(base_request(with_prefetch=False, fhir_server=fhir.url("slow"), access_token="t")).encode()
        headers = {"Content-Type": "application/json"}

        def call() -> int:
            return httpx.post(server.base_url + SELECT, content=held, headers=headers, timeout=15).status_code

        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            running = [pool.submit(call) for _ in range(CONCURRENCY)]
            deadline = time.monotonic() + 5
            while len(fhir.requests_for("slow")) < CONCURRENCY * 4 and time.monotonic() < deadline:
                time.sleep(0.02)  # until both calls are waiting on the FHIR server
            # A call that needs no FHIR server at all: a 200 if it were queued, not refused.
            refused = httpx.post(
                server.base_url + SELECT, content=json.dumps(base_request()).encode(), headers=headers, timeout=15
            )
            probes = [httpx.get(server.base_url + path, timeout=5).status_code for path in ("/healthz", "/readyz")]
            assert [f.result() for f in running] == [200] * CONCURRENCY
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "retry" in error_message(refused.json())
    assert probes == [200, 200]
    assert httpx.post(server.base_url + SELECT, json=base_request(), timeout=15).status_code == 200
