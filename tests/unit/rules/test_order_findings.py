"""Property: more opioid evidence never makes the naltrexone check quieter.

Adding any opioid record (any resource type, any status, any field missing) to any
record never lowers the highest opioid-safety indicator on a naltrexone order, and
never drops an opioid the cards named before.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cards.render import RenderContext, render_cards
from app.cards.templates import load_templates
from app.clinical_settings import ClinicalSettings
from app.rules.last_use import STATUS_MEANING
from app.rules.order_findings import order_findings
from app.settings import PROJECT_ROOT
from tests.support.fhir import LDN_TEXT_ONLY, METHADONE_LIQUID, OXYCODONE_5MG, TRAMADOL_50MG, UCUM, concept, draft_order
from tests.support.records import record_of

TODAY = date(2026, 11, 26)
CLINICAL = ClinicalSettings()
TEXTS = load_templates(PROJECT_ROOT / "cards")
SAFETY = {"opioid-conflict": 2, "opioid-status-unchecked": 1}  # the opioid-safety cards, by concern
OPIOIDS = {
    "oxycodone": OXYCODONE_5MG,
    "tramadol": TRAMADOL_50MG,
    "methadone": METHADONE_LIQUID,
    "fentanyl": concept("fentanyl 25 mcg/hr transdermal patch"),
    "hydrocodone": concept("Hydrocodone-acetaminophen 5-325 mg tablet"),
    "buprenorphine": concept(code="1010604"),
}
RESOURCE_TYPES = ["MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration"]
STATUSES = sorted({status for table in STATUS_MEANING.values() for status in table} | {"", "bogus"})

days = st.integers(-500, 30).map(lambda n: (TODAY + timedelta(days=n)).isoformat())
maybe = st.booleans()


@st.composite
def opioid_records(draw) -> dict[str, Any]:
    kind = draw(st.sampled_from(RESOURCE_TYPES))
    resource: dict[str, Any] = {"resourceType": kind, "id": f"r{draw(st.integers(0, 10**9))}"}
    if (status := draw(st.sampled_from(STATUSES))) != "":
        resource["status"] = status
    resource["medicationCodeableConcept"] = OPIOIDS[draw(st.sampled_from(sorted(OPIOIDS)))]
    date_fields = {
        "MedicationRequest": ["authoredOn"],
        "MedicationStatement": ["effectiveDateTime", "dateAsserted", "effectivePeriod"],
        "MedicationDispense": ["whenHandedOver", "whenPrepared"],
        "MedicationAdministration": ["effectiveDateTime", "effectivePeriod"],
    }[kind]
    for name in date_fields:
        if draw(maybe):
            if name == "effectivePeriod":
                resource[name] = {k: draw(days) for k in ("start", "end") if draw(maybe)}
            else:
                resource[name] = draw(days)
    if kind in ("MedicationRequest", "MedicationDispense"):
        dosage: dict[str, Any] = {"text": "as directed"}
        if draw(maybe):
            dosage["timing"] = {
                "repeat": {"frequency": draw(st.integers(1, 4)), "period": draw(st.integers(1, 24)), "periodUnit": "h"}
            }
            dosage["doseAndRate"] = [
                {
                    "doseQuantity": draw(
                        st.sampled_from(
                            [{"value": 1, "unit": "tablet"}, {"value": 5, "unit": "mg", "system": UCUM, "code": "mg"}]
                        )
                    )
                }
            ]
        if draw(maybe):
            dosage["asNeededBoolean"] = True
        field = "dosageInstruction"
        if draw(maybe):
            resource[field] = [dosage]
        quantity = {"value": draw(st.integers(1, 200)), "unit": "tablet"}
        if kind == "MedicationRequest":
            dispense: dict[str, Any] = {}
            if draw(maybe):
                dispense["quantity"] = quantity
            if draw(maybe):
                dispense["expectedSupplyDuration"] = {
                    "value": draw(st.integers(1, 90)),
                    "unit": "d",
                    "code": "d",
                    "system": UCUM,
                }
            if draw(maybe):
                dispense["numberOfRepeatsAllowed"] = draw(st.integers(0, 5))
            if draw(maybe):
                dispense["validityPeriod"] = {"end": draw(days)}
            if dispense:
                resource["dispenseRequest"] = dispense
        else:
            if draw(maybe):
                resource["quantity"] = quantity
            if draw(maybe):
                resource["daysSupply"] = {"value": draw(st.integers(1, 90)), "unit": "d", "code": "d", "system": UCUM}
    return resource


def opioid_safety(resources: list[dict[str, Any]]) -> tuple[int, set[str]]:
    """(highest opioid-safety concern, opioids named by those cards) for an LDN order."""
    ldn = draft_order(LDN_TEXT_ONLY, id="ldn-draft")
    record = record_of(resources, drafts=[ldn])
    cards = render_cards(
        order_findings(record, TODAY, CLINICAL), RenderContext(TEXTS, CLINICAL, record.patient_id), max_cards=4
    )
    concern, named = 0, set()
    for card in cards:
        level = SAFETY.get(card.source.topic.code, 0) if card.source.topic else 0
        if level:
            concern = max(concern, level)
            # The records the card lists, one "- **name** (...)" line each (not the advice text).
            listed = "\n".join(line for line in (card.detail or "").splitlines() if line.startswith("- **")).lower()
            named |= {name for name in OPIOIDS if name in listed}
    return concern, named


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.lists(opioid_records(), max_size=3), added=opioid_records())
def test_adding_an_opioid_record_never_lowers_the_concern_or_drops_a_named_opioid(base, added):
    before_concern, before_named = opioid_safety(base)
    after_concern, after_named = opioid_safety([*base, added])
    assert after_concern >= before_concern
    assert before_named <= after_named
