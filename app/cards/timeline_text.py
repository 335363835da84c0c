"""One line per opioid or naltrexone record: what it is, when it was last possibly taken, and
from when it no longer matters. Facts and dates only; the surrounding wording is in ``cards/``.
"""

from __future__ import annotations

from datetime import date, timedelta

from app.domain.record import MedicationSource, MedicationUse
from app.knowledge.medications import NaltrexoneProduct, OpioidClass
from app.rules.exposure import Exposure
from app.rules.last_use import Certainty, EndBasis, LastUse, Level

_RECORD = {
    MedicationSource.request: ("prescription", "written"),
    MedicationSource.statement: ("patient-reported", "from"),
    MedicationSource.dispense: ("dispensed", "handed over"),
    MedicationSource.administration: ("administered", "given"),
}


def day_text(value: date | None) -> str:
    return value.isoformat() if value else "date not recorded"


def record_text(use: MedicationUse) -> str:
    """``prescription, completed, written 2026-11-20``"""
    if use.is_draft:
        return "ordered in this session"
    kind, dated = _RECORD[use.source]
    status = {"": "status not recorded", "unknown": "status unknown"}.get(use.status, use.status)
    when = f"{dated} {day_text(use.started)}" if use.started else "no date recorded"
    return f"{kind}, {status}, {when}"


def _days(count: int | None) -> str:
    return "1 day" if count == 1 else f"{count} days"


def end_text(last: LastUse) -> str:
    """Why the last possible day is what it is, in a few words."""
    supply = last.supply_days
    match last.basis:
        case EndBasis.still_current:
            return "still current in the record"
        case EndBasis.supply_duration:
            return f"end of a {supply}-day supply"
        case EndBasis.quantity_and_dose:
            return f"end of its supply: {_days(supply)} at the prescribed dose"
        case EndBasis.as_needed_maximum:
            return f"as needed: {_days(supply)} at the maximum dose, longer if taken less often"
        case EndBasis.validity_end:
            return "the last fill the prescription's validity period allows"
        case EndBasis.stated_end:
            return "end date recorded"
        case EndBasis.reported:
            return "reported as finished by then"
        case EndBasis.open_report:
            return "reported as taken then, no end recorded"
        case EndBasis.given:
            return "the day it was given"
        case EndBasis.depot:
            return f"a patch or depot acts for {_days(supply)} after it is given (this service's assumption)"
        case EndBasis.open_administration:
            return "given from then on, no end recorded"
        case EndBasis.inferred_injection:
            return "injection date inferred from this record: that day or later"
        case EndBasis.units_differ:
            return "its quantity and dose are in units that do not combine, so the supply cannot be computed"
        case EndBasis.free_text_dosing:
            return "dosing in free text only, so the supply cannot be computed"
        case EndBasis.no_supply:
            return "no supply duration, quantity or structured dose recorded"
        case EndBasis.no_date:
            return "no date recorded"
    return last.basis.value


def opioid_line(exposure: Exposure, cap_days: int, *, naltrexone_start: bool = True) -> str:
    """A line of the opioid cards; with ``naltrexone_start``, the earliest day naltrexone could start."""
    use, judgement = exposure.use, exposure.judgement
    last, window = judgement.last, judgement.window_days
    head = f"- **{use.name}** ({record_text(use)})"
    if judgement.level is Level.exposure:
        clear = day_text(judgement.clear_from)
        if last.basis is EndBasis.still_current:
            if not naltrexone_start:
                return f"{head}: still current in the record."
            if use.drug.opioid_class is OpioidClass.methadone_buprenorphine:
                # Maintenance treatment is not stopped overnight: no "if stopped today".
                return (
                    f"{head}: still current in the record; naltrexone only after withdrawal is complete and at least "
                    f"{window} days opioid-free; plan any switch with the prescriber or treatment program."
                )
            return f"{head}: still current in the record; if stopped today, naltrexone not before {clear} ({window}-day window)."
        qualifier = "at the earliest " if last.certainty is Certainty.at_least else ""
        used = f"{head}: last possible use {qualifier}{day_text(last.day)} ({end_text(last)})"
        if not naltrexone_start:
            return f"{used}."
        return f"{used}; naltrexone not before {clear} if no more opioid is taken ({window}-day window)."
    if judgement.clear_from is None:
        return f"{head}: no date recorded, so it may be recent."
    until = day_text(judgement.clear_from - timedelta(days=1))
    known = f"taken until at least {day_text(last.day)}; " if last.day else ""
    return (
        f"{head}: end of use unknown ({known}{end_text(last)}); assuming a supply lasts at most "
        f"{cap_days} days, it may matter until {until}."
    )


def blockade_line(blockade: Exposure) -> str:
    """A line of the naltrexone-blocks-opioid / naltrexone-with-opioids cards."""
    use, judgement = blockade.use, blockade.judgement
    last = judgement.last
    head = f"- **{use.name}** ({record_text(use)})"
    if judgement.level is Level.possible:
        return f"{head}: end of supply unknown ({end_text(last)}); it may still be taken."
    if last.basis is EndBasis.still_current:
        return f"{head}: taken now per the record."
    until = day_text(judgement.clear_from - timedelta(days=1)) if judgement.clear_from else "unknown"
    if use.drug.naltrexone is NaltrexoneProduct.er_injectable_380mg:
        inferred = "injection date inferred from this record; " if last.basis is EndBasis.inferred_injection else ""
        return f"{head}: {inferred}blocks opioids until about {until}."
    return f"{head}: last possible dose {day_text(last.day)} ({end_text(last)}); counted as blocking until {until}."


def is_oral(blockade: Exposure) -> bool:
    return blockade.use.drug.naltrexone is not NaltrexoneProduct.er_injectable_380mg


def blockade_until(blockades: tuple[Exposure, ...]) -> str:
    """The summary's few words on how long the blockade lasts."""
    if any(b.judgement.last.basis is EndBasis.still_current for b in blockades):
        return "on naltrexone now"
    ends = [b.judgement.clear_from for b in blockades if b.level is Level.exposure and b.judgement.clear_from]
    if ends:
        return f"until about {day_text(max(ends) - timedelta(days=1))}"
    return "may still be taken"
