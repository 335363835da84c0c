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
)
