"""Record assembly: prefetch + draft orders + FHIR fallback -> one PatientRecord.

The only place that does I/O to the EHR. Missing prefetch keys (and keys holding
an OperationOutcome) are read from ``fhirServer`` concurrently under one deadline;
``null`` keys mean "no data" and are not read. Referenced Medications are read once
per id, in batches. Every read spends from the call's budget (requests, bytes,
concurrency). What could not be read becomes a ``DataGap`` so the cards can say what
was not checked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from app.cds.models import FhirAuthorization
from app.deadline import Deadline
from app.domain.record import ConditionEntry, DataGap, GapReason, MedicationSource, MedicationUse, PatientRecord
from app.fhir.client import FhirClient, FhirFetchError, ReadBudget, bundle_resources
from app.fhir.parse import (
    Json,
    as_dict,
    condition_entry,
    medication_key,
    medication_reference,
    medication_use,
)
from app.fhir.prefetch import FALLBACK_INCLUDES, PREFETCH_TEMPLATES, RECORD_KEYS, render_template
from app.fhir.references import readable_medication_id
from app.security.fhir_trust import FhirAccess

T = TypeVar("T")

_SOURCES = {source.value: source for source in MedicationSource}
# The prefetch keys that hold medication records, each read as a MedicationUse.
_MEDICATION_KEYS = ("medicationRequests", "medicationStatements", "medicationDispenses", "medicationAdministrations")


@dataclass(frozen=True, slots=True)
class HookData:
    """A hook call as the pipeline needs it, already checked by the API layer."""

    patient_id: str
    context: Mapping[str, str]  # primitive context fields, for template tokens
    prefetch: Mapping[str, Any]
    draft_orders: Sequence[Json] = ()  # the resources of context.draftOrders
    selections: Sequence[str] = ()  # "MedicationRequest/id" the clinician is acting on
    pre_r4_type: str | None = None  # a pre-R4 order type the client sent (DSTU2 "MedicationOrder")
    fhir_server: str | None = None  # the call's fhirServer, a plain base URL (checked)
    fhir_authorization: FhirAuthorization | None = None


@dataclass(frozen=True, slots=True)
class Fallback:
    client: FhirClient
    access: FhirAccess
    deadline: Deadline  # the call's, shared with its JWKS read: reads stop when it passes
    budget: ReadBudget  # the call's requests, bytes and concurrency, shared by every read
    medication_batch_size: int  # Medication ids per `Medication?_id=a,b,…` search


def _is_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def _usable_prefetch(value: Any) -> bool:
    """``null`` (no data) or a resource. An OperationOutcome, or something that is not a
    resource at all (a list, ``{"resourceType": {}}``), says nothing about the record:
    it is read from the FHIR server instead, or reported as not read."""
    if value is None:
        return True
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str) and not _is_outcome(value)


async def assemble_record(hook: HookData, fallback: Fallback | None) -> PatientRecord:
    resources: dict[str, list[Json]] = {key: [] for key in RECORD_KEYS}
    gaps: list[DataGap] = []

    to_fetch: dict[str, str] = {}
    for key, resource_type in RECORD_KEYS.items():
        if key in hook.prefetch and _usable_prefetch(hook.prefetch[key]):
            value = hook.prefetch[key]  # None: the client has no data; nothing to fetch
            resources[key] = [r for r in bundle_resources(value) if not _is_outcome(r)]
        elif fallback is None:
            gaps.append(DataGap(resource_type, GapReason.no_fhir_server))
        elif (query := render_template(PREFETCH_TEMPLATES[key], hook.context)) is not None:
            to_fetch[key] = query

    if fallback is not None and to_fetch:
        results = await _within_deadline(
            {key: _search(fallback, query, FALLBACK_INCLUDES.get(key)) for key, query in to_fetch.items()},
            fallback.deadline.remaining(),
        )
        for key, result in results.items():
            if isinstance(result, GapReason):
                gaps.append(DataGap(RECORD_KEYS[key], result))
                continue
            found, complete = result
            resources[key] = [r for r in found if isinstance(r, dict) and not _is_outcome(r)]
            if not complete:
                gaps.append(DataGap(RECORD_KEYS[key], GapReason.incomplete))

    medications = _medication_index([*resources.values(), hook.draft_orders])
    medication_resources = [
        *(r for key in _MEDICATION_KEYS for r in resources[key]),
        *hook.draft_orders,
    ]
    unresolved = {
        ref
        for resource in medication_resources
        if (ref := medication_reference(resource)) and ref not in medications and medication_key(ref) not in medications
    }
    if unresolved and fallback is None:
        gaps.append(DataGap("Medication", GapReason.no_fhir_server))
    elif unresolved and fallback is not None:
        read, reasons = await _read_medications(fallback, unresolved)
        medications.update(read)
        gaps.extend(DataGap("Medication", reason) for reason in reasons)

    turns = _Turns()
    history: list[MedicationUse] = []
    for key in _MEDICATION_KEYS:
        for resource in resources[key]:
            if turns.due():
                await asyncio.sleep(0)
            source = _SOURCES.get(resource.get("resourceType", ""))
            if source is not None and (use := medication_use(resource, source, medications)) is not None:
                history.append(use)

    draft_requests = [r for r in hook.draft_orders if r.get("resourceType") == "MedicationRequest"]
    chosen = set(hook.selections)
    # No selections (order-sign), or selections naming none of the drafts (a client's id
    # quirk): the whole draft set is what the clinician is acting on.
    if not chosen or not any(f"MedicationRequest/{r.get('id')}" in chosen for r in draft_requests):
        chosen = {f"MedicationRequest/{r.get('id')}" for r in draft_requests}
    drafts: list[MedicationUse] = []
    selected: list[MedicationUse] = []
    for resource in draft_requests:
        if turns.due():
            await asyncio.sleep(0)
        use = medication_use(resource, MedicationSource.request, medications, is_draft=True)
        if use is not None:
            drafts.append(use)
            if f"MedicationRequest/{resource.get('id')}" in chosen:
                selected.append(use)

    conditions: list[ConditionEntry] = []
    for resource in resources["conditions"]:
        if turns.due():
            await asyncio.sleep(0)
        if resource.get("resourceType") == "Condition" and (entry := condition_entry(resource)) is not None:
            conditions.append(entry)
    return PatientRecord(
        patient_id=hook.patient_id,
        medications=tuple(history),
        draft_orders=tuple(drafts),
        selected_orders=tuple(selected),
        conditions=tuple(conditions),
        gaps=tuple(dict.fromkeys(gaps)),
    )


async def _search(fallback: Fallback, query: str, include: str | None) -> tuple[list[Json], bool]:
    """A fallback search, with ``_include`` when given; servers that refuse it are asked again without."""
    if include is not None:
        try:
            return await fallback.client.search(fallback.access, f"{query}&_include={include}", fallback.budget)
        except FhirFetchError as exc:
            if exc.reason is not GapReason.fhir_error:
                raise
    return await fallback.client.search(fallback.access, query, fallback.budget)


async def _read_medications(fallback: Fallback, references: set[str]) -> tuple[dict[str, Json], set[GapReason]]:
    """The referenced Medications, read in batches (``Medication?_id=a,b,…``) within the call's
    budget and deadline: by ``Medication/{id}`` key, and why any could not be read.

    References that are not ``Medication/{id}`` (or that id under the same base) are
    never requested, and count as not read.
    """
    ids: set[str] = set()
    reasons: set[GapReason] = set()
    for reference in references:
        if (medication_id := readable_medication_id(reference, fallback.access.base_url)) is not None:
            ids.add(medication_id)
        else:
            reasons.add(GapReason.incomplete)
    ordered, size = sorted(ids), max(1, fallback.medication_batch_size)
    batches = {str(n): ordered[start : start + size] for n, start in enumerate(range(0, len(ordered), size))}
    results = await _within_deadline(
        {n: _medication_batch(fallback, batch) for n, batch in batches.items()}, fallback.deadline.remaining()
    )
    found: dict[str, Json] = {}
    for result in results.values():
        if isinstance(result, GapReason):
            reasons.add(result)
            continue
        for resource in result:
            if resource.get("resourceType") == "Medication" and resource.get("id") in ids:
                found[f"Medication/{resource['id']}"] = resource
    if not reasons and len(found) < len(ids):
        reasons.add(GapReason.incomplete)  # the server did not return some of them
    return found, reasons


async def _medication_batch(fallback: Fallback, ids: list[str]) -> list[Json]:
    """One search for these Medication ids; a server that refuses ``_id`` lists is asked
    id by id (still within the budget, so still bounded)."""
    client, access, budget = fallback.client, fallback.access, fallback.budget
    try:
        found, _ = await client.search(access, f"Medication?_id={','.join(ids)}&_count={len(ids)}", budget)
        return found
    except FhirFetchError as exc:
        if exc.reason is not GapReason.fhir_error:
            raise
    reads = await asyncio.gather(
        *(client.read(access, access.url(f"Medication/{i}"), budget) for i in ids), return_exceptions=True
    )
    found = [r for r in reads if isinstance(r, dict)]
    errors = [r for r in reads if isinstance(r, FhirFetchError)]
    if errors and not found:
        raise errors[0]  # its reason (budget, unreachable…) names the gap
    return found


class _Turns:
    """When to give the event loop a turn while reading a record: every few milliseconds.

    Reading one resource takes microseconds, but a record of thousands of distinct drugs
    takes the better part of a second, during which the worker would answer nobody else
    (``/healthz`` included). Checked per resource; costs a clock read.
    """

    _SLICE_SECONDS = 0.005

    def __init__(self) -> None:
        self._next = time.perf_counter() + self._SLICE_SECONDS

    def due(self) -> bool:
        now = time.perf_counter()
        if now < self._next:
            return False
        self._next = now + self._SLICE_SECONDS
        return True


def _medication_index(groups: Sequence[Sequence[Json]]) -> dict[str, Json]:
    index: dict[str, Json] = {}
    for group in groups:
        for resource in group:
            resource = as_dict(resource)
            if resource.get("resourceType") == "Medication" and isinstance(resource.get("id"), str):
                index[f"Medication/{resource['id']}"] = resource
    return index


async def _within_deadline(calls: Mapping[str, Awaitable[T]], seconds: float) -> dict[str, T | GapReason]:
    """Run all calls concurrently; whatever has not finished by the deadline is a gap."""
    tasks = {key: asyncio.ensure_future(call) for key, call in calls.items()}
    if tasks and seconds > 0:
        await asyncio.wait(tasks.values(), timeout=seconds)
    results: dict[str, T | GapReason] = {}
    for key, task in tasks.items():
        if not task.done():
            task.cancel()
            results[key] = GapReason.deadline
        elif isinstance(error := task.exception(), FhirFetchError):
            results[key] = error.reason
        elif error is not None:
            results[key] = GapReason.fhir_error
        else:
            results[key] = task.result()
    return results
