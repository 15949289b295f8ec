"""A drafted drug of the class of a drug the record shows active (an active MedicationRequest /
MedicationStatement, not one of the drafts), or a second endocrine agent beside an active one:
no labelled regimen gives both (labels B.1-B.14, clinical-reference.md B), so the order hooks
name the active drug (order-not-indicated warning, nothing suggested or pre-selected: the active
order is not a draft). A draft naming the active order as the one it replaces (FHIR R4
MedicationRequest.priorPrescription) is a deliberate switch: no such card.
"""

from __future__ import annotations

import pytest

from mappings.state import Exposure

from tests.orders.fhir import Chart
from tests.orders.helpers import by_topic, topics
from tests.orders.states import ago, base_state, draft, drug, src
from tests.orders import test_order_hooks_http as http
from tests.orders.test_order_rules import run

client, post = http.client, http.post  # the HTTP fixture and request helper

ACTIVE = " active: no label"


def on_first_line(*names: str, ref: str = "MedicationRequest/rx-current"):
    """First line de novo, the drugs named taken now (an active order since 60 days ago)."""
    s = base_state()
    s.therapy.exposures = [Exposure(drugs=[drug(n) for n in names], start=ago(60), active=True, status="active",
                                    setting="metastatic", sources=[src(ref, 60)])]
    return s


def active_cards(cards: list[dict]) -> list[dict]:
    return [c for c in cards if ACTIVE in c["summary"]]


@pytest.mark.parametrize("active, drafted, why", [
    (("letrozole", "ribociclib"), "palbociclib", "Two CDK4/6 inhibitors (palbociclib drafted, ribociclib active)"),
    (("letrozole", "ribociclib"), "abemaciclib", "Two CDK4/6 inhibitors (abemaciclib drafted, ribociclib active)"),
    (("letrozole", "ribociclib"), "anastrozole", "Two aromatase inhibitors (anastrozole drafted, letrozole active)"),
    (("letrozole", "ribociclib"), "fulvestrant", "Two endocrine agents (fulvestrant drafted, letrozole active)"),
    (("fulvestrant",), "elacestrant", "Two endocrine agents (elacestrant drafted, fulvestrant active)"),
    (("alpelisib", "fulvestrant"), "capivasertib",
     "Two PI3K/AKT/mTOR inhibitors (capivasertib drafted, alpelisib active)"),
])
def test_a_drug_drafted_beside_an_active_drug_of_its_class_gets_a_warning_naming_the_active_drug(active, drafted, why):
    cards = run(on_first_line(*active), [draft("d", drafted)])
    [card] = active_cards(cards)
    other = next(n for n in active if why.endswith(f"{n} active)"))
    assert card["summary"] == (f"{drafted.capitalize()} drafted while {other} is active: no labelled regimen gives "
                               f"both — stop {other} if switching")
    assert card["indicator"] == "warning" and card["source"]["topic"]["code"] == "order-not-indicated"
    assert f"- {why}: each labelled regimen holds at most one endocrine agent and one drug of each class " \
           "(labels B.1-B.14)." in card["detail"]
    assert f"- {other}: already active — MedicationRequest/rx-current ({ago(60)})" in card["detail"]
    assert f"stop the active {other} order" in card["detail"]
    # the active order is not a draft: nothing to delete, nothing pre-selected
    assert not card.get("suggestions")


@pytest.mark.parametrize("active, drafted", [
    (("letrozole", "ribociclib"), "ribociclib"),      # a renewal of the drug taken
    (("capecitabine",), "paclitaxel"),                # chemotherapy: left to the clinician (C.2 step 2)
])
def test_only_a_second_drug_of_a_class_or_endocrine_agent_is_named_not_a_renewal_or_chemotherapy(active, drafted):
    assert active_cards(run(on_first_line(*active), [draft("d", drafted)])) == []


def test_a_drug_drafted_with_a_drug_of_its_class_both_active_and_drafted_is_left_to_the_extra_drug_card():
    cards = run(on_first_line("letrozole", "ribociclib"), [draft("r", "ribociclib"), draft("p", "palbociclib")])
    assert active_cards(cards) == []
    assert any(c["summary"].startswith("Palbociclib drafted with ribociclib") for c in cards), topics(cards)


def test_order_select_names_the_active_drug_only_when_the_drug_of_its_class_is_selected():
    drafts = [draft("p", "palbociclib"), draft("g", "goserelin")]
    state = on_first_line("letrozole", "ribociclib")
    assert active_cards(run(state, drafts, ["MedicationRequest/g"], "order-select")) == []
    assert len(active_cards(run(state, drafts, ["MedicationRequest/p"], "order-select"))) == 1


def test_a_draft_whose_prior_prescription_is_the_active_order_is_a_deliberate_switch_and_gets_no_such_card():
    switch = draft("p", "palbociclib")
    switch.prior_prescription = "MedicationRequest/rx-current"
    state = on_first_line("letrozole", "ribociclib")
    assert active_cards(run(state, [switch])) == []
    # the same draft replacing another order: ribociclib is still active
    switch.prior_prescription = "MedicationRequest/rx-older"
    assert len(active_cards(run(state, [switch]))) == 1


# --- through HTTP: an active MedicationRequest in prefetch, priorPrescription on the draft --------------

def test_http_palbociclib_drafted_while_an_ordered_ribociclib_is_active_names_it_unless_the_draft_replaces_it(client):
    chart = Chart("pt-switch").hr_positive_mbc(metastatic_days_ago=100)
    chart.med("letrozole", 90)
    current = chart.active_order("ribociclib", 90)
    [palbo] = chart.drafts(("mr-palbo", "palbociclib"))
    card = by_topic(active_cards(post(client, chart, "order-sign", [palbo])), "order-not-indicated")
    assert card["summary"] == ("Palbociclib drafted while ribociclib is active: no labelled regimen gives both — "
                               "stop ribociclib if switching")
    assert current in card["detail"]
    assert [r["code"] for r in card["overrideReasons"]] == [
        "clinical-trial", "benefit-outweighs-risk", "outside-data", "record-outdated"]
    # FHIR R4 MedicationRequest.priorPrescription naming the active order (absolute, versioned)
    palbo["priorPrescription"] = {"reference": f"https://ehr.example/fhir/{current}/_history/3"}
    assert active_cards(post(client, chart, "order-sign", [palbo])) == []


def test_two_drugs_drafted_beside_two_active_drugs_of_their_classes_are_named_in_one_card():
    cards = active_cards(run(on_first_line("fulvestrant", "ribociclib"),
                             [draft("l", "letrozole"), draft("p", "palbociclib")]))
    assert [c["summary"] for c in cards] == [
        "Letrozole and palbociclib drafted while fulvestrant and ribociclib are active: no label combines them "
        "— stop the active ones if switching"]
    assert "stop the active fulvestrant and ribociclib orders: this card does not stop them" in cards[0]["detail"]


def test_the_switch_line_of_a_card_naming_two_active_drugs_reads_as_english():
    # it said "as them are not one of the drafts" (rt35)
    [card] = active_cards(run(on_first_line("fulvestrant", "ribociclib"),
                              [draft("l", "letrozole"), draft("p", "palbociclib")]))
    assert ("- If this is a switch, stop the active fulvestrant and ribociclib orders: this card does not stop "
            "them, as they are not among the drafts.") in card["detail"]
    [one] = active_cards(run(on_first_line("letrozole", "ribociclib"), [draft("p", "palbociclib")]))
    assert ("- If this is a switch, stop the active ribociclib order: this card does not stop it, as it is not "
            "one of the drafts.") in one["detail"]


def test_http_a_drug_drafted_beside_an_order_prohibiting_the_active_drug_of_its_class_gets_no_such_card(client):
    # FHIR R4 MedicationRequest.doNotPerform: "do not give anastrozole" signed with letrozole is
    # the stop the card asks for; it said "stop anastrozole if switching" all the same (rt35)
    chart = Chart("pt-ai-switch").hr_positive_mbc(metastatic_days_ago=100)
    chart.active_order("ribociclib", 90)
    chart.med("exemestane", 90)
    letrozole, stop = chart.drafts(("mr-letrozole", "letrozole"), ("mr-no-exemestane", "exemestane"))
    assert active_cards(post(client, chart, "order-sign", [letrozole])) != []
    stop["doNotPerform"] = True
    assert active_cards(post(client, chart, "order-sign", [letrozole, stop])) == []


@pytest.mark.parametrize("active, drafted", [
    ("datopotamab deruxtecan", "trastuzumab deruxtecan"),
    ("sacituzumab govitecan", "trastuzumab deruxtecan"),
    ("trastuzumab deruxtecan", "datopotamab deruxtecan"),
])
def test_an_antibody_drug_conjugate_drafted_while_another_is_active_gets_the_warning_naming_the_active_one(active, drafted):
    # a HER2- and a TROP2-directed conjugate are of two classes, but each label gives its conjugate
    # alone (Enhertu B.11, Trodelvy B.12, Datroway B.13): no label gives two, as for two of one class
    [card] = active_cards(run(on_first_line(active), [draft("d", drafted)]))
    # (the summary is clipped to its 140 characters: the long names leave no room for "switching")
    assert card["summary"].startswith(f"{drafted.capitalize()} drafted while {active} is active: no labelled "
                                      f"regimen gives both — stop {active}")
    assert card["indicator"] == "warning" and card["source"]["topic"]["code"] == "order-not-indicated"
    assert (f"- Two antibody-drug conjugates ({drafted} drafted, {active} active): each label gives its conjugate "
            "alone, with no partner drug (labels B.11-B.13).") in card["detail"]


def on_tamoxifen():
    """A relapse on adjuvant tamoxifen, the tamoxifen order still active (recorded 2 years ago)."""
    return on_first_line("tamoxifen", ref="MedicationStatement/tam")


@pytest.mark.parametrize("drafts, drafted", [
    ([draft("l", "letrozole"), draft("r", "ribociclib")], "Letrozole and ribociclib"),
    ([draft("lr", "letrozole", "ribociclib")], "Letrozole and ribociclib"),
    ([draft("f", "fulvestrant"), draft("r", "ribociclib")], "Fulvestrant and ribociclib"),
])
def test_an_endocrine_agent_and_ribociclib_drafted_while_tamoxifen_is_active_get_one_card_saying_stop_tamoxifen(
        drafts, drafted):
    # CR C.2 safety overlays (ribociclib + tamoxifen: warning) and B.1-B.14 (one endocrine agent per
    # regimen): both are answered by stopping tamoxifen, so one card says both
    cards = run(on_tamoxifen(), drafts)
    [card] = [c for c in cards if "tamoxifen" in c["summary"]]
    assert card["summary"] == (f"{drafted} drafted while tamoxifen is active: stop tamoxifen if switching — "
                               "two endocrine agents; ribociclib with tamoxifen")
    assert card["indicator"] == "warning" and card["source"]["topic"]["code"] == "order-not-indicated"
    assert "- Ribociclib with tamoxifen (ribociclib drafted, tamoxifen active): C.2 safety overlays ask for a " \
           "warning on the tamoxifen combination" in card["detail"]
    assert not any(c["summary"].startswith("Ribociclib: with tamoxifen") for c in cards)


def test_ribociclib_drafted_alone_while_tamoxifen_is_active_keeps_its_own_tamoxifen_caution():
    cards = run(on_tamoxifen(), [draft("r", "ribociclib")])
    assert [c["summary"] for c in cards if "tamoxifen" in c["summary"]] == [
        f"Ribociclib: with tamoxifen ({ago(60)}) — caution"]


def test_the_merged_tamoxifen_caution_stays_in_the_summary_when_two_active_drugs_make_it_long():
    # two active drugs named: the summary would be clipped before "ribociclib with tamoxifen" (C.2
    # safety overlays); the stop advice it drops is the detail's "If this is a switch" line
    cards = run(on_first_line("tamoxifen", "palbociclib", ref="MedicationStatement/tam"),
                [draft("e", "exemestane"), draft("r", "ribociclib")])
    [card] = [c for c in cards if "tamoxifen" in c["summary"]]
    assert card["summary"] == ("Exemestane and ribociclib drafted while tamoxifen and palbociclib are active: "
                               "no label combines them; ribociclib with tamoxifen")
    assert "- If this is a switch, stop the active tamoxifen and palbociclib orders" in card["detail"]


def _letrozole_replacing_tamoxifen():
    d = draft("l", "letrozole")
    d.prior_prescription = "MedicationStatement/tam"  # FHIR R4 MedicationRequest.priorPrescription
    return d


def _no_tamoxifen():
    d = draft("no-t", "tamoxifen")
    d.prohibits = True  # FHIR R4 MedicationRequest.doNotPerform, as mappings.build reads it
    d.not_checked = "doNotPerform: it prohibits the drug, it does not order it"
    return d


@pytest.mark.parametrize("drafts", [
    lambda: [_letrozole_replacing_tamoxifen(), draft("r", "ribociclib")],
    lambda: [draft("l", "letrozole"), draft("r", "ribociclib"), _no_tamoxifen()],
])
def test_ribociclib_drafted_with_a_switch_that_ends_the_active_tamoxifen_gets_no_tamoxifen_caution(drafts):
    # C.2 safety overlays warn on ribociclib *with* tamoxifen; a draft replacing the tamoxifen order
    # (priorPrescription) or prohibiting tamoxifen (doNotPerform) ends it in this session, the
    # switch the merged card asks for: it said "Ribociclib: with tamoxifen — caution" all the same
    cards = run(on_tamoxifen(), drafts())
    assert [c["summary"] for c in cards if "tamoxifen" in c["summary"].lower()] == []
