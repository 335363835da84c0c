"""What ``ldn-cds serve`` asks of uvicorn: bounded request heads, in size and in time.

uvicorn's default HTTP parser (httptools) takes request heads of any size: a 128 MiB
header, sent by anyone (no login happens before the head is read), is accumulated by
repeated concatenation and holds the worker's event loop. uvicorn's h11 protocol
refuses a head larger than ``h11_max_incomplete_event_size`` (a 400, connection closed).

Neither protocol limits how long a head may take to arrive: a client sending one
header byte every few seconds keeps a connection (and its buffer) for ever. uvicorn has
no setting for it, so :class:`BoundedH11Protocol` adds one: a timer from the first byte
of a request (or from the connection's opening) until its head is complete; the
connection is closed when it fires. (Granian has both limits built in, but moving the
service, its tests, logging and graceful shutdown to another server costs far more
than this one timer.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.settings import Settings, get_settings

PROTOCOL = "app.ops.http_server:BoundedH11Protocol"  # an import string: workers are separate processes


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.run`` that bound request heads."""
    return {"http": PROTOCOL, "h11_max_incomplete_event_size": settings.max_header_bytes}


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a total time limit on receiving each request head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timeout = get_settings().header_read_timeout_seconds
        self._head_timer: asyncio.TimerHandle | None = None

    # uvicorn's H11Protocol narrows asyncio's BaseTransport to Transport (and ignores the same
    # error); the event loop always hands a stream protocol a Transport.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()  # a connection that never sends anything is closed too

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and self.conn.their_state is h11.IDLE:
            self._start_head_timer()  # first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_head_timer()  # the head is complete (or the connection failed)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("request head not complete within %s s: connection closed", self._head_timeout)
            self.transport.close()
