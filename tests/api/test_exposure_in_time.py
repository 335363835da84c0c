"""The status table's cases through each hook's API, on the days around each window's end.

order-select and order-sign: a compounded LDN order for a patient with the case's opioid
record. patient-view: a patient who reports taking LDN and has the case's opioid record.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.rules.exposure import opioid_free_window_days
from app.rules.last_use import Certainty, Level, StatusMeaning
from app.settings import Settings
from tests.support.cards import cards_for
from tests.support.exposure_cases import CAP, CASES, Case, on
from tests.support.fhir import (
    LDN_TEXT_ONLY,
    OXYCODONE_5MG,
    concept,
    draft_order,
    full_prefetch,
    hook_body,
    medication_administration,
    medication_request,
    medication_statement,
)
from tests.support.records import record_of
from tests.support.scenarios import card_kind

CONFLICT, UNCHECKED, ON_LDN, BLOCKS = (
    "opioid-conflict",
    "opioid-status-unchecked",
    "opioid-exposure-on-ldn",
    "naltrexone-blocks-opioid",
)


class Clock:
    def __init__(self) -> None:
        self.today = date(2026, 11, 26)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def service(tmp_path_factory, clock) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("exposure") / "test.db"
    app = create_app(Settings(env="development", database_url=f"sqlite:///{database}"), today=lambda: clock.today)
    with TestClient(app) as client:
        yield client


def kinds(service: TestClient, clock: Clock, today: date, hook: str, resources: list[dict[str, Any]]) -> set[str]:
    clock.today = today
    drafts = [draft_order(LDN_TEXT_ONLY)] if hook != "patient-view" else []
    if hook == "patient-view":
        resources = [
            *resources,
            medication_statement(concept("Low-dose naltrexone 4.5 mg nightly"), start="2020-01-01"),
        ]
    body = hook_body(hook, drafts, prefetch=full_prefetch(resources))
    return {card_kind(c) for c in cards_for(service, body)}


def expected(level: Level, hook: str) -> set[str]:
    if hook == "patient-view":
        return {ON_LDN} if level is Level.exposure else set()
    return {Level.exposure: {CONFLICT}, Level.possible: {UNCHECKED}}.get(level, set())


def days_to_check(case: Case) -> list[tuple[date, Level]]:
    """The boundary days of a case and the level the table gives on each."""
    if case.meaning is StatusMeaning.never:
        return [(on(0), Level.none)]
    if case.meaning is StatusMeaning.current:
        return [(on(0), Level.exposure), (on(3000), Level.exposure)]
    window = opioid_free_window_days(record_of([case.resource, *case.extra]).medications[0], _DEFAULTS)
    checks: list[tuple[date, Level]] = []
    if case.last is not None:
        checks.append((on(case.last + window), Level.exposure))
    if case.certainty is Certainty.known and case.last is not None:
        checks.append((on(case.last + window + 1), Level.history))
    elif case.cap_from is None:
        checks.append((on(3000), Level.possible))
    else:
        doubt_ends = case.cap_from + CAP - 1 + window
        checks += [(on(doubt_ends), Level.possible), (on(doubt_ends + 1), Level.history)]
    return checks


_DEFAULTS = Settings(env="development").clinical
HOOKS = ["order-select", "order-sign", "patient-view"]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_case_gives_the_card_its_level_calls_for_on_every_hook(service, clock, case, hook):
    for today, level in days_to_check(case):
        found = kinds(service, clock, today, hook, [case.resource, *case.extra]) & {CONFLICT, UNCHECKED, ON_LDN}
        assert found == expected(level, hook), f"{case.id} on {today} ({level.name}) via {hook}"


VIVITROL = concept("Naltrexone ER 380 mg IM injection (Vivitrol)", code="637213", display="naltrexone 380 MG Injection")


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_an_opioid_ordered_inside_the_injections_28_days_is_warned_and_not_after(service, clock, hook):
    given = date(2026, 11, 1)
    injection = medication_administration(VIVITROL, given=given)
    for today, blocked in ((given + timedelta(days=28), True), (given + timedelta(days=29), False)):
        clock.today = today
        body = hook_body(hook, [draft_order(OXYCODONE_5MG)], prefetch=full_prefetch([injection]))
        found = {card_kind(c) for c in cards_for(service, body)}
        assert (BLOCKS in found) is blocked, today


def test_chart_open_with_the_injection_and_an_active_opioid_is_critical(service, clock):
    clock.today = date(2026, 11, 26)
    injection = medication_administration(VIVITROL, given="2026-11-16")
    opioid = medication_request(OXYCODONE_5MG, authored_on="2026-11-24")
    body = hook_body("patient-view", prefetch=full_prefetch([injection, opioid]))
    assert {card_kind(c) for c in cards_for(service, body)} == {ON_LDN}
