"""Prefetch templates (CDS Hooks 2.0 tokens only) and their rendering."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

PATIENT_KEY = "patient"

# Unfiltered by status: a completed or stopped opioid may still be inside its opioid-free
# window, and the treatment history needs finished therapies too; only entered-in-error is
# dropped, during assembly. MedicationAdministration: an extended-release naltrexone injection
# is often recorded only as given.
PREFETCH_TEMPLATES: dict[str, str] = {
    PATIENT_KEY: "Patient/{{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "medicationDispenses": "MedicationDispense?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
}

# The keys without which opioid exposure cannot be judged, and the resource type each holds.
RECORD_KEYS: dict[str, str] = {
    "medicationRequests": "MedicationRequest",
    "medicationStatements": "MedicationStatement",
    "medicationDispenses": "MedicationDispense",
    "medicationAdministrations": "MedicationAdministration",
    "conditions": "Condition",
}

# Our own fallback searches also ask for the referenced Medications, saving the second
# round trip that reading them one by one would cost. Not in the discovery templates,
# which stay within the CDS Hooks 2.0 query subset.
FALLBACK_INCLUDES: dict[str, str] = {
    "medicationRequests": "MedicationRequest:medication",
    "medicationStatements": "MedicationStatement:medication",
    "medicationDispenses": "MedicationDispense:medication",
    "medicationAdministrations": "MedicationAdministration:medication",
}

_TOKEN = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")


def render_template(template: str, context: Mapping[str, str]) -> str | None:
    """Fill ``{{context.x}}`` tokens; ``None`` when a token has no value."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = context.get(match.group(1))
        if not value:
            missing = True
            return ""
        return quote(value, safe="")

    rendered = _TOKEN.sub(fill, template)
    return None if missing else rendered
