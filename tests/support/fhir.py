"""Small builders for FHIR R4 JSON and CDS Hooks requests, so tests state only what matters."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
RXNORM_OID = "urn:oid:2.16.840.1.113883.6.88"
UCUM = "http://unitsofmeasure.org"
PATIENT_ID = "test-patient"
USER_ID = "Practitioner/test-prescriber"

Json = dict[str, Any]
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _day(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def concept(
    text: str | None = None, *, code: str | None = None, system: str = RXNORM, display: str | None = None
) -> Json:
    """A CodeableConcept: free text, an RxNorm coding, or both."""
    result: Json = {}
    if code is not None:
        coding: Json = {"system": system, "code": code}
        if display:
            coding["display"] = display
        result["coding"] = [coding]
    if text:
        result["text"] = text
    return result


def _with_medication(resource: Json, medication: Json | str) -> Json:
    if isinstance(medication, str):  # a reference such as "Medication/x" or "#contained"
        resource["medicationReference"] = {"reference": medication}
    else:
        resource["medicationCodeableConcept"] = medication
    return resource


def medication_request(
    medication: Json | str,
    *,
    status: str = "active",
    authored_on: date | str | None = None,
    patient_id: str = PATIENT_ID,
    id: str | None = None,
    **extra: Any,
) -> Json:
    resource: Json = {
        "resourceType": "MedicationRequest",
        "id": id or _id("mr"),
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if authored_on is not None:
        resource["authoredOn"] = _day(authored_on)
    resource.update(extra)
    return _with_medication(resource, medication)


def draft_order(
    medication: Json | str | None, *, patient_id: str = PATIENT_ID, id: str | None = None, **extra: Any
) -> Json:
    """A draft MedicationRequest as the EHR puts it in ``draftOrders`` (medication may still be missing)."""
    resource: Json = {
        "resourceType": "MedicationRequest",
        "id": id or _id("draft"),
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    resource.update(extra)
    return resource if medication is None else _with_medication(resource, medication)


def medication_statement(
    medication: Json | str,
    *,
    status: str = "active",
    start: date | str | None = None,
    end: date | str | None = None,
    patient_id: str = PATIENT_ID,
    id: str | None = None,
    **extra: Any,
) -> Json:
    resource: Json = {
        "resourceType": "MedicationStatement",
        "id": id or _id("ms"),
        "status": status,
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    period = {k: _day(v) for k, v in (("start", start), ("end", end)) if v is not None}
    if period:
        resource["effectivePeriod"] = period
    resource.update(extra)
    return _with_medication(resource, medication)


def medication_dispense(
    medication: Json | str,
    *,
    handed_over: date | str,
    days_supply: int | None,
    status: str = "completed",
    patient_id: str = PATIENT_ID,
    id: str | None = None,
    **extra: Any,
) -> Json:
    resource: Json = {
        "resourceType": "MedicationDispense",
        "id": id or _id("md"),
        "status": status,
        "subject": {"reference": f"Patient/{patient_id}"},
        "whenHandedOver": _day(handed_over),
    }
    if days_supply is not None:
        resource["daysSupply"] = {"value": days_supply, "unit": "day", "system": UCUM, "code": "d"}
    resource.update(extra)
    return _with_medication(resource, medication)


def medication_administration(
    medication: Json | str,
    *,
    given: date | str | None,
    status: str = "completed",
    patient_id: str = PATIENT_ID,
    id: str | None = None,
    **extra: Any,
) -> Json:
    resource: Json = {
        "resourceType": "MedicationAdministration",
        "id": id or _id("ma"),
        "status": status,
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if given is not None:
        resource["effectiveDateTime"] = _day(given)
    resource.update(extra)
    return _with_medication(resource, medication)


def medication(code: Json, *, id: str | None = None, **extra: Any) -> Json:
    return {"resourceType": "Medication", "id": id or _id("med"), "code": code, **extra}


def patient(patient_id: str = PATIENT_ID) -> Json:
    return {"resourceType": "Patient", "id": patient_id}


def searchset(resources: Iterable[Json]) -> Json:
    resources = list(resources)
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"http://ehr.test/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def operation_outcome(text: str = "search failed") -> Json:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "exception", "diagnostics": text}],
    }


def full_prefetch(resources: Sequence[Json] = (), *, patient_id: str = PATIENT_ID) -> Json:
    """Every prefetch key the service asks for, filled from ``resources`` (empty searches included)."""
    by_type: dict[str, list[Json]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    medications = by_type.get("Medication", [])
    return {
        "patient": patient(patient_id),
        "medicationRequests": searchset(by_type.get("MedicationRequest", []) + medications),
        "medicationStatements": searchset(by_type.get("MedicationStatement", [])),
        "medicationDispenses": searchset(by_type.get("MedicationDispense", [])),
        "medicationAdministrations": searchset(by_type.get("MedicationAdministration", [])),
        "conditions": searchset(by_type.get("Condition", [])),
    }


def hook_body(
    hook: str,
    drafts: Sequence[Json] = (),
    *,
    patient_id: str = PATIENT_ID,
    prefetch: Json | None = None,
    fhir_server: str | None = None,
    access_token: str | None = None,
    token_patient: str | None = None,
    selections: Sequence[str] | None = None,
) -> Json:
    """A CDS Hooks 2.0 request. order-select selects every draft unless ``selections`` says otherwise."""
    context: Json = {"userId": USER_ID, "patientId": patient_id}
    if hook in {"order-select", "order-sign"}:
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": d} for d in drafts],
        }
    if hook == "order-select":
        context["selections"] = (
            list(selections) if selections is not None else [f"{d['resourceType']}/{d['id']}" for d in drafts]
        )
    body: Json = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
    if access_token is not None:
        body["fhirAuthorization"] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/MedicationRequest.read patient/MedicationStatement.read patient/MedicationDispense.read",
            "subject": "ldn-cds",
            "patient": token_patient or patient_id,
        }
    return body


# Medications used across tests, as a prescriber or an EHR would write them.
LDN_TEXT_ONLY = concept("Naltrexone 4.5 mg capsule (compounded)")
NALTREXONE_50MG = concept(code="1483744", display="naltrexone hydrochloride 50 MG Oral Tablet")
OXYCODONE_5MG = concept("oxycodone HCl 5 mg tablet", code="1049621", display="oxycodone hydrochloride 5 MG Oral Tablet")
TRAMADOL_50MG = concept("tramadol 50 mg tablet", code="835603", display="tramadol hydrochloride 50 MG Oral Tablet")
METHADONE_LIQUID = concept(
    "methadone 10 mg/mL oral solution", code="991147", display="methadone hydrochloride 10 MG/ML Oral Solution"
)
FENTANYL_PATCH = concept(
    "fentanyl 25 mcg/hr patch", code="245134", display="72 HR fentanyl 0.025 MG/HR Transdermal System"
)
LISINOPRIL = concept("Lisinopril 10 MG Oral Tablet")
