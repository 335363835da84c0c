"""patient-view: quiet unless something about LDN is due for this patient."""

from __future__ import annotations

from datetime import date

from app.clinical_settings import ClinicalSettings
from app.domain.record import MedicationSource, MedicationUse, PatientRecord
from app.rules.exposure import Exposure, certain, naltrexone_blockades, opioid_exposures
from app.rules.findings import (
    Finding,
    LdnCandidate,
    LdnReassessmentDue,
    LdnStepDue,
    OpioidExposureOnLdn,
    Stance,
)
from app.rules.last_use import StatusMeaning
from app.rules.ldn_history import dose_in_effect, has_prior_ldn, is_ldn, ldn_orders_and_statements, target_reached_on
from app.rules.opioid_dependence import opioid_dependence_diagnoses
from app.rules.positioning import ldn_standing

_DOSE_TOLERANCE_MG = 0.01  # doses are compared after float parsing of "4.5"


def _weeks(since: date, today: date) -> int:
    return max(0, (today - since).days // 7)


def patient_view_findings(record: PatientRecord, today: date, clinical: ClinicalSettings) -> list[Finding]:
    blocking = naltrexone_blockades(record, today, clinical)
    opioids = opioid_exposures(record, today, clinical)
    naltrexone, exposures = certain(blocking), certain(opioids)
    if naltrexone and exposures:
        return [OpioidExposureOnLdn(naltrexone=naltrexone, exposures=exposures)]

    current_ldn = [e.use for e in naltrexone if _on_therapy(e) and is_ldn(e.use, clinical) and e.use.started]
    if current_ldn:
        follow_up = _ldn_follow_up(record, current_ldn, today, clinical)
        return [follow_up] if follow_up else []

    if blocking or opioids or record.gaps or opioid_dependence_diagnoses(record):
        # On naltrexone, on (or maybe on) opioids, opioid dependence on record, or a record
        # not fully read: no LDN suggestion.
        return []
    if has_prior_ldn(record, clinical):
        return []  # LDN tried before (whatever came of it): not a "candidate"; nothing to suggest again
    standing = ldn_standing(record, today, clinical)
    if standing.stance is Stance.refractory:
        return [
            LdnCandidate(
                conditions=standing.conditions,
                tried=standing.tried,
                places=standing.places,
                diagnoses=standing.diagnoses,
            )
        ]
    return []


def _on_therapy(blockade: Exposure) -> bool:
    """Still prescribed or reported as taken, or with supply in hand (not merely wearing off)."""
    last = blockade.judgement.last
    return last.meaning is StatusMeaning.current or blockade.use.source in (
        MedicationSource.dispense,
        MedicationSource.administration,
    )


_ENDED = frozenset({"stopped", "completed", "cancelled", "on-hold", "not-taken"})


def _plan_changed_since(history: list[MedicationUse], latest: MedicationUse) -> bool:
    """A later LDN order or report that stops or pauses it: the card's premise is gone."""
    since = latest.started or date.min
    return any(u is not latest and u.started is not None and u.started > since and u.status in _ENDED for u in history)


def _ldn_follow_up(
    record: PatientRecord, current_ldn: list[MedicationUse], today: date, clinical: ClinicalSettings
) -> Finding | None:
    history = ldn_orders_and_statements(record, clinical)
    latest = max(current_ldn, key=lambda u: u.started or date.min)
    in_effect = dose_in_effect(latest, today)
    if in_effect is None or _plan_changed_since(history, latest):
        return None
    started = min((u.started for u in history if u.started), default=in_effect.since)
    weeks_on_therapy = _weeks(started, today)
    target = clinical.titration_target_mg

    if in_effect.dose_mg < target - _DOSE_TOLERANCE_MG:
        # Due once the step has lasted its planned weeks; after another step's length without
        # a change the plan has evidently changed (held dose), and the card no longer fires.
        step_days = clinical.titration_step_weeks * 7
        if not step_days <= (today - in_effect.since).days < 2 * step_days:
            return None
        return LdnStepDue(
            current_dose_mg=in_effect.dose_mg,
            next_dose_mg=min(in_effect.dose_mg + clinical.titration_step_mg, target),
            weeks_on_therapy=weeks_on_therapy,
            weeks_on_current_dose=_weeks(in_effect.since, today),
        )
    # Prescriptions date dose changes; a patient statement often spans the whole course
    # at today's dose, so it dates the target only when no prescription does.
    prescriptions = [u for u in history if u.source is MedicationSource.request]
    reached = target_reached_on(prescriptions or history, target - _DOSE_TOLERANCE_MG, today) or in_effect.since
    weeks_at_target = _weeks(reached, today)
    # Inside the planned window at target only: before it benefit cannot be judged, after it the
    # reassessment has happened or was decided against, and repeating the card adds nothing.
    if not clinical.reassess_after_weeks_min <= weeks_at_target <= clinical.reassess_after_weeks_max:
        return None
    return LdnReassessmentDue(
        current_dose_mg=in_effect.dose_mg, weeks_on_therapy=weeks_on_therapy, weeks_at_target=weeks_at_target
    )
