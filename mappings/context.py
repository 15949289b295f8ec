"""Per-call working context shared by the mapping steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mappings.fhir import ref_str
from mappings.state import Gap, Source


class Ctx:
    __slots__ = ("patient_id", "as_of", "by_type", "index", "ignored", "gaps", "_gap_codes")

    def __init__(self, patient_id: str, as_of: dt.date) -> None:
        self.patient_id = patient_id
        self.as_of = as_of
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        self.index: dict[tuple[str, str], dict[str, Any]] = {}
        self.ignored: list[Gap] = []
        self.gaps: list[Gap] = []
        self._gap_codes: set[str] = set()

    def of(self, rtype: str) -> list[dict[str, Any]]:
        return self.by_type.get(rtype, [])

    @staticmethod
    def ref(res: dict[str, Any]) -> str:
        rid = res.get("id")
        rtype = res.get("resourceType")
        return f"{rtype}/{rid if isinstance(rid, str) and rid else '?'}"

    def source(
        self,
        res: dict[str, Any],
        date: dt.date | None = None,
        display: str | None = None,
        specimen: str | None = None,
    ) -> Source:
        return Source(reference=self.ref(res), date=date, display=display, specimen=specimen)

    def ignore(self, res: Any, code: str, message: str) -> None:
        srcs = []
        if isinstance(res, dict) and isinstance(res.get("resourceType"), str):
            srcs = [Source(reference=self.ref(res))]
        self.ignored.append(Gap(code=code, message=message, sources=srcs))

    def gap(self, code: str, message: str, sources: list[Source] | None = None) -> None:
        if code in self._gap_codes:
            return
        self._gap_codes.add(code)
        self.gaps.append(Gap(code=code, message=message, sources=sources or []))

    def has_gap(self, code: str) -> bool:
        return code in self._gap_codes

    def resolve(self, ref: Any, container: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Resolve a Reference to a contained resource or one received in this call."""
        r = ref_str(ref)
        if not r:
            return None
        if r.startswith("#") and container is not None:
            for c in container.get("contained") or []:
                if isinstance(c, dict) and c.get("id") == r[1:]:
                    return c
            return None
        parts = r.split("/")
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        if len(parts) >= 2:
            return self.index.get((parts[-2], parts[-1]))
        return None
