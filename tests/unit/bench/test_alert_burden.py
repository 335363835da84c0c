"""The alert-burden benchmark's population and its count of returns (``bench/population.py``,
``bench/alert_burden.py``): the mix is exact, the build deterministic, and nothing in it invents a code."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import orjson

from bench.alert_burden import Override, Returns
from bench.population import FIXTURES, LDN_STAGES, population
from devtools.fixtures import ROOT, patient_slugs

DAY0 = date(2027, 3, 15)


def _codings(value: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        if "code" in value and "system" in value and isinstance(value["code"], str):
            found.add((value["system"], value["code"]))
        for item in value.values():
            found |= _codings(item)
    elif isinstance(value, list):
        for item in value:
            found |= _codings(item)
    return found


def test_population_mix_is_exact_and_ids_distinct() -> None:
    patients = population(DAY0)
    assert Counter(p.mix for p in patients) == {
        "no LDN condition": 800,
        "studied condition": 80,
        "on LDN": 60,
        "opioids": 40,
        "LDN and opioids": 20,
        FIXTURES: len(patient_slugs()),
    }
    subgroups = Counter(p.subgroup for p in patients)
    assert subgroups["studied condition, refractory"] == subgroups["studied condition, not refractory"] == 40
    assert all(subgroups[f"on LDN: {stage}"] == 10 for stage in LDN_STAGES)
    assert {p.story for p in patients if p.mix == FIXTURES} == set(patient_slugs())

    assert len({p.id for p in patients}) == len(patients)
    for patient in patients:
        ids = [(r["resourceType"], r["id"]) for r in patient.resources]
        assert len(set(ids)) == len(ids), patient.id
        assert [r["id"] for r in patient.resources if r["resourceType"] == "Patient"] == [patient.id]
        references = {r[key]["reference"] for r in patient.resources for key in ("subject", "patient") if key in r}
        assert references <= {f"Patient/{patient.id}"}, (patient.id, references)


def test_population_is_deterministic_and_uses_only_fixture_codes() -> None:
    first, second = population(DAY0), population(DAY0)
    assert orjson.dumps([(p.id, p.subgroup, p.resources) for p in first]) == orjson.dumps(
        [(p.id, p.subgroup, p.resources) for p in second]
    )
    known: set[tuple[str, str]] = set()
    for path in (ROOT / "patients").glob("*.json"):
        known |= _codings(orjson.loads(path.read_bytes()))
    used = set().union(*(_codings(list(p.resources)) for p in first))
    assert used <= known, used - known


def test_returns_count_inside_the_snooze_period_only() -> None:
    returns = Returns()
    returns.add(Override("p1", "ldn-candidate", day=7, snooze_days=30))
    returns.see("p1", 7, {"ldn-candidate"})  # the call that showed it: not a return
    returns.see("p1", 14, {"ldn-candidate"})  # back after 7 days: inside
    returns.see("p1", 28, set())  # inside, not shown
    returns.see("p1", 56, {"ldn-candidate"})  # 49 days on: after the period
    returns.see("p2", 14, {"ldn-candidate"})  # another patient
    assert (returns.in_window_calls, returns.returned) == (2, 1)
    assert (returns.after_expiry_calls, returns.after_expiry) == (1, 1)
    assert returns.overrides[0].later_in_window == 2 and returns.overrides[0].returned_in_window == 1
