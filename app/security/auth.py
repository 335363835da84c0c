"""The CDS client's JWT, checked on every discovery, service and feedback call (CDS Hooks 2.0).

Order matters: everything that costs nothing and trusts nothing comes first (header
shape, ``alg``, ``iss`` on the allow-list, ``jku`` on that issuer's list), then the key
(inline, or the issuer's JWKS — never an unlisted URL), then the signature and the
time/audience claims, and only then the ``jti`` write, so that a forged token can
neither make us fetch a URL of its choosing nor burn a legitimate ``jti``.

Why a check fails is written to the log (INFO) only; the public metric counts refusals
without a reason, and the client only ever gets a bare 401.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.cds.errors import ServiceUnavailable, Unauthorized
from app.deadline import Deadline
from app.security.issuers import IssuerRegistry, TrustedIssuer
from app.security.jwks import JwksCache
from app.security.keys import ALLOWED_ALGORITHMS
from app.security.replay import ReplayGuard
from app.security.urls import is_loopback_host
from app.settings import Environment, Settings
from app.storage.database import DatabaseError

log = logging.getLogger("ldn_cds.security")

_MAX_TOKEN_CHARS = 16 * 1024
_MAX_JTI_CHARS = 256
_REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
_NUMERIC_CLAIMS = ("exp", "iat", "nbf")


def _is_json_number(value: object) -> bool:
    """A finite JSON number: not a string of digits, not a boolean, not NaN or Infinity
    (which Python's JSON parser, and so PyJWT, accepts)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class AuthenticationFailed(Exception):
    """Why a token was refused: for metrics and debug logs, never for the client."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """The CDS client a request came from, once its JWT checked out."""

    issuer: TrustedIssuer
    tenant: str | None

    @property
    def iss(self) -> str:
        return self.issuer.iss


class Authenticator:
    def __init__(
        self,
        registry: IssuerRegistry,
        jwks: JwksCache,
        replay: ReplayGuard,
        *,
        leeway_seconds: int,
        max_lifetime_seconds: int,
    ):
        self._registry = registry
        self._jwks = jwks
        self._replay = replay
        self._leeway = leeway_seconds
        self._max_lifetime = max_lifetime_seconds  # unless the issuer's entry sets its own

    async def verify(self, token: str, audience: str | list[str], deadline: Deadline) -> Principal:
        """The principal, or :class:`AuthenticationFailed`; :class:`DatabaseError` if replay state is unreachable.

        A JWKS read waits at most until ``deadline``, the call's deadline for outbound work.
        """
        if len(token) > _MAX_TOKEN_CHARS:
            raise AuthenticationFailed("oversized")
        try:
            header = jwt.get_unverified_header(token)
            unverified: Any = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError):
            raise AuthenticationFailed("malformed") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise AuthenticationFailed("alg")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.upper() != "JWT":
            raise AuthenticationFailed("typ")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationFailed("kid")
        jku = header.get("jku")
        if jku is not None and not isinstance(jku, str):
            raise AuthenticationFailed("jku")

        if not isinstance(unverified, dict):
            raise AuthenticationFailed("malformed")
        if not all(_is_json_number(unverified[c]) for c in _NUMERIC_CLAIMS if c in unverified):
            raise AuthenticationFailed("numeric-claim")  # PyJWT would read "exp": "1700000000" as a number
        issuer = self._registry.get(unverified.get("iss"))
        if issuer is None:
            raise AuthenticationFailed("unknown-iss")
        if jku is not None and not issuer.allows_jku(jku):
            raise AuthenticationFailed("unlisted-jku")  # never fetched

        key = issuer.inline_keys.get(kid)
        if key is None and (url := jku or issuer.jwks_url) is not None:
            key = await self._jwks.key(url, kid, issuer=issuer.iss, deadline=deadline)
        if key is None:
            raise AuthenticationFailed("unknown-kid")
        if key.algorithm_name != algorithm:
            raise AuthenticationFailed("alg-key-mismatch")

        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=audience,
                issuer=issuer.iss,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS, "verify_sub": False},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(f"claims:{type(exc).__name__}") from None

        expires_at = int(claims["exp"])
        # exp - iat, not exp - now: a token issued a day ago with a day to live is refused too.
        lifetime = issuer.max_token_lifetime_seconds or self._max_lifetime
        if claims["exp"] - claims["iat"] > lifetime + self._leeway:
            raise AuthenticationFailed("lifetime")
        tenant = claims.get("tenant")
        if tenant is not None and not isinstance(tenant, str):
            raise AuthenticationFailed("tenant")
        if issuer.tenants is not None and tenant not in issuer.tenants:
            raise AuthenticationFailed("tenant")
        jti = claims["jti"]
        if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI_CHARS:
            raise AuthenticationFailed("jti")
        if not await run_in_threadpool(self._replay.first_use, issuer.iss, jti, expires_at + self._leeway):
            raise AuthenticationFailed("replay")
        return Principal(issuer=issuer, tenant=tenant)


def audience_bases(settings: Settings) -> tuple[str, ...]:
    """Base URLs a token's ``aud`` may start with: ``CDS_PUBLIC_BASE_URL``.

    In development, also its loopback aliases (``localhost``, ``127.0.0.1``, ``[::1]``,
    same scheme and port): the sandbox signs whatever URL the user typed, and
    ``localhost`` versus ``127.0.0.1`` should not be a silent 401 on a laptop.
    """
    base = settings.public_base_url.rstrip("/")
    bases = [base]
    parts = urlsplit(base)
    if settings.env is Environment.development and parts.hostname and is_loopback_host(parts.hostname):
        port = f":{parts.port}" if parts.port else ""
        for host in ("localhost", "127.0.0.1", "[::1]"):
            alias = urlunsplit((parts.scheme, host + port, parts.path, "", ""))
            if alias not in bases:
                bases.append(alias)
    return tuple(bases)


def bearer_token(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


async def authenticate(request: Request, path: str, deadline: Deadline) -> Principal | None:
    """Check the request's JWT against ``CDS_PUBLIC_BASE_URL + path`` (see :func:`audience_bases`).

    A JWKS read is part of the call's outbound work and waits at most until ``deadline``.

    ``None`` only in development mode, for a request with no Authorization header.
    A header that is present is always verified. Raises :class:`Unauthorized` (a bare
    401) on any failure, :class:`ServiceUnavailable` if replay state cannot be written.
    """
    state = request.app.state
    settings = state.settings
    header = request.headers.get("authorization")
    if header is None and settings.env is Environment.development:
        return None
    try:
        token = bearer_token(header or "")
        if token is None:
            raise AuthenticationFailed("no-bearer-token")
        audience = [base + path for base in state.audience_bases]
        authenticator: Authenticator = state.authenticator  # built in the lifespan
        principal = await authenticator.verify(token, audience, deadline)
    except AuthenticationFailed as failure:
        # Counted without the reason: /metrics is public, and "unknown-iss" versus
        # "unknown-kid" would tell an outsider which issuers and key ids are trusted.
        state.metrics.auth_failures.inc()
        log.info("client JWT refused", extra={"reason": failure.reason})
        raise Unauthorized from None
    except DatabaseError as exc:
        log.error("replay check unavailable", extra={"error": str(exc)})
        raise ServiceUnavailable("the service cannot check request replay right now") from None
    request.state.iss = principal.iss
    return principal
