"""Is this naltrexone order's dose what the clinician likely means?"""

from __future__ import annotations

from datetime import date

from app.clinical_settings import ClinicalSettings
from app.domain.record import MedicationUse, PatientRecord
from app.knowledge.conditions import ConditionKind
from app.knowledge.dose import DoseClass, format_mg
from app.knowledge.medications import NaltrexoneProduct
from app.rules.findings import DoseConcern, NaltrexoneDoseConcern, Stance
from app.rules.ldn_history import dose_class, has_prior_ldn
from app.rules.opioid_dependence import opioid_dependence_diagnoses
from app.rules.positioning import ldn_standing

_STANDARD_DOSES = frozenset({DoseClass.standard_oral, DoseClass.er_injectable})
# A first step that means low-dose naltrexone (or one written a little too high).
_LDN_CLASSES = frozenset({DoseClass.low_dose, DoseClass.below_low_dose_range, DoseClass.above_low_dose_max})


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
    # Every step is checked, not only the first: 1.5 -> 3 -> 45 mg is a 45 mg order.
    steps = [s.dose_mg for s in order.dose_steps if s.dose_mg is not None] or ([dose] if dose is not None else [])
    highest, lowest = (max(steps), min(steps)) if steps else (None, None)
    # Dependence on record: naltrexone treats it, at its own doses; LDN advice does not apply.
    use_disorder = _treats_a_use_disorder(record)
    concern: DoseConcern | None = None
    problem: str | None = None
    if (
        highest is not None
        and highest > clinical.er_injectable_mg
        and order.drug.naltrexone is not NaltrexoneProduct.er_injectable_380mg
    ):
        concern, dose = DoseConcern.dose_unknown, None
        problem = f"{format_mg(highest)} mg is more than any naltrexone dose by mouth: check the unit"
    elif found in _LDN_CLASSES and lowest is not None and lowest < clinical.ldn_unit_error_below_mg:
        concern, dose = DoseConcern.below_ldn_range, lowest
    elif found in _LDN_CLASSES and highest is not None and highest > clinical.ldn_max_mg and not use_disorder:
        concern, dose = DoseConcern.above_ldn_max, highest
    elif found is DoseClass.low_dose and dose is not None and dose > clinical.titration_start_mg and not prior_ldn:
        concern = DoseConcern.start_above_initial
    elif (
        found in _STANDARD_DOSES
        and standing.conditions
        and not use_disorder
        and not opioid_dependence_diagnoses(record)  # the dependence warning says what matters
    ):
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
        and not use_disorder
        and not prior_ldn
        and concern not in (DoseConcern.dose_unknown, DoseConcern.below_ldn_range),
        untried=standing.untried if concern is DoseConcern.standard_dose_with_ldn_condition else (),
        diagnoses=standing.diagnoses,
        problem=problem or order.dose_problem,
    )


def _treats_a_use_disorder(record: PatientRecord) -> bool:
    """Standard-dose naltrexone treats these; a 50 mg order is then expected."""
    opioid = any(ConditionKind.opioid_use_disorder in c.kinds for c in opioid_dependence_diagnoses(record))
    return opioid or ConditionKind.alcohol_use_disorder in record.active_condition_kinds
