"""Code tables loaded once from the CSV value sets in ``data/``.

The CSVs are copied unchanged from the project's terminology research
(``shared/terminology``); every code there names its source. Nothing here
adds a code: names used for text matching are read from the same files.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
# Classification is memoised; only ordinary-sized names are, so hostile input cannot fill memory.
MAX_CACHED_TEXT = 2048

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"

# Code systems arrive as URIs, OIDs or legacy spellings; compare on the canonical URI.
_SYSTEM_ALIASES = {
    "urn:oid:2.16.840.1.113883.6.88": RXNORM,
    "http://www.nlm.nih.gov/research/umls/rxnorm/": RXNORM,
    "urn:oid:2.16.840.1.113883.6.96": SNOMED,
    "http://snomed.info/sct/": SNOMED,
    "urn:oid:2.16.840.1.113883.6.90": ICD10CM,
    "http://hl7.org/fhir/sid/icd-10-cm/": ICD10CM,
    "http://www.cms.gov/medicare/coding/icd10": ICD10CM,
}


_CANONICAL = frozenset({RXNORM, SNOMED, ICD10CM, UCUM})


def canonical_system(system: str | None) -> str:
    if not system:
        return ""
    if system in _CANONICAL:  # the common case, on the hot path of every coding read
        return system
    system = system.strip()
    return _SYSTEM_ALIASES.get(system.lower(), _SYSTEM_ALIASES.get(system, system))


def normalise_icd10(code: str) -> str:
    """``G35.A``, ``g35a`` and ``G35A`` all compare as ``G35A``."""
    return code.replace(".", "").strip().upper()


@dataclass(frozen=True, slots=True)
class OpioidProduct:
    ingredients: tuple[str, ...]
    display: str


@dataclass(frozen=True, slots=True)
class TherapyEntry:
    ingredient: str
    drug_class: str
    line: str


# Extended-release and transdermal dose forms, as RxNorm and prescribers write them.
LONG_ACTING_FORM = re.compile(
    r"\b(extended[- ]release|transdermal|patch|\d+\s*hr|er|xr|sr|cr|la|xl|contin|depot)\b",
    re.IGNORECASE,
)

# Opioid agonists that the opioid value sets lack but naltrexone.csv lists inside
# naloxone combinations (tilidine/naloxone, marketed outside the US).
_OPIOIDS_ONLY_IN_COMBINATIONS = ("tilidine",)


@dataclass(frozen=True, slots=True)
class Terminology:
    opioid_codes: dict[str, OpioidProduct]
    # word (ingredient or brand, lower case) -> opioid ingredient(s) it stands for
    opioid_words: dict[str, tuple[str, ...]]
    # brands whose every RxNorm product is extended-release or transdermal (OxyContin, Duragesic)
    long_acting_brands: frozenset[str]
    # brands whose every RxNorm product is a transdermal system (Duragesic, BuTrans): a display to read
    patch_brand_displays: dict[str, str]
    naltrexone_roles: dict[str, str]
    naltrexone_displays: dict[str, str]
    snomed_conditions: dict[str, frozenset[str]]
    icd10_conditions: dict[str, frozenset[str]]
    # (canonical system, code) of diagnoses whose own name says "in remission" (F11.21 …)
    remission_codes: frozenset[tuple[str, str]]
    # (canonical system, code) -> its name in conditions.csv, for a Condition sent as a bare code
    condition_displays: dict[tuple[str, str], str]
    therapy_codes: dict[str, TherapyEntry]
    therapy_words: dict[str, TherapyEntry]


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


_BRAND = re.compile(r"\[([^\]]+)\]")


def _brands(display: str) -> Iterable[str]:
    """Brand names RxNorm writes in brackets: ``... [Percocet]`` -> ``percocet``."""
    for brand in _BRAND.findall(display):
        brand = brand.strip().lower()
        if len(brand) >= 4 and brand.replace(" ", "").isalpha():
            yield brand


_HOURS = re.compile(r"\b(\d{2,3}) HR\b")


def _load_opioids() -> tuple[dict[str, OpioidProduct], dict[str, tuple[str, ...]], frozenset[str], dict[str, str]]:
    codes: dict[str, OpioidProduct] = {}
    words: dict[str, set[str]] = {}
    brand_forms: dict[str, set[bool]] = {}
    brand_displays: dict[str, set[str]] = {}
    for row in _rows("opioids.csv"):
        if row["kind"] == "ingredient_peripheral":
            continue  # loperamide & co. act in the gut; not an opioid exposure here
        ingredients = tuple(sorted(i.strip() for i in row["opioid_ingredient"].split(";") if i.strip()))
        codes[row["code"]] = OpioidProduct(ingredients=ingredients, display=row["display"])
        for ingredient in ingredients:
            words.setdefault(ingredient.lower(), set()).add(ingredient)
        if row["kind"] in {"sbd", "bpck"}:
            for brand in _brands(row["display"]):
                words.setdefault(brand, set()).update(ingredients)
                brand_forms.setdefault(brand, set()).add(bool(LONG_ACTING_FORM.search(row["display"])))
                brand_displays.setdefault(brand, set()).add(row["display"])
    for row in _rows("naltrexone.csv"):
        for opioid in _OPIOIDS_ONLY_IN_COMBINATIONS:
            if opioid in row["display"].lower():
                codes[row["code"]] = OpioidProduct(ingredients=(opioid,), display=row["display"])
                words.setdefault(opioid, set()).add(opioid)
    long_acting_brands = frozenset(brand for brand, forms in brand_forms.items() if forms == {True})
    patch_brands = {
        brand: sorted(displays)[0]
        for brand, displays in brand_displays.items()
        if all("transdermal" in d.lower() for d in displays)
        and len({m.group(1) for d in displays if (m := _HOURS.search(d))} or {""}) == 1
    }
    return codes, {word: tuple(sorted(ings)) for word, ings in words.items()}, long_acting_brands, patch_brands


def _load_naltrexone() -> tuple[dict[str, str], dict[str, str]]:
    roles: dict[str, str] = {}
    displays: dict[str, str] = {}
    for row in _rows("naltrexone.csv"):
        roles[row["code"]] = row["role"]
        displays[row["code"]] = row["display"]
    return roles, displays


# Rows that conditions.csv lists beside a condition group but marks, in its own
# ``subtype`` column, as not being that condition. They are left unclassified.
_NOT_THE_CONDITION_SUBTYPES = frozenset(
    {
        # "misuse indicator, not an OUD diagnosis": an overdose is not a use disorder.
        "opioid poisoning/overdose (misuse indicator, not an OUD diagnosis)",
        # "not typical painful DPN": autonomic neuropathy and mononeuropathy are not the painful
        # distal polyneuropathy LDN was reported in; nor is diabetic amyotrophy (radiculoplexus).
        "other diabetic neuropathy (autonomic/mono; not typical painful DPN)",
        "diabetic lumbosacral radiculoplexus neuropathy (proxy)",
        # Neuropathic corneal pain has no ICD-10-CM code; ocular pain (H57.1x) and "other
        # disorders of cornea" (H18.89x) are far wider. It is recognised by its name only.
        "ocular pain (proxy)",
        "other specified disorders of cornea (proxy)",
        # A history of Crohn's disease is not Crohn's disease now.
        "history of",
    }
)
_IN_REMISSION = re.compile(r"\bin remission\b", re.IGNORECASE)


def _load_conditions() -> tuple[
    dict[str, frozenset[str]], dict[str, frozenset[str]], frozenset[tuple[str, str]], dict[tuple[str, str], str]
]:
    snomed: dict[str, set[str]] = {}
    icd10: dict[str, set[str]] = {}
    remission: set[tuple[str, str]] = set()
    displays: dict[tuple[str, str], str] = {}
    for row in _rows("conditions.csv"):
        if row["subtype"] in _NOT_THE_CONDITION_SUBTYPES:
            continue
        system = canonical_system(row["system"])
        code = normalise_icd10(row["code"]) if system == ICD10CM else row["code"]
        if system == SNOMED:
            snomed.setdefault(code, set()).add(row["condition"])
        elif system == ICD10CM:
            icd10.setdefault(code, set()).add(row["condition"])
        else:
            continue
        if _IN_REMISSION.search(row["display"]):
            remission.add((system, code))
        displays.setdefault((system, code), row["display"])
    return (
        {code: frozenset(v) for code, v in snomed.items()},
        {code: frozenset(v) for code, v in icd10.items()},
        frozenset(remission),
        displays,
    )


def _load_therapies() -> tuple[dict[str, TherapyEntry], dict[str, TherapyEntry]]:
    codes: dict[str, TherapyEntry] = {}
    words: dict[str, TherapyEntry] = {}
    for row in _rows("standard_therapies.csv"):
        entry = TherapyEntry(ingredient=row["ingredient"], drug_class=row["class"], line=row["line"])
        codes[row["code"]] = entry
        if row["kind"] == "ingredient":
            words[row["ingredient"].lower()] = entry
        if row["kind"] in {"sbd", "bpck"}:
            for brand in _brands(row["display"]):
                words.setdefault(brand, entry)
    return codes, words


@cache
def terminology() -> Terminology:
    opioid_codes, opioid_words, long_acting_brands, patch_brand_displays = _load_opioids()
    naltrexone_roles, naltrexone_displays = _load_naltrexone()
    snomed, icd10, remission_codes, condition_displays = _load_conditions()
    therapy_codes, therapy_words = _load_therapies()
    return Terminology(
        opioid_codes=opioid_codes,
        opioid_words=opioid_words,
        long_acting_brands=long_acting_brands,
        patch_brand_displays=patch_brand_displays,
        naltrexone_roles=naltrexone_roles,
        naltrexone_displays=naltrexone_displays,
        snomed_conditions=snomed,
        icd10_conditions=icd10,
        remission_codes=remission_codes,
        condition_displays=condition_displays,
        therapy_codes=therapy_codes,
        therapy_words=therapy_words,
    )
