"""Checking a fixture scenario's hand-set expectations against the cards a service returned."""

from __future__ import annotations

from typing import Any

from devtools.fixtures import Scenario
from tests.support.cards import conflict_cards, not_checked_cards, reverse_cards


def check_scenario_cards(scenario: Scenario, request: dict[str, Any], cards: list[dict[str, Any]]) -> None:
    conflicts = conflict_cards(cards)
    reverse = reverse_cards(cards)
    if scenario.expect_opioid_conflict is not None:
        assert bool(conflicts) == scenario.expect_opioid_conflict, f"{scenario.description}\n{[c['summary'] for c in cards]}"
        assert all(c["indicator"] == "critical" for c in conflicts)
        drafts = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in request["context"].get("draftOrders", {}).get("entry", [])}
        for card in conflicts:
            deletes = [a["resourceId"] for s in card.get("suggestions", []) for a in s.get("actions", []) if a["type"] == "delete"]
            assert deletes and set(deletes) <= drafts, deletes
    if scenario.expect_reverse_conflict is not None:
        assert bool(reverse) == scenario.expect_reverse_conflict, f"{scenario.description}\n{[c['summary'] for c in cards]}"
        assert all(c["indicator"] == "warning" for c in reverse)
    # The whole record was available: nothing may be reported as unchecked.
    assert not_checked_cards(cards) == [], [c["summary"] for c in cards]
