"""Card kinds, and card uuids that say which kind and service issued them.

Feedback carries only ``card.uuid``. To attribute it to a card kind without
storing every card we send, the uuid is an RFC 9562 version-8 UUID whose first
16 bits hold the kind number and next 8 bits the service number; the other 98
bits are random. The numbers are part of the stored feedback's meaning: never
renumber, only append.
"""

from __future__ import annotations

import secrets
import uuid
from enum import Enum


class CardKind(Enum):
    opioid_conflict = ("opioid-conflict", 1)
    opioid_status_unchecked = ("opioid-status-unchecked", 2)
    naltrexone_blocks_opioid = ("naltrexone-blocks-opioid", 3)
    fhir_version_unsupported = ("fhir-version-unsupported", 4)
    ldn_positioning_refractory = ("ldn-positioning-refractory", 5)
    ldn_positioning_not_refractory = ("ldn-positioning-not-refractory", 6)
    ldn_positioning_off_label = ("ldn-positioning-off-label", 7)
    ldn_dose_start_above_initial = ("ldn-dose-start-above-initial", 8)
    ldn_dose_above_max = ("ldn-dose-above-max", 9)
    naltrexone_standard_dose_ldn_condition = ("naltrexone-standard-dose-ldn-condition", 10)
    naltrexone_dose_unknown = ("naltrexone-dose-unknown", 11)
    ldn_step_due = ("ldn-step-due", 12)
    ldn_reassess_due = ("ldn-reassess-due", 13)
    ldn_candidate = ("ldn-candidate", 14)
    opioid_exposure_on_ldn = ("opioid-exposure-on-ldn", 15)
    opioid_dependence_on_record = ("opioid-dependence-on-record", 16)
    ldn_positioning_not_assessed = ("ldn-positioning-not-assessed", 17)
    ldn_dose_below_range = ("ldn-dose-below-range", 18)

    def __init__(self, slug: str, number: int):
        self.slug = slug
        self.number = number


_BY_NUMBER = {kind.number: kind for kind in CardKind}


def new_card_uuid(kind: CardKind, service_number: int) -> str:
    random_bits = int.from_bytes(secrets.token_bytes(16)) & ((1 << 104) - 1)
    value = (kind.number << 112) | ((service_number & 0xFF) << 104) | random_bits
    value = (value & ~(0xF << 76)) | (0x8 << 76)  # version 8
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))


def decode_card_uuid(text: str) -> tuple[CardKind, int] | None:
    """(kind, service number) of a uuid this service issued; ``None`` otherwise."""
    try:
        value = uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return None
    if value.version != 8:
        return None
    kind = _BY_NUMBER.get(value.int >> 112)
    return (kind, (value.int >> 104) & 0xFF) if kind else None
