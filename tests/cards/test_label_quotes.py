"""Label indications a card prints inside quotation marks are the label's words, as
clinical-reference.md Part B quotes them: verbatim, every cut marked ("…", "...", "[...]"),
every word of the card's own in square brackets."""

import re
from pathlib import Path

import pytest
import yaml

import cards.knowledge as K
from tests.cards.helpers import card
from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, after_ai_cdk46i, de_novo, run

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "clinical-reference.md"
# a marked cut, or square brackets around the card's own words (an editorial insertion)
CUT_MARKS = re.compile(r"\[[^\]]*\]|…|\.\.\.")


def _words(text: str) -> str:
    return " ".join(text.split())


def _reference_section(section: str) -> str:
    """The text of '### B.5 ...' up to the next heading (regimens.yaml source ref-B5)."""
    text = REFERENCE.read_text()
    start = re.search(rf"^### {re.escape(section)} ", text, re.M)
    assert start, f"no section {section} in {REFERENCE}"
    end = re.compile(r"^##", re.M).search(text, start.end())
    return _words(text[start.start():end.start() if end else None])


def _order_rule_labels(node, path):
    """order_rules.yaml {label, source} entries: the order cards quote `label`."""
    if isinstance(node, dict):
        if isinstance(node.get("label"), str) and str(node.get("source", "")).startswith("ref-B"):
            yield path, node["label"], node["source"]
        for key, value in node.items():
            yield from _order_rule_labels(value, f"{path}.{key}")


def _label_quotations():
    for r in K.REGIMENS:
        quotes = [q["text"] for q in r.label.get("quotes", ())] + ([r.label["text"]] if "text" in r.label else [])
        for q in quotes:
            yield pytest.param(r.label["source"], q, id=f"regimens.yaml {r.topic}")
    order_rules = yaml.safe_load((Path(K.__file__).parent / "order_rules.yaml").read_text())
    for path, label, source in _order_rule_labels(order_rules, "order_rules.yaml "):
        yield pytest.param(source, _words(label), id=path)


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/clinical-reference.md not beside the repository")
@pytest.mark.parametrize("source,quotation", list(_label_quotations()))
def test_every_quoted_label_text_is_the_reference_label_quote_with_only_marked_cuts(source, quotation):
    section = _reference_section(source.removeprefix("ref-").replace("B", "B.", 1))
    for piece in CUT_MARKS.split(quotation):
        piece = piece.strip(" ;")  # a cut may fall after a semicolon joining two indications
        if piece:
            assert piece in section, f"{source}: not verbatim in the reference: {piece!r}"


def test_every_regimen_label_line_is_a_quotation_or_a_statement_never_both():
    for r in K.REGIMENS:
        kinds = [k for k in ("text", "quotes", "statement") if k in r.label]
        assert len(kinds) == 1, (r.topic, kinds)


def test_the_capivasertib_card_quotes_the_truqap_label_in_its_own_words():
    p = after_ai_cdk46i("lq-truqap").variant("PIK3CA", "p.Glu545Lys", specimen="tissue", on="2025-06-01")
    _, cards = run(p)
    detail = card(cards, "capivasertib-fulvestrant")["detail"]
    assert ('**Label (approved 2023-11-16)**: "TRUQAP is a kinase inhibitor indicated, in combination with '
            "fulvestrant for the treatment of adult patients with hormone receptor (HR)-positive, human "
            'epidermal growth factor receptor 2 (HER2)-negative, locally advanced') in detail


def test_the_first_line_cdk46_inhibitor_card_quotes_each_label_under_its_name():
    _, cards = run(de_novo("lq-ai-cdk"), FIRST_LINE_AS_OF)
    detail = card(cards, "ai-cdk46i")["detail"]
    assert ('**Label**: Kisqali (ribociclib): "adult patients with HR+, HER2− advanced or metastatic breast '
            'cancer in combination with an aromatase inhibitor as initial endocrine-based therapy"; '
            'Verzenio (abemaciclib): "…in combination with an aromatase inhibitor as initial endocrine-based '
            'therapy for … adult patients"; Ibrance (palbociclib): "…in combination') in detail


def test_the_chemotherapy_card_does_not_put_its_guideline_summary_in_quotation_marks():
    p = de_novo("lq-crisis", site="liver").visceral_crisis("2024-01-16")
    _, cards = run(p, FIRST_LINE_AS_OF)
    detail = card(cards, "chemotherapy")["detail"]
    assert "**Label**: Guideline-endorsed sequential single agents (capecitabine" in detail
    assert '"Guideline-endorsed' not in detail
