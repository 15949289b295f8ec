"""Property test: for any patient the pathway produces contract-valid cards and
never a regimen whose required biomarker or prior therapy is absent."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings.state import Diabetes, HER2Status, LabValue, LungDisease, ReceptorStatus
from tests.cards import states as S
from tests.cards.helpers import view
from tests.cards.invariants import check_invariants

REGIMENS = [("letrozole",), ("letrozole", "ribociclib"), ("anastrozole", "palbociclib"), ("fulvestrant",),
            ("fulvestrant", "abemaciclib"), ("exemestane", "everolimus"), ("fulvestrant", "alpelisib"),
            ("fulvestrant", "capivasertib"), ("elacestrant",), ("capecitabine",), ("paclitaxel",),
            ("trastuzumab deruxtecan",), ("olaparib",), ("eribulin",), ("sacituzumab govitecan",)]
GENES = ["ESR1", "PIK3CA", "AKT1", "PTEN", "BRCA1", "BRCA2", "PALB2"]

variant = st.builds(
    S.variant, st.sampled_from(GENES), st.just("p.X1Y"),
    origin=st.sampled_from(["germline", "somatic", "unknown"]),
    specimen=st.sampled_from(["ctdna", "tissue", "blood", "unknown"]),
    date=st.dates(dt.date(2020, 1, 1), dt.date(2026, 10, 1)),
    result=st.sampled_from(["detected", "not-detected"]),
    significance=st.sampled_from(["pathogenic", "likely-pathogenic", "vus", "benign", "not-reported"]),
)


@st.composite
def patients(draw):
    state = S.base(
        er=ReceptorStatus(status=draw(st.sampled_from(["positive", "negative", "unknown"])),
                          low_positive=draw(st.booleans())),
        pr=ReceptorStatus(status=draw(st.sampled_from(["positive", "negative", "unknown"]))),
        her2=HER2Status(category=draw(st.sampled_from(
            ["positive", "low", "ultralow", "null", "zero-unspecified", "equivocal-pending",
             "negative-unspecified", "unknown"]))),
    )
    disease = state.disease.model_copy(update={
        "breast_cancer": draw(st.sampled_from(["yes", "yes", "yes", "no", "unknown"])),
        "metastatic": draw(st.sampled_from(["yes", "yes", "yes", "no", "unknown"])),
        "visceral_crisis": draw(st.booleans()),
    })
    state = state.model_copy(update={"disease": disease})
    lines = draw(st.lists(st.sampled_from(REGIMENS), max_size=5))
    early = draw(st.lists(st.sampled_from([("letrozole",), ("tamoxifen",), ("doxorubicin", "cyclophosphamide")]),
                          max_size=2))
    state = S.with_lines(state, *lines, active_last=draw(st.booleans()), early=tuple(early),
                         chemotherapy_within_6_months_of_adjuvant_end=draw(st.booleans()),
                         on_adjuvant_endocrine_at_recurrence=draw(st.booleans()),
                         months_from_adjuvant_endocrine_end_to_metastasis=draw(
                             st.one_of(st.none(), st.floats(0, 60))))
    state = S.with_variants(state, *draw(st.lists(variant, max_size=5)),
                            esr1_current=draw(st.sampled_from([None, True, False])))
    state = S.factors(
        state,
        sex=draw(st.sampled_from(["female", "female", "male", "unknown"])),
        menopausal_status=draw(st.sampled_from(["premenopausal", "perimenopausal", "postmenopausal", "unknown"])),
        ovarian_suppression=draw(st.booleans()),
        diabetes=Diabetes(status=draw(st.sampled_from(["type1", "type2-treated", "none-documented"])),
                          hba1c=draw(st.one_of(st.none(), st.builds(LabValue, value=st.floats(4, 12),
                                                                   date=st.dates(dt.date(2026, 1, 1), dt.date(2026, 11, 1)))))),
        lung=LungDisease(ild_history=draw(st.booleans()), symptomatic=draw(st.sampled_from([None, True, False]))),
        qtc_ms=draw(st.one_of(st.none(), st.builds(LabValue, value=st.floats(380, 520)))),
    )
    return state


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients())
def test_any_patient_gets_contract_valid_cards_and_never_a_regimen_without_its_requirements(state):
    cards = view(state)
    check_invariants(state, cards)
