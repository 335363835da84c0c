"""Property: on any well-formed record, the rules and the renderer never raise."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cards.render import MAX_SUMMARY, RenderContext, render_cards
from app.cards.templates import load_templates
from app.clinical_settings import ClinicalSettings
from app.domain.record import (
    ConditionEntry,
    DailyUse,
    DataGap,
    DoseStep,
    GapReason,
    MedicationSource,
    MedicationUse,
    PatientRecord,
    SupplyFacts,
)
from app.knowledge.conditions import ConditionKind
from app.knowledge.medications import classify_medication
from app.knowledge.strength import Strength
from app.knowledge.units import Amount
from app.rules.follow_up import patient_view_findings
from app.rules.order_findings import order_findings
from app.settings import PROJECT_ROOT

TEXTS = load_templates(PROJECT_ROOT / "cards")
TODAY = date(2026, 11, 26)
NAMES = [
    "naltrexone 4.5 mg capsule",
    "Naltrexone 50 MG Oral Tablet",
    "Vivitrol",
    "Contrave",
    "LDN",
    "oxycodone 5 mg",
    "fentanyl 25 mcg/hr transdermal patch",
    "methadone",
    "buprenorphine / naloxone",
    "naloxone nasal spray",
    "duloxetine",
    "pregabalin",
    "amitriptyline",
    "fingolimod",
    "lisinopril",
    "",
]
STATUSES = [
    "active", "on-hold", "draft", "stopped", "completed", "cancelled", "unknown", "intended", "not-taken",
    "in-progress", "declined", "preparation", "not-done", "",
]  # fmt: skip

dates = st.one_of(st.none(), st.dates(min_value=TODAY - timedelta(days=800), max_value=TODAY + timedelta(days=60)))
steps = st.lists(
    st.builds(
        DoseStep,
        sequence=st.integers(0, 5),
        dose_mg=st.one_of(st.none(), st.floats(0, 500, allow_nan=False)),
        duration_days=st.one_of(st.none(), st.integers(0, 120)),
        text=st.one_of(st.none(), st.text(max_size=20)),
        as_written=st.one_of(st.none(), st.text(max_size=12)),
        problem=st.one_of(st.none(), st.text(max_size=30)),
    ),
    max_size=4,
).map(tuple)
strengths = st.builds(
    Strength, st.floats(0.001, 500, allow_nan=False), st.sampled_from(["tablet", "capsule", "mL", ""])
)
amounts = st.builds(
    Amount, st.floats(0.001, 1e6, allow_nan=False), st.sampled_from(["tablet", "mL", "mg", "", "patch"])
)
supplies = st.builds(
    SupplyFacts,
    start=dates,
    asserted=dates,
    stated_end=dates,
    supply_days=st.one_of(st.none(), st.integers(0, 3660)),
    quantity=st.one_of(st.none(), amounts),
    repeats=st.integers(0, 100),
    validity_end=dates,
    daily=st.one_of(st.none(), st.builds(DailyUse, amounts, st.booleans())),
    free_text_dosing=st.booleans(),
)


@st.composite
def uses(draw, draft: bool = False) -> MedicationUse:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2))
    return MedicationUse(
        source=MedicationSource.request if draft else draw(st.sampled_from(list(MedicationSource))),
        resource_id=draw(st.one_of(st.none(), st.text(min_size=1, max_size=8))),
        status="draft" if draft else draw(st.sampled_from(STATUSES)),
        name=" / ".join(names) or "x",
        drug=classify_medication([], names),
        started=(supply := draw(supplies)).start,
        supply=supply,
        dose_steps=draw(steps),
        strength=draw(st.one_of(st.none(), strengths)),
        status_reason=draw(st.one_of(st.none(), st.sampled_from(["ineffective", "patient preference", "sintol", ""]))),
        is_draft=draft,
    )


conditions = st.builds(
    ConditionEntry,
    resource_id=st.none(),
    name=st.text(max_size=10),
    kinds=st.frozensets(st.sampled_from(list(ConditionKind)), max_size=3),
    active=st.booleans(),
    onset=dates,
    in_remission=st.booleans(),
    clinical_status=st.sampled_from([None, "active", "remission", "resolved", "inactive", "relapse"]),
    refuted=st.booleans(),
    codings=st.lists(
        st.tuples(
            st.sampled_from(["http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "", "weird"]),
            st.text(min_size=1, max_size=8),
            st.one_of(st.none(), st.text(max_size=10)),
        ),
        max_size=2,
    ).map(tuple),
)


@st.composite
def records(draw) -> PatientRecord:
    drafts = tuple(draw(st.lists(uses(draft=True), max_size=3)))
    selected = tuple(d for d in drafts if draw(st.booleans()))
    return PatientRecord(
        patient_id="p1",
        medications=tuple(draw(st.lists(uses(), max_size=8))),
        draft_orders=drafts,
        selected_orders=selected,
        conditions=tuple(draw(st.lists(conditions, max_size=4))),
        gaps=tuple(
            draw(
                st.lists(
                    st.builds(
                        DataGap,
                        st.sampled_from(["MedicationRequest", "MedicationAdministration", "Condition"]),
                        st.sampled_from(list(GapReason)),
                    ),
                    max_size=2,
                )
            )
        ),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_rules_and_cards_never_raise_and_stay_conformant(record):
    clinical = ClinicalSettings()
    context = RenderContext(TEXTS, clinical, record.patient_id)
    for findings in (order_findings(record, TODAY, clinical), patient_view_findings(record, TODAY, clinical)):
        cards = render_cards(findings, context, max_cards=4)
        assert len(cards) <= 4
        for card in cards:
            assert len(card.summary) <= MAX_SUMMARY
            if card.suggestions:
                assert card.selectionBehavior
