"""(ds12) Metastatic sites: a stage IV / M1 at a site on a Condition naming no cancer, a bodySite
on a stage IV breast cancer or beside a text ruling out another site, an answered site question
after a full stop, a bracket's site with its own scan bracket, a past site on a secondary-coded
Condition, an unclosed bracket's negation, and an answer contradicting itself (CR A.1, A.2, A.4
visceral sites, C.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.mappings.builders import PID, SNOMED, breast_cancer, cc, coding, condition, patient

AS_OF = dt.date(2021, 1, 1)
BREAST_CANCER = coding(SNOMED, "254837009", "Malignant neoplasm of breast (disorder)")
LIVER = cc(coding(SNOMED, "10200004", "Liver structure"))
BREAST = cc(coding(SNOMED, "76752008", "Breast structure"))
LIVER_SECONDARY = coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver")


def _state(*resources, primary=None):
    return build_patient_state([patient(), primary or breast_cancer("2015-03-01"), *resources], PID, as_of=AS_OF)


def _gaps(state) -> dict[str, str]:
    return {g.code: g.message for g in state.gaps}


def _sites(state) -> list[str]:
    return sorted(site.site for site in state.disease.sites)


@pytest.mark.parametrize("text", ["M1 (liver)", "Stage IV (liver)"])
def test_a_stage_iv_at_the_liver_on_a_condition_naming_no_cancer_asks_the_liver(text):
    # was dropped without a word ("No metastatic site, M1 category or stage IV was found")
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic != "yes"
    assert f'liver ("{text}": stage IV / M1 at the liver written on a record coded neither breast cancer' \
        in _gaps(s)["metastasis-unconfirmed"]


def test_a_stage_iv_at_the_liver_beside_a_stage_iv_breast_cancer_asks_the_liver_as_a_site():
    s = _state(condition(cc(text="M1 (liver)"), "2020-01-15"),
               primary=condition(cc(BREAST_CANCER, text="Stage IV breast cancer"), "2015-03-01"))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert 'the liver ("M1 (liver)")' in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text", ["Stage IV (liver) lung cancer", "M1", "CKD stage 4"])
def test_a_stage_iv_of_another_cancer_or_with_no_site_is_not_asked_as_a_site(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert "metastasis-unconfirmed" not in _gaps(s)


def test_a_stage_iv_breast_cancer_with_its_bodysite_the_liver_counts_the_liver():
    # was metastatic with no site (visceral or not unknown)
    s = _state(primary=condition(cc(BREAST_CANCER, text="Stage IV breast cancer"), "2015-03-01", bodySite=[LIVER]))
    assert s.disease.metastatic == "yes" and _sites(s) == ["liver"] and s.disease.visceral_involvement


def test_a_stage_iv_breast_cancer_with_its_bodysite_the_breast_counts_no_site():
    s = _state(primary=condition(cc(BREAST_CANCER, text="Stage IV breast cancer"), "2015-03-01", bodySite=[BREAST]))
    assert s.disease.metastatic == "yes" and _sites(s) == []


def test_a_metastatic_breast_cancer_ruling_out_its_bodysite_asks_it():
    s = _state(primary=condition(cc(BREAST_CANCER, text="Metastatic breast cancer (no liver)"), "2015-03-01",
                                 bodySite=[LIVER]))
    assert _sites(s) == []
    assert ('the liver ("bodySite the liver, the text: Metastatic breast cancer (no liver)")'
            in _gaps(s)["metastatic-site-unconfirmed"])


@pytest.mark.parametrize("text", ["No bone metastases", "Bone metastases ruled out"])
def test_a_text_ruling_out_another_site_than_its_bodysite_asks_the_bodysite(text):
    # was dropped without a word
    s = _state(condition(cc(text=text), "2020-01-15", bodySite=[LIVER]))
    assert s.disease.metastatic != "yes"
    assert f'liver (bodySite the liver, but the text reads "{text}")' in _gaps(s)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["No liver metastases", "No metastases", "Hepatitis"])
def test_a_text_ruling_out_its_own_bodysite_or_no_metastasis_word_asks_nothing(text):
    s = _state(condition(cc(text=text), "2020-01-15", bodySite=[LIVER]))
    assert "metastasis-unconfirmed" not in _gaps(s)


@pytest.mark.parametrize("text", [
    # after a colon following a metastasis question: was "No metastatic site, M1 category or stage
    # IV was found" (the bone dropped)
    "Metastatic to liver? No. Bone: yes", "Metastatic to liver? no. Bone - yes",
    "Metastatic to liver? No. Bone: yes. Lung: no",
    # joined by commas: the first counted the liver (answered no) and dropped the bone; the others
    # read as nothing
    "Metastases: liver? no, bone? yes", "Metastatic to liver? no; bone? yes, lung? no",
    "Liver mets? no, bone? yes, brain? no", "Metastatic to liver? No. Bone: yes, lung: no",
    # (rt84) with its scan in a bracket: the first two counted the liver (answered no: visceral)
    # and dropped the bone; the last read as nothing
    "Metastases: liver? no, bone? yes (CT)", "Metastases: liver? no, bone? yes (bone scan)",
    "Metastatic to liver? No. Bone: yes (MRI 03/2020)",
])
def test_a_site_field_answered_yes_counts_that_site_and_not_the_one_answered_no(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == ["bone"]


@pytest.mark.parametrize("text", ["Liver: no. Bone: yes", "Metastatic to liver: no. Bone: yes"])
def test_site_fields_answered_with_no_metastasis_question_ask_the_site_answered_yes(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic != "yes"
    assert f'bone ("{text}" in the text)' in _gaps(s)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Metastatic to liver? no, liver mets", "Metastatic to liver? no, liver metastases",
                                  "Liver mets? no, liver mets", "Liver mets? no, liver and bone mets"])
def test_a_metastasis_question_answered_no_then_the_same_site_with_its_metastasis_word_is_asked(text):
    # was counted (the liver: visceral, first-line cards) though the answer denies it
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic != "yes" and _sites(s) == []
    assert "liver (" in _gaps(s)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text,words", [
    ("No liver metastases; history of bone metastases", "history of bone metastases"),
    ("No liver metastases; prior bone mets", "prior bone mets"),
])
def test_a_liver_coded_secondary_ruling_out_the_liver_asks_a_past_bone_as_past(text, words):
    # was counted as a current site (bone-only disease read)
    s = _state(condition(cc(LIVER_SECONDARY, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert (f'Metastatic site written in the past, not counted as a current site: the bone ("{words}")'
            in _gaps(s)["metastatic-site-unconfirmed"])


def test_a_liver_coded_secondary_ruling_out_the_liver_still_counts_a_current_bone():
    s = _state(condition(cc(LIVER_SECONDARY, text="No liver metastases; bone metastases"), "2020-01-15"))
    assert _sites(s) == ["bone"]


@pytest.mark.parametrize("text,words", [
    ("Bone metastases (no liver, lung metastases, brain metastases",
     {"lung": "no liver, lung metastases", "brain": "no liver, lung metastases, brain metastases"}),
    ("Bone metastases (no liver, lung, brain metastases",
     {"lung": "no liver, lung, brain metastases", "brain": "no liver, lung, brain metastases"}),
])
def test_every_site_a_negation_in_a_bracket_left_open_may_reach_is_asked_alike(text, words):
    # the first counted the brain, the second the lung, each asking the other
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert _sites(s) == ["bone"]
    gap = _gaps(s)["metastatic-site-unconfirmed"]
    for site, quoted in words.items():
        assert f'the {site} ("{quoted}")' in gap


@pytest.mark.parametrize("text,sites", [
    ("Bone metastases (no liver, lung metastases, brain metastases)", ["bone", "brain"]),
    ("Bone metastases (no liver, lung metastases), brain metastases", ["bone", "brain"]),
    ("Bone metastases (no liver, lung metastases; brain metastases", ["bone", "brain"]),
    ("Lung metastases. Bone metastases (no liver, lung, brain metastases", ["bone", "lung"]),
])
def test_a_site_past_the_open_bracket_or_written_standing_elsewhere_is_still_counted(text, sites):
    assert _sites(_state(condition(cc(text=text), "2020-01-15"))) == sites


@pytest.mark.parametrize("text,words", [
    ("Metastatic breast cancer (no liver (US), bone (CT))", "bone (CT)"),
    ("Metastatic breast cancer (no liver, bone (CT))", "bone (CT)"),
    ("Bone metastases, no liver (US), lung (CT)", "lung (CT)"),
])
def test_a_site_listed_after_a_ruled_out_one_with_its_scan_in_a_bracket_is_asked_as_without_it(text, words):
    # was dropped without a word, while "(no liver, bone)" asks the bone
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes"
    assert f'("{words}")' in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text,said", [
    ("Stage IV breast cancer, ?liver", 'written with a doubt, not counted: the liver ("Stage IV breast cancer, ?liver")'),
    ("Stage IV breast cancer, history of liver metastases",
     'written in the past, not counted as a current site: the liver ("history of liver metastases")'),
])
def test_a_stage_iv_breast_cancers_bodysite_its_text_doubts_or_writes_past_is_asked_not_counted(text, said):
    s = _state(primary=condition(cc(BREAST_CANCER, text=text), "2015-03-01", bodySite=[LIVER]))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert said in _gaps(s)["metastatic-site-unconfirmed"]


def test_a_metastatic_breast_cancer_written_to_bone_with_its_bodysite_the_liver_counts_both_and_names_it():
    s = _state(primary=condition(cc(BREAST_CANCER, text="Metastatic breast cancer to bone"), "2015-03-01",
                                 bodySite=[LIVER, BREAST]))
    assert _sites(s) == ["bone", "liver"]
    assert "the text names the bone, bodySite the liver" in _gaps(s)["metastatic-site-conflict"]


@pytest.mark.parametrize("text,words", [("Bone metastases. Liver: yes", "Liver: yes"),
                                        ("Bone metastases, liver: yes", "liver: yes")])
def test_a_site_field_answered_yes_after_a_metastasis_written_is_asked_quoting_the_field_as_written(text, words):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert _sites(s) == ["bone"]
    assert f'the liver ("{words}")' in _gaps(s)["metastatic-site-unconfirmed"]


# (rt84) a metastasis Condition's bodySite or coded site its own text doubts
SECONDARY = coding(SNOMED, "128462008", "Secondary malignant neoplastic disease")


@pytest.mark.parametrize("code,body", [(SECONDARY, [LIVER]), (LIVER_SECONDARY, [LIVER]), (LIVER_SECONDARY, None)])
@pytest.mark.parametrize("text,words", [("Metastases, ?liver", "?liver"), ("Metastases, possible liver", "possible liver"),
                                        ("Metastatic disease, query liver", "query liver")])
def test_a_metastasis_whose_text_doubts_its_bodysite_or_coded_site_asks_the_site_not_counts_it(code, body, text, words):
    # was counted (the liver: visceral) though the text doubts it, as a stage IV breast cancer's is not (ds12)
    extra = {"bodySite": body} if body else {}
    s = _state(condition(cc(code, text=text), "2020-01-15", **extra))
    assert s.disease.metastatic == "yes" and _sites(s) == [] and not s.disease.visceral_involvement
    assert f'Metastatic site written with a doubt, not counted: the liver ("{words}' \
        in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("code", [SECONDARY, LIVER_SECONDARY])
@pytest.mark.parametrize("text", ["Metastases, liver", "Liver metastases, ?bone", "Metastases (liver)"])
def test_a_metastasis_whose_text_asserts_its_bodysite_still_counts_it(code, text):
    s = _state(condition(cc(code, text=text), "2020-01-15", bodySite=[LIVER]))
    assert "liver" in _sites(s)


@pytest.mark.parametrize("text", ["Metastases, no liver", "Metastatic disease (liver ruled out)"])
def test_a_secondary_whose_text_rules_out_its_only_bodysite_asks_it_not_counts_it_in_silence(text):
    # was counted (the liver: visceral) without a word, though the text rules it out
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15", bodySite=[LIVER]))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert f'the liver ("bodySite the liver, the text: {text}")' in _gaps(s)["metastatic-site-unconfirmed"]


def test_a_bodysite_the_text_rules_out_beside_another_site_it_names_is_still_counted_and_said():
    # rt81, unchanged: counted, the conflict named
    s = _state(condition(cc(SECONDARY, text="Bone metastases (no liver)"), "2020-01-15", bodySite=[LIVER]))
    assert _sites(s) == ["bone", "liver"] and "rules out the liver" in _gaps(s)["metastatic-site-conflict"]


@pytest.mark.parametrize("text", ["Stage IV (?liver)", "M1 (?liver)"])
def test_a_stage_iv_at_a_doubted_site_on_a_condition_naming_no_cancer_asks_the_site_as_a_certain_one_is(text):
    # was dropped without a word while "Stage IV (liver)" is asked (ds12)
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic != "yes"
    assert f'liver ("{text}": stage IV / M1 at the liver' in _gaps(s)["metastasis-unconfirmed"]
