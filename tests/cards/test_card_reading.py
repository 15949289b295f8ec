"""The cards as an oncologist reads them: each fact said once, each summary short and
saying the decision, each wording matching the label (clinical-reference.md section B)."""

from tests.cards.helpers import card
from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, after_ai_cdk46i, de_novo, run


def test_the_palbociclib_survival_caution_is_said_once_on_the_first_line_ai_cdk46i_card_not_once_per_aromatase_inhibitor():
    _, cards = run(de_novo("cr-palbo-once"), FIRST_LINE_AS_OF)
    detail = card(cards, "ai-cdk46i")["detail"]
    assert detail.count("overall survival benefit not shown in PALOMA-2") == 1
    assert "Letrozole + palbociclib: Palbociclib:" not in detail


def test_the_fulvestrant_palbociclib_caution_does_not_name_the_pair_twice():
    _, cards = run(after_ai_cdk46i("cr-fulv-palbo"))
    detail = card(cards, "fulvestrant-cdk46i")["detail"]
    assert "- Palbociclib + fulvestrant: PALOMA-3 OS 34.9 vs 28.0 months" in detail
    assert "Fulvestrant + palbociclib: Palbociclib + fulvestrant" not in detail
