"""The same storage on a real PostgreSQL server: feedback, idempotency, and jti replay across
instances (several app instances behind a load balancer share one database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.feedback.models import FeedbackRequest
from app.feedback.store import FeedbackStore, FeedbackVolumeExceeded, feedback_records
from app.main import create_app
from app.security.replay import ReplayGuard
from app.storage import SCHEMA, open_database
from app.storage.database import Database, DatabaseError, PostgresDatabase
from devtools.fixtures import FIXTURE_TODAY, hook_request, scenario
from tests.support.security import ISSUER, bearer, es384_key, jwks, mint, production_settings, write_issuers


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    db = open_database(postgres_url)
    assert isinstance(db, PostgresDatabase)
    db.migrate(SCHEMA)
    with db.transaction() as tx:
        tx.execute("DELETE FROM card_feedback")
        tx.execute("DELETE FROM jwt_replay")
        tx.execute("DELETE FROM issued_card")
        tx.execute("DELETE FROM topic_snooze")
    yield db
    db.close()


def new_cards(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def records_for(cards: list[str], issuer: str | None) -> list:
    """Feedback rows for opioid-conflict cards (the route looks the topic up in card identity)."""
    return feedback_records(
        "ldn-order-select", batch(*cards), topics=dict.fromkeys(cards, "opioid-conflict"), issuer=issuer, tenant=None
    )


def batch(*cards: str) -> FeedbackRequest:
    return FeedbackRequest.model_validate(
        {
            "feedback": [
                {
                    "card": c,
                    "outcome": "overridden",
                    "outcomeTimestamp": "2026-11-26T10:00:00Z",
                    "overrideReason": {"reason": {"code": "specialist-supervised"}},
                }
                for c in cards
            ]
        }
    )


def test_feedback_is_stored_once_and_reported(database: Database) -> None:
    store = FeedbackStore(database)
    records = records_for(new_cards(3), ISSUER)
    assert store.save(records) == 3
    assert store.save(records) == 0  # a retried POST changes nothing
    (kind,) = store.report().kinds
    assert (kind.kind, kind.overridden, kind.override_rate) == ("opioid-conflict", 3, 1.0)
    assert kind.top_reasons[0].code == "specialist-supervised" and kind.top_reasons[0].count == 3


def test_concurrent_identical_feedback_from_many_threads_is_one_row(database: Database) -> None:
    store = FeedbackStore(database)
    records = records_for(new_cards(1), None)
    with ThreadPoolExecutor(8) as pool:
        inserted = list(pool.map(lambda _: store.save(records), range(16)))
    assert sum(inserted) == 1


def test_a_jti_is_first_used_once_across_instances(database: Database, postgres_url: str) -> None:
    other = open_database(postgres_url)
    try:
        jti = str(uuid.uuid4())
        with ThreadPoolExecutor(8) as pool:
            results = list(
                pool.map(lambda i: ReplayGuard(database if i % 2 else other).first_use(ISSUER, jti, 2**40), range(16))
            )
        assert results.count(True) == 1
    finally:
        other.close()


def test_two_production_app_instances_on_one_postgres_share_replay_state_and_feedback(
    postgres_url: str, database: Database, tmp_path: Path
) -> None:
    key = es384_key()
    issuers = write_issuers(tmp_path, [{"iss": ISSUER, "jwks": jwks(key), "fhir_servers": []}])
    settings = production_settings(tmp_path, issuers, database_url=postgres_url)
    with (
        TestClient(create_app(settings, today=lambda: FIXTURE_TODAY)) as first,
        TestClient(create_app(settings, today=lambda: FIXTURE_TODAY)) as second,
    ):
        assert first.get("/readyz").json() == {"status": "ok", "database": "ok"}
        token = mint(key)
        assert first.get("/cds-services", headers=bearer(token)).status_code == 200
        assert second.get("/cds-services", headers=bearer(token)).status_code == 401
        # A card issued by one instance gets its feedback through the other.
        select = "/cds-services/ldn-order-select"
        answer = first.post(
            select, json=hook_request(scenario("oxycodone-active-ldn-select")), headers=bearer(mint(key, select))
        )
        card = next(c for c in answer.json()["cards"] if c["indicator"] == "critical")
        path = select + "/feedback"
        body = {
            "feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z"}]
        }
        assert first.post(path, json=body, headers=bearer(mint(key, path))).status_code == 200
        assert second.post(path, json=body, headers=bearer(mint(key, path))).status_code == 200

        # An info card overridden through one instance is snoozed on the other.
        view = "/cds-services/ldn-patient-view"
        chart = hook_request(scenario("refractory-fibromyalgia-patient-view"))
        (candidate,) = first.post(view, json=chart, headers=bearer(mint(key, view))).json()["cards"]
        override = {
            "feedback": [
                {"card": candidate["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z"}
            ]
        }
        assert (
            second.post(view + "/feedback", json=override, headers=bearer(mint(key, view + "/feedback"))).status_code
            == 200
        )
        assert first.post(view, json=chart, headers=bearer(mint(key, view))).json()["cards"] == []
    with database.transaction() as tx:
        assert tx.fetchall("SELECT issuer, card_kind FROM card_feedback WHERE service_id = 'ldn-order-select'") == [
            (ISSUER, "opioid-conflict")
        ]


def test_an_unreachable_server_is_a_database_error_not_a_crash(postgres_url: str) -> None:
    from tests.support.servers import free_port

    db = open_database(f"postgresql://ldn@127.0.0.1:{free_port()}/postgres")
    with pytest.raises(DatabaseError) as raised:
        db.ping()
    assert "ldn@" not in str(raised.value)  # the URL in messages carries no credentials


def test_the_hourly_feedback_limit_counts_on_postgres_too(database: Database) -> None:
    store = FeedbackStore(database)
    first = records_for(new_cards(3), ISSUER)
    assert store.save(first, hourly_limit=4) == 3
    more = records_for(new_cards(2), ISSUER)
    with pytest.raises(FeedbackVolumeExceeded):
        store.save(more, hourly_limit=4)
    anonymous = records_for(new_cards(1), None)
    assert store.save(anonymous, hourly_limit=4) == 1  # another client's allowance
