"""``/healthz`` (the process answers), ``/readyz`` (and its database does), ``/metrics``.

Not CDS Hooks endpoints, so no client JWT: load balancers, container health checks and
Prometheus do not carry one. None of them returns patient data. Which port serves
``/metrics`` is decided in ``app/ops/ports.py`` (the admin port, ``CDS_ADMIN_PORT``).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from app.cds.errors import error_response
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
        return error_response(503, "not ready: the database is unreachable")
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    request.state.endpoint = "metrics"
    if not request.app.state.settings.metrics_enabled:
        return error_response(404, "metrics are disabled (CDS_METRICS_ENABLED=false)")
    body = await run_in_threadpool(request.app.state.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
