"""Card identity: which cards this deployment issued, to which client, about which patient.

A hook answer's cards are recorded, one row per card keyed by its (random, per-instance)
uuid: topic, indicator, issuing service, the client's issuer, an expiry, and the patient as
an HMAC under the deployment secret (``app/security/deployment_secret.py``) — never an
identifier. Feedback carries only the card's uuid; this row is how it is tied back to what
was issued, and to whom:

- feedback is accepted only for a card this deployment issued to the same issuer;
- accepting or overriding an *info* card snoozes its topic for that patient (per-topic
  setting), so the next chart open stays quiet. Warnings and critical cards never snooze.

Both happen in the database, so every worker and instance agrees and a restart forgets
nothing. On the hot path it is one short transaction per answer that has cards (most
chart opens have none): read the patient's snoozes, drop snoozed info cards, record the
rest. Expired rows are swept at most once a minute per process in the same transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from app.cds.models import Card
from app.storage.database import Database

_SWEEP_EVERY_SECONDS = 60.0
_SECONDS_PER_DAY = 86_400
# Only advice can be snoozed: a safety card shows every time its reason is there.
SNOOZABLE = frozenset({"info"})


@dataclass(frozen=True, slots=True)
class IssuedCard:
    card_uuid: str
    service_id: str
    topic: str
    indicator: str
    issuer: str | None
    patient_key: str
    expires_at: int


class CardIdentity:
    def __init__(
        self,
        database: Database,
        *,
        ttl_days: int,
        snooze_days: Mapping[str, int],
        snooze_days_default: int,
        clock: Callable[[], float] = time.time,
    ):
        self._database = database
        self._ttl = ttl_days * _SECONDS_PER_DAY
        self._snooze_days = dict(snooze_days)
        self._snooze_default = snooze_days_default
        self._clock = clock
        self._next_sweep = 0.0
        self._lock = threading.Lock()

    def issue(self, cards: Sequence[Card], *, service_id: str, issuer: str | None, patient_key: str) -> list[Card]:
        """The cards to answer with (snoozed info topics dropped), each recorded as issued. Blocking."""
        if not cards:
            return []
        now = int(self._clock())
        sweep = self._sweep_due(now)
        with self._database.transaction(durable=False) as tx:
            if sweep:
                tx.execute("DELETE FROM issued_card WHERE expires_at < ?", (now,))
                tx.execute("DELETE FROM topic_snooze WHERE until < ?", (now,))
            snoozed = {
                topic
                for (topic,) in tx.fetchall(
                    "SELECT topic FROM topic_snooze WHERE patient_key = ? AND until >= ?", (patient_key, now)
                )
            }
            shown = [c for c in cards if not (c.indicator in SNOOZABLE and _topic(c) in snoozed)]
            for card in shown:
                tx.execute(
                    "INSERT INTO issued_card (card_uuid, service_id, topic, indicator, issuer, patient_key, expires_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (card.uuid, service_id, _topic(card), card.indicator, issuer, patient_key, now + self._ttl),
                )
        return shown

    def issued(self, uuids: Sequence[str]) -> dict[str, IssuedCard]:
        """The unexpired cards among ``uuids`` that this deployment issued. Blocking."""
        if not uuids:
            return {}
        placeholders = ", ".join("?" for _ in uuids)
        with self._database.transaction(durable=False) as tx:
            rows = tx.fetchall(
                "SELECT card_uuid, service_id, topic, indicator, issuer, patient_key, expires_at FROM issued_card "  # noqa: S608 - adds only "?" placeholders
                f"WHERE card_uuid IN ({placeholders}) AND expires_at >= ?",
                (*uuids, int(self._clock())),
            )
        return {row[0]: IssuedCard(*row) for row in rows}

    def snooze(self, cards: Sequence[IssuedCard]) -> None:
        """Quiet each info card's topic for its patient, for the topic's snooze period. Blocking, durable."""
        now = int(self._clock())
        snoozable = [c for c in cards if c.indicator in SNOOZABLE and self._days(c.topic) > 0]
        if not snoozable:
            return
        with self._database.transaction() as tx:
            for card in snoozable:
                until = now + self._days(card.topic) * _SECONDS_PER_DAY
                tx.execute(
                    "INSERT INTO topic_snooze (patient_key, topic, until) VALUES (?, ?, ?) "
                    "ON CONFLICT (patient_key, topic) DO UPDATE SET until = CASE "
                    "WHEN excluded.until > topic_snooze.until THEN excluded.until ELSE topic_snooze.until END",
                    (card.patient_key, card.topic, until),
                )

    def _days(self, topic: str) -> int:
        return self._snooze_days.get(topic, self._snooze_default)

    def _sweep_due(self, now: float) -> bool:
        with self._lock:
            if now < self._next_sweep:
                return False
            self._next_sweep = now + _SWEEP_EVERY_SECONDS
            return True


def _topic(card: Card) -> str:
    return card.source.topic.code if card.source.topic else ""
