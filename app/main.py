"""create_app(): wiring only."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

import httpx
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from app.api.routes import router
from app.cards.templates import load_templates
from app.cds.errors import OperationOutcomeCORSMiddleware, install_error_handlers
from app.feedback.identity import CardIdentity
from app.feedback.store import FeedbackStore
from app.knowledge.terminology import terminology
from app.knowledge.therapies import standard_care
from app.ops.concurrency import ConcurrencyLimit
from app.ops.development import MODE_HEADER, MODE_VALUE, DevelopmentHeader, issuer_warnings
from app.ops.docs import api_app
from app.ops.fhir_metrics import InstrumentedFhirClient
from app.ops.gc_tuning import tune_for_requests
from app.ops.logging import quiet_sensitive_loggers
from app.ops.metrics import Metrics
from app.ops.observe import RequestObserver
from app.ops.ports import PortSurfaces, metrics_on_api_port
from app.ops.routes import router as ops_router
from app.security.auth import Authenticator, audience_bases
from app.security.deployment_secret import load_deployment_secret
from app.security.issuers import build_registry
from app.security.jwks import JwksCache
from app.security.replay import ReplayGuard
from app.services.pipeline import Pipeline
from app.settings import Environment, Settings, get_settings
from app.storage import SCHEMA, open_database

log = logging.getLogger("ldn_cds.startup")

DEVELOPMENT_WARNING = (
    "DEVELOPMENT MODE (CDS_ENV=development): requests WITHOUT a client JWT are ACCEPTED, "
    "the public CDS Hooks sandbox key is trusted, and loopback FHIR servers are read. "
    "Never expose this instance to real patient data; set CDS_ENV=production."
)


def create_app(
    settings: Settings | None = None,
    *,
    today: Callable[[], date] = date.today,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The service. ``today`` dates the clinical rules; ``clock`` (epoch seconds) times card
    identity and snoozes. Tests and benchmarks move both to simulate days passing."""
    settings = settings or get_settings()
    quiet_sensitive_loggers()
    # Fail at start-up, not on a patient: terminology tables, card wording, issuers file and
    # database URL. (A data file missing from the installed package was once a 500 on every
    # LDN order, found only by the container check.)
    terminology()
    standard_care()
    templates = load_templates(settings.cards_dir)
    registry = build_registry(settings)
    database = open_database(settings.database_url, busy_timeout_ms=settings.database_busy_timeout_ms)
    secret = load_deployment_secret(settings)
    metrics = Metrics()
    identity = CardIdentity(
        database,
        ttl_days=settings.issued_card_ttl_days,
        snooze_days=settings.snooze_days,
        snooze_days_default=settings.snooze_days_default,
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(database.migrate, SCHEMA)
        if settings.env is Environment.development:
            log.warning(DEVELOPMENT_WARNING)
        for warning in issuer_warnings(registry):
            log.warning(warning)
        if settings.env is Environment.production and settings.admin_port is None:
            log.warning(
                "CDS_ADMIN_PORT is not set: /metrics is not served (production never serves it on the API port)"
            )
        log.info(
            "starting",
            extra={"env": settings.env.value, "database": database.describe(), "issuers": list(registry.issuers)},
        )
        timeout = httpx.Timeout(settings.fhir_read_timeout_seconds, connect=settings.fhir_connect_timeout_seconds)
        jwks_timeout = httpx.Timeout(settings.jwks_fetch_timeout_seconds)
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http,
            httpx.AsyncClient(timeout=jwks_timeout, follow_redirects=False) as jwks_http,
        ):
            fhir_client = InstrumentedFhirClient(
                http,
                max_pages=settings.fhir_max_pages,
                max_response_bytes=settings.fhir_max_response_bytes,
                metrics=metrics,
            )
            app.state.pipeline = Pipeline(
                settings=settings,
                templates=templates,
                today=today,
                identity=identity,
                secret=secret,
                fhir_client=fhir_client,
            )
            app.state.authenticator = Authenticator(
                registry,
                JwksCache(
                    jwks_http,
                    cache_seconds=settings.jwks_cache_seconds,
                    min_refresh_seconds=settings.jwks_min_refresh_seconds,
                    max_stale_seconds=settings.jwks_max_stale_seconds,
                    fetch_timeout_seconds=settings.jwks_fetch_timeout_seconds,
                    max_bytes=settings.jwks_max_bytes,
                ),
                ReplayGuard(database),
                leeway_seconds=settings.jwt_leeway_seconds,
                max_lifetime_seconds=settings.jwt_max_lifetime_seconds,
            )
            tune_for_requests()
            try:
                yield
            finally:
                database.close()

    # redirect_slashes off: Starlette would answer `/cds-services/` with a redirect whose
    # absolute URL is built from the request's Host header, which the caller chooses.
    app = api_app(settings, title="LDN CDS Hooks service", version="0.1.0", lifespan=lifespan, redirect_slashes=False)
    app.state.settings = settings
    app.state.registry = registry
    app.state.audience_bases = audience_bases(settings)
    app.state.database = database
    app.state.feedback_store = FeedbackStore(database)
    app.state.metrics = metrics
    app.state.identity = identity
    # Browser clients (the sandbox) preflight with OPTIONS and no JWT: CORS answers before
    # any route, so authentication never sees a preflight.
    cors_origins = settings.cors_origins
    if settings.env is Environment.production and "cors_origins" not in settings.model_fields_set:
        cors_origins = []  # EHR calls are server to server; opt in with CDS_CORS_ORIGINS
    development = settings.env is Environment.development
    app.add_middleware(
        OperationOutcomeCORSMiddleware,
        allow_origins=cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=[MODE_HEADER] if development else [],
    )
    # What the request's port serves: /metrics only on the admin port (app/ops/ports.py).
    app.add_middleware(PortSurfaces, admin_port=settings.admin_port, metrics_on_api_port=metrics_on_api_port(settings))
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrent_requests)
    app.add_middleware(RequestObserver, metrics=metrics)  # times and logs everything below it
    if development:
        app.add_middleware(DevelopmentHeader)  # outermost: every response says development mode
        app.state.error_headers = {MODE_HEADER: MODE_VALUE}
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(ops_router)
    return app
