"""The eribulin 'not offered' reason says first what the label still needs, then what was
given: 'Not offered: Eribulin — Anthracycline (doxorubicin); taxane (paclitaxel); 0 chemotherapy
lines ...' read as if the anthracycline and the taxane kept eribulin off (clinical-reference.md
B.14: eribulin after an anthracycline and a taxane and >= 2 chemotherapy regimens for
metastatic disease)."""

from tests.cards.helpers import card
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, hr_positive_mbc, run


def _eribulin_line(cards) -> str:
    return next(x for x in card(cards, "chemotherapy")["detail"].splitlines() if "Not offered: Eribulin" in x)


def test_after_adjuvant_anthracycline_and_taxane_eribulin_is_not_offered_for_the_metastatic_chemotherapy_lines_alone():
    p = (hr_positive_mbc("erib-adj", primary="2016-03-01").med("doxorubicin", "2016-04-01", "2016-06-01")
         .med("paclitaxel", "2016-06-15", "2016-09-01").med("letrozole", "2016-10-01", "2021-10-01")
         .regimen(("letrozole", "abemaciclib"), "2024-02-01", "2025-05-20").progression("2025-05-15"))
    _, cards = run(p)
    line = _eribulin_line(cards)
    assert line.startswith("- Not offered: Eribulin — 0 chemotherapy lines for metastatic disease, at least 2 needed "
                           "(none documented). Given: anthracycline (doxorubicin); taxane (paclitaxel). Eribulin label: "), line


def test_after_two_metastatic_chemotherapy_lines_without_an_anthracycline_eribulin_is_not_offered_for_the_anthracycline():
    p = (after_ai_cdk46i("erib-no-anth").med("capecitabine", "2025-06-01", "2025-10-01")
         .med("paclitaxel", "2025-10-15", "2026-01-10").progression("2026-01-05"))
    _, cards = run(p, __import__("datetime").date(2026, 2, 1))
    line = _eribulin_line(cards)
    assert line.startswith("- Not offered: Eribulin — No anthracycline documented. Given: taxane (paclitaxel); "
                           "2 chemotherapy lines for metastatic disease (line 2: capecitabine"), line
