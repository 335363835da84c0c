"""Every scenario in fhir_fixtures/scenarios.json against its hand-set expectations,
once with prefetch and once read from a real FHIR server (no prefetch)."""

from __future__ import annotations

import pytest

from devtools.fixtures import hook_request, scenarios
from tests.support.cards import SERVICE_FOR_HOOK, cards_for
from tests.support.fhir_server import FHIR_TOKEN
from tests.support.scenarios import check_scenario_cards

SCENARIOS = scenarios()


def test_the_scenario_table_is_the_one_the_issue_describes():
    assert len(SCENARIOS) >= 37
    assert any(s.expect_opioid_conflict for s in SCENARIOS) and any(s.expect_reverse_conflict for s in SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_with_prefetch(api, scenario):
    request = hook_request(scenario)
    check_scenario_cards(scenario, request, cards_for(api, request, SERVICE_FOR_HOOK[scenario.hook]))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_read_from_the_fhir_server(api, fhir_server, scenario):
    request = hook_request(scenario, with_prefetch=False, fhir_server=fhir_server.base_url, access_token=FHIR_TOKEN)
    check_scenario_cards(scenario, request, cards_for(api, request, SERVICE_FOR_HOOK[scenario.hook]))
    assert fhir_server.config.seen_paths, "nothing was read from the FHIR server"
