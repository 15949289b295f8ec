"""patient-view without prefetch against a real FHIR server (sekmet-fhir on 127.0.0.1),
loaded with the real mCODE trial-matching patient from ../shared/data/real/."""

import uuid

import pytest

from cards.contract import response_problems
from service.app import create_app
from tests.conftest import REAL_PATIENT_ID

from .conftest import put_resources

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def loaded_server(fhir_server, real_patient_resources):
    put_resources(fhir_server, real_patient_resources)
    return fhir_server


@pytest.fixture
def client(tmp_path):
    app = create_app({"auth": "off", "allow_http_fhir": True,
                      "database_url": f"sqlite:///{tmp_path}/fb.sqlite"})
    return app.test_client()


def call_patient_view(client, fhir_server, patient_id=REAL_PATIENT_ID):
    return client.post("/cds-services/mbc-treatment-options", json={
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": fhir_server,
        "context": {"userId": "Practitioner/dr-1", "patientId": patient_id},
    })


def test_without_prefetch_the_service_fetches_the_real_patient_from_the_fhir_server(
    client, loaded_server, real_patient_resources, monkeypatch
):
    seen = {}
    import service.routes as routes

    original = routes.run_hook

    def spy(hook, context, resources, notes=None, as_of=None, **kwargs):
        seen["resources"] = resources
        return original(hook, context, resources, notes, as_of, **kwargs)

    monkeypatch.setattr(routes, "run_hook", spy)
    response = call_patient_view(client, loaded_server)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert response_problems(body, REAL_PATIENT_ID) == []
    assert body["cards"][0]["source"]["topic"]["code"] == "patient-summary"

    fetched = {(r["resourceType"], r["id"]) for r in seen["resources"]}
    expected = {(r["resourceType"], r["id"]) for r in real_patient_resources
                if r["resourceType"] != "Observation" or r["code"]["coding"][0]["code"] != "62862-8"}
    # Everything the pathway needs came back: the patient, its 4 conditions,
    # its tumour markers, variants, stage and ECOG, and its 5 medication statements.
    # (The MSI observation, 62862-8, is outside the prefetch's code lists.)
    assert expected <= fetched
    types = {t for t, _ in fetched}
    assert {"Patient", "Condition", "Observation", "MedicationStatement"} <= types


def test_an_unknown_patient_on_the_fhir_server_is_a_412(client, loaded_server):
    response = call_patient_view(client, loaded_server, patient_id="no-such-patient")
    assert response.status_code == 412
    assert "Patient" in response.get_json()["message"]


def test_paging_is_followed_on_a_real_server(loaded_server):
    from service.fhir_client import FHIRClient

    client = FHIRClient(loaded_server)
    resources, complete = client.search(f"MedicationStatement?patient={REAL_PATIENT_ID}&_count=2")
    assert complete and len(resources) == 5


def _without_uuids(body: dict) -> str:
    import json
    import re

    return re.sub(r'"[0-9a-f]{8}-[0-9a-f-]{27}"', '"uuid"', json.dumps(body["cards"], sort_keys=True))


def test_sekmet_declares_the_patient_revincludes_and_the_folded_search_gives_the_same_data_and_cards(
    client, loaded_server, monkeypatch
):
    import service.routes as routes
    from service.fhir_client import FHIRClient

    seen, sent = [], []
    original_run, original_search = routes.run_hook, FHIRClient.search

    def spy_run(hook, context, resources, notes=None, as_of=None, **kwargs):
        seen.append({(r["resourceType"], r["id"]) for r in resources})
        return original_run(hook, context, resources, notes, as_of, **kwargs)

    def spy_search(self, path, **options):
        sent.append(path.split("&_count")[0])
        return original_search(self, path, **options)

    monkeypatch.setattr(routes, "run_hook", spy_run)
    monkeypatch.setattr(FHIRClient, "search", spy_search)
    separate, folded = call_patient_view(client, loaded_server), call_patient_view(client, loaded_server)
    assert separate.status_code == folded.status_code == 200
    # the first call: 7 searches (and a read; the Observation keys take two within the query-length
    # limit); the second: the two Observation searches and the folded Patient search
    assert len(sent) == 7 + 3
    assert any(p.startswith(f"Patient?_id={REAL_PATIENT_ID}&_revinclude=") for p in sent[7:])
    assert seen[0] == seen[1]
    assert _without_uuids(folded.get_json()) == _without_uuids(separate.get_json())


def test_an_unknown_patient_is_still_a_412_when_the_searches_are_folded(client, loaded_server):
    assert call_patient_view(client, loaded_server).status_code == 200  # learns what sekmet declares
    response = call_patient_view(client, loaded_server, patient_id="no-such-patient")
    assert response.status_code == 412
    assert "Patient" in response.get_json()["message"]


def _stored_as(pid: str, resources: list[dict]) -> list[dict]:
    """The builder's resources with ids prefixed by the patient id (the session's server is
    shared: generic ids like `var-brca1-7` must not overwrite another test's), references kept."""
    renamed = {r["id"]: f"{pid}-{r['id']}" for r in resources if r["resourceType"] != "Patient"}
    out = []
    for r in resources:
        r = dict(r)
        if r["resourceType"] != "Patient":
            r["id"] = renamed[r["id"]]
        if "derivedFrom" in r:
            r["derivedFrom"] = [{"reference": "Observation/" + renamed[d["reference"].split("/", 1)[1]]}
                                for d in r["derivedFrom"]]
        out.append(r)
    return out


def test_a_germline_brca1_variant_whose_pathogenicity_is_only_in_a_diagnostic_implication_is_fetched_and_gets_talazoparib(
    client, fhir_server, monkeypatch
):
    """Genomics Reporting STU3 puts a variant's clinical significance in a DiagnosticImplication
    Observation that points at the variant (derivedFrom). Without prefetch the service must ask
    for it (the genomics template), in the merged Observation search and when the other searches
    are folded into one Patient search, or the BRCA1 variant has no significance: no talazoparib,
    and a germline test is proposed instead."""
    from service.fhir_client import FHIRClient
    from tests.cards.fhir_builder import hr_positive_mbc

    pid = "it-gbrca1-implication"
    patient = (hr_positive_mbc(pid, primary="2024-01-10")
               .regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
               .variant("BRCA1", "p.Gln1756ProfsTer74", origin="germline", specimen="blood", on="2024-03-01",
                        significance=None)
               .implication("BRCA1", "pathogenic", on="2024-03-01"))
    put_resources(fhir_server, _stored_as(pid, patient.resources))

    sent = []
    original_search = FHIRClient.search

    def spy_search(self, path, **options):
        sent.append(path)
        return original_search(self, path, **options)

    monkeypatch.setattr(FHIRClient, "search", spy_search)
    separate, folded = call_patient_view(client, fhir_server, pid), call_patient_view(client, fhir_server, pid)
    for response in (separate, folded):
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert response_problems(body, pid) == []
        topics = [c["source"]["topic"]["code"] for c in body["cards"]]
        assert "talazoparib" in topics
        assert "test-germline-brca" not in topics
        talazoparib = next(c for c in body["cards"] if c["source"]["topic"]["code"] == "talazoparib")
        assert "BRCA1" in talazoparib["detail"]
    assert any("_revinclude=" in p for p in sent)  # the second call folded the other searches
    implication = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs|diagnostic-implication"
    observation_searches = [p for p in sent if p.startswith("Observation?")]
    assert observation_searches and all(
        implication in p for p in observation_searches if "http://loinc.org|69548-6" in p)  # the genomics search


def _spy_on_requests(monkeypatch) -> list[str]:
    import service.fhir_client as fhir_client

    sent = []
    for name in ("search", "read"):
        original = getattr(fhir_client.FHIRClient, name)

        def spy(self, path, *args, _original=original, **kwargs):
            sent.append(path.split("?")[0])
            return _original(self, path, *args, **kwargs)

        monkeypatch.setattr(fhir_client.FHIRClient, name, spy)
    return sent


def _call_with_scope(client, loaded_server, scope: str):
    return client.post("/cds-services/mbc-treatment-options", json={
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": loaded_server,
        "fhirAuthorization": {"access_token": "tok-1", "token_type": "Bearer", "expires_in": 300,
                              "scope": scope, "subject": "mbc-cds", "patient": REAL_PATIENT_ID},
        "context": {"userId": "Practitioner/dr-1", "patientId": REAL_PATIENT_ID},
    })


def test_with_a_scope_granting_only_patient_and_observation_the_call_is_a_412_before_any_request(
    client, loaded_server, monkeypatch
):
    # CDS Hooks 2.0.1 §Prefetch: required data the service cannot obtain and the request did
    # not prefetch -> "SHALL respond with an HTTP 412". fix-sv2 fetched the granted types and
    # answered 200, the headline reading "No breast cancer diagnosis documented"
    sent = _spy_on_requests(monkeypatch)
    response = _call_with_scope(client, loaded_server, "patient/Patient.read patient/Observation.read")
    assert response.status_code == 412, response.get_json()
    message = response.get_json()["message"]
    assert sent == []
    assert "Condition (conditions: not prefetched; patient/Condition.read or patient/Condition.rs would grant it)" \
        in message
    assert "tok-1" not in message


def test_with_observations_granted_only_for_laboratory_results_the_real_server_is_searched_with_a_gap(
    client, loaded_server, monkeypatch
):
    sent = _spy_on_requests(monkeypatch)
    scope = ("patient/Patient.read patient/Condition.read patient/Observation.rs?category=laboratory "
             "patient/MedicationStatement.read patient/MedicationRequest.read patient/MedicationAdministration.read "
             "patient/Procedure.read patient/Medication.read")
    response = _call_with_scope(client, loaded_server, scope)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert response_problems(body, REAL_PATIENT_ID) == []
    assert "Observation" in sent  # (the other types may be folded into one Patient search)
    detail = body["cards"][0]["detail"]
    assert ("Observation records (tumorMarkers, genomics, clinicalFindings): fhirAuthorization.scope grants this "
            "service only Observation records matching a query restriction") in detail
