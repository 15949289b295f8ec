"""Hook endpoints: request validation, response shape, 400/404/412 with messages."""

import gzip
import json

import pytest

from cards.contract import response_problems

from .conftest import empty_prefetch, patient_view_request

SERVICE = "/cds-services/mbc-treatment-options"


def test_patient_view_with_full_null_prefetch_answers_a_valid_card_response(client):
    response = client.post(SERVICE, json=patient_view_request(prefetch=empty_prefetch()))
    assert response.status_code == 200
    body = response.get_json()
    assert response_problems(body, "p1") == []
    assert body["cards"][0]["source"]["topic"]["code"] == "patient-summary"


def test_non_json_body_is_a_400_that_says_so(client):
    response = client.post(SERVICE, data="hook=patient-view", content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.get_json()["message"]


def test_empty_body_is_a_400(client):
    response = client.post(SERVICE, data="", content_type="application/json")
    assert response.status_code == 400
    assert "empty" in response.get_json()["message"]


def test_a_json_array_body_is_a_400(client):
    response = client.post(SERVICE, json=[1, 2])
    assert response.status_code == 400
    assert "JSON object" in response.get_json()["message"]


def test_missing_patient_id_is_a_400_naming_the_field(client):
    body = patient_view_request(prefetch=empty_prefetch())
    del body["context"]["patientId"]
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    assert "context.patientId" in response.get_json()["message"]


def test_missing_hook_instance_is_a_400_naming_the_field(client):
    body = patient_view_request(prefetch=empty_prefetch())
    del body["hookInstance"]
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    assert "hookInstance" in response.get_json()["message"]


def test_wrong_hook_for_the_service_is_a_400(client):
    body = patient_view_request(prefetch=empty_prefetch())
    body["hook"] = "order-sign"
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "patient-view" in message and "order-sign" in message


def test_wrong_type_for_context_is_a_400_naming_the_field(client):
    body = patient_view_request(prefetch=empty_prefetch())
    body["context"] = "Patient/p1"
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    assert "context" in response.get_json()["message"]


def test_fhir_authorization_without_fhir_server_is_a_400(client):
    body = patient_view_request(
        prefetch=empty_prefetch(),
        fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                           "scope": "patient/*.read", "subject": "mbc-cds"},
    )
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    assert "fhirServer" in response.get_json()["message"]


def _authorization(**changes) -> dict:
    return dict({"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                 "scope": "patient/*.read", "subject": "mbc-cds"}, **changes)


@pytest.mark.parametrize("field, value", [
    ("expires_in", True), ("expires_in", "300"), ("expires_in", 300.0),
    ("scope", ""), ("patient", ""),
])
def test_a_fhir_authorization_field_of_the_wrong_type_or_empty_is_a_400_naming_it(client, field, value):
    body = patient_view_request(prefetch=empty_prefetch(), fhirServer="https://fhir.example.org/r4",
                                fhirAuthorization=_authorization(**{field: value}))
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    assert f"fhirAuthorization.{field}" in response.get_json()["message"]


def test_an_empty_fhir_server_or_encounter_id_is_a_400_naming_it(client):
    response = client.post(SERVICE, json=patient_view_request(prefetch=empty_prefetch(), fhirServer=""))
    assert response.status_code == 400 and "fhirServer" in response.get_json()["message"]
    body = patient_view_request(prefetch=empty_prefetch())
    body["context"]["encounterId"] = ""
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400 and "context.encounterId" in response.get_json()["message"]


def test_a_well_formed_fhir_authorization_is_accepted(client):
    body = patient_view_request(prefetch=empty_prefetch(), fhirServer="https://fhir.example.org/r4",
                                fhirAuthorization=_authorization(patient="p1"))
    assert client.post(SERVICE, json=body).status_code == 200


def test_order_select_without_selections_is_a_400_naming_the_field(client):
    body = {
        "hook": "order-select", "hookInstance": "a6b0f0d4-1f6f-4d59-9b0c-8d7c3c5a1b01",
        "context": {"userId": "Practitioner/1", "patientId": "p1",
                    "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": []}},
        "prefetch": empty_prefetch(),
    }
    response = client.post("/cds-services/mbc-order-select", json=body)
    assert response.status_code == 400
    assert "context.selections" in response.get_json()["message"]


def _order_select(selections) -> dict:
    draft = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": "Enhertu"}}
    return {
        "hook": "order-select", "hookInstance": "a6b0f0d4-1f6f-4d59-9b0c-8d7c3c5a1b04",
        "context": {"userId": "Practitioner/1", "patientId": "p1", "selections": selections,
                    "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}},
        "prefetch": empty_prefetch(),
    }


def test_order_select_with_a_selection_naming_no_draft_order_is_a_400_naming_it(client):
    response = client.post("/cds-services/mbc-order-select", json=_order_select(["MedicationRequest/does-not-exist"]))
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "selections[0]" in message and "'MedicationRequest/does-not-exist'" in message and "draftOrders" in message
    # a value that could carry markup is not repeated
    response = client.post("/cds-services/mbc-order-select", json=_order_select(["MedicationRequest/mr1", "<b>x"]))
    assert response.status_code == 400 and "selections[1]" in response.get_json()["message"]
    assert "<b>" not in response.get_json()["message"]


def test_order_select_with_empty_selections_is_a_400_naming_the_field(client):
    response = client.post("/cds-services/mbc-order-select", json=_order_select([]))
    assert response.status_code == 400
    assert "context.selections" in response.get_json()["message"]


@pytest.mark.parametrize("selection", ["MedicationRequest/mr1", "https://ehr.example.org/fhir/MedicationRequest/mr1"])
def test_order_select_with_a_selection_naming_a_draft_order_is_answered(client, selection):
    assert client.post("/cds-services/mbc-order-select", json=_order_select([selection])).status_code == 200


def test_draft_orders_that_are_not_a_bundle_is_a_400(client):
    body = {
        "hook": "order-sign", "hookInstance": "a6b0f0d4-1f6f-4d59-9b0c-8d7c3c5a1b02",
        "context": {"userId": "Practitioner/1", "patientId": "p1", "draftOrders": {"resourceType": "Patient"}},
        "prefetch": empty_prefetch(),
    }
    response = client.post("/cds-services/mbc-order-sign", json=body)
    assert response.status_code == 400
    assert "draftOrders" in response.get_json()["message"]


def test_unknown_service_is_a_404(client):
    response = client.post("/cds-services/no-such-service", json=patient_view_request(prefetch=empty_prefetch()))
    assert response.status_code == 404
    assert "see /cds-services" in response.get_json()["message"]


def test_unknown_fields_are_tolerated(client):
    body = patient_view_request(prefetch=empty_prefetch(), extension={"org.example.flag": True})
    body["context"]["org.example.extra"] = "x"
    assert client.post(SERVICE, json=body).status_code == 200


def test_no_prefetch_and_no_fhir_server_is_a_412_naming_the_missing_keys(client):
    response = client.post(SERVICE, json=patient_view_request())
    assert response.status_code == 412
    message = response.get_json()["message"]
    assert "no fhirServer" in message and "conditions" in message


def test_order_sign_with_an_empty_draft_bundle_answers_an_empty_card_list(client):
    body = {
        "hook": "order-sign", "hookInstance": "a6b0f0d4-1f6f-4d59-9b0c-8d7c3c5a1b03",
        "context": {"userId": "Practitioner/1", "patientId": "p1",
                    "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": []}},
        "prefetch": empty_prefetch(),
    }
    response = client.post("/cds-services/mbc-order-sign", json=body)
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_on_a_service_are_405_json(client, method):
    response = getattr(client, method)(SERVICE)
    assert response.status_code == 405
    assert response.get_json()["error"]


def test_a_fhir_token_scoped_to_another_patient_is_a_400(client):
    body = patient_view_request(
        prefetch=empty_prefetch(), fhirServer="https://fhir.example.org/r4",
        fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                           "scope": "patient/*.read", "subject": "mbc-cds", "patient": "someone-else"},
    )
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    assert "fhirAuthorization.patient" in response.get_json()["message"]
    assert "someone-else" not in response.get_json()["message"]


def test_a_body_that_is_not_utf8_is_a_400_that_says_so(client):
    raw = json.dumps(patient_view_request(prefetch=empty_prefetch())).encode("utf-16")
    response = client.post(SERVICE, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "UTF-8" in response.get_json()["message"]


def test_a_latin1_body_is_a_400_that_says_it_is_not_utf8_without_speaking_of_surrogates(client):
    body = patient_view_request(prefetch=empty_prefetch())
    body["context"]["userId"] = "Practitioner/Dr-Müller"
    raw = json.dumps(body, ensure_ascii=False).encode("latin-1")
    response = client.post(SERVICE, data=raw, content_type="application/json")
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert message.startswith("request body is not valid JSON: it is not UTF-8 text")
    assert "surrogate" not in message


@pytest.mark.parametrize("path", [SERVICE, SERVICE + "/feedback"])
def test_a_405_names_the_allowed_methods_in_an_allow_header(client, path):
    response = client.get(path)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["error"] == "method-not-allowed"


def test_a_double_slash_in_a_service_path_is_a_json_404_not_a_redirect(client):
    response = client.post("/cds-services//mbc-treatment-options", json=patient_view_request(prefetch=empty_prefetch()))
    assert response.status_code == 404
    assert "Location" not in response.headers
    assert "discovery is at /cds-services" in response.get_json()["message"]


@pytest.mark.parametrize("url, reason", [
    ("ftp://x/fhir", "not an absolute http(s) URL"),
    ("not a url", "characters not allowed"),
    ("https://user:pw@fhir.example.org/r4", "credentials"),
])
@pytest.mark.parametrize("prefetched", [True, False])
def test_a_malformed_fhir_server_is_a_400_naming_it_whether_or_not_it_would_be_used(client, url, reason, prefetched):
    body = patient_view_request(prefetch=empty_prefetch() if prefetched else None, fhirServer=url)
    response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert message.startswith("fhirServer") and reason in message


def test_a_well_formed_fhir_server_off_the_configured_list_is_a_412_that_names_the_setting_not_a_client(app_config):
    from service.app import create_app

    client = create_app(dict(app_config, fhir_servers="https://fhir.example.org/r4")).test_client()
    response = client.post(SERVICE, json=patient_view_request(fhirServer="https://other.example.org/fhir"))
    assert response.status_code == 412
    message = response.get_json()["message"]
    assert "MBC_CDS_FHIR_SERVERS" in message and "client" not in message


def _raw_post(client, data: bytes, content_type: str = "application/json", **headers):
    return client.post(SERVICE, data=data, headers=dict(headers, **{"Content-Type": content_type}))


@pytest.mark.parametrize("compressed", [True, False])
def test_a_body_with_a_content_encoding_is_a_415_asking_for_an_uncompressed_one(client, compressed):
    body = json.dumps(patient_view_request(prefetch=empty_prefetch())).encode()
    response = _raw_post(client, gzip.compress(body) if compressed else body, **{"Content-Encoding": "gzip"})
    assert response.status_code == 415
    assert "'gzip'" in response.get_json()["message"] and "uncompressed" in response.get_json()["message"]
    assert response.headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize("charset, codec", [("utf-16", "utf-16"), ("iso-8859-1", "latin-1")])
def test_a_body_in_another_charset_than_utf_8_is_a_415_naming_it(client, charset, codec):
    body = patient_view_request(prefetch=empty_prefetch())
    body["context"]["userId"] = "Practitioner/Ren\u00e9e"
    response = _raw_post(client, json.dumps(body, ensure_ascii=False).encode(codec),
                         f"application/json; charset={charset}")
    assert response.status_code == 415
    assert f"charset '{charset}'" in response.get_json()["message"]


@pytest.mark.parametrize("content_type, encoding", [
    ("application/json; charset=utf-8", "identity"), ("application/json; charset=UTF-8", None)])
def test_a_plain_utf_8_body_is_accepted_with_an_explicit_charset_or_identity_encoding(client, content_type, encoding):
    headers = {"Content-Encoding": encoding} if encoding else {}
    body = json.dumps(patient_view_request(prefetch=empty_prefetch())).encode()
    assert _raw_post(client, body, content_type, **headers).status_code == 200


@pytest.fixture
def auth_on_client(tmp_path):
    from service.app import create_app

    app = create_app({"auth": "on", "public_url": "https://cds.example.org",
                      "database_url": f"sqlite:///{tmp_path}/feedback.sqlite"})
    return app.test_client()


@pytest.mark.parametrize("path", [SERVICE, SERVICE + "/feedback"])
@pytest.mark.parametrize("authorization", [None, "Basic Zm9vOmJhcg=="])
def test_a_call_without_a_bearer_token_gets_the_bare_bearer_challenge(auth_on_client, path, authorization):
    # RFC 6750 §3.1: a request that carries no token (none, or another scheme) gets
    # WWW-Authenticate: Bearer without an error code; it used to say error="invalid_token"
    headers = {"Authorization": authorization} if authorization else {}
    response = auth_on_client.post(path, json=patient_view_request(prefetch=empty_prefetch()), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_bearer_token_that_fails_gets_the_invalid_token_challenge(auth_on_client):
    response = auth_on_client.post(SERVICE, json=patient_view_request(prefetch=empty_prefetch()),
                                   headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.get_json()["message"] == "malformed token"


@pytest.mark.parametrize("method, path", [
    ("post", SERVICE + "/"), ("get", "/cds-services/"), ("post", SERVICE + "/feedback/"),
])
def test_a_url_with_a_trailing_slash_is_a_404_that_says_the_slash_is_the_problem(client, method, path):
    # it used to say only "no such endpoint; discovery is at /cds-services", which reads
    # as a wrong service id when the base URL was configured with a trailing '/'
    response = getattr(client, method)(path, json=patient_view_request(prefetch=empty_prefetch()))
    assert response.status_code == 404
    assert "Location" not in response.headers
    assert "ends with '/'" in response.get_json()["message"]


def test_an_unknown_path_with_a_trailing_slash_keeps_the_plain_404_message(client):
    response = client.post("/cds-services/nope/extra/", json={})
    assert response.status_code == 404
    assert response.get_json()["message"] == "no such endpoint; discovery is at /cds-services"


@pytest.mark.parametrize("authorization", ["Bearer", "bearer ", "BEARER"])
def test_the_bearer_scheme_without_a_token_gets_the_bare_bearer_challenge(auth_on_client, authorization):
    # no token was sent, so there is no invalid one (RFC 6750 §3.1; docs/integration.md:
    # "plain Bearer when no bearer token was sent"); it used to say error="invalid_token"
    response = auth_on_client.post(SERVICE, json=patient_view_request(prefetch=empty_prefetch()),
                                   headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["message"] == "Authorization must be 'Bearer <JWT>'"


@pytest.mark.parametrize("path", ["/cds-services/unknown-id/", "/cds-services/unknown-id/feedback/"])
def test_an_unknown_service_id_with_a_trailing_slash_keeps_the_plain_404_message(client, path):
    # dropping the '/' would still not reach a service: the slash hint used to send the
    # integration engineer to a second 404 ("no CDS service with this id")
    response = client.post(path, json=patient_view_request(prefetch=empty_prefetch()))
    assert response.status_code == 404
    assert response.get_json()["message"] == "no such endpoint; discovery is at /cds-services"


def test_a_preflight_to_a_service_url_with_a_trailing_slash_is_told_the_slash_is_the_problem(client):
    # the POST to the same URL is told so; the OPTIONS preflight used to be matched as a GET
    response = client.options(SERVICE + "/", headers={"Origin": "https://ehr.example.org",
                                                      "Access-Control-Request-Method": "POST"})
    assert response.status_code == 404
    assert "ends with '/'" in response.get_json()["message"]
