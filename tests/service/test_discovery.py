"""Discovery: the three services of DESIGN.md with spec-valid prefetch templates."""

import re

from cards.contract import _empty_paths

TOKEN = re.compile(r"\{\{([^}]*)\}\}")
ALLOWED_TOKENS = {
    "context.patientId", "context.userId", "context.encounterId",
    "userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId",
}


def services(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    return {s["id"]: s for s in response.get_json()["services"]}


def test_discovery_lists_the_three_services_with_their_hooks(client):
    found = services(client)
    assert {sid: s["hook"] for sid, s in found.items()} == {
        "mbc-treatment-options": "patient-view",
        "mbc-order-select": "order-select",
        "mbc-order-sign": "order-sign",
    }
    for service in found.values():
        assert service["title"] and service["description"]


def test_discovery_has_no_null_or_empty_fields(client):
    assert _empty_paths(client.get("/cds-services").get_json()) == []


def test_prefetch_templates_use_only_spec_valid_tokens(client):
    for service in services(client).values():
        for template in service["prefetch"].values():
            tokens = set(TOKEN.findall(template))
            assert tokens, template
            assert tokens <= ALLOWED_TOKENS, tokens


def test_prefetch_covers_every_resource_type_ehrs_populate(client):
    for service in services(client).values():
        queried = {t.split("?")[0].split("/")[0] for t in service["prefetch"].values()}
        assert {
            "Patient", "Condition", "Observation", "MedicationStatement",
            "MedicationRequest", "MedicationAdministration", "Procedure",
        } <= queried


def test_prefetch_does_not_pin_one_code_per_concept(client):
    templates = " ".join(services(client)["mbc-treatment-options"]["prefetch"].values())
    # several ER codes, several HER2 codes, variants by 69548-6, glycemic labs, ECOG
    for code in ("85337-4", "40556-3", "16112-5", "85329-1", "85319-2", "18474-7",
                 "48676-1", "85318-4", "69548-6", "4548-4", "1558-6", "89247-1"):
        assert code in templates, code


def test_discovery_answers_a_browser_preflight(client):
    response = client.options(
        "/cds-services",
        headers={"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://sandbox.cds-hooks.org")


def test_health_endpoint_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_discovery_says_calls_without_prefetch_need_read_access_to_the_medications_referenced(client):
    # medication searches the service sends add _include=<Type>:medication
    for service_id in ("mbc-treatment-options", "mbc-order-select", "mbc-order-sign"):
        # the order services use the same prefetch templates, so the same reads without it
        requirements = services(client)[service_id]["usageRequirements"]
        assert re.search(r"\bMedication\b", requirements), service_id


GR_DIAGNOSTIC_IMPLICATION = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs|diagnostic-implication"


def test_the_genomics_prefetch_asks_for_the_diagnostic_implications_that_carry_a_variants_significance(client):
    # Genomics Reporting STU3 reports pathogenicity in a DiagnosticImplication Observation
    # (TbdCodesCS#diagnostic-implication, derivedFrom the variant; clinical-reference A.2):
    # an EHR following the template must send it, or a germline BRCA variant has no significance.
    for service in services(client).values():
        template = service["prefetch"]["genomics"]
        path, _, query = template.partition("?")
        assert path == "Observation"  # one search per key, plain token parameters only
        params = dict(part.split("=", 1) for part in query.split("&"))
        assert set(params) == {"patient", "code"}
        codes = params["code"].split(",")
        assert GR_DIAGNOSTIC_IMPLICATION in codes
        assert "http://loinc.org|53037-8" in codes  # older senders: the significance Observation coded 53037-8
        assert "http://loinc.org|69548-6" in codes


def _observation_template_codes(prefetch: dict) -> set[str]:
    codes = set()
    for template in prefetch.values():
        if template.startswith("Observation?"):
            codes |= {token.rsplit("|", 1)[-1] for token in re.search(r"code=([^&]*)", template).group(1).split(",")}
    return codes


def _codes_the_mappings_read() -> dict[str, set[str]]:
    from mappings import tables as T

    return {
        "tumour markers": set(T.TUMOR_MARKERS) - {c for c, (_, kind) in T.TUMOR_MARKERS.items() if kind == "serum"},
        "variants": set(T.VARIANT_CODES), "regions studied": set(T.REGION_STUDIED_CODES),
        "single-gene codes": set(T.LEGACY_GENE_CODES), "ECOG": set(T.ECOG_CODES), "HbA1c": set(T.HBA1C_CODES),
        "fasting glucose": set(T.FPG_CODES), "QTc": set(T.QTC_CODES), "menopause": set(T.MENO_QUESTION_CODES),
        "disease status": set(T.DISEASE_STATUS_CODES), "stage group": set(T.STAGE_GROUP_CODES),
        "M category": set(T.M_CATEGORY_CODES),
        # a variant's significance as its own Observation: 53037-8, or a Genomics Reporting
        # DiagnosticImplication, read through its derivedFrom pointer (mappings/genomics.py)
        "significance": {T.COMP["significance"], "diagnostic-implication"},
    }


def test_every_observation_code_the_mappings_read_is_asked_for_by_a_prefetch_template(client):
    # A code the mappings read but no template asks for never arrives with a full
    # prefetch (e.g. QTc 8636-3: the ribociclib QTcF check could never fire).
    asked = _observation_template_codes(services(client)["mbc-treatment-options"]["prefetch"])
    missing = {concept: sorted(codes - asked) for concept, codes in _codes_the_mappings_read().items()
               if codes - asked}
    assert missing == {}


def test_no_prefetch_template_asks_for_an_observation_code_no_mapping_reads(client):
    # Minimum necessary: the EHR should not send, nor the service fetch, results nothing
    # here reads (random glucose 2339-0, Karnofsky 89243-0 and the variant panel 81247-9 were).
    read = set().union(*_codes_the_mappings_read().values())
    asked = _observation_template_codes(services(client)["mbc-treatment-options"]["prefetch"])
    assert sorted(asked - read) == []
