"""create_app(): wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.cards.templates import load_templates
from app.fhir.client import FhirClient
from app.protocol.errors import install_error_handlers
from app.protocol.routes import router
from app.services.pipeline import Pipeline
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, today: Callable[[], date] = date.today) -> FastAPI:
    settings = settings or get_settings()
    templates = load_templates(settings.cards_dir)  # fail at start-up, not on a patient

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(
            settings.fhir_read_timeout_seconds, connect=settings.fhir_connect_timeout_seconds
        )
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            app.state.fhir_client = FhirClient(
                http, max_pages=settings.fhir_max_pages, max_response_bytes=settings.fhir_max_response_bytes
            )
            yield

    app = FastAPI(title="LDN CDS Hooks service", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.pipeline = Pipeline(settings=settings, templates=templates, today=today)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
    )
    install_error_handlers(app)
    app.include_router(router)
    return app
