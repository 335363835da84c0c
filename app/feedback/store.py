"""Feedback rows in the database, and the per-card-kind report built from them.

Feedback is accepted only for cards this deployment issued (``app/feedback/identity.py``),
so every row is attributed to its card's topic (the rule behind the card). Rows stored
before card identity existed may be unattributed; the report says so.

Idempotent: the key is (service, card, outcome, outcomeTimestamp); a retried POST inserts
nothing new. A batch is one transaction, committed before the endpoint answers 2xx.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.feedback.models import FeedbackRequest
from app.storage.database import Database, Transaction

UNATTRIBUTED = "(unattributed)"
NO_REASON = "(no reason given)"


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    service_id: str
    card_uuid: str
    outcome: str
    outcome_timestamp: str
    card_kind: str | None
    card_service_number: int | None
    accepted_suggestions: str | None
    override_system: str | None
    override_code: str | None
    override_display: str | None
    override_comment: str | None
    issuer: str | None
    tenant: str | None
    received_at: str


def feedback_records(
    service_id: str,
    body: FeedbackRequest,
    *,
    topics: Mapping[str, str],
    issuer: str | None,
    tenant: str | None,
    now: datetime | None = None,
) -> list[FeedbackRecord]:
    """One row per item; ``topics``: card uuid -> the topic the card was issued with."""
    received_at = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    records = []
    for item in body.feedback:
        reason = item.overrideReason.reason if item.overrideReason else None
        records.append(
            FeedbackRecord(
                service_id=service_id,
                card_uuid=item.card,
                outcome=item.outcome,
                outcome_timestamp=item.outcomeTimestamp,
                card_kind=topics.get(item.card),
                card_service_number=None,  # kept for rows from before card identity
                accepted_suggestions=json.dumps([s.id for s in item.acceptedSuggestions])
                if item.acceptedSuggestions
                else None,
                override_system=reason.system if reason else None,
                override_code=reason.code if reason else None,
                override_display=reason.display if reason else None,
                override_comment=item.overrideReason.userComment if item.overrideReason else None,
                issuer=issuer,
                tenant=tenant,
                received_at=received_at,
            )
        )
    return records


_INSERT = (
    "INSERT INTO card_feedback (service_id, card_uuid, outcome, outcome_timestamp, card_kind, "
    "card_service_number, accepted_suggestions, override_system, override_code, override_display, "
    "override_comment, issuer, tenant, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class ReasonCount:
    code: str | None
    display: str | None
    count: int

    @property
    def label(self) -> str:
        if self.code is None:
            return NO_REASON
        return f"{self.code} — {self.display}" if self.display else self.code


@dataclass(frozen=True, slots=True)
class KindSummary:
    kind: str
    accepted: int
    overridden: int
    top_reasons: tuple[ReasonCount, ...] = field(default_factory=tuple)

    @property
    def total(self) -> int:
        return self.accepted + self.overridden

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.total if self.total else 0.0

    @property
    def override_rate(self) -> float:
        return self.overridden / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class FeedbackReport:
    kinds: tuple[KindSummary, ...]
    since: str | None = None

    @property
    def total(self) -> int:
        return sum(k.total for k in self.kinds)


class FeedbackVolumeExceeded(Exception):
    """The issuer has sent its hourly allowance of feedback items; nothing of the batch was stored."""


class FeedbackStore:
    def __init__(self, database: Database):
        self._database = database

    def save(self, records: Sequence[FeedbackRecord], *, hourly_limit: int | None = None) -> int:
        """Store a batch in one transaction; how many were new. Blocking; durable on return.

        ``hourly_limit``: at most this many items stored per issuer (the batch's) in the
        last hour, counted in the database so that every worker and instance agrees;
        :class:`FeedbackVolumeExceeded` (nothing stored) if the batch would pass it.
        """
        inserted = 0
        with self._database.transaction() as tx:
            if hourly_limit is not None and records:
                recent = _recent_items(tx, records[0].issuer, records[0].received_at)
                if recent + len(records) > hourly_limit:
                    raise FeedbackVolumeExceeded(f"{recent} items in the last hour; the limit is {hourly_limit}")
            for r in records:
                inserted += tx.execute(
                    _INSERT,
                    (
                        r.service_id,
                        r.card_uuid,
                        r.outcome,
                        r.outcome_timestamp,
                        r.card_kind,
                        r.card_service_number,
                        r.accepted_suggestions,
                        r.override_system,
                        r.override_code,
                        r.override_display,
                        r.override_comment,
                        r.issuer,
                        r.tenant,
                        r.received_at,
                    ),
                )
        return inserted

    def report(
        self,
        *,
        since: str | None = None,
        top: int = 5,
        reason_displays: Mapping[tuple[str, str], str] | None = None,
    ) -> FeedbackReport:
        """Acceptance and override rates per card kind, and each kind's top override reasons.

        ``since``: only feedback whose outcomeTimestamp is at or after it (normalised UTC
        text). ``reason_displays``: (kind, code) -> wording, for clients that send only a code.
        """
        where, params = ("WHERE outcome_timestamp >= ?", (since,)) if since else ("", ())
        with self._database.transaction() as tx:
            counts = tx.fetchall(
                f"SELECT card_kind, outcome, COUNT(*) FROM card_feedback {where} GROUP BY card_kind, outcome",  # noqa: S608 - `where` is one of two constants
                params,
            )
            reasons = tx.fetchall(
                "SELECT card_kind, override_code, MAX(override_display), COUNT(*) FROM card_feedback "  # noqa: S608 - as above
                f"{where + ' AND' if where else 'WHERE'} outcome = 'overridden' "
                "GROUP BY card_kind, override_code",
                params,
            )
        tally: dict[str, dict[str, int]] = {}
        for kind, outcome, count in counts:
            tally.setdefault(kind or UNATTRIBUTED, {})[outcome] = int(count)
        by_kind: dict[str, list[ReasonCount]] = {}
        displays = reason_displays or {}
        for kind, code, display, count in reasons:
            kind = kind or UNATTRIBUTED
            wording = displays.get((kind, code)) if code is not None else None
            by_kind.setdefault(kind, []).append(ReasonCount(code, wording or display, int(count)))
        summaries = []
        for kind, outcomes in tally.items():
            ranked = sorted(by_kind.get(kind, []), key=lambda r: (-r.count, r.code or "\uffff"))
            summaries.append(
                KindSummary(kind, outcomes.get("accepted", 0), outcomes.get("overridden", 0), tuple(ranked[:top]))
            )
        summaries.sort(key=lambda s: (-s.total, s.kind))
        return FeedbackReport(tuple(summaries), since)


def _recent_items(tx: Transaction, issuer: str | None, now: str) -> int:
    """Feedback rows stored for ``issuer`` (``None``: calls without a JWT) in the hour before ``now``."""
    hour_ago = (datetime.fromisoformat(now.removesuffix("Z")) - timedelta(hours=1)).isoformat(
        timespec="microseconds"
    ) + "Z"
    if issuer is None:
        rows = tx.fetchall("SELECT COUNT(*) FROM card_feedback WHERE issuer IS NULL AND received_at >= ?", (hour_ago,))
    else:
        rows = tx.fetchall(
            "SELECT COUNT(*) FROM card_feedback WHERE issuer = ? AND received_at >= ?", (issuer, hour_ago)
        )
    return int(rows[0][0])


def printable(text: str) -> str:
    """``text`` safe to print on an operator's terminal: control and format characters
    (ANSI escapes, bidi overrides, NUL…) removed, line breaks and tabs made spaces.
    Clients write override reasons; they must not get to drive the terminal."""
    return "".join(
        " " if ch.isspace() else ch for ch in text if ch.isspace() or not unicodedata.category(ch).startswith("C")
    )


def format_report(report: FeedbackReport) -> str:
    """The report as a plain-text table, for ``ldn-cds feedback-report``."""
    lines = [
        f"Card feedback: {report.total} item(s)" + (f" since {report.since}" if report.since else ""),
        (
            "Rates are among cards that got feedback; cards a clinician ignored send none "
            "(see ldn_cds_cards_emitted_total for cards shown)."
        ),
        "",
    ]
    if not report.kinds:
        lines.append("No feedback stored yet.")
        return "\n".join(lines)
    width = max(len("card kind"), *(len(printable(k.kind)) for k in report.kinds))
    lines.append(
        f"{'card kind':<{width}}  {'feedback':>8}  {'accepted':>8}  {'overridden':>10}  {'acceptance':>10}  {'override':>8}"
    )
    for k in report.kinds:
        lines.append(
            f"{printable(k.kind):<{width}}  {k.total:>8}  {k.accepted:>8}  {k.overridden:>10}  "
            f"{k.acceptance_rate:>10.1%}  {k.override_rate:>8.1%}"
        )
    lines += ["", "Top override reasons"]
    for k in report.kinds:
        if not k.top_reasons:
            continue
        lines.append(f"  {printable(k.kind)}")
        for reason in k.top_reasons:
            lines.append(f"    {reason.count:>6}  {printable(reason.label)}")
    return "\n".join(lines)


def report_as_json(report: FeedbackReport) -> dict[str, object]:
    return {
        "since": report.since,
        "total": report.total,
        "kinds": [
            {
                "kind": k.kind,
                "feedback": k.total,
                "accepted": k.accepted,
                "overridden": k.overridden,
                "acceptanceRate": round(k.acceptance_rate, 4),
                "overrideRate": round(k.override_rate, 4),
                "topOverrideReasons": [{"code": r.code, "display": r.display, "count": r.count} for r in k.top_reasons],
            }
            for k in report.kinds
        ],
    }
