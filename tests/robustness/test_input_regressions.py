"""Client input that once gave an HTTP 500 (issue 11), each answered now with a 4xx naming the
field or with cards that say what could not be checked."""

from __future__ import annotations

import pytest

from tests.support.cards import CONFLICT_PREFIX, issued_card
from tests.support.conformance import error_message
from tests.support.robustness import UNCHECKED_PREFIX, base_request, entries, judge, post, summaries

SELECT = "ldn-order-select"
FEEDBACK = f"/cds-services/{SELECT}/feedback"


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 once in UTC
        "9999-12-31T23:59:59.999999-00:01",
    ],
)
def test_a_feedback_timestamp_outside_the_representable_years_is_a_400_naming_it(service, timestamp):
    item = {"card": "c", "outcome": "overridden", "outcomeTimestamp": timestamp}
    response = service.post(FEEDBACK, json={"feedback": [item]})
    assert response.status_code == 400, response.text
    assert "outcomeTimestamp" in error_message(response.json())


def test_feedback_timestamps_at_the_edges_of_the_years_are_stored(service):
    card = issued_card(service)["uuid"]
    for timestamp in ("0001-01-01T00:00:00-01:00", "9999-12-31T23:59:59+01:00"):
        item = {"card": card, "outcome": "overridden", "outcomeTimestamp": timestamp}
        assert service.post(FEEDBACK, json={"feedback": [item]}).status_code == 200, timestamp


@pytest.mark.parametrize("resource_type", [[], {}, ["MedicationRequest"], 7, None])
def test_a_draft_order_whose_resource_type_is_not_a_string_is_ignored(service, resource_type):
    body = base_request("oxycodone-active-ldn-select")
    body["context"]["draftOrders"]["entry"].append({"resource": {"resourceType": resource_type, "id": "odd"}})
    cards = judge(post(service, SELECT, body))
    assert cards is not None
    # The real naltrexone draft is still checked against the active oxycodone.
    assert any(s.startswith(CONFLICT_PREFIX) for s in summaries(cards)), summaries(cards)


@pytest.mark.parametrize("value", [{"resourceType": {}}, {"resourceType": []}, [], "Bundle", 3, {"entry": []}])
def test_a_prefetch_key_that_holds_no_resource_is_reported_as_not_read(service, value):
    """``{"medicationRequests": {"resourceType": {}}}`` says nothing about the prescriptions:
    a naltrexone order must not look opioid-free."""
    body = base_request("refractory-fibromyalgia-ldn-select")
    body["prefetch"]["medicationRequests"] = value
    response = post(service, SELECT, body)
    cards = judge(response)
    assert response.status_code == 200
    assert any(s.startswith(UNCHECKED_PREFIX) for s in summaries(cards)), summaries(cards)


def test_a_prefetch_resource_whose_type_is_an_object_is_skipped_and_the_rest_read(service):
    body = base_request("oxycodone-active-ldn-select")
    entries(body, "medicationRequests").insert(0, {"resource": {"resourceType": {}, "id": "odd"}})
    cards = judge(post(service, SELECT, body))
    assert any(s.startswith(CONFLICT_PREFIX) for s in summaries(cards)), summaries(cards)
