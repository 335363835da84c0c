"""Which medicationReference values may be read from the FHIR server (app/fhir/references.py)."""

from __future__ import annotations

import pytest

from app.fhir.references import readable_medication_id

BASE = "https://ehr.example/fhir/r4"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("Medication/abc-1.2", "abc-1.2"),
        ("Medication/" + "a" * 64, "a" * 64),
        (f"{BASE}/Medication/7", "7"),
        ("https://EHR.example:443/fhir/r4/Medication/7/", "7"),  # the same base, written differently
        ("Medication/" + "a" * 65, None),  # longer than a FHIR id
        ("Medication/..", None),
        ("Medication/.", None),
        ("Medication/a/../../escape", None),
        ("a/../../escape", None),
        ("Medication/x?_format=xml", None),
        ("Medication/x#y", None),
        ("Medication/x y", None),
        ("Medication/%2e%2e", None),
        ("Medication/1/_history/2", None),
        ("Patient/1", None),
        ("Medication/", None),
        ("https://ehr.example/fhir/Medication/7", None),  # same host, another base path
        ("https://other.example/fhir/r4/Medication/7", None),
        (f"{BASE}/Medication/7?x=1", None),
        ("https://user@ehr.example/fhir/r4/Medication/7", None),
        ("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", None),
    ],
)
def test_only_medication_slash_id_or_that_under_the_same_base_is_readable(reference: str, expected: str | None) -> None:
    assert readable_medication_id(reference, BASE) == expected
