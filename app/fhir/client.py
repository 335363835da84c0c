"""Reads from the EHR's FHIR server, for prefetch keys the client did not send.

The access token goes only to URLs under the request's ``fhirServer`` base path (same
origin *and* path prefix): reads, ``next`` pages and redirects alike, checked on the URL
as it goes on the wire. Bodies are capped in size, and every read of one hook call
spends from that call's :class:`ReadBudget` (requests, bytes, concurrency).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from app.domain.record import GapReason
from app.security.fhir_trust import FhirAccess

_ACCEPT = "application/fhir+json, application/json;q=0.9"
_MAX_REDIRECTS = 3


class FhirFetchError(Exception):
    def __init__(self, reason: GapReason):
        super().__init__(reason.value)
        self.reason = reason


class ReadBudget:
    """What one hook call may spend on its FHIR server, shared by all its reads.

    ``max_requests`` HTTP requests (pages and redirects count), ``max_bytes`` of response
    bodies in total, at most ``max_concurrent`` requests at a time. A thousand references
    in one prefetch must not become a thousand requests at once: the HTTP client's pool
    bookkeeping alone then starves the event loop for every other caller.
    """

    def __init__(self, *, max_requests: int, max_bytes: int, max_concurrent: int):
        self.requests_left = max_requests
        self.bytes_left = max_bytes
        self.slots = asyncio.Semaphore(max_concurrent)  # held for the whole of one request

    def take_request(self) -> None:
        if self.requests_left <= 0:
            raise FhirFetchError(GapReason.budget)
        self.requests_left -= 1

    def spend_bytes(self, size: int) -> None:
        self.bytes_left -= size
        if self.bytes_left < 0:
            raise FhirFetchError(GapReason.budget)


class FhirClient:
    def __init__(self, http: httpx.AsyncClient, *, max_pages: int, max_response_bytes: int):
        self._http = http
        self._max_pages = max_pages
        self._max_bytes = max_response_bytes

    async def read(self, access: FhirAccess, url: str, budget: ReadBudget) -> dict[str, Any]:
        """GET one resource (or Bundle page) by absolute URL under the access's base."""
        return await self._get_json(access, url, budget)

    async def search(self, access: FhirAccess, relative: str, budget: ReadBudget) -> tuple[list[dict[str, Any]], bool]:
        """Every entry resource of a search, following ``next`` under the access's base.

        Returns the resources and whether the result is complete (False when the page
        cap or the call's budget was reached, or a ``next`` link pointed elsewhere).
        """
        resources: list[dict[str, Any]] = []
        url = access.url(relative)
        seen = {url}
        for page_number in range(self._max_pages):
            try:
                page = await self._get_json(access, url, budget)
            except FhirFetchError as exc:
                if page_number and exc.reason is GapReason.budget:
                    return resources, False  # keep the pages read before the budget ran out
                raise
            if page.get("resourceType") == "OperationOutcome":
                raise FhirFetchError(GapReason.fhir_error)
            resources.extend(bundle_resources(page))
            next_url = _next_link(page)
            if next_url is None:
                return resources, True
            url = urljoin(url, next_url)
            if url in seen or not access.allows(url):
                return resources, False
            seen.add(url)
        return resources, False

    async def _get_json(self, access: FhirAccess, url: str, budget: ReadBudget) -> dict[str, Any]:
        headers = {"Accept": _ACCEPT}
        if access.access_token:
            headers["Authorization"] = f"Bearer {access.access_token}"
        async with budget.slots:
            for _ in range(_MAX_REDIRECTS + 1):
                if not access.allows(url):
                    raise FhirFetchError(GapReason.fhir_error)
                budget.take_request()
                try:
                    async with self._http.stream("GET", url, headers=headers) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        if response.status_code != 200:
                            raise FhirFetchError(GapReason.fhir_error)
                        body = await self._read_capped(response, budget)
                except httpx.TransportError as exc:
                    raise FhirFetchError(GapReason.fhir_unreachable) from exc
                except (httpx.HTTPError, ValueError) as exc:  # bad URL, broken encoding
                    raise FhirFetchError(GapReason.fhir_error) from exc
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    raise FhirFetchError(GapReason.fhir_error) from exc
                if not isinstance(parsed, dict):
                    raise FhirFetchError(GapReason.fhir_error)
                return parsed
        raise FhirFetchError(GapReason.fhir_error)

    async def _read_capped(self, response: httpx.Response, budget: ReadBudget) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise FhirFetchError(GapReason.fhir_error)
            budget.spend_bytes(len(chunk))
            chunks.append(chunk)
        return b"".join(chunks)


def _is_resource(value: Any) -> bool:
    """A JSON object with a string ``resourceType``: anything else is not a resource, and a
    list or object there would break every look-up keyed by type."""
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


def bundle_resources(value: Any) -> list[dict[str, Any]]:
    """The resources of a Bundle (``entry[].resource``), or ``[value]`` for a bare resource."""
    if not _is_resource(value):
        return []
    if value["resourceType"] != "Bundle":
        return [value]
    entries = value.get("entry")
    if not isinstance(entries, list):
        return []
    return [entry["resource"] for entry in entries if isinstance(entry, dict) and _is_resource(entry.get("resource"))]


def _next_link(bundle: dict[str, Any]) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(url := link.get("url"), str):
            return url
    return None
