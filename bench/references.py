"""A patient with a long medication history by reference: N MedicationRequests, each pointing at
a different Medication that only the FHIR server holds (no malice: a long history does it).

Shared by the FHIR backend (``bench.fhir_backend --medications N``), which serves the
Medications, and ``bench.availability``, which sends the hook call.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app.fhir.prefetch import RECORD_KEYS
from devtools.fixtures import PRACTITIONER, draft_order

PATIENT_ID = "bench-references"
LDN_ORDER = "ldn-4_5mg-compounded"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

Json = dict[str, Any]


def medication_id(n: int) -> str:
    return f"bench-med-{n:05d}"


def medications(count: int) -> list[Json]:
    """Distinct Medications, each with its own name and code: nothing repeats for a cache to absorb."""
    return [
        {
            "resourceType": "Medication",
            "id": medication_id(n),
            "code": {
                "coding": [{"system": RXNORM, "code": str(900000 + n), "display": f"Compound {n} 10 MG Oral Tablet"}],
                "text": f"compound {n} 10 mg tablet",
            },
        }
        for n in range(count)
    ]


def patient_resources(count: int) -> list[Json]:
    """What the FHIR backend holds for this patient: the Patient and the Medications."""
    return [{"resourceType": "Patient", "id": PATIENT_ID}, *medications(count)]


def hook_request(count: int, fhir_server: str, today: date) -> Json:
    """An order-select for compounded LDN with every prefetch key sent; the prescriptions
    name their drug only by reference, so each Medication must be read from ``fhir_server``."""
    requests = [
        {
            "resourceType": "MedicationRequest",
            "id": f"bench-mr-{n:05d}",
            "status": "completed",
            "intent": "order",
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "authoredOn": (today - timedelta(days=30 + n % 3000)).isoformat(),
            "medicationReference": {"reference": f"Medication/{medication_id(n)}"},
        }
        for n in range(count)
    ]
    draft = draft_order(LDN_ORDER, PATIENT_ID, today)

    def bundle(resources: list[Json]) -> Json:
        return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}

    return {
        "hook": "order-select",
        "hookInstance": "bench-references",
        "fhirServer": fhir_server,
        "fhirAuthorization": {
            "access_token": "bench-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "ldn-cds",
            "patient": PATIENT_ID,
        },
        "context": {
            "userId": PRACTITIONER,
            "patientId": PATIENT_ID,
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": draft}]},
            "selections": [f"MedicationRequest/{draft['id']}"],
        },
        "prefetch": {key: bundle(requests if key == "medicationRequests" else []) for key in RECORD_KEYS},
    }
