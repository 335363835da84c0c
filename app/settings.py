"""Every knob of the service, read from the environment (prefix ``CDS_``).

Clinical numbers live in ``app/clinical_settings.py``, each with its source.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.clinical_settings import ClinicalSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CDS_", env_nested_delimiter="__", extra="ignore")

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

    # One deadline per call for all outbound work (JWKS read, FHIR searches and reads),
    # counted from the call's arrival. EHRs give up at about 5 s; we answer with what we
    # have before that.
    fhir_deadline_seconds: float = 3.0
    fhir_connect_timeout_seconds: float = 1.0
    fhir_read_timeout_seconds: float = 2.5
    fhir_max_pages: int = 10
    fhir_max_response_bytes: int = 10 * 1024 * 1024
    # Per hook call, across every search, page, redirect and Medication read. 60 requests:
    # the four record searches with their ten pages each (40), plus 20 batches of
    # Medication ids (1,000 distinct medications); what is left unread is a data gap
    # the card names. At ~100 ms a request, 4 at a time, 60 fit in the deadline.
    fhir_max_requests_per_call: int = 60
    # All response bodies of one call together: ~9x the 1.7 MiB of a 2,000-resource
    # patient (bench "heavy"). Parsed JSON takes several times its size in memory, so
    # this is what bounds a call's memory, not the per-response cap alone.
    fhir_max_bytes_per_call: int = 16 * 1024 * 1024
    # Requests one call has in flight at a time: the five record searches (MedicationRequest,
    # -Statement, -Dispense, -Administration, Condition) run together, so the fallback costs one
    # round trip; a thousand references never become a thousand requests at once.
    fhir_max_concurrent_requests_per_call: int = 5
    # Medication ids per `Medication?_id=a,b,…` search: 50 ids of up to 64 characters keep
    # the URL near 3 KiB, under the 8 KiB many servers and proxies accept.
    fhir_medication_batch_size: int = 50

    # Requests larger than this are refused with 413 before parsing.
    max_request_bytes: int = 5 * 1024 * 1024
    # A body must arrive within this time (408 otherwise): 5 MiB at 1 MB/s, twice over.
    body_read_timeout_seconds: float = 10.0
    # Request head (request line + headers), enforced by the HTTP server (`ldn-cds serve`).
    # 32 KiB holds the largest client JWT accepted (16 KiB) and every ordinary header;
    # a larger head is refused (400) before it is buffered.
    max_header_bytes: int = 32 * 1024
    # Time from a request's first byte (or the connection's opening) to its complete
    # head. EHRs send the head in one packet and give up on a call after ~5 s anyway;
    # a client trickling header bytes is cut off here instead of holding a connection.
    header_read_timeout_seconds: float = 5.0
    # Requests in progress per worker; more get an immediate 503 (health probes exempt).
    # A heavy call costs ~35 ms of CPU: 64 queued ones are ~2 s of work, inside the EHR's
    # ~5 s; beyond that, answers would arrive after the EHR has stopped waiting.
    max_concurrent_requests: int = 64
    # A clinician reads every card: keep them few.
    max_cards: int = 4
    # order-sign repeats nothing order-select already said: only critical and warning cards.
    # Turn off for an EHR that calls only order-sign (then it gets the advice cards too).
    order_sign_safety_only: bool = True

    cards_dir: Path = PROJECT_ROOT / "cards"

    # Client JWT (CDS Hooks 2.0 §Trusting CDS Clients). Clock skew tolerated on exp/iat/nbf;
    # Inferno's CDS Hooks tests use 60 s.
    jwt_leeway_seconds: int = 60
    # Longest token lifetime (exp - iat, plus the leeway) accepted, unless the issuer's entry
    # sets `max_token_lifetime_seconds`. Epic signs 15-minute tokens, the sandbox 5-minute
    # ones; a longer-lived token is a longer replay window, and this also bounds how long
    # a jti must be remembered.
    jwt_max_lifetime_seconds: int = 900
    # Remote JWKS: kept this long, re-read at most once per `jwks_min_refresh_seconds` when a
    # token names an unknown kid (key rotation without letting junk kids hammer the issuer).
    jwks_cache_seconds: int = 3600
    jwks_min_refresh_seconds: float = 30.0
    # Total time for one JWKS read (connect + every byte), not per socket read: a server
    # trickling one byte a second cannot hold it. A call also waits no longer than its
    # own deadline (`fhir_deadline_seconds`) for it.
    jwks_fetch_timeout_seconds: float = 2.0
    jwks_max_bytes: int = 256 * 1024
    # While an issuer's JWKS cannot be re-read, its last keys stay in use this long after
    # the last successful read, then are dropped: long enough to ride out an outage of
    # the EHR's key endpoint during a working day, short enough that a key the issuer
    # withdrew in that time is not trusted into the next.
    jwks_max_stale_seconds: int = 6 * 3600

    # Feedback items stored per client (JWT issuer) in any hour; more is a 429. Each item is
    # one clinician acting on one card, so real traffic stays far below; the limit keeps a
    # misbehaving or compromised client from filling the database or flooding the report.
    feedback_max_items_per_issuer_per_hour: int = 5000

    # SQLite waits this long for a competing writer (other workers) before giving up.
    database_busy_timeout_ms: int = 2000

    # Operations: JSON logs at this level; Prometheus metrics at GET /metrics.
    log_level: str = "INFO"
    metrics_enabled: bool = True

    clinical: ClinicalSettings = Field(default_factory=ClinicalSettings)

    # Operations surface (docs/deployment.md, issue 12).
    # Admin port: GET /metrics, /healthz and /readyz, on the same host as the API. Only there is
    # /metrics served; without it, development serves /metrics on the API port and production
    # serves none.
    admin_port: int | None = Field(default=None, ge=1, le=65535)
    # /docs, /redoc and /openapi.json (Swagger UI and ReDoc served from the package, no CDN).
    # Unset: on in development, off in production.
    api_docs: bool | None = None
    # Development mode listens on loopback only; CDS_ALLOW_INSECURE_DEV_ON_NETWORK=1 lifts that.
    allow_insecure_dev_on_network: bool = False

    # Card identity and snoozing (README "Card identity"). Keys the HMAC that stands in for a
    # patient in the database; required in production, the same on every instance.
    deployment_secret: SecretStr | None = None
    # Where development keeps what it generates (the development deployment secret). Unset:
    # the SQLite database's folder (so one data folder holds both), else the working directory.
    data_dir: Path | None = None
    # A card this deployment issued can get feedback for this long (EHRs send it within minutes).
    issued_card_ttl_days: int = Field(default=30, ge=1)
    # After a clinician accepts or overrides an info card, its topic stays quiet for that patient
    # this many days (0: never snoozed). Warnings and critical cards are never snoozed. This
    # service's choices, reviewed by a clinical pharmacist (docs/cards.md says why each):
    snooze_days: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {
            "ldn-candidate": 180,  # declining a suggestion loses nothing safety-related
            "ldn-positioning-refractory": 90,  # the same judgement, given while ordering
            "ldn-positioning-not-refractory": 90,
            "ldn-positioning-not-assessed": 90,
            "ldn-positioning-off-label": 90,
            "ldn-reassess-due": 14,  # one more reminder inside the 4-8-week window
            "ldn-step-due": 10,  # shorter than a 2-week step: never hides the next step's card
            "ldn-dose-start-above-initial": 0,  # about one order: the next order deserves its own advice
            "naltrexone-dose-unknown": 0,  # may hide a 10- to 1000-fold error on a later order
        }
    )
    # A new info topic is not snoozed until someone chooses its period.
    snooze_days_default: int = Field(default=0, ge=0)

    @property
    def api_docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.env is Environment.development


@lru_cache
def get_settings() -> Settings:
    return Settings()
