"""Client input never produces a 500 or a stack trace (issue: Protocol).

Prefetch and draftOrders are client input too: odd shapes and out-of-range values in
them must give a 200 (with what can be read) or a 4xx, never an internal error.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.fixtures import hook_request, scenario
from tests.support.cards import call_service

BASE = hook_request(scenario("tramadol-recent-dispense-ldn-select"))  # has a dispense, a draft and every prefetch key


def first(request: dict, key: str) -> dict:
    """The first resource of a prefetch key."""
    return request["prefetch"][key]["entry"][0]["resource"]


def draft(request: dict) -> dict:
    return request["context"]["draftOrders"]["entry"][0]["resource"]


def mutate(path_setter) -> dict:
    request = copy.deepcopy(BASE)
    path_setter(request)
    return request


ODD_INPUTS = {
    "daysSupply of a hundred million days": lambda r: first(r, "medicationDispenses").__setitem__(
        "daysSupply", {"value": 99_999_999, "unit": "d"}
    ),
    "daysSupply near the float limit": lambda r: first(r, "medicationDispenses").__setitem__(
        "daysSupply", {"value": 1e308, "unit": "mo"}
    ),
    "negative daysSupply": lambda r: first(r, "medicationDispenses").__setitem__(
        "daysSupply", {"value": -40, "unit": "d"}
    ),
    "daysSupply value as text": lambda r: first(r, "medicationDispenses").__setitem__(
        "daysSupply", {"value": "seven", "unit": "d"}
    ),
    "boundsDuration near the float limit": lambda r: draft(r)["dosageInstruction"][0]["timing"]["repeat"].__setitem__(
        "boundsDuration", {"value": 1e308, "unit": "mo"}
    ),
    "handed over on 30 February": lambda r: first(r, "medicationDispenses").__setitem__("whenHandedOver", "2026-02-30"),
    "handed over in year 9999": lambda r: first(r, "medicationDispenses").__setitem__("whenHandedOver", "9999-12-31"),
    "handed over in year 1": lambda r: first(r, "medicationDispenses").__setitem__("whenHandedOver", "0001-01-01"),
    "authoredOn not a date": lambda r: draft(r).__setitem__("authoredOn", "yesterday"),
    "authoredOn a number": lambda r: draft(r).__setitem__("authoredOn", 20261126),
    "medicationCodeableConcept a string": lambda r: draft(r).__setitem__("medicationCodeableConcept", "naltrexone"),
    "coding a string": lambda r: draft(r).__setitem__("medicationCodeableConcept", {"coding": "7243"}),
    "code a float": lambda r: draft(r).__setitem__(
        "medicationCodeableConcept", {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.88", "code": 7243.5}]}
    ),
    "medicationReference a string": lambda r: draft(r).__setitem__("medicationReference", "Medication/1"),
    "medicationReference to nowhere": lambda r: draft(r).__setitem__("medicationReference", {"reference": "#"}),
    "contained a string": lambda r: draft(r).__setitem__("contained", "Medication"),
    "dosageInstruction a number": lambda r: draft(r).__setitem__("dosageInstruction", 3),
    "doseQuantity value a string": lambda r: draft(r)["dosageInstruction"][0]["doseAndRate"][0][
        "doseQuantity"
    ].__setitem__("value", "4.5"),
    "doseQuantity value huge": lambda r: draft(r)["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"].__setitem__(
        "value", 1e308
    ),
    "sequence a string": lambda r: draft(r)["dosageInstruction"][0].__setitem__("sequence", "first"),
    "status not a string": lambda r: draft(r).__setitem__("status", ["draft"]),
    "draft resource id a number": lambda r: draft(r).__setitem__("id", 42),
    "draftOrders entry not an object": lambda r: r["context"]["draftOrders"]["entry"].append("MedicationRequest/1"),
    "draftOrders entry resource a list": lambda r: r["context"]["draftOrders"]["entry"].append({"resource": []}),
    "draftOrders entry list is an object": lambda r: r["context"]["draftOrders"].__setitem__(
        "entry", {"resource": draft(r)}
    ),
    "prefetch key a string": lambda r: r["prefetch"].__setitem__("medicationRequests", "MedicationRequest?patient=1"),
    "prefetch key a list": lambda r: r["prefetch"].__setitem__(
        "medicationDispenses", [first(r, "medicationDispenses")]
    ),
    "prefetch key a number": lambda r: r["prefetch"].__setitem__("medicationStatements", 0),
    "prefetch bundle entry a string": lambda r: r["prefetch"]["medicationRequests"]["entry"].append("oops"),
    "prefetch resource without resourceType": lambda r: r["prefetch"]["medicationRequests"]["entry"].append(
        {"resource": {"id": "x"}}
    ),
    "condition codes odd": lambda r: r["prefetch"]["conditions"]["entry"].append(
        {"resource": {"resourceType": "Condition", "code": {"coding": [None, 1, "x"]}, "clinicalStatus": "active"}}
    ),
    "selections a string": lambda r: r["context"].__setitem__("selections", "MedicationRequest/1"),
    "fhirAuthorization without token": lambda r: r.__setitem__("fhirAuthorization", {"token_type": "Bearer"}),
    "prefetch a list": lambda r: r.__setitem__("prefetch", [1, 2]),
    "deeply nested draft": lambda r: draft(r).__setitem__("note", _deep(200)),
}


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"x": [value]}
    return value


def assert_not_a_server_error(status: int, body: dict) -> None:
    assert status < 500, body
    text = json.dumps(body)
    assert "Traceback" not in text and 'File "' not in text


@pytest.mark.parametrize("change", ODD_INPUTS.values(), ids=list(ODD_INPUTS))
def test_odd_client_input_is_never_a_server_error(api, change):
    assert_not_a_server_error(*call_service(api, "ldn-order-select", mutate(change)))


# --- property: arbitrary JSON dropped into the places clients fill -------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
FIELDS = [
    "status",
    "medicationCodeableConcept",
    "medicationReference",
    "authoredOn",
    "dosageInstruction",
    "contained",
    "id",
    "subject",
]
DISPENSE_FIELDS = ["status", "whenHandedOver", "daysSupply", "medicationCodeableConcept", "medicationReference"]


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    draft_field=st.sampled_from(FIELDS),
    draft_value=json_values,
    dispense_field=st.sampled_from(DISPENSE_FIELDS),
    dispense_value=json_values,
)
def test_arbitrary_values_in_draft_orders_and_prefetch_are_never_a_server_error(
    api, draft_field, draft_value, dispense_field, dispense_value
):
    request = copy.deepcopy(BASE)
    draft(request)[draft_field] = draft_value
    first(request, "medicationDispenses")[dispense_field] = dispense_value
    assert_not_a_server_error(*call_service(api, "ldn-order-select", request))
