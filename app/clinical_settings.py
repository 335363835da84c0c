"""Clinical numbers, each with the source it comes from.

Part of ``Settings`` (``settings.clinical``); override one from the environment
with e.g. ``CDS_CLINICAL__REFRACTORY_MIN_AGENTS=3``.
"""

from __future__ import annotations

from pydantic import BaseModel


class ClinicalSettings(BaseModel):
    """Clinical thresholds. Override one with e.g. ``CDS_CLINICAL__REFRACTORY_MIN_AGENTS=3``."""

    # FDA naltrexone HCl tablet label (REVIA, rev. 10/2013), Dosage & Administration:
    # "An opioid-free interval of a minimum of 7 to 10 days is recommended for patients
    # previously dependent on short-acting opioids." We take the upper bound: a card that
    # fires on day 8 is safer than a withdrawal. Written for 50 mg; extrapolated to LDN.
    opioid_free_days_short_acting: int = 10
    # Same label: patients transitioning from buprenorphine or methadone "may be vulnerable
    # to precipitation of withdrawal symptoms for as long as 2 weeks". We apply it to
    # extended-release and transdermal products too (long-acting exposure).
    opioid_free_days_long_acting: int = 14

    # LDN dose range per administration, mg. Source article: "LDN at 1.5-4.5 mg nightly";
    # Toljan & Vrooman 2018 define LDN as 1-5 mg/day; the lower bound 0.5 mg admits
    # ultra-low starting doses some compounders dispense.
    ldn_min_mg: float = 0.5
    ldn_max_mg: float = 4.5
    # FDA label: the standard oral dose for opioid/alcohol dependence is 50 mg.
    standard_oral_mg: float = 50.0
    # FDA Vivitrol label: 380 mg extended-release injectable suspension every 4 weeks.
    er_injectable_mg: float = 380.0

    # Titration (source article, dosing algorithm; Dieckmann et al. Ophthalmology 2017
    # Table 3: start 1.5 mg at bedtime, maximum 4.5 mg at bedtime).
    titration_start_mg: float = 1.5
    titration_step_mg: float = 1.5
    titration_step_weeks: int = 2
    titration_target_mg: float = 4.5
    # Source article: "Minimum 4-8 weeks at target dose to assess response".
    reassess_after_weeks_min: int = 4
    reassess_after_weeks_max: int = 8

    # Refractory = at least this many standard agents tried from different lines or classes
    # (source article: LDN "reserved for patients who have failed" first- and second-line
    # agents; Spargo 2025: "after multiple failed lines of therapy").
    refractory_min_agents: int = 2
