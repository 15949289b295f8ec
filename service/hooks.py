"""Hook definitions, loaded from hooks.yaml (hook definitions as config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

HOOKS_FILE = Path(__file__).with_name("hooks.yaml")


@dataclass(frozen=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    usage_requirements: str | None
    prefetch: dict[str, str] = field(default_factory=dict)

    def discovery_entry(self) -> dict:
        entry = {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
        }
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        return entry


@lru_cache(maxsize=1)
def load_services() -> dict[str, ServiceDefinition]:
    with open(HOOKS_FILE, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    prefetch = config["prefetch"]
    return {
        s["id"]: ServiceDefinition(
            id=s["id"],
            hook=s["hook"],
            title=s["title"],
            description=" ".join(s["description"].split()),
            usage_requirements=" ".join(s.get("usageRequirements", "").split()) or None,
            prefetch=dict(prefetch),
        )
        for s in config["services"]
    }
