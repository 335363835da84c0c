"""Development mode (``CDS_ENV=development``) made hard to deploy by accident.

- It listens on loopback only: ``ldn-cds serve --host 0.0.0.0`` refuses to start unless
  ``CDS_ALLOW_INSECURE_DEV_ON_NETWORK=1`` (:func:`bind_refusal`).
- Every response carries ``X-CDS-Mode: development`` (:class:`DevelopmentHeader`).
- ``ldn-cds serve`` prints :func:`banner`, which says what is not checked.

Also here: the start-up warning for a trusted-issuers entry that takes over the sandbox's
``iss`` without the ``jku`` the sandbox signs with (:func:`issuer_warnings`).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.security.issuers import SANDBOX_ISSUER, SANDBOX_JKU, IssuerRegistry
from app.security.urls import is_loopback_host
from app.settings import Environment, Settings

MODE_HEADER = "X-CDS-Mode"
MODE_VALUE = "development"


def bind_refusal(settings: Settings, host: str) -> str | None:
    """Why development mode must not listen on ``host``, or ``None`` if it may."""
    if settings.env is not Environment.development or settings.allow_insecure_dev_on_network:
        return None
    if host and is_loopback_host(host):
        return None
    return (
        f"CDS_ENV=development listens on loopback only, not on {host or 'every interface'!r}: "
        "development mode accepts calls without a JWT and trusts the public sandbox key. "
        "Use --host 127.0.0.1, or CDS_ENV=production for a real deployment, or set "
        "CDS_ALLOW_INSECURE_DEV_ON_NETWORK=1 if you must (never with patient data)"
    )


def banner(settings: Settings, host: str, port: int) -> str:
    """What development mode does not check, said once at start-up (multi-line, for a terminal)."""
    origins = ", ".join(settings.cors_origins) or "none"
    where = f"{host}:{port}"
    network = (
        "  * LISTENING BEYOND LOOPBACK (CDS_ALLOW_INSECURE_DEV_ON_NETWORK=1): other machines can call it\n"
        if not is_loopback_host(host)
        else ""
    )
    rule = "=" * 78
    return (
        f"{rule}\n"
        f"  DEVELOPMENT MODE (CDS_ENV=development) on {where}: NOT FOR PATIENT DATA\n"
        f"{rule}\n"
        "  Not checked in this mode:\n"
        "  * client JWT: a request WITHOUT an Authorization header is accepted\n"
        "    (a JWT that is sent is still verified in full)\n"
        f"  * issuer: the CDS Hooks sandbox ({SANDBOX_ISSUER}) is trusted, and its signing key\n"
        "    is public, so anyone can sign a token this instance accepts\n"
        "  * JWT aud: localhost, 127.0.0.1 and [::1] are accepted for CDS_PUBLIC_BASE_URL's host\n"
        "  * fhirServer: any http(s) server on loopback is read, with the request's access token,\n"
        "    without being listed for an issuer (other servers only if listed)\n"
        f"  * CORS: browsers may call from {origins}\n"
        f"{network}"
        f"  Every response carries '{MODE_HEADER}: {MODE_VALUE}'.\n"
        "  For real use: CDS_ENV=production with CDS_PUBLIC_BASE_URL and CDS_TRUSTED_ISSUERS_FILE\n"
        "  (docs/deployment.md).\n"
        f"{rule}"
    )


def issuer_warnings(registry: IssuerRegistry) -> list[str]:
    """Trusted-issuer set-ups that start but refuse every call, said at start-up with the fix."""
    sandbox = registry.get(SANDBOX_ISSUER)
    if sandbox is None or sandbox.allows_jku(SANDBOX_JKU):
        return []
    return [
        (
            f"the trusted issuers file has an entry for iss {SANDBOX_ISSUER!r}, which replaces the built-in "
            f"sandbox entry, but it does not list the jku the sandbox signs with ({SANDBOX_JKU}): every "
            f'sandbox call will be refused with 401. Fix: add "jku_urls": ["{SANDBOX_JKU}"] to that '
            'entry (its keys may stay inline in "jwks"), or, in development, remove the entry to use '
            "the built-in one"
        )
    ]


class DevelopmentHeader:
    """ASGI middleware: ``X-CDS-Mode: development`` on every HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[MODE_HEADER] = MODE_VALUE
            await send(message)

        await self.app(scope, receive, marked)
