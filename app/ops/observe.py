"""One JSON log line and the request metrics for every HTTP request.

A plain ASGI middleware (no body buffering, nothing per-chunk). Route handlers put what
they know — endpoint, service id, hookInstance, card count, issuer — into the request
state (``scope["state"]``); this reads it once the response has been sent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.ops.metrics import Metrics

log = logging.getLogger("ldn_cds.request")

_QUIET_ENDPOINTS = frozenset({"health", "ready", "metrics"})
_LOGGED_FIELDS = ("hook_instance", "cards", "feedback_items", "iss")


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            endpoint = state.get("endpoint", "other")
            service = state.get("service", "")
            self.metrics.request_seconds.labels(endpoint=endpoint, service=service).observe(elapsed)
            self.metrics.requests.labels(endpoint=endpoint, service=service, status=str(status)).inc()
            fields: dict[str, Any] = {
                "method": scope.get("method"),
                "endpoint": endpoint,
                "status": status,
                "latency_ms": round(elapsed * 1000, 2),
            }
            if service:
                fields["service"] = service
            fields.update({key: state[key] for key in _LOGGED_FIELDS if key in state})
            level = logging.DEBUG if endpoint in _QUIET_ENDPOINTS else logging.INFO
            log.log(level, "request", extra=fields)
