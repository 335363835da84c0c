"""Hypothesis strategies for hostile CDS Hooks bodies and FHIR shapes.

Every field the service reads is drawn either as a plausible value (codes and names
the rules recognise, extreme but valid dates and quantities) or as any JSON at all,
so the defensive parsing is exercised on both sides of "well-formed".
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from hypothesis import strategies as st

from app.fhir.prefetch import RECORD_KEYS as PREFETCH_RECORD_KEYS

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
PATIENT_ID = "fuzz-patient"

RECORD_KEYS = tuple(PREFETCH_RECORD_KEYS)
HOOK_FOR_SERVICE = {
    "ldn-order-select": "order-select",
    "ldn-order-sign": "order-sign",
    "ldn-patient-view": "patient-view",
}

# Any JSON value orjson accepts (64-bit integers, finite floats), small and nested.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
any_json = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def either(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes any JSON."""
    return st.one_of(plausible, plausible, plausible, any_json)


# Dates at the edges of what ``date`` can hold, and strings that only look like dates.
_EDGE_DATES = st.sampled_from(["9999-12-31", "9999-12-01", "0001-01-01", "0001-01-15"])
dates = st.one_of(
    _EDGE_DATES,
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "9999-12-31",
            "0001-01-01",
            "2026-11-26",
            "2026-11-26T23:59:59+14:00",
            "2026",
            "2026-02",
            "2026-02-30",
            "0000-00-00",
            "99999-01-01",
            "-2026-01-01",
            "",
            "today",
            "2026-13-01",
        ]
    ),
)
_EXTREMES = [0, 1, 1.5, 4.5, 30, -1, -30, 1e308, -1e308, 2**63 - 1, -(2**63), 1e-308, 999999999, 10**10, -(10**10)]
numbers = st.one_of(
    st.sampled_from(_EXTREMES),
    st.sampled_from(_EXTREMES),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
units = st.sampled_from(["mg", "MG", "ug", "mcg", "g", "d", "day", "days", "wk", "mo", "h", "", "µg", "tablet"])
quantity = st.one_of(
    st.fixed_dictionaries({"value": numbers, "unit": units}),
    st.fixed_dictionaries(
        {},
        optional={
            "value": either(numbers),
            "unit": either(units),
            "code": either(units),
            "system": st.just("http://unitsofmeasure.org"),
        },
    ),
)

drug_names = st.sampled_from(
    [
        "oxycodone 5 mg tablet",
        "Naltrexone 4.5 mg capsule (compounded)",
        "LDN",
        "low-dose naltrexone 1,5 mg",
        "methadone 10 mg/mL",
        "fentanyl 25 mcg/hr transdermal patch",
        "Percocet",
        "buprenorphine/naloxone",
        "naltrexone 50 mg",
        "Vivitrol 380 mg injection",
        "Contrave",
        "morphine / naltrexone ER",
        "duloxetine 60 mg",
        "pregabalin",
        "amitriptyline 10 mg",
        "gabapentin",
        "tramadol",
        "codeine cough syrup",
        "ibuprofen",
        "",
        "4.5mg",
        "naltrexone 4,5 mg",
        "0 mg",
        "9999 mg naltrexone",
    ]
)
rxnorm_codes = st.sampled_from(["7243", "1049621", "1049683", "197696", "6813", "1010600", "403969", "12345", ""])
coding = st.fixed_dictionaries(
    {},
    optional={
        "system": either(
            st.sampled_from(
                [RXNORM, "urn:oid:2.16.840.1.113883.6.88", SNOMED, ICD10, "urn:oid:2.16.840.1.113883.6.90", ""]
            )
        ),
        "code": either(
            st.one_of(rxnorm_codes, st.sampled_from(["M79.7", "G35", "203082005", "F11.20", "m797", "Z", "."]))
        ),
        "display": either(drug_names),
    },
)
concept = st.fixed_dictionaries(
    {}, optional={"coding": either(st.lists(either(coding), max_size=3)), "text": either(drug_names)}
)

resource_types = st.sampled_from(
    [
        "MedicationRequest",
        "MedicationRequest",
        "MedicationStatement",
        "MedicationStatement",
        "MedicationDispense",
        "MedicationDispense",
        "MedicationDispense",
        "Condition",
        "Condition",
        "Medication",
        "Patient",
        "OperationOutcome",
        "Bundle",
        "MedicationOrder",
        "Observation",
        "NotAResource",
        "",
    ]
)
ids = st.sampled_from(["a", "b", "dup", "dup", "oxy", "med-1", "x/y", "#c", " "])  # duplicates on purpose
references = st.one_of(
    st.builds(lambda i: f"Medication/{i}", ids),
    st.builds(lambda i: f"#{i}", ids),
    st.sampled_from(
        ["Medication/", "http://ehr.example/fhir/Medication/med-1", "urn:uuid:1", "", "/", "Patient/fuzz-patient"]
    ),
)
statuses = st.sampled_from(
    ["active", "on-hold", "draft", "completed", "stopped", "entered-in-error", "cancelled", "ACTIVE", "", "unknown"]
)
dosage = st.fixed_dictionaries(
    {},
    optional={
        "sequence": either(numbers),
        "text": either(drug_names),
        "doseAndRate": either(
            st.lists(st.fixed_dictionaries({}, optional={"doseQuantity": either(quantity)}), max_size=2)
        ),
        "doseQuantity": either(quantity),
        "timing": either(
            st.fixed_dictionaries(
                {"repeat": either(st.fixed_dictionaries({}, optional={"boundsDuration": either(quantity)}))}
            )
        ),
    },
)
medication = st.fixed_dictionaries(
    {"resourceType": st.just("Medication")},
    optional={
        "id": either(ids),
        "code": either(concept),
        "ingredient": either(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "itemCodeableConcept": either(concept),
                        "strength": either(
                            st.fixed_dictionaries(
                                {}, optional={"numerator": either(quantity), "denominator": either(quantity)}
                            )
                        ),
                    },
                ),
                max_size=2,
            )
        ),
    },
)


FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": either(ids),
    "status": either(statuses),
    "intent": either(st.sampled_from(["order", "proposal", "plan"])),
    "subject": either(st.just({"reference": f"Patient/{PATIENT_ID}"})),
    "medicationCodeableConcept": either(concept),
    "medicationReference": either(
        st.fixed_dictionaries({}, optional={"reference": either(references), "display": either(drug_names)})
    ),
    "contained": either(st.lists(medication, max_size=2)),
    "authoredOn": either(dates),
    "effectivePeriod": either(st.fixed_dictionaries({}, optional={"start": either(dates), "end": either(dates)})),
    "effectiveDateTime": either(dates),
    "dateAsserted": either(dates),
    "whenHandedOver": either(dates),
    "whenPrepared": either(dates),
    "daysSupply": either(quantity),
    "dosageInstruction": either(st.lists(either(dosage), max_size=3)),
    "dosage": either(st.lists(either(dosage), max_size=2)),
    "code": either(concept),
    "clinicalStatus": either(concept),
    "verificationStatus": either(concept),
    "onsetDateTime": either(dates),
    "recordedDate": either(dates),
    "ingredient": any_json,
    "extension": any_json,
}
FIELD_NAMES = sorted(FIELDS)
# The fields the service reads from each type: most edits aim at these.
TYPE_FIELDS = {
    "MedicationRequest": [
        "status",
        "medicationCodeableConcept",
        "medicationReference",
        "contained",
        "authoredOn",
        "dosageInstruction",
        "id",
    ],
    "MedicationStatement": [
        "status",
        "medicationCodeableConcept",
        "medicationReference",
        "effectivePeriod",
        "effectiveDateTime",
        "dateAsserted",
        "dosage",
    ],
    "MedicationDispense": [
        "status",
        "medicationCodeableConcept",
        "whenHandedOver",
        "whenPrepared",
        "daysSupply",
        "dosageInstruction",
    ],
    "Condition": ["code", "clinicalStatus", "verificationStatus", "onsetDateTime", "recordedDate"],
    "Medication": ["code", "ingredient", "id"],
}


@st.composite
def fhir_resources(draw: st.DrawFn, resource_type: str | None = None) -> dict[str, Any]:
    """A FHIR-ish resource from scratch: a type and a few known fields, plausible or hostile."""
    resource: dict[str, Any] = {"resourceType": resource_type or draw(resource_types)}
    for name in draw(st.lists(st.sampled_from(FIELD_NAMES), unique=True, max_size=6)):
        resource[name] = draw(FIELDS[name])
    return resource


def bundle_of(resources: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    entry = st.one_of(
        st.fixed_dictionaries({"resource": resources}), st.fixed_dictionaries({"resource": resources}), any_json
    )
    return st.fixed_dictionaries(
        {"resourceType": st.just("Bundle"), "entry": either(st.lists(entry, max_size=4))},
        optional={"type": st.sampled_from(["searchset", "collection", "batch", ""])},
    )


# A prefetch value: a Bundle (most often), a bare resource, null, an OperationOutcome, or anything.
prefetch_values = st.one_of(
    bundle_of(fhir_resources()),
    bundle_of(fhir_resources()),
    fhir_resources(),
    st.none(),
    st.just({"resourceType": "OperationOutcome", "issue": []}),
    any_json,
)


@st.composite
def well_formed_hook_bodies(draw: st.DrawFn, service_id: str) -> dict[str, Any]:
    """A body whose protocol fields are right for ``service_id`` and whose FHIR content is hostile.

    The service must answer these with 200 and conformant cards: bad clinical data is
    never the client's protocol error.
    """
    hook = HOOK_FOR_SERVICE[service_id]
    context: dict[str, Any] = {
        "userId": "Practitioner/fuzz",
        "patientId": draw(st.sampled_from([PATIENT_ID, f"Patient/{PATIENT_ID}"])),
    }
    if hook != "patient-view":
        drafts = draw(st.lists(fhir_resources("MedicationRequest"), max_size=3))
        context["draftOrders"] = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
        if hook == "order-select":
            context["selections"] = draw(
                st.lists(
                    st.one_of(st.builds(lambda i: f"MedicationRequest/{i}", ids), st.text(max_size=10)), max_size=3
                )
            )
    # At least one record key, so "no data at all" (412) is not what is being tested here.
    keys = draw(st.lists(st.sampled_from(RECORD_KEYS), min_size=1, unique=True))
    prefetch: dict[str, Any] = {key: draw(prefetch_values) for key in keys}
    prefetch[keys[0]] = draw(bundle_of(fhir_resources()))
    if draw(st.booleans()):
        prefetch["patient"] = draw(either(st.just({"resourceType": "Patient", "id": PATIENT_ID})))
    return {"hook": hook, "hookInstance": draw(st.uuids()).hex, "context": context, "prefetch": prefetch}


@st.composite
def protocol_mutations(draw: st.DrawFn, service_id: str) -> dict[str, Any]:
    """A well-formed body with one protocol field replaced by anything, deleted, or added."""
    body = draw(well_formed_hook_bodies(service_id))
    target = draw(
        st.sampled_from(
            [
                "hook",
                "hookInstance",
                "context",
                "prefetch",
                "fhirServer",
                "fhirAuthorization",
                "context.patientId",
                "context.draftOrders",
                "context.selections",
                "context.userId",
            ]
        )
    )
    container, _, name = target.rpartition(".")
    holder = body["context"] if container == "context" else body
    if draw(st.booleans()):
        holder[name] = draw(any_json)
    else:
        holder.pop(name, None)
    return body


# ------------------------------------------------------------------ real records, perturbed


@cache
def _scenario_requests(hook: str) -> tuple[str, ...]:
    from devtools.fixtures import FIXTURE_TODAY, hook_request, scenarios

    return tuple(json.dumps(hook_request(s, today=FIXTURE_TODAY)) for s in scenarios() if s.hook == hook)


def _resources(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource of the body's prefetch searchsets and draft orders, to perturb in place."""
    found = []
    for value in (*body.get("prefetch", {}).values(), body["context"].get("draftOrders")):
        if isinstance(value, dict) and isinstance(value.get("entry"), list):
            found.extend(
                e["resource"] for e in value["entry"] if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            )
    return found


@st.composite
def perturbed_scenario_bodies(draw: st.DrawFn, service_id: str) -> dict[str, Any]:
    """A fixture scenario's real request with 1-6 hostile edits to its FHIR content.

    Edits: a known field set to a plausible-but-extreme or arbitrary value, or deleted;
    a resource duplicated (same id) or its type changed; a hostile resource added; a
    whole prefetch key replaced. Protocol fields stay right, so the answer must be 200.
    """
    hook = HOOK_FOR_SERVICE[service_id]
    body = json.loads(draw(st.sampled_from(_scenario_requests(hook))))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        resources = _resources(body)
        edit = draw(st.sampled_from(["set", "set", "set", "delete", "duplicate", "retype", "add", "replace-key"]))
        if edit in {"set", "delete", "duplicate", "retype"} and resources:
            target = draw(st.sampled_from(resources))
            if edit == "set":
                aimed = TYPE_FIELDS.get(str(target.get("resourceType")))
                name = draw(st.sampled_from(aimed if aimed and draw(st.integers(0, 4)) else FIELD_NAMES))
                target[name] = draw(FIELDS[name])
            elif edit == "delete" and len(target) > 1:
                target.pop(draw(st.sampled_from(sorted(k for k in target if k != "resourceType"))), None)
            elif edit == "duplicate":
                key = draw(st.sampled_from(RECORD_KEYS))
                bundle = body["prefetch"].get(key)
                if isinstance(bundle, dict) and isinstance(bundle.get("entry"), list):
                    bundle["entry"].append({"resource": json.loads(json.dumps(target))})
            elif edit == "retype":
                target["resourceType"] = draw(resource_types)
        elif edit == "add":
            key = draw(st.sampled_from(RECORD_KEYS))
            bundle = body["prefetch"].get(key)
            if isinstance(bundle, dict) and isinstance(bundle.get("entry"), list):
                bundle["entry"].append({"resource": draw(fhir_resources())})
        elif edit == "replace-key":
            body["prefetch"][draw(st.sampled_from(RECORD_KEYS[1:]))] = draw(prefetch_values)
    return body
