"""Checks that hold for every patient: never a regimen without its biomarker or prior therapy."""

from __future__ import annotations

from cards.topics import REGIMEN_TOPICS

from tests.cards.helpers import regimen_topics, topics


def check_invariants(state, cards: list[dict]) -> None:
    t = topics(cards)
    assert t[0] == "patient-summary", "the summary card comes first"
    assert t.count("patient-summary") == 1
    regs = set(regimen_topics(cards))
    bm, th, fa = state.biomarkers, state.therapy, state.factors
    in_pathway = (state.disease.breast_cancer == "yes" and state.disease.metastatic == "yes"
                  and state.hormone_receptor_positive is True
                  and state.her2.category not in ("positive", "unknown", "equivocal-pending"))
    if not in_pathway:
        assert not regs, f"regimen cards outside the pathway: {regs}"
        return
    if regs & {"elacestrant", "imlunestrant"}:
        assert bm.actionable("ESR1")
    if "inavolisib-palbociclib-fulvestrant" in regs or "alpelisib-fulvestrant" in regs:
        assert bm.actionable("PIK3CA")
    if "capivasertib-fulvestrant" in regs:
        assert any(bm.actionable(g) for g in ("PIK3CA", "AKT1", "PTEN"))
    if regs & {"olaparib", "talazoparib"}:
        assert bm.actionable("BRCA1", "germline") or bm.actionable("BRCA2", "germline")
    if "olaparib" in regs:
        assert th.prior_chemotherapy_any_setting
    if "trastuzumab-deruxtecan" in regs:
        assert state.her2.category in ("low", "ultralow")
        lung = fa.lung
        if lung.ild_history and (lung.symptomatic or (lung.grade or 0) >= 2):
            # C.2 safety overlays: shown as "do not start", as Dato-DXd, never silently dropped
            tdxd = next(c for c in cards if c["source"]["topic"]["code"] == "trastuzumab-deruxtecan")
            assert tdxd["indicator"] == "critical", "T-DXd after symptomatic ILD must be a do-not-start card"
        assert not th.prior_tdxd, "T-DXd rechallenge"
        if state.her2.category == "ultralow":
            assert th.metastatic_endocrine_lines >= 1, "HER2-ultralow only via label A"
    if "alpelisib-fulvestrant" in regs:
        assert not th.prior_pi3k_akt_mtor, "alpelisib after a prior PI3K/AKT/mTOR inhibitor (C.3 row 5)"
    if "capivasertib-fulvestrant" in regs:
        given = {d.name for e in th.exposures for d in e.drugs if d.drug_class == "pi3k-akt-mtor"}
        assert "capivasertib" not in given, "capivasertib again"
        if given:
            # the Truqap label has no such exclusion (CR B.5): offered, and said
            capi = next(c for c in cards if c["source"]["topic"]["code"] == "capivasertib-fulvestrant")
            assert "After another PI3K/AKT/mTOR inhibitor" in capi["detail"], "capivasertib after one, unsaid"
    if "inavolisib-palbociclib-fulvestrant" in regs:
        assert th.metastatic_systemic_lines == 0
    if "datopotamab-deruxtecan" in regs:
        assert th.metastatic_chemotherapy_lines >= 1
    if "sacituzumab-govitecan" in regs:
        assert th.metastatic_endocrine_lines >= 1 and th.metastatic_systemic_lines >= 3
    if "everolimus-exemestane" in regs:
        assert fa.sex == "female" and fa.menopausal_status == "postmenopausal" and th.prior_nonsteroidal_ai
    if "elacestrant" in regs:
        assert fa.sex == "male" or fa.menopausal_status == "postmenopausal"
    assert "vepdegestrant" not in regs, "vepdegestrant label unverified: no card"
    assert all(x in REGIMEN_TOPICS for x in regs)
