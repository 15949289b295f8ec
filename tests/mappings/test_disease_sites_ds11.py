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
