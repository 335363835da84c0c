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
