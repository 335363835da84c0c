"""Conditions by their own codes: descendants by prefix, and no proxy codes."""

from __future__ import annotations

import pytest

from app.domain.record import ConditionEntry, PatientRecord
from app.knowledge.conditions import ConditionKind, classify_condition, in_remission
from app.knowledge.terminology import ICD10CM, SNOMED


@pytest.mark.parametrize(
    ("system", "code", "kind"),
    [
        (ICD10CM, "G35", ConditionKind.multiple_sclerosis),  # before the FY2026 split
        (ICD10CM, "G35.A", ConditionKind.multiple_sclerosis),
        (ICD10CM, "g35a", ConditionKind.multiple_sclerosis),
        (ICD10CM, "G35.C1", ConditionKind.multiple_sclerosis),
        (ICD10CM, "M79.7", ConditionKind.fibromyalgia),
        (ICD10CM, "M797", ConditionKind.fibromyalgia),
        (ICD10CM, "G90.512", ConditionKind.complex_regional_pain_syndrome),
        (ICD10CM, "K50.90", ConditionKind.crohns_disease),
        (ICD10CM, "E11.42", ConditionKind.painful_diabetic_neuropathy),  # polyneuropathy
        (SNOMED, "424736006", ConditionKind.painful_diabetic_neuropathy),  # diabetic peripheral neuropathy
        (SNOMED, "713706002", ConditionKind.painful_diabetic_neuropathy),  # polyneuropathy due to T2DM
        (ICD10CM, "F10.20", ConditionKind.alcohol_use_disorder),
        (ICD10CM, "F11.20", ConditionKind.opioid_use_disorder),
        (ICD10CM, "F11.23", ConditionKind.opioid_use_disorder),  # dependence with withdrawal
        (ICD10CM, "Z79.891", ConditionKind.long_term_opioid_use),
        (SNOMED, "87132004", ConditionKind.opioid_use_disorder),  # opioid withdrawal
        (SNOMED, "24700007", ConditionKind.multiple_sclerosis),
        (SNOMED, "203082005", ConditionKind.fibromyalgia),
    ],
)
def test_conditions_by_code_with_descendants(system, code, kind):
    assert kind in classify_condition([(system, code)], [])


@pytest.mark.parametrize(
    ("system", "code", "what"),
    [
        (ICD10CM, "M79.6", "pain in limb, not fibromyalgia"),
        (ICD10CM, "E11.9", "diabetes without neuropathy"),
        (ICD10CM, "H57.13", "ocular pain, bilateral: not neuropathic corneal pain"),
        (ICD10CM, "H57.10", "ocular pain, unspecified eye"),
        (ICD10CM, "H18.891", "other specified disorders of cornea, right eye"),
        (ICD10CM, "H18.89", "other specified disorders of cornea"),
        (SNOMED, "712883005", "autonomic neuropathy due to T2DM: not painful diabetic neuropathy"),
        (SNOMED, "712882000", "autonomic neuropathy due to T1DM"),
        (SNOMED, "420436000", "mononeuropathy due to T2DM"),
        (SNOMED, "427027005", "lumbosacral radiculoplexus neuropathy (diabetic amyotrophy)"),
        (SNOMED, "290174008", "buprenorphine poisoning: an overdose, not a use disorder"),
        (SNOMED, "242253008", "overdose of opiate"),
    ],
)
def test_proxy_and_neighbouring_codes_are_not_the_condition(system, code, what):
    assert classify_condition([(system, code)], []) == frozenset(), what


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Neuropathic corneal pain, bilateral", ConditionKind.neuropathic_corneal_pain),
        ("Corneal neuropathic pain", ConditionKind.neuropathic_corneal_pain),
        ("Opioid dependence on agonist therapy", ConditionKind.opioid_use_disorder),
        ("Long-term opioid therapy", ConditionKind.long_term_opioid_use),
    ],
)
def test_uncoded_diagnoses_by_their_own_name(name, kind):
    assert kind in classify_condition([], [name])


@pytest.mark.parametrize("name", ["Postherpetic neuralgia", "Trigeminal neuralgia", "Dry eye", "Chronic ocular pain"])
def test_other_pain_names_are_not_ldn_studied_conditions(name):
    assert not classify_condition([], [name]) & {
        ConditionKind.neuropathic_corneal_pain,
        ConditionKind.painful_diabetic_neuropathy,
        ConditionKind.fibromyalgia,
    }


def test_remission_is_read_from_the_code_or_the_text():
    assert in_remission([(ICD10CM, "F11.21")], [])
    assert in_remission([(SNOMED, "191821007")], [])
    assert in_remission([], ["Opioid use disorder, in remission"])
    assert not in_remission([(ICD10CM, "F11.20")], ["Opioid dependence, uncomplicated"])


def test_inactive_and_refuted_conditions_do_not_count():
    record = PatientRecord(
        "p",
        conditions=(
            ConditionEntry("c1", "Fibromyalgia", frozenset({ConditionKind.fibromyalgia}), active=False),
            ConditionEntry("c2", "MS", frozenset({ConditionKind.multiple_sclerosis}), active=True),
        ),
    )
    assert record.active_condition_kinds == {ConditionKind.multiple_sclerosis}
