"""The FHIR fallback client, counted: calls, failures by reason, and duration.

A subclass rather than a hook inside ``app/fhir/client.py`` so that the FHIR client
stays free of operations concerns; ``create_app`` builds this one instead of the plain
client. One search counts once, however many ``next`` pages it follows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx

from app.fhir.client import FhirClient, FhirFetchError, ReadBudget
from app.ops.metrics import Metrics
from app.security.fhir_trust import FhirAccess

T = TypeVar("T")


class InstrumentedFhirClient(FhirClient):
    def __init__(self, http: httpx.AsyncClient, *, metrics: Metrics, **options: Any):
        super().__init__(http, **options)  # FhirClient's own options, passed through unchanged
        self._metrics = metrics

    async def read(self, access: FhirAccess, url: str, budget: ReadBudget) -> dict[str, Any]:
        return await self._observe("read", super().read(access, url, budget))

    async def search(self, access: FhirAccess, relative: str, budget: ReadBudget) -> tuple[list[dict[str, Any]], bool]:
        resources, complete = await self._observe("search", super().search(access, relative, budget))
        if not complete:
            self._metrics.fhir_failures.labels(operation="search", reason="incomplete").inc()
        return resources, complete

    async def _observe(self, operation: str, call: Awaitable[T]) -> T:
        metrics = self._metrics
        metrics.fhir_calls.labels(operation=operation).inc()
        started = time.perf_counter()
        try:
            return await call
        except FhirFetchError as exc:
            metrics.fhir_failures.labels(operation=operation, reason=exc.reason.value).inc()
            raise
        except asyncio.CancelledError:  # the record-assembly deadline cut it short
            metrics.fhir_failures.labels(operation=operation, reason="deadline").inc()
            raise
        except Exception:
            metrics.fhir_failures.labels(operation=operation, reason="error").inc()
            raise
        finally:
            metrics.fhir_seconds.labels(operation=operation).observe(time.perf_counter() - started)
