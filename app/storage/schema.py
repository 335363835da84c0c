"""Tables, created at start-up if missing (the same SQL for SQLite and PostgreSQL).

Additive only: add tables or nullable columns, never change the meaning of a stored
column (feedback rows are an audit trail).
"""

from __future__ import annotations

SCHEMA: tuple[str, ...] = (
    # Every (iss, jti) accepted, until the token could no longer be used anyway.
    """CREATE TABLE IF NOT EXISTS jwt_replay (
        iss TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (iss, jti)
    )""",
    "CREATE INDEX IF NOT EXISTS jwt_replay_expires_at ON jwt_replay (expires_at)",
    # One row per feedback item. The natural key makes a retried POST a no-op.
    """CREATE TABLE IF NOT EXISTS card_feedback (
        service_id TEXT NOT NULL,
        card_uuid TEXT NOT NULL,
        outcome TEXT NOT NULL,
        outcome_timestamp TEXT NOT NULL,
        card_kind TEXT,
        card_service_number INTEGER,
        accepted_suggestions TEXT,
        override_system TEXT,
        override_code TEXT,
        override_display TEXT,
        override_comment TEXT,
        issuer TEXT,
        tenant TEXT,
        received_at TEXT NOT NULL,
        PRIMARY KEY (service_id, card_uuid, outcome, outcome_timestamp)
    )""",
    "CREATE INDEX IF NOT EXISTS card_feedback_kind ON card_feedback (card_kind, outcome)",
    # The per-issuer hourly feedback limit counts recent rows of one issuer.
    "CREATE INDEX IF NOT EXISTS card_feedback_issuer_received ON card_feedback (issuer, received_at)",
    # One row per card this deployment issued: what feedback may be about. The patient is only
    # an HMAC under the deployment secret (never an identifier); rows expire.
    """CREATE TABLE IF NOT EXISTS issued_card (
        card_uuid TEXT PRIMARY KEY,
        service_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        indicator TEXT NOT NULL,
        issuer TEXT,
        patient_key TEXT NOT NULL,
        expires_at BIGINT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS issued_card_expires_at ON issued_card (expires_at)",
    # A topic a clinician accepted or overrode for a patient: quiet until `until` (epoch seconds).
    """CREATE TABLE IF NOT EXISTS topic_snooze (
        patient_key TEXT NOT NULL,
        topic TEXT NOT NULL,
        until BIGINT NOT NULL,
        PRIMARY KEY (patient_key, topic)
    )""",
    "CREATE INDEX IF NOT EXISTS topic_snooze_until ON topic_snooze (until)",
)
