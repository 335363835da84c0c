"""Whether, and with which token, we may read the request's ``fhirServer``.

The ``fhirServer`` of a hook call is a URL chosen by the caller, and we would send it
the ``fhirAuthorization`` access token: reading it blindly would let anyone who can
call us make us fetch arbitrary URLs (SSRF) or hand an EHR's token to a third party.

- production: only a server listed in the trusted-issuers file for the *authenticated*
  issuer (compared after normalising scheme, host, default port and trailing slash).
  Listed URLs are trusted as written, so an operator may list an http loopback server.
  No principal, or an unlisted server: ``None`` — no fetch and no token.
- development: a server listed for the authenticated issuer, or else an http(s) server on
  loopback (the sandbox and ``make demo`` use local servers). Not any https server: an
  EHR's token must not go to a server nobody listed, even on a developer's machine.

The token is used only for the patient it was issued for; redirects and ``next``
links stay on the same origin (``app/fhir/client.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from app.cds.models import FhirAuthorization
from app.security.auth import Principal
from app.security.urls import is_loopback_host, is_under_base
from app.settings import Environment, Settings


@dataclass(frozen=True, slots=True)
class FhirAccess:
    """Where to read and with which token; built per request, never cached."""

    base_url: str
    access_token: str | None = None

    def url(self, relative: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", relative.lstrip("/"))

    def allows(self, url: str) -> bool:
        """Whether ``url`` may be requested with this access's token."""
        return is_under_base(url, self.base_url)


def is_loopback_url(url: str) -> bool:
    """An http(s) URL naming a loopback host (by name or literal address), without user info."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    if parts.scheme.lower() not in {"http", "https"} or parts.username or parts.password:
        return False
    return bool(parts.hostname) and is_loopback_host(parts.hostname or "")


def fhir_server_allowed(url: str, settings: Settings, principal: Principal | None) -> bool:
    if principal is not None and principal.issuer.allows_fhir_server(url):
        return True
    return settings.env is Environment.development and is_loopback_url(url)


def fhir_access(
    fhir_server: str | None,
    authorization: FhirAuthorization | None,
    patient_id: str,
    settings: Settings,
    principal: Principal | None = None,
) -> FhirAccess | None:
    """The FHIR server to read from, or ``None`` when it must not be used."""
    if not fhir_server or not fhir_server_allowed(fhir_server, settings, principal):
        return None
    token = None
    if authorization is not None and (
        authorization.patient is None or authorization.patient.removeprefix("Patient/") == patient_id
    ):
        token = authorization.access_token
    return FhirAccess(base_url=fhir_server, access_token=token)
