"""The knowledge files: complete, sourced, consistent with the code and the reference."""

import yaml

import cards.knowledge as K
from cards import pathway, rules, testing
from cards.topics import REGIMEN_TOPICS, TESTING_TOPICS
from tests.cards import states as S
from tests.cards.helpers import card, suggestion_drugs, view

# RxNorm ingredient CUIs from ../shared/clinical-reference.md Part A.5
PART_A5 = {
    "letrozole": "72965", "anastrozole": "84857", "exemestane": "258494", "tamoxifen": "10324",
    "fulvestrant": "282357", "palbociclib": "1601374", "ribociclib": "1873916", "abemaciclib": "1946825",
    "elacestrant": "2628469", "imlunestrant": "2725912", "alpelisib": "2169285", "capivasertib": "2669967",
    "inavolisib": "2695422", "everolimus": "141704", "olaparib": "1597582", "talazoparib": "2099704",
    "trastuzumab deruxtecan": "2267582", "sacituzumab govitecan": "2360232",
    "datopotamab deruxtecan": "2703033", "capecitabine": "194000", "paclitaxel": "56946",
    "paclitaxel protein-bound": "486610", "docetaxel": "72962", "eribulin": "1045453",
    "doxorubicin": "3639", "gemcitabine": "12574", "vinorelbine": "39541", "goserelin": "50610",
    "leuprolide": "42375",
}


def test_the_knowledge_file_is_versioned():
    raw = yaml.safe_load(K.REGIMENS_FILE.read_text())
    assert raw["version"] == K.KNOWLEDGE_VERSION and raw["reviewed"]
    assert yaml.safe_load(K.TESTS_FILE.read_text())["version"]


def test_every_regimen_topic_has_exactly_one_knowledge_entry():
    assert sorted(r.topic for r in K.REGIMENS) == sorted(REGIMEN_TOPICS)


def test_every_testing_topic_has_a_test_definition_and_a_rule():
    assert sorted(K.TESTS) == sorted(TESTING_TOPICS)
    assert all(t.rule in testing.RULES for t in K.TESTS.values())


def test_every_rule_named_in_the_knowledge_file_is_implemented_once_in_python():
    assert K.all_rule_names() <= set(rules.RULES), K.all_rule_names() - set(rules.RULES)


def test_every_drug_uses_the_reference_rxnorm_ingredient_code():
    for name, code in PART_A5.items():
        assert K.DRUGS[name].rxnorm == code, name


def test_every_regimen_has_label_text_url_evidence_and_sources():
    for r in K.REGIMENS:
        assert r.label_statement and r.label["url"].startswith("https://"), r.topic
        assert r.label["source"] in K.SOURCES and r.evidence["source"] in K.SOURCES, r.topic
        assert r.evidence.get("trial"), r.topic
        if r.topic != "chemotherapy":
            assert r.evidence.get("pfs") and r.evidence.get("fda_approval_year"), r.topic
        assert r.seed_vs_label, r.topic
        for c in r.cautions:
            assert c.source in K.SOURCES


def test_every_orderable_drug_has_an_rxnorm_code_and_vepdegestrant_is_flagged_unverified_and_not_orderable():
    for r in K.REGIMENS:
        if not r.informational_only:
            assert all(K.DRUGS[n].rxnorm for n in r.drug_names), r.topic
    vep = K.REGIMENS_BY_TOPIC["vepdegestrant"]
    assert vep.informational_only and "UNVERIFIED" in vep.unverified.upper()
    assert K.DRUGS["vepdegestrant"].rxnorm is None and K.DRUGS["vepdegestrant"].unverified


def test_cdk46i_classes_offer_every_concrete_regimen_with_palbociclib_last():
    ai = K.REGIMENS_BY_TOPIC["ai-cdk46i"]
    assert {c[0] for c in ai.choices} == {"letrozole", "anastrozole", "exemestane"}
    assert {c[1] for c in ai.choices} == {"ribociclib", "abemaciclib", "palbociclib"}
    assert all("palbociclib" in c for c in ai.choices[-3:])


def test_no_regimen_combines_two_drugs_of_a_class_a_line_reads_as_a_switch():
    # mappings.state.COMBINED_WITHIN_CLASS: a line's two drugs of any other class are written
    # "abemaciclib (then ribociclib)"; that reading holds only while no regimen combines them
    from mappings.state import COMBINED_WITHIN_CLASS
    choices = [(reg.topic, choice) for reg in K.REGIMENS for choice in reg.choices]
    assert len(choices) > 30 and any(len(c) == 3 for _, c in choices)  # every concrete regimen is read
    for topic, choice in choices:
        classes = [K.DRUGS[n].drug_class for n in choice if K.DRUGS[n].drug_class not in COMBINED_WITHIN_CLASS]
        assert len(classes) == len(set(classes)), (topic, choice)


def test_the_order_checks_can_ask_which_regimens_use_a_drug_by_name_or_rxnorm():
    assert {r.topic for r in K.regimens_with_drug("fulvestrant")} >= {
        "fulvestrant", "fulvestrant-cdk46i", "capivasertib-fulvestrant", "alpelisib-fulvestrant",
        "inavolisib-palbociclib-fulvestrant"}
    assert [r.topic for r in K.regimens_with_drug("2628469")] == ["elacestrant"]
    assert K.drug("1873916").name == "ribociclib"


def test_adding_a_drug_is_a_data_edit_making_vepdegestrant_orderable_needs_only_yaml(tmp_path, monkeypatch):
    data = yaml.safe_load(K.REGIMENS_FILE.read_text())
    data["drugs"]["vepdegestrant"]["rxnorm"] = "9999999"  # hypothetical verified CUI
    entry = next(r for r in data["regimens"] if r["topic"] == "vepdegestrant")
    entry["informational_only"] = False
    edited = tmp_path / "regimens.yaml"
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    drugs, by_topic, tests, regimens, sources, meta = K.load(edited, K.TESTS_FILE)
    from cards import render
    monkeypatch.setattr(pathway, "DRUGS", drugs)
    monkeypatch.setattr(pathway, "REGIMENS", regimens)
    monkeypatch.setattr(pathway, "REGIMENS_BY_TOPIC", by_topic)
    monkeypatch.setattr(render, "DRUGS", drugs)
    monkeypatch.setattr(K, "DRUGS", drugs)  # the card contract's ingredient-code check reads the table too
    state = S.with_variants(S.with_lines(S.base(), ("letrozole", "ribociclib")), S.variant("ESR1"), esr1_current=True)
    cards = view(state)
    assert suggestion_drugs(card(cards, "vepdegestrant")) == [["vepdegestrant"]]


def test_every_endocrine_based_regimen_carries_the_visceral_crisis_caution_that_recommends_none_of_its_orders():
    # C.2 step 2: chemotherapy first in a visceral crisis; ET-based therapy after stabilisation
    for r in K.REGIMENS:
        ids = {c.id: c for c in r.cautions}
        assert ("visceral-crisis-et" in ids) == r.endocrine_based, r.topic
        if r.endocrine_based:
            assert ids["visceral-crisis-et"].never_recommended


def test_every_drug_with_an_ild_label_warning_has_a_began_on_this_drug_caution_wherever_it_is_offered():
    ild_drugs = {"ribociclib", "abemaciclib", "palbociclib", "everolimus", "alpelisib"}  # reference A.4
    for r in K.REGIMENS:
        for name in ild_drugs & set(r.drug_names):
            began = [c for c in r.choice_cautions.get(name, ()) if c.rule.rule == "ild_began_on"]
            assert began and began[0].rule.kw == {"drug": name} and began[0].never_recommended, (r.topic, name)
            assert name in began[0].short


def test_a_misspelt_key_in_a_shared_caution_entry_fails_at_load_with_the_rule_and_key_named(tmp_path):
    import pytest
    src = K.REGIMENS_FILE.read_text(encoding="utf-8")
    entry = "- {caution: ild-began-on-cdk46i, drug: abemaciclib}"
    assert entry in src
    bad = tmp_path / "regimens.yaml"
    bad.write_text(src.replace(entry, "- {caution: ild-began-on-cdk46i, drgu: abemaciclib}", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="rule ild_began_on takes no parameter drgu"):
        K.load(bad)
    bad.write_text(src.replace(entry, "- {caution: ild-began-on-cdk46i, drug: abemaciclib, severity: info}", 1),
                   encoding="utf-8")
    with pytest.raises(ValueError, match="takes no parameter severity"):
        K.load(bad)


def test_a_caution_that_an_unconfirmed_condition_alone_can_raise_without_short_unconfirmed_words_fails_at_load(tmp_path):
    # its summary would state as history what the record only suspects (rules.UNCONFIRMED_RULES)
    import pytest
    data = yaml.safe_load(K.REGIMENS_FILE.read_text(encoding="utf-8"))
    del data["shared_cautions"]["ild-cdk46i"]["short_unconfirmed"]
    bad = tmp_path / "regimens.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ValueError, match="rule ild_history can rest on an unconfirmed condition alone"):
        K.load(bad)
    data["shared_cautions"]["ild-cdk46i"]["short_unconfirmed"] = "ILD not confirmed"
    data["shared_cautions"]["long-qt-ribociclib"]["short_unconfirmed"] = "long QT not confirmed"
    bad.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ValueError, match="`short_unconfirmed` on rule long_qt_syndrome"):
        K.load(bad)


def test_an_unknown_test_variant_key_fails_instead_of_falling_back_to_the_broader_text():
    import pytest
    t = K.TESTS["test-er-pr-her2"]
    assert t.variant("er-for-label") != (t.title, t.why)  # the key testing.py uses exists
    with pytest.raises(KeyError, match="no variant 'er-for-lable'"):
        t.variant("er-for-lable")


def test_the_card_contract_check_refuses_a_product_rxnorm_code_and_a_testing_card_ordering_a_drug():
    # DESIGN.md: regimen suggestions are coded with the RxNorm ingredient code; a testing
    # card's suggestion creates a ServiceRequest (cards/contract.py, used by every card test)
    import copy

    from cards.contract import card_problems

    state = S.with_lines(S.base(), ("letrozole", "ribociclib"))
    regimen = card(view(state), "fulvestrant")
    assert card_problems(regimen, state.patient_id) == []
    product = copy.deepcopy(regimen)
    product["suggestions"][0]["actions"][0]["resource"]["medicationCodeableConcept"]["coding"][0]["code"] = "727760"
    assert "MedicationRequest RxNorm code is not a drug's ingredient code (drugs.yaml)" in card_problems(
        product, state.patient_id)
    testing = copy.deepcopy(regimen)
    testing["source"]["topic"]["code"] = "test-esr1"
    assert "testing card suggestion creates no ServiceRequest" in card_problems(testing, state.patient_id)
