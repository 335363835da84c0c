"""GET /cds-services (CDS Hooks 2.0 discovery)."""

from __future__ import annotations

import pytest

from app.fhir.prefetch import PREFETCH_TEMPLATES
from tests.support.conformance import assert_no_empty_values

EXPECTED = {"ldn-order-select": "order-select", "ldn-order-sign": "order-sign", "ldn-patient-view": "patient-view"}


@pytest.fixture
def discovery(api):
    response = api.get("/cds-services")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_discovery_lists_one_service_per_hook_with_distinct_ids(discovery):
    assert {s["id"]: s["hook"] for s in discovery["services"]} == EXPECTED
    assert len(discovery["services"]) == len(EXPECTED)


def test_every_service_has_the_required_fields_and_nothing_null_or_empty(discovery):
    assert set(discovery) == {"services"}
    assert_no_empty_values(discovery)
    for service in discovery["services"]:
        assert {"hook", "description", "id", "title"} <= set(service)
        assert set(service) <= {"hook", "title", "description", "id", "prefetch", "usageRequirements"}


def test_discovery_carries_no_cds_hooks_3_fields(discovery):
    assert all("hookVersion" not in s for s in discovery["services"])


def test_the_order_services_prefetch_the_medication_record(discovery):
    for service in discovery["services"]:
        if service["hook"] in {"order-select", "order-sign"}:
            searched = {template.split("?")[0] for template in service["prefetch"].values()}
            assert {"MedicationRequest", "MedicationStatement", "MedicationDispense"} <= searched


def test_every_listed_service_answers_at_its_url(api, discovery):
    for service in discovery["services"]:
        response = api.post(f"/cds-services/{service['id']}", json={})
        assert response.status_code != 404, service["id"]


def test_discovery_publishes_exactly_the_checked_prefetch_templates(discovery):
    # Their CDS Hooks 2.0 token discipline is checked in tests/unit/fhir/test_prefetch.py.
    for service in discovery["services"]:
        assert service["prefetch"] == PREFETCH_TEMPLATES, service["id"]
