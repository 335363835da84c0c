"""POST /cds-services/{id}/feedback: validated, attributed to the card kind, idempotent, reported."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cli import main as cli_main
from app.settings import Settings
from devtools.fixtures import hook_request, scenario
from tests.support.cards import issued_card
from tests.support.conformance import error_message

SERVICE = "/cds-services/ldn-order-select"
FEEDBACK = SERVICE + "/feedback"
WHEN = "2026-11-26T10:15:00.52Z"


def rows(settings: Settings, sql: str = "SELECT * FROM card_feedback") -> list[sqlite3.Row]:
    connection = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.fixture
def conflict_card(client: TestClient) -> dict[str, Any]:
    response = client.post(SERVICE, json=hook_request(scenario("oxycodone-active-ldn-select")))
    return next(card for card in response.json()["cards"] if card["indicator"] == "critical")


def overridden(card: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"card": card, "outcome": "overridden", "outcomeTimestamp": WHEN, **extra}
    if code:
        item["overrideReason"] = {"reason": {"code": code, "system": "urn:ldn-cds:override-reason"}}
    return item


def test_feedback_on_a_real_card_is_stored_attributed_to_its_kind_and_service(
    client: TestClient, settings: Settings, conflict_card: dict[str, Any]
) -> None:
    reason = conflict_card["overrideReasons"][0]
    item = {
        "card": conflict_card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": reason, "userComment": "stopped last month"},
        "outcomeTimestamp": WHEN,
    }
    response = client.post(FEEDBACK, json={"feedback": [item]})
    assert response.status_code == 200
    assert response.json() == {"received": 1}
    (row,) = rows(settings)
    assert row["card_kind"] == "opioid-conflict"
    assert row["service_id"] == "ldn-order-select"
    assert row["override_code"] == reason["code"] and row["override_comment"] == "stopped last month"
    assert row["outcome_timestamp"] == "2026-11-26T10:15:00.520000Z"


def test_accepted_feedback_keeps_the_accepted_suggestions(
    client: TestClient, settings: Settings, conflict_card: dict[str, Any]
) -> None:
    suggestion = conflict_card["suggestions"][0]["uuid"]
    item = {
        "card": conflict_card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion}],
        "outcomeTimestamp": WHEN,
    }
    assert client.post(FEEDBACK, json={"feedback": [item]}).status_code == 200
    (row,) = rows(settings)
    assert row["outcome"] == "accepted" and json.loads(row["accepted_suggestions"]) == [suggestion]


def test_feedback_is_idempotent(client: TestClient, settings: Settings, conflict_card: dict[str, Any]) -> None:
    card = conflict_card["uuid"]
    body = {"feedback": [overridden(card, "patient-not-taking-opioid")]}
    for _ in range(3):
        assert client.post(FEEDBACK, json=body).status_code == 200
    # The same instant written with another offset is the same feedback.
    same = {"feedback": [{**body["feedback"][0], "outcomeTimestamp": "2026-11-26T11:15:00.520+01:00"}]}
    assert client.post(FEEDBACK, json=same).status_code == 200
    assert len(rows(settings)) == 1


def test_a_batch_may_mix_outcomes_and_hook_instances(client: TestClient, settings: Settings) -> None:
    cards = [issued_card(client)["uuid"] for _ in range(3)]
    body = {
        "feedback": [
            overridden(cards[0]),
            overridden(cards[1], "specialist-supervised"),
            {"card": cards[2], "outcome": "accepted", "acceptedSuggestions": [{"id": "s"}], "outcomeTimestamp": WHEN},
        ]
    }
    assert client.post(FEEDBACK, json=body).json() == {"received": 3}
    assert len(rows(settings)) == 3


@pytest.mark.parametrize("card", ["not-one-of-ours", "0b2ec0b5-1d1e-4d53-9a4c-1f6f3a0e8b11"])
def test_feedback_on_a_card_this_service_did_not_issue_is_refused(
    client: TestClient, settings: Settings, card: str
) -> None:
    response = client.post(FEEDBACK, json={"feedback": [overridden(card)]})
    assert response.status_code == 400
    assert "not a card this service issued" in error_message(response.json())
    assert rows(settings) == []


def test_one_unknown_card_refuses_the_whole_batch(
    client: TestClient, settings: Settings, conflict_card: dict[str, Any]
) -> None:
    body = {"feedback": [overridden(conflict_card["uuid"]), overridden("0b2ec0b5-1d1e-4d53-9a4c-1f6f3a0e8b11")]}
    assert client.post(FEEDBACK, json=body).status_code == 400
    assert rows(settings) == []


def test_feedback_must_come_to_the_service_that_issued_the_card(
    client: TestClient, settings: Settings, conflict_card: dict[str, Any]
) -> None:
    response = client.post(
        "/cds-services/ldn-order-sign/feedback", json={"feedback": [overridden(conflict_card["uuid"])]}
    )
    assert response.status_code == 400
    assert rows(settings) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body must be a JSON object"),
        ({}, "feedback"),
        ({"feedback": []}, "feedback"),
        ({"feedback": "x"}, "feedback"),
        ({"feedback": [{"outcome": "overridden", "outcomeTimestamp": WHEN}]}, "card"),
        ({"feedback": [{"card": "c", "outcome": "dismissed", "outcomeTimestamp": WHEN}]}, "outcome"),
        ({"feedback": [{"card": "c", "outcome": "overridden"}]}, "outcomeTimestamp"),
        ({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"}]}, "ISO 8601"),
        ({"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": WHEN}]}, "acceptedSuggestions"),
        ({"feedback": [{"card": 7, "outcome": "overridden", "outcomeTimestamp": WHEN}]}, "card"),
        ({"feedback": [{**overridden("c"), "overrideReason": "because"}]}, "overrideReason"),
        ({"feedback": [{**overridden("c"), "overrideReason": {"reason": {"system": "s"}}}]}, "code"),
        ({"feedback": [overridden("c")] * 101}, "feedback"),
    ],
)
def test_a_malformed_body_is_a_400_that_names_the_field(
    client: TestClient, settings: Settings, body: Any, field: str
) -> None:
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 400
    assert field in error_message(response.json())
    assert rows(settings) == []


def test_invalid_json_is_a_400_and_an_unknown_service_a_404(client: TestClient) -> None:
    assert client.post(FEEDBACK, content=b"{oops", headers={"Content-Type": "application/json"}).status_code == 400
    response = client.post("/cds-services/no-such-service/feedback", json={"feedback": [overridden("c")]})
    assert response.status_code == 404
    assert "no-such-service" in error_message(response.json())


def test_the_sandbox_feedback_shape_is_accepted(client: TestClient) -> None:
    """The sandbox sends reason with code (+system) only, no display, no userComment."""
    item = {
        "card": issued_card(client)["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": {"code": "patient-not-taking-opioid"}},
        "outcomeTimestamp": "2026-11-26T10:15:00.123Z",
    }
    assert client.post(FEEDBACK, json={"feedback": [item]}).status_code == 200


def test_feedback_report_prints_rates_per_card_kind_and_top_override_reasons(
    client: TestClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    def post(kind: str, outcome: str, code: str | None = None, n: int = 1) -> None:
        for _i in range(n):
            card = issued_card(client, kind)["uuid"]
            item = (
                overridden(card, code)
                if outcome == "overridden"
                else {
                    "card": card,
                    "outcome": "accepted",
                    "acceptedSuggestions": [{"id": "s"}],
                    "outcomeTimestamp": WHEN,
                }
            )
            assert client.post(FEEDBACK, json={"feedback": [item]}).status_code == 200

    post("opioid-conflict", "accepted", n=1)
    post("opioid-conflict", "overridden", "patient-not-taking-opioid", n=2)
    post("opioid-conflict", "overridden", "specialist-supervised", n=1)
    post("opioid-conflict", "overridden", None, n=1)
    post("naltrexone-blocks-opioid", "accepted", n=2)

    assert cli_main_exit(["feedback-report", "--database-url", settings.database_url]) == 0
    text = capsys.readouterr().out
    conflict = next(line for line in text.splitlines() if line.startswith("opioid-conflict"))
    assert conflict.split()[1:] == ["5", "1", "4", "20.0%", "80.0%"]
    blocks = next(line for line in text.splitlines() if line.startswith("naltrexone-blocks-opioid"))
    assert blocks.split()[1:] == ["2", "2", "0", "100.0%", "0.0%"]
    reasons = text.split("Top override reasons", 1)[1].splitlines()
    first = next(line for line in reasons if "patient-not-taking-opioid" in line)
    assert first.split()[0] == "2" and "Patient confirms not taking the listed opioid" in first  # wording from cards/
    assert any("(no reason given)" in line for line in reasons)

    assert cli_main_exit(["feedback-report", "--database-url", settings.database_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    kinds = {k["kind"]: k for k in report["kinds"]}
    assert kinds["opioid-conflict"]["overrideRate"] == 0.8
    assert kinds["opioid-conflict"]["topOverrideReasons"][0]["code"] == "patient-not-taking-opioid"

    assert cli_main_exit(["feedback-report", "--database-url", settings.database_url, "--since", "2026-11-27"]) == 0
    assert "No feedback stored yet." in capsys.readouterr().out


def test_feedback_report_says_when_there_is_no_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main_exit(["feedback-report", "--database-url", f"sqlite:///{tmp_path}/none.db"]) == 1
    assert "no feedback database" in capsys.readouterr().err


def cli_main_exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        cli_main(argv)
    return int(exited.value.code or 0)


def test_a_database_failure_is_a_503_never_a_false_acknowledgement(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, conflict_card: dict[str, Any]
) -> None:
    from app.storage.database import DatabaseError

    def broken(records: object, **options: object) -> int:
        raise DatabaseError("disk full")

    monkeypatch.setattr(client.app.state.feedback_store, "save", broken)
    response = client.post(FEEDBACK, json={"feedback": [overridden(conflict_card["uuid"])]})
    assert response.status_code == 503
    assert error_message(response.json()) == "feedback could not be stored; retry later"


def test_an_overridden_order_dose_card_is_not_snoozed_but_the_positioning_card_is(client: TestClient) -> None:
    # A dose card is about one order: overriding it must not hide the advice on the next order.
    request = hook_request(scenario("refractory-fibromyalgia-ldn-select"))
    cards = client.post(SERVICE, json=request).json()["cards"]
    kinds = {c["source"]["topic"]["code"]: c for c in cards}
    assert set(kinds) == {"ldn-dose-start-above-initial", "ldn-positioning-refractory"}
    items = [overridden(c["uuid"]) for c in cards]
    assert client.post(FEEDBACK, json={"feedback": items}).status_code == 200
    again = [c["source"]["topic"]["code"] for c in client.post(SERVICE, json=request).json()["cards"]]
    assert again == ["ldn-dose-start-above-initial"]
