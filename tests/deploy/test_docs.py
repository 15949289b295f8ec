"""The README's configuration table and the integration guide stay in step
with the code: every setting, prefetch key, metric and demo patient."""

from __future__ import annotations

import re

import yaml

from service.config import Settings
from service.demo import demo_index

from .conftest import REPO_DIR

README = (REPO_DIR / "README.md").read_text(encoding="utf-8")
GUIDE = (REPO_DIR / "docs" / "integration.md").read_text(encoding="utf-8")


def section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 4)
    return text[start:end if end != -1 else None]


def test_the_readme_documents_every_setting_with_its_default():
    config = section(README, "Configuration")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(MBC_CDS_[A-Z0-9_]+)` \| ([^|]+) \|", config, re.M)}
    for name, field in Settings.model_fields.items():
        env = f"MBC_CDS_{name.upper()}"
        assert env in rows, f"{env} missing from the README configuration table"
        default = field.default
        shown = ",".join(default) if isinstance(default, list) else default
        if shown in (None, []) or shown == "":
            assert "unset" in rows[env], env
        else:
            token = str(shown).lower() if isinstance(shown, bool) else str(shown)
            assert f"`{token}`" in rows[env], (env, rows[env])


def test_the_readme_deployment_section_gives_the_compose_command_sandbox_urls_and_the_guide():
    deployment = section(README, "Deployment")
    assert "docker compose -f docker/compose.yaml up" in deployment
    assert "http://localhost:8080/cds-services" in deployment
    assert "http://localhost:8081/fhir" in deployment
    assert "docs/integration.md" in deployment


def test_the_guide_names_every_prefetch_key_the_service_asks_for():
    hooks = yaml.safe_load((REPO_DIR / "service" / "hooks.yaml").read_text())
    prefetch = section(GUIDE, "Prefetch")
    for key in hooks["prefetch"]:
        assert f"`{key}`" in prefetch, key


def test_the_guide_names_every_metric_and_every_demo_patient():
    from prometheus_client.metrics import MetricWrapperBase

    from service import metrics

    names = {m._name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    assert names
    for name in names:
        assert name in GUIDE, name
    for entry in demo_index():
        assert f"`{entry['patient']}`" in GUIDE, entry["patient"]


def test_the_guide_warns_that_the_sandbox_issuer_is_for_tests_only():
    sandbox = section(GUIDE, "Try it in the CDS Hooks sandbox")
    assert "https://sandbox.cds-hooks.org/.well-known/jwks.json" in sandbox
    assert "ES384" in sandbox and "never be on a production" in sandbox
