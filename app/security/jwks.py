"""Remote JWK Sets, cached; re-read on an unknown ``kid`` at a bounded rate; bounded in time and age.

Keys rotate, so a token naming a ``kid`` we do not know triggers one re-read of that
issuer's JWKS — but at most once per ``min_refresh_seconds`` per URL, so a stream of
tokens with made-up kids cannot turn us into a load generator against the issuer.
A set older than ``cache_seconds`` is re-read on next use; if that fails the old keys
stay in use (the issuer being briefly down should not lock every clinician out), but
only until ``max_stale_seconds`` after the last successful read: a key the issuer
withdrew during a long outage must not stay trusted for ever.

A fetch is bounded in *total* time (``fetch_timeout_seconds``), not per read: a server
sending one byte a second cannot hold it. Concurrent callers share one fetch, each
waiting at most until its own call's deadline. Only URLs the trusted-issuers file
lists reach this class (the caller checks), it never follows redirects, and bodies
are capped. A key that cannot be used is skipped with a warning naming issuer and kid.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import orjson
from jwt import PyJWK

from app.deadline import Deadline
from app.security.keys import KeySet, UnusableKey, read_jwks

log = logging.getLogger("ldn_cds.security")


@dataclass
class _Entry:
    keys: dict[str, PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None  # last successful read
    attempted_at: float | None = None
    refresh: asyncio.Task[None] | None = None  # the read in flight, shared by every caller


class JwksCache:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        cache_seconds: float,
        min_refresh_seconds: float,
        max_stale_seconds: float,
        fetch_timeout_seconds: float,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._http = http
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._max_stale = max_stale_seconds
        self._fetch_timeout = fetch_timeout_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    async def key(self, url: str, kid: str, *, issuer: str, deadline: Deadline) -> PyJWK | None:
        """The key ``kid`` of the set at ``url`` (``issuer``'s), or ``None``.

        Waits for a re-read at most until ``deadline``; a read still running then goes on
        (bounded by the fetch timeout) for the callers after this one.
        """
        entry = self._entries.setdefault(url, _Entry())
        now = self._clock()
        if self._expired(entry, now):
            if entry.keys:
                log.warning(
                    "JWKS keys expired: not re-read successfully for longer than the maximum stale age",
                    extra={"iss": issuer, "jwks_url": url},
                )
            entry.keys = {}
        fresh = entry.fetched_at is not None and now - entry.fetched_at < self._cache_seconds
        if fresh and kid in entry.keys:
            return entry.keys[kid]
        recently_tried = entry.attempted_at is not None and now - entry.attempted_at < self._min_refresh
        if not recently_tried and (entry.refresh is None or entry.refresh.done()):
            entry.attempted_at = now
            entry.refresh = asyncio.ensure_future(self._refresh(url, issuer, entry))
        if entry.refresh is not None and not entry.refresh.done():
            try:
                await asyncio.wait_for(asyncio.shield(entry.refresh), deadline.remaining())
            except TimeoutError:
                log.warning("JWKS read not finished within the call's deadline", extra={"iss": issuer, "jwks_url": url})
        return entry.keys.get(kid)

    def _expired(self, entry: _Entry, now: float) -> bool:
        return entry.fetched_at is not None and now - entry.fetched_at > self._max_stale

    async def _refresh(self, url: str, issuer: str, entry: _Entry) -> None:
        try:
            async with asyncio.timeout(self._fetch_timeout):
                found = await self._fetch(url, issuer)
        except TimeoutError:
            log.warning("JWKS fetch failed", extra={"iss": issuer, "jwks_url": url, "error": "total timeout"})
            return
        if found is not None:
            entry.keys = found.keys
            entry.fetched_at = self._clock()
            for skipped in found.skipped:
                log.warning(
                    "JWKS of issuer %r: key %r skipped: %s",
                    issuer,
                    skipped.kid,
                    skipped.reason,
                    extra={"iss": issuer, "kid": skipped.kid, "jwks_url": url},
                )

    async def _fetch(self, url: str, issuer: str) -> KeySet | None:
        try:
            async with self._http.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    log.warning(
                        "JWKS fetch failed", extra={"iss": issuer, "jwks_url": url, "status": response.status_code}
                    )
                    return None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        log.warning("JWKS too large", extra={"iss": issuer, "jwks_url": url})
                        return None
            return read_jwks(orjson.loads(body))
        except (httpx.HTTPError, orjson.JSONDecodeError, UnusableKey, ValueError) as exc:
            log.warning("JWKS fetch failed", extra={"iss": issuer, "jwks_url": url, "error": type(exc).__name__})
            return None
