"""Which standard therapies the record shows were tried, for how long, and whether they failed.

A therapy counts as tried only when the record shows it was taken for at least
``min_trial_weeks`` (measured with the last-use model: from its start to its last
possible use), or when its ``statusReason`` says it failed or was not tolerated. A
prescription whose duration cannot be read does not count: "refractory" must mean
tried and failed, not merely prescribed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.clinical_settings import ClinicalSettings
from app.domain.record import MedicationUse, PatientRecord
from app.knowledge.therapies import TherapyClass, says_failed, therapy_class
from app.rules.last_use import Certainty, EndBasis, StatusMeaning, last_use

# Only a record that was taken and then stopped can say why it was stopped: a cancelled or
# draft order never reached the patient, whatever its reason says.
_STOPPED = frozenset({"stopped", "completed", "on-hold"})
# Refills picked up up to this many days late still make one continuous course.
_REFILL_GAP_DAYS = 7


@dataclass(frozen=True, slots=True)
class TriedAgent:
    """A standard therapy on record (any status but entered-in-error)."""

    ingredient: str
    therapy_class: TherapyClass
    weeks: int | None  # the longest continuous course the record shows; None when no end is known
    stopped_because: str | None  # a statusReason saying it failed or was not tolerated
    last_seen: date | None

    def counts(self, clinical: ClinicalSettings) -> bool:
        return self.stopped_because is not None or (self.weeks is not None and self.weeks >= clinical.min_trial_weeks)


def tried_standard_agents(record: PatientRecord, today: date, clinical: ClinicalSettings) -> tuple[TriedAgent, ...]:
    """One entry per ingredient, with its longest course and any failure the record states."""
    by_ingredient: dict[str, list[tuple[MedicationUse, TherapyClass]]] = {}
    for use in record.medications:
        for entry in use.drug.therapies:
            if (counted := therapy_class(entry.drug_class)) is not None:
                by_ingredient.setdefault(entry.ingredient, []).append((use, counted))
    agents = []
    for ingredient, uses in sorted(by_ingredient.items()):
        courses = [course for use, _ in uses if (course := _course(use, today, clinical)) is not None]
        failed = next((u.status_reason for u, _ in uses if u.status in _STOPPED and says_failed(u.status_reason)), None)
        agents.append(
            TriedAgent(
                ingredient=ingredient,
                therapy_class=uses[0][1],
                weeks=_longest_weeks(courses) if courses else None,
                stopped_because=failed,
                last_seen=max((u.started for u, _ in uses if u.started), default=None),
            )
        )
    return tuple(agents)


def _course(use: MedicationUse, today: date, clinical: ClinicalSettings) -> tuple[date, date] | None:
    """(first day, last day) of use, as far as the record shows it; None when it shows no end."""
    last = last_use(use, today, clinical)
    if use.started is None or last.day is None or last.certainty is Certainty.unknown:
        return None
    if last.day == use.started and last.certainty is Certainty.at_least and last.basis is not EndBasis.open_report:
        return None  # only the day it was written or handed over: how long it was taken is not known
    if last.meaning is StatusMeaning.never:
        return None
    end = min(last.day, today)  # a supply that runs on is not yet a course taken
    return (use.started, end) if end >= use.started else None


def _longest_weeks(courses: list[tuple[date, date]]) -> int:
    merged: list[tuple[date, date]] = []
    for start, end in sorted(courses):
        if merged and start <= merged[-1][1] + timedelta(days=_REFILL_GAP_DAYS):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return max(((end - start).days + 1) // 7 for start, end in merged)
