"""``make bench`` (second part): how many cards the services show, over a population, with targets.

The population (``bench.population``): 1,000 generated patients in a fixed mix (80 % no
condition LDN is about, 8 % a studied condition and not on LDN, half of them refractory,
6 % on LDN at six stages, 4 % on opioids, 2 % both), plus every fixture patient.

What is called, all in-process through the real HTTP routes (``bench.asgi.AsgiDriver``),
with a real SQLite file in a temporary directory:

1. Day 0: order-select, then order-sign, for every patient, with a draft of naltrexone
   1.5 mg compounded capsules at bedtime (``fhir_fixtures/orders/ldn-1_5mg-compounded.json``).
2. Days 0, 1, 7, 14, 28 and 56: patient-view for every patient.

Time: the records stay as they were on day 0 and the service's clock moves (``create_app``'s
``today``). That is a chart opened again and again with nothing new written in it: a
titration step falls due, a reassessment window opens and closes, an opioid supply runs
out. Feedback is dated on the same clock, and day 0 is the real date, so a snooze measured
from either the feedback's ``outcomeTimestamp`` or the time it was received sees the
same days pass; the snooze clock is moved with it (``create_app(clock=…)``).

Feedback: every second info card shown on patient-view (in call order, so a fixed share)
is overridden through ``POST /cds-services/ldn-patient-view/feedback`` right after the
call that showed it, with one of the override reasons the card offers. Later calls for
the same patient then show whether the topic came back within its snooze period: the
period is read from the settings (``snooze_days`` per topic, ``snooze_days_default``) when
the service has them, 30 days otherwise.

Prints markdown tables (also written to ``bench/alert_burden.md``) and the targets as
met or not met. About 15 s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.asgi import AsgiDriver
from bench.population import FIXTURES, LDN_STAGES, SEED, SIZE, BenchPatient, mix_counts, population
from devtools.fixtures import draft_order, prefetch_for
from tests.support.fhir import hook_body
from tests.support.scenarios import card_kind

Json = dict[str, Any]

RESULTS_FILE = Path(__file__).resolve().parent / "alert_burden.md"
DAYS = (0, 1, 7, 14, 28, 56)
LDN_DRAFT = "ldn-1_5mg-compounded"
OVERRIDE_EVERY = 2  # every second info card shown on patient-view is overridden: 50 %
DEFAULT_SNOOZE_DAYS = 30  # when the service has no snooze setting (the feature's stated default)
SERVICE = {"patient-view": "ldn-patient-view", "order-select": "ldn-order-select", "order-sign": "ldn-order-sign"}
INDICATORS = ("critical", "warning", "info")

# Targets (issue 10, item 7).
SILENT_SHARE_TARGET = 0.95  # patient-view calls with no card, whole population
RETURNS_TARGET = 0  # overridden info topics back for the same patient within their snooze period
ORDER_SELECT_CARDS_TARGET = 2.0  # cards per order-select call for naltrexone, on average


class Clock:
    """The service's "today": day 0 plus ``offset`` days."""

    def __init__(self, day0: date):
        self.day0 = day0
        self.offset = 0
        self._started = time.time()

    def __call__(self) -> date:
        return self.day0 + timedelta(days=self.offset)

    def seconds(self) -> float:
        """Wall time moved on by ``offset`` days: for a service part that keeps time in seconds."""
        return time.time() + self.offset * 86_400


@dataclass
class Call:
    hook: str
    patient: BenchPatient
    day: int
    cards: list[Json]


@dataclass
class Override:
    patient_id: str
    topic: str
    day: int
    snooze_days: int
    later_in_window: int = 0  # later patient-view calls inside the snooze period
    returned_in_window: int = 0  # ... that showed the topic again


@dataclass
class Returns:
    overrides: list[Override] = field(default_factory=list)
    in_window_calls: int = 0  # (call, overridden topic) pairs inside a snooze period
    returned: int = 0  # ... where the topic was shown again
    after_expiry_calls: int = 0  # (call, overridden topic) pairs after every snooze period of it ran out
    after_expiry: int = 0  # ... where the topic was shown again
    returned_by_topic: Counter[str] = field(default_factory=Counter)
    in_window_by_topic: Counter[str] = field(default_factory=Counter)
    after_expiry_by_topic: Counter[str] = field(default_factory=Counter)

    def see(self, patient_id: str, day: int, shown: set[str]) -> None:
        """A patient-view call on ``day``: which earlier overrides it falls inside, and what came back."""
        by_topic: dict[str, list[Override]] = defaultdict(list)
        for override in self.overrides_of.get(patient_id, ()):
            if override.day < day:
                by_topic[override.topic].append(override)
        for topic, earlier in by_topic.items():
            inside = [o for o in earlier if day - o.day < o.snooze_days]
            for override in inside:
                override.later_in_window += 1
                if topic in shown:
                    override.returned_in_window += 1
            if inside:
                self.in_window_calls += 1
                self.in_window_by_topic[topic] += 1
                if topic in shown:
                    self.returned += 1
                    self.returned_by_topic[topic] += 1
            else:
                self.after_expiry_calls += 1
                if topic in shown:
                    self.after_expiry += 1
                    self.after_expiry_by_topic[topic] += 1

    def add(self, override: Override) -> None:
        self.overrides.append(override)
        self.overrides_of.setdefault(override.patient_id, []).append(override)

    def __post_init__(self) -> None:
        self.overrides_of: dict[str, list[Override]] = {}


def snooze_days(settings: Any, topic: str) -> tuple[int, str]:
    """The snooze period of ``topic`` as the service is configured, and where it was read.

    Looks for ``snooze_days`` (a per-topic mapping, or one number) and ``snooze_days_default``
    on the settings and on ``settings.clinical``; the feature's stated default otherwise.
    """
    for holder, prefix in ((settings, "settings"), (getattr(settings, "clinical", None), "settings.clinical")):
        if holder is None:
            continue
        per_topic = getattr(holder, "snooze_days", None)
        if isinstance(per_topic, Mapping) and topic in per_topic:
            return int(per_topic[topic]), f"{prefix}.snooze_days[{topic!r}]"
        if isinstance(per_topic, int) and not isinstance(per_topic, bool):
            return per_topic, f"{prefix}.snooze_days"
        default = getattr(holder, "snooze_days_default", None)
        if isinstance(default, int) and not isinstance(default, bool):
            return default, f"{prefix}.snooze_days_default"
    return DEFAULT_SNOOZE_DAYS, "not in the settings: the feature's stated default"


# ---------------------------------------------------------------- running


async def _post(driver: AsgiDriver, path: str, body: Json) -> Json:
    status, raw = await driver.post(path, orjson.dumps(body))
    payload = orjson.loads(raw)
    if status != 200:
        raise RuntimeError(f"POST {path}: {status} {payload}")
    return payload


def _request(hook: str, patient: BenchPatient, prefetch: Json, day0: date, label: str) -> Json:
    drafts = [draft_order(LDN_DRAFT, patient.id, day0)] if hook != "patient-view" else []
    body = hook_body(hook, drafts, patient_id=patient.id, prefetch=prefetch)
    body["hookInstance"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ldn-cds:burden:{patient.id}:{hook}:{label}"))
    return body


def _timestamp(day: date) -> str:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC).isoformat().replace("+00:00", "Z")


async def run(
    patients: list[BenchPatient], day0: date, tmp: Path, *, feedback: bool = True
) -> tuple[list[Call], Returns, Counter[str], Any, str]:
    """Every call of the benchmark against a fresh app and database; ``feedback=False``: patient-view
    only, with no feedback at all (the baseline the overrides are compared with)."""
    from app.main import create_app
    from app.settings import Environment, Settings

    settings = Settings(
        env=Environment.development, database_url=f"sqlite:///{tmp}/burden-{'feedback' if feedback else 'none'}.db"
    )
    clock = Clock(day0)
    # The rules' "today" and the snooze clock both move with the simulated day.
    app = create_app(settings, today=clock, clock=clock.seconds)
    clock_note = (
        "The service's date and its snooze clock both follow the simulated day (`create_app(today=…, clock=…)`)."
    )
    calls: list[Call] = []
    returns = Returns()
    info_shown = 0
    overridden: Counter[str] = Counter()
    prefetches = {p.id: prefetch_for(list(p.resources)) for p in patients}
    async with AsgiDriver(app) as driver:
        for patient in patients if feedback else ():  # day 0: the LDN draft at selection and at signing
            for hook in ("order-select", "order-sign"):
                body = _request(hook, patient, prefetches[patient.id], day0, "day0")
                payload = await _post(driver, f"/cds-services/{SERVICE[hook]}", body)
                calls.append(Call(hook, patient, 0, payload["cards"]))
        for day in DAYS:
            clock.offset = day
            for patient in patients:
                body = _request("patient-view", patient, prefetches[patient.id], day0, f"day{day}")
                cards = (await _post(driver, f"/cds-services/{SERVICE['patient-view']}", body))["cards"]
                calls.append(Call("patient-view", patient, day, cards))
                returns.see(patient.id, day, {card_kind(c) for c in cards})
                if not feedback:
                    continue
                items = []
                for card in cards:
                    if card["indicator"] != "info":
                        continue
                    info_shown += 1
                    if info_shown % OVERRIDE_EVERY:
                        continue
                    topic = card_kind(card)
                    item: Json = {
                        "card": card["uuid"],
                        "outcome": "overridden",
                        "outcomeTimestamp": _timestamp(clock()),
                    }
                    if reasons := card.get("overrideReasons"):
                        item["overrideReason"] = {"reason": reasons[overridden[topic] % len(reasons)]}
                    items.append(item)
                    overridden[topic] += 1
                    returns.add(Override(patient.id, topic, day, snooze_days(settings, topic)[0]))
                if items:
                    path = f"/cds-services/{SERVICE['patient-view']}/feedback"
                    received = (await _post(driver, path, {"feedback": items}))["received"]
                    if received != len(items):
                        raise RuntimeError(f"feedback: sent {len(items)}, received {received}")
    return calls, returns, overridden, settings, clock_note


# ---------------------------------------------------------------- reporting


def _subgroups(patients: Iterable[BenchPatient]) -> list[str]:
    order = ["no LDN condition", "studied condition, refractory", "studied condition, not refractory"]
    order += [f"on LDN: {stage}" for stage in LDN_STAGES] + ["opioids", "LDN and opioids", FIXTURES]
    present = {p.subgroup for p in patients}
    return [s for s in order if s in present]


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def _per_call(count: float, calls: int) -> str:
    return f"{count / calls:.3f}" if calls else "–"


def _row_for(label: str, calls: list[Call]) -> str:
    n = len(calls)
    silent = sum(1 for c in calls if not c.cards)
    by = Counter(card["indicator"] for c in calls for card in c.cards)
    total = sum(by.values())
    most = max((len(c.cards) for c in calls), default=0)
    patients = len({c.patient.id for c in calls})
    cells = [label, str(patients), str(n), _pct(silent, n)]
    cells += [_per_call(by[i], n) for i in INDICATORS] + [_per_call(total, n), str(most)]
    return "| " + " | ".join(cells) + " |"


def hook_table(hook: str, calls: list[Call], patients: list[BenchPatient]) -> list[str]:
    mine = [c for c in calls if c.hook == hook]
    lines = [
        "| subgroup | patients | calls | silent | critical / call | warning / call | info / call | cards / call | most in one call |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for subgroup in _subgroups(patients):
        lines.append(_row_for(subgroup, [c for c in mine if c.patient.subgroup == subgroup]))
    on_ldn = [c for c in mine if c.patient.subgroup.startswith("on LDN")]
    if on_ldn:
        lines.append(_row_for("*on LDN, all stages*", on_ldn))
    lines.append(_row_for(f"**generated ({SIZE:,})**", [c for c in mine if c.patient.mix != FIXTURES]))
    lines.append(_row_for("**whole population**", mine))
    return lines


def topic_table(calls: list[Call]) -> list[str]:
    lines = [
        "| hook | topic | indicator | cards | patients | share of the hook's cards | per 100 calls |",
        "|---|---|---|--:|--:|--:|--:|",
    ]
    for hook in ("patient-view", "order-select", "order-sign"):
        mine = [c for c in calls if c.hook == hook]
        cards = Counter(card_kind(card) for c in mine for card in c.cards)
        indicator = {card_kind(card): card["indicator"] for c in mine for card in c.cards}
        patients = {t: len({c.patient.id for c in mine if any(card_kind(k) == t for k in c.cards)}) for t in cards}
        total = sum(cards.values())
        for topic, count in sorted(cards.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(
                f"| {hook} | {topic} | {indicator[topic]} | {count} | {patients[topic]} | {_pct(count, total)} | "
                f"{100 * count / len(mine):.2f} |"
            )
        if not cards:
            lines.append(f"| {hook} | (none) | | 0 | 0 | | 0.00 |")
    return lines


def day_table(calls: list[Call]) -> list[str]:
    mine = [c for c in calls if c.hook == "patient-view"]
    lines = [
        "| day | calls | silent | cards | info | warning | critical | topics |",
        "|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for day in DAYS:
        today = [c for c in mine if c.day == day]
        by = Counter(card["indicator"] for c in today for card in c.cards)
        topics = Counter(card_kind(card) for c in today for card in c.cards)
        words = ", ".join(f"{t} {n}" for t, n in sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))) or "–"
        silent = sum(1 for c in today if not c.cards)
        lines.append(
            f"| {day} | {len(today)} | {_pct(silent, len(today))} | {sum(by.values())} | {by['info']} | "
            f"{by['warning']} | {by['critical']} | {words} |"
        )
    return lines


def returns_table(calls: list[Call], returns: Returns, overridden: Counter[str], settings: Any) -> list[str]:
    shown = Counter(
        card_kind(card) for c in calls if c.hook == "patient-view" for card in c.cards if card["indicator"] == "info"
    )
    lines = [
        (
            "| topic | snooze days (read from) | info cards shown | overridden | later calls inside snooze | "
            "came back inside snooze | came back after it |"
        ),
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for topic in sorted(shown, key=lambda t: (-shown[t], t)):
        days, where = snooze_days(settings, topic)
        lines.append(
            f"| {topic} | {days} ({where}) | {shown[topic]} | {overridden[topic]} | {returns.in_window_by_topic[topic]} | "
            f"{returns.returned_by_topic[topic]} | {returns.after_expiry_by_topic[topic]} |"
        )
    testable = [o for o in returns.overrides if o.later_in_window]
    came_back = [o for o in testable if o.returned_in_window]
    lines += [
        "",
        (
            f"Overridden info cards: {len(returns.overrides)}; with a later patient-view call inside their snooze "
            f"period: {len(testable)}; of those, the topic came back to the same patient inside it: {len(came_back)} "
            f"({_pct(len(came_back), len(testable))})."
        ),
        (
            f"Later calls inside a snooze period: {returns.in_window_calls}; the topic shown again in "
            f"{returns.returned} of them ({_pct(returns.returned, returns.in_window_calls)}). Later calls after the period "
            f"had run out: {returns.after_expiry_calls}; the topic shown again in {returns.after_expiry} of them."
        ),
    ]
    return lines


def baseline_table(calls: list[Call], baseline: list[Call]) -> list[str]:
    """patient-view with the overrides against the same calls with no feedback at all."""
    lines = [
        "| patient-view, whole population | calls | silent | cards | info | warning | critical |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for label, these in (
        ("no feedback at all", baseline),
        (f"every {_ORDINAL[OVERRIDE_EVERY]} info card overridden", calls),
    ):
        views = [c for c in these if c.hook == "patient-view"]
        by = Counter(card["indicator"] for c in views for card in c.cards)
        silent = sum(1 for c in views if not c.cards)
        lines.append(
            f"| {label} | {len(views)} | {_pct(silent, len(views))} | {sum(by.values())} | {by['info']} | "
            f"{by['warning']} | {by['critical']} |"
        )
    return lines


_ORDINAL = {1: "", 2: "second", 3: "third", 4: "fourth"}


def targets(calls: list[Call], returns: Returns) -> list[tuple[str, str, bool]]:
    views = [c for c in calls if c.hook == "patient-view"]
    silent = sum(1 for c in views if not c.cards) / len(views)
    selects = [c for c in calls if c.hook == "order-select"]
    per_select = sum(len(c.cards) for c in selects) / len(selects)
    return [
        (
            f"patient-view silent for >= {SILENT_SHARE_TARGET:.0%} of calls (whole population)",
            f"{silent:.2%} of {len(views):,} calls",
            silent >= SILENT_SHARE_TARGET,
        ),
        (
            "0 returns of an overridden info topic within its snooze period",
            f"{returns.returned} of {returns.in_window_calls} later calls inside a snooze period",
            returns.returned <= RETURNS_TARGET,
        ),
        (
            f"order-select for naltrexone <= {ORDER_SELECT_CARDS_TARGET:g} cards on average",
            f"{per_select:.2f} cards per call ({len(selects):,} calls)",
            per_select <= ORDER_SELECT_CARDS_TARGET,
        ),
    ]


def markdown(
    patients: list[BenchPatient],
    calls: list[Call],
    baseline: list[Call],
    returns: Returns,
    overridden: Counter[str],
    settings: Any,
    day0: date,
    seconds: float,
    snooze_note: str,
) -> str:
    counts = mix_counts(SIZE)
    mix = ", ".join(f"{name} {n}" for name, n in counts.items())
    fixtures = sum(1 for p in patients if p.mix == FIXTURES)
    lines = [
        "# Alert burden",
        "",
        (
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.alert_burden` ({seconds:.0f} s). "
            f"Day 0 = {day0.isoformat()}; patient-view on days {', '.join(map(str, DAYS))} (the service's clock moves, "
            "the records stay as on day 0); order-select and order-sign on day 0 with a naltrexone 1.5 mg "
            "compounded capsule draft (at bedtime)."
        ),
        "",
        (
            f"Population: {SIZE:,} generated patients (seed {SEED}; {mix}) plus {fixtures} fixture patients = "
            f"{len(patients):,}. Feedback: every {_ORDINAL[OVERRIDE_EVERY]} info card shown on patient-view "
            f"({100 / OVERRIDE_EVERY:.0f} %, in call order) overridden through the feedback endpoint right after the call, "
            f"with one of the override reasons the card offers. {snooze_note}"
        ),
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {measured} | {'met' if met else '**not met**'} |"
        for name, measured, met in targets(calls, returns)
    ]
    for hook, title in (
        ("patient-view", f"patient-view, {len(DAYS)} calls per patient"),
        ("order-select", "order-select, naltrexone 1.5 mg draft"),
        ("order-sign", "order-sign, the same draft"),
    ):
        lines += ["", f"## Cards per call: {title}", "", *hook_table(hook, calls, patients)]
    lines += ["", "## Cards by topic", "", *topic_table(calls)]
    lines += ["", "## patient-view by day", "", *day_table(calls)]
    lines += [
        "",
        "## Overridden info cards and their topics' returns",
        "",
        *returns_table(calls, returns, overridden, settings),
    ]
    lines += ["", "## What the feedback changed", "", *baseline_table(calls, baseline)]
    return "\n".join(lines) + "\n"


def snooze_present(settings: Any) -> str:
    found = [
        f"{prefix}.{name}"
        for holder, prefix in ((settings, "settings"), (getattr(settings, "clinical", None), "settings.clinical"))
        for name in ("snooze_days", "snooze_days_default")
        if holder is not None and hasattr(holder, name)
    ]
    if found:
        return f"Snooze settings found: {', '.join(found)}."
    return (
        f"The service has no snooze setting: periods are the feature's stated default ({DEFAULT_SNOOZE_DAYS} days), "
        "and returns are counted against it."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=RESULTS_FILE, help="markdown results file (default: %(default)s)"
    )
    parser.add_argument("--day0", type=date.fromisoformat, default=None, help="day 0 (default: today)")
    args = parser.parse_args(argv)
    logging.getLogger("ldn_cds").setLevel(logging.ERROR)  # the development-mode banner, once per app

    day0 = args.day0 or date.today()
    started = time.monotonic()
    patients = population(day0)
    tmp = Path(tempfile.mkdtemp(prefix="ldn-burden-"))
    try:
        calls, returns, overridden, settings, clock_note = asyncio.run(run(patients, day0, tmp))
        baseline = asyncio.run(run(patients, day0, tmp, feedback=False))[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = markdown(
        patients,
        calls,
        baseline,
        returns,
        overridden,
        settings,
        day0,
        time.monotonic() - started,
        f"{snooze_present(settings)} {clock_note}",
    )
    print(text)
    args.output.write_text(text)
    print(f"(written to {args.output})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
