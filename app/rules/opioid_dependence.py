"""Opioid dependence, withdrawal or long-term opioid therapy on the problem list.

The medication list often misses the opioid that matters most: methadone from an
opioid treatment program is dispensed there, not by the patient's pharmacy. The
naltrexone labels contraindicate current opioid dependence and acute withdrawal,
so the diagnosis alone is reason to check before naltrexone starts.
"""

from __future__ import annotations

from datetime import date

from app.clinical_settings import ClinicalSettings
from app.domain.record import ConditionEntry, PatientRecord
from app.knowledge.conditions import ConditionKind
from app.rules.exposure import certain, naltrexone_blockades
from app.rules.findings import OpioidDependenceOnRecord

# clinicalStatus values that mean the diagnosis applies now (a missing one is read as active,
# as everywhere in this service: problem lists often omit it).
_CURRENT_STATUSES = frozenset({None, "active", "recurrence", "relapse"})
# A use disorder "in remission" may be remission *on* methadone or buprenorphine maintenance,
# so for it "remission" counts too; the card then says "in remission per record".
_USE_DISORDER_STATUSES = _CURRENT_STATUSES | {"remission"}


def opioid_dependence_diagnoses(record: PatientRecord) -> tuple[ConditionEntry, ...]:
    """Active opioid abuse/dependence/use/withdrawal (F11.x), or long-term opioid therapy (Z79.891)."""
    found: list[ConditionEntry] = []
    for condition in record.conditions:
        if condition.refuted:
            continue
        status = condition.clinical_status
        use_disorder = ConditionKind.opioid_use_disorder in condition.kinds and status in _USE_DISORDER_STATUSES
        long_term_use = ConditionKind.long_term_opioid_use in condition.kinds and status in _CURRENT_STATUSES
        if use_disorder or long_term_use:
            found.append(condition)
    return tuple(found)


def opioid_dependence_findings(
    record: PatientRecord, today: date, clinical: ClinicalSettings
) -> list[OpioidDependenceOnRecord]:
    """One warning per naltrexone order the clinician is acting on.

    Not for a patient naltrexone already blocks (a monthly injection re-ordered): whatever the
    problem list says, that patient is not taking opioids through the blockade.
    """
    diagnoses = opioid_dependence_diagnoses(record)
    orders = [o for o in record.selected_orders if o.drug.naltrexone is not None]
    if not diagnoses or not orders or certain(naltrexone_blockades(record, today, clinical, exclude=orders)):
        return []
    return [OpioidDependenceOnRecord(naltrexone_order=order, diagnoses=diagnoses) for order in orders]
