"""At most ``limit`` requests in progress per worker; past it, an immediate 503.

A worker is one event loop: every call it holds costs memory (a body of up to 5 MiB,
parsed several times over) and queues behind the others for the CPU. Past the limit,
a caller learns at once to retry elsewhere, instead of waiting for an answer that
comes after the EHR has given up.

Our own middleware rather than uvicorn's ``limit_concurrency``, which counts open
*connections* (idle keep-alive clients included, so a few slow or idle clients fill it)
and refuses health probes too. Here only requests in progress count, and ``/healthz``,
``/readyz`` and ``/metrics`` always answer: a busy worker is not a dead one, and an
orchestrator must not restart it for being busy.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.cds.errors import error_body

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


class ConcurrencyLimit:
    def __init__(self, app: ASGIApp, *, limit: int):
        self.app = app
        self.limit = limit
        self.in_progress = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            message = f"this worker is answering {self.limit} requests already; retry shortly"
            busy = JSONResponse(error_body(503, message), status_code=503, headers={"Retry-After": "1"})
            await busy(scope, receive, send)
            return
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1
