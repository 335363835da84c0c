"""Defensive reading of JSON values: a field of the wrong shape reads as absent, never as an error."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

Json = dict[str, Any]


def as_dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """FHIR arrays; some clients send a single object where an array belongs."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def number(value: Any) -> float | None:
    """A finite JSON number (not a bool, not a numeric string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def parse_date(value: Any) -> date | None:
    """FHIR date/dateTime/instant -> its calendar date (partial dates -> first day)."""
    text = as_str(value)
    if text is None:
        return None
    try:
        if len(text) >= 10:
            return date.fromisoformat(text[:10])
        if len(text) == 7:
            return date.fromisoformat(text + "-01")
        if len(text) == 4:
            return date(int(text), 1, 1)
    except ValueError:
        return None
    return None


# Longer than any supply or titration step; beyond it a value is a data error, not a plan.
_MAX_DURATION_DAYS = 3660
_DAYS_PER_UNIT = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "months": 30}


def duration_days(duration: Any) -> int | None:
    duration = as_dict(duration)
    value = duration.get("value")
    unit = as_str(duration.get("code")) or as_str(duration.get("unit"))
    if not isinstance(value, (int, float)) or isinstance(value, bool) or unit is None:
        return None
    factor = _DAYS_PER_UNIT.get(unit.lower())
    if not factor or not 0 <= value * factor <= _MAX_DURATION_DAYS:
        return None  # negative, absurd (1e308 months) or unknown unit: not a duration we can use
    return round(value * factor)
