"""``/healthz`` (the process answers), ``/readyz`` (and its database does), ``/metrics``.

Not CDS Hooks endpoints, so no client JWT: load balancers, container health checks and
Prometheus do not carry one. None of them returns patient data; restrict ``/metrics``
at the network edge if its numbers are themselves sensitive in your setting.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from app.storage.database import DatabaseError

router = APIRouter(include_in_schema=False)
log = logging.getLogger("ldn_cds.ops")


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    request.state.endpoint = "health"
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    request.state.endpoint = "ready"
    try:
        await run_in_threadpool(request.app.state.database.ping)
    except DatabaseError as exc:
        log.warning("not ready: database unreachable", extra={"error": str(exc)})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    request.state.endpoint = "metrics"
    if not request.app.state.settings.metrics_enabled:
        return JSONResponse({"error": {"status": 404, "message": "metrics are disabled"}}, status_code=404)
    body = await run_in_threadpool(request.app.state.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
