"""Every knob of the service, read from the environment (prefix ``CDS_``).

Clinical numbers live in :class:`ClinicalSettings`, each with the source it
comes from, so a reviewer can check them without reading the rules.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    development = "development"
    production = "production"


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CDS_", env_nested_delimiter="__", extra="ignore"
    )

    env: Environment = Environment.development
    # Public URL the EHR calls us at; JWT `aud` is checked against it (+ the path).
    public_base_url: str = "http://localhost:8000"
    database_url: str = "sqlite:///./ldn-cds.db"
    trusted_issuers_file: Path | None = None
    # Browser clients (the CDS Hooks sandbox) need CORS. Empty in production by default:
    # EHR calls are server to server.
    cors_origins: list[str] = Field(
        default_factory=lambda: [
            "https://sandbox.cds-hooks.org",
            "http://localhost:8080",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
        ]
    )

    # FHIR fallback. EHRs give up at about 5 s; we answer with what we have before that.
    fhir_deadline_seconds: float = 3.0
    fhir_connect_timeout_seconds: float = 1.0
    fhir_read_timeout_seconds: float = 2.5
    fhir_max_pages: int = 10
    fhir_max_response_bytes: int = 10 * 1024 * 1024

    # Requests larger than this are refused with 413 before parsing.
    max_request_bytes: int = 5 * 1024 * 1024
    # A clinician reads every card: keep them few.
    max_cards: int = 4

    cards_dir: Path = PROJECT_ROOT / "cards"

    clinical: ClinicalSettings = Field(default_factory=ClinicalSettings)


@lru_cache
def get_settings() -> Settings:
    return Settings()
