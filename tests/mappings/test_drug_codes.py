"""Product-level RxNorm codes (SCD/SBD/packs) resolve to their ingredients.

The code lists are read from the shared Trialjectory file through the
`product_code_lists` fixture; nothing is copied here. Known contaminations of
that file (documented in mappings/drugs.yaml) are asserted explicitly.
"""

from __future__ import annotations

import pytest

from mappings import build_patient_state, read_draft_orders
from tests.mappings.builders import PID, RXNORM, cc, coding, med_statement, patient

# shared-list key -> the ingredient every product must resolve to
PATHWAY_LISTS = {
    "anastrozole": "anastrozole", "Arimidex": "anastrozole", "exemestane": "exemestane",
    "letrozole": "letrozole", "Femara": "letrozole", "tamoxifen": "tamoxifen", "toremifene": "toremifene",
    "fulvestrant": "fulvestrant", "palbociclib": "palbociclib", "ribociclib": "ribociclib",
    "abemaciclib": "abemaciclib", "alpelisib": "alpelisib", "everolimus": "everolimus",
    "olaparib": "olaparib", "talazoparib": "talazoparib",
    "trastuzumab_deruxtecan_conjugate": "trastuzumab deruxtecan",
    "sacituzumab_govitecan_hziy": "sacituzumab govitecan", "capecitabine": "capecitabine",
    "Xeloda": "capecitabine", "docetaxel": "docetaxel", "eribulin": "eribulin", "doxorubicin": "doxorubicin",
    "adriamycin": "doxorubicin", "epirubicin": "epirubicin", "Ellence": "epirubicin",
    "gemcitabine": "gemcitabine", "vinorelbine": "vinorelbine", "cyclophosphamide": "cyclophosphamide",
    "carboplatin": "carboplatin", "cisplatin": "cisplatin", "ixabepilone": "ixabepilone",
    "goserelin": "goserelin", "Goserelin": "goserelin", "leuprolide": "leuprolide", "Lupron": "leuprolide",
    "triptorelin": "triptorelin", "zoledronic_acid": "zoledronic acid", "denosumab": "denosumab",
    "pamidronate": "pamidronate",
}
TRASTUZUMAB_INGREDIENT = "224905"  # plain trastuzumab, listed inside the shared T-DXd list
LOOKS_LIKE_ANOTHER_DRUG = {("Femara", "317541"), ("everolimus", "317541")}


def resolve_all(codes):
    stmts = [med_statement(c, "2021-01-01", rid=f"m{i}") for i, c in enumerate(codes)]
    state = build_patient_state([patient(), *stmts], PID)
    out = {c: set() for c in codes}
    by_ref = {f"MedicationStatement/m{i}": c for i, c in enumerate(codes)}
    for e in state.therapy.exposures:
        out[by_ref[e.sources[0].reference]] |= {d.name for d in e.drugs}
    return out


@pytest.mark.parametrize("key", sorted(PATHWAY_LISTS))
def test_every_product_code_of_a_pathway_drug_resolves_to_its_ingredient(key, product_code_lists):
    codes = [c for c in product_code_lists[key]["RxNorm"] if c.isdigit()]
    assert codes, key
    expected = PATHWAY_LISTS[key]
    resolved = resolve_all(codes)
    for code, names in resolved.items():
        if (key, code) in LOOKS_LIKE_ANOTHER_DRUG:
            assert expected not in names
            continue
        if key == "trastuzumab_deruxtecan_conjugate" and code == TRASTUZUMAB_INGREDIENT:
            assert "trastuzumab deruxtecan" not in names
            continue
        assert expected in names, f"{key}: RxCUI {code} resolved to {names or 'nothing'}"


def test_paclitaxel_and_abraxane_products_resolve_to_a_paclitaxel_taxane(product_code_lists):
    codes = {c for k in ("paclitaxel", "abraxane") for c in product_code_lists[k]["RxNorm"]}
    state = build_patient_state([patient(), *[med_statement(c, "2021-01-01") for c in codes]], PID)
    assert len(state.therapy.exposures) == len(codes)
    for e in state.therapy.exposures:
        assert [d.name.startswith("paclitaxel") for d in e.drugs] == [True]
    assert state.therapy.prior_taxane


def test_kisqali_femara_co_pack_codes_expand_to_ribociclib_and_letrozole(product_code_lists):
    both = set(product_code_lists["ribociclib"]["RxNorm"]) & set(product_code_lists["letrozole"]["RxNorm"])
    assert both, "the shared list has co-pack codes under both drugs"
    for names in resolve_all(sorted(both)).values():
        assert names == {"ribociclib", "letrozole"}


def test_no_tdxd_product_code_ever_resolves_to_plain_trastuzumab(product_code_lists):
    codes = [c for c in product_code_lists["trastuzumab_deruxtecan_conjugate"]["RxNorm"]
             if c != TRASTUZUMAB_INGREDIENT]
    for names in resolve_all(codes).values():
        assert "trastuzumab" not in names and "trastuzumab deruxtecan" in names


def test_tdxd_products_in_the_shared_trastuzumab_list_stay_tdxd(product_code_lists):
    tdxd = set(product_code_lists["trastuzumab_deruxtecan_conjugate"]["RxNorm"]) - {TRASTUZUMAB_INGREDIENT}
    shared = tdxd & set(product_code_lists["trastuzumab"]["RxNorm"])
    assert shared
    for names in resolve_all(sorted(shared)).values():
        assert names == {"trastuzumab deruxtecan"}


@pytest.mark.parametrize("text", [
    "Enhertu 100 mg IV", "fam-trastuzumab deruxtecan-nxki", "Trastuzumab Deruxtecan", "T-DXd 5.4 mg/kg",
])
def test_tdxd_names_map_to_tdxd_never_trastuzumab(text):
    s = build_patient_state([patient(), med_statement(None, "2022-01-01", text=text)], PID)
    names = [d.name for e in s.therapy.exposures for d in e.drugs]
    assert names == ["trastuzumab deruxtecan"]
    assert s.therapy.prior_tdxd


def test_plain_trastuzumab_name_is_her2_targeted_not_tdxd():
    s = build_patient_state([patient(), med_statement(None, "2022-01-01", text="Herceptin (trastuzumab)")], PID)
    drugs = [d for e in s.therapy.exposures for d in e.drugs]
    assert [(d.name, d.drug_class) for d in drugs] == [("trastuzumab", "her2-targeted")]
    assert not s.therapy.prior_tdxd


@pytest.mark.parametrize("text,expected", [
    ("IBRANCE 125 MG capsule", "palbociclib"), ("Kisqali", "ribociclib"), ("verzenio", "abemaciclib"),
    ("Faslodex 500 mg", "fulvestrant"), ("Femara", "letrozole"), ("ARIMIDEX", "anastrozole"),
    ("Aromasin", "exemestane"), ("Piqray", "alpelisib"), ("Truqap", "capivasertib"),
    ("Itovebi", "inavolisib"), ("Orserdu", "elacestrant"), ("Inluriyo", "imlunestrant"),
    ("Lynparza", "olaparib"), ("Talzenna", "talazoparib"), ("Afinitor", "everolimus"),
    ("Trodelvy", "sacituzumab govitecan"), ("Datroway", "datopotamab deruxtecan"),
    ("Xeloda", "capecitabine"), ("Halaven", "eribulin"), ("Zoladex 3.6 mg implant", "goserelin"),
    ("Lupron Depot 3.75 mg", "leuprolide"), ("nab-paclitaxel", "paclitaxel protein-bound"),
])
def test_brand_and_generic_names_are_recognised_case_insensitively(text, expected):
    s = build_patient_state([patient(), med_statement(None, "2022-01-01", text=text)], PID)
    assert [d.name for e in s.therapy.exposures for d in e.drugs] == [expected]


def test_everolimus_for_transplant_is_not_an_anticancer_drug():
    s = build_patient_state([patient(), med_statement(None, "2022-01-01", text="Zortress 0.75 mg tablet")], PID)
    drugs = [d for e in s.therapy.exposures for d in e.drugs]
    assert [d.drug_class for d in drugs] == ["other"]
    assert not s.therapy.prior_pi3k_akt_mtor


def test_medication_reference_to_a_contained_medication_is_followed():
    ms = med_statement(None, "2022-01-01")
    del ms["medicationCodeableConcept"]
    ms["contained"] = [{"resourceType": "Medication", "id": "med1",
                        "code": cc(coding(RXNORM, "1601380", "palbociclib 125 MG Oral Capsule"))}]
    ms["medicationReference"] = {"reference": "#med1"}
    s = build_patient_state([patient(), ms], PID)
    assert [d.name for e in s.therapy.exposures for d in e.drugs] == ["palbociclib"]


def test_unknown_rxnorm_code_without_text_is_not_a_drug():
    s = build_patient_state([patient(), med_statement("999999999", "2022-01-01")], PID)
    assert s.therapy.exposures == []


def test_draft_orders_resolve_product_codes_and_names(product_code_lists):
    code = next(c for c in product_code_lists["abemaciclib"]["RxNorm"] if c != "1946825")
    bundle = {"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
                      "intent": "proposal", "medicationCodeableConcept": cc(coding(RXNORM, code))}},
        {"resource": {"resourceType": "MedicationRequest", "id": "d2", "status": "draft",
                      "medicationReference": {"reference": "Medication/m2"}}},
        {"resource": {"resourceType": "Medication", "id": "m2", "code": cc(text="Enhertu 100 mg vial")}},
        {"resource": {"resourceType": "ServiceRequest", "id": "s1", "status": "draft",
                      "code": cc(text="ESR1 ctDNA test")}},
    ]}
    orders = read_draft_orders(bundle)
    assert [o.reference for o in orders] == ["MedicationRequest/d1", "MedicationRequest/d2", "ServiceRequest/s1"]
    assert [d.name for d in orders[0].drugs] == ["abemaciclib"]
    assert [d.name for d in orders[1].drugs] == ["trastuzumab deruxtecan"]
    assert orders[2].text == "ESR1 ctDNA test" and orders[2].drugs == []


@pytest.mark.parametrize("bad", [None, [], "x", {"resourceType": "Bundle", "entry": "nope"},
                                 {"resourceType": "Bundle", "entry": [None, 3, {"resource": "x"}]}])
def test_draft_orders_never_raise_on_malformed_bundles(bad):
    assert isinstance(read_draft_orders(bad), list)


def test_plain_trastuzumab_code_with_tdxd_text_is_read_as_tdxd():
    ms = med_statement("224905", "2022-01-01", display="fam-trastuzumab deruxtecan-nxki 100 MG Injection")
    s = build_patient_state([patient(), ms], PID)
    assert [d.name for e in s.therapy.exposures for d in e.drugs] == ["trastuzumab deruxtecan"]
