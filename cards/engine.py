"""Entry points the service calls.

Contract (keep it):
    patient_view_cards(state) -> list[Card]   ranked, patient-summary first
    order_cards(state, drafts, selections, hook) -> list[Card]
        drafts: list[DraftOrder]; selections: list of "Type/id" (order-select)
        or None (order-sign: check every draft); hook: "order-select"|"order-sign"

patient-view = summary card, then the regimen cards that fit (pathway rank
order, cards/pathway.py), then the testing cards a decision waits on
(cards/testing.py). Knowledge: cards/knowledge/*.yaml.
"""

from __future__ import annotations

from mappings.state import DraftOrder, PatientState

from cards.models import Card, new_uuids
from cards.orders import order_check_cards
from cards.pathway import evaluate, pathway_status
from cards.render import SERVICE_LABEL, SERVICE_URL, regimen_card, summary_card, testing_card
from cards.rules import Context, Finding
from cards.testing import testing_needs

__all__ = ["patient_view_cards", "order_cards", "SERVICE_LABEL", "SERVICE_URL"]

ESR1_TOPICS = ("elacestrant", "imlunestrant")
GAP_KEYWORDS = ("pik3ca", "akt1", "pten", "brca", "esr1", "hba1c", "glucose", "menopaus", "her2", "ecog", "qtc")


def _pathway_gaps(state: PatientState, assessments, needs) -> list[Finding]:
    """Unknowns that block or limit advice, deduplicated, for the summary card."""
    seen: dict[str, Finding] = {}
    fa = state.factors
    if fa.sex == "female" and fa.menopausal_status == "unknown":
        seen["meno"] = Finding(None, "Menopausal status not documented (elacestrant/everolimus labels; OFS need)")
    for need in needs:
        if need.topic == "test-er-pr-her2":
            continue  # the mapper reports unreadable receptors itself
        for f in need.reasons:
            if f.value is None:
                seen.setdefault(f.text, f)
    covered = {name for need in needs for name in need.waiting}
    for a in assessments:
        if a.regimen.name in covered:
            continue
        for f in a.unknown:
            seen.setdefault(f.text, f)
    # drop what the mapper already reported as a gap (same subject)
    reported = " ".join(f"{g.code} {g.message}" for g in state.gaps).lower()
    keywords = [k for k in GAP_KEYWORDS if k in reported]
    if not keywords:
        return list(seen.values())
    out = []
    for f in seen.values():
        text = f.text.lower()
        for k in keywords:
            if k in text:
                break
        else:
            out.append(f)
    return out


def patient_view_cards(state: PatientState) -> list[Card]:
    ctx = Context.of(state)
    status = pathway_status(state)
    assessments = evaluate(state, ctx, status)
    needs = testing_needs(state, assessments, status, ctx)
    shown = [a for a in assessments if a.fits and not a.regimen.informational_only]
    info_only = [a for a in assessments if a.fits and a.regimen.informational_only]
    # every UUID of the response (cards and suggestions) from one os.urandom read
    count = 1 + sum(1 + sum(1 for c in a.choices if c.excluded is None) for a in shown) \
        + sum(1 + (len(n.orders) if n.alternatives else 1) for n in needs)
    ids = iter(new_uuids(count))
    cards = [summary_card(state, status, ctx, assessments, needs, _pathway_gaps(state, assessments, needs),
                          next(ids))]
    for i, a in enumerate(shown, 1):
        notes = []
        if a.topic in ESR1_TOPICS:
            notes += [f"Also an ESR1 option: {x.regimen.name} ({x.regimen.brand}) — {x.regimen.unverified}"
                      for x in info_only]
        cards.append(regimen_card(a, state, i, notes, ids))
    cards += [testing_card(n, state, ids) for n in needs]
    return cards


def order_cards(
    state: PatientState,
    drafts: list[DraftOrder],
    selections: list[str] | None,
    hook: str,
) -> list[Card]:
    return order_check_cards(state, drafts, selections, hook)
