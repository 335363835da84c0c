"""Units of amounts as EHRs write them, made comparable.

Quantities arrive as UCUM codes (``mg``, ``ug``, ``mL``, ``{tbl}``), as display
units ("tablets", "Tab", "mcg"), or without a unit at all. Two amounts can be
divided (a supply by a daily use) only in the same canonical unit: mass in mg,
volume in mL, and each count form (tablet, capsule, patch…) as itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Amount:
    """A quantity in a canonical unit: ``mg``, ``mL``, a count unit (``tablet``), or ``""`` when none."""

    value: float
    unit: str


# One piece of whatever solid form the product has ("each", "{pill}"). Unlike "" (no unit
# written at all), it says what is counted.
PIECE = "piece"
# unit as written (lower case, braces removed) -> (canonical unit, factor to it)
_UNITS: dict[str, tuple[str, float]] = {
    **dict.fromkeys(["mg", "milligram", "milligrams"], ("mg", 1.0)),
    **dict.fromkeys(["g", "gram", "grams"], ("mg", 1000.0)),
    **dict.fromkeys(["ug", "mcg", "µg", "microgram", "micrograms"], ("mg", 0.001)),
    **dict.fromkeys(["ml", "milliliter", "milliliters", "millilitre", "millilitres", "cc"], ("mL", 1.0)),
    **dict.fromkeys(["l", "liter", "liters", "litre", "litres"], ("mL", 1000.0)),
    **dict.fromkeys(["tab", "tabs", "tbl", "tablet", "tablets"], ("tablet", 1.0)),
    **dict.fromkeys(["cap", "caps", "capsule", "capsules"], ("capsule", 1.0)),
    **dict.fromkeys(["patch", "patches"], ("patch", 1.0)),
    # "each": one piece of whatever form the product has (pharmacy systems' "EA").
    # "{pill}": the CDS Hooks sandbox writes every dose in it, whatever the product's form.
    **dict.fromkeys(["ea", "each", "pill", "pills"], (PIECE, 1.0)),
}
MASS = "mg"
VOLUME = "mL"
# Units that name a piece of the product; a dose in one of them is multiplied by the strength.
COUNT_UNITS = frozenset({"tablet", "capsule", "patch", "film"})
# A piece one takes whole: a product named "4.5 mg capsule" with no dose written means one of them.
# "" is a solid of unnamed form ("naltrexone 4.5 mg (compounded)").
SOLID_UNITS = frozenset({"tablet", "capsule", PIECE, ""})
# No real dose or supply is larger: beyond it a value is a data error, not an amount.
_MAX_VALUE = 1e7


def canonical_unit(written: str | None) -> tuple[str, float]:
    """(canonical unit, factor): ``"Tablets"`` -> ``("tablet", 1)``, ``"mcg"`` -> ``("mg", 0.001)``.

    An unknown unit is kept as written (lower case, singular), so two records that
    write it the same way still compare; no unit at all is ``""``.
    """
    if not written:
        return "", 1.0
    unit = written.strip().strip("{}").strip().lower()
    if unit in _UNITS:
        return _UNITS[unit]
    if len(unit) > 3 and unit.endswith("s"):
        unit = unit[:-1]
    return unit, 1.0


def amount(value: object, unit: object, code: object = None) -> Amount | None:
    """A FHIR Quantity's value in its canonical unit; ``None`` if the value is not a usable number.

    The UCUM ``code`` is preferred to the display ``unit`` when both are given.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    number = float(value)
    if not math.isfinite(number) or not 0 < number <= _MAX_VALUE:
        return None
    written = code if isinstance(code, str) and code.strip() else unit
    canonical, factor = canonical_unit(written if isinstance(written, str) else None)
    return Amount(number * factor, canonical)


_ANY_PIECE = frozenset({"", PIECE})


def same_unit(a: str, b: str) -> bool:
    """Two canonical units that measure the same thing ("each", or no unit, is any one piece)."""
    return a == b or (a in _ANY_PIECE and b in COUNT_UNITS | _ANY_PIECE) or (b in _ANY_PIECE and a in COUNT_UNITS)
