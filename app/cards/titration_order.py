"""The LDN titration order offered in suggestions: one FHIR R4 MedicationRequest.

Built as JSON from settings and the wording in ``cards/titration.toml``, then
validated with ``fhir.resources`` (R4B matches R4 for MedicationRequest): every
resource the service emits is checked, inputs are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest

from app.clinical_settings import ClinicalSettings
from app.knowledge.terminology import RXNORM, UCUM

# RxNorm 7243 "naltrexone" (ingredient; naltrexone.csv): LDN has no RxNorm clinical drug,
# so the compounded product is coded at ingredient level and described in text.
NALTREXONE_INGREDIENT = {"system": RXNORM, "code": "7243", "display": "naltrexone"}


def format_mg(value: float) -> str:
    return f"{value:g}"


def titration_doses(clinical: ClinicalSettings) -> list[float]:
    doses = [clinical.titration_start_mg]
    while doses[-1] + clinical.titration_step_mg <= clinical.titration_target_mg + 1e-9:
        doses.append(round(doses[-1] + clinical.titration_step_mg, 3))
    if doses[-1] < clinical.titration_target_mg:
        doses.append(clinical.titration_target_mg)
    return doses


def _dosage(sequence: int, dose_mg: float, text: str, weeks: int | None) -> dict[str, Any]:
    repeat: dict[str, Any] = {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}
    if weeks is not None:
        repeat["boundsDuration"] = {"value": weeks, "unit": "weeks", "system": UCUM, "code": "wk"}
    return {
        "sequence": sequence,
        "text": text,
        "timing": {"repeat": repeat},
        "route": {"text": "Oral"},
        "doseAndRate": [{"doseQuantity": {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}}],
    }


def titration_order(patient_id: str, clinical: ClinicalSettings, wording: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, Any]:
    """A draft MedicationRequest: start dose, +step every N weeks, target dose onwards."""
    doses = titration_doses(clinical)
    weeks = clinical.titration_step_weeks
    dosages = [
        _dosage(
            index + 1,
            dose,
            wording["step_text"].format(dose_mg=format_mg(dose), weeks=weeks)
            if index < len(doses) - 1
            else wording["final_step_text"].format(dose_mg=format_mg(dose)),
            weeks if index < len(doses) - 1 else None,
        )
        for index, dose in enumerate(doses)
    ]
    resource = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [NALTREXONE_INGREDIENT], "text": wording["medication_text"]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "dosageInstruction": dosages,
        "note": [{"text": wording["note"].format_map(values)}],
    }
    # Raises if the wording or settings ever produce an invalid resource.
    MedicationRequest.model_validate(resource)
    return resource
