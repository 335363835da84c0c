"""Single-field type mutations of every field of the hook and feedback bodies: never a 5xx.

Bodies are real: every fixture scenario's request (with prefetch), the same requests
reading part of the record from a real FHIR server on loopback (so ``fhirServer``,
``fhirAuthorization`` and the fallback path are mutated too), and feedback bodies
with every optional field present. ``make test`` runs a quick profile; ``make fuzz``
runs ``LDN_FUZZ_EXAMPLES`` (10,000) cases per test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.fhir_server import FhirServerConfig
from devtools.fixtures import FIXTURE_TODAY, hook_request, scenarios
from tests.support.conformance import error_message
from tests.support.fhir_server import fhir_server_running
from tests.support.mutations import paths, type_mutations
from tests.support.robustness import fuzz_examples, judge, post
from tests.support.strategies import HOOK_FOR_SERVICE

SERVICE_FOR_HOOK = {hook: service for service, hook in HOOK_FOR_SERVICE.items()}
TOKEN = "type-mutation-token"
WHEN = "2026-11-26T10:15:00Z"

MUTATIONS = settings(
    max_examples=fuzz_examples(150),
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def fhir_base_url() -> Iterator[str]:
    with fhir_server_running(FhirServerConfig(required_token=TOKEN, today=FIXTURE_TODAY)) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def hook_bodies(fhir_base_url: str) -> tuple[str, ...]:
    """Every scenario's request with full prefetch, and again with only half the prefetch
    and the rest to be read from the loopback FHIR server with a token."""
    bodies = []
    for s in scenarios():
        bodies.append(hook_request(s, today=FIXTURE_TODAY))
        partial = hook_request(s, today=FIXTURE_TODAY, fhir_server=fhir_base_url, access_token=TOKEN)
        for key in ("medicationStatements", "conditions"):
            partial["prefetch"].pop(key, None)
        bodies.append(partial)
    return tuple(json.dumps(b) for b in bodies)


def feedback_bodies() -> tuple[str, ...]:
    overridden = {
        "card": "0f4c3b2a-1d2e-8f00-8a00-000000000001",
        "outcome": "overridden",
        "outcomeTimestamp": WHEN,
        "overrideReason": {
            "reason": {
                "code": "patient-not-taking-opioid",
                "system": "urn:ldn-cds:override-reason",
                "display": "Not taking it",
            },
            "userComment": "stopped last month",
        },
    }
    accepted = {
        "card": "0f4c3b2a-1d2e-8f00-8a00-000000000002",
        "outcome": "accepted",
        "outcomeTimestamp": WHEN,
        "acceptedSuggestions": [{"id": "6a1f0c52-7d2e-4b7a-9a55-1b2c3d4e5f60"}],
    }
    return (json.dumps({"feedback": [overridden, accepted]}), json.dumps({"feedback": [overridden]}))


def test_the_mutated_bodies_cover_every_part_of_a_request(hook_bodies: tuple[str, ...]) -> None:
    """The fuzzer reaches protocol fields, prefetch resources, draft orders and the token."""
    covered = {tuple(str(p) for p in path[:2]) for body in hook_bodies for path in paths(json.loads(body))}
    for expected in [
        ("hook",),
        ("hookInstance",),
        ("fhirServer",),
        ("fhirAuthorization", "access_token"),
        ("context", "patientId"),
        ("context", "draftOrders"),
        ("context", "selections"),
        ("prefetch", "medicationRequests"),
        ("prefetch", "medicationDispenses"),
    ]:
        assert any(c[: len(expected)] == expected for c in covered), expected


@pytest.mark.fuzz
@MUTATIONS
@given(data=st.data())
def test_a_type_mutation_of_any_hook_body_field_is_a_4xx_or_an_answer(service, hook_bodies, data) -> None:
    mutation = data.draw(type_mutations(hook_bodies))
    service_id = SERVICE_FOR_HOOK[mutation.original(hook_bodies)["hook"]]
    response = post(service, service_id, mutation.apply(hook_bodies))
    assert response.status_code < 500, f"{mutation}: {response.text[:300]}"
    judge(response)


@pytest.mark.fuzz
@MUTATIONS
@given(data=st.data())
def test_a_type_mutation_of_any_feedback_field_is_a_4xx_or_stored(service, data) -> None:
    bodies = feedback_bodies()
    mutation = data.draw(type_mutations(bodies))
    response = service.post("/cds-services/ldn-order-select/feedback", json=mutation.apply(bodies))
    assert response.status_code < 500, f"{mutation}: {response.text[:300]}"
    assert response.status_code in {200, 400, 413}, response.text[:300]
    if response.status_code == 400:
        assert "Traceback" not in response.text and error_message(response.json())
