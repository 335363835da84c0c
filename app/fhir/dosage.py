"""FHIR ``Dosage``: the dose of each step in mg, and how much of a product is used per day.

A dose is amount x strength: "4.5 mg" is 4.5 mg, "2 capsules" of a 1.5 mg capsule is
3 mg, "10 mL" of a 1 mg/mL suspension is 10 mg. An explicit mg amount in the instruction
text wins (the clinician wrote it); two readings in mg that disagree, or units that do not
combine with the product (drops of a mg/mL liquid, mL of a tablet), make the dose unknown,
and the card says why.

Supply (how long a quantity lasts) is read from structured fields only: free text
("1 tab q6h prn") is never parsed for it, because a misread frequency would move the day
a supply runs out, and that day decides whether naltrexone is safe.
"""

from __future__ import annotations

from typing import Any

from app.domain.record import DailyUse, DoseStep
from app.fhir.values import as_dict, as_list, as_str, duration_days, number
from app.knowledge.dose import mass_doses_in_text, plausible_mg, unit_dose_in_text
from app.knowledge.strength import Strength
from app.knowledge.units import MASS, Amount, amount

# Days per UCUM time unit of Timing.repeat.periodUnit.
_DAYS_PER_PERIOD_UNIT = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, "wk": 7.0, "mo": 30.0, "a": 365.0}
_DAYS_PER_WORD = {"day": 1.0, "days": 1.0, "hour": 1 / 24, "hours": 1 / 24, "week": 7.0, "weeks": 7.0}
# Administrations per day of the FHIR TimingAbbreviation codes (HL7 v3 GTSAbbreviation).
_TIMING_CODES_PER_DAY = {
    "QD": 1.0, "AM": 1.0, "PM": 1.0, "BED": 1.0, "BID": 2.0, "TID": 3.0, "QID": 4.0, "QOD": 0.5,
    "Q1H": 24.0, "Q2H": 12.0, "Q3H": 8.0, "Q4H": 6.0, "Q6H": 4.0, "Q8H": 3.0, "WK": 1 / 7, "MO": 1 / 30,
}  # fmt: skip
# More administrations a day than any real regimen: a data error, not a schedule.
_MAX_PER_DAY = 48.0


def daily_use(dosages: Any) -> tuple[DailyUse | None, bool]:
    """(daily use, dosing was free text only) of a list of ``Dosage``.

    Several instructions are steps or alternatives: regular dosing takes the smallest
    daily amount among them (the supply then lasts longest); if any instruction is
    as-needed, the amounts are added up as a maximum (the supply runs out no earlier).
    """
    regular: list[Amount] = []
    as_needed: list[Amount] = []
    instructions = 0
    for raw in as_list(dosages):
        dosage = as_dict(raw)
        if not dosage:
            continue
        instructions += 1
        prn = _as_needed(dosage)
        per_day = _daily_amount(dosage, maximum=prn)
        if per_day is not None:
            (as_needed if prn else regular).append(per_day)
    if not regular and not as_needed:
        return None, instructions > 0
    unit = (as_needed or regular)[0].unit
    if as_needed:
        total = sum(a.value for a in (*as_needed, *regular) if a.unit == unit)
        return DailyUse(Amount(total, unit), as_needed=True), False
    return DailyUse(min((a for a in regular if a.unit == unit), key=lambda a: a.value), as_needed=False), False


def _as_needed(dosage: dict[str, Any]) -> bool:
    return dosage.get("asNeededBoolean") is True or isinstance(dosage.get("asNeededCodeableConcept"), dict)


def dose_amount(dosage: dict[str, Any], *, maximum: bool) -> Amount | None:
    """The amount per administration; of a range its low end, or its high end when ``maximum``."""
    found = _dose_quantity(dosage, maximum=maximum)
    return found[0] if found else None


def _dose_quantity(dosage: dict[str, Any], *, maximum: bool) -> tuple[Amount, dict[str, Any]] | None:
    """The amount per administration and the ``Quantity`` it was read from."""
    candidates: list[Any] = []
    for raw in as_list(dosage.get("doseAndRate")):
        dose_and_rate = as_dict(raw)
        dose_range = as_dict(dose_and_rate.get("doseRange"))
        candidates += [
            dose_and_rate.get("doseQuantity"),
            dose_range.get("high" if maximum else "low"),
            dose_range.get("low" if maximum else "high"),
        ]
    # STU3's Dosage.doseQuantity, still sent by some clients; MedicationAdministration's dosage.dose.
    candidates += [dosage.get("doseQuantity"), dosage.get("dose")]
    for candidate in candidates:
        if found := _quantity(candidate):
            return found, as_dict(candidate)
    return None


def _daily_amount(dosage: dict[str, Any], *, maximum: bool) -> Amount | None:
    if maximum and (capped := _max_per_day(dosage.get("maxDosePerPeriod"))):
        return capped
    dose = dose_amount(dosage, maximum=maximum)
    per_day = _administrations_per_day(as_dict(dosage.get("timing")), maximum=maximum)
    if dose is None or per_day is None:
        return None
    return Amount(dose.value * per_day, dose.unit)


def _administrations_per_day(timing: dict[str, Any], *, maximum: bool) -> float | None:
    repeat = as_dict(timing.get("repeat"))
    per_day: float | None = None
    period = number(repeat.get("period"))
    period_max = number(repeat.get("periodMax"))
    unit_days = _DAYS_PER_PERIOD_UNIT.get(as_str(repeat.get("periodUnit")) or "")
    if period and unit_days:
        frequency = number(repeat.get("frequency")) or 1.0
        frequency_max = number(repeat.get("frequencyMax"))
        if maximum:
            times, days = frequency_max or frequency, period * unit_days
        else:
            times, days = frequency, (period_max or period) * unit_days
        per_day = times / days
    elif when := [w for w in as_list(repeat.get("when")) + as_list(repeat.get("timeOfDay")) if isinstance(w, str)]:
        per_day = float(len(when))
    else:
        code = as_dict(timing.get("code"))
        for coding in as_list(code.get("coding")):
            if (value := as_str(as_dict(coding).get("code"))) and value.upper() in _TIMING_CODES_PER_DAY:
                per_day = _TIMING_CODES_PER_DAY[value.upper()]
                break
    if per_day is None or not 0 < per_day <= _MAX_PER_DAY:
        return None
    return per_day


def _max_per_day(ratio: Any) -> Amount | None:
    """``maxDosePerPeriod`` (e.g. 4 tablets / 1 day) as an amount per day."""
    ratio = as_dict(ratio)
    numerator = _quantity(ratio.get("numerator"))
    denominator = as_dict(ratio.get("denominator"))
    unit = (as_str(denominator.get("code")) or as_str(denominator.get("unit")) or "").lower()
    days = _DAYS_PER_PERIOD_UNIT.get(unit) or _DAYS_PER_WORD.get(unit)
    count = number(denominator.get("value"))
    if numerator is None or not days or not count:
        return None
    return Amount(numerator.value / (count * days), numerator.unit)


def _quantity(value: Any) -> Amount | None:
    quantity = as_dict(value)
    return amount(quantity.get("value"), quantity.get("unit"), quantity.get("code"))


# Readings closer than this are the same dose written two ways (4.5 mg and 4.5 mL of 1 mg/mL).
_SAME_DOSE_MG = 0.01


def dose_steps(dosages: Any, strength: Strength | None) -> tuple[DoseStep, ...]:
    steps: list[DoseStep] = []
    for index, raw in enumerate(as_list(dosages)):
        dosage = as_dict(raw)
        text = as_str(dosage.get("text")) or as_str(dosage.get("patientInstruction"))
        mg, as_written, problem = read_dose(dosage, text, strength)
        sequence = dosage.get("sequence")
        repeat = as_dict(as_dict(dosage.get("timing")).get("repeat"))
        steps.append(
            DoseStep(
                sequence=sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else index + 1,
                dose_mg=mg,
                duration_days=duration_days(repeat.get("boundsDuration")),
                text=text,
                as_written=as_written,
                problem=problem,
            )
        )
    return tuple(sorted(steps, key=lambda s: s.sequence))


def read_dose(
    dosage: dict[str, Any], text: str | None, strength: Strength | None
) -> tuple[float | None, str | None, str | None]:
    """(dose in mg, the dose as written, why it could not be read) of one ``Dosage``."""
    structured_mg: float | None = None
    structured_text: str | None = None
    problem: str | None = None
    if found := _dose_quantity(dosage, maximum=False):
        structured, quantity = found
        structured_text = _written(structured, quantity)
        structured_mg, problem = _in_mg(structured, structured_text, strength)

    written_mg = mass_doses_in_text(text)
    distinct = list(dict.fromkeys(w for _, w in written_mg))
    if len({round(mg, 3) for mg, _ in written_mg}) > 1:
        return None, structured_text, f"the instructions name several doses ({', '.join(distinct)})"
    if written_mg:
        mg, written = written_mg[0]
        if structured_mg is not None and abs(structured_mg - mg) > _SAME_DOSE_MG:
            return (
                None,
                structured_text,
                (
                    f"the instructions say {written} but the structured dose, {structured_text}, is {_mg(structured_mg)} mg"
                ),
            )
        return mg, written, None
    if structured_mg is not None:
        return structured_mg, structured_text, None
    if problem is not None:
        return None, structured_text, problem
    if (units := unit_dose_in_text(text)) is not None:
        written = f"{_mg(units.value)} {units.unit}".strip()
        units_mg, problem = _in_mg(units, written, strength)
        return units_mg, written, problem
    return None, None, None


def _in_mg(dose: Amount, written: str, strength: Strength | None) -> tuple[float | None, str | None]:
    if dose.unit == MASS:
        return plausible_mg(dose.value), None
    if strength is None:
        return None, f"{written}: the product's strength is not stated, so the dose in mg is unknown"
    mg = strength.mg_in(dose)
    if mg is None and dose.unit == "":
        return None, f"{written} has no unit, so it could mean mg or tablets"
    if mg is None:
        per = strength.per or "unit"
        return None, f"{written} cannot be combined with a product of {_mg(strength.mg)} mg per {per}"
    return plausible_mg(mg), None


def _written(dose: Amount, quantity: dict[str, Any]) -> str:
    """The structured dose as the order writes it: ``4.5 mcg``, ``10 mL``."""
    value = number(quantity.get("value"))
    unit = as_str(quantity.get("unit")) or as_str(quantity.get("code")) or ""
    return f"{_mg(value if value is not None else dose.value)} {unit}".strip()


def _mg(value: float) -> str:
    return f"{value:g}"
