"""Feedback acknowledged with a 2xx is on disk: it survives SIGKILL of the server mid-stream, with
several clients sending at once, and a restart (real ``ldn-cds serve`` subprocess, real SQLite file)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.cli import main as cli_main
from tests.support.cards import issued_card
from tests.support.servers import serve

FEEDBACK = "/cds-services/ldn-order-select/feedback"


def item(card: str) -> dict:
    return {
        "card": card,
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-26T10:00:00Z",
        "overrideReason": {"reason": {"code": "patient-not-taking-opioid"}},
    }


def stored_cards(database: Path) -> set[str]:
    connection = sqlite3.connect(database)
    try:
        return {row[0] for row in connection.execute("SELECT card_uuid FROM card_feedback")}
    finally:
        connection.close()


def test_every_acknowledged_feedback_survives_sigkill_and_a_restart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "feedback.db"
    env = {"CDS_ENV": "development", "CDS_DATABASE_URL": f"sqlite:///{database}"}
    acknowledged: list[str] = []  # list.append is atomic: safe across the sender threads
    stop = threading.Event()
    clients = 4

    with serve(env, tmp_path / "first.log") as server:

        def send_until_killed() -> None:
            with httpx.Client(base_url=server.base_url, timeout=5) as http:
                while not stop.is_set():
                    try:
                        card = issued_card(http)["uuid"]  # feedback is accepted for issued cards only
                        response = http.post(FEEDBACK, json={"feedback": [item(card)]})
                    except httpx.HTTPError:
                        return  # the server died under us
                    if response.status_code == 200:
                        acknowledged.append(card)

        senders = [threading.Thread(target=send_until_killed) for _ in range(clients)]
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # mid-stream: requests from every client are in flight
        stop.set()
        for sender in senders:
            sender.join(timeout=10)

    assert len(acknowledged) >= 40
    assert set(acknowledged) <= stored_cards(database)  # nothing acknowledged was lost

    with serve(env, tmp_path / "second.log", workers=2) as restarted:
        again = httpx.post(restarted.base_url + FEEDBACK, json={"feedback": [item(acknowledged[0])]})
        assert again.status_code == 200  # a retry after the restart: accepted, not duplicated
        metrics = httpx.get(restarted.base_url + "/metrics").text
        assert 'ldn_cds_feedback_total{kind="opioid-conflict",outcome="overridden"} 1.0' in metrics
    assert set(acknowledged) <= stored_cards(database)

    with pytest.raises(SystemExit):
        cli_main(["feedback-report", "--database-url", f"sqlite:///{database}"])
    report = capsys.readouterr().out
    total = len(stored_cards(database))
    line = next(line for line in report.splitlines() if line.startswith("opioid-conflict"))
    assert line.split()[1:4] == [str(total), "0", str(total)]
