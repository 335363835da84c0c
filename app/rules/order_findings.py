"""order-select / order-sign: everything the service says about a naltrexone order."""

from __future__ import annotations

from datetime import date

from app.clinical_settings import ClinicalSettings
from app.domain.record import PatientRecord
from app.knowledge.dose import DoseClass
from app.rules.dose_concern import dose_concern
from app.rules.findings import DoseConcern, Finding, OpioidConflict, OpioidDependenceOnRecord, OpioidStatusUnchecked
from app.rules.ldn_history import dose_class, has_prior_ldn
from app.rules.opioid_conflict import opioid_conflicts
from app.rules.opioid_dependence import opioid_dependence_findings
from app.rules.positioning import position_ldn

# Dose concerns that are advice (info), not safety: dropped beside a critical card.
_INFO_CONCERNS = frozenset({DoseConcern.start_above_initial, DoseConcern.dose_unknown})
# Orders that mean low-dose naltrexone, or a low-dose order written too high.
_LDN_INTENT = frozenset({DoseClass.low_dose, DoseClass.below_low_dose_range, DoseClass.above_low_dose_max})


def order_findings(record: PatientRecord, today: date, clinical: ClinicalSettings) -> list[Finding]:
    """Opioid safety first; then, beside it, the dose and where LDN stands."""
    findings: list[Finding] = [
        *opioid_conflicts(record, today, clinical),
        *opioid_dependence_findings(record, today, clinical),
    ]
    # Never hand over a ready LDN order while opioid safety is in doubt, or to a patient
    # with opioid dependence or long-term opioid therapy on the problem list.
    titration_allowed = not any(
        isinstance(f, (OpioidConflict, OpioidStatusUnchecked, OpioidDependenceOnRecord)) for f in findings
    )

    # Once LDN is in the record the decision to try it was made: no positioning card.
    # Nor when the diagnoses could not be read: "no studied condition" would be a guess.
    conditions_read = not any(gap.resource_type == "Condition" for gap in record.gaps)
    position = conditions_read and not has_prior_ldn(record, clinical)
    # One message per order: an order that must go (critical) gets no advice on its dose or on
    # LDN's place; that follows once opioid safety is resolved. Dose warnings still show.
    must_go = {id(f.naltrexone_order) for f in findings if isinstance(f, OpioidConflict)}
    for order in record.selected_orders:
        if order.drug.naltrexone is None:
            continue
        concern = dose_concern(record, order, today, clinical, titration_allowed=titration_allowed)
        if concern is not None and not (id(order) in must_go and concern.concern in _INFO_CONCERNS):
            findings.append(concern)
        if id(order) in must_go:
            continue
        if position and dose_class(order, clinical) in _LDN_INTENT:
            # One card carries the titration order; the dose card takes precedence.
            offer = titration_allowed and not (concern and concern.offer_titration) and len(order.dose_steps) <= 1
            findings.append(position_ldn(record, order, today, clinical, titration_allowed=offer))
    return findings
