"""Card topic codes: the stable contract of ../shared/DESIGN.md.

Codes are stable identifiers other tools filter on; displays may change.
"""

TOPIC_SYSTEM = "https://mbc-cds.org/fhir/CodeSystem/card-topic"

REGIMEN_TOPICS = {
    "ai-cdk46i": "Aromatase inhibitor + CDK4/6 inhibitor",
    "fulvestrant-cdk46i": "Fulvestrant + CDK4/6 inhibitor",
    "inavolisib-palbociclib-fulvestrant": "Inavolisib + palbociclib + fulvestrant",
    "elacestrant": "Elacestrant",
    "imlunestrant": "Imlunestrant",
    "vepdegestrant": "Vepdegestrant",
    "alpelisib-fulvestrant": "Alpelisib + fulvestrant",
    "capivasertib-fulvestrant": "Capivasertib + fulvestrant",
    "olaparib": "Olaparib",
    "talazoparib": "Talazoparib",
    "everolimus-exemestane": "Everolimus + exemestane",
    "fulvestrant": "Fulvestrant",
    "trastuzumab-deruxtecan": "Trastuzumab deruxtecan",
    "datopotamab-deruxtecan": "Datopotamab deruxtecan",
    "sacituzumab-govitecan": "Sacituzumab govitecan",
    "chemotherapy": "Single-agent chemotherapy",
}

TESTING_TOPICS = {
    "test-esr1": "ESR1 mutation testing",
    "test-pik3ca-akt1-pten": "PIK3CA/AKT1/PTEN testing",
    "test-germline-brca": "Germline BRCA1/2 testing",
    "test-her2": "HER2 IHC re-test / 0 vs ultralow vs low",
    "test-er-pr-her2": "ER/PR/HER2 status",
    "test-glycemic": "HbA1c / fasting glucose",
}

OTHER_TOPICS = {
    "patient-summary": "What the service understood",
    "order-biomarker-missing": "Order: required biomarker not documented",
    "order-not-indicated": "Order: not indicated for this patient",
    "order-contraindicated": "Order: documented safety reason",
    "order-incomplete-regimen": "Order: regimen partner missing",
}

ALL_TOPICS = {**REGIMEN_TOPICS, **TESTING_TOPICS, **OTHER_TOPICS}


def topic_display(code: str) -> str:
    if code not in ALL_TOPICS:
        raise ValueError(f"unknown card topic {code!r}")
    return ALL_TOPICS[code]
