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
from app.knowledge.strength import Strength
from app.knowledge.units import SOLID_UNITS, Amount, same_unit


class MedicationSource(StrEnum):
    request = "MedicationRequest"
    statement = "MedicationStatement"
    dispense = "MedicationDispense"
    administration = "MedicationAdministration"


@dataclass(frozen=True, slots=True)
class DailyUse:
    """How much of the product the dosing uses per day, in the dose's unit.

    For regular dosing the smallest amount the instructions allow (a supply lasts
    longest at it); for as-needed dosing the most allowed, so a supply read from it
    runs out no *earlier* than computed and possibly later.
    """

    amount: Amount
    as_needed: bool


@dataclass(frozen=True, slots=True)
class SupplyFacts:
    """What a record states about when the drug was (or can be) taken, read as written.

    No judgement here: ``app/rules/last_use.py`` turns these facts into the last
    day the drug could have been taken. Only what it reads is read: when a supply is
    stated in days (``supply_days``), that is the supply, and ``quantity``, ``daily``
    and ``free_text_dosing`` are left empty.
    """

    start: date | None = None  # authoredOn / effective start / whenHandedOver / administered
    asserted: date | None = None  # MedicationStatement.dateAsserted
    stated_end: date | None = None  # effectivePeriod.end, effectiveDateTime (a stated last day)
    open_ended: bool = False  # an effectivePeriod with a start and no end
    supply_days: int | None = None  # expectedSupplyDuration / daysSupply
    quantity: Amount | None = (
        None  # dispenseRequest.quantity (one fill) / dispensed quantity; not read with supply_days
    )
    repeats: int = 0  # numberOfRepeatsAllowed
    validity_end: date | None = None  # dispenseRequest.validityPeriod.end
    daily: DailyUse | None = None  # from structured dosing; None when absent, free text only, or not read
    free_text_dosing: bool = False  # dosing given only as text

    @property
    def needs_strength(self) -> bool:
        """Whether the supply's length depends on the product's strength: no supply in days,
        and a quantity the dosing does not count in (10 mg a dose from a box of tablets)."""
        return (
            not self.supply_days
            and self.daily is not None
            and self.quantity is not None
            and not same_unit(self.daily.amount.unit, self.quantity.unit)
        )


@dataclass(frozen=True, slots=True)
class DoseStep:
    """One ``dosageInstruction``: dose per administration and how long it lasts."""

    sequence: int
    dose_mg: float | None
    duration_days: int | None
    text: str | None
    as_written: str | None = None  # the dose as the order writes it ("4.5 mcg", "10 mL")
    problem: str | None = None  # why a written dose could not be turned into mg


@dataclass(frozen=True, slots=True)
class MedicationUse:
    source: MedicationSource
    resource_id: str | None
    status: str  # lower-case FHIR status; "" when the resource has none
    name: str  # what a clinician would call it, for card text
    drug: DrugProfile
    started: date | None = None  # authoredOn / effective start / whenHandedOver / administered
    supply: SupplyFacts = SupplyFacts()  # read only for opioids and naltrexone
    dose_steps: tuple[DoseStep, ...] = ()
    # mg per unit of the product: read for naltrexone, and where the supply needs it (SupplyFacts.needs_strength)
    strength: Strength | None = None
    status_reason: str | None = None  # statusReason text and displays, as recorded (standard therapies only)
    is_draft: bool = False  # part of this hook's draftOrders

    @property
    def first_step(self) -> DoseStep | None:
        return next((s for s in self.dose_steps if s.dose_mg is not None or s.problem), None)

    @property
    def first_dose_mg(self) -> float | None:
        """Dose per administration of the first step that states one.

        With no dose written at all, one tablet or capsule of the product's strength
        ("naltrexone 4.5 mg capsule"); never one mL of a liquid, whose volume is the dose.
        """
        step = self.first_step
        if step is not None:
            return step.dose_mg
        if self.strength is not None and self.strength.per in SOLID_UNITS:
            return self.strength.mg
        return None

    @property
    def dose_problem(self) -> str | None:
        step = self.first_step
        return step.problem if step is not None else None

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
    # clinicalStatus "remission", or a code or text that says "in remission" (F11.21)
    in_remission: bool = False
    clinical_status: str | None = None  # lower-case code as recorded; None when absent
    refuted: bool = False  # verificationStatus refuted
    codings: tuple[tuple[str, str, str | None], ...] = ()  # (canonical system, code, display)


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
