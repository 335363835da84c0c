"""Which medications are opioids and which are naltrexone therapy (issue: Knowledge).

An opioid is an agonist or partial agonist product, recognised by RxNorm code or,
when the code is missing or unknown, by name (brand names included). Antagonists
alone are not opioids; combination products that contain an opioid are.
"""

from __future__ import annotations

import pytest

from app.knowledge.medications import NaltrexoneProduct, OpioidClass
from app.knowledge.terminology import RXNORM, canonical_system
from tests.support.fhir import RXNORM_OID, concept
from tests.support.records import drug_of

# --- recognised by RxNorm code alone (no text, no display) -------------------------------

OPIOID_RXNORM_CODES = {
    "1049621": "oxycodone 5 mg tablet",
    "857002": "hydrocodone/acetaminophen tablet",
    "835603": "tramadol 50 mg tablet",
    "825409": "tapentadol 100 mg tablet",
    "991147": "methadone 10 mg/mL oral solution",
    "1010604": "buprenorphine/naloxone sublingual film",
    "245134": "fentanyl 25 mcg/hr transdermal system",
    "991486": "codeine/promethazine antitussive solution",
    "1087463": "hydrocodone/chlorpheniramine antitussive (Tussionex)",
    "1049640": "Percocet 5/325 (branded)",
    "863850": "morphine/naltrexone ER capsule",
    "7804": "oxycodone (ingredient)",
}


@pytest.mark.parametrize("code", OPIOID_RXNORM_CODES, ids=list(OPIOID_RXNORM_CODES.values()))
def test_an_opioid_is_recognised_by_its_rxnorm_code_alone(code):
    assert drug_of(concept(code=code)).is_opioid


@pytest.mark.parametrize("code", ["1049621", "245134"])
def test_an_opioid_code_is_recognised_when_rxnorm_is_written_as_its_oid(code):
    assert drug_of(concept(code=code, system=RXNORM_OID)).is_opioid


def test_the_rxnorm_oid_and_uri_are_the_same_code_system():
    assert canonical_system("urn:oid:2.16.840.1.113883.6.88") == RXNORM
    assert canonical_system(RXNORM) == RXNORM


def test_a_code_from_another_system_is_not_read_as_rxnorm():
    # 7804 is oxycodone in RxNorm; here it is just a number in a local code system.
    assert not drug_of(
        concept(code="7804", system="http://ehr.test/local-drug-codes", display="Lisinopril 10 mg")
    ).is_opioid


# --- recognised by name when codes are missing or unknown --------------------------------

OPIOID_NAMES = [
    "oxycodone 5 mg tablet",
    "OXYCODONE HCL 5MG TAB",
    "Percocet 5/325 mg tablet",
    "Norco 10-325 mg tablet",
    "Vicodin 5/300",
    "Tylenol with Codeine #3",
    "promethazine with codeine syrup 5 mL at night",
    "Tussionex 5 mL every 12 hours",
    "hydromorphone 2 mg tablet",
    "Dilaudid 4 mg",
    "methadone 10 mg tablet",
    "Suboxone 8 mg-2 mg sublingual film",
    "buprenorphine/naloxone 8/2 mg film",
    "Butrans 10 mcg/hr patch",
    "fentanyl 25 mcg/hr transdermal patch",
    "Duragesic 50 mcg/hr",
    "tramadol 50 mg",
    "Ultram 50 mg tablet",
    "tapentadol 50 mg",
    "Nucynta 75 mg",
    "MS Contin 15 mg",
    "OxyContin 20 mg tablet",
]


@pytest.mark.parametrize("name", OPIOID_NAMES)
def test_an_opioid_without_a_code_is_recognised_by_its_name(name):
    assert drug_of(concept(name)).is_opioid


@pytest.mark.parametrize("name", ["hydromorphone 2 mg tablet", "Percocet 10/325"])
def test_an_opioid_with_an_unknown_code_is_recognised_by_its_name(name):
    assert drug_of(concept(name, code="99999999", display=name)).is_opioid


def test_an_opioid_named_only_in_the_coding_display_is_recognised():
    assert drug_of({"coding": [{"system": RXNORM, "display": "oxycodone hydrochloride 5 MG Oral Tablet"}]}).is_opioid


def test_a_coding_given_as_a_single_object_instead_of_a_list_is_still_read():
    assert drug_of({"coding": {"system": RXNORM, "code": "1049621"}}).is_opioid


# --- combination products ----------------------------------------------------------------


@pytest.mark.parametrize(
    "medication",
    [
        concept(code="863850"),
        concept("Embeda 30 mg/1.2 mg capsule"),
        concept("morphine sulfate/naltrexone ER 20-0.8 mg capsule"),
    ],
    ids=["morphine-naltrexone code", "Embeda by brand", "morphine/naltrexone by name"],
)
def test_morphine_with_sequestered_naltrexone_is_an_opioid_and_not_naltrexone_therapy(medication):
    drug = drug_of(medication)
    assert drug.is_opioid
    assert drug.naltrexone is None


@pytest.mark.parametrize(
    "medication",
    [concept(code="411499"), concept("tilidine 50 mg / naloxone 4 mg capsule (Valoron N)")],
    ids=["tilidine-naloxone code", "tilidine-naloxone by name"],
)
def test_tilidine_with_naloxone_is_an_opioid(medication):
    # Tilidine is an opioid agonist; the naloxone only deters injection misuse.
    assert drug_of(medication).is_opioid


@pytest.mark.parametrize(
    "medication",
    [
        concept(code="1010604"),
        concept("Zubsolv 5.7/1.4 mg sublingual tablet"),
        concept("buprenorphine and naloxone film"),
    ],
    ids=["code", "Zubsolv by brand", "by name"],
)
def test_buprenorphine_with_naloxone_is_an_opioid(medication):
    assert drug_of(medication).is_opioid


# --- not opioids -------------------------------------------------------------------------

NOT_OPIOIDS = {
    "naloxone nasal spray (code)": concept(code="1725059"),
    "Narcan nasal spray": concept("Narcan 4 mg nasal spray"),
    "naloxone injection": concept("naloxone 0.4 mg/mL injection"),
    "nalmefene nasal spray": concept("nalmefene 2.7 mg nasal spray", code="2639721"),
    "methylnaltrexone tablet (code)": concept(code="1801514"),
    "methylnaltrexone by name": concept("methylnaltrexone bromide 150 mg tablet"),
    "Relistor injection": concept("Relistor 12 mg/0.6 mL subcutaneous injection"),
    "loperamide (code)": concept(code="6468"),
    "loperamide by name": concept("Loperamide 2 mg capsule"),
    "Imodium by brand": concept("Imodium A-D 2 mg"),
    "lisinopril": concept("Lisinopril 10 MG Oral Tablet"),
    "dextromethorphan cough syrup": concept("dextromethorphan 10 mg/5 mL syrup"),
    "Robitussin DM": concept("Robitussin DM 10 mL every 4 hours"),
    "Tylenol without codeine": concept("Tylenol 500 mg tablet"),
    "gabapentin": concept("gabapentin 300 mg capsule", code="310431"),
}


@pytest.mark.parametrize("medication", NOT_OPIOIDS.values(), ids=list(NOT_OPIOIDS))
def test_antagonists_peripheral_agents_and_other_drugs_are_not_opioid_exposure(medication):
    assert not drug_of(medication).is_opioid


@pytest.mark.parametrize(
    "medication",
    [concept(code="1801514"), concept("methylnaltrexone bromide 150 mg tablet"), concept("Relistor 12 mg injection")],
    ids=["code", "name", "brand"],
)
def test_methylnaltrexone_is_not_naltrexone(medication):
    assert drug_of(medication).naltrexone is None


@pytest.mark.parametrize(
    "medication", [concept(code="1725059"), concept("naloxone 4 mg nasal spray")], ids=["code", "name"]
)
def test_naloxone_is_not_naltrexone(medication):
    assert drug_of(medication).naltrexone is None


# --- naltrexone products -------------------------------------------------------------------

NALTREXONE_PRODUCTS = {
    "compounded LDN, text only": concept("Naltrexone 4.5 mg capsule (compounded)"),
    "LDN abbreviation": concept("LDN 1.5 mg capsule at bedtime"),
    "low-dose naltrexone spelled out": concept("Low-dose naltrexone 3 mg"),
    "low dose naltrexone without hyphen": concept("low dose naltrexone 4.5mg"),
    "naltrexone ingredient code": concept(code="7243"),
    "naltrexone ingredient code as OID": concept(code="7243", system=RXNORM_OID),
    "50 mg tablet": concept(code="1483744"),
    "380 mg injectable": concept(code="637213"),
    "naltrexone/bupropion": concept(code="1551468"),
    "Vivitrol by brand": concept("Vivitrol 380 mg IM injection"),
    "Revia by brand": concept("ReVia 50 mg tablet"),
    "Contrave by brand": concept("Contrave 8 mg/90 mg ER tablet"),
}


@pytest.mark.parametrize("medication", NALTREXONE_PRODUCTS.values(), ids=list(NALTREXONE_PRODUCTS))
def test_naltrexone_products_are_naltrexone_and_not_opioids(medication):
    drug = drug_of(medication)
    assert drug.naltrexone is not None
    assert not drug.is_opioid


@pytest.mark.parametrize(
    ("medication", "product"),
    [
        (concept(code="1483744"), NaltrexoneProduct.oral_50mg),
        (concept(code="637213"), NaltrexoneProduct.er_injectable_380mg),
        (concept(code="1551468"), NaltrexoneProduct.bupropion_combination),
        (concept("Vivitrol 380 mg IM injection"), NaltrexoneProduct.er_injectable_380mg),
        (concept("Contrave 8 mg/90 mg ER tablet"), NaltrexoneProduct.bupropion_combination),
    ],
    ids=["50 mg tablet code", "380 mg injectable code", "naltrexone/bupropion code", "Vivitrol name", "Contrave name"],
)
def test_named_naltrexone_products_are_told_apart(medication, product):
    assert drug_of(medication).naltrexone is product


# --- short- vs long-acting (decides the opioid-free interval) ------------------------------

AGONIST_THERAPY = {
    "methadone solution (code)": concept(code="991147"),
    "methadone by name": concept("methadone 10 mg tablet"),
    "buprenorphine/naloxone film (code)": concept(code="1010604"),
    "Suboxone by brand": concept("Suboxone 8 mg-2 mg film"),
    "buprenorphine patch by brand": concept("Butrans 10 mcg/hr"),
}

EXTENDED_RELEASE = {
    "fentanyl patch (code)": concept(code="245134"),
    "fentanyl patch by name": concept("fentanyl 25 mcg/hr transdermal patch"),
    "Duragesic by brand": concept("Duragesic 50 mcg/hr"),
    "OxyContin (code)": concept(code="1049504"),
    "OxyContin by brand": concept("OxyContin 20 mg tablet"),
    "extended-release morphine by name": concept("morphine sulfate extended-release 30 mg tablet"),
    "MS Contin by brand": concept("MS Contin 15 mg"),
    "tramadol ER by name": concept("tramadol ER 100 mg tablet"),
}

SHORT_ACTING = {
    "oxycodone IR (code)": concept(code="1049621"),
    "tramadol (code)": concept(code="835603"),
    "Percocet by brand": concept("Percocet 5/325 mg tablet"),
    "hydrocodone/APAP by name": concept("hydrocodone/acetaminophen 5/325 mg tablet"),
    "codeine syrup (code)": concept(code="991486"),
    "fentanyl buccal lozenge": concept("Actiq 200 mcg fentanyl lozenge"),
}


@pytest.mark.parametrize("medication", AGONIST_THERAPY.values(), ids=list(AGONIST_THERAPY))
def test_methadone_and_buprenorphine_in_any_form_get_the_labels_two_week_class(medication):
    drug = drug_of(medication)
    assert drug.is_opioid
    assert drug.opioid_class is OpioidClass.methadone_buprenorphine


@pytest.mark.parametrize("medication", EXTENDED_RELEASE.values(), ids=list(EXTENDED_RELEASE))
def test_other_extended_release_and_transdermal_opioids_are_their_own_class(medication):
    drug = drug_of(medication)
    assert drug.is_opioid
    assert drug.opioid_class is OpioidClass.extended_release


@pytest.mark.parametrize("medication", SHORT_ACTING.values(), ids=list(SHORT_ACTING))
def test_immediate_release_opioids_are_short_acting(medication):
    drug = drug_of(medication)
    assert drug.is_opioid
    assert drug.opioid_class is OpioidClass.short_acting
