"""A trusted client abusing feedback (issue 11): a per-issuer volume limit, and a report that
never hands a client's control characters to the operator's terminal.

Production app, real signed tokens from two issuers, real SQLite file, the real CLI.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cards.kinds import CardKind, new_card_uuid
from app.cli import main as cli_main
from tests.security.support import ISSUER, SigningKey, bearer, es384_key, jwks, mint
from tests.conformance import error_message

FEEDBACK = "/cds-services/ldn-order-select/feedback"
OTHER_ISSUER = "https://other-ehr.test/cds-client"
OTHER_KEY = es384_key("other-ehr-key")
LIMIT = 5


def items(n: int, *, display: str | None = None, code: str = "patient-not-taking-opioid") -> list[dict]:
    reason: dict = {"code": code, "system": "urn:ldn-cds:override-reason"}
    if display is not None:
        reason["display"] = display
    return [
        {"card": new_card_uuid(CardKind.opioid_conflict, 1), "outcome": "overridden",
         "outcomeTimestamp": "2026-11-26T10:15:00Z", "overrideReason": {"reason": reason}}
        for _ in range(n)
    ]


def stored(tmp_path: Path, issuer: str) -> int:
    with sqlite3.connect(tmp_path / "cds.db") as connection:
        return connection.execute("SELECT COUNT(*) FROM card_feedback WHERE issuer = ?", (issuer,)).fetchone()[0]


@pytest.fixture
def limited(make_client: Callable[..., TestClient], issuer_entry: dict) -> TestClient:
    other = {"iss": OTHER_ISSUER, "jwks": jwks(OTHER_KEY), "fhir_servers": []}
    return make_client(issuers=[issuer_entry, other], feedback_max_items_per_issuer_per_hour=LIMIT)


def send(client: TestClient, key: SigningKey, body: list[dict], iss: str = ISSUER):
    return client.post(FEEDBACK, json={"feedback": body}, headers=bearer(mint(key, FEEDBACK, iss=iss)))


def test_an_issuer_past_its_hourly_feedback_volume_gets_429_and_nothing_more_is_stored(
    limited: TestClient, es_key: SigningKey, tmp_path: Path
) -> None:
    assert send(limited, es_key, items(LIMIT)).status_code == 200
    refused = send(limited, es_key, items(1))
    assert refused.status_code == 429
    assert refused.headers["retry-after"].isdigit()
    assert f"at most {LIMIT} items" in error_message(refused.json())
    assert stored(tmp_path, ISSUER) == LIMIT


def test_the_limit_is_per_issuer(limited: TestClient, es_key: SigningKey, tmp_path: Path) -> None:
    assert send(limited, es_key, items(LIMIT)).status_code == 200
    assert send(limited, es_key, items(1)).status_code == 429
    assert send(limited, OTHER_KEY, items(LIMIT), iss=OTHER_ISSUER).status_code == 200  # another EHR is not affected
    assert stored(tmp_path, OTHER_ISSUER) == LIMIT


def test_a_batch_that_would_pass_the_limit_is_refused_whole(limited: TestClient, es_key: SigningKey, tmp_path: Path) -> None:
    assert send(limited, es_key, items(LIMIT + 1)).status_code == 429
    assert stored(tmp_path, ISSUER) == 0


def test_the_report_strips_control_characters_from_what_clients_wrote(
    limited: TestClient, es_key: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "\x1b[2J\x1b[31mNot taking it\x07\u202e\x00 (really)\nsecond line"
    assert send(limited, es_key, items(1, display=hostile, code="own-code\x1b]0;owned\x07")).status_code == 200
    with pytest.raises(SystemExit) as exited:
        cli_main(["feedback-report", "--database-url", f"sqlite:///{tmp_path}/cds.db"])
    assert exited.value.code == 0
    report = capsys.readouterr().out
    assert not any(ch in report for ch in "\x1b\x07\x00\u202e"), repr(report)
    line = next(line for line in report.splitlines() if "own-code" in line)
    assert "Not taking it" in line and "second line" in line  # the words survive, on one line
