"""Card kinds: one per rule, each the code of the card's ``source.topic``.

The codes are stable: EHRs group and suppress cards by them and the feedback report
counts by them. Never rename one; add new kinds.
"""

from __future__ import annotations

from enum import StrEnum


class CardKind(StrEnum):
    opioid_conflict = "opioid-conflict"
    opioid_status_unchecked = "opioid-status-unchecked"
    naltrexone_blocks_opioid = "naltrexone-blocks-opioid"
    fhir_version_unsupported = "fhir-version-unsupported"
    ldn_positioning_refractory = "ldn-positioning-refractory"
    ldn_positioning_not_refractory = "ldn-positioning-not-refractory"
    ldn_positioning_off_label = "ldn-positioning-off-label"
    ldn_dose_start_above_initial = "ldn-dose-start-above-initial"
    ldn_dose_above_max = "ldn-dose-above-max"
    naltrexone_standard_dose_ldn_condition = "naltrexone-standard-dose-ldn-condition"
    naltrexone_dose_unknown = "naltrexone-dose-unknown"
    ldn_step_due = "ldn-step-due"
    ldn_reassess_due = "ldn-reassess-due"
    ldn_candidate = "ldn-candidate"
    opioid_exposure_on_ldn = "opioid-exposure-on-ldn"
    opioid_dependence_on_record = "opioid-dependence-on-record"
    ldn_positioning_not_assessed = "ldn-positioning-not-assessed"
    ldn_dose_below_range = "ldn-dose-below-range"

    @property
    def slug(self) -> str:
        """The topic code (and the card's wording file, ``cards/<slug>.toml``)."""
        return self.value
