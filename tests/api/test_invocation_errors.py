"""POST /cds-services/{id}: client errors are FHIR OperationOutcomes naming the problem; never a 500."""

from __future__ import annotations

import json

import pytest

from devtools.fixtures import hook_request, scenario
from tests.support.cards import call_service
from tests.support.conformance import error_message
from tests.support.fhir import LDN_TEXT_ONLY, draft_order, full_prefetch, hook_body
from tests.support.servers import closed_port_url


def valid_order_select() -> dict:
    return hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=full_prefetch())


def assert_error(status: int, body: dict, expected_status: int, *mentions: str) -> None:
    assert status == expected_status, body
    text = json.dumps(body)
    assert "Traceback" not in text and 'File "' not in text
    message = error_message(body)
    for word in mentions:
        assert word.lower() in message.lower(), f"{word!r} not named in {message!r}"


def test_an_unknown_service_is_404_with_a_json_body(api):
    status, body = call_service(api, "no-such-service", valid_order_select())
    assert_error(status, body, 404, "no-such-service")


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b'{"hook": "order-select",', b"\xff\xfe\x00garbage"],
    ids=["broken", "empty", "truncated", "not utf-8"],
)
def test_malformed_json_is_400_saying_so(api, raw):
    status, body = call_service(api, "ldn-order-select", None, raw=raw)
    assert_error(status, body, 400, "JSON")


@pytest.mark.parametrize("raw", [b"[]", b"null", b'"order-select"', b"42"], ids=["array", "null", "string", "number"])
def test_a_json_body_that_is_not_an_object_is_400(api, raw):
    status, body = call_service(api, "ldn-order-select", None, raw=raw)
    assert_error(status, body, 400)


def test_missing_patient_id_is_400_naming_it(api):
    request = valid_order_select()
    del request["context"]["patientId"]
    assert_error(*call_service(api, "ldn-order-select", request), 400, "patientId")


@pytest.mark.parametrize("value", ["", "   ", 123, None, ["p1"]], ids=["empty", "blank", "number", "null", "list"])
def test_a_patient_id_that_is_not_a_non_empty_string_is_400(api, value):
    request = valid_order_select()
    request["context"]["patientId"] = value
    assert_error(*call_service(api, "ldn-order-select", request), 400, "patientId")


@pytest.mark.parametrize("service_id", ["ldn-order-select", "ldn-order-sign"])
def test_missing_draft_orders_is_400_naming_it(api, service_id):
    request = valid_order_select()
    request["hook"] = service_id.removeprefix("ldn-")
    del request["context"]["draftOrders"]
    assert_error(*call_service(api, service_id, request), 400, "draftOrders")


@pytest.mark.parametrize(
    "value", ["a string", [1, 2], {"resourceType": "MedicationRequest"}], ids=["string", "list", "not a Bundle"]
)
def test_draft_orders_that_are_not_a_bundle_are_400(api, value):
    request = valid_order_select()
    request["context"]["draftOrders"] = value
    assert_error(*call_service(api, "ldn-order-select", request), 400, "draftOrders")


@pytest.mark.parametrize(
    ("service_id", "hook"),
    [
        ("ldn-order-select", "order-sign"),
        ("ldn-order-sign", "order-select"),
        ("ldn-patient-view", "order-select"),
        ("ldn-order-select", "patient-view"),
    ],
)
def test_a_hook_that_does_not_match_the_service_is_400_naming_the_hook(api, service_id, hook):
    request = valid_order_select()
    request["hook"] = hook
    assert_error(*call_service(api, service_id, request), 400, "hook")


@pytest.mark.parametrize("field", ["hook", "hookInstance", "context"])
def test_a_missing_required_top_level_field_is_400_naming_it(api, field):
    request = valid_order_select()
    del request[field]
    assert_error(*call_service(api, "ldn-order-select", request), 400, field)


def test_a_context_that_is_not_an_object_is_400(api):
    request = valid_order_select()
    request["context"] = "patient 123"
    assert_error(*call_service(api, "ldn-order-select", request), 400, "context")


def test_selections_that_are_not_references_are_400(api):
    request = valid_order_select()
    request["context"]["selections"] = [{"id": 1}]
    assert_error(*call_service(api, "ldn-order-select", request), 400, "selections")


def test_a_fhir_server_that_is_not_a_url_is_400(api):
    request = valid_order_select()
    request["fhirServer"] = "file:///etc/passwd"
    assert_error(*call_service(api, "ldn-order-select", request), 400, "fhirServer")


# --- 412: only when the record is neither prefetched nor fetchable --------------------------


def test_no_prefetch_and_no_fhir_server_is_412(api):
    request = hook_body("order-select", [draft_order(LDN_TEXT_ONLY)])
    assert_error(*call_service(api, "ldn-order-select", request), 412)


def test_a_prefetch_without_any_medication_key_and_no_fhir_server_is_412(api):
    request = hook_body(
        "order-select",
        [draft_order(LDN_TEXT_ONLY)],
        prefetch={"patient": {"resourceType": "Patient", "id": "test-patient"}},
    )
    assert_error(*call_service(api, "ldn-order-select", request), 412)


def test_a_partial_prefetch_without_fhir_server_is_not_412(api):
    prefetch = {"medicationRequests": full_prefetch()["medicationRequests"]}
    request = hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=prefetch)
    status, _ = call_service(api, "ldn-order-select", request)
    assert status == 200


def test_a_fhir_server_without_prefetch_is_not_412_even_if_unreachable(api):
    request = hook_request(scenario("oxycodone-active-ldn-select"), with_prefetch=False, fhir_server=closed_port_url())
    status, _ = call_service(api, "ldn-order-select", request)
    assert status == 200
