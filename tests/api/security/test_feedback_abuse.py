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

from app.cli import main as cli_main
from devtools.fixtures import hook_request, scenario
from tests.support.conformance import error_message
from tests.support.security import ISSUER, SigningKey, bearer, es384_key, jwks, mint

FEEDBACK = "/cds-services/ldn-order-select/feedback"
OTHER_ISSUER = "https://other-ehr.test/cds-client"
OTHER_KEY = es384_key("other-ehr-key")
LIMIT = 5


SERVICE = "/cds-services/ldn-order-select"


def issued(client: TestClient, key: SigningKey, iss: str) -> str:
    """A card the service issued to this client (feedback is accepted for those only)."""
    answer = client.post(
        SERVICE, json=hook_request(scenario("oxycodone-active-ldn-select")), headers=bearer(mint(key, SERVICE, iss=iss))
    )
    return next(c["uuid"] for c in answer.json()["cards"] if c["indicator"] == "critical")


def items(
    client: TestClient,
    key: SigningKey,
    n: int,
    *,
    iss: str = ISSUER,
    display: str | None = None,
    code: str = "patient-not-taking-opioid",
) -> list[dict]:
    reason: dict = {"code": code, "system": "urn:ldn-cds:override-reason"}
    if display is not None:
        reason["display"] = display
    return [
        {
            "card": issued(client, key, iss),
            "outcome": "overridden",
            "outcomeTimestamp": "2026-11-26T10:15:00Z",
            "overrideReason": {"reason": reason},
        }
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
    assert send(limited, es_key, items(limited, es_key, LIMIT)).status_code == 200
    refused = send(limited, es_key, items(limited, es_key, 1))
    assert refused.status_code == 429
    assert refused.headers["retry-after"].isdigit()
    assert f"at most {LIMIT} items" in error_message(refused.json())
    assert stored(tmp_path, ISSUER) == LIMIT


def test_the_limit_is_per_issuer(limited: TestClient, es_key: SigningKey, tmp_path: Path) -> None:
    assert send(limited, es_key, items(limited, es_key, LIMIT)).status_code == 200
    assert send(limited, es_key, items(limited, es_key, 1)).status_code == 429
    assert (
        send(limited, OTHER_KEY, items(limited, OTHER_KEY, LIMIT, iss=OTHER_ISSUER), iss=OTHER_ISSUER).status_code
        == 200
    )  # another EHR is not affected
    assert stored(tmp_path, OTHER_ISSUER) == LIMIT


def test_a_batch_that_would_pass_the_limit_is_refused_whole(
    limited: TestClient, es_key: SigningKey, tmp_path: Path
) -> None:
    assert send(limited, es_key, items(limited, es_key, LIMIT + 1)).status_code == 429
    assert stored(tmp_path, ISSUER) == 0


def test_the_report_strips_control_characters_from_what_clients_wrote(
    limited: TestClient, es_key: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "\x1b[2J\x1b[31mNot taking it\x07\u202e\x00 (really)\nsecond line"
    assert (
        send(limited, es_key, items(limited, es_key, 1, display=hostile, code="own-code\x1b]0;owned\x07")).status_code
        == 200
    )
    with pytest.raises(SystemExit) as exited:
        cli_main(["feedback-report", "--database-url", f"sqlite:///{tmp_path}/cds.db"])
    assert exited.value.code == 0
    report = capsys.readouterr().out
    assert not any(ch in report for ch in "\x1b\x07\x00\u202e"), repr(report)
    line = next(line for line in report.splitlines() if "own-code" in line)
    assert "Not taking it" in line and "second line" in line  # the words survive, on one line


def test_feedback_on_another_issuers_card_is_refused(limited: TestClient, es_key: SigningKey, tmp_path: Path) -> None:
    # The card exists, but it was issued to the other EHR: this client cannot speak for it.
    theirs = items(limited, OTHER_KEY, 1, iss=OTHER_ISSUER)
    refused = send(limited, es_key, theirs)
    assert refused.status_code == 400
    assert "not a card this service issued to this client" in error_message(refused.json())
    assert stored(tmp_path, ISSUER) == 0 and stored(tmp_path, OTHER_ISSUER) == 0


def test_made_up_card_uuids_cannot_skew_the_report(limited: TestClient, es_key: SigningKey, tmp_path: Path) -> None:
    made_up = [{"card": f"00000000-0000-8000-8000-{i:012d}", "outcome": "overridden",
                "outcomeTimestamp": "2026-11-26T10:15:00Z"} for i in range(3)]  # fmt: skip
    assert send(limited, es_key, made_up).status_code == 400
    assert stored(tmp_path, ISSUER) == 0
