"""A request field given twice in one JSON object (RFC 8259 §4: names SHOULD be unique)
is refused with a 400 naming it: which value the client meant is unclear."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.service.conftest import empty_prefetch, observation, patient_view_request, searchset

SERVICE = "/cds-services/mbc-treatment-options"
FEEDBACK = "/cds-services/mbc-treatment-options/feedback"


def post_raw(client, path: str, raw: str):
    return client.post(path, data=raw.encode(), headers={"Content-Type": "application/json"})


def body_with_patient_ids(first: str, second: str) -> str:
    """A patient-view request whose context gives patientId twice."""
    body = json.dumps(patient_view_request("PLACEHOLDER", prefetch=empty_prefetch()))
    return body.replace('"patientId": "PLACEHOLDER"', f'"patientId": "{first}", "patientId": "{second}"')


def test_a_hook_request_naming_two_patients_is_refused_not_answered_for_the_last_one(client):
    response = post_raw(client, SERVICE, body_with_patient_ids("p1", "p2"))
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert message.startswith("context.patientId is given more than once")
    assert "p1" not in message and "p2" not in message  # the caller's values are not repeated


def test_an_order_sign_request_giving_draft_orders_twice_is_refused_not_checked_against_the_last(client):
    body = {
        "hook": "order-sign", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-1", "patientId": "p1", "draftOrders": "ORDERS"},
        "prefetch": empty_prefetch(),
    }
    orders = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": []})
    raw = json.dumps(body).replace('"draftOrders": "ORDERS"', f'"draftOrders": {orders}, "draftOrders": {orders}')
    response = post_raw(client, "/cds-services/mbc-order-sign", raw)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("context.draftOrders is given more than once")


def test_a_repeated_name_inside_a_prefetched_resource_does_not_refuse_the_request(client):
    bundle = searchset([observation("o1")])
    body = json.dumps(patient_view_request("p1", prefetch={**empty_prefetch(), "tumorMarkers": bundle}))
    raw = body.replace('"status": "final"', '"status": "final", "status": "final"')
    assert raw != body
    assert post_raw(client, SERVICE, raw).status_code == 200


def test_a_context_name_used_again_in_a_draft_order_is_not_mistaken_for_a_repeat(client):
    # a FHIR resource may well hold an extension or element that reuses a request field name
    body = patient_view_request("p1", prefetch=empty_prefetch())
    body["prefetch"]["patient"] = {"resourceType": "Patient", "id": "p1", "context": {"patientId": "x"}}
    assert post_raw(client, SERVICE, json.dumps(body)).status_code == 200


@pytest.mark.parametrize("item, repeated", [
    ('{"card": "%s", "card": "%s", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z"}'
     % (uuid.uuid4(), uuid.uuid4()), "feedback[0].card"),
    ('{"card": "%s", "outcome": "accepted", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z"}'
     % uuid.uuid4(), "feedback[0].outcome"),
    # an accepted suggestion named by two ids at once
    ('{"card": "%s", "outcome": "accepted", "acceptedSuggestions": [{"id": "s1", "id": "s2"}], '
     '"outcomeTimestamp": "2026-01-01T00:00:00Z"}' % uuid.uuid4(), "feedback[0].acceptedSuggestions[0].id"),
], ids=["card", "outcome", "accepted-suggestion-id"])
def test_feedback_giving_a_field_twice_in_one_item_is_refused_naming_it(client, item, repeated):
    response = post_raw(client, FEEDBACK, '{"feedback": [%s]}' % item)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(f"{repeated} is given more than once")


def test_feedback_with_several_items_each_naming_its_card_once_is_stored(client):
    items = [{"card": str(uuid.uuid4()), "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z",
              "overrideReason": {"userComment": "seen"}} for _ in range(3)]
    response = post_raw(client, FEEDBACK, json.dumps({"feedback": items}))
    assert response.status_code == 200
    assert response.get_json() == {"received": 3, "stored": 3}


def test_a_patient_id_repeated_with_a_json_escape_is_refused_not_answered_for_the_last_one(client):
    # "patient\u0049d" is the same name as "patientId" once the JSON escape is read (RFC 8259 §7)
    raw = body_with_patient_ids("p1", "p2").replace('"patientId": "p2"', '"patient\\u0049d": "p2"')
    response = post_raw(client, SERVICE, raw)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("context.patientId is given more than once")


def test_a_name_written_with_a_json_escape_once_is_not_mistaken_for_a_repeat(client):
    raw = json.dumps(patient_view_request("p1", prefetch=empty_prefetch())).replace(
        '"patientId"', '"patient\\u0049d"')
    assert post_raw(client, SERVICE, raw).status_code == 200


def test_a_hook_request_giving_its_context_twice_is_refused_not_answered_for_the_second_patient(client):
    body = json.dumps(patient_view_request("PLACEHOLDER", prefetch=empty_prefetch()))
    first = '"context": {"userId": "Practitioner/dr-1", "patientId": "PLACEHOLDER"}'
    assert first in body
    raw = body.replace(first, first.replace("PLACEHOLDER", "p1") + ", " + first.replace("PLACEHOLDER", "p2"))
    response = post_raw(client, SERVICE, raw)
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert message.startswith("context is given more than once")
    assert "p1" not in message and "p2" not in message


def test_an_order_select_context_repeating_both_draft_orders_and_selections_is_refused(client):
    orders = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": "m1", "draftOrders": "not a field"}}]})
    body = {
        "hook": "order-select", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-1", "patientId": "p1", "draftOrders": "ORDERS",
                    "selections": ["MedicationRequest/m1"]},
        "prefetch": empty_prefetch(),
    }
    raw = json.dumps(body).replace('"draftOrders": "ORDERS"', f'"draftOrders": {orders}, "draftOrders": {orders}')
    raw = raw.replace('"selections": ["MedicationRequest/m1"]',
                      '"selections": ["MedicationRequest/m1"], "selections": ["MedicationRequest/m2"]')
    response = post_raw(client, "/cds-services/mbc-order-select", raw)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("context.draftOrders is given more than once")


def test_a_draft_orders_bundle_whose_resources_use_the_name_draft_orders_is_not_a_repeat(client):
    orders = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": "m1", "status": "draft", "intent": "order",
                      "subject": {"reference": "Patient/p1"}, "draftOrders": {"patientId": "x"}}}]}
    body = {
        "hook": "order-sign", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-1", "patientId": "p1", "draftOrders": orders},
        "prefetch": empty_prefetch(),
    }
    assert post_raw(client, "/cds-services/mbc-order-sign", json.dumps(body)).status_code == 200


def test_looking_for_repeated_hook_fields_costs_a_small_part_of_reading_the_body():
    # issue 8's budget (a): the repeat check runs on every hook call, so it must not
    # scan the 300-resource body (about 200 KiB) name by name
    import timeit

    import orjson

    from bench import patients
    from service.schemas import refuse_repeated_hook_fields

    raw = patients.request_bytes(300)
    body = orjson.loads(raw)

    def fastest(call, number=200):
        return min(timeit.repeat(call, number=number, repeat=5)) / number

    check = fastest(lambda: refuse_repeated_hook_fields(raw, "patient-view", body))
    parse = fastest(lambda: orjson.loads(raw), number=50)
    assert check < parse / 10, (check, parse)
