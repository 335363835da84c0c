"""Whether, and with which token, we may read the request's ``fhirServer``."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.fhir.client import FhirAccess
from app.protocol.models import HookRequest
from app.settings import Environment, Settings


def fhir_access(request: HookRequest, patient_id: str, settings: Settings) -> FhirAccess | None:
    """The FHIR server to read from, or ``None`` when it must not be used.

    The access token is used only for the patient it was issued for.
    """
    if not request.fhirServer:
        return None
    if settings.env is Environment.production and urlsplit(request.fhirServer).scheme != "https":
        return None
    token = None
    authorization = request.fhirAuthorization
    if authorization is not None and (
        authorization.patient is None or authorization.patient.removeprefix("Patient/") == patient_id
    ):
        token = authorization.access_token
    return FhirAccess(base_url=request.fhirServer, access_token=token)
