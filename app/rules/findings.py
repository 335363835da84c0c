"""What the rules conclude. Findings carry facts, never card wording."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.fhir.record import DataGap, MedicationUse


class ExposureReason(StrEnum):
    active_request = "active prescription"
    on_hold_request = "prescription on hold"
    draft_request = "unsigned prescription"
    active_statement = "reported as currently taken"
    recent_dispense = "recently dispensed"
    same_session_order = "ordered in this session"


@dataclass(frozen=True, slots=True)
class OpioidExposure:
    use: MedicationUse
    reason: ExposureReason
    on: date | None  # the date the reason rests on (authored, asserted, supply end)
    interval_days: int | None = None  # opioid-free interval applied to a dispense


@dataclass(frozen=True, slots=True)
class OpioidConflict:
    """Naltrexone is being ordered while the patient has current opioid exposure."""

    naltrexone_order: MedicationUse
    exposures: tuple[OpioidExposure, ...]
    gaps: tuple[DataGap, ...] = ()


@dataclass(frozen=True, slots=True)
class OpioidStatusUnchecked:
    """Naltrexone is being ordered but part of the medication record could not be read."""

    naltrexone_order: MedicationUse
    gaps: tuple[DataGap, ...]


@dataclass(frozen=True, slots=True)
class NaltrexoneBlocksOpioid:
    """An opioid is being ordered for a patient who takes naltrexone."""

    opioid_order: MedicationUse
    naltrexone: tuple[MedicationUse, ...]


@dataclass(frozen=True, slots=True)
class UnsupportedFhirVersion:
    """The client sent pre-R4 resources (DSTU2 ``MedicationOrder``)."""

    resource_type: str


Finding = OpioidConflict | OpioidStatusUnchecked | NaltrexoneBlocksOpioid | UnsupportedFhirVersion
