"""Is this naltrexone order's dose what the clinician likely means?"""

from __future__ import annotations

from app.clinical_settings import ClinicalSettings
from app.fhir.record import MedicationUse, PatientRecord
from app.knowledge.conditions import ConditionKind
from app.knowledge.dose import DoseClass
from app.knowledge.medications import NaltrexoneProduct
from app.rules.findings import DoseConcern, NaltrexoneDoseConcern
from app.rules.ldn import dose_class, has_prior_ldn
from app.rules.opioid_dependence import opioid_dependence_diagnoses
from app.rules.positioning import studied_conditions

_STANDARD_DOSES = frozenset({DoseClass.standard_oral, DoseClass.er_injectable})


def dose_concern(
    record: PatientRecord, order: MedicationUse, clinical: ClinicalSettings, *, titration_allowed: bool
) -> NaltrexoneDoseConcern | None:
    found = dose_class(order, clinical)
    if found is None:
        return None
    dose = order.first_dose_mg
    prior_ldn = has_prior_ldn(record, clinical)
    conditions = studied_conditions(record)
    concern: DoseConcern | None = None
    if found is DoseClass.low_dose and dose is not None and dose > clinical.titration_start_mg and not prior_ldn:
        concern = DoseConcern.start_above_initial
    elif found is DoseClass.above_low_dose_max:
        concern = DoseConcern.above_ldn_max
    elif found in _STANDARD_DOSES and conditions and not _treats_a_use_disorder(record):
        concern = DoseConcern.standard_dose_with_ldn_condition
    elif found is DoseClass.unknown and order.drug.naltrexone is NaltrexoneProduct.unspecified:
        concern = DoseConcern.dose_unknown
    if concern is None:
        return None
    return NaltrexoneDoseConcern(
        concern=concern,
        order=order,
        dose_class=found,
        dose_mg=dose,
        conditions=conditions,
        offer_titration=titration_allowed and not prior_ldn and concern is not DoseConcern.dose_unknown,
    )


def _treats_a_use_disorder(record: PatientRecord) -> bool:
    """Standard-dose naltrexone treats these; a 50 mg order is then expected."""
    opioid = any(ConditionKind.opioid_use_disorder in c.kinds for c in opioid_dependence_diagnoses(record))
    return opioid or ConditionKind.alcohol_use_disorder in record.active_condition_kinds
