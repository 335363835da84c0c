"""Standard therapies that come before LDN, grouped the way the positioning rule counts them.

Source: the LDN source article's "Positioning in Treatment Algorithm" — first line
tricyclics or SNRIs; second line anticonvulsants (carbamazepine) and gabapentinoids;
disease-specific standard care (MS disease-modifying therapies; the FDA-approved
fibromyalgia drugs pregabalin, duloxetine, milnacipran). Drug classes come from the
``class`` column of ``standard_therapies.csv``.
"""

from __future__ import annotations

from enum import StrEnum

from app.knowledge.conditions import ConditionKind


class TherapyClass(StrEnum):
    tricyclic = "tricyclic antidepressant"
    snri = "SNRI"
    gabapentinoid = "gabapentinoid"
    anticonvulsant = "sodium-channel anticonvulsant"
    ms_dmt = "MS disease-modifying therapy"


class TherapyLine(StrEnum):
    first = "first line"
    second = "second line"
    disease_specific = "disease-specific"


LINE_OF_CLASS = {
    TherapyClass.tricyclic: TherapyLine.first,
    TherapyClass.snri: TherapyLine.first,
    TherapyClass.gabapentinoid: TherapyLine.second,
    TherapyClass.anticonvulsant: TherapyLine.second,
    TherapyClass.ms_dmt: TherapyLine.disease_specific,
}


def therapy_class(csv_class: str) -> TherapyClass | None:
    """The counted class of a ``standard_therapies.csv`` row.

    Every MS DMT sub-class (interferon, S1P modulator, anti-CD20…) counts as one
    class: switching DMTs is disease control, not a separate pain therapy tried.
    Cyclobenzaprine ("muscle relaxant (tricyclic-like)") is not counted: the source
    does not name it among the standard therapies LDN comes after.
    """
    if csv_class.startswith("MS DMT"):
        return TherapyClass.ms_dmt
    try:
        return TherapyClass(csv_class)
    except ValueError:
        return None


_NEUROPATHIC = (TherapyClass.tricyclic, TherapyClass.snri, TherapyClass.gabapentinoid, TherapyClass.anticonvulsant)

# Standard options per condition, in the order a clinician would try them.
STANDARD_OPTIONS: dict[ConditionKind, tuple[TherapyClass, ...]] = {
    ConditionKind.fibromyalgia: (TherapyClass.snri, TherapyClass.gabapentinoid, TherapyClass.tricyclic),
    ConditionKind.multiple_sclerosis: (TherapyClass.ms_dmt, *_NEUROPATHIC),
    ConditionKind.complex_regional_pain_syndrome: _NEUROPATHIC,
    ConditionKind.painful_diabetic_neuropathy: _NEUROPATHIC,
    ConditionKind.neuropathic_corneal_pain: _NEUROPATHIC,
    # Crohn's disease standard care is not in the shipped value sets: no options named.
    ConditionKind.crohns_disease: (),
}
