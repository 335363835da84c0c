"""Checking the cards a service returned for a fixture scenario against ``fhir_fixtures/scenarios.json``,
the one place where each scenario's expected cards are written."""

from __future__ import annotations

from typing import Any

from app.cards.templates import CARD_TOPIC_SYSTEM
from devtools.fixtures import Scenario

_URGENCY = ["critical", "warning", "info"]


def card_kind(card: dict[str, Any]) -> str:
    """The rule behind a card, as an EHR reads it: ``source.topic``."""
    topic = card["source"]["topic"]
    assert topic["system"] == CARD_TOPIC_SYSTEM, topic
    return topic["code"]


def check_scenario_cards(scenario: Scenario, request: dict[str, Any], cards: list[dict[str, Any]]) -> None:
    """Exactly the expected kinds; the titration order on exactly the expected cards; deletes and
    updates aim at this call's drafts; critical before warning before info."""
    shown = [f"{card_kind(c)}: {c['summary']}" for c in cards]
    assert {card_kind(c) for c in cards} == scenario.cards, f"{scenario.name}: {scenario.description}\n{shown}"
    carrying = {
        card_kind(c)
        for c in cards
        for s in c.get("suggestions", [])
        if any(
            a["type"] in {"create", "update"} and a["resource"]["resourceType"] == "MedicationRequest"
            for a in s["actions"]
        )
    }
    assert carrying == scenario.titration, f"{scenario.name}: titration order on {carrying}"
    drafts = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in request["context"].get("draftOrders", {}).get("entry", [])
    }
    for card in cards:
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                if action["type"] == "delete":
                    assert action["resourceId"] in drafts, action
                if action["type"] == "update":  # replaces a draft of this call, keeping its id
                    assert f"MedicationRequest/{action['resource']['id']}" in drafts, action
    indicators = [c["indicator"] for c in cards]
    assert indicators == sorted(indicators, key=_URGENCY.index), "cards ordered by urgency"
