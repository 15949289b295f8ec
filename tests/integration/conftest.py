"""Integration-test helpers; the FHIR server fixture (`fhir_server`) is in tests/conftest.py."""

from __future__ import annotations

import requests


def put_resources(base_url: str, resources: list[dict]) -> None:
    """PUT each resource at Type/id so literal references keep resolving."""
    order = {"Patient": 0}
    for resource in sorted(resources, key=lambda r: order.get(r["resourceType"], 1)):
        url = f"{base_url}/{resource['resourceType']}/{resource['id']}"
        response = requests.put(
            url, json=resource, headers={"Content-Type": "application/fhir+json"}, timeout=10
        )
        assert response.status_code in (200, 201), (url, response.status_code, response.text[:300])
