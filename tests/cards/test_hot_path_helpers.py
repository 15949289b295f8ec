"""The hot-path helpers rewritten for speed give what the straightforward versions give:
citations (cards.render.cite), dates (cards.rules.fmt_date / iso) and the per-state
Context (cards.rules.Context.of)."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from cards.render import MAX_CITED, cite
from cards.rules import Context, fmt_date, iso
from mappings.state import Drug, Exposure, Source, TherapyHistory, TherapyLine
from tests.cards import states as S


def reference_cite(sources) -> str:
    """cite() as first written: deduplicate every source, show MAX_CITED, count the rest."""
    if not sources:
        return ""
    seen: dict[str, Source] = {}
    for s in sources:
        if s.reference not in seen:
            seen[s.reference] = s
    shown = [f"{s.reference} ({s.date.isoformat()})" if s.date else s.reference
             for s in itertools.islice(seen.values(), MAX_CITED)]
    more = f" +{len(seen) - MAX_CITED} more" if len(seen) > MAX_CITED else ""
    return " — " + ", ".join(shown) + more


source = st.builds(Source, reference=st.sampled_from([f"Observation/o{i}" for i in range(12)]),
                   date=st.none() | st.dates(dt.date(2015, 1, 1), dt.date(2026, 12, 31)))


@settings(max_examples=400, deadline=None)
@given(st.lists(source, max_size=30))
def test_cite_is_the_deduplicating_citation(sources):
    want = reference_cite(sources)
    assert cite(sources) == want
    assert cite(tuple(sources)) == want
    assert cite(iter(sources)) == reference_cite(iter(sources))  # any iterable, as before


def test_cite_keeps_the_first_source_of_a_repeated_reference():
    a = Source(reference="Observation/a", date=dt.date(2024, 1, 2))
    a_later = Source(reference="Observation/a", date=dt.date(2025, 1, 2))
    b = Source(reference="Observation/b")
    assert cite([a, a_later, b]) == " — Observation/a (2024-01-02), Observation/b"
    many = [Source(reference=f"Observation/x{i % 9}") for i in range(40)]
    assert cite(many) == reference_cite(many) and cite(many).endswith(" +3 more")


@settings(max_examples=200, deadline=None)
@given(st.dates() | st.datetimes() | st.datetimes(timezones=st.timezones()))
def test_dates_are_written_as_isoformat(value):
    assert iso(value) == value.isoformat()
    assert iso(value) == value.isoformat()  # remembered or not, the same text
    assert fmt_date(value) == value.isoformat()
    assert fmt_date(None) == "date unknown"


def test_an_equal_datetime_in_another_zone_keeps_its_own_text():
    utc = dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)
    plus1 = dt.datetime(2026, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert utc == plus1
    assert (iso(utc), iso(plus1)) == (utc.isoformat(), plus1.isoformat())


def reference_context(state) -> dict:
    th = state.therapy
    name_sources: dict = {}
    class_names: dict = {}
    for e in th.exposures:
        for d in e.drugs:
            name_sources.setdefault(d.name, []).extend(e.sources)
            class_names.setdefault(d.drug_class, set()).add(d.name)
    metastatic = {n for ln in th.metastatic_lines for n in ln.names}
    metastatic |= {d.name for e in th.exposures if e.setting == "metastatic" for d in e.drugs}
    return {
        "lines": max(th.metastatic_systemic_lines, len(th.metastatic_lines)),
        "current_line": next((ln for ln in th.metastatic_lines if ln.active), None),
        "metastatic_drug_sets": [frozenset(ln.names) for ln in th.metastatic_lines],
        "metastatic_drugs": metastatic,
        "all_drugs": {d.name for e in th.exposures for d in e.drugs} | metastatic,
        "early_drugs": {d.name for e in th.exposures if e.setting == "early" for d in e.drugs},
        "classes_any": {d.drug_class for e in th.exposures for d in e.drugs}
        | {c for ln in th.metastatic_lines for c in ln.classes},
        "line_sources": tuple(s for ln in th.metastatic_lines for s in ln.sources),
        "name_sources": name_sources,
        "class_names": class_names,
    }


drug = st.sampled_from(sorted(S.CLASSES)).map(lambda n: Drug(name=n, drug_class=S.CLASSES[n]))
exposure = st.builds(Exposure, drugs=st.lists(drug, min_size=1, max_size=3),
                     setting=st.sampled_from(["early", "metastatic", "unknown"]),
                     sources=st.lists(source, max_size=3))
line = st.builds(TherapyLine, number=st.integers(1, 5), drugs=st.lists(drug, min_size=1, max_size=3),
                 active=st.booleans(), sources=st.lists(source, max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.lists(exposure, max_size=12), st.lists(line, max_size=4), st.integers(0, 5))
def test_context_is_the_facts_of_the_therapy_history(exposures, lines, systemic):
    state = S.base().model_copy(update={"therapy": TherapyHistory(
        exposures=exposures, metastatic_lines=lines, metastatic_systemic_lines=systemic)})
    ctx = Context.of(state)
    want = reference_context(state)
    for name, value in want.items():
        assert getattr(ctx, name) == value, name
    assert list(ctx.name_sources) == list(want["name_sources"])
    assert ctx.phase == ("first-line" if want["lines"] == 0 else "after-progression")
