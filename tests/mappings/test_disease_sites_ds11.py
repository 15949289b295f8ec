"""(ds11) Metastatic sites: a site answered after "no," in a template, brackets left open or
nested, a secondary-coded Condition whose text refutes its site, and the site-conflict gap's
quotes (CR A.1, A.2, A.4 visceral sites, C.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.mappings.builders import PID, SNOMED, breast_cancer, cc, coding, condition, patient

AS_OF = dt.date(2021, 1, 1)


def _state(*resources):
    return build_patient_state([patient(), breast_cancer("2015-03-01"), *resources], PID, as_of=AS_OF)


def _gaps(state) -> dict[str, str]:
    return {g.code: g.message for g in state.gaps}


@pytest.mark.parametrize("text,words", [
    ("Bone Metastases; History of Liver Metastases", "History of Liver Metastases"),
    ("Bone mets (Prior LIVER mets)", "Prior LIVER mets"),
    ("Bone METS, Liver mets - Resolved", "Liver mets - Resolved"),
])
def test_the_site_conflict_gap_quotes_a_past_site_as_the_record_writes_it(text, words):
    # was quoted lower case ("history of liver metastases"): words the clinician cannot find in
    # the chart (FHIR R4 CodeableConcept.text; the other gaps quote as written since ds10)
    s = _state(condition(cc(coding(SNOMED, "94222008", "Secondary malignant neoplasm of bone"), text=text), "2020-01-15"))
    assert [site.site for site in s.disease.sites] == ["bone"]
    assert (f'coded 94222008 (bone), the text names the liver in the past ("{words}")'
            in _gaps(s)["metastatic-site-conflict"])


@pytest.mark.parametrize("text,sites", [
    ("Metastatic to liver? no, bone", ["bone"]),
    ("Metastatic to liver? No, bone.", ["bone"]),
    ("Liver mets? no, bone", ["bone"]),
    ("Metastatic to liver? no, bone and lung", ["bone", "lung"]),
    ("Metastatic to liver? no; brain", ["brain"]),
    # were read with the liver counted too ("Metastatic to liver: no, bone": liver and bone)
    ("Metastatic to liver: no, bone", ["bone"]),
    ("Metastatic to liver - no - bone", ["bone"]),
    # and the site with its metastasis word: both sites were asked, nothing counted
    ("Metastatic to liver? no, bone mets", ["bone"]),
    ("Liver mets? no, bone and lung metastases", ["bone", "lung"]),
    ("Metastatic to liver? no, bone metastases only", ["bone"]),
])
def test_a_metastasis_question_answered_no_and_the_site_it_is_instead_counts_that_site_as_with_only(text, sites):
    # was "Metastatic status unclear", the liver asked, nothing counted (no first-line cards), while
    # "no, bone only" counted the bone since ds7: a clinician reads "no, bone" as not liver, bone
    # (CR A.4 counts a metastasis made; visceral or not per its site)
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes"
    assert sorted(site.site for site in s.disease.sites) == sites
    assert "metastasis-unconfirmed" not in _gaps(s)


@pytest.mark.parametrize("text", ["Metastatic to liver? no", "Metastatic to liver? no."])
def test_a_metastasis_question_answered_no_alone_still_reads_not_metastatic_there(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic != "yes" and s.disease.sites == []
    assert "metastasis-unconfirmed" not in _gaps(s)


@pytest.mark.parametrize("text", ["Metastatic to liver? no, biopsy planned", "Metastatic to liver? no, responding",
                                  "Metastatic to liver? no, liver", "Metastatic to liver? no, ?bone",
                                  "Metastatic to liver? no, left"])
def test_a_no_followed_by_words_other_than_sites_is_still_asked(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic != "yes" and s.disease.sites == []
    assert "metastasis-unconfirmed" in _gaps(s)


def _text_state(text: str):
    return _state(condition(cc(text=text), "2020-01-15"))


def _sites(state) -> list[str]:
    return sorted(site.site for site in state.disease.sites)


@pytest.mark.parametrize("text", ["Bone metastases (no liver), lung metastases",
                                  "Bone metastases (no liver (MRI)), lung metastases",
                                  "Bone metastases (no [liver]), lung metastases"])
def test_a_negation_inside_a_closed_bracket_does_not_reach_the_site_after_it(text):
    # was: the lung dropped without a word (bone-only disease read; the lung is visceral, CR A.4)
    s = _text_state(text)
    assert _sites(s) == ["bone", "lung"]


@pytest.mark.parametrize("text,asked", [
    ("Bone metastases (no liver, lung metastases", '("no liver, lung metastases")'),
    ("Bone metastases (no liver (MRI), lung metastases", '("no liver (MRI), lung metastases")'),
    ("Bone metastases (no liver involvement (CT), lung metastases", '("no liver involvement (CT), lung metastases")'),
])
def test_a_negation_in_a_bracket_never_closed_leaves_the_next_site_asked_not_dropped(text, asked):
    # was: the lung dropped without a word; where the bracket closes the record does not say
    # (after the liver: the lung asserted; after the lung: both ruled out), so asked
    s = _text_state(text)
    assert _sites(s) == ["bone"]
    message = _gaps(s)["metastatic-site-unconfirmed"]
    assert f"the lung {asked}" in message
    assert "the liver" not in message


def test_a_negation_in_a_closed_bracket_listing_the_sites_still_rules_them_all_out():
    s = _text_state("Bone metastases (no liver, lung metastases)")
    assert _sites(s) == ["bone"]
    assert "metastatic-site-unconfirmed" not in _gaps(s)


@pytest.mark.parametrize("text", ["Bone metastases (liver and lung clear (CT)", "Bone metastases (liver clear (CT)",
                                  "Bone metastases (liver and lungs clear (PET-CT))", "Bone metastases ((liver clear)"])
def test_sites_written_clear_in_a_bracket_nested_or_left_open_leave_bone_only(text):
    s = _text_state(text)
    assert _sites(s) == ["bone"]
    assert "metastatic-site-unconfirmed" not in _gaps(s)


@pytest.mark.parametrize("text,quoted", [("Bone metastases (possible liver (MRI)), lung metastases", "the liver"),
                                         ("Bone metastases (?liver (MRI))", 'the liver ("(?liver (MRI))")'),
                                         ("Bone metastases (liver (?))", 'the liver ("(liver (?))")')])
def test_a_site_doubted_in_a_bracket_holding_another_bracket_is_asked_not_counted(text, quoted):
    # was: the liver counted (visceral) from the bracket the nested one hid
    s = _text_state(text)
    assert "liver" not in _sites(s) and "bone" in _sites(s)
    assert quoted in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text,sites", [
    # a site written clear with its scan in a nested bracket: was the liver counted, a visceral
    # site the text writes clear
    ("Bone metastases (liver clear (CT), lung metastases", ["bone", "lung"]),
    ("Bone metastases (liver clear (CT)), lung metastases", ["bone", "lung"]),
    ("Bone metastases (liver clear (2020-01-03), lung metastases", ["bone", "lung"]),
    # nested brackets qualifying a site, read as before
    ("Bone metastases (T10 (biopsy), liver clear", ["bone"]),
    ("Bone metastases (liver (segment 4)), lung", ["bone", "liver", "lung"]),
    ("Liver metastases (biopsy (core), no lung metastases", ["liver"]),
    ("No lung metastases (CT (2020), liver metastases", ["liver"]),
    # a current site in a bracket holding a nested one, still counted
    ("Bone metastases (liver metastases (new))", ["bone", "liver"]),
    ("Bone metastases (liver metastases (progressing))", ["bone", "liver"]),
])
def test_sites_in_and_beside_nested_brackets_are_counted_as_their_words_say(text, sites):
    assert _sites(_text_state(text)) == sites


def test_a_benign_finding_in_nested_brackets_is_no_metastasis():
    s = _text_state("Liver lesions (benign (FNH))")
    assert s.disease.metastatic != "yes" and s.disease.sites == []


SECONDARY_PROFILE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"


def _profiled(code: dict, text: str | None) -> dict:
    res = condition(cc(code, text=text), "2020-01-15")
    res["meta"] = {"profile": [SECONDARY_PROFILE]}
    return res


@pytest.mark.parametrize("code", [coding(SNOMED, "999999", "Local secondary cancer code"),
                                  coding("urn:local", "MET-1")])
def test_a_secondary_cancer_profiled_condition_whose_text_rules_it_out_is_asked_not_dropped(code):
    # was: "No metastatic site, M1 category or stage IV was found", the Condition dropped without
    # a word; the mCODE SecondaryCancerCondition profile says a metastasis, the text says none
    s = _state(_profiled(code, "No bone metastases"))
    assert s.disease.metastatic != "yes" and s.disease.sites == []
    assert ('coded a metastasis, but the text reads "No bone metastases"'
            in _gaps(s)["metastasis-unconfirmed"])


@pytest.mark.parametrize("profiled", [False, True])
def test_a_secondary_code_whose_site_the_text_rules_out_beside_another_counts_the_text_and_names_the_conflict(profiled):
    # was: the liver counted and the bone code dropped without a word
    code, text = coding(SNOMED, "94222008", "Secondary malignant neoplasm of bone"), "No bone metastases; liver metastases"
    s = _state(_profiled(code, text) if profiled else condition(cc(code, text=text), "2020-01-15"))
    assert _sites(s) == ["liver"]
    assert ('Metastatic site coded and ruled out in the text: coded 94222008 (bone) but the text reads '
            '"No bone metastases; liver metastases". The bone not counted, as the text says'
            in _gaps(s)["metastatic-site-conflict"])


def test_a_secondary_code_whose_display_alone_rules_it_out_is_quoted_as_written():
    # was quoted lower case ("no bone metastases")
    s = _state(condition(cc(coding(SNOMED, "94222008", "No bone metastases")), "2020-01-15"))
    assert 'coded a metastasis, but the text reads "No bone metastases"' in _gaps(s)["metastasis-unconfirmed"]


def test_a_secondary_code_with_a_text_naming_its_own_site_has_no_conflict():
    s = _state(condition(cc(coding(SNOMED, "94222008", "Secondary malignant neoplasm of bone"),
                            text="Bone metastases; no liver metastases"), "2020-01-15"))
    assert _sites(s) == ["bone"]
    assert "metastatic-site-conflict" not in _gaps(s)


LIVER_STRUCTURE = coding(SNOMED, "10200004", "Liver structure")
BONE_STRUCTURE = coding(SNOMED, "272673000", "Bone structure")


def _with_body(text: str, *sites: dict) -> dict:
    res = condition(cc(text=text), "2020-01-15")
    res["bodySite"] = [cc(site) for site in sites]
    return res


@pytest.mark.parametrize("text", ["Bone metastases", "Stage IV, bone metastases"])
def test_a_metastasis_written_at_one_site_with_a_body_site_naming_another_counts_both_and_names_the_disagreement(text):
    # was: the liver (bodySite) counted, the bone the text writes dropped without a word; as a
    # code and a bodySite naming different sites (ds2), each counted, the disagreement named
    s = _state(_with_body(text, LIVER_STRUCTURE))
    assert _sites(s) == ["bone", "liver"]
    assert ("Metastatic site written and given as bodySite differently: the text names the bone, bodySite the liver."
            in _gaps(s)["metastatic-site-conflict"])


@pytest.mark.parametrize("text,bodies,sites", [("Bone and liver metastases", (LIVER_STRUCTURE,), ["bone", "liver"]),
                                               ("Liver metastases", (LIVER_STRUCTURE,), ["liver"]),
                                               ("Bone metastases", (LIVER_STRUCTURE, BONE_STRUCTURE), ["bone", "liver"])])
def test_a_text_sharing_a_site_with_its_body_sites_counts_them_all_without_a_conflict(text, bodies, sites):
    s = _state(_with_body(text, *bodies))
    assert _sites(s) == sites
    assert "metastatic-site-conflict" not in _gaps(s)


@pytest.mark.parametrize("text,quoted", [("Liver progression", "Liver progression"),
                                         ("Disease progression in the liver", "progression in the liver"),
                                         ("Liver Progression on CT", "Liver Progression")])
def test_progression_written_at_a_site_with_no_metastasis_word_is_asked_not_dropped(text, quoted):
    # was "No metastatic site, M1 category or stage IV was found", the Condition dropped without a
    # word; beside metastases the same words are asked (fix-fx2); no metastasis written (CR A.4)
    s = _text_state(text)
    assert s.disease.metastatic != "yes"
    assert (f'liver ("{quoted}" in the text: metastatic disease not written)'
            in _gaps(s)["metastasis-unconfirmed"])


@pytest.mark.parametrize("text", ["No liver progression", "Liver progression ruled out",
                                  "Progression of fatty liver disease", "Disease progression",
                                  # (rt81) was asked, the gap quoting "liver progression" as found
                                  "No evidence of liver progression", "No evidence of disease progression in the liver"])
def test_progression_refuted_of_another_disease_or_at_no_site_asks_nothing(text):
    assert "metastasis-unconfirmed" not in _gaps(_text_state(text))


@pytest.mark.parametrize("text,asked", [
    ("Bone metastases (prior liver metastases (resected))", "written in the past"),
    ("Bone metastases (prior liver metastases (2019))", "written in the past"),
    ("Bone metastases (liver - likely (MRI))", "written with a doubt"),
])
def test_a_past_or_doubted_site_in_a_bracket_holding_a_nested_one_is_asked_not_counted(text, asked):
    # was: the liver counted (visceral), as "(prior liver metastases)" / "(liver - likely)" are not
    s = _text_state(text)
    assert _sites(s) == ["bone"]
    message = _gaps(s)["metastatic-site-unconfirmed"]
    assert f"Metastatic site {asked}" in message and "the liver" in message


@pytest.mark.parametrize("text,sites", [
    ("(no liver) lung mets", ["lung"]),
    ("(no liver or lung) bone metastases", ["bone"]),
    ("[no liver] bone metastases", ["bone"]),
    ("(no liver (MRI)) bone metastases", ["bone"]),
])
def test_a_site_ruled_out_in_a_closed_bracket_before_the_mention_is_not_counted(text, sites):
    # (rt81) ds11 let a closed bracket stop its "no" before the mention after it, but the sites
    # inside the bracket were then read as the mention's own: "(no liver or lung) bone metastases"
    # counted liver, lung and bone (visceral: the visceral-crisis / chemotherapy wording, CR A.4
    # visceral sites, C.1) where the text rules the liver and lung out
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes"
    assert sorted(site.site for site in s.disease.sites) == sites
    assert s.disease.visceral_involvement is (sites != ["bone"])


@pytest.mark.parametrize("text", ["Bone mets (no change in liver metastases)", "Bone metastases (no increase in liver metastases)"])
def test_a_bracket_whose_no_qualifies_a_change_of_a_site_still_counts_it(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert sorted(site.site for site in s.disease.sites) == ["bone", "liver"]


@pytest.mark.parametrize("text", ["Liver lesion - benign", "Brain MRI negative"])
def test_a_secondary_cancer_profiled_condition_whose_text_is_a_benign_or_negative_finding_is_asked_not_counted(text):
    # (rt81) counted (the liver visceral: CR A.4, C.1) while the same text coded C78.7 / 94381002
    # is asked (_text_against_code, local_codes.yaml coded_text_against): the profile says a
    # metastasis as a secondary code does, the words a benign / negative finding
    s = _state(_profiled(coding("urn:local", "MET-1"), text))
    assert s.disease.metastatic != "yes" and s.disease.sites == []
    assert f'(coded a metastasis, but the text reads "{text}")' in _gaps(s)["metastasis-unconfirmed"]


def test_a_body_site_the_text_rules_out_is_named_so_in_the_conflict_gap():
    # (rt81) "Bone metastases (no liver)" with bodySite the liver: both counted (the bodySite as
    # ds11 keeps it), but the gap said only "the text names the bone, bodySite the liver", not that
    # the text rules the liver out (visceral or not changes the guidance, CR A.4, C.2 step 2)
    s = _state(_with_body("Bone metastases (no liver)", LIVER_STRUCTURE))
    assert _sites(s) == ["bone", "liver"]
    assert ("the text names the bone and rules out the liver, bodySite the liver"
            in _gaps(s)["metastatic-site-conflict"])


@pytest.mark.parametrize("text", ["Liver mets? no (biopsy proven)", "Liver mets? No, biopsy proven",
                                  "Liver mets? no, bone mets (biopsy proven)"])
def test_a_metastasis_question_answered_no_before_a_pathology_confirmation_does_not_count_the_site_asked(text):
    # (rt81) the confirmation after the "no" ("biopsy proven", rt28) was read as confirming the
    # asked liver: counted (visceral, CR A.4, C.1) where the answer is no; now the question is
    # read as one going on (asked, as "Liver mets? no, biopsy planned" is), the liver not counted
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert "liver" not in _sites(s)
    assert not s.disease.visceral_involvement


@pytest.mark.parametrize("text", ["Metastatic to bone. Lung?", "Metastatic to liver? no, bone. Lung?"])
def test_a_question_in_the_next_clause_doubts_its_own_site_not_the_one_written_before_it(text):
    # (rt81) the bone was asked too ("bone. Lung?" quoted, nothing counted: visceral or not
    # unknown) where "Bone metastases. Lung?" and "? no, bone only. Lung?" count the bone, the
    # lung asked: the site the "?" closes was looked for past the clause's end
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert _sites(s) == ["bone"]
    assert 'the lung ("Lung?")' in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text,quoted", [("Breast cancer, liver progression", "liver progression"),
                                         ("Breast cancer with progression in the liver", "progression in the liver")])
def test_progression_at_a_site_written_on_the_breast_cancer_condition_is_asked_as_bone_only_disease_is(text, quoted):
    # (rt81) ds11 asked "Liver progression" on its own Condition; on the breast cancer Condition
    # the words were dropped ("No metastatic site, M1 category or stage IV was found") while
    # "Breast cancer, bone-only disease" there is asked (ds4): no metastasis written, CR A.4
    s = build_patient_state([patient(), condition(cc(coding(SNOMED, "254837009", "Malignant neoplasm of breast"),
                                                     text=text), "2015-03-01")], PID, as_of=AS_OF)
    assert s.disease.metastatic != "yes"
    assert (f'liver ("{quoted}" in the text: metastatic disease not written)'
            in _gaps(s)["metastasis-unconfirmed"])
