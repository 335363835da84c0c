"""``python -m devtools.example NAME`` prints a ready-made request dated today: the README's curl
example gives the cards its scenario promises on any day, not only on the fixtures' day."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from devtools import example
from devtools.fixtures import FIXTURE_TODAY, scenario, scenarios
from tests.support.cards import SERVICE_FOR_HOOK, cards_for, conflict_cards
from tests.support.scenarios import check_scenario_cards
from tests.support.servers import PROJECT_ROOT, python_command

# Scenarios whose promise depends on how long ago something happened (a recent dispense,
# a patch removed 12 days ago): fixed-date requests stopped giving their conflict a week later.
DATE_BOUND = [
    "tramadol-recent-dispense-ldn-select",
    "fentanyl-patch-ended-12d-ldn-select",
    "fentanyl-patch-ended-12d-ldn-sign",
]


def service_on(day: date, tmp_path: Path) -> TestClient:
    settings = Settings(env="development", database_url=f"sqlite:///{tmp_path}/example-{day}.db")
    return TestClient(create_app(settings, today=lambda: day))


def printed(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert example.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_the_readme_command_gives_the_critical_card_today(tmp_path: Path) -> None:
    """The README's command as a real process, answered by a service on the real clock."""
    result = subprocess.run(
        python_command("-m", "devtools.example", "oxycodone-active-ldn-select"),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    request = json.loads(result.stdout)
    assert request["context"]["draftOrders"]["entry"][0]["resource"]["authoredOn"] == date.today().isoformat()
    with TestClient(create_app(Settings(env="development", database_url=f"sqlite:///{tmp_path}/t.db"))) as service:
        cards = cards_for(service, request, "ldn-order-select")
    (card,) = conflict_cards(cards)
    assert cards[0] is card and card["indicator"] == "critical" and "oxycodone" in card["summary"]


@pytest.mark.parametrize("name", DATE_BOUND)
@pytest.mark.parametrize("shift", [0, 7, 30, 1000])
def test_date_bound_scenarios_keep_their_promise_on_any_day(
    name: str, shift: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = FIXTURE_TODAY + timedelta(days=shift)
    request = printed(capsys, name, "--today", day.isoformat())
    which = scenario(name)
    with service_on(day, tmp_path) as service:
        check_scenario_cards(which, request, cards_for(service, request, SERVICE_FOR_HOOK[which.hook]))


def test_every_scenario_keeps_its_promise_a_year_from_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    day = date.today() + timedelta(days=365)
    with service_on(day, tmp_path) as service:
        for which in scenarios():
            request = printed(capsys, which.name, "--today", day.isoformat())
            check_scenario_cards(which, request, cards_for(service, request, SERVICE_FOR_HOOK[which.hook]))


def test_without_prefetch_the_request_names_the_fhir_server(capsys: pytest.CaptureFixture[str]) -> None:
    request = printed(capsys, "crps-patient-view", "--no-prefetch", "--fhir-server", "http://127.0.0.1:8081")
    assert "prefetch" not in request and request["fhirServer"] == "http://127.0.0.1:8081"


def test_list_names_every_scenario_and_its_service(capsys: pytest.CaptureFixture[str]) -> None:
    assert example.main(["--list"]) == 0
    listing = capsys.readouterr().out
    for which in scenarios():
        assert f"{which.name}" in listing
    assert listing.count("POST /cds-services/ldn-") == len(scenarios())


@pytest.mark.parametrize("argv", [["no-such-scenario"], []])
def test_a_wrong_or_missing_name_says_how_to_list_them(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert example.main(argv) == 2
    error = capsys.readouterr().err
    assert "--list" in error and "Traceback" not in error
