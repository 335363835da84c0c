"""The feedback request body, read leniently where clients differ and strictly where it matters.

The sandbox sends ``overrideReason.reason`` with only ``code`` (and ``system`` when the
card gave one), so ``display`` is optional here; ``outcome``, ``card`` and an ISO 8601
``outcomeTimestamp`` are required, and an ``accepted`` outcome must say which
suggestions were accepted (spec: ``acceptedSuggestions`` is required then).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from app.cds.models import Lenient

MAX_ITEMS = 100


class FeedbackCoding(Lenient):
    code: str = Field(min_length=1, max_length=200)
    system: str | None = Field(default=None, max_length=500)
    display: str | None = Field(default=None, max_length=500)


class OverrideReason(Lenient):
    reason: FeedbackCoding | None = None
    userComment: str | None = Field(default=None, max_length=2000)


class AcceptedSuggestion(Lenient):
    id: str = Field(min_length=1, max_length=128)


class FeedbackItem(Lenient):
    card: str = Field(min_length=1, max_length=128)
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: str
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=50)
    overrideReason: OverrideReason | None = None

    @field_validator("outcomeTimestamp")
    @classmethod
    def _iso_8601(cls, value: str) -> str:
        return normalize_timestamp(value)

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is 'accepted'")
        return self


class FeedbackRequest(Lenient):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=MAX_ITEMS)


def normalize_timestamp(value: str) -> str:
    """One UTC form (``2026-11-26T10:00:00.000000Z``), so retries with another offset dedupe
    and stored timestamps sort as text. A time without an offset is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-11-26T10:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC; 9999-12-31T23:59-01:00 after 9999
        raise ValueError("is outside the years 0001-9999 once converted to UTC") from None
    # isoformat, not strftime: strftime writes year 1 as "1", which would not sort as text.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
