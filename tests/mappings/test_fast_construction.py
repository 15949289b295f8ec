"""The hot path builds state models without re-validation (mappings/_fast.py) and
memoises code readings per concept (fhir.Concept). Both must give exactly what the
validated constructors and a fresh reading give."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from mappings import _fast, build_patient_state
from mappings.fhir import cc_text, codings, concept
from mappings.state import Drug, Exposure, PatientState, Source
from tests.mappings.builders import (
    LOINC, PID, RXNORM, cc, coding, loinc_obs, med_admin, med_request, metastatic_patient, quantity,
)


def _same(a: BaseModel, b: BaseModel) -> None:
    assert type(a) is type(b)
    assert a == b
    assert repr(a) == repr(b)
    assert list(a.__dict__) == list(b.__dict__)  # field order (repr, JSON)
    assert a.model_fields_set == b.model_fields_set
    assert a.__pydantic_extra__ == b.__pydantic_extra__
    assert a.__pydantic_private__ == b.__pydantic_private__
    assert a.model_dump_json() == b.model_dump_json()


def test_fast_source_is_the_validated_source():
    for args in (("Observation/a", dt.date(2020, 1, 2), "ER IHC", None, None),
                 ("Observation/b", None, None, "ctdna", None),
                 ("MedicationRequest/?", dt.date(1, 1, 1), "letrozole -> letrozole", "tissue", None),
                 ("Observation/c", dt.date(2024, 1, 1), "ER IHC", None, dt.date(2024, 12, 31))):
        fast = _fast.source(*args)
        _same(fast, Source(reference=args[0], date=args[1], display=args[2], specimen=args[3], date_last=args[4]))


def test_fast_sources_share_a_fields_set_that_assignment_and_copies_never_change():
    # all instances share one fields-set object (_fast docstring): it must stay every field
    a, b = _fast.source("Observation/a", None, None, None), _fast.source("Observation/b", None, None, None)
    a.display = "ER IHC"
    copied = b.model_copy(update={"date": dt.date(2020, 1, 2)})
    copied.specimen = "tissue"
    everything = {"reference", "date", "display", "specimen", "date_last"}
    assert a.model_fields_set == b.model_fields_set == copied.model_fields_set == everything
    assert (b.display, b.date, b.specimen) == (None, None, None)
    assert copied.model_fields_set is not b.model_fields_set


def test_fast_exposure_is_the_validated_exposure_with_its_own_lists():
    drug = Drug(rxnorm="72965", name="letrozole", drug_class="aromatase-inhibitor")
    src = Source(reference="MedicationStatement/x", date=dt.date(2021, 3, 1))
    drugs, sources = [drug], [src]
    fast = _fast.exposure(list(drugs), dt.date(2021, 3, 1), None, True, "metastatic", list(sources), "active", False,
                          dt.date(2021, 3, 31), None)
    slow = Exposure(drugs=drugs, start=dt.date(2021, 3, 1), end=None, active=True, setting="metastatic",
                    sources=sources, status="active", superseded=False, start_last=dt.date(2021, 3, 31), end_last=None)
    _same(fast, slow)
    assert fast.drugs is not drugs and fast.sources is not sources


def _revalidated(state: PatientState) -> PatientState:
    return PatientState(**{name: getattr(state, name) for name in PatientState.model_fields})


def test_the_assembled_state_is_what_validation_builds():
    refills = [med_request("72965", f"2021-{m:02d}-01", status="completed") for m in range(1, 13)]
    shots = [med_admin("282357", f"2021-{m:02d}-15") for m in range(1, 7)]
    labs = [loinc_obs("4548-4", f"2021-{m:02d}-10", **quantity(6.0 + m / 10)) for m in range(1, 7)]
    resources = metastatic_patient("2020-06-01", *refills, *shots, *labs)
    state = build_patient_state(resources, PID, dt.date(2022, 1, 1))
    _same(state, _revalidated(state))
    for e in state.therapy.exposures:
        _same(e, Exposure(**{name: getattr(e, name) for name in Exposure.model_fields}))
        for s in e.sources:
            _same(s, Source(**{name: getattr(s, name) for name in Source.model_fields}))
    assert state.gaps is not _revalidated(state).gaps


def test_memoised_concepts_read_like_fresh_ones_and_are_shared():
    concepts = [
        cc(coding(LOINC, "4548-4", "Hemoglobin A1c")),
        cc(coding(LOINC, " 4548-4 ", "HbA1c"), text="HbA1c"),
        cc(coding(RXNORM, "72965"), coding(LOINC, "x"), text="Letrozole 2.5 MG"),
        {"coding": [{"system": LOINC, "code": 5}]},  # not keyable: read afresh
        {"code": "bare", "system": LOINC},
        {"coding": "not a list"},
        None,
    ]
    for c in concepts:
        con = concept(c)
        assert con.codings == codings(c)
        assert con.text == cc_text(c)
    keyed = cc(coding(LOINC, "4548-4", "Hemoglobin A1c"))
    assert concept(keyed) is concept(cc(coding(LOINC, "4548-4", "Hemoglobin A1c")))
    assert concept({"coding": [{"system": LOINC, "code": 5}]}) is not concept({"coding": [{"system": LOINC, "code": 5}]})
