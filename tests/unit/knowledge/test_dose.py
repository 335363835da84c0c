"""Naltrexone doses read right: amount x strength, with units, from structured fields and text.

Each case is a draft order as EHRs and compounding pharmacies write them, read by the real
parser; the expected dose is worked out by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.cards.render import RenderContext
from app.cards.templates import load_templates
from app.cards.titration_order import titration_order
from app.clinical_settings import ClinicalSettings
from app.knowledge.dose import DoseClass, classify_naltrexone_dose, dose_mg_from_text
from app.knowledge.medications import NaltrexoneProduct
from app.rules.ldn_history import dose_class
from app.settings import PROJECT_ROOT
from tests.support.fhir import UCUM, concept, draft_order, medication
from tests.support.records import record_of

CLINICAL = ClinicalSettings()
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SUSPENSION_1MG_ML = concept("Naltrexone 1 mg/mL oral suspension (compounded)", code="7243", display="naltrexone")
CAPSULE_1_5MG = concept("Naltrexone 1.5 mg capsule (compounded)")
TABLET_50MG = concept(code="1483744", display="naltrexone hydrochloride 50 MG Oral Tablet")


def quantity(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"value": value, "unit": unit}
    if code:
        result.update(system=UCUM, code=code)
    return result


def dosage(
    dose: dict[str, Any] | None = None, text: str | None = None, route: str | None = None
) -> list[dict[str, Any]]:
    item: dict[str, Any] = {"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}}}
    if dose is not None:
        item["doseAndRate"] = [{"doseQuantity": dose}]
    if text is not None:
        item["text"] = text
    if route is not None:
        item["route"] = {"text": route}
    return [item]


def read(medication_concept: Any, dosages: list[dict[str, Any]] | None = None, extra: list[dict[str, Any]] = ()):  # type: ignore[assignment]
    fields = {"dosageInstruction": dosages} if dosages is not None else {}
    order = draft_order(medication_concept, **fields)
    record = record_of(list(extra), drafts=[order])
    return record.selected_orders[0]


LDN_STRENGTH = medication(
    concept("Naltrexone 4.5 mg capsule (compounded)"),
    id="ldn-caps",
    ingredient=[
        {
            "itemCodeableConcept": concept(code="7243", display="naltrexone"),
            "strength": {"numerator": quantity(4.5, "mg", "mg"), "denominator": quantity(1, "capsule")},
        }
    ],
)
LIQUID_5MG_ML = medication(
    concept("Naltrexone oral solution (compounded from 50 mg tablets)"),
    id="ldn-liquid",
    ingredient=[
        {
            "itemCodeableConcept": concept(code="7243", display="naltrexone"),
            "strength": {"numerator": quantity(50, "mg", "mg"), "denominator": quantity(10, "mL", "mL")},
        }
    ],
)

# (case, medication, dosage, resources the order references, expected mg or None, a word the problem must contain)
CASES = [
    ("4.5 mg (UCUM)", CAPSULE_1_5MG, dosage(quantity(4.5, "mg", "mg")), [], 4.5, None),
    ("4500 ug (UCUM)", CAPSULE_1_5MG, dosage(quantity(4500, "ug", "ug")), [], 4.5, None),
    ("4.5 mcg written by hand: a 1000-fold slip", CAPSULE_1_5MG, dosage(quantity(4.5, "mcg")), [], 0.0045, None),
    ("0.0045 g", CAPSULE_1_5MG, dosage(quantity(0.0045, "g", "g")), [], 4.5, None),
    ("4.5 mL of a 1 mg/mL suspension", SUSPENSION_1MG_ML, dosage(quantity(4.5, "mL", "mL")), [], 4.5, None),
    ("10 mL of a 1 mg/mL suspension", SUSPENSION_1MG_ML, dosage(quantity(10, "mL", "mL")), [], 10.0, None),
    ("2 capsules of 1.5 mg", CAPSULE_1_5MG, dosage(quantity(2, "capsule")), [], 3.0, None),
    ("1 capsule, strength from the Medication", "Medication/ldn-caps", dosage(quantity(1, "capsule")), [LDN_STRENGTH], 4.5, None),
    ("0.9 mL of 50 mg/10 mL", "Medication/ldn-liquid", dosage(quantity(0.9, "mL", "mL")), [LIQUID_5MG_ML], 4.5, None),
    ("text 'take 2 capsules'", CAPSULE_1_5MG, dosage(text="Take 2 capsules by mouth at bedtime"), [], 3.0, None),
    ("text mg wins over mL of a tablet product", TABLET_50MG, dosage(quantity(4.5, "mL", "mL"), text="take 4.5 mL (4.5 mg) at bedtime"), [], 4.5, None),
    ("text and structured mg disagree", CAPSULE_1_5MG, dosage(quantity(5, "mg", "mg"), text="4.5 mg at bedtime"), [], None, "4.5 mg"),
    ("drops of a mg/mL liquid", SUSPENSION_1MG_ML, dosage(quantity(10, "drops")), [], None, "cannot be combined"),
    ("mL of a tablet product", TABLET_50MG, dosage(quantity(4.5, "mL", "mL")), [], None, "cannot be combined"),
    ("mL with no strength stated", concept("Naltrexone oral suspension (compounded)"), dosage(quantity(4.5, "mL", "mL")), [], None, "strength"),
    ("no dose: one capsule of the named strength", concept("Naltrexone 4.5 mg capsule (compounded)"), None, [], 4.5, None),
    ("no dose of a liquid: never 1 mL", SUSPENSION_1MG_ML, None, [], None, None),
    ("no dose, 50 mg tablet code only", concept(code="1483744"), None, [], 50.0, None),
    ("a concentration in the text is not a dose", SUSPENSION_1MG_ML, dosage(quantity(3, "mL", "mL"), text="Take 3 mL of the 1 mg/mL suspension"), [], 3.0, None),
    ("half a 50 mg tablet", TABLET_50MG, dosage(text="Take 1/2 tablet by mouth daily"), [], 25.0, None),
    ("'half a tablet' in words", TABLET_50MG, dosage(text="take half a tablet at night"), [], 25.0, None),
    ("2 x 4.5 mg capsules", CAPSULE_1_5MG, dosage(text="Take 2 x 4.5 mg capsules at bedtime"), [], 9.0, None),
    ("two 4.5 mg capsules", CAPSULE_1_5MG, dosage(text="Take two 4.5 mg capsules at bedtime"), [], 9.0, None),
    ("4.5 mg x 2", CAPSULE_1_5MG, dosage(text="4.5 mg x 2 at bedtime"), [], 9.0, None),
    ("'2 x 1.5 mg capsule' beside the dose it makes", CAPSULE_1_5MG, dosage(text="Take 3 mg (2 x 1.5 mg capsule) at bedtime"), [], 3.0, None),
    ("a one-line titration sig", CAPSULE_1_5MG, dosage(text="1.5 mg x2 wk, then 3 mg x2 wk, then 4.5 mg"), [], None, "several doses"),
    ("4.5 cc of a 1 mg/mL suspension", SUSPENSION_1MG_ML, dosage(quantity(4.5, "cc")), [], 4.5, None),
    # The CDS Hooks sandbox writes every dose as {pill}: one piece of whatever the product is.
    ("1 {pill} of the 50 mg tablet (sandbox)", TABLET_50MG, dosage(quantity(1, "{pill}", "{pill}")), [], 50.0, None),
    ("3 {pill} of 1.5 mg capsules", CAPSULE_1_5MG, dosage(quantity(3, "{pill}", "{pill}")), [], 4.5, None),
    ("1 {pill} of a liquid is no amount", SUSPENSION_1MG_ML, dosage(quantity(1, "{pill}", "{pill}")), [], None, "cannot be combined"),
    # A number with no unit is never guessed: "4.5" may be mg or tablets (225 mg of a 50 mg tablet).
    ("4.5 with no unit, 50 mg tablet", TABLET_50MG, dosage({"value": 4.5}), [], None, "has no unit"),
    ("3 with no unit, 1.5 mg capsules", CAPSULE_1_5MG, dosage({"value": 3}), [], None, "has no unit"),
    ("'1 each' of a 4.5 mg capsule", concept("Naltrexone 4.5 mg capsule (compounded)"), dosage(quantity(1, "each")), [], 4.5, None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "med", "dosages", "extra", "mg", "problem"), CASES, ids=[c[0] for c in CASES])
def test_the_dose_is_amount_times_strength(case, med, dosages, extra, mg, problem):
    order = read(med, dosages, extra)
    assert order.first_dose_mg == pytest.approx(mg) if mg is not None else order.first_dose_mg is None
    if problem is not None:
        assert problem in (order.dose_problem or ""), order.dose_problem
    if mg is not None:
        assert order.dose_problem is None


@pytest.mark.parametrize(
    "dose_and_rate",
    [
        {"doseRange": {"high": quantity(4.5, "mL", "mL")}},
        {"doseQuantity": quantity(0, "mg", "mg"), "doseRange": {"low": quantity(4.5, "mL", "mL")}},
    ],
    ids=["a range with only its high end", "a zero dose beside a range"],
)
def test_the_problem_quotes_the_dose_that_was_read(dose_and_rate):
    # The dose written in the card is the quantity the dose was read from ("None: ..." before).
    dosages = [{"doseAndRate": [dose_and_rate], "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}]
    order = read(concept("Naltrexone oral suspension (compounded)"), dosages)
    assert order.first_dose_mg is None
    assert order.dose_problem is not None and order.dose_problem.startswith("4.5 mL: the product's strength")
    assert [s.as_written for s in order.dose_steps] == ["4.5 mL"]


def test_the_compounded_suspension_is_oral_ldn_not_the_injection():
    order = read(SUSPENSION_1MG_ML, dosage(quantity(4.5, "mL", "mL")))
    assert order.drug.naltrexone is NaltrexoneProduct.unspecified
    assert dose_class(order, CLINICAL) is DoseClass.low_dose


def test_ldn_made_from_the_50_mg_tablet_is_low_dose():
    order = read(TABLET_50MG, dosage(quantity(4.5, "mL", "mL"), text="take 4.5 mL (4.5 mg) at bedtime"))
    assert dose_class(order, CLINICAL) is DoseClass.low_dose


@pytest.mark.parametrize(
    ("med", "dosages"),
    [
        (concept("naltrexone for extended-release injectable suspension 380 mg"), None),
        (concept(code="637213", display="naltrexone 380 MG Injection"), None),
        (concept("Naltrexone 380 mg"), dosage(quantity(380, "mg", "mg"), route="intramuscular")),
        (concept("Vivitrol"), None),
    ],
    ids=["injectable suspension", "coded", "route intramuscular", "brand"],
)
def test_the_extended_release_injection_is_known_by_code_brand_route_or_form(med, dosages):
    assert read(med, dosages).drug.naltrexone is NaltrexoneProduct.er_injectable_380mg


@pytest.mark.parametrize(
    ("mg", "expected"),
    [
        (0.99, DoseClass.below_low_dose_range),
        (1.0, DoseClass.low_dose),
        (4.5, DoseClass.low_dose),
        (4.51, DoseClass.above_low_dose_max),
        (49.9, DoseClass.above_low_dose_max),
        (50, DoseClass.standard_oral),
        (379, DoseClass.standard_oral),
        (380, DoseClass.er_injectable),
        (None, DoseClass.unknown),
    ],
)
def test_dose_class_boundaries(mg, expected):
    assert classify_naltrexone_dose(NaltrexoneProduct.unspecified, mg, CLINICAL) is expected


def test_the_product_decides_only_where_it_fixes_the_dose():
    assert classify_naltrexone_dose(NaltrexoneProduct.oral_50mg, 4.5, CLINICAL) is DoseClass.low_dose
    assert classify_naltrexone_dose(NaltrexoneProduct.er_injectable_380mg, None, CLINICAL) is DoseClass.er_injectable
    assert (
        classify_naltrexone_dose(NaltrexoneProduct.bupropion_combination, 8, CLINICAL)
        is DoseClass.bupropion_combination
    )


def test_dose_bounds_are_settings():
    assert (
        classify_naltrexone_dose(NaltrexoneProduct.unspecified, 4.5, ClinicalSettings(ldn_max_mg=3.0))
        is DoseClass.above_low_dose_max
    )
    assert (
        classify_naltrexone_dose(NaltrexoneProduct.unspecified, 0.8, ClinicalSettings(ldn_unit_error_below_mg=0.5))
        is DoseClass.low_dose
    )


@pytest.mark.parametrize(
    ("text", "mg"),
    [
        ("Take 4.5 mg by mouth at bedtime", 4.5),
        ("Take 1 capsule (4.5 mg) at bedtime", 4.5),
        ("Naltrexone 4.5 mg capsule", None),  # a product's strength, not a dose
        ("Take 3 mg (2 x 1.5 mg capsule)", 3.0),
        ("naltrexone 4.5mg", 4.5),
        ("Naltrexone 4,5 mg at bedtime", 4.5),
        ("LDN 1.5 milligrams", 1.5),
        ("naltrexone 500 mcg", 0.5),
        ("1 mg/mL oral suspension", None),
        ("Naltrexone capsule (compounded)", None),
        ("", None),
    ],
)
def test_a_dose_in_text_is_a_mass_not_a_concentration_or_a_strength(text, mg):
    assert dose_mg_from_text(text) == mg


def test_the_dose_reader_reads_the_services_own_titration_order():
    templates = load_templates(PROJECT_ROOT / "cards")
    texts = templates.titration
    values = RenderContext(templates, CLINICAL, "test-patient").numbers()  # what the renderer passes
    order = titration_order("test-patient", CLINICAL, texts, values)
    order["id"] = "titration"
    read_back = record_of([], drafts=[order]).selected_orders[0]
    assert [s.dose_mg for s in read_back.dose_steps] == [1.5, 3.0, 4.5]
    assert all(s.problem is None for s in read_back.dose_steps)
    assert dose_class(read_back, CLINICAL) is DoseClass.low_dose


def _concern(record_resources, order):
    from datetime import date

    from app.rules.dose_concern import dose_concern

    record = record_of(record_resources, drafts=[order])
    return dose_concern(record, record.selected_orders[0], date(2026, 11, 26), CLINICAL, titration_allowed=True)


def test_every_step_of_a_titration_order_is_checked():
    steps = [
        {"sequence": i + 1, "doseAndRate": [{"doseQuantity": quantity(mg, "mg", "mg")}],
         "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", **({"boundsDuration": {"value": 2, "code": "wk"}} if i < 2 else {})}}}
        for i, mg in enumerate([1.5, 3, 45])
    ]  # fmt: skip
    concern = _concern([], draft_order(CAPSULE_1_5MG, dosageInstruction=steps))
    assert (concern.concern.value, concern.dose_mg) == ("above-ldn-max", 45)


def test_an_oral_dose_above_any_naltrexone_dose_is_a_unit_question_not_the_addiction_dose():
    concern = _concern([], draft_order(CAPSULE_1_5MG, dosageInstruction=dosage(quantity(4.5, "g", "g"))))
    assert concern.concern.value == "dose-unknown"
    assert "4500 mg is more than any naltrexone dose by mouth" in concern.problem
