"""Current opioid exposure and current naltrexone use, at a given date."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from app.fhir.record import MedicationSource, MedicationUse, PatientRecord
from app.rules.findings import ExposureReason, OpioidExposure
from app.clinical_settings import ClinicalSettings

_CURRENT_REQUEST = {
    "active": ExposureReason.active_request,
    "on-hold": ExposureReason.on_hold_request,
    "draft": ExposureReason.draft_request,
}
# A dispense that was cancelled or declined never reached the patient.
_DISPENSE_NOT_HANDED_OVER = frozenset({"cancelled", "declined", "stopped", "preparation"})


def opioid_free_interval_days(use: MedicationUse, clinical: ClinicalSettings) -> int:
    if use.drug.long_acting_opioid:
        return clinical.opioid_free_days_long_acting
    return clinical.opioid_free_days_short_acting


def _current_reason(
    use: MedicationUse, today: date, interval_days: Callable[[MedicationUse], int]
) -> tuple[ExposureReason, date | None, int | None] | None:
    if use.is_draft:
        return ExposureReason.same_session_order, use.started, None
    if use.source is MedicationSource.request:
        reason = _CURRENT_REQUEST.get(use.status)
        return (reason, use.started, None) if reason else None
    if use.source is MedicationSource.statement:
        return (ExposureReason.active_statement, use.started, None) if use.status == "active" else None
    if use.status in _DISPENSE_NOT_HANDED_OVER or use.supply_end is None:
        return None
    days = interval_days(use)
    if (today - use.supply_end).days < days:
        return ExposureReason.recent_dispense, use.supply_end, days
    return None


def current_opioid_exposure(
    record: PatientRecord,
    today: date,
    clinical: ClinicalSettings,
    exclude: Iterable[MedicationUse] = (),
) -> tuple[OpioidExposure, ...]:
    """Opioids the patient takes now or took within the opioid-free interval.

    ``exclude`` leaves out the orders under consideration themselves.
    """
    skipped = {id(use) for use in exclude}
    exposures: list[OpioidExposure] = []
    for use in (*record.medications, *record.draft_orders):
        if id(use) in skipped or not use.drug.is_opioid:
            continue
        found = _current_reason(use, today, lambda u: opioid_free_interval_days(u, clinical))
        if found:
            reason, on, interval = found
            exposures.append(OpioidExposure(use=use, reason=reason, on=on, interval_days=interval))
    return tuple(exposures)


def current_naltrexone(
    record: PatientRecord, today: date, exclude: Iterable[MedicationUse] = ()
) -> tuple[MedicationUse, ...]:
    """Naltrexone the patient takes now: active orders or statements, unexpired supply."""
    skipped = {id(use) for use in exclude}
    return tuple(
        use
        for use in (*record.medications, *record.draft_orders)
        if id(use) not in skipped
        and use.drug.naltrexone is not None
        # naltrexone blocks opioids while it is taken: no extra interval after supply ends
        and _current_reason(use, today, lambda _: 1) is not None
    )
