"""Check a hook call against its service and turn it into the pipeline's input."""

from __future__ import annotations

from typing import Any

from app.cds.errors import BadRequest
from app.cds.models import HookRequest
from app.fhir.assembly import HookData
from app.fhir.client import bundle_resources
from app.security.urls import fhir_base_problem
from app.services.catalog import CdsService

# Resource types that only exist before FHIR R4 (STU3 shares MedicationRequest with R4).
_PRE_R4_ORDERS = frozenset({"MedicationOrder"})


def patient_id_of(request: HookRequest) -> str:
    value = request.context.get("patientId")
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("context.patientId is required and must be a non-empty string")
    value = value.strip()
    # Some clients send a reference ("Patient/123") where the spec asks for the bare id.
    return value.removeprefix("Patient/")


def _draft_order_resources(request: HookRequest) -> list[dict[str, Any]]:
    draft_orders = request.context.get("draftOrders")
    if draft_orders is None:
        raise BadRequest("context.draftOrders is required for this hook")
    if not isinstance(draft_orders, dict) or draft_orders.get("resourceType") != "Bundle":
        raise BadRequest("context.draftOrders must be a FHIR Bundle")
    return bundle_resources(draft_orders)


def pre_r4_resource_type(resources: list[dict[str, Any]]) -> str | None:
    """The pre-R4 order type, once a draft names a medication (not on every empty form)."""
    return next(
        (
            r["resourceType"]
            for r in resources
            if r.get("resourceType") in _PRE_R4_ORDERS
            and (r.get("medicationCodeableConcept") or r.get("medicationReference"))
        ),
        None,
    )


def hook_data(service: CdsService, request: HookRequest) -> HookData:
    """The pipeline's input: 400 naming the field for anything it cannot use."""
    if request.hook != service.hook:
        raise BadRequest(f"hook '{request.hook}' does not match service '{service.id}', which handles '{service.hook}'")
    patient_id = patient_id_of(request)
    drafts = _draft_order_resources(request) if service.needs_draft_orders else []
    selections = request.context.get("selections")
    if selections is not None and not (isinstance(selections, list) and all(isinstance(s, str) for s in selections)):
        raise BadRequest("context.selections must be a list of references like 'MedicationRequest/123'")
    # The access token goes to fhirServer: anything but scheme, host and path could make a
    # URL built on it land elsewhere (fragment, query, user info, whitespace).
    if request.fhirServer is not None and (problem := fhir_base_problem(request.fhirServer)) is not None:
        raise BadRequest(f"fhirServer: must be the FHIR server's base URL (http or https, host and path): it {problem}")
    context = {k: v for k, v in request.context.items() if isinstance(v, str)}
    context["patientId"] = patient_id
    return HookData(
        patient_id=patient_id,
        context=context,
        prefetch=request.prefetch or {},
        draft_orders=drafts,
        selections=selections or (),
        pre_r4_type=pre_r4_resource_type(drafts),
        fhir_server=request.fhirServer,
        fhir_authorization=request.fhirAuthorization,
    )
