"""Naltrexone doses as written: amounts in text, and which kind of naltrexone order a dose makes."""

from __future__ import annotations

import re
from enum import StrEnum

from app.clinical_settings import ClinicalSettings
from app.knowledge.medications import NaltrexoneProduct
from app.knowledge.units import Amount, amount

_NUMBER = r"(\d{1,5}(?:[.,]\d{1,4})?)"
_WORD_NUMBERS = {"one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "half": 0.5}
# "4.5 mg", "4.5mg", "4,5 mg", "1.5 milligrams", "500 mcg"; not a concentration ("1 mg/mL", "5 mg per
# 5 mL") and not a product's strength ("1.5 mg capsule", "50 mg tablets").
_MASS_DOSE = re.compile(
    rf"(?<![\w.,]){_NUMBER}\s*(mg|milligrams?|mcg|micrograms?|µg|ug)\b"
    r"(?!\s*(?:/|per\b|(?:oral\s+)?(?:capsules?|caps?|tablets?|tabs?)\b))",
    re.IGNORECASE,
)
# "take 2 capsules", "4.5 mL", "10 drops", "one tablet"
_UNIT_DOSE = re.compile(
    rf"(?<![\w.,])({_NUMBER[1:-1]}|one|two|three|four|half)\s*"
    r"(capsules?|caps?|tablets?|tabs?|ml|milliliters?|millilitres?|drops?|patch(?:es)?|films?)\b(?!\s*/)",
    re.IGNORECASE,
)
# Not a clinical threshold: a data-sanity bound. No naltrexone product comes near 10 g a
# dose; anything above is a data error (1e308 g), and is read as "dose unknown".
_IMPLAUSIBLE_DOSE_MG = 10_000.0


def plausible_mg(mg: float) -> float | None:
    return mg if 0 < mg <= _IMPLAUSIBLE_DOSE_MG else None


def mass_doses_in_text(text: str | None) -> list[tuple[float, str]]:
    """Every mass amount written as a dose in ``text``: (mg, as written), in order; concentrations excluded."""
    found: list[tuple[float, str]] = []
    for match in _MASS_DOSE.finditer(text or ""):
        value = float(match.group(1).replace(",", "."))
        read = amount(value, match.group(2))
        if read is not None and (mg := plausible_mg(read.value)) is not None:
            found.append((mg, f"{value:g} {match.group(2)}"))
    return found


def dose_mg_from_text(text: str | None) -> float | None:
    """The first dose written in ``text``, in mg; ``None`` if no dose is written."""
    doses = mass_doses_in_text(text)
    return doses[0][0] if doses else None


def unit_dose_in_text(text: str | None) -> Amount | None:
    """The first amount of the product itself ("2 capsules", "4.5 mL") written in ``text``."""
    match = _UNIT_DOSE.search(text or "")
    if not match:
        return None
    raw = match.group(1).lower()
    value = _WORD_NUMBERS.get(raw) or float(raw.replace(",", "."))
    return amount(value, match.group(2))


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
