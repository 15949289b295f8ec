"""(ds13) Metastatic sites: a template's site fields on a Condition coded as a metastasis, the
doubt "not excluded", and a site list's brackets (CR A.1, A.2, A.4 visceral sites, C.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.mappings.builders import PID, SNOMED, breast_cancer, cc, coding, condition, patient

AS_OF = dt.date(2021, 1, 1)
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SECONDARY = coding(SNOMED, "128462008", "Secondary malignant neoplastic disease")
SECONDARY_UNSPECIFIED = coding(ICD10, "C79.9", "Secondary malignant neoplasm of unspecified site")
BREAST_CANCER = coding(SNOMED, "254837009", "Malignant neoplasm of breast (disorder)")
LIVER = cc(coding(SNOMED, "10200004", "Liver structure"))


def _state(*resources, primary=None):
    return build_patient_state([patient(), primary or breast_cancer("2015-03-01"), *resources], PID, as_of=AS_OF)


def _gaps(state) -> dict[str, str]:
    return {g.code: g.message for g in state.gaps}


def _sites(state) -> list[str]:
    return sorted(site.site for site in state.disease.sites)


@pytest.mark.parametrize("code", [SECONDARY, SECONDARY_UNSPECIFIED])
@pytest.mark.parametrize("text", ["Liver: no. Bone: yes", "Liver: no, bone: yes", "Metastases: liver: no, bone: yes",
                                  "Liver - no, bone - yes"])
def test_a_coded_metastasis_whose_fields_answer_the_liver_no_and_the_bone_yes_counts_the_bone_only(code, text):
    # was metastatic status unknown (the bone asked as a doubt) since ds12
    s = _state(condition(cc(code, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes"
    assert _sites(s) == ["bone"] and not s.disease.visceral_involvement
    assert "metastatic-status-unknown" not in _gaps(s)


@pytest.mark.parametrize("text", ["Liver: no, bone: yes, lung: ?", "Sites: bone (yes), liver (no)", "bone: y; liver: n"])
def test_a_coded_metastasis_does_not_count_the_first_site_written_whatever_its_answer(text):
    # was the liver counted (visceral) though answered no
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes"
    assert _sites(s) == ["bone"] and not s.disease.visceral_involvement


def test_a_coded_metastasis_with_a_field_left_unanswered_asks_that_site():
    s = _state(condition(cc(SECONDARY, text="Liver: no, bone: yes, lung: ?"), "2020-01-15"))
    assert "the lung" in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text", ["Liver: no. Bone: yes", "Sites: bone (yes), liver (no)", "bone: y; liver: n"])
def test_the_same_fields_on_a_condition_naming_no_metastasis_ask_the_bone_not_count_it(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic != "yes" and _sites(s) == []
    assert f'bone ("{text}" in the text)' in _gaps(s)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Metastatic breast cancer, liver mets not excluded",
                                  "Metastatic breast cancer, liver mets cannot be excluded",
                                  "Metastatic breast cancer, liver mets not ruled out",
                                  "Metastatic breast cancer, liver not excluded"])
def test_a_liver_bodysite_the_text_writes_not_excluded_is_asked_not_counted(text):
    # was the liver counted (visceral) from the bodySite, the doubt unread
    s = _state(primary=condition(cc(BREAST_CANCER, text=text), "2015-03-01", bodySite=[LIVER]))
    assert s.disease.metastatic == "yes" and _sites(s) == [] and not s.disease.visceral_involvement
    assert f'the liver ("{text.split(", ")[1]}")' in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text", ["Bone metastases, liver mets not excluded", "Metastatic breast cancer, liver not excluded"])
def test_a_site_written_not_excluded_beside_a_metastasis_is_asked_not_dropped(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert "liver" not in _sites(s)
    assert f'the liver ("{text.split(", ")[1]}")' in _gaps(s)["metastatic-site-unconfirmed"]


def test_a_liver_written_excluded_is_still_not_asked():
    s = _state(condition(cc(text="Bone metastases, liver metastases excluded"), "2020-01-15"))
    assert _sites(s) == ["bone"] and "metastatic-site-unconfirmed" not in _gaps(s)


def test_a_site_listed_after_a_ruled_out_one_with_scans_in_brackets_and_no_comma_is_asked():
    # was the bone dropped without a word, while "(no liver (US), bone (CT))" asks it
    s = _state(primary=condition(cc(BREAST_CANCER, text="Metastatic breast cancer (no liver (US) bone (CT))"),
                                 "2015-03-01"))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert 'the bone ("bone (CT)")' in _gaps(s)["metastatic-site-unconfirmed"]


def test_a_site_asked_with_its_date_in_a_bracket_is_quoted_with_the_bracket_whole():
    # was quoted "bone (2020"
    s = _state(primary=condition(cc(BREAST_CANCER, text="Metastatic breast cancer (no liver (2019), bone (2020))"),
                                 "2015-03-01"))
    assert 'the bone ("bone (2020)")' in _gaps(s)["metastatic-site-unconfirmed"]


def test_a_resolved_stage_iv_at_the_liver_on_a_condition_naming_no_cancer_is_asked_saying_resolved():
    s = _state(condition(cc(text="M1 (liver)"), "2020-01-15", clinical="resolved"))
    assert 'of which cancer not stated, recorded clinicalStatus "resolved"' in _gaps(s)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text, words", [("Metastatic to liver? No. Bone: yes?", "Metastatic to liver? No. Bone: yes?"),
                                         ("Bone - probable", "Bone - probable"),
                                         ("Bone: probable", "Bone: probable"),
                                         ("Metastases: Bone - probable", "Metastases: Bone - probable")])
def test_a_site_field_answered_with_a_doubt_is_asked_not_counted_nor_dropped(text, words):
    # was nothing ("No metastatic site ... was found"), or with a heading the bone counted
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic != "yes" and _sites(s) == []
    assert f'bone ("{words}" in the text)' in _gaps(s)["metastasis-unconfirmed"]


@pytest.mark.parametrize("body_text", ["Skin of breast (lymphangitic spread)", "Chest wall skin (lymphangitic spread)"])
def test_a_bodysite_naming_lymphangitic_spread_in_the_skin_is_not_read_as_the_lung(body_text):
    # was the lung counted (visceral)
    s = _state(primary=condition(cc(BREAST_CANCER, text="Metastatic breast cancer"), "2015-03-01",
                                 bodySite=[cc(text=body_text)]))
    assert s.disease.metastatic == "yes" and "lung" not in _sites(s) and not s.disease.visceral_involvement


def test_a_bodysite_naming_lymphangitic_spread_in_the_lung_is_still_the_lung():
    s = _state(primary=condition(cc(BREAST_CANCER, text="Metastatic breast cancer"), "2015-03-01",
                                 bodySite=[cc(text="Lung (lymphangitic spread)")]))
    assert _sites(s) == ["lung"]


@pytest.mark.parametrize("code, text, words", [
    # with no display: was metastatic status unknown (the field's doubt read as the metastasis's)
    ({"system": SNOMED, "code": "128462008"}, "Liver: no. Bone: yes", "Bone: yes"),
    ({"system": SNOMED, "code": "128462008"}, "Bone - probable", "Bone - probable"),
    (SECONDARY, "Bone - probable", "Bone - probable"),
])
def test_a_coded_metastasis_whose_field_is_doubted_stays_metastatic_and_asks_the_site(code, text, words):
    s = _state(condition(cc(code, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert f'the bone ("{words}")' in _gaps(s)["metastatic-site-unconfirmed"]


def test_a_doubted_site_at_the_text_end_of_a_coded_metastasis_is_quoted_without_the_codes_display():
    # was quoted "lung? | secondary malignant neoplastic disease"
    s = _state(condition(cc(SECONDARY, text="Liver: no, bone: yes, lung: ?"), "2020-01-15"))
    assert 'the lung ("lung: ?")' in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text", ["Suspected metastases: liver: no, bone: yes", "Possible metastases: bone: yes",
                                  "No metastases: liver: no, bone: yes", "History of metastases: bone: yes"])
def test_fields_under_a_heading_doubting_ruling_out_or_dating_metastases_do_not_count_the_site(text):
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert _sites(s) == []


@pytest.mark.parametrize("text", ["Metastases: liver: no, bone: yes", "Metastatic sites: liver - no, bone - yes"])
def test_fields_under_a_plain_metastases_heading_count_the_site_answered_yes(text):
    # was metastatic status unknown (the bone asked)
    s = _state(condition(cc(text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == ["bone"]


def test_a_coded_metastasis_whose_only_field_answers_the_liver_no_does_not_count_the_liver():
    # was the liver counted (visceral); now asked as "No liver metastases" so coded is
    s = _state(condition(cc(SECONDARY, text="Liver: no"), "2020-01-15"))
    assert _sites(s) == [] and not s.disease.visceral_involvement
    assert 'coded a metastasis, but the text reads "Liver: no"' in _gaps(s)["metastasis-unconfirmed"]


def test_a_coded_metastasis_whose_fields_are_all_left_open_asks_each_quoting_its_field():
    s = _state(condition(cc(SECONDARY, text="Liver: ?, bone: ?"), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert 'the liver ("Liver: ?"); the bone ("bone: ?")' in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text", ["possible liver", "probable liver", "suspected liver"])
def test_a_coded_metastasis_whose_text_is_a_doubted_site_asks_the_site_not_counts_it(text):
    # was the liver counted (visceral), while "?liver" so coded is asked
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == [] and not s.disease.visceral_involvement
    assert f'the liver ("{text}")' in _gaps(s)["metastatic-site-unconfirmed"]


# (ds14) a site field that names the scan that looked at the site ("Brain MRI: no") answered no /
# negative / clear: the site's, read as "Brain: no" (was the brain counted, visceral, CR A.4, C.1)
@pytest.mark.parametrize("text", ["Brain MRI: no", "Brain MRI: clear", "CT liver: clear", "Liver US: no", "Bone scan: no",
                                  "Liver: clear"])
def test_a_coded_metastasis_whose_text_is_a_scan_answered_no_does_not_count_the_scanned_site(text):
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15"))
    assert _sites(s) == [] and not s.disease.visceral_involvement
    # read as "Brain: no" so coded is (ds13): the metastasis asked, quoting the words
    assert f'site not stated (coded a metastasis, but the text reads "{text}")' in _gaps(s)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Brain MRI: no. Bone: yes", "CT liver: clear, bone scan: positive",
                                  "Metastases: brain MRI: no, bone scan: yes"])
def test_a_coded_metastasis_whose_scan_fields_clear_one_site_and_find_another_counts_the_found_site_only(text):
    # was the brain / liver counted (visceral), the bone dropped
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes"
    assert _sites(s) == ["bone"] and not s.disease.visceral_involvement


@pytest.mark.parametrize("text", ["Brain MRI: metastases", "Brain MRI: yes", "Bone scan: positive"])
def test_a_coded_metastasis_whose_scan_finds_the_site_still_counts_it(text):
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes" and len(_sites(s)) == 1


@pytest.mark.parametrize("text", ["Brain MRI: ?", "MRI brain: 2 lesions"])
def test_a_coded_metastasis_whose_scan_is_left_open_asks_the_site_quoting_the_scan(text):
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert f'the brain ("{text}")' in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text", ["Brain MRI 2020: no", "Brain MRI (03/2020): no"])
def test_a_coded_metastasis_whose_dated_scan_is_answered_no_does_not_count_the_scanned_site(text):
    # was the brain counted (visceral)
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15"))
    assert _sites(s) == [] and not s.disease.visceral_involvement
    assert f'the text reads "{text}"' in _gaps(s)["metastasis-unconfirmed"]


def test_a_coded_metastasis_whose_dated_scan_is_left_open_asks_the_brain_quoting_the_scan_as_written():
    s = _state(condition(cc(SECONDARY, text="Brain MRI (03/2020): ?"), "2020-01-15"))
    assert 'the brain ("Brain MRI (03/2020): ?")' in _gaps(s)["metastatic-site-unconfirmed"]


@pytest.mark.parametrize("text", ["Bone: yes; brain: negative", "Bone scan: positive, brain MRI: negative"])
def test_a_coded_metastasis_whose_fields_find_the_bone_and_clear_the_brain_as_negative_counts_the_bone(text):
    # was metastatic status unknown: the brain's "negative" read as the metastasis's
    s = _state(condition(cc(SECONDARY, text=text), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == ["bone"]
    assert "metastasis-unconfirmed" not in _gaps(s)


def test_a_coded_metastasis_whose_bone_field_is_open_and_brain_negative_stays_metastatic_and_asks_the_bone():
    # was metastatic status unknown
    s = _state(condition(cc(SECONDARY, text="Bone: ?; brain: negative"), "2020-01-15"))
    assert s.disease.metastatic == "yes" and _sites(s) == []
    assert 'the bone ("Bone: ?")' in _gaps(s)["metastatic-site-unconfirmed"]
