"""Calling a CDS service and reading its cards, with conformance checked on every 200 body."""

from __future__ import annotations

import re
from typing import Any, Protocol

from tests.support.conformance import assert_conformant_response

SERVICE_FOR_HOOK = {
    "order-select": "ldn-order-select",
    "order-sign": "ldn-order-sign",
    "patient-view": "ldn-patient-view",
}

# The contract fixed by the issue: how the two conflict cards are recognised.
CONFLICT_PREFIX = "Current or recent opioid use"
REVERSE_PREFIX = "Naltrexone blocks opioids"
# "could not check", "not fully checked", "unable to verify", "cannot read" ...
_NOT_CHECKED = re.compile(r"\b(not|n't|unable to|cannot)\b(\s+\w+){0,3}?\s+(check|verif|read|confirm)", re.IGNORECASE)


class Poster(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...


def call_service(client: Poster, service_id: str, body: Any, *, raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
    """POST a hook request; every 200 body is checked for CDS Hooks conformance before it is returned."""
    if raw is not None:
        response = client.post(f"/cds-services/{service_id}", content=raw, headers={"Content-Type": "application/json"})
    else:
        response = client.post(f"/cds-services/{service_id}", json=body)
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    payload = response.json()
    if response.status_code == 200:
        assert_conformant_response(payload)
    return response.status_code, payload


def cards_for(client: Poster, body: dict[str, Any], service_id: str | None = None) -> list[dict[str, Any]]:
    """The cards of a successful call (status 200 asserted)."""
    service_id = service_id or SERVICE_FOR_HOOK[body["hook"]]
    status, payload = call_service(client, service_id, body)
    assert status == 200, payload
    return payload["cards"]


def conflict_cards(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if c["summary"].startswith(CONFLICT_PREFIX)]


def reverse_cards(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if c["summary"].startswith(REVERSE_PREFIX)]


def not_checked_cards(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cards that say the opioid check could not be (fully) made."""
    return [
        c
        for c in cards
        if not c["summary"].startswith(CONFLICT_PREFIX)
        and "opioid" in (c["summary"] + c.get("detail", "")).lower()
        and _NOT_CHECKED.search(c["summary"])
    ]


def card_text(card: dict[str, Any]) -> str:
    return f"{card['summary']}\n{card.get('detail', '')}"


# A scenario whose order-select answer holds one card of each of these kinds.
_SCENARIO_FOR_KIND = {
    "opioid-conflict": "oxycodone-active-ldn-select",
    "naltrexone-blocks-opioid": "vivitrol-given-10d-oxycodone-select",
}


def issued_card(client: Poster, kind: str = "opioid-conflict") -> dict[str, Any]:
    """A card the service really issued (feedback is accepted only for those), from its order-select."""
    from devtools.fixtures import hook_request, scenario

    cards = cards_for(client, hook_request(scenario(_SCENARIO_FOR_KIND[kind])), "ldn-order-select")
    return next(card for card in cards if card["source"]["topic"]["code"] == kind)
