"""CDS Hooks 2.0 card conformance, checked on every card a test sees."""

from __future__ import annotations

import uuid
from typing import Any

INDICATORS = {"info", "warning", "critical"}


def assert_no_empty_values(value: Any, path: str = "body") -> None:
    assert value is not None, f"{path} is null"
    if isinstance(value, (str, list, dict)):
        assert len(value) > 0, f"{path} is empty"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_no_empty_values(item, f"{path}[{index}]")


def assert_conformant_card(card: dict[str, Any]) -> None:
    assert_no_empty_values(card, "card")
    uuid.UUID(card["uuid"])
    assert len(card["summary"]) < 140, card["summary"]
    assert card["indicator"] in INDICATORS
    assert card["source"]["label"]
    topic = card["source"]["topic"]  # the rule behind the card (a Coding: system and code required)
    assert topic["system"] and topic["code"] and topic["display"]
    if card.get("suggestions"):
        assert card["selectionBehavior"] in {"at-most-one", "any"}
        for suggestion in card["suggestions"]:
            uuid.UUID(suggestion["uuid"])
            assert suggestion["label"]
            for action in suggestion.get("actions", []):
                assert action["type"] in {"create", "update", "delete"}
                assert action["description"]
                if action["type"] == "delete":
                    assert "/" in action["resourceId"]
                else:
                    assert action["resource"]["resourceType"]
    for reason in card.get("overrideReasons", []):
        assert reason["code"] and reason["system"] and reason["display"]
    for link in card.get("links", []):
        assert link["label"] and link["url"].startswith("http") and link["type"] in {"absolute", "smart"}


def assert_conformant_response(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Checks a service response and returns its cards."""
    assert set(body) <= {"cards", "systemActions"}, body.keys()
    assert isinstance(body["cards"], list)
    for card in body["cards"]:
        assert_conformant_card(card)
    uuids = [c["uuid"] for c in body["cards"]] + [s["uuid"] for c in body["cards"] for s in c.get("suggestions", [])]
    assert len(uuids) == len(set(uuids)), "every card and suggestion has its own uuid"
    return body["cards"]


def error_message(body: Any) -> str:
    """The message of an error answer, once the body is checked to be a valid FHIR R4
    OperationOutcome (validated with fhir.resources) with the message in issue[0].diagnostics."""
    from fhir.resources.R4B.operationoutcome import OperationOutcome

    assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", body
    OperationOutcome.model_validate(body)
    assert_no_empty_values(body, "OperationOutcome")
    message = body["issue"][0]["diagnostics"]
    assert isinstance(message, str) and message
    assert "Traceback" not in message and 'File "' not in message
    return message
