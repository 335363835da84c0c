"""A generated patient population for the alert-burden benchmark (``bench.alert_burden``).

1,000 patients in a fixed mix, plus every fixture patient as it is:

=====================  =====  ==============================================================
mix                    share  built from
=====================  =====  ==============================================================
no LDN condition        80 %  background only: unrelated conditions and drugs (hypertension,
                              lisinopril, ...) taken from the fixtures; some charts are empty
studied condition        8 %  a fixture story with a condition LDN has been studied in, not
                              on LDN: half refractory (candidates), half not
on LDN                   6 %  an LDN course at one of six stages: starting, mid-titration,
                              at target for 2, 6, 10 and 30 weeks (10 patients each)
opioids                  4 %  a fixture story with a current opioid (oxycodone, tramadol,
                              methadone, buprenorphine, patient-reported codeine)
LDN and opioids          2 %  an LDN stage plus a current opioid from those stories
=====================  =====  ==============================================================

Every resource is a copy of a fixture resource (``fhir_fixtures/``), renamed for its
patient, with its dates moved: no code is written here, so every code in the population
is one the fixtures already use. The LDN stages reuse the three LDN orders of the
``ldn-at-target-5w`` fixture (1.5, 3 and 4.5 mg), authored on the stage's dates.

Dates are relative to ``day0``: each story holds on day 0 exactly as its fixture does on
``FIXTURE_TODAY``. The benchmark keeps the records as they are and moves the service's
clock (days 1 to 56), so the stories age as a real chart would with nothing new in it.

Deterministic: the same ``day0`` and ``seed`` give the same patients, ids and resources.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from devtools.fixtures import patient_resources, patient_slugs, shift_dates

Json = dict[str, Any]

SEED = 20261126
SIZE = 1000
# The mix, in this order; shares of SIZE (exact: 800/80/60/40/20 for 1,000).
MIX: tuple[tuple[str, float], ...] = (
    ("no LDN condition", 0.80),
    ("studied condition", 0.08),
    ("on LDN", 0.06),
    ("opioids", 0.04),
    ("LDN and opioids", 0.02),
)
FIXTURES = "fixtures"

# Background: resources of the fixtures that concern no rule of the service (no condition LDN
# was studied in, no opioid, no naltrexone, no standard pain therapy), by (fixture, resource id).
BACKGROUND: tuple[tuple[str, str], ...] = (
    ("alcohol-use-disorder", "aud-cond-htn"),
    ("alcohol-use-disorder", "aud-mr-lisinopril"),
    ("buprenorphine-naloxone", "bup-cond-mdd"),
    ("buprenorphine-naloxone", "bup-mr-sertraline"),
    ("crps-refractory", "crp-cond-radius-fracture"),
    ("crps-refractory", "crp-ms-ibuprofen"),
    ("fentanyl-patch-ended-12d", "fen-cond-copd"),
    ("fentanyl-patch-ended-12d", "fen-ms-tiotropium"),
    ("fibromyalgia-not-refractory", "fnr-cond-allergic-rhinitis"),
    ("fibromyalgia-not-refractory", "fnr-ms-cetirizine"),
    ("ldn-past-reassessment", "lpr-cond-osa"),
    ("ldn-mid-titration", "ltt-mr-omeprazole"),
    ("methadone-maintenance", "mtd-cond-gerd"),
    ("ms-on-dmt", "msd-cond-vit-d-deficiency"),
    ("ms-on-dmt", "msd-ms-cholecalciferol"),
    ("no-opioids-fibromyalgia-refractory", "nfr-cond-hypothyroidism"),
    ("no-opioids-fibromyalgia-refractory", "nfr-mr-levothyroxine"),
    ("patient-reported-codeine", "cod-cond-bronchitis"),
    ("recent-dispense-tramadol", "trd-cond-t2dm"),
    ("recent-dispense-tramadol", "trd-mr-metformin"),
    ("refuted-and-resolved", "ref-cond-hyperlipidemia"),
    ("refuted-and-resolved", "ref-mr-atorvastatin"),
    ("stopped-opioid-clean", "soc-ms-vitamin-d"),
)


@dataclass(frozen=True)
class Story:
    """A fixture patient's clinical story: its resources, less ``drop``, moved back up to ``jitter_days``."""

    fixture: str
    drop: frozenset[str] = frozenset()
    jitter_days: int = 0  # 0: the story depends on recent dates and is kept as dated


# Studied condition, every standard line tried and failed: patient-view offers LDN (ldn-candidate).
REFRACTORY = (
    Story("no-opioids-fibromyalgia-refractory", jitter_days=180),
    Story("crps-refractory", jitter_days=180),
    Story("neuropathic-corneal-pain", jitter_days=180),
    Story("naloxone-only", jitter_days=180),
    Story("old-completed-opioid-no-supply", jitter_days=180),
)
# Studied condition, standard care not exhausted (or not assessable): patient-view is silent on day 0.
NOT_REFRACTORY = (
    Story("fibromyalgia-not-refractory", jitter_days=180),
    Story("ms-on-dmt", jitter_days=180),
    Story("crohns-on-biologic", jitter_days=180),
    Story("fibromyalgia-standard-started-2d"),  # both lines started 2 days ago: dated as written
)
# A current opioid; dated as written (exposure is about recent days).
OPIOIDS = (
    Story("opioid-active-oxycodone"),
    Story("recent-dispense-tramadol"),
    Story("methadone-maintenance"),
    Story("buprenorphine-naloxone"),
    Story("patient-reported-codeine"),
)
# The condition and history under an LDN course, the fixture's own LDN resources dropped.
LDN_BASES = (
    Story("ldn-at-target-5w", drop=frozenset({"lt5-mr-ldn-1-5", "lt5-mr-ldn-3", "lt5-mr-ldn-4-5"})),
    Story(
        "ldn-past-reassessment",
        drop=frozenset(
            {"lpr-mr-ldn-1-5mg", "lpr-mr-ldn-3mg", "lpr-mr-ldn-4-5mg", "lpr-md-ldn-4-5mg-2026-11-10", "lpr-ms-ldn"}
        ),
    ),
    Story("ldn-mid-titration", drop=frozenset({"ltt-mr-ldn-1-5mg", "ltt-mr-ldn-3mg"})),
)
# The current opioid of an opioid story, added to an LDN course for "LDN and opioids".
OPIOID_PIECES: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "opioid-active-oxycodone",
        frozenset({"oxa-mr-oxycodone-5mg", "oxa-md-oxycodone-2026-10-11", "oxa-md-oxycodone-2026-11-10"}),
    ),
    ("recent-dispense-tramadol", frozenset({"trd-mr-tramadol-50mg", "trd-md-tramadol-2026-11-15"})),
    ("patient-reported-codeine", frozenset({"cod-ms-codeine-promethazine"})),
)

# The LDN orders every course is built from (ldn-at-target-5w), by dose in mg.
LDN_ORDER_FIXTURE = "ldn-at-target-5w"
LDN_ORDERS = {1.5: "lt5-mr-ldn-1-5", 3.0: "lt5-mr-ldn-3", 4.5: "lt5-mr-ldn-4-5"}


def _at_target(weeks: int) -> tuple[tuple[float, int, str], ...]:
    """The usual titration ending ``weeks`` before day 0 at 4.5 mg: 1.5 mg, 3 mg two weeks later, 4.5 mg."""
    reached = -7 * weeks
    return ((1.5, reached - 28, "completed"), (3.0, reached - 14, "completed"), (4.5, reached, "active"))


# Stage -> the LDN orders on record: (dose mg, authoredOn in days from day 0, status).
LDN_STAGES: dict[str, tuple[tuple[float, int, str], ...]] = {
    "starting": ((1.5, 0, "active"),),
    "mid-titration": ((1.5, -21, "completed"), (3.0, -7, "active")),
    "target 2 wk": _at_target(2),
    "target 6 wk": _at_target(6),
    "target 10 wk": _at_target(10),
    "target 30 wk": _at_target(30),
}


@dataclass(frozen=True)
class BenchPatient:
    id: str
    mix: str  # one of MIX's names, or FIXTURES
    subgroup: str  # finer: "studied condition, refractory", "on LDN: target 6 wk", the fixture's name...
    story: str  # the fixture(s) the record was built from
    resources: tuple[Json, ...]


# ---------------------------------------------------------------- copying fixture resources


@cache
def _fixture(slug: str, day0: date) -> tuple[Json, ...]:
    return tuple(patient_resources(slug, day0))


def _fixture_patient_id(slug: str, day0: date) -> str:
    return next(r["id"] for r in _fixture(slug, day0) if r["resourceType"] == "Patient")


def _rename(value: Any, ids: dict[str, str], old_patient: str, new_patient: str) -> Any:
    """References to the old patient, and to resources renamed in ``ids``, point at the new ones (in place)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and "/" in item:
                kind, _, target = item.partition("/")
                if kind == "Patient" and target == old_patient:
                    value[key] = f"Patient/{new_patient}"
                elif target in ids:
                    value[key] = f"{kind}/{ids[target]}"
            else:
                _rename(item, ids, old_patient, new_patient)
    elif isinstance(value, list):
        for item in value:
            _rename(item, ids, old_patient, new_patient)
    return value


def _copy(slug: str, day0: date, patient_id: str, resources: Iterable[Json], shift: int = 0) -> list[Json]:
    """Copies of ``resources`` of fixture ``slug`` for ``patient_id``: ids prefixed, references followed,
    dates moved by ``shift`` days."""
    chosen = [r for r in resources if r["resourceType"] != "Patient"]
    ids = {r["id"]: f"{patient_id}-{r['id']}" for r in chosen}
    copies = []
    for resource in chosen:
        moved = shift_dates(resource, shift) if shift else copy.deepcopy(resource)
        moved["id"] = ids[resource["id"]]
        copies.append(_rename(moved, ids, _fixture_patient_id(slug, day0), patient_id))
    return copies


def _story(story: Story, day0: date, patient_id: str, rng: random.Random) -> list[Json]:
    shift = -rng.randint(0, story.jitter_days) if story.jitter_days else 0
    kept = [r for r in _fixture(story.fixture, day0) if r["id"] not in story.drop]
    return _copy(story.fixture, day0, patient_id, kept, shift)


def _pieces(slug: str, ids: Iterable[str], day0: date, patient_id: str) -> list[Json]:
    wanted = set(ids)
    found = [r for r in _fixture(slug, day0) if r["id"] in wanted]
    assert len(found) == len(wanted), f"{slug}: missing {wanted - {r['id'] for r in found}}"
    # Medications they reference travel with them.
    referenced = {_medication_id(r) for r in found} - {None}
    found += [r for r in _fixture(slug, day0) if r["resourceType"] == "Medication" and r["id"] in referenced]
    return _copy(slug, day0, patient_id, found)


def _medication_id(resource: Json) -> str | None:
    reference = resource.get("medicationReference", {}).get("reference", "")
    return reference.removeprefix("Medication/") if reference.startswith("Medication/") else None


def _background(day0: date, patient_id: str, rng: random.Random, most: int, story: Iterable[Json] = ()) -> list[Json]:
    """Up to ``most`` background resources, each moved back up to two years; none the story already has."""
    have = {r["id"] for r in story}
    chosen = sorted(rng.sample(range(len(BACKGROUND)), rng.randint(0, most)))
    resources = []
    for index in chosen:
        slug, resource_id = BACKGROUND[index]
        shift = -rng.randint(0, 720)
        if f"{patient_id}-{resource_id}" not in have:
            resources += _copy(
                slug, day0, patient_id, [r for r in _fixture(slug, day0) if r["id"] == resource_id], shift
            )
    return resources


def _ldn_course(stage: str, day0: date, patient_id: str) -> list[Json]:
    templates = {r["id"]: r for r in _fixture(LDN_ORDER_FIXTURE, day0)}
    orders = []
    for dose, offset, status in LDN_STAGES[stage]:
        template = templates[LDN_ORDERS[dose]]
        order = copy.deepcopy(template)
        order["id"] = f"{patient_id}-ldn-{dose:g}mg".replace(".", "-")
        order["status"] = status
        order["authoredOn"] = (day0 + timedelta(days=offset)).isoformat()
        order["subject"] = {"reference": f"Patient/{patient_id}"}
        orders.append(order)
    return orders


def _patient(patient_id: str, rng: random.Random) -> Json:
    born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 64 * 365))
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "gender": rng.choice(("female", "male")),
        "birthDate": born.isoformat(),
    }


# ---------------------------------------------------------------- the population


def mix_counts(size: int = SIZE) -> dict[str, int]:
    counts = {name: round(share * size) for name, share in MIX}
    assert sum(counts.values()) == size, counts
    return counts


def population(day0: date, *, seed: int = SEED, size: int = SIZE) -> list[BenchPatient]:
    """The generated patients (ids ``burden-0001``...) in a seeded order, then every fixture patient."""
    rng = random.Random(seed)
    counts = mix_counts(size)
    plan: list[tuple[str, int]] = [(mix, n) for mix, count in counts.items() for n in range(count)]
    rng.shuffle(plan)  # groups interleaved: no subgroup lines up with any periodic choice downstream
    patients = []
    for number, (mix, n) in enumerate(plan, start=1):
        patient_id = f"burden-{number:04d}"
        resources = [_patient(patient_id, rng)]
        if mix == "no LDN condition":
            subgroup, story = "no LDN condition", "background only"
            resources += _background(day0, patient_id, rng, most=4)
        elif mix == "studied condition":
            refractory = n % 2 == 0
            stories = REFRACTORY if refractory else NOT_REFRACTORY
            chosen = stories[(n // 2) % len(stories)]
            subgroup = "studied condition, " + ("refractory" if refractory else "not refractory")
            story = chosen.fixture
            resources += _story(chosen, day0, patient_id, rng)
            resources += _background(day0, patient_id, rng, most=2, story=resources)
        elif mix == "on LDN":
            stage = list(LDN_STAGES)[n % len(LDN_STAGES)]
            base = LDN_BASES[(n // len(LDN_STAGES)) % len(LDN_BASES)]
            subgroup, story = f"on LDN: {stage}", base.fixture
            resources += _story(base, day0, patient_id, rng) + _ldn_course(stage, day0, patient_id)
            resources += _background(day0, patient_id, rng, most=2, story=resources)
        elif mix == "opioids":
            chosen = OPIOIDS[n % len(OPIOIDS)]
            subgroup, story = "opioids", chosen.fixture
            resources += _story(chosen, day0, patient_id, rng)
            resources += _background(day0, patient_id, rng, most=2, story=resources)
        else:  # LDN and opioids
            stage = list(LDN_STAGES)[n % len(LDN_STAGES)]
            base = LDN_BASES[n % len(LDN_BASES)]
            opioid_slug, opioid_ids = OPIOID_PIECES[n % len(OPIOID_PIECES)]
            subgroup, story = "LDN and opioids", f"{base.fixture} + {opioid_slug}"
            resources += _story(base, day0, patient_id, rng) + _ldn_course(stage, day0, patient_id)
            resources += _pieces(opioid_slug, opioid_ids, day0, patient_id)
            resources += _background(day0, patient_id, rng, most=2, story=resources)
        patients.append(BenchPatient(patient_id, mix, subgroup, story, tuple(resources)))
    for slug in patient_slugs():
        fixture = _fixture(slug, day0)
        patients.append(BenchPatient(_fixture_patient_id(slug, day0), FIXTURES, FIXTURES, slug, copy.deepcopy(fixture)))
    return patients
