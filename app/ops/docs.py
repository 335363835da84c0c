"""``/docs``, ``/redoc`` and ``/openapi.json``: off unless ``CDS_API_DOCS`` (or development) turns them on.

When on, Swagger UI and ReDoc load their scripts and styles from this service
(``/static-offline-docs/…``, files shipped in the ``fastapi-offline`` package), never from
a CDN: a hospital network without internet access still shows the pages.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app.settings import Settings

DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


def api_app(settings: Settings, **options: Any) -> FastAPI:
    if settings.api_docs_enabled:
        return FastAPIOffline(docs_url="/docs", redoc_url="/redoc", **options)
    return FastAPI(openapi_url=None, docs_url=None, redoc_url=None, **options)
