"""A product's strength: how many mg one unit (tablet, capsule, mL…) holds.

Read from a Medication's ``ingredient.strength`` ratio, or from the product's
name ("oxycodone 5 mg tablet", "naltrexone 1 mg/mL oral suspension",
"methadone 10 MG/ML Oral Solution"). A name with two strengths (a combination
product, "5-325 mg") or a rate ("25 mcg/hr") gives none: guessing which figure
belongs to the counted unit would be worse than saying nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.knowledge.units import MASS, VOLUME, Amount, canonical_unit, same_unit


@dataclass(frozen=True, slots=True)
class Strength:
    mg: float  # mg in one unit
    per: str  # the unit: "tablet", "capsule", "mL"…, or "" for "one piece of an unnamed solid form"

    def mg_in(self, amount: Amount) -> float | None:
        """mg in ``amount`` of this product (2 tablets, 4.5 mL); None when the units do not combine."""
        if amount.unit == MASS:
            return amount.value
        if amount.unit == "":
            return None  # "4.5" with no unit: mg or tablets? A dose is never guessed.
        if same_unit(amount.unit, self.per):
            return amount.value * self.mg
        return None

    def units_in(self, mg: float) -> Amount:
        """How much of the product holds ``mg`` (in the product's own unit)."""
        return Amount(mg / self.mg, self.per)


_NUMBER = r"(\d{1,5}(?:[.,]\d{1,4})?)"
_MASS_UNIT = r"(mg|milligrams?|mcg|micrograms?|µg|ug|g)"
_STRENGTH = re.compile(
    rf"(?<![\w.,]){_NUMBER}\s*{_MASS_UNIT}\b(?:\s*(?:/|per)\s*{_NUMBER}?\s*(ml|milliliters?|hr|h|hours?|actuation)\b)?",
    re.IGNORECASE,
)
# "5-325 mg", "5/325 mg", "8-2 mg": two ingredients' strengths sharing one unit.
_COMBINATION = re.compile(r"\d\s*[-/]\s*\d{1,5}(?:[.,]\d{1,4})?\s*(?:mg|mcg|µg|ug|g)\b", re.IGNORECASE)
_SOLID_FORM = re.compile(r"\b(tablets?|tabs?|capsules?|caps?|films?|lozenges?|patch(?:es)?|troches?)\b", re.IGNORECASE)


def strength_from_ratio(numerator: Amount | None, denominator: Amount | None) -> Strength | None:
    """``ingredient.strength``: 4.5 mg / 1 capsule, 1 mg / 1 mL, 50 mg / 5 mL."""
    if numerator is None or numerator.unit != MASS:
        return None
    if denominator is None:
        return Strength(numerator.value, "")
    if denominator.unit == MASS or denominator.value <= 0:
        return None
    return Strength(numerator.value / denominator.value, denominator.unit)


def strength_from_names(names: Iterable[str]) -> Strength | None:
    """The one strength the names agree on; None if none, or if they name different ones."""
    found = {s for name in names if (s := _strength_in(name)) is not None}
    return found.pop() if len(found) == 1 else None


def _strength_in(name: str) -> Strength | None:
    matches = list(_STRENGTH.finditer(name or ""))
    if len(matches) != 1 or _COMBINATION.search(name):
        return None  # none, or a combination product
    match = matches[0]
    value = float(match.group(1).replace(",", "."))
    unit, factor = canonical_unit(match.group(2))
    mg = value * factor
    if match.group(4):
        per, _ = canonical_unit(match.group(4))
        if per != VOLUME:
            return None  # a rate (mcg/hr) or a spray: not an amount per unit
        volume = float((match.group(3) or "1").replace(",", "."))
        return Strength(mg / volume, VOLUME) if volume > 0 and mg > 0 else None
    if mg <= 0 or unit != MASS:
        return None
    form = _SOLID_FORM.search(name)
    return Strength(mg, canonical_unit(form.group(1))[0] if form else "")
