"""Which standard therapies the record shows were tried, and whether that makes LDN's turn."""

from __future__ import annotations

from app.clinical_settings import ClinicalSettings
from app.fhir.record import MedicationSource, PatientRecord
from app.knowledge.therapies import TherapyClass, therapy_class
from app.rules.findings import TriedAgent

# Prescriptions and patient statements show a therapy was tried; dispenses add nothing new.
_HISTORY_SOURCES = frozenset({MedicationSource.request, MedicationSource.statement})


def tried_standard_agents(record: PatientRecord) -> tuple[TriedAgent, ...]:
    """One entry per ingredient, with the latest date it was seen (any status but entered-in-error)."""
    latest: dict[str, TriedAgent] = {}
    for use in record.medications:
        if use.source not in _HISTORY_SOURCES:
            continue
        for entry in use.drug.therapies:
            counted = therapy_class(entry.drug_class)
            if counted is None:
                continue
            seen = latest.get(entry.ingredient)
            if seen is None or (use.started and (seen.last_seen is None or use.started > seen.last_seen)):
                latest[entry.ingredient] = TriedAgent(entry.ingredient, counted, use.started)
    return tuple(sorted(latest.values(), key=lambda a: a.ingredient))


def tried_classes(agents: tuple[TriedAgent, ...]) -> frozenset[TherapyClass]:
    return frozenset(a.therapy_class for a in agents)


def is_refractory(agents: tuple[TriedAgent, ...], clinical: ClinicalSettings) -> bool:
    """Refractory = standard agents from at least N different classes tried (N is a setting)."""
    return len(tried_classes(agents)) >= clinical.refractory_min_agents
