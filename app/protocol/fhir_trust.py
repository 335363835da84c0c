"""Whether, and with which token, we may read the request's ``fhirServer``.

The ``fhirServer`` of a hook call is a URL chosen by the caller, and we would send it
the ``fhirAuthorization`` access token: reading it blindly would let anyone who can
call us make us fetch arbitrary URLs (SSRF) or hand an EHR's token to a third party.

- production: only a server listed in the trusted-issuers file for the *authenticated*
  issuer (compared after normalising scheme, host, default port and trailing slash).
  Listed URLs are trusted as written, so an operator may list an http loopback server.
  No principal, or an unlisted server: ``None`` — no fetch and no token.
- development: a server listed for the authenticated issuer, or else any https server
  or an http server on loopback (the sandbox and ``make demo`` use local servers).

The token is used only for the patient it was issued for; redirects and ``next``
links stay on the same origin (``app/fhir/client.py``).
"""

from __future__ import annotations

from app.fhir.client import FhirAccess
from app.protocol.models import HookRequest
from app.security.auth import Principal
from app.security.urls import is_https_or_loopback_http
from app.settings import Environment, Settings


def fhir_server_allowed(url: str, settings: Settings, principal: Principal | None) -> bool:
    if principal is not None and principal.issuer.allows_fhir_server(url):
        return True
    return settings.env is Environment.development and is_https_or_loopback_http(url)


def fhir_access(
    request: HookRequest, patient_id: str, settings: Settings, principal: Principal | None = None
) -> FhirAccess | None:
    """The FHIR server to read from, or ``None`` when it must not be used."""
    if not request.fhirServer or not fhir_server_allowed(request.fhirServer, settings, principal):
        return None
    token = None
    authorization = request.fhirAuthorization
    if authorization is not None and (
        authorization.patient is None or authorization.patient.removeprefix("Patient/") == patient_id
    ):
        token = authorization.access_token
    return FhirAccess(base_url=request.fhirServer, access_token=token)
