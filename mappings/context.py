"""Per-call working context shared by the mapping steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mappings._fast import construct as _construct
from mappings._fast import source as _fast_source
from mappings.fhir import Concept, absent_message, absent_reason, concept, contained_resource, ref_str, ref_type_and_id
from mappings.state import Gap, Source
from mappings.tables import LOINC as _LOINC, SNOMED as _SNOMED  # the systems as codes.yaml writes them


class Ctx:
    __slots__ = ("patient_id", "as_of", "by_type", "index", "ignored", "gaps", "_gap_codes",
                 "_concepts", "_obs_by_code", "_obs_order", "_obs_groups", "_comp_by_code", "derived",
                 "to_be_given", "_obs_maybe_local", "_comp_maybe_local")

    def __init__(self, patient_id: str, as_of: dt.date) -> None:
        self.patient_id = patient_id
        self.as_of = as_of
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        # resources received in this call: resourceType -> id -> resource
        self.index: dict[str, dict[str, dict[str, Any]]] = {}
        self.ignored: list[Gap] = []
        self.gaps: list[Gap] = []
        self._gap_codes: set[str] = set()
        self._concepts: dict[int, Concept] = {}
        self._obs_by_code: dict[str, list[dict[str, Any]]] | None = None
        # Observations whose code may have no LOINC / SNOMED CT code (observations_maybe_local)
        self._obs_maybe_local: list[dict[str, Any]] = []
        # (Observation, component) pairs whose component code may have none (components_maybe_local)
        self._comp_maybe_local: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._obs_order: dict[int, int] | None = None
        self._obs_groups: tuple[list[dict[str, Any]], ...] | None = None
        self._comp_by_code: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] | None = None
        # results made from parts of a received resource (a gene panel's components, read as
        # one result each): kept for the whole call, since the memos above key on id()
        self.derived: list[dict[str, Any]] = []
        # anticancer drugs of orders / statements whose time of use starts after as_of (not given
        # yet, no line: therapy.read_exposures): drug name -> the records' references
        self.to_be_given: dict[str, list[str]] = {}

    # memoised readers of resource.code (each resource is read once per call; a concept
    # repeated across resources and calls is read once per process: fhir.concept)
    def concept_of(self, res: dict[str, Any]) -> Concept:
        """fhir.concept(res["code"])."""
        k = id(res)
        c = self._concepts.get(k)
        if c is None:
            c = self._concepts[k] = concept(res.get("code"))
        return c

    def code_of(self, res: dict[str, Any]) -> list[tuple[str, str, str]]:
        """fhir.codings(res["code"]) (shared: read only)."""
        c = self._concepts.get(id(res))
        if c is None:
            c = self._concepts[id(res)] = concept(res.get("code"))
        return c.codings

    def code_text(self, res: dict[str, Any]) -> str:
        """fhir.cc_text(res["code"])."""
        c = self._concepts.get(id(res))
        if c is None:
            c = self._concepts[id(res)] = concept(res.get("code"))
        return c.text

    def observations_with(self, codes: frozenset[str] | set[str]) -> list[dict[str, Any]]:
        """Observations whose code has one of `codes` (any system), in input order."""
        if self._obs_by_code is None:
            idx: dict[str, list[dict[str, Any]]] = {}
            maybe_local = self._obs_maybe_local
            for obs in self.by_type.get("Observation", ()):
                code = None
                cc = obs.get("code")
                if type(cc) is dict:
                    items = cc.get("coding")
                    if type(items) is list and len(items) == 1 and type(items[0]) is dict:
                        code = items[0].get("code")
                if type(code) is str:
                    # one coding with a string code: its code as codings() reads it
                    # (the full codings are memoised when a mapper asks for them)
                    code = code.strip()
                    if not code or ((system := items[0].get("system")) != _LOINC and system != _SNOMED):
                        maybe_local.append(obs)
                else:
                    maybe_local.append(obs)
                    cods = self.code_of(obs)
                    if len(cods) != 1:
                        seen = set()
                        for _, code, _ in cods:
                            if code and code not in seen:
                                seen.add(code)
                                idx.setdefault(code, []).append(obs)
                        continue
                    code = cods[0][1]
                if code:
                    lst = idx.get(code)
                    if lst is None:
                        idx[code] = [obs]
                    else:
                        lst.append(obs)
            self._obs_by_code = idx
        if len(codes) == 1:
            return list(self._obs_by_code.get(next(iter(codes)), ()))
        idx = self._obs_by_code
        hits = [lst for lst in map(idx.get, codes) if lst]
        if not hits:
            return []
        order = self._obs_order
        if order is None:
            obs_list = self.by_type.get("Observation", [])
            # {id(o): i} built in C (the last position of an object listed twice, as a loop would)
            order = self._obs_order = dict(zip(map(id, obs_list), range(len(obs_list))))
        if len(hits) == 1 and len(order) == len(self.by_type.get("Observation", ())):
            # one code matched and no Observation object occurs twice: already in input order
            return list(hits[0])
        out: list[dict[str, Any]] = []
        seen_ids: set[int] = set()
        for lst in hits:
            for o in lst:
                if id(o) not in seen_ids:
                    seen_ids.add(id(o))
                    out.append(o)
        if len(out) > 1:
            out.sort(key=lambda o: order.get(id(o), 0))
        return out

    def observations_maybe_local(self) -> list[dict[str, Any]]:
        """Observations, in input order, whose code may have no LOINC / SNOMED CT code (no code,
        only local ones): every one but those with one coding whose system is written exactly
        as LOINC's or SNOMED CT's, with a code. Collected in the pass building the code index
        (observations_with), so a reader of uncoded tests (markers._note_uncoded_tests) need not
        pass over every Observation again; the caller checks each one's codings itself."""
        if self._obs_by_code is None:
            self.observations_with(frozenset())
        return self._obs_maybe_local

    def components_maybe_local(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(Observation, component) pairs, in input order, whose component code may have no LOINC /
        SNOMED CT code: as observations_maybe_local, collected in the pass building the component
        code index (components_with)."""
        if self._comp_by_code is None:
            self.components_with(frozenset())
        return self._comp_maybe_local

    def obs_groups(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]],
                                  list[dict[str, Any]]]:
        """Observations in input order, in one pass: (without valueQuantity, without
        valueQuantity or with a note, with a component, with derivedFrom)."""
        if self._obs_groups is None:
            plain: list[dict[str, Any]] = []
            written: list[dict[str, Any]] = []
            with_component: list[dict[str, Any]] = []
            derived: list[dict[str, Any]] = []
            for obs in self.by_type.get("Observation", ()):
                if "valueQuantity" not in obs:
                    plain.append(obs)
                    written.append(obs)
                elif obs.get("note"):
                    written.append(obs)
                if obs.get("component"):
                    with_component.append(obs)
                if obs.get("derivedFrom"):
                    derived.append(obs)
            self._obs_groups = (plain, written, with_component, derived)
        return self._obs_groups

    def components_with(self, codes: frozenset[str]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(Observation, component) pairs whose component code has one of `codes` (any
        system), in input order; the index of every component code is built once per call
        (several lab readers ask: an ECG sends QTc as a component)."""
        if self._comp_by_code is None:
            idx: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
            for obs in self.obs_groups()[2]:
                comps = obs["component"]
                if type(comps) is not list:
                    continue
                for comp in comps:
                    if type(comp) is not dict:
                        continue
                    try:
                        codings = concept(comp.get("code")).codings
                    except Exception:  # noqa: BLE001  (an unreadable component code: no lab there)
                        continue
                    if len(codings) != 1 or not codings[0][1] or codings[0][0] not in (_LOINC, _SNOMED):
                        self._comp_maybe_local.append((obs, comp))
                    seen: set[str] = set()
                    for _, code, _ in codings:
                        if code and code not in seen:
                            seen.add(code)
                            idx.setdefault(code, []).append((obs, comp))
            self._comp_by_code = idx
        hits = [pair for code in codes for pair in self._comp_by_code.get(code, ())]
        if len(hits) > 1:
            order = {id(o): i for i, o in enumerate(self.obs_groups()[2])}
            hits.sort(key=lambda pair: order[id(pair[0])])
        return hits

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
        date_last: dt.date | None = None,
    ) -> Source:
        # date: a datetime.date or None, display: str or None, specimen: one of the
        # Source literals or None, date_last: the last day of a date written without a day
        # (fhir.partial_last), else None (every caller passes values it typed itself)
        rid = res.get("id")
        return _fast_source(f"{res.get('resourceType')}/{rid if isinstance(rid, str) and rid else '?'}",
                            date, display, specimen, date_last)

    def ignore(self, res: Any, code: str, message: str) -> None:
        srcs = []
        if isinstance(res, dict) and isinstance(res.get("resourceType"), str):
            srcs = [Source(reference=self.ref(res))]
        self.ignored.append(Gap(code=code, message=message, sources=srcs))

    def ignore_data_absent(self, res: dict[str, Any], unit: Any, label: str, date: dt.date | None) -> bool:
        """True, and `res` listed as ignored (data-absent: the test, the reason, the date), when
        `unit` (the Observation or its component) has a dataAbsentReason: such a result is never
        read, not its value (FHIR obs-6 forbids both), interpretation or notes."""
        reason = absent_reason(unit)
        if reason is None:
            return False
        self.ignore(res, "data-absent", absent_message(label, reason, date))
        return True

    def gap(self, code: str, message: str, sources: list[Source] | None = None) -> None:
        if code in self._gap_codes:
            return
        self._gap_codes.add(code)
        if type(code) is str and type(message) is str and all(type(s) is Source for s in sources or ()):
            # Gap(code=, message=, sources=) without re-validation (validation copies the list)
            self.gaps.append(_construct(Gap, {"code": code, "message": message,
                                              "sources": list(sources) if sources else []}))
        else:
            self.gaps.append(Gap(code=code, message=message, sources=sources or []))

    def has_gap(self, code: str) -> bool:
        return code in self._gap_codes

    def resolve(self, ref: Any, container: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Resolve a Reference to a contained resource or one received in this call."""
        r = ref_str(ref)
        if not r:
            return None
        if r.startswith("#") and container is not None:
            return contained_resource(container, r)
        type_and_id = ref_type_and_id(r)
        if type_and_id is None:
            return None
        ids = self.index.get(type_and_id[0])
        return ids.get(type_and_id[1]) if ids is not None else None
