"""What ``ldn-cds serve`` asks of uvicorn: bounded request heads, in size and in time.

uvicorn's default HTTP parser (httptools) takes request heads of any size: a 128 MiB
header, sent by anyone (no login happens before the head is read), is accumulated by
repeated concatenation and holds the worker's event loop. uvicorn's h11 protocol
refuses a head larger than ``h11_max_incomplete_event_size`` (a 400, connection closed),
but parses in Python: on a typical 180 KiB hook call it costs the worker about a fifth
of its throughput.

Neither protocol limits how long a head may take to arrive: a client sending one
header byte every few seconds keeps a connection (and its buffer) for ever. uvicorn has
no setting for it.

So :class:`BoundedHttpToolsProtocol` keeps the httptools parser and adds both limits:
the parser is given at most ``max_header_bytes`` of a request until its head is complete
(what does not fit is a 400, connection closed), and a timer runs from the first byte of
a request (or from the connection's opening) until its head is complete (the connection
is closed when it fires). Where httptools is not installed, :class:`BoundedH11Protocol`
gives the same limits on h11. (Granian has both limits built in, but moving the
service, its tests, logging and graceful shutdown to another server costs far more
than these two checks.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.settings import Settings, get_settings

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed (uvicorn without its "standard" extra)
    HttpToolsProtocol = None  # type: ignore[assignment, misc]

# Import strings: workers are separate processes.
PROTOCOL = "app.ops.http_server:BoundedHttpToolsProtocol"
H11_PROTOCOL = "app.ops.http_server:BoundedH11Protocol"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.run`` that bound request heads."""
    if HttpToolsProtocol is not None:
        return {"http": PROTOCOL}
    return {"http": H11_PROTOCOL, "h11_max_incomplete_event_size": settings.max_header_bytes}


class _HeadTimer:
    """A timer from a request's first byte until its head is complete; the connection is
    closed if it fires first. Mixed into a uvicorn protocol, which provides ``loop``,
    ``transport`` and ``logger``; the protocol says when a head is still pending."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    logger: Any
    _head_timeout: float
    _head_timer: asyncio.TimerHandle | None

    def _head_pending(self) -> bool:
        raise NotImplementedError

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_pending() and not self.transport.is_closing():
            self.logger.info("request head not complete within %s s: connection closed", self._head_timeout)
            self.transport.close()


if HttpToolsProtocol is not None:

    class BoundedHttpToolsProtocol(_HeadTimer, HttpToolsProtocol):
        """uvicorn's httptools protocol, with a size and a total time limit on each request head."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            settings = get_settings()
            self._head_timeout = settings.header_read_timeout_seconds
            self._max_head_bytes = settings.max_header_bytes
            self._head_timer: asyncio.TimerHandle | None = None
            self._reading_head = True  # until the head is complete; again after each request
            self._head_bytes = 0  # of the head being read, given to the parser so far

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._start_head_timer()  # a connection that never sends anything is closed too

        def data_received(self, data: bytes) -> None:
            if not self._reading_head:
                super().data_received(data)
                return
            if self._head_timer is None:
                self._start_head_timer()  # first bytes of the next request on a kept-alive connection
            room = self._max_head_bytes - self._head_bytes
            if len(data) <= room:
                self._head_bytes += len(data)
                super().data_received(data)
                return
            # More than the head may still hold: the parser gets only that much, and the
            # head must be complete within it (the rest is then body, or the next request).
            self._head_bytes += room
            super().data_received(data[:room])
            if self.transport.is_closing():
                return  # the parser refused the head already
            if self._reading_head:
                self._stop_head_timer()
                self.logger.info("request head over %s bytes: refused, connection closed", self._max_head_bytes)
                self.send_400_response("Request head too large.")
                return
            super().data_received(data[room:])

        def on_headers_complete(self) -> None:
            self._reading_head = False
            self._stop_head_timer()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._reading_head = True
            self._head_bytes = 0

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_head_timer()
            super().connection_lost(exc)

        def _head_pending(self) -> bool:
            return self._reading_head


class BoundedH11Protocol(_HeadTimer, H11Protocol):
    """uvicorn's h11 protocol, with a total time limit on receiving each request head
    (its size limit is h11's own ``h11_max_incomplete_event_size``)."""

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

    def _head_pending(self) -> bool:
        return self.conn.their_state is h11.IDLE
