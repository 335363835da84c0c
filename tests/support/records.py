"""PatientRecords built through the real assembly code, from FHIR JSON (no FHIR server)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.domain.record import PatientRecord
from app.fhir.assembly import HookData, assemble_record
from app.knowledge.medications import NOT_A_KNOWN_DRUG, DrugProfile
from tests.support.fhir import PATIENT_ID, Json, full_prefetch, medication_request


def record_of(
    resources: Sequence[Json] = (),
    *,
    drafts: Sequence[Json] = (),
    selections: Sequence[str] | None = None,
    patient_id: str = PATIENT_ID,
) -> PatientRecord:
    """The record the service builds from a complete prefetch of ``resources`` plus ``drafts``."""
    hook = HookData(
        patient_id=patient_id,
        context={"patientId": patient_id},
        prefetch=full_prefetch(resources, patient_id=patient_id),
        draft_orders=list(drafts),
        selections=list(selections) if selections is not None else [f"MedicationRequest/{d['id']}" for d in drafts],
    )
    return asyncio.run(assemble_record(hook, None))


def drug_of(medication: Json) -> DrugProfile:
    """How the service classifies a medication written as ``medication`` (CodeableConcept) in an order.

    Drugs no rule is about are left out of the record: they classify as ``NOT_A_KNOWN_DRUG``.
    """
    uses = record_of([medication_request(medication)]).medications
    assert len(uses) <= 1
    return uses[0].drug if uses else NOT_A_KNOWN_DRUG
