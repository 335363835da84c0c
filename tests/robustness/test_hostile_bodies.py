"""Hostile request bodies: never a 5xx; protocol errors are 4xx; bad clinical data gives sensible cards.

Hand-picked cases first (each names the hostile input it stands for), then
properties over generated bodies (``fuzz``: ``make fuzz`` runs 10,000 examples each).
"""

from __future__ import annotations

import gc
import json
import re
import tracemalloc

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.cards import CONFLICT_PREFIX
from tests.support.robustness import (
    UNCHECKED_PREFIX,
    base_request,
    entries,
    fuzz_examples,
    judge,
    post,
    summaries,
    timed_post,
)
from tests.support.strategies import (
    HOOK_FOR_SERVICE,
    any_json,
    perturbed_scenario_bodies,
    protocol_mutations,
    well_formed_hook_bodies,
)

SELECT = "ldn-order-select"
SERVICES = sorted(HOOK_FOR_SERVICE)
MiB = 1024 * 1024


# ---------------------------------------------------------------- not a hook request at all


@pytest.mark.parametrize("raw", [b"[]", b'"order-select"', b"1", b"null", b"true", b"[{}]"], ids=repr)
def test_a_body_that_is_json_but_not_an_object_is_a_400(service, raw):
    response = post(service, SELECT, content=raw)
    assert response.status_code == 400, response.text
    judge(response)


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"{'hook': 1}", b"\xff\xfe{}", b'{"hook": "order-select"', b"NaN", b'{"a": Infinity}'], ids=repr
)
def test_a_body_that_is_not_json_is_a_400(service, raw):
    response = post(service, SELECT, content=raw)
    assert response.status_code == 400, response.text
    judge(response)


WRONG_TYPES = {
    "hook is a number": ("hook", 3),
    "hook is empty": ("hook", ""),
    "hookInstance is a list": ("hookInstance", ["x"]),
    "context is a string": ("context", "patient"),
    "context is a list": ("context", []),
    "prefetch is a list": ("prefetch", []),
    "prefetch is a string": ("prefetch", "x"),
    "fhirServer is a number": ("fhirServer", 8080),
    "fhirServer is not http(s)": ("fhirServer", "file:///etc/passwd"),
    "fhirAuthorization is a string": ("fhirAuthorization", "Bearer x"),
    "fhirAuthorization has no token": ("fhirAuthorization", {"token_type": "Bearer"}),
    "patientId is a number": ("context.patientId", 12),
    "patientId is blank": ("context.patientId", "   "),
    "patientId is missing": ("context.patientId", ...),
    "draftOrders is a list": ("context.draftOrders", []),
    "draftOrders is a Patient": ("context.draftOrders", {"resourceType": "Patient"}),
    "draftOrders is missing": ("context.draftOrders", ...),
    "selections is a string": ("context.selections", "MedicationRequest/1"),
    "selections holds numbers": ("context.selections", [1, 2]),
    "hook of another service": ("hook", "patient-view"),
}


@pytest.mark.parametrize(("field", "value"), WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_a_protocol_field_of_the_wrong_type_is_a_400_naming_the_field(service, field, value):
    body = base_request()
    container, _, name = field.rpartition(".")
    holder = body["context"] if container == "context" else body
    if value is ...:
        del holder[name]
    else:
        holder[name] = value
    response = post(service, SELECT, body)
    assert response.status_code == 400, response.text
    judge(response)
    assert name.lower() in response.text.lower(), response.text


# ---------------------------------------------------------------- size and depth


def test_nesting_deeper_than_the_json_parser_allows_is_a_400(service):
    depth = 100_000
    raw = (
        b'{"hook": "order-select", "hookInstance": "x", "context": {}, "prefetch": {"conditions": '
        + b"[" * depth
        + b"]" * depth
        + b"}}"
    )
    response = post(service, SELECT, content=raw)
    assert response.status_code == 400, response.text[:300]
    judge(response)


def test_deep_nesting_inside_a_resource_is_ignored_and_answered(service):
    """800 levels (the JSON parser allows 1,024) inside an extension the rules never read."""
    body = base_request()
    entries(body, "medicationRequests")[0]["resource"]["extension"] = "DEEP"
    deep = '{"extension": [' * 400 + '"bottom"' + "]}" * 400
    raw = json.dumps(body).replace('"DEEP"', deep).encode()
    cards = judge(post(service, SELECT, content=raw))
    assert cards is not None


def _huge(text_bytes: int) -> str:
    # Words separated by spaces: the worst case for word-boundary regexes.
    return ("ab " * (text_bytes // 3 + 1))[:text_bytes]


def _set_medication_text(body, value):
    entries(body, "medicationRequests")[0]["resource"]["medicationCodeableConcept"] = {"text": value}


def _set_draft_text(body, value):
    body["context"]["draftOrders"]["entry"][0]["resource"]["medicationCodeableConcept"]["text"] = value


def _set_dosage_text(body, value):
    entries(body, "medicationRequests")[0]["resource"]["dosageInstruction"] = [{"text": value}]


def _set_condition_text(body, value):
    entries(body, "conditions").append(
        {"resource": {"resourceType": "Condition", "id": "huge", "code": {"text": value}}}
    )


def _set_icd10_code(body, value):
    coding = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": value.replace(" ", "Z")}
    entries(body, "conditions").append(
        {"resource": {"resourceType": "Condition", "id": "huge", "code": {"coding": [coding]}}}
    )


def _set_status(body, value):
    entries(body, "medicationRequests")[0]["resource"]["status"] = value


def _set_hook_instance(body, value):
    body["hookInstance"] = value


def _set_system(body, value):
    entries(body, "medicationRequests")[0]["resource"]["medicationCodeableConcept"] = {
        "coding": [{"system": value, "code": "7243"}]
    }


HUGE_FIELDS = {
    "medication text": (_set_medication_text, MiB),
    "draft order medication text": (_set_draft_text, MiB),
    "dosage text": (_set_dosage_text, MiB),
    "condition text": (_set_condition_text, MiB),
    "ICD-10 code": (_set_icd10_code, 128 * 1024),
    "status": (_set_status, MiB),
    "hookInstance": (_set_hook_instance, MiB),
    "coding system": (_set_system, MiB),
}
# Linear work over a MiB of text takes milliseconds; a second is ample on a slow CI machine.
HUGE_FIELD_SECONDS = 1.0


@pytest.mark.parametrize(("setter", "size"), HUGE_FIELDS.values(), ids=HUGE_FIELDS.keys())
def test_a_huge_string_in_any_field_is_answered_quickly(service, setter, size):
    body = base_request()
    setter(body, _huge(size))
    post(service, SELECT, base_request())  # warm
    response, seconds = timed_post(service, SELECT, body)
    judge(response)
    assert response.status_code in {200, 400}, response.text[:300]
    assert seconds < HUGE_FIELD_SECONDS, f"{seconds:.2f} s for {size // 1024} KiB"


def _one_long_name(n: int) -> dict:
    return {"text": f"oxycodone {n} " + "x" * (256 * 1024)}


def _many_long_displays(n: int) -> dict:
    """500 codings, each with its own 512-character display: 256 KiB of names."""
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    return {"coding": [{"system": rxnorm, "code": str(i), "display": f"{n}-{i}-" + "x" * 500} for i in range(500)]}


@pytest.mark.parametrize("concept", [_one_long_name, _many_long_displays], ids=["one long name", "many long displays"])
def test_unique_huge_names_are_not_kept_in_memory_after_the_request(service, concept):
    """Classification caches must not hold one caller's megabytes (16 requests x 256 KiB here)."""
    body = base_request()
    post(service, SELECT, body)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(16):
            entries(body, "medicationRequests")[0]["resource"]["medicationCodeableConcept"] = concept(n)
            assert post(service, SELECT, body).status_code == 200
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 1 * MiB, f"{retained / MiB:.1f} MiB retained after 16 requests of 256 KiB names"


# ---------------------------------------------------------------- odd FHIR content


def test_unknown_resource_types_in_prefetch_and_draft_orders_are_ignored(service):
    body = base_request()
    entries(body, "medicationRequests").append(
        {"resource": {"resourceType": "NotAThing", "id": "n1", "status": "active"}}
    )
    entries(body, "conditions").append({"resource": {"resourceType": "Observation", "id": "o1"}})
    body["context"]["draftOrders"]["entry"].append({"resource": {"resourceType": "ServiceRequest", "id": "s1"}})
    body["prefetch"]["surprise"] = {"resourceType": "Binary", "data": "AAAA"}
    cards = judge(post(service, SELECT, body))
    assert cards is not None


def test_an_opioid_behind_a_medication_reference_that_is_not_sent_is_reported_unchecked(service):
    """No fhirServer to read ``Medication/not-sent`` from: the drug of an active prescription
    is unknown, so a naltrexone order must not look opioid-free."""
    body = base_request()
    entries(body, "medicationRequests").append(
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "unresolved",
                "status": "active",
                "intent": "order",
                "subject": {"reference": "Patient/" + body["context"]["patientId"]},
                "medicationReference": {"reference": "Medication/not-sent"},
                "authoredOn": "2026-11-20",
            }
        }
    )
    cards = judge(post(service, SELECT, body))
    assert any(s.startswith(UNCHECKED_PREFIX) for s in summaries(cards)), summaries(cards)


BROKEN_REFERENCES = {
    "contained id missing": {"reference": "#nope"},
    "reference is a number": {"reference": 7},
    "reference is empty": {"reference": ""},
    "reference to a Patient": {"reference": "Patient/x"},
    "reference is a bare slash": {"reference": "/"},
    "reference is a list": [{"reference": "Medication/1"}],
}


@pytest.mark.parametrize("reference", BROKEN_REFERENCES.values(), ids=BROKEN_REFERENCES.keys())
def test_a_broken_medication_reference_gives_an_answer_not_an_error(service, reference):
    body = base_request()
    entries(body, "medicationRequests")[0]["resource"]["medicationReference"] = reference
    body["context"]["draftOrders"]["entry"][0]["resource"]["medicationReference"] = reference
    assert judge(post(service, SELECT, body)) is not None


def test_selections_that_match_no_draft_order_are_answered(service):
    body = base_request()
    body["context"]["selections"] = ["MedicationRequest/not-in-draft-orders", "ServiceRequest/1"]
    assert judge(post(service, SELECT, body)) is not None


def test_duplicate_ids_give_one_conflict_card_not_one_per_copy(service):
    body = base_request("oxycodone-active-ldn-select")
    meds = entries(body, "medicationRequests")
    meds.extend([json.loads(json.dumps(e)) for e in meds] * 2)  # every resource three times, same ids
    conditions = entries(body, "conditions")
    conditions.extend([json.loads(json.dumps(e)) for e in conditions])
    draft = body["context"]["draftOrders"]["entry"]
    draft.append(json.loads(json.dumps(draft[0])))
    cards = judge(post(service, SELECT, body))
    conflicts = [s for s in summaries(cards) if s.startswith(CONFLICT_PREFIX)]
    assert len(conflicts) == 1, summaries(cards)


def _dispense(**fields):
    return {
        "resource": {
            "resourceType": "MedicationDispense",
            "id": "edge-dispense",
            "status": "completed",
            "subject": {"reference": "Patient/no-opioids-fibromyalgia-refractory"},
            "medicationCodeableConcept": {"text": "oxycodone 5 mg tablet"},
            **fields,
        }
    }


EDGE_DISPENSES = {
    "handed over on the last representable day": _dispense(
        whenHandedOver="9999-12-31", daysSupply={"value": 30, "unit": "d"}
    ),
    "a supply of ten billion days": _dispense(whenHandedOver="2026-11-20", daysSupply={"value": 1e10, "unit": "d"}),
    "a negative supply of ten billion days": _dispense(
        whenHandedOver="2026-11-20", daysSupply={"value": -1e10, "unit": "d"}
    ),
    "a supply of 1e308 months": _dispense(whenHandedOver="2026-11-20", daysSupply={"value": 1e308, "unit": "mo"}),
    "handed over on the first representable day": _dispense(
        whenHandedOver="0001-01-01", daysSupply={"value": -30, "unit": "d"}
    ),
}


@pytest.mark.parametrize("entry", EDGE_DISPENSES.values(), ids=EDGE_DISPENSES.keys())
def test_a_dispense_at_the_edge_of_the_calendar_gives_an_answer_not_a_500(service, entry):
    body = base_request()
    entries(body, "medicationDispenses").append(entry)
    assert judge(post(service, SELECT, body)) is not None


def test_an_ldn_history_without_any_dates_gives_an_answer_not_a_500(service):
    """On LDN (a dated dispense) while no prescription or statement carries a date."""
    body = base_request("on-ldn-patient-view")
    for key in ("medicationRequests", "medicationStatements"):
        for entry in entries(body, key):
            for name in ("authoredOn", "effectivePeriod", "effectiveDateTime", "dateAsserted"):
                entry["resource"].pop(name, None)
    assert judge(post(service, "ldn-patient-view", body)) is not None


NOT_A_NUMBER = re.compile(r"\b(inf|infinity|nan)\b", re.IGNORECASE)
EDGE_QUANTITIES = {
    "dose of 1e308 g": {"value": 1e308, "unit": "g"},
    "dose of -1e308 mg": {"value": -1e308, "unit": "mg"},
    "dose of 2^63-1 mg": {"value": 2**63 - 1, "unit": "mg"},
    "dose as a string": {"value": "4.5", "unit": "mg"},
    "dose of true mg": {"value": True, "unit": "mg"},
}


@pytest.mark.parametrize("quantity", EDGE_QUANTITIES.values(), ids=EDGE_QUANTITIES.keys())
def test_an_extreme_dose_quantity_in_the_order_gives_conformant_cards(service, quantity):
    body = base_request()
    draft = body["context"]["draftOrders"]["entry"][0]["resource"]
    draft["dosageInstruction"] = [
        {"sequence": 1, "doseAndRate": [{"doseQuantity": quantity}], "timing": {"repeat": {"boundsDuration": quantity}}}
    ]
    cards = judge(post(service, SELECT, body))
    assert cards is not None
    for card in cards:
        text = card["summary"] + " " + card.get("detail", "")
        assert not NOT_A_NUMBER.search(text), card["summary"]


# ---------------------------------------------------------------- properties


PROPERTY = settings(
    max_examples=fuzz_examples(40),
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.fuzz
@PROPERTY
@given(data=st.data())
def test_hostile_fhir_content_in_a_well_formed_call_always_gets_conformant_cards(service, data):
    service_id = data.draw(st.sampled_from(SERVICES))
    body = data.draw(well_formed_hook_bodies(service_id))
    response = post(service, service_id, body)
    judge(response)
    assert response.status_code == 200, response.text[:500]


@pytest.mark.fuzz
@PROPERTY
@given(data=st.data())
def test_a_real_record_with_hostile_edits_always_gets_conformant_cards(service, data):
    service_id = data.draw(st.sampled_from(SERVICES))
    body = data.draw(perturbed_scenario_bodies(service_id))
    response = post(service, service_id, body)
    judge(response)
    assert response.status_code == 200, response.text[:500]


@pytest.mark.fuzz
@PROPERTY
@given(data=st.data())
def test_a_mutated_protocol_field_is_a_4xx_or_an_answer_never_a_5xx(service, data):
    service_id = data.draw(st.sampled_from(SERVICES))
    judge(post(service, service_id, data.draw(protocol_mutations(service_id))))


@pytest.mark.fuzz
@PROPERTY
@given(value=any_json, service_id=st.sampled_from([*SERVICES, "no-such-service"]))
def test_any_json_value_as_the_body_is_a_4xx(service, value, service_id):
    response = post(service, service_id, content=orjson.dumps(value))
    judge(response)
    assert response.status_code in {400, 404}, response.text[:300]
