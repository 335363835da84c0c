"""Feedback closes the loop: an overridden info card's topic stays quiet for that patient only,
never a warning or critical card, across a restart and with two workers; and no patient id is
ever written down (tables, SQLite WAL, logs). Real ``ldn-cds serve`` processes, real SQLite file."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from devtools.fixtures import hook_request, scenario
from tests.support.scenarios import card_kind
from tests.support.servers import serve

VIEW = "/cds-services/ldn-patient-view"
# A fixture patient under a new, distinctive id: easy to search for in every byte written.
PATIENT = "zz-snooze-probe-4c1e9b7d"
OTHER_PATIENT = "zz-other-probe-8a02f6c3"


def chart_open(name: str, patient: str) -> dict[str, Any]:
    request = hook_request(scenario(name), today=date.today())
    original = request["context"]["patientId"]
    return json.loads(json.dumps(request).replace(original, patient))


def cards(http: httpx.Client, name: str, patient: str) -> list[dict[str, Any]]:
    response = http.post(VIEW, json=chart_open(name, patient))
    assert response.status_code == 200, response.text
    return response.json()["cards"]


def override(http: httpx.Client, card: dict[str, Any]) -> None:
    reason = card["overrideReasons"][0] if card.get("overrideReasons") else None
    item: dict[str, Any] = {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-03T10:00:00Z"}
    if reason:
        item["overrideReason"] = {"reason": reason}
    response = http.post(VIEW + "/feedback", json={"feedback": [item]})
    assert response.status_code == 200, response.text


def each_call_on_a_new_connection(base_url: str, name: str, patient: str, times: int = 6) -> list[list[str]]:
    """New connections, so both workers answer some of them."""
    kinds = []
    for _ in range(times):
        with httpx.Client(base_url=base_url, timeout=10) as http:
            kinds.append([card_kind(c) for c in cards(http, name, patient)])
    return kinds


def test_an_override_quiets_the_topic_for_that_patient_only_across_workers_and_a_restart(tmp_path: Path) -> None:
    env = {"CDS_ENV": "development", "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/cds.db"}
    name = "refractory-fibromyalgia-patient-view"
    with (
        serve(env, tmp_path / "first.log", workers=2) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        (candidate,) = cards(http, name, PATIENT)
        assert candidate["indicator"] == "info" and card_kind(candidate) == "ldn-candidate"
        override(http, candidate)
        assert each_call_on_a_new_connection(server.base_url, name, PATIENT) == [[]] * 6
        # Another patient with the same record still gets the card.
        assert each_call_on_a_new_connection(server.base_url, name, OTHER_PATIENT, times=2) == [["ldn-candidate"]] * 2
    with serve(env, tmp_path / "second.log", workers=2) as restarted:
        assert each_call_on_a_new_connection(restarted.base_url, name, PATIENT, times=3) == [[]] * 3
        assert each_call_on_a_new_connection(restarted.base_url, name, OTHER_PATIENT, times=1) == [["ldn-candidate"]]


def test_a_critical_card_is_never_snoozed(tmp_path: Path) -> None:
    env = {"CDS_ENV": "development", "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/cds.db"}
    name = "vivitrol-10d-on-oxycodone-patient-view"
    with serve(env, tmp_path / "server.log") as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        (critical,) = cards(http, name, PATIENT)
        assert critical["indicator"] == "critical"
        override(http, critical)
        again = cards(http, name, PATIENT)
        assert [(card_kind(c), c["indicator"]) for c in again] == [(card_kind(critical), "critical")]
        assert again[0]["uuid"] != critical["uuid"]  # a new instance, shown again


def test_no_patient_id_is_written_to_any_table_the_wal_or_the_logs(tmp_path: Path) -> None:
    database = tmp_path / "cds.db"
    env = {"CDS_ENV": "development", "CDS_DATABASE_URL": f"sqlite:///{database}", "CDS_LOG_LEVEL": "DEBUG"}
    log = tmp_path / "server.log"
    written: list[bytes] = []
    with serve(env, log) as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        for name in (
            "refractory-fibromyalgia-patient-view",
            "vivitrol-10d-on-oxycodone-patient-view",
            "mid-titration-patient-view",
        ):
            for card in cards(http, name, PATIENT):
                override(http, card)
        select = hook_request(scenario("oxycodone-active-ldn-select"), today=date.today())
        select = json.loads(json.dumps(select).replace(select["context"]["patientId"], PATIENT))
        answer = http.post("/cds-services/ldn-order-select", json=select).json()
        item = {"card": answer["cards"][0]["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-03T10:00:00Z"}
        assert http.post("/cds-services/ldn-order-select/feedback", json={"feedback": [item]}).status_code == 200
        # While the server runs, recent writes sit in the WAL: read it before the checkpoint at exit.
        wal = database.with_name(database.name + "-wal")
        assert wal.exists()
        written.append(wal.read_bytes())
    written += [database.read_bytes(), log.read_bytes()]
    with sqlite3.connect(database) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"issued_card", "topic_snooze", "card_feedback"} <= set(tables)
        assert connection.execute("SELECT COUNT(*) FROM issued_card").fetchone()[0] >= 3
        assert connection.execute("SELECT COUNT(*) FROM topic_snooze").fetchone()[0] >= 1
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                written.append(repr(row).encode())
    forms = {
        "raw": PATIENT.encode(),
        "hex": PATIENT.encode().hex().encode(),
        "HEX": PATIENT.encode().hex().upper().encode(),
        "base64": base64.b64encode(PATIENT.encode()).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(PATIENT.encode()).rstrip(b"="),
    }
    for blob in written:
        for form, needle in forms.items():
            assert needle not in blob, f"the patient id ({form}) was written down"
    assert b"ldn-order-select" in log.read_bytes()  # the log was written (the scan saw real content)
