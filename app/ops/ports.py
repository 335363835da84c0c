"""Two surfaces on two ports: the CDS Hooks API, and an admin port for operators.

``ldn-cds serve`` listens on ``PORT`` and, when ``CDS_ADMIN_PORT`` is set, on that port
too, with the same workers. A request's local port (ASGI ``scope["server"]``) says which
surface it reached:

- admin port: ``/metrics``, ``/healthz`` and ``/readyz`` only; anything else is a 404.
- API port: everything but ``/metrics`` — except in development without an admin port,
  where ``/metrics`` stays on the API port for convenience (development listens on
  loopback only). So production without ``CDS_ADMIN_PORT`` serves no metrics at all.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.cds.errors import error_response
from app.settings import Environment, Settings

ADMIN_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
METRICS_PATH = "/metrics"


def metrics_on_api_port(settings: Settings) -> bool:
    return settings.admin_port is None and settings.env is Environment.development


class PortSurfaces:
    """ASGI middleware: 404 for what the port a request came in on does not serve."""

    def __init__(self, app: ASGIApp, *, admin_port: int | None, metrics_on_api_port: bool):
        self.app = app
        self.admin_port = admin_port
        self.metrics_on_api_port = metrics_on_api_port

    def _served(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        server = scope.get("server")
        on_admin_port = self.admin_port is not None and bool(server and server[1] == self.admin_port)
        if on_admin_port:
            return path in ADMIN_PATHS
        return path != METRICS_PATH or self.metrics_on_api_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._served(scope):
            scope.setdefault("state", {})["endpoint"] = "other"
            await error_response(404, "Not Found")(scope, receive, send)
            return
        await self.app(scope, receive, send)
