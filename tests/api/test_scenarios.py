"""Every scenario in fhir_fixtures/scenarios.json against its hand-set expectations,
once with prefetch and once read from a real FHIR server (no prefetch)."""

from __future__ import annotations

import pytest

from app.cards.kinds import CardKind
from devtools.fixtures import hook_request, scenarios
from tests.support.cards import SERVICE_FOR_HOOK, cards_for
from tests.support.fhir_server import FHIR_TOKEN
from tests.support.scenarios import check_scenario_cards

SCENARIOS = scenarios()


def test_every_expected_card_kind_is_a_real_one_and_the_table_covers_every_kind():
    kinds = {kind.slug for kind in CardKind}
    for case in SCENARIOS:
        assert case.cards <= kinds and case.titration <= case.cards, case.name
    assert set().union(*(s.cards for s in SCENARIOS)) == kinds - {"fhir-version-unsupported", "naltrexone-dose-unknown"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_with_prefetch(api, scenario):
    request = hook_request(scenario)
    check_scenario_cards(scenario, request, cards_for(api, request, SERVICE_FOR_HOOK[scenario.hook]))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_read_from_the_fhir_server(api, fhir_server, scenario):
    request = hook_request(scenario, with_prefetch=False, fhir_server=fhir_server.base_url, access_token=FHIR_TOKEN)
    check_scenario_cards(scenario, request, cards_for(api, request, SERVICE_FOR_HOOK[scenario.hook]))
    assert fhir_server.config.seen_paths, "nothing was read from the FHIR server"
