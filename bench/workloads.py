"""Generated patients and hook requests for the benchmarks, built from ``fhir_fixtures/``.

A workload starts from one fixture patient (the clinical story: fibromyalgia,
an active oxycodone prescription) and adds history replicated from every fixture
patient, with unique ids, the bench patient's references, older dates and
finished statuses, until it reaches the target counts. The result is
deterministic: the same ``today`` gives the same resources, so the in-process
run, the HTTP run and the loopback FHIR server all see one patient.

Throughput runs rotate through many patients (``variant`` 1, 2, …): each has its
own patient id, resource ids and hook instance, and starts its replicated history
at a different fixture resource, so no two request bodies are alike and no answer
could be reused by request content. ``variant`` 0 is the one patient above.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from devtools.fixtures import PRACTITIONER, draft_order, patient_resources, patient_slugs, prefetch_for, shift_dates

BASE_PATIENT = "opioid-active-oxycodone"
LDN_ORDER = "ldn-4_5mg-compounded"

Json = dict[str, Any]


@dataclass(frozen=True)
class Size:
    name: str
    medication_requests: int
    conditions: int
    statements: int
    dispenses: int

    @property
    def total(self) -> int:
        return self.medication_requests + self.conditions + self.statements + self.dispenses


TYPICAL = Size("typical", medication_requests=120, conditions=60, statements=10, dispenses=10)
HEAVY = Size("heavy", medication_requests=1200, conditions=600, statements=100, dispenses=100)
SIZES = {size.name: size for size in (TYPICAL, HEAVY)}

# Replicated history is over: the only current opioid stays the base patient's own.
_FINISHED_STATUS = {
    "MedicationRequest": ("completed", "stopped"),
    "MedicationStatement": ("completed",),
    "MedicationDispense": ("completed",),
}


def patient_id_for(size: Size, variant: int = 0) -> str:
    return f"bench-{size.name}" if variant == 0 else f"bench-{size.name}-{variant}"


def _repoint(value: Any, old: str, new: str) -> Any:
    """Every ``Patient/<old>`` reference becomes ``Patient/<new>`` (in place)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and item in {f"Patient/{old}", old}:
                value[key] = f"Patient/{new}"
            else:
                _repoint(item, old, new)
    elif isinstance(value, list):
        for item in value:
            _repoint(item, old, new)
    return value


def _subject_id(resource: Json) -> str | None:
    for key in ("subject", "patient"):
        reference = resource.get(key, {}).get("reference", "") if isinstance(resource.get(key), dict) else ""
        if reference.startswith("Patient/"):
            return reference.removeprefix("Patient/")
    return None


@cache
def _pool(today: date) -> dict[str, tuple[Json, ...]]:
    """Every fixture resource of the replicated types, by type, in a stable order."""
    pool: dict[str, list[Json]] = {t: [] for t in (*_FINISHED_STATUS, "Condition", "Medication")}
    for slug in patient_slugs():
        for resource in patient_resources(slug, today):
            if resource["resourceType"] in pool:
                pool[resource["resourceType"]].append(resource)
    return {t: tuple(rs) for t, rs in pool.items()}


@cache
def _patient_json(size: Size, today: date, variant: int = 0) -> str:
    base = patient_resources(BASE_PATIENT, today)
    old_id = next(r["id"] for r in base if r["resourceType"] == "Patient")
    new_id = patient_id_for(size, variant)
    suffix = f"-p{variant}" if variant else ""
    resources = [_repoint(copy.deepcopy(r), old_id, new_id) for r in base if r["resourceType"] != "Medication"]
    for resource in resources:
        if resource["resourceType"] == "Patient":
            resource["id"] = new_id
        else:
            resource["id"] = f"{resource['id']}{suffix}"

    pool = _pool(today)
    targets = {
        "MedicationRequest": size.medication_requests,
        "Condition": size.conditions,
        "MedicationStatement": size.statements,
        "MedicationDispense": size.dispenses,
    }
    for resource_type, target in targets.items():
        have = sum(1 for r in resources if r["resourceType"] == resource_type)
        candidates = pool[resource_type]
        for n in range(target - have):
            source = candidates[(n + variant) % len(candidates)]
            # Older each round: 60 days and more back, so no dispense is still current.
            replica = shift_dates(source, -60 - 7 * n)
            replica["id"] = f"{source['id']}-r{n}{suffix}"
            subject = _subject_id(source)
            if subject:
                _repoint(replica, subject, new_id)
            if statuses := _FINISHED_STATUS.get(resource_type):
                replica["status"] = statuses[n % len(statuses)]
            resources.append(replica)
    # Referenced Medications travel with the searches (prefetch) or are read by id (fallback).
    resources.extend(pool["Medication"])
    return json.dumps(resources)


def patient_workload(size: Size, today: date, variant: int = 0) -> list[Json]:
    """The bench patient's resources: Patient, history of ``size``, and the Medications it references."""
    return json.loads(_patient_json(size, today, variant))


def count_by_type(resources: list[Json]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for resource in resources:
        counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
    return counts


def hook_request(
    size: Size,
    hook: str,
    today: date,
    *,
    with_prefetch: bool = True,
    fhir_server: str | None = None,
    variant: int = 0,
) -> Json:
    """A CDS Hooks request for the bench patient: ``order-select`` of LDN 4.5 mg, or ``patient-view``."""
    resources = patient_workload(size, today, variant)
    patient_id = patient_id_for(size, variant)
    context: Json = {"userId": PRACTITIONER, "patientId": patient_id}
    if hook == "order-select":
        order = draft_order(LDN_ORDER, patient_id, today)
        if variant:
            order["id"] = f"{order['id']}-p{variant}"
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}
        context["selections"] = [f"MedicationRequest/{order['id']}"]
    instance = f"ldn-cds:bench:{size.name}:{hook}" + (f":{variant}" if variant else "")
    request: Json = {
        "hook": hook,
        "hookInstance": str(uuid.uuid5(uuid.NAMESPACE_URL, instance)),
        "context": context,
    }
    if fhir_server:
        request["fhirServer"] = fhir_server
    if with_prefetch:
        request["prefetch"] = prefetch_for(resources)
    return request


SERVICE_FOR_HOOK = {"order-select": "ldn-order-select", "patient-view": "ldn-patient-view"}
