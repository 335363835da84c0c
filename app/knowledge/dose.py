"""Naltrexone doses as written: amounts in text, and which kind of naltrexone order a dose makes."""

from __future__ import annotations

import re
from enum import StrEnum

from app.clinical_settings import ClinicalSettings
from app.knowledge.medications import NaltrexoneProduct
from app.knowledge.units import Amount, amount

_NUMBER = r"(\d{1,5}(?:[.,]\d{1,4})?)"
_WORD_NUMBERS = {"one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "half": 0.5, "½": 0.5, "¼": 0.25, "¾": 0.75}
# An amount of the product: "2", "0.5", "1/2", "½", "two", "half (a)"
_COUNT = r"(\d{1,3}\s*/\s*\d{1,3}|\d{1,5}(?:[.,]\d{1,4})?|one|two|three|four|half(?:\s+an?)?|½|¼|¾)"
_TIME_UNIT = r"(?:wks?|weeks?|d|days?|mo|months?|hrs?|h|hours?|nights?)\b"
# "2 x 4.5 mg capsules", "two 4.5 mg capsules", "2 x 1.5 mg capsule": N pieces of an M mg strength
_PIECES_OF_STRENGTH = re.compile(
    rf"(?<![\w.,/]){_COUNT}(?:\s*(?:x|×|times)\s*|\s+){_NUMBER}\s*(mg|mcg|micrograms?|µg|ug)\s*"
    r"(?:oral\s+)?(capsules?|caps?|tablets?|tabs?)\b",
    re.IGNORECASE,
)
# "4.5 mg x 2" (twice the amount; not "1.5 mg x 2 weeks", a duration)
_STRENGTH_TIMES = re.compile(
    rf"(?<![\w.,]){_NUMBER}\s*(mg|mcg|micrograms?|µg|ug)\s*(?:x|×)\s*(\d)\b(?!\s*{_TIME_UNIT})",
    re.IGNORECASE,
)
# "4.5 mg", "4.5mg", "4,5 mg", "1.5 milligrams", "500 mcg"; not a concentration ("1 mg/mL", "5 mg per
# 5 mL") and not a product's strength ("1.5 mg capsule", "50 mg tablets").
_MASS_DOSE = re.compile(
    rf"(?<![\w.,]){_NUMBER}\s*(mg|milligrams?|mcg|micrograms?|µg|ug)\b"
    r"(?!\s*(?:/|per\b|(?:oral\s+)?(?:capsules?|caps?|tablets?|tabs?)\b))",
    re.IGNORECASE,
)
# "take 2 capsules", "4.5 mL", "10 drops", "one tablet", "1/2 tablet", "half a tablet"
_UNIT_DOSE = re.compile(
    rf"(?<![\w.,/]){_COUNT}\s*"
    r"(capsules?|caps?|tablets?|tabs?|ml|milliliters?|millilitres?|cc|drops?|patch(?:es)?|films?)\b(?!\s*/)",
    re.IGNORECASE,
)
# Not a clinical threshold: a data-sanity bound. No naltrexone product comes near 10 g a
# dose; anything above is a data error (1e308 g), and is read as "dose unknown".
_IMPLAUSIBLE_DOSE_MG = 10_000.0


def format_mg(value: float) -> str:
    """4.5 -> "4.5", 3.0 -> "3": how doses are written on cards."""
    return f"{value:g}"


def plausible_mg(mg: float) -> float | None:
    return mg if 0 < mg <= _IMPLAUSIBLE_DOSE_MG else None


def _count(written: str) -> float:
    """A product amount as written: "2", "0,5", "1/2", "½", "two", "half a"."""
    word = written.strip().lower().split()[0]
    if word in _WORD_NUMBERS:
        return _WORD_NUMBERS[word]
    if "/" in written:
        top, bottom = (float(part) for part in written.split("/"))
        return top / bottom if bottom else 0.0
    return float(written.replace(",", "."))


def mass_doses_in_text(text: str | None) -> list[tuple[float, str]]:
    """Every mass amount written as a dose in ``text``: (mg, as written), in order.

    Counts of a strength are multiplied ("2 x 1.5 mg capsules" is 3 mg); concentrations
    ("1 mg/mL") and strengths alone ("1.5 mg capsule") are not doses.
    """
    text = text or ""
    found: list[tuple[float, str]] = []
    for pattern, multiplied in ((_PIECES_OF_STRENGTH, _pieces_of_strength), (_STRENGTH_TIMES, _strength_times)):
        for match in pattern.finditer(text):
            if (dose := multiplied(match)) is not None:
                found.append(dose)
        text = pattern.sub(" ", text)  # read once: not again as a plain amount below
    for match in _MASS_DOSE.finditer(text):
        value = float(match.group(1).replace(",", "."))
        read = amount(value, match.group(2))
        if read is not None and (mg := plausible_mg(read.value)) is not None:
            found.append((mg, f"{value:g} {match.group(2)}"))
    return found


def _pieces_of_strength(match: re.Match[str]) -> tuple[float, str] | None:
    pieces, strength = _count(match.group(1)), float(match.group(2).replace(",", "."))
    per_piece = amount(strength, match.group(3))
    mg = plausible_mg(pieces * per_piece.value) if per_piece else None
    return (mg, " ".join(match.group(0).split())) if mg else None


def _strength_times(match: re.Match[str]) -> tuple[float, str] | None:
    per_dose = amount(float(match.group(1).replace(",", ".")), match.group(2))
    mg = plausible_mg(per_dose.value * int(match.group(3))) if per_dose else None
    return (mg, " ".join(match.group(0).split())) if mg else None


def dose_mg_from_text(text: str | None) -> float | None:
    """The first dose written in ``text``, in mg; ``None`` if no dose is written."""
    doses = mass_doses_in_text(text)
    return doses[0][0] if doses else None


def unit_dose_in_text(text: str | None) -> Amount | None:
    """The first amount of the product itself ("2 capsules", "4.5 mL") written in ``text``."""
    match = _UNIT_DOSE.search(text or "")
    if not match:
        return None
    return amount(_count(match.group(1)), match.group(2))


class DoseClass(StrEnum):
    low_dose = "low-dose"
    below_low_dose_range = "below-low-dose-range"  # below ldn_unit_error_below_mg: a unit slip?
    above_low_dose_max = "above-low-dose-max"
    standard_oral = "standard-oral"
    er_injectable = "er-injectable"
    bupropion_combination = "naltrexone-bupropion"
    unknown = "unknown"


def classify_naltrexone_dose(
    product: NaltrexoneProduct, dose_mg: float | None, clinical: ClinicalSettings
) -> DoseClass:
    """Which naltrexone order this is, from the dose read. A missing dose is ``unknown``, never guessed.

    The product decides only where it fixes the dose (the 380 mg injection, the bupropion
    combination); a 50 mg tablet code with "take 4.5 mg" written is low-dose naltrexone
    compounded from the tablet.
    """
    if product is NaltrexoneProduct.bupropion_combination:
        return DoseClass.bupropion_combination
    if product is NaltrexoneProduct.er_injectable_380mg:
        return DoseClass.er_injectable
    if dose_mg is None or dose_mg <= 0:
        return DoseClass.unknown
    if dose_mg < clinical.ldn_unit_error_below_mg:
        return DoseClass.below_low_dose_range
    if dose_mg <= clinical.ldn_max_mg:
        return DoseClass.low_dose
    if dose_mg < clinical.standard_oral_mg:
        return DoseClass.above_low_dose_max
    if dose_mg >= clinical.er_injectable_mg:
        return DoseClass.er_injectable
    return DoseClass.standard_oral
