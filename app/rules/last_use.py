"""When could this drug last have been taken? The one model of exposure in time.

Every rule that asks "is the patient still exposed?" (opioids before naltrexone,
naltrexone blocking an opioid) and "how long was it taken?" reads a record's
*last possible use* from here, never its status alone: a ``completed`` order
may still be in the patient's cupboard, an ``active`` order says nothing about
how long ago it was written. Status is evidence, read together with the dates:

- **current** statuses (the EHR says it is taken now) count as use today;
- **by-dates** statuses (finished, paused or unclear) count until the last day
  the record's own supply or dates allow;
- **never** statuses (cancelled, not taken, entered in error) never count.

A supply's last day is ``start + days - 1``: a 7-day supply handed over on the
1st covers the 1st to the 7th. Where nothing gives an end (free-text dosing, no
quantity, an open-ended report), the end is *unknown* and the rules say so
instead of guessing; ``max_assumed_supply_days`` bounds how long that doubt lasts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum, StrEnum

from app.clinical_settings import ClinicalSettings
from app.domain.record import MedicationSource, MedicationUse, SupplyFacts
from app.knowledge.medications import Depot, NaltrexoneProduct
from app.knowledge.strength import Strength
from app.knowledge.units import MASS, Amount, same_unit


class StatusMeaning(StrEnum):
    current = "current"  # the EHR says it is taken now
    by_dates = "by-dates"  # finished, paused or unclear: its dates decide
    never = "never"  # never reached the patient, or recorded in error


_CURRENT, _BY_DATES, _NEVER = StatusMeaning.current, StatusMeaning.by_dates, StatusMeaning.never
# The "Current opioid exposure" table of docs/clinical-rules.md, as implemented.
STATUS_MEANING: dict[MedicationSource, dict[str, StatusMeaning]] = {
    MedicationSource.request: {
        "active": _CURRENT, "on-hold": _CURRENT, "draft": _CURRENT, "unknown": _CURRENT,
        "completed": _BY_DATES, "stopped": _BY_DATES,
        "cancelled": _NEVER, "entered-in-error": _NEVER,
    },
    MedicationSource.statement: {
        "active": _CURRENT, "intended": _CURRENT,
        "on-hold": _BY_DATES, "unknown": _BY_DATES, "completed": _BY_DATES, "stopped": _BY_DATES,
        "not-taken": _NEVER, "entered-in-error": _NEVER,
    },
    MedicationSource.dispense: {
        "completed": _BY_DATES, "stopped": _BY_DATES, "unknown": _BY_DATES,
        "preparation": _NEVER, "in-progress": _NEVER, "on-hold": _NEVER, "cancelled": _NEVER,
        "declined": _NEVER, "entered-in-error": _NEVER,
    },
    MedicationSource.administration: {
        "completed": _BY_DATES, "in-progress": _BY_DATES, "stopped": _BY_DATES, "unknown": _BY_DATES,
        "not-done": _NEVER, "entered-in-error": _NEVER,
    },
}  # fmt: skip


def status_meaning(use: MedicationUse) -> StatusMeaning:
    """What the record's status says. A status outside the table (or none) is read by its dates."""
    if use.is_draft:
        return StatusMeaning.current  # ordered in this very session
    return STATUS_MEANING[use.source].get(use.status, StatusMeaning.by_dates)


class Certainty(StrEnum):
    known = "known"  # the last day is stated, or computed from a stated supply
    at_least = "at-least"  # the last day is no earlier than ``day``; it may be later
    unknown = "unknown"  # nothing in the record gives an end


class EndBasis(StrEnum):
    """How the last day was found; the cards say it in words."""

    still_current = "still-current"
    supply_duration = "supply-duration"  # expectedSupplyDuration / daysSupply
    quantity_and_dose = "quantity-and-dose"  # quantity ÷ daily dose
    as_needed_maximum = "as-needed-maximum"  # quantity ÷ maximum daily dose: the earliest end
    validity_end = "validity-end"  # the last fill the prescription allows
    stated_end = "stated-end"  # effectivePeriod.end, effectiveDateTime
    reported = "reported"  # dateAsserted of a finished report
    open_report = "open-report"  # an open-ended report: taken at least until it was made
    given = "given"  # the day an injection was given
    depot = "depot"  # a patch, depot injection or implant: acting for days after it was given
    open_administration = "open-administration"  # an administration with a start and no end
    inferred_injection = "inferred-injection"  # injection day taken from an order or dispense: that day or later
    units_differ = "units-differ"  # quantity and dose in units that do not combine
    free_text_dosing = "free-text-dosing"
    no_supply = "no-supply"
    no_date = "no-date"


@dataclass(frozen=True, slots=True)
class LastUse:
    meaning: StatusMeaning
    day: date | None  # last possible day (known) or earliest possible last day (at_least)
    certainty: Certainty
    basis: EndBasis
    supply_days: int | None = None  # the supply that gave ``day``, for the card's words
    cap_from: date | None = None  # where an uncertain end's assumed-supply cap counts from


class Level(IntEnum):
    """How a record bears on today, in order of concern."""

    none = 0  # never taken
    history = 1  # taken, but the window after its last possible use has passed
    possible = 2  # may still matter: the end of use is not known
    exposure = 3  # inside the window after the last possible use, or current


@dataclass(frozen=True, slots=True)
class Judgement:
    level: Level
    last: LastUse
    window_days: int
    clear_from: date | None  # first day outside the window if no more is taken; None when unknown


def plus_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:  # dates near 9999-12-31 in hostile or broken records
        return date.max if days > 0 else date.min


def last_use(use: MedicationUse, today: date, clinical: ClinicalSettings) -> LastUse:
    meaning = status_meaning(use)
    dated = _end_from_dates(use, today, clinical)
    if meaning is not StatusMeaning.current:
        if dated.meaning is meaning:  # as every reading of the dates gives it
            return dated
        return LastUse(meaning, dated.day, dated.certainty, dated.basis, dated.supply_days, dated.cap_from)
    # Current: taken today at least; later if the supply runs on.
    if dated.day is not None and dated.day > today:
        return LastUse(meaning, dated.day, Certainty.known, dated.basis, dated.supply_days)
    return LastUse(meaning, today, Certainty.known, EndBasis.still_current)


def judge(use: MedicationUse, today: date, window_days: int, clinical: ClinicalSettings) -> Judgement:
    """Where a record stands today, given the window that must pass after its last use."""
    last = last_use(use, today, clinical)
    if last.meaning is StatusMeaning.never:
        return Judgement(Level.none, last, window_days, None)
    if last.day is not None and last.certainty is not Certainty.unknown:
        clear_from = plus_days(last.day, window_days + 1)
        if today < clear_from:
            return Judgement(Level.exposure, last, window_days, clear_from)
        if last.certainty is Certainty.known:
            return Judgement(Level.history, last, window_days, clear_from)
    if last.cap_from is None:
        return Judgement(Level.possible, last, window_days, None)  # no date at all: cannot be placed in time
    doubt_ends = plus_days(last.cap_from, clinical.max_assumed_supply_days + window_days)
    if today < doubt_ends:
        return Judgement(Level.possible, last, window_days, doubt_ends)
    return Judgement(Level.history, last, window_days, doubt_ends)


def _end_from_dates(use: MedicationUse, today: date, clinical: ClinicalSettings) -> LastUse:
    """The last possible day as the record's dates and supply give it (status aside)."""
    facts = use.supply
    if use.drug.naltrexone is NaltrexoneProduct.er_injectable_380mg:
        return _injection_day(use)
    if use.source is MedicationSource.administration:
        return _administration_end(use, facts, today, clinical)
    if use.source is MedicationSource.statement:
        return _statement_end(use, facts)
    return _supply_end(use, facts)


def _administration_end(use: MedicationUse, facts: SupplyFacts, today: date, clinical: ClinicalSettings) -> LastUse:
    meaning = status_meaning(use)
    day = facts.stated_end or facts.start
    if day is None:
        return LastUse(meaning, None, Certainty.unknown, EndBasis.no_date)
    if use.status == "in-progress":
        return LastUse(meaning, max(day, today), Certainty.known, EndBasis.given)
    if (acts := _depot_days(use, clinical)) is not None:
        # A patch keeps delivering until it comes off; a depot injection or implant for weeks.
        return LastUse(meaning, plus_days(day, acts - 1), Certainty.known, EndBasis.depot, supply_days=acts)
    if facts.open_ended:
        # An infusion with a start and no end: running at least from its start.
        return LastUse(meaning, day, Certainty.at_least, EndBasis.open_administration, cap_from=day)
    return LastUse(meaning, day, Certainty.known, EndBasis.given)


def _depot_days(use: MedicationUse, clinical: ClinicalSettings) -> int | None:
    match use.drug.depot:
        case Depot.patch:
            hours = use.drug.depot_hours
            return math.ceil(hours / 24) if hours else clinical.opioid_patch_wear_days_default
        case Depot.injection:
            return clinical.depot_buprenorphine_injection_days
        case Depot.implant:
            return clinical.depot_buprenorphine_implant_days
    return None


def _injection_day(use: MedicationUse) -> LastUse:
    """Extended-release naltrexone: the day of the injection is its last "use".

    Known from an administration (or a report of it); from an order or a dispense only the
    day it was written or handed over, so the injection was given that day *or later*.
    """
    meaning = status_meaning(use)
    facts = use.supply
    if use.source in (MedicationSource.administration, MedicationSource.statement):
        day = facts.stated_end or facts.start
        basis = EndBasis.given if use.source is MedicationSource.administration else EndBasis.stated_end
        if day is None:
            return LastUse(meaning, None, Certainty.unknown, EndBasis.no_date)
        return LastUse(meaning, day, Certainty.known, basis)
    if facts.start is None:
        return LastUse(meaning, None, Certainty.unknown, EndBasis.no_date)
    return LastUse(meaning, facts.start, Certainty.at_least, EndBasis.inferred_injection, cap_from=facts.start)


def _statement_end(use: MedicationUse, facts: SupplyFacts) -> LastUse:
    meaning = status_meaning(use)
    if facts.stated_end is not None:
        return LastUse(meaning, facts.stated_end, Certainty.known, EndBasis.stated_end)
    reported = facts.asserted or facts.start
    if reported is None:
        return LastUse(meaning, None, Certainty.unknown, EndBasis.no_date)
    if use.status in ("completed", "stopped") and facts.asserted is not None:
        return LastUse(meaning, facts.asserted, Certainty.known, EndBasis.reported)  # over by the time it was reported
    # Paused, unknown, or no status: taken at least until the report, maybe since.
    return LastUse(meaning, reported, Certainty.at_least, EndBasis.open_report, cap_from=reported)


def _supply_end(use: MedicationUse, facts: SupplyFacts) -> LastUse:
    """Requests and dispenses: start + (1 + repeats) × one fill's supply."""
    meaning = status_meaning(use)
    if facts.start is None:
        return LastUse(meaning, None, Certainty.unknown, EndBasis.no_date)
    days, basis, certainty = _fill_days(facts, use.strength)
    if days is None:
        # Written or handed over that day: taken at least then, maybe for long after.
        return LastUse(meaning, facts.start, Certainty.at_least, basis, cap_from=facts.start)
    fills = 1 + facts.repeats
    day = plus_days(facts.start, fills * days - 1)
    if facts.validity_end is not None:
        # The last fill can be handed over on the validity period's last day at the latest;
        # its supply then lasts one fill beyond it.
        latest = plus_days(facts.validity_end, days - 1)
        if latest < day:
            day, basis = latest, EndBasis.validity_end
    cap_from = facts.start if certainty is Certainty.at_least else None
    return LastUse(meaning, day, certainty, basis, supply_days=fills * days, cap_from=cap_from)


def _fill_days(facts: SupplyFacts, strength: Strength | None) -> tuple[int | None, EndBasis, Certainty]:
    if facts.supply_days is not None and facts.supply_days > 0:
        return facts.supply_days, EndBasis.supply_duration, Certainty.known
    daily, quantity = facts.daily, facts.quantity
    per_day = _in_unit(daily.amount, quantity.unit, strength) if daily is not None and quantity is not None else None
    if daily is not None and quantity is not None and per_day:
        days = max(1, math.ceil(quantity.value / per_day - 1e-9))
        if daily.as_needed:
            return days, EndBasis.as_needed_maximum, Certainty.at_least
        return days, EndBasis.quantity_and_dose, Certainty.known
    if daily is not None and quantity is not None:
        return None, EndBasis.units_differ, Certainty.unknown
    return None, EndBasis.free_text_dosing if facts.free_text_dosing else EndBasis.no_supply, Certainty.unknown


def _in_unit(daily: Amount, unit: str, strength: Strength | None) -> float | None:
    """The daily amount in the quantity's unit: as written, or through the product's strength
    (5 mg a dose of a 5 mg tablet is one tablet; 10 mg of a 10 mg/mL solution is 1 mL)."""
    if same_unit(daily.unit, unit):
        return daily.value if daily.value > 0 else None
    if strength is None:
        return None
    if daily.unit == MASS:
        converted = strength.units_in(daily.value)
        if same_unit(converted.unit, unit):
            return converted.value if converted.value > 0 else None
    if unit == MASS:
        return strength.mg_in(daily)
    return None
