"""Prefetch templates use CDS Hooks 2.0 tokens only, and render from the hook context."""

from __future__ import annotations

import re

import pytest

from app.fhir.prefetch import PREFETCH_TEMPLATES, render_template

# CDS Hooks 2.0 §Prefetch tokens: first-level primitive context fields of these hooks,
# plus the four user-id tokens. No FHIRPath, no date arithmetic (those are 3.0-ballot).
ALLOWED_TOKENS = {
    "context.patientId",
    "context.userId",
    "context.encounterId",
    "userPractitionerId",
    "userPractitionerRoleId",
    "userPatientId",
    "userRelatedPersonId",
}
TOKEN = re.compile(r"\{\{(.*?)\}\}")


@pytest.mark.parametrize("key", PREFETCH_TEMPLATES)
def test_every_prefetch_template_uses_only_cds_hooks_2_0_tokens(key):
    template = PREFETCH_TEMPLATES[key]
    tokens = {t.strip() for t in TOKEN.findall(template)}
    assert tokens, f"{key} names no patient: {template}"
    assert tokens <= ALLOWED_TOKENS, f"{key}: {tokens - ALLOWED_TOKENS}"
    assert "{{" not in TOKEN.sub("", template) and "}}" not in TOKEN.sub("", template)


@pytest.mark.parametrize("key", PREFETCH_TEMPLATES)
def test_every_prefetch_template_is_a_relative_read_or_search(key):
    template = PREFETCH_TEMPLATES[key]
    assert not template.startswith(("/", "http:", "https:"))
    # "Type/{{id}}", "Type?search" or a bare user token such as "{{context.userId}}" (already Type/id).
    assert re.match(r"^([A-Z][A-Za-z]+([/?]|$)|\{\{)", template), template


def test_the_medication_searches_the_record_depends_on_are_all_requested():
    resource_types = {PREFETCH_TEMPLATES[k].split("?")[0].split("/")[0] for k in PREFETCH_TEMPLATES}
    assert {"MedicationRequest", "MedicationStatement", "MedicationDispense"} <= resource_types


def test_a_template_renders_with_the_patient_id_from_the_context():
    assert (
        render_template("MedicationRequest?patient={{context.patientId}}", {"patientId": "abc-123"})
        == "MedicationRequest?patient=abc-123"
    )


def test_a_rendered_id_is_url_encoded_so_it_cannot_add_query_parameters():
    rendered = render_template("MedicationRequest?patient={{context.patientId}}", {"patientId": "x&_count=1"})
    assert rendered is not None and "&_count" not in rendered


def test_a_template_whose_token_has_no_value_is_not_rendered():
    assert render_template("Encounter/{{context.encounterId}}", {"patientId": "abc"}) is None
