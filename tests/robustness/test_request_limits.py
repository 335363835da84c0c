"""A body over ``max_request_bytes`` is refused with 413, and the service keeps answering.

The boundary is checked in-process; the refusal itself also against a real uvicorn
worker over loopback sockets, declared (Content-Length) and undeclared (chunked).
"""

from __future__ import annotations

import json
import select
import socket
import time

import httpx
import pytest

from app.main import create_app
from devtools.fixtures import FIXTURE_TODAY
from tests.support.robustness import base_request, judge, post, robust_settings, service_client
from tests.support.servers import serve_in_thread

LIMIT = 64 * 1024
SELECT = "ldn-order-select"


def _padded(size: int) -> bytes:
    """A valid hook request of exactly ``size`` bytes (JSON whitespace as padding)."""
    raw = json.dumps(base_request()).encode()
    assert len(raw) < size, "the base request is larger than the limit under test"
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    with service_client(robust_settings(tmp_path_factory.mktemp("limited"), max_request_bytes=LIMIT)) as client:
        yield client


def test_a_body_of_exactly_the_limit_is_accepted(limited):
    response = post(limited, SELECT, content=_padded(LIMIT))
    assert response.status_code == 200, response.text[:300]
    judge(response)


def test_one_byte_over_the_limit_is_a_413_with_a_json_error(limited):
    response = post(limited, SELECT, content=_padded(LIMIT + 1))
    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-long"  # an OperationOutcome (issue 12)


def test_a_body_over_the_limit_without_a_declared_length_is_a_413(limited):
    payload = _padded(LIMIT + 1)

    def chunks():
        for start in range(0, len(payload), 4096):
            yield payload[start : start + 4096]

    response = limited.post(f"/cds-services/{SELECT}", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_the_feedback_endpoint_has_the_same_limit(limited):
    response = limited.post(
        f"/cds-services/{SELECT}/feedback",
        content=b"[" + b" " * LIMIT + b"]",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.status_code


# ---------------------------------------------------------------- a real worker


def _exchange(port: int, head: bytes, body_chunks, *, timeout: float = 5.0) -> bytes:
    """Send ``head`` then chunks until the server answers; return the status line (b"" if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        deadline = time.monotonic() + timeout
        for chunk in body_chunks:
            if select.select([sock], [], [], 0)[0] or time.monotonic() > deadline:
                break  # the server has answered (or we have sent for long enough)
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            answer = sock.recv(4096)
        except (TimeoutError, ConnectionResetError):
            return b""
        return answer.split(b"\r\n", 1)[0]


def _declared(port: int, declared: int) -> bytes:
    head = (
        f"POST /cds-services/{SELECT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()
    return _exchange(port, head, (b" " * 65536 for _ in range(declared // 65536 + 1)))


def _chunked(port: int, total: int) -> bytes:
    head = (
        f"POST /cds-services/{SELECT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b" " * 16384
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return _exchange(port, head, (frame for _ in range(total // len(piece) + 1)))


def test_a_real_worker_refuses_oversized_bodies_early_and_keeps_answering(tmp_path):
    settings = robust_settings(tmp_path, max_request_bytes=LIMIT)
    good = json.dumps(base_request()).encode()
    with (
        serve_in_thread(create_app(settings, today=lambda: FIXTURE_TODAY), lifespan="on") as server,
        httpx.Client(base_url=server.base_url, timeout=5.0) as client,
    ):
        for _ in range(5):
            began = time.monotonic()
            # 50 MB declared: refused on the header, without reading 50 MB.
            assert _declared(server.port, 50 * 1024 * 1024).startswith(b"HTTP/1.1 413")
            # 4 MB streamed with no declared length: refused once past the limit.
            assert _chunked(server.port, 4 * 1024 * 1024).startswith(b"HTTP/1.1 413")
            assert time.monotonic() - began < 3.0
            response = client.post(
                f"/cds-services/{SELECT}", content=good, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 200, response.text[:300]
            judge(response)
