"""Remote JWK Sets, cached; re-read on an unknown ``kid`` at a bounded rate.

Keys rotate, so a token naming a ``kid`` we do not know triggers one re-read of that
issuer's JWKS — but at most once per ``min_refresh_seconds`` per URL, so a stream of
tokens with made-up kids cannot turn us into a load generator against the issuer.
A set older than ``cache_seconds`` is re-read on next use; if that fails the old keys
stay in use (the issuer being briefly down should not lock every clinician out).

Only URLs the trusted-issuers file lists reach this class (the caller checks), it never
follows redirects, and bodies are capped.
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

from app.security.keys import UnusableKey, usable_keys

log = logging.getLogger("ldn_cds.security")


@dataclass
class _Entry:
    keys: dict[str, PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None
    attempted_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class JwksCache:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        cache_seconds: float,
        min_refresh_seconds: float,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._http = http
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    async def key(self, url: str, kid: str) -> PyJWK | None:
        entry = self._entries.get(url)
        if entry is None:
            entry = self._entries[url] = _Entry()
        now = self._clock()
        fresh = entry.fetched_at is not None and now - entry.fetched_at < self._cache_seconds
        if fresh and kid in entry.keys:
            return entry.keys[kid]
        if entry.attempted_at is not None and now - entry.attempted_at < self._min_refresh:
            return entry.keys.get(kid)  # refreshed recently: do not hammer the issuer
        async with entry.lock:
            if entry.attempted_at is not None and entry.attempted_at >= now:
                return entry.keys.get(kid)  # another request refreshed while we waited
            entry.attempted_at = self._clock()
            keys = await self._fetch(url)
            if keys is not None:
                entry.keys = keys
                entry.fetched_at = self._clock()
            return entry.keys.get(kid)

    async def _fetch(self, url: str) -> dict[str, PyJWK] | None:
        try:
            async with self._http.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    log.warning("JWKS fetch failed", extra={"jwks_url": url, "status": response.status_code})
                    return None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        log.warning("JWKS too large", extra={"jwks_url": url})
                        return None
            return usable_keys(orjson.loads(body), strict=False)
        except (httpx.HTTPError, orjson.JSONDecodeError, UnusableKey, ValueError) as exc:
            log.warning("JWKS fetch failed", extra={"jwks_url": url, "error": type(exc).__name__})
            return None
