"""Synthetic patients from ``fhir_fixtures/`` and CDS Hooks requests built from them.

Fixture dates are written relative to ``FIXTURE_TODAY``. ``shift_dates`` moves a
whole record so that the same clinical story holds on any other day: the demo
and the integration tests run against the real clock.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from app.fhir.prefetch import PREFETCH_TEMPLATES

ROOT = Path(__file__).resolve().parent.parent / "fhir_fixtures"
FIXTURE_TODAY = date(2026, 11, 26)
PRACTITIONER = "Practitioner/example-prescriber"

_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(.*)$", re.S)
# The prefetch key each searched resource type lands in.
_TYPE_TO_KEY = {
    "MedicationRequest": "medicationRequests",
    "MedicationStatement": "medicationStatements",
    "MedicationDispense": "medicationDispenses",
    "MedicationAdministration": "medicationAdministrations",
    "Condition": "conditions",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    patient: str
    hook: str
    orders: tuple[str, ...]
    description: str
    cards: frozenset[str]  # the card kinds (topic codes) the service must answer with, exactly
    titration: frozenset[str]  # the card kinds among them that carry the LDN titration order


@cache
def scenarios() -> tuple[Scenario, ...]:
    raw = json.loads((ROOT / "scenarios.json").read_text())
    return tuple(
        Scenario(
            name=s["name"],
            patient=s["patient"],
            hook=s["hook"],
            orders=tuple(s.get("orders", ())),
            description=s.get("description", ""),
            cards=frozenset(s["cards"]),
            titration=frozenset(s.get("titration", ())),
        )
        for s in raw
    )


def scenario(name: str) -> Scenario:
    return next(s for s in scenarios() if s.name == name)


def patient_slugs() -> list[str]:
    return sorted(p.stem for p in (ROOT / "patients").glob("*.json"))


@cache
def _patient_bundle(slug: str) -> dict[str, Any]:
    return json.loads((ROOT / "patients" / f"{slug}.json").read_text())


def patient_resources(slug: str, today: date = FIXTURE_TODAY) -> list[dict[str, Any]]:
    resources = [entry["resource"] for entry in _patient_bundle(slug)["entry"]]
    return shift_dates(resources, (today - FIXTURE_TODAY).days)


def draft_order(name: str, patient_id: str, today: date = FIXTURE_TODAY) -> dict[str, Any]:
    text = (ROOT / "orders" / f"{name}.json").read_text().replace("PATIENT_ID", patient_id)
    return shift_dates(json.loads(text), (today - FIXTURE_TODAY).days)


def shift_dates(value: Any, days: int) -> Any:
    """A deep copy with every ISO date(-time) string moved by ``days``."""
    if days == 0:
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {k: shift_dates(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_dates(v, days) for v in value]
    if isinstance(value, str) and (match := _ISO_DATE.match(value)):
        try:
            moved = date.fromisoformat(match.group(1)) + timedelta(days=days)
        except ValueError:
            return value
        return moved.isoformat() + match.group(2)
    return value


def searchset(resources: list[dict[str, Any]], base_url: str = "http://ehr.example/fhir") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def prefetch_for(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """What an EHR would send for our prefetch templates, from a patient's resources."""
    by_key: dict[str, list[dict[str, Any]]] = {key: [] for key in _TYPE_TO_KEY.values()}
    medications = [r for r in resources if r["resourceType"] == "Medication"]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    for resource in resources:
        if key := _TYPE_TO_KEY.get(resource["resourceType"]):
            by_key[key].append(resource)
    prefetch: dict[str, Any] = {"patient": patient}
    for key, found in by_key.items():
        # Referenced Medications travel with the medication searches, as _include would.
        included = medications if key != "conditions" and found else []
        prefetch[key] = searchset(found + included)
    assert set(prefetch) == set(PREFETCH_TEMPLATES)
    return prefetch


def hook_request(
    scenario: Scenario,
    *,
    with_prefetch: bool = True,
    fhir_server: str | None = None,
    access_token: str | None = None,
    today: date = FIXTURE_TODAY,
) -> dict[str, Any]:
    resources = patient_resources(scenario.patient, today)
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    context: dict[str, Any] = {"userId": PRACTITIONER, "patientId": patient_id}
    if scenario.hook in {"order-select", "order-sign"}:
        orders = [draft_order(name, patient_id, today) for name in scenario.orders]
        context["draftOrders"] = {"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]}
        if scenario.hook == "order-select":
            context["selections"] = [f"MedicationRequest/{o['id']}" for o in orders]
    request: dict[str, Any] = {
        "hook": scenario.hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
    }
    if fhir_server:
        request["fhirServer"] = fhir_server
    if access_token:
        request["fhirAuthorization"] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/MedicationRequest.read patient/MedicationStatement.read "
            "patient/MedicationDispense.read patient/MedicationAdministration.read patient/Condition.read "
            "patient/Patient.read",
            "subject": "ldn-cds",
            "patient": patient_id,
        }
    if with_prefetch:
        request["prefetch"] = prefetch_for(resources)
    return request
