"""The patient record the rules read: light, typed, already classified.

Record assembly builds it from prefetch, draft orders and FHIR fallback queries;
the rules never see raw FHIR JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from app.knowledge.conditions import ConditionKind
from app.knowledge.medications import DrugProfile


class MedicationSource(StrEnum):
    request = "MedicationRequest"
    statement = "MedicationStatement"
    dispense = "MedicationDispense"


@dataclass(frozen=True, slots=True)
class DoseStep:
    """One ``dosageInstruction``: dose per administration and how long it lasts."""

    sequence: int
    dose_mg: float | None
    duration_days: int | None
    text: str | None


@dataclass(frozen=True, slots=True)
class MedicationUse:
    source: MedicationSource
    resource_id: str | None
    status: str  # lower-case FHIR status; "" when the resource has none
    name: str  # what a clinician would call it, for card text
    drug: DrugProfile
    started: date | None = None  # authoredOn / effective start / whenHandedOver
    supply_end: date | None = None  # dispense: handed over + daysSupply; statement: period end
    dose_steps: tuple[DoseStep, ...] = ()
    strength_mg: float | None = None  # Medication ingredient strength, per unit
    dose_mg_in_name: float | None = None  # "naltrexone 4.5 mg capsule"
    is_draft: bool = False  # part of this hook's draftOrders

    @property
    def first_dose_mg(self) -> float | None:
        """Dose per administration of the first step, whichever source states it."""
        for step in self.dose_steps:
            if step.dose_mg is not None:
                return step.dose_mg
        return self.strength_mg if self.strength_mg is not None else self.dose_mg_in_name

    @property
    def reference(self) -> str | None:
        return f"{self.source.value}/{self.resource_id}" if self.resource_id else None


@dataclass(frozen=True, slots=True)
class ConditionEntry:
    resource_id: str | None
    name: str
    kinds: frozenset[ConditionKind]
    active: bool  # clinically active and not refuted / entered-in-error
    onset: date | None = None


class GapReason(StrEnum):
    no_fhir_server = "no-fhir-server"
    fhir_unreachable = "fhir-unreachable"
    fhir_error = "fhir-error"
    deadline = "deadline"
    incomplete = "incomplete"  # pages or references left unread
    budget = "budget"  # the call's cap on FHIR requests or bytes was reached


@dataclass(frozen=True, slots=True)
class DataGap:
    """A part of the record that could not be read, so the rules know what they missed."""

    resource_type: str
    reason: GapReason


@dataclass(frozen=True, slots=True)
class PatientRecord:
    patient_id: str
    medications: tuple[MedicationUse, ...] = ()  # the EHR's record (not this session's drafts)
    draft_orders: tuple[MedicationUse, ...] = ()  # every unsigned order of this session
    selected_orders: tuple[MedicationUse, ...] = ()  # the orders the clinician is acting on
    conditions: tuple[ConditionEntry, ...] = ()
    gaps: tuple[DataGap, ...] = field(default_factory=tuple)

    @property
    def active_condition_kinds(self) -> frozenset[ConditionKind]:
        return frozenset(k for c in self.conditions if c.active for k in c.kinds)
