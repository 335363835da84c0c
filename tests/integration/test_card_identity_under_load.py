"""Recording issued cards never fails a clinician's call: 16 concurrent calls that all answer
with cards (each one a write) against a real server process and a real SQLite file, and a
card store that cannot write."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from app.storage.database import DatabaseError
from bench.workloads import TYPICAL, hook_request
from devtools.fixtures import hook_request as scenario_request
from devtools.fixtures import scenario
from tests.support.servers import serve

SELECT = "/cds-services/ldn-order-select"


def test_sixteen_concurrent_calls_with_cards_all_answer(tmp_path: Path) -> None:
    # Once, SQLite's polling busy handler let a writer lose every poll for 2 s: a 500.
    env = {"CDS_ENV": "development", "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/cds.db"}
    bodies = [orjson.dumps(hook_request(TYPICAL, "order-select", date.today(), variant=n)) for n in range(1, 17)]
    statuses: Counter[int] = Counter()
    with serve(env, tmp_path / "server.log") as server:
        stop = time.monotonic() + 5

        def client(body: bytes) -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as http:
                while time.monotonic() < stop:
                    response = http.post(SELECT, content=body, headers={"Content-Type": "application/json"})
                    statuses[response.status_code] += 1

        threads = [threading.Thread(target=client, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses[200] > 16 and set(statuses) == {200}, statuses


def test_cards_are_answered_when_the_card_store_cannot_write(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(client.app.state.identity, "issue", broken)  # type: ignore[attr-defined]
    response = client.post(SELECT, json=scenario_request(scenario("oxycodone-active-ldn-select")))
    assert response.status_code == 200
    assert [c["indicator"] for c in response.json()["cards"]] == ["critical"]
