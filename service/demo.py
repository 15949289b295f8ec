"""Embedded demo patients (service/demo/patients/*.json, FHIR R4 transaction Bundles).

With MBC_CDS_DEMO=true, a hook call that carries neither the prefetch nor a
fhirServer is answered from these, so `make run` needs no external server.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DEMO_DIR = Path(__file__).with_name("demo") / "patients"


@lru_cache(maxsize=1)
def demo_patients() -> dict[str, dict]:
    """patient id -> {"resources": [...], "description": str, "file": name}."""
    patients: dict[str, dict] = {}
    for path in sorted(DEMO_DIR.glob("*.json")):
        with open(path, encoding="utf-8") as fh:
            bundle = json.load(fh)
        resources = [e["resource"] for e in bundle.get("entry", []) if "resource" in e]
        patient = next((r for r in resources if r.get("resourceType") == "Patient"), None)
        if patient is None:
            continue
        description = next(
            (ext.get("valueString") for ext in bundle.get("meta", {}).get("extension", [])
             if ext.get("url", "").endswith("demo-description")),
            None,
        ) or bundle.get("meta", {}).get("tag", [{}])[0].get("display", "")
        patients[patient["id"]] = {
            "resources": resources,
            "description": description,
            "file": path.name,
            "bundle": bundle,
        }
    return patients


def demo_resources(patient_id: str) -> list[dict] | None:
    patient = demo_patients().get(patient_id)
    return list(patient["resources"]) if patient else None
