"""Low-dose naltrexone in the record: which uses are LDN, and the dose in effect on a day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from app.clinical_settings import ClinicalSettings
from app.domain.record import MedicationSource, MedicationUse, PatientRecord
from app.knowledge.dose import DoseClass, classify_naltrexone_dose
from app.knowledge.medications import NaltrexoneProduct

_LOW_DOSE_CLASSES = frozenset({DoseClass.low_dose, DoseClass.below_low_dose_range})


_STARTED_LOW = frozenset({DoseClass.low_dose, DoseClass.below_low_dose_range, DoseClass.above_low_dose_max})


def dose_class(use: MedicationUse, clinical: ClinicalSettings) -> DoseClass | None:
    """The order's dose class, by its first step, unless a later step reaches the standard dose:
    25 mg for three days then 50 mg (the usual induction for dependence) is a standard-dose order."""
    if use.drug.naltrexone is None:
        return None
    found = classify_naltrexone_dose(use.drug.naltrexone, use.first_dose_mg, clinical)
    highest = max((s.dose_mg for s in use.dose_steps if s.dose_mg is not None), default=None)
    if found in _STARTED_LOW and highest is not None and highest >= clinical.standard_oral_mg:
        return DoseClass.standard_oral
    return found


def is_ldn(use: MedicationUse, clinical: ClinicalSettings) -> bool:
    return dose_class(use, clinical) in _LOW_DOSE_CLASSES


def has_prior_ldn(record: PatientRecord, clinical: ClinicalSettings) -> bool:
    """Any LDN in the EHR record, whatever its status: titration has been done before.

    Naltrexone whose dose cannot be read counts too unless it is a standard product (50 mg
    tablet, 380 mg injection, with bupropion): "Low dose naltrexone (LDN)" reported without
    a dose, or a dispensed compounded liquid, is still LDN tried.
    """
    return any(
        is_ldn(use, clinical)
        or (use.drug.naltrexone is NaltrexoneProduct.unspecified and dose_class(use, clinical) is DoseClass.unknown)
        for use in record.medications
    )


@dataclass(frozen=True, slots=True)
class DoseInEffect:
    dose_mg: float
    since: date


def dose_schedule(use: MedicationUse) -> list[DoseInEffect]:
    """Each step's dose and first day, in order; a single-dose order is one step."""
    if use.started is None:
        return []
    schedule: list[DoseInEffect] = []
    start = use.started
    for step in use.dose_steps:
        if step.dose_mg is not None:
            schedule.append(DoseInEffect(step.dose_mg, start))
        if step.duration_days is None:
            break
        start += timedelta(days=step.duration_days)
    if not schedule and use.first_dose_mg is not None:
        schedule.append(DoseInEffect(use.first_dose_mg, use.started))
    return schedule


def dose_in_effect(use: MedicationUse, today: date) -> DoseInEffect | None:
    """The dose a (possibly multi-step) order prescribes today, and since when."""
    started = [step for step in dose_schedule(use) if step.since <= today]
    return started[-1] if started else None


def target_reached_on(uses: Iterable[MedicationUse], target_mg: float, today: date) -> date | None:
    """The first day any of these LDN uses prescribed the target dose (or more)."""
    return min(
        (s.since for use in uses for s in dose_schedule(use) if s.dose_mg >= target_mg and s.since <= today),
        default=None,
    )


def ldn_orders_and_statements(record: PatientRecord, clinical: ClinicalSettings) -> list[MedicationUse]:
    return [
        use
        for use in record.medications
        if use.source in (MedicationSource.request, MedicationSource.statement) and is_ldn(use, clinical)
    ]
