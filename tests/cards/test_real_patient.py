"""The real mCODE trial-matching patient (../shared/data/real/, Apache-2.0).

What the record says: a woman born 1959 (67 at the date asked), infiltrating
ductal carcinoma, stage IV with bone, liver and axillary-node metastases (de
novo; no dates), ER+ and PR+ by IHC, HER2 "Negative" by IHC with no score,
ESR1 and PIK3CA variants "Present" (no protein change, origin, significance,
specimen or date), ECOG 1; leuprolide, fulvestrant and abemaciclib from
2019-04, then fulvestrant + ribociclib active since 2019-06.

Why these cards are what an oncologist would accept:
- She is on fulvestrant + ribociclib now, so the advice is for the next
  progression, and the summary says so. Switching abemaciclib -> ribociclib two
  months in reads as one line (a toxicity switch, not progression), so she has
  had one endocrine-based metastatic line with a CDK4/6 inhibitor.
- ESR1 mutated after ET + CDK4/6i is the EMERALD / EMBER-3 population: oral
  SERDs come first. Elacestrant's label needs a postmenopausal woman; at 67 she
  is postmenopausal (inferred from age, and the card says it is inferred).
- PIK3CA mutated after ET: capivasertib + fulvestrant (CAPItello-291) and
  alpelisib + fulvestrant (SOLAR-1) are label-concordant; capivasertib ranks
  first (less grade >= 3 hyperglycaemia, ASCO 2024) and alpelisib carries the
  note that SOLAR-1 excluded prior fulvestrant. No HbA1c / fasting glucose on
  record -> a glycaemic testing card before either.
- Not offered, each for a documented reason: first-line AI/fulvestrant + CDK4/6i
  and inavolisib (she is past first line); fulvestrant +/- CDK4/6i (she is
  progressing on exactly that); everolimus + exemestane (label needs prior
  letrozole/anastrozole: none documented); PARP inhibitors (no germline BRCA
  result -> germline testing card); Dato-DXd and sacituzumab (no chemotherapy,
  only one metastatic line).
- HER2 is a bare "Negative": never read as HER2-low, so no T-DXd card, but a
  HER2 re-test card because DESTINY-Breast06 eligibility (HER2-low/ultralow
  after ET) depends on the IHC score.
- Single-agent chemotherapy is last: not blocked after one ET line (liver
  metastases are visceral, but no visceral crisis is asserted), capecitabine
  suggested first.
- The variants have no reported significance, specimen or date: the cards say
  so instead of hiding it.
"""

import datetime as dt

from mappings.build import build_patient_state
from tests.cards.helpers import card, ordered_tests, recommended, regimen_topics, suggestion_drugs, view
from tests.cards.invariants import check_invariants
from tests.conftest import REAL_PATIENT_ID

AS_OF = dt.date(2026, 11, 21)


def real_cards(resources):
    state = build_patient_state(resources, REAL_PATIENT_ID, as_of=AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    return state, cards


def test_real_patient_gets_the_next_line_options_an_oncologist_would_accept(real_patient_resources):
    state, cards = real_cards(real_patient_resources)
    assert regimen_topics(cards) == [
        "elacestrant", "imlunestrant", "capivasertib-fulvestrant", "alpelisib-fulvestrant", "chemotherapy",
    ]
    assert ordered_tests(cards) == ["test-germline-brca", "test-her2", "test-glycemic"]
    assert all(c["indicator"] == "info" for c in cards if c["source"]["topic"]["code"] != "test-her2")


def test_real_patient_summary_says_what_was_understood_and_that_options_apply_at_progression(real_patient_resources):
    _, cards = real_cards(real_patient_resources)
    summary = cards[0]
    assert summary["source"]["topic"]["code"] == "patient-summary"
    assert "ESR1, PIK3CA detected" in summary["summary"]
    detail = summary["detail"]
    for fact in ("liver (visceral)", "bone", "lymph node", "negative without an IHC score", "not read as HER2-low",
                 "fulvestrant + ribociclib", "apply at progression", "age 67", "ECOG 1",
                 "Observation/mCODETrialMatchingCancerGeneticVariantPatientExample01",
                 "MedicationStatement/mCODETrialMatchingCancerMedicationStatement05PatientExample01"):
        assert fact in detail, fact
    # the CDK4/6 inhibitor switch reads as one replacing the other, never as two given together
    assert "Metastatic line 1: fulvestrant + abemaciclib (then ribociclib), 2019-04-01 to now (active)" in detail
    assert "abemaciclib + ribociclib" not in detail
    # the reasons for what is not offered are written down
    assert "Everolimus + exemestane: No prior non-steroidal aromatase inhibitor" in detail
    assert "Fulvestrant + CDK4/6 inhibitor: Already treated with fulvestrant + a CDK4/6 inhibitor" in detail


def test_real_patient_bare_her2_negative_gets_a_retest_card_and_no_trastuzumab_deruxtecan(real_patient_resources):
    state, cards = real_cards(real_patient_resources)
    assert state.her2.category == "negative-unspecified"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    her2 = card(cards, "test-her2")
    assert "Observation/mCODETrialMatchingTumorMarker03PatientExample01" in her2["detail"]


def test_real_patient_esr1_cards_cite_the_variant_and_say_what_is_unknown(real_patient_resources):
    _, cards = real_cards(real_patient_resources)
    el = card(cards, "elacestrant")
    assert "ESR1 detected (significance not reported" in el["detail"]
    assert "no date" in el["detail"]
    assert "Menopausal status inferred from age" in el["detail"]
    assert suggestion_drugs(el) == [["elacestrant"]]
    assert "Vepdegestrant" in el["detail"]


def test_real_patient_pi3k_cards_order_with_fulvestrant_and_ask_for_glycaemic_tests(real_patient_resources):
    _, cards = real_cards(real_patient_resources)
    assert recommended(card(cards, "capivasertib-fulvestrant")) == ["capivasertib", "fulvestrant"]
    assert "SOLAR-1 excluded prior fulvestrant" in card(cards, "alpelisib-fulvestrant")["detail"]
    assert "Capivasertib + fulvestrant" in card(cards, "test-glycemic")["summary"]
    assert recommended(card(cards, "chemotherapy")) == ["capecitabine"]
