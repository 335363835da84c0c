"""The LDN titration order offered in suggestions: one FHIR R4 MedicationRequest, complete enough to sign.

Built as JSON from settings and the wording in ``cards/titration.toml``, then validated
with ``fhir.resources`` (R4B matches R4 for MedicationRequest): every resource the
service emits is checked, inputs are not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest

from app.clinical_settings import ClinicalSettings
from app.domain.record import ConditionEntry
from app.knowledge.dose import format_mg
from app.knowledge.terminology import RXNORM, UCUM

# RxNorm 7243 "naltrexone" (ingredient; naltrexone.csv): LDN has no RxNorm clinical drug,
# so the compounded product is coded at ingredient level and described in text.
NALTREXONE_INGREDIENT = {"system": RXNORM, "code": "7243", "display": "naltrexone"}


def titration_doses(clinical: ClinicalSettings) -> list[float]:
    doses = [clinical.titration_start_mg]
    while doses[-1] + clinical.titration_step_mg <= clinical.titration_target_mg + 1e-9:
        doses.append(round(doses[-1] + clinical.titration_step_mg, 3))
    if doses[-1] < clinical.titration_target_mg:
        doses.append(clinical.titration_target_mg)
    return doses


def units_per_dose(dose_mg: float, clinical: ClinicalSettings) -> int:
    """Capsules of the compounded strength that make one dose (1.5 mg capsules: 3 mg is 2)."""
    return max(1, math.ceil(dose_mg / clinical.titration_compounded_strength_mg - 1e-9))


def _dosage(sequence: int, dose_mg: float, text: str, instruction: str, weeks: int | None) -> dict[str, Any]:
    repeat: dict[str, Any] = {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}
    if weeks is not None:
        repeat["boundsDuration"] = {"value": weeks, "unit": "weeks", "system": UCUM, "code": "wk"}
    return {
        "sequence": sequence,
        "text": text,
        "patientInstruction": instruction,
        "timing": {"repeat": repeat},
        "route": {"text": "Oral"},
        "doseAndRate": [{"doseQuantity": {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}}],
    }


def _reason(diagnoses: Sequence[ConditionEntry]) -> list[dict[str, Any]]:
    """reasonCode: each condition the order is for, with the codes the record gave it."""
    reasons = []
    for condition in diagnoses:
        concept: dict[str, Any] = {"text": condition.name}
        codings = [
            {"system": system, "code": code, **({"display": display} if display else {})}
            for system, code, display in condition.codings
            if system.startswith(("http://", "https://", "urn:"))
        ]
        if codings:
            concept["coding"] = codings
        reasons.append(concept)
    return reasons


def titration_order(
    patient_id: str,
    clinical: ClinicalSettings,
    wording: Mapping[str, str],
    values: Mapping[str, Any],
    diagnoses: Sequence[ConditionEntry] = (),
) -> dict[str, Any]:
    """A draft MedicationRequest: start dose, +step every N weeks, target dose onwards."""
    doses = titration_doses(clinical)
    weeks = clinical.titration_step_weeks
    strength = format_mg(clinical.titration_compounded_strength_mg)
    dosages = []
    for index, dose in enumerate(doses):
        last = index == len(doses) - 1
        fill = {
            "dose_mg": format_mg(dose),
            "weeks": weeks,
            "units": units_per_dose(dose, clinical),
            "strength_mg": strength,
        }
        dosages.append(
            _dosage(
                index + 1,
                dose,
                (wording["final_step_text"] if last else wording["step_text"]).format(**fill),
                (wording["final_step_instruction"] if last else wording["step_instruction"]).format(**fill),
                None if last else weeks,
            )
        )
    # The fill covers every step before the target; the maintenance supply follows at the target.
    steps_before_target = doses[:-1] or doses
    fill_days = weeks * 7 * len(steps_before_target)
    fill_units = sum(units_per_dose(dose, clinical) for dose in steps_before_target) * weeks * 7
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [NALTREXONE_INGREDIENT],
            "text": wording["medication_text"].format(strength_mg=strength),
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "dosageInstruction": dosages,
        "dispenseRequest": {
            "quantity": {"value": fill_units, "unit": "capsule"},
            "expectedSupplyDuration": {"value": fill_days, "unit": "days", "system": UCUM, "code": "d"},
        },
        "note": [{"text": wording["note"].format_map(values)}],
    }
    if reasons := _reason(diagnoses):
        resource["reasonCode"] = reasons
    # Raises if the wording or settings ever produce an invalid resource.
    MedicationRequest.model_validate(resource)
    return resource
