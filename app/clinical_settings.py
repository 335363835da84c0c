"""Clinical numbers, each with the source it comes from.

Part of ``Settings`` (``settings.clinical``); override one from the environment
with e.g. ``CDS_CLINICAL__MIN_TRIAL_WEEKS=6``.
"""

from __future__ import annotations

from pydantic import BaseModel


class ClinicalSettings(BaseModel):
    """Clinical thresholds. Override one with e.g. ``CDS_CLINICAL__MIN_TRIAL_WEEKS=6``."""

    # --- Opioid-free window: days that must pass after the LAST POSSIBLE USE of an opioid
    # (app/rules/last_use.py) before naltrexone may start.
    # FDA naltrexone HCl tablet label (REVIA, rev. 10/2013), Dosage & Administration: "An
    # opioid-free interval of a minimum of 7 to 10 days is recommended for patients previously
    # dependent on short-acting opioids." The label gives a range; we take its upper end, 10:
    # a card that still fires on day 8 costs less than precipitated withdrawal. Written for
    # 50 mg naltrexone; applied to low-dose naltrexone by extrapolation (the cards say so).
    opioid_free_days_short_acting: int = 10
    # Same label: patients transitioning from buprenorphine or methadone "may be vulnerable to
    # precipitation of withdrawal symptoms for as long as 2 weeks".
    opioid_free_days_methadone_buprenorphine: int = 14
    # Other extended-release and transdermal opioids: no verified source gives a window. This
    # service's own extrapolation of the label's 2 weeks for long-acting agonists; the card says so.
    opioid_free_days_extended_release: int = 14

    # --- Opioid depots: one application keeps acting for days after it is given, so an
    # administration's last possible use is not the day it was given.
    # A transdermal patch whose name states no wear time: counted as worn this many days (the
    # longest wear time among the patches in opioids.csv, "168 HR"). This service's choice.
    opioid_patch_wear_days_default: int = 7
    # Depot buprenorphine injections (Sublocade, Brixadi; weekly or monthly products): counted as
    # acting this many days after the injection. This service's assumption: no source in its
    # verified evidence gives a figure, and buprenorphine levels may persist longer.
    depot_buprenorphine_injection_days: int = 31
    # Buprenorphine implant: counted as acting this many days after insertion (a six-month
    # product). This service's assumption, as above.
    depot_buprenorphine_implant_days: int = 183

    # --- How long naltrexone keeps blocking opioids.
    # VIVITROL (naltrexone extended-release injectable suspension) label §5.1: it "blocks the
    # effects of exogenous opioids for approximately 28 days after administration".
    naltrexone_er_blockade_days: int = 28
    # Oral naltrexone blocks while it is taken. Days after its supply ends that we still count
    # it as blocking: this service's own margin (no verified source gives a figure), for a
    # supply started a day or two late.
    naltrexone_oral_blockade_margin_days: int = 3

    # --- A record whose end of use is unknown (free-text dosing, no quantity, an open-ended
    # patient report, as-needed dosing): how long from its start a supply may be assumed to
    # last before it no longer matters. This service's choice: 90 days is the longest supply
    # commonly handed over at once (a "90-day fill").
    max_assumed_supply_days: int = 90

    # LDN dose range per administration, mg. Source article: "LDN at 1.5-4.5 mg nightly" (4.5 mg
    # the maximum); Toljan & Vrooman 2018 define LDN as 1-5 mg/day.
    ldn_max_mg: float = 4.5
    # Below this a naltrexone dose is outside the usual LDN range and may be a unit slip (4.5 mcg
    # for 4.5 mg): the order gets a warning. Toljan's range starts at 1 mg; the threshold is
    # this service's choice.
    ldn_unit_error_below_mg: float = 1.0
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
    # The compounded product the suggested titration order asks for: capsules of this strength
    # (1, 2, then 3 a night as the dose rises). This service's default, matching the start dose;
    # pharmacies also make liquids, which a prescriber can choose instead.
    titration_compounded_strength_mg: float = 1.5
    # Source article: "Minimum 4-8 weeks at target dose to assess response".
    reassess_after_weeks_min: int = 4
    reassess_after_weeks_max: int = 8

    # A standard agent counts as tried (toward "refractory": every line of the condition's
    # standard care in app/knowledge/data/standard_care.toml) when the record shows it taken for
    # at least this many weeks, or stopped because it failed or was not tolerated. This
    # service's threshold (no verified source gives one); the cards say "tried for >= N weeks".
    min_trial_weeks: int = 4
