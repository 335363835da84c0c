"""What a medication is: opioid, naltrexone product, or standard therapy for LDN conditions.

Recognition order: RxNorm code first (from the shipped value sets), then names in
``text``/``display`` — compounded LDN and patient-reported statements often carry
no code, and unknown codes must not hide a known drug name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

from app.knowledge.terminology import LONG_ACTING_FORM, MAX_CACHED_TEXT, TherapyEntry, terminology


class NaltrexoneProduct(StrEnum):
    """Naltrexone therapy as coded or named; the dose decides LDN vs standard later."""

    unspecified = "unspecified"  # ingredient-level code or name (compounded LDN lands here)
    oral_50mg = "oral-50mg"
    er_injectable_380mg = "er-injectable-380mg"
    bupropion_combination = "naltrexone-bupropion"


_NALTREXONE_ROLE_TO_PRODUCT = {
    "naltrexone": NaltrexoneProduct.unspecified,
    "naltrexone_oral_50mg": NaltrexoneProduct.oral_50mg,
    "naltrexone_er_injectable_380mg": NaltrexoneProduct.er_injectable_380mg,
    "naltrexone_bupropion_er": NaltrexoneProduct.bupropion_combination,
}


class Depot(StrEnum):
    """An opioid product whose one application keeps acting for days after it is given."""

    patch = "transdermal patch"  # worn for the hours its name states ("72 HR … Transdermal System")
    injection = "extended-release injection"  # depot buprenorphine (Sublocade, Brixadi)
    implant = "implant"  # buprenorphine implant


class OpioidClass(StrEnum):
    """Which opioid-free window applies before naltrexone (see ``ClinicalSettings``)."""

    short_acting = "short-acting"
    # The FDA naltrexone label names these two: "as long as 2 weeks".
    methadone_buprenorphine = "methadone or buprenorphine"
    extended_release = "extended-release or transdermal"


_AGONIST_THERAPY_INGREDIENTS = frozenset({"methadone", "buprenorphine", "levomethadyl", "levomethadone"})
_NALTREXONE_WORD = re.compile(r"\b(naltrexone|revia|vivitrol|contrave|ldn|low[- ]dose naltrexone)\b", re.I)
_BUPROPION_WORD = re.compile(r"\b(bupropion|contrave)\b", re.I)
# An injection is told by its route or dose form (injection, injectable, intramuscular, IM) or the
# brand, never by "suspension": compounded LDN is often an oral suspension.
_INJECTABLE_WORD = re.compile(r"\b(vivitrol|injections?|injectable|intramuscular(?:ly)?|inj)\b|\bIM\b", re.I)
_ORAL_WORD = re.compile(r"\b(oral|by mouth|po|sublingual)\b", re.I)


@dataclass(frozen=True, slots=True)
class DrugProfile:
    """Everything the rules need to know about one medication."""

    opioid_ingredients: tuple[str, ...] = ()
    opioid_class: OpioidClass | None = None  # set exactly when opioid_ingredients is
    naltrexone: NaltrexoneProduct | None = None
    therapies: tuple[TherapyEntry, ...] = ()
    code_display: str | None = None  # the value sets' name for its code, for records with no text
    depot: Depot | None = None  # opioids only: one application acts for days
    depot_hours: int | None = None  # a patch's stated wear time ("72 HR"), when its name gives one

    @property
    def is_opioid(self) -> bool:
        return bool(self.opioid_ingredients)


NOT_A_KNOWN_DRUG = DrugProfile()


def _word_pattern(words: Iterable[str]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(w) for w in words), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(alternatives) + r")\b", re.IGNORECASE)


@cache
def _opioid_pattern() -> re.Pattern[str]:
    return _word_pattern(terminology().opioid_words)


@cache
def _therapy_pattern() -> re.Pattern[str]:
    return _word_pattern(terminology().therapy_words)


def classify_medication(rxnorm_codes: Sequence[str], names: Sequence[str]) -> DrugProfile:
    """Classify one medication from its RxNorm codes and every name it carries."""
    key_codes, key_names = tuple(rxnorm_codes), tuple(names)
    if sum(map(len, key_names)) > MAX_CACHED_TEXT:
        return _classify.__wrapped__(key_codes, key_names)  # too big to keep in the cache
    return _classify(key_codes, key_names)


# A patient's record repeats the same few drugs many times; classification is pure.
@lru_cache(maxsize=8192)
def _classify(rxnorm_codes: tuple[str, ...], names: tuple[str, ...]) -> DrugProfile:
    terms = terminology()
    text = " | ".join(n for n in names if n)

    opioid_ingredients: set[str] = set()
    naltrexone: NaltrexoneProduct | None = None
    therapies: dict[str, TherapyEntry] = {}
    code_displays: list[str] = []

    for code in rxnorm_codes:
        if product := terms.opioid_codes.get(code):
            opioid_ingredients.update(product.ingredients)
            code_displays.append(product.display)
        if role := terms.naltrexone_roles.get(code):
            if role in _NALTREXONE_ROLE_TO_PRODUCT:
                naltrexone = _NALTREXONE_ROLE_TO_PRODUCT[role]
            code_displays.append(terms.naltrexone_displays[code])
        if entry := terms.therapy_codes.get(code):
            therapies[entry.ingredient] = entry

    long_acting_brand = False
    if text:
        for match in _opioid_pattern().finditer(text):
            word = match.group(1).lower()
            opioid_ingredients.update(terms.opioid_words[word])
            long_acting_brand = long_acting_brand or word in terms.long_acting_brands
            if word in terms.patch_brand_displays:
                code_displays.append(terms.patch_brand_displays[word])  # its form and wear time
        if naltrexone is None and _NALTREXONE_WORD.search(text):
            naltrexone = _naltrexone_product_from_text(text)
        for match in _therapy_pattern().finditer(text):
            entry = terms.therapy_words[match.group(1).lower()]
            therapies.setdefault(entry.ingredient, entry)

    if opioid_ingredients:
        # Morphine/naltrexone (Embeda) is an opioid agonist product: the naltrexone is
        # sequestered. Any product with an opioid agonist is an opioid, not naltrexone therapy.
        naltrexone = None

    opioid_class: OpioidClass | None = None
    if opioid_ingredients & _AGONIST_THERAPY_INGREDIENTS:
        opioid_class = OpioidClass.methadone_buprenorphine
    elif opioid_ingredients and (long_acting_brand or LONG_ACTING_FORM.search(" | ".join([text, *code_displays]))):
        opioid_class = OpioidClass.extended_release
    elif opioid_ingredients:
        opioid_class = OpioidClass.short_acting
    if not (opioid_ingredients or naltrexone or therapies):
        return NOT_A_KNOWN_DRUG
    depot, depot_hours = _depot(" | ".join([text, *code_displays])) if opioid_ingredients else (None, None)
    return DrugProfile(
        opioid_ingredients=tuple(sorted(opioid_ingredients)),
        opioid_class=opioid_class,
        depot=depot,
        depot_hours=depot_hours,
        code_display=code_displays[0] if code_displays else None,
        naltrexone=naltrexone,
        therapies=tuple(therapies.values()),
    )


_PATCH = re.compile(r"\b(transdermal|patch(?:es)?)\b", re.I)
_WEAR_HOURS = re.compile(r"\b(\d{2,3})\s*(?:HR|hours?)\b", re.I)
_DEPOT_INJECTION = re.compile(
    r"\b(sublocade|brixadi)\b|\b(extended[- ]release|ER)\b.*\binjection\b|\bprefilled syringe\b.*\b(sublocade|brixadi)\b",
    re.I,
)
_IMPLANT = re.compile(r"\b(implant|probuphine)\b", re.I)


def _depot(text: str) -> tuple[Depot | None, int | None]:
    """Patches (with their wear hours when named), depot injections and implants."""
    if _IMPLANT.search(text):
        return Depot.implant, None
    if _DEPOT_INJECTION.search(text):
        return Depot.injection, None
    if _PATCH.search(text):
        hours = _WEAR_HOURS.search(text)
        return Depot.patch, int(hours.group(1)) if hours else None
    return None, None


def _naltrexone_product_from_text(text: str) -> NaltrexoneProduct:
    if _BUPROPION_WORD.search(text):
        return NaltrexoneProduct.bupropion_combination
    if is_injectable([text]):
        return NaltrexoneProduct.er_injectable_380mg
    return NaltrexoneProduct.unspecified


def is_injectable(words: Sequence[str]) -> bool:
    """Route or dose-form words that say injection and not by mouth ("oral suspension" is oral)."""
    text = " | ".join(words)
    return bool(_INJECTABLE_WORD.search(text)) and not _ORAL_WORD.search(text)
