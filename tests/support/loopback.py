"""A hostile FHIR server on 127.0.0.1 for the robustness tests, in its own thread and event loop.

``HostileFhirServer``: a raw asyncio HTTP/1.1 server that fails on purpose. The first
path segment picks the failure (``http://127.0.0.1:<port>/<mode>`` is the fhirServer),
so one server answers every mode. Raw sockets, not a framework, because some failures
(resets, truncated bodies, a non-HTTP reply) cannot be produced through one.

Every wait is bounded: no mode holds a connection longer than ``HOLD_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.support.servers import LOOPBACK

HOLD_SECONDS = 8.0  # the longest any mode keeps a client waiting


# ------------------------------------------------------------------ the hostile FHIR server


@dataclass
class Seen:
    """One request as the hostile server received it."""

    port: int
    mode: str
    target: str
    authorization: str | None
    received_at: float
    client_gone_after: float | None = None  # seconds until the client hung up, for held connections


@dataclass
class _Request:
    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def mode(self) -> str:
        parts = self.path.split("/")
        return parts[1] if len(parts) > 1 else ""

    @property
    def fhir_path(self) -> str:
        """What follows the mode: ``/MedicationRequest`` or ``/Medication/7``."""
        return "/" + "/".join(self.path.split("/")[2:])


Handler = Callable[["HostileFhirServer", _Request, asyncio.StreamReader, asyncio.StreamWriter, Seen], Awaitable[bool]]

FHIR_JSON = "application/fhir+json"


def _response(
    status: int, body: bytes = b"", content_type: str = FHIR_JSON, extra: dict[str, str] | None = None
) -> bytes:
    reason = {
        200: "OK",
        302: "Found",
        307: "Temporary Redirect",
        401: "Unauthorized",
        404: "Not Found",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }.get(status, "Status")
    headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **(extra or {})}
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _outcome(text: str) -> bytes:
    return _json(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception", "diagnostics": text}]}
    )


def _empty_searchset(links: list[dict[str, str]] | None = None) -> bytes:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}
    if links:
        bundle["link"] = links
    return _json(bundle)


async def _hold_until_client_leaves(reader: asyncio.StreamReader, seen: Seen, seconds: float = HOLD_SECONDS) -> None:
    """Wait (bounded) for the client to hang up, and note when it did."""
    began = time.monotonic()
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
        while time.monotonic() - began < seconds:
            chunk = await asyncio.wait_for(reader.read(65536), timeout=seconds - (time.monotonic() - began))
            if not chunk:
                seen.client_gone_after = time.monotonic() - began
                return


async def _ok(server, request, reader, writer, seen) -> bool:
    """A correct, empty FHIR server: searches find nothing, reads find nothing."""
    if "?" in request.target or request.fhir_path.count("/") == 1:
        writer.write(_response(200, _empty_searchset()))
    else:
        writer.write(_response(404, _outcome("not found")))
    return True


async def _slow(server, request, reader, writer, seen) -> bool:
    """Accepts the request, then says nothing for longer than any deadline."""
    await _hold_until_client_leaves(reader, seen)
    return False


async def _trickle(server, request, reader, writer, seen) -> bool:
    """Headers at once, then one byte of body every 50 ms: no single read ever times out."""
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: {FHIR_JSON}\r\nContent-Length: 100000\r\n\r\n".encode())
    began = time.monotonic()
    try:
        while time.monotonic() - began < HOLD_SECONDS:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)
    except ConnectionError:
        seen.client_gone_after = time.monotonic() - began
    return False


def _status(status: int, body: bytes, content_type: str = FHIR_JSON, extra: dict[str, str] | None = None) -> Handler:
    async def handler(server, request, reader, writer, seen) -> bool:
        writer.write(_response(status, body, content_type, extra))
        return True

    return handler


async def _reset(server, request, reader, writer, seen) -> bool:
    """Drops the connection with a TCP reset, no response."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return False


async def _close(server, request, reader, writer, seen) -> bool:
    """Closes the connection cleanly without a response."""
    return False


async def _truncated(server, request, reader, writer, seen) -> bool:
    """Promises 5,000 bytes of JSON, sends 40, closes."""
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: {FHIR_JSON}\r\nContent-Length: 5000\r\n\r\n".encode())
    writer.write(b'{"resourceType": "Bundle", "entry": [{"r')
    await writer.drain()
    return False


async def _not_http(server, request, reader, writer, seen) -> bool:
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\nProtocol mismatch.\r\n")
    await writer.drain()
    return False


async def _redirect_loop(server, request, reader, writer, seen) -> bool:
    writer.write(_response(302, b"", extra={"Location": request.target}))
    return True


async def _redirect_chain(server, request, reader, writer, seen) -> bool:
    """Every answer redirects to a new URL on the same origin, forever."""
    hop = int(
        dict(p.split("=", 1) for p in (urlsplit(request.target).query or "hop=0").split("&") if "=" in p).get("hop", 0)
    )
    writer.write(_response(302, b"", extra={"Location": f"{request.path}?hop={hop + 1}"}))
    return True


async def _redirect_away(server, request, reader, writer, seen) -> bool:
    """Redirects to another origin (the server's second port), which must never see the token."""
    writer.write(
        _response(307, b"", extra={"Location": f"http://{LOOPBACK}:{server.other_port}/ok{request.fhir_path}"})
    )
    return True


async def _endless_next(server, request, reader, writer, seen) -> bool:
    """A searchset whose every page links to one more page."""
    page = int(
        dict(p.split("=", 1) for p in (urlsplit(request.target).query or "").split("&") if "=" in p).get("page", 0)
    )
    links = [{"relation": "next", "url": f"http://{LOOPBACK}:{server.port}{request.path}?page={page + 1}"}]
    writer.write(_response(200, _empty_searchset(links)))
    return True


async def _slow_endless_next(server, request, reader, writer, seen) -> bool:
    await asyncio.sleep(0.1)
    return await _endless_next(server, request, reader, writer, seen)


async def _redirect_up(server, request, reader, writer, seen) -> bool:
    """Redirects to the same origin but outside the base path (another tenant's FHIR base)."""
    writer.write(_response(307, b"", extra={"Location": f"/other-tenant{request.fhir_path}"}))
    return True


async def _next_up(server, request, reader, writer, seen) -> bool:
    """A searchset whose next link leaves the base path on the same origin."""
    links = [{"relation": "next", "url": f"http://{LOOPBACK}:{server.port}/other-tenant{request.fhir_path}?page=1"}]
    writer.write(_response(200, _empty_searchset(links)))
    return True


async def _fat_pages(server, request, reader, writer, seen) -> bool:
    """Valid searchset pages of 1 MiB each (padding in an extension), each linking to one more."""
    page = int(
        dict(p.split("=", 1) for p in (urlsplit(request.target).query or "").split("&") if "=" in p).get("page", 0)
    )
    bundle = json.loads(_empty_searchset([{"relation": "next", "url": f"{request.path}?page={page + 1}"}]))
    bundle["extension"] = [{"url": "urn:padding", "valueString": "x" * (1024 * 1024)}]
    writer.write(_response(200, _json(bundle)))
    return True


async def _next_away(server, request, reader, writer, seen) -> bool:
    links = [{"relation": "next", "url": f"http://{LOOPBACK}:{server.other_port}/ok{request.fhir_path}?page=1"}]
    writer.write(_response(200, _empty_searchset(links)))
    return True


async def _huge(server, request, reader, writer, seen) -> bool:
    """A 200 whose JSON body is 3 MiB of padding, sent in chunks."""
    size = 3 * 1024 * 1024
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: {FHIR_JSON}\r\nContent-Length: {size}\r\n\r\n".encode())
    chunk = b" " * 65536
    try:
        for _ in range(size // len(chunk)):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    return False


_GARBAGE_BUNDLE = _json(
    {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": "next",
        "entry": ["x", 5, None, {"resource": "MedicationRequest"}, {"resource": {"resourceType": 7}}, {"resource": []}],
    }
)

MODES: dict[str, Handler] = {
    "ok": _ok,
    "slow": _slow,
    "trickle": _trickle,
    "error-500": _status(500, _outcome("boom")),
    "error-503": _status(503, b"<html>busy</html>", "text/html", {"Retry-After": "1"}),
    "unauthorized": _status(401, _outcome("no token"), extra={"WWW-Authenticate": "Bearer"}),
    "garbage": _status(200, b"\x00\xff{{{ not json at all"),
    "html": _status(200, b"<html><body>Login</body></html>", "text/html"),
    "json-array": _status(200, b"[1, 2, 3]"),
    "outcome-200": _status(200, _outcome("search failed")),
    "garbage-bundle": _status(200, _GARBAGE_BUNDLE),
    "reset": _reset,
    "close": _close,
    "truncated": _truncated,
    "not-http": _not_http,
    "redirect-loop": _redirect_loop,
    "redirect-chain": _redirect_chain,
    "redirect-away": _redirect_away,
    "endless-next": _endless_next,
    "slow-endless-next": _slow_endless_next,
    "next-away": _next_away,
    "redirect-up": _redirect_up,
    "fat-pages": _fat_pages,
    "next-up": _next_up,
    "huge": _huge,
}


@dataclass
class HostileFhirServer:
    """``with HostileFhirServer() as fhir: fhir.url("slow")``; ``fhir.seen`` lists what arrived."""

    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    other_port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hostile-fhir", daemon=True)
        self._servers: list[asyncio.base_events.Server] = []
        self._lock = threading.Lock()

    def url(self, mode: str) -> str:
        return f"http://{LOOPBACK}:{self.port}/{mode}"

    def requests_for(self, mode: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.mode == mode]

    def on_other_port(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.port == self.other_port]

    def __enter__(self) -> HostileFhirServer:
        self._thread.start()

        async def start() -> None:
            for _ in range(2):
                server = await asyncio.start_server(self._handle, LOOPBACK, 0, limit=1 << 20)
                self._servers.append(server)
            self.port = self._servers[0].sockets[0].getsockname()[1]
            self.other_port = self._servers[1].sockets[0].getsockname()[1]

        asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            for _ in range(1000):  # keep-alive, bounded
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=HOLD_SECONDS)
                except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                request = _Request(method, target, headers)
                seen = Seen(port, request.mode, target, headers.get("authorization"), time.monotonic())
                with self._lock:
                    self.seen.append(seen)
                handler = MODES.get(request.mode, _status(404, _outcome(f"no mode {request.mode!r}")))
                keep_open = await handler(self, request, reader, writer, seen)
                await writer.drain()
                if not keep_open:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            if not writer.transport.is_closing():
                writer.close()
