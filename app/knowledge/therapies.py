"""Standard therapies that come before LDN, and per condition which lines of them must have failed.

Drug classes come from the ``class`` column of ``standard_therapies.csv``; the lines per
condition from ``data/standard_care.toml`` (each entry names its source and is marked for
clinician review).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from app.knowledge.conditions import ConditionKind
from app.knowledge.terminology import DATA_DIR


class TherapyClass(StrEnum):
    tricyclic = "tricyclic antidepressant"
    snri = "SNRI"
    gabapentinoid = "gabapentinoid"
    anticonvulsant = "sodium-channel anticonvulsant"
    ms_dmt = "MS disease-modifying therapy"


def therapy_class(csv_class: str) -> TherapyClass | None:
    """The counted class of a ``standard_therapies.csv`` row.

    Every MS DMT sub-class (interferon, S1P modulator, anti-CD20…) is one class: it treats
    MS itself, and no condition's standard care counts it as a pain trial. Cyclobenzaprine
    ("muscle relaxant (tricyclic-like)") is not counted: the source does not name it among
    the standard therapies LDN comes after.
    """
    if csv_class.startswith("MS DMT"):
        return TherapyClass.ms_dmt
    try:
        return TherapyClass(csv_class)
    except ValueError:
        return None


Line = tuple[TherapyClass, ...]  # one line of standard care: any of its classes will do

# Short names for summaries, where every character counts.
SHORT_NAMES = {
    TherapyClass.tricyclic: "TCA",
    TherapyClass.snri: "SNRI",
    TherapyClass.gabapentinoid: "gabapentinoid",
    TherapyClass.anticonvulsant: "anticonvulsant",
    TherapyClass.ms_dmt: "MS DMT",
}


@dataclass(frozen=True, slots=True)
class StandardCare:
    condition: ConditionKind
    lines: tuple[Line, ...]  # each line's classes, first line first
    assessed: bool  # False: the record's therapies cannot tell whether LDN's turn has come
    ldn_place: str  # where LDN stands once every line has been tried: "3rd/4th-line"
    source: str


@cache
def standard_care() -> dict[ConditionKind, StandardCare]:
    data = tomllib.loads((DATA_DIR / "standard_care.toml").read_text(encoding="utf-8"))
    return {
        ConditionKind(key): StandardCare(
            condition=ConditionKind(key),
            lines=tuple(tuple(TherapyClass(c) for c in line) for line in entry.get("lines", [])),
            assessed=entry.get("assessed", True),
            ldn_place=entry["ldn_place"],
            source=entry["source"],
        )
        for key, entry in data.items()
    }


# statusReason words that say a therapy was tried and did not work or was not tolerated
# ("sintol" is the FHIR medicationrequest-status-reason code for suspected intolerance). A bare
# "failed" is not enough ("prior authorization failed"), nor a side effect that did not happen.
_FAILED = re.compile(
    r"\b(ineffective|not effective|not helpful|did not help|sintol|(?:treatment|therapy) fail(?:ed|ure)"
    r"|failed (?:treatment|therapy|to (?:help|work|improve))"
    r"|no (?:meaningful |significant |adequate )?(?:pain )?(?:benefit|effect|response|relief|improvement)"
    r"|(?:little|minimal|insufficient) (?:pain )?(?:benefit|effect|relief|improvement)"
    r"|lack of (?:efficacy|effect|benefit|response)|inadequate (?:response|relief|effect)"
    r"|pain (?:unchanged|persisted|persists|not improved|no better)"
    r"|not tolerated|intoleran\w*|(?<!no )(?<!without )(?:adverse (?:effect|event|reaction)|side[- ]effect)s?)\b",
    re.IGNORECASE,
)
# "worried about side effects", "risk of adverse effects discussed": a concern, not an event.
_NOT_AN_EVENT = re.compile(r"\b(worried|concern(?:ed)?|risk|afraid|fear|declined|refused|discussed)\b", re.IGNORECASE)


def says_failed(reason: str | None) -> bool:
    """Whether a stop reason says the therapy failed or was not tolerated."""
    return bool(reason and _FAILED.search(reason) and not _NOT_AN_EVENT.search(reason))
