"""Every summary reads whole under 140 characters, whatever the record holds: lists are
shortened at item boundaries ("X, Y +2 more", then "10 opioids"), never cut mid-word."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.cards import render
from app.cards.kinds import CardKind
from app.cards.render import MAX_SUMMARY, RenderContext, render_cards
from app.cards.templates import load_templates
from app.clinical_settings import ClinicalSettings
from app.domain.record import ConditionEntry, DataGap, GapReason
from app.knowledge.conditions import LDN_STUDIED_CONDITIONS, ConditionKind
from app.knowledge.dose import DoseClass
from app.knowledge.therapies import TherapyClass
from app.rules import findings as f
from app.rules.exposure import naltrexone_blockades, opioid_exposures
from app.settings import PROJECT_ROOT
from tests.support.fhir import concept, draft_order, medication_request, medication_statement
from tests.support.records import record_of

TODAY = date(2026, 11, 26)
CLINICAL = ClinicalSettings()
TEXTS = load_templates(PROJECT_ROOT / "cards")
LONG = "Extraordinarily-Long-Proprietary-Compounded-Formulation"
OPIOID_NAMES = [
    "oxycodone",
    "hydrocodone",
    "morphine",
    "hydromorphone",
    "tramadol",
    "tapentadol",
    "codeine",
    "oxymorphone",
    "meperidine",
    "levorphanol",
]


def _record():
    opioids = [
        medication_request(concept(f"{name} {LONG} 5 mg tablet"), authored_on=TODAY - timedelta(days=3))
        for name in OPIOID_NAMES
    ]
    undated = [medication_request(concept(f"{name} {LONG}"), status="completed") for name in OPIOID_NAMES]
    naltrexone = [
        medication_statement(concept(f"naltrexone 4.5 mg {LONG} {i}"), start=TODAY - timedelta(days=40))
        for i in range(5)
    ]
    ldn = draft_order(concept(f"Naltrexone {LONG} capsule"))
    return record_of([*opioids, *undated, *naltrexone], drafts=[ldn]), ldn


RECORD, _ = _record()
ORDER = RECORD.selected_orders[0]
EXPOSURES = tuple(e for e in opioid_exposures(RECORD, TODAY, CLINICAL) if e.level.name == "exposure")
UNCERTAIN = tuple(e for e in opioid_exposures(RECORD, TODAY, CLINICAL) if e.level.name == "possible")
BLOCKADES = naltrexone_blockades(RECORD, TODAY, CLINICAL)
CONDITIONS = tuple(sorted(LDN_STUDIED_CONDITIONS))  # six conditions
DIAGNOSES = tuple(
    ConditionEntry(
        f"c{i}", f"Opioid dependence, {LONG} variant {i}", frozenset({ConditionKind.opioid_use_disorder}), active=True
    )
    for i in range(5)
)
GAPS = tuple(
    DataGap(t, GapReason.fhir_error)
    for t in ("MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration", "Condition")
)
OPIOID_ORDER = next(u for u in RECORD.medications if u.drug.is_opioid)
LONG_FINDINGS = {
    CardKind.opioid_conflict: f.OpioidConflict(ORDER, EXPOSURES, UNCERTAIN, GAPS),
    CardKind.opioid_status_unchecked: f.OpioidStatusUnchecked(ORDER, UNCERTAIN, GAPS),
    CardKind.naltrexone_blocks_opioid: f.NaltrexoneBlocksOpioid(OPIOID_ORDER, BLOCKADES),
    CardKind.opioid_dependence_on_record: f.OpioidDependenceOnRecord(ORDER, DIAGNOSES),
    CardKind.opioid_exposure_on_ldn: f.OpioidExposureOnLdn(BLOCKADES, EXPOSURES),
    CardKind.fhir_version_unsupported: f.UnsupportedFhirVersion("MedicationOrder"),
    CardKind.ldn_step_due: f.LdnStepDue(1.5, 3.0, 250, 240),
    CardKind.ldn_reassess_due: f.LdnReassessmentDue(4.5, 400, 380),
    CardKind.ldn_candidate: f.LdnCandidate(CONDITIONS, (), ("3rd/4th-line", "2nd-line (expert review)"), ()),
}
for stance, kind in [
    (f.Stance.refractory, CardKind.ldn_positioning_refractory),
    (f.Stance.standard_options_remain, CardKind.ldn_positioning_not_refractory),
    (f.Stance.not_assessed, CardKind.ldn_positioning_not_assessed),
    (f.Stance.no_studied_condition, CardKind.ldn_positioning_off_label),
]:
    LONG_FINDINGS[kind] = f.LdnPositioning(
        stance,
        CONDITIONS,
        (),
        ((TherapyClass.tricyclic, TherapyClass.snri), (TherapyClass.gabapentinoid, TherapyClass.anticonvulsant)),
        ("3rd/4th-line", "2nd-line (expert review)"),
        (),
        ORDER,
        False,
    )
for concern, dose_class, kind in [
    (f.DoseConcern.start_above_initial, DoseClass.low_dose, CardKind.ldn_dose_start_above_initial),
    (f.DoseConcern.below_ldn_range, DoseClass.below_low_dose_range, CardKind.ldn_dose_below_range),
    (f.DoseConcern.above_ldn_max, DoseClass.above_low_dose_max, CardKind.ldn_dose_above_max),
    (
        f.DoseConcern.standard_dose_with_ldn_condition,
        DoseClass.standard_oral,
        CardKind.naltrexone_standard_dose_ldn_condition,
    ),
    (f.DoseConcern.dose_unknown, DoseClass.unknown, CardKind.naltrexone_dose_unknown),
]:
    LONG_FINDINGS[kind] = f.NaltrexoneDoseConcern(
        concern,
        ORDER,
        dose_class,
        123.456,
        CONDITIONS,
        False,
        ((TherapyClass.tricyclic, TherapyClass.snri), (TherapyClass.gabapentinoid, TherapyClass.anticonvulsant)),
    )


def test_every_card_kind_has_a_long_input_case():
    assert set(LONG_FINDINGS) == set(CardKind)


def _render(kind: CardKind) -> str:
    (card,) = render_cards([LONG_FINDINGS[kind]], RenderContext(TEXTS, CLINICAL, "p"), max_cards=4)
    return card.summary


@pytest.mark.parametrize("kind", list(CardKind), ids=[k.slug for k in CardKind])
def test_a_summary_with_long_inputs_fits_and_no_word_is_cut(kind, monkeypatch):
    summary = _render(kind)
    assert len(summary) <= MAX_SUMMARY
    assert "…" not in summary, summary
    # The same summary with every list whole: each word of the short summary is a whole word of
    # it (lists lose items, "+N more" or "N opioids" stand in for them; nothing is cut mid-word).
    seen: list[str] = []
    original = render._summary
    monkeypatch.setattr(
        render,
        "_summary",
        lambda template, values: seen.append(template.format_map(values)) or original(template, values),
    )
    _render(kind)
    unlimited = set(_words(seen[0]))
    for word in _words(summary):
        assert (
            word in unlimited
            or word in {"more", "opioids", "conditions", "diagnoses", "gaps", "lines"}
            or re.fullmatch(r"\+?\d+", word)
        ), (word, summary)


def _words(text: str) -> list[str]:
    return [w.strip("(),;:") for w in text.split() if w.strip("(),;:")]


def test_a_long_list_is_shortened_at_item_boundaries():
    (card,) = render_cards([LONG_FINDINGS[CardKind.opioid_conflict]], RenderContext(TEXTS, CLINICAL, "p"), max_cards=4)
    assert re.search(r"\((oxycodone|[a-z]+)(, [a-z]+)* \+\d+ more\)|\(10 opioids\)", card.summary), card.summary


def test_a_single_item_is_named_never_counted():
    from app.cards.render import Listing

    assert Listing.of(["neuropathic corneal pain"], "conditions").at(0) == "neuropathic corneal pain"
    assert Listing.of(["fibromyalgia", "multiple sclerosis"], "conditions").at(0) == "2 conditions"


def test_no_summary_of_any_scenario_counts_one_thing(client):
    from devtools.fixtures import hook_request, scenarios
    from tests.support.cards import cards_for

    for case in scenarios():
        for card in cards_for(client, hook_request(case)):
            assert not re.search(r"\b1 (conditions|opioids|records)\b", card["summary"]), (case.name, card["summary"])
