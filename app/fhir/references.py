"""Which ``medicationReference`` values may be read from the FHIR server, and as which id.

A reference is client input, and reading it sends the access token: only
``Medication/{id}`` with FHIR id syntax, or the same as a full URL under the request's
``fhirServer`` base, is ever requested. ``a/../../escape``, ``Medication/x?y``, a URL on
another server or another path of the same host are not requested at all; assembly
reports them as a part of the record that was not read.
"""

from __future__ import annotations

import re

from app.security.urls import fhir_base_problem, normalize_url

# FHIR R4 id: 1-64 of letters, digits, '-' and '.' (http://hl7.org/fhir/R4/datatypes.html#id).
# "." and ".." match it but are path segments, never resource ids.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_TYPE = "Medication"


def readable_medication_id(reference: str, base_url: str) -> str | None:
    """The Medication id to read for ``reference``, or ``None`` if it must not be read."""
    if reference.startswith(f"{_TYPE}/"):
        return _valid_id(reference.removeprefix(f"{_TYPE}/"))
    if "://" not in reference or fhir_base_problem(reference) is not None:
        return None
    base, absolute = normalize_url(base_url), normalize_url(reference)
    if base is None or absolute is None or not absolute.startswith(f"{base}/{_TYPE}/"):
        return None
    return _valid_id(absolute.removeprefix(f"{base}/{_TYPE}/"))


def _valid_id(candidate: str) -> str | None:
    if not _FHIR_ID.fullmatch(candidate) or candidate in {".", ".."}:
        return None
    return candidate
