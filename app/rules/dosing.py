"""Is this naltrexone order's dose what the clinician likely means?"""

from __future__ import annotations

from datetime import date

from app.clinical_settings import ClinicalSettings
from app.fhir.record import MedicationUse, PatientRecord
from app.knowledge.conditions import ConditionKind
from app.knowledge.dose import DoseClass
from app.rules.findings import DoseConcern, NaltrexoneDoseConcern, Stance
from app.rules.ldn import dose_class, has_prior_ldn
from app.rules.opioid_dependence import opioid_dependence_diagnoses
from app.rules.positioning import ldn_standing

_STANDARD_DOSES = frozenset({DoseClass.standard_oral, DoseClass.er_injectable})


def dose_concern(
    record: PatientRecord,
    order: MedicationUse,
    today: date,
    clinical: ClinicalSettings,
    *,
    titration_allowed: bool,
) -> NaltrexoneDoseConcern | None:
    found = dose_class(order, clinical)
    if found is None:
        return None
    dose = order.first_dose_mg
    prior_ldn = has_prior_ldn(record, clinical)
    standing = ldn_standing(record, today, clinical)
    concern: DoseConcern | None = None
    if found is DoseClass.low_dose and dose is not None and dose > clinical.titration_start_mg and not prior_ldn:
        concern = DoseConcern.start_above_initial
    elif found is DoseClass.below_low_dose_range:
        concern = DoseConcern.below_ldn_range
    elif found is DoseClass.above_low_dose_max:
        concern = DoseConcern.above_ldn_max
    elif found in _STANDARD_DOSES and standing.conditions and not _treats_a_use_disorder(record):
        concern = DoseConcern.standard_dose_with_ldn_condition
    elif found is DoseClass.unknown:
        concern = DoseConcern.dose_unknown
    if concern is None:
        return None
    # "Did you mean low-dose?" follows the same positioning as an LDN order: a ready LDN order
    # only where LDN's turn has come; the other dose cards correct an LDN order already chosen.
    positioned = concern is not DoseConcern.standard_dose_with_ldn_condition or standing.stance is Stance.refractory
    return NaltrexoneDoseConcern(
        concern=concern,
        order=order,
        dose_class=found,
        dose_mg=dose,
        conditions=standing.conditions,
        offer_titration=titration_allowed
        and positioned
        and not prior_ldn
        and concern not in (DoseConcern.dose_unknown, DoseConcern.below_ldn_range),
        untried=standing.untried if concern is DoseConcern.standard_dose_with_ldn_condition else (),
        diagnoses=standing.diagnoses,
    )


def _treats_a_use_disorder(record: PatientRecord) -> bool:
    """Standard-dose naltrexone treats these; a 50 mg order is then expected."""
    opioid = any(ConditionKind.opioid_use_disorder in c.kinds for c in opioid_dependence_diagnoses(record))
    return opioid or ConditionKind.alcohol_use_disorder in record.active_condition_kinds
