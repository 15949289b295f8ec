"""CORS for browser CDS clients (the CDS Hooks sandbox)."""

import pytest

ORIGIN = "https://sandbox.cds-hooks.org"


@pytest.mark.parametrize("path", [
    "/cds-services",
    "/cds-services/mbc-treatment-options",
    "/cds-services/mbc-order-sign/feedback",
])
def test_preflight_allows_authorization_and_content_type(client, path):
    response = client.options(path, headers={
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    })
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_actual_responses_carry_the_allow_origin_header(client):
    response = client.get("/cds-services", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)
