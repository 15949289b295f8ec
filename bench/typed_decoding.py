"""How much would typed decoding save? A probe, not part of the service.

Decodes the benchmark's patient-view body two ways and times parsing and freeing it:
orjson into dicts (what the service does) and msgspec into structs that hold only the
fields the mappings read (everything else is skipped while parsing). README, Performance,
"Where the time goes", quotes its result. msgspec is not a dependency of the service, so
run it in a venv of its own:

    python3.11 -m venv /tmp/msv && /tmp/msv/bin/pip install msgspec orjson
    .venv/bin/python bench/patients.py 300 > /tmp/body300.json
    .venv/bin/python bench/patients.py 3000 > /tmp/body3000.json
    /tmp/msv/bin/python bench/typed_decoding.py /tmp/body300.json /tmp/body3000.json

Prints, per body and round: median parse and free time (ms, gc disabled, 300 rounds)
and the memory blocks each result holds (sys.getallocatedblocks).
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from typing import Optional, Union

import msgspec
import orjson
from msgspec import Struct

class Coding(Struct, omit_defaults=True):
    system: Optional[str] = None
    code: Optional[str] = None
    display: Optional[str] = None
class CC(Struct, omit_defaults=True):
    coding: Optional[list[Coding]] = None
    text: Optional[str] = None
class Ref(Struct, omit_defaults=True):
    reference: Optional[str] = None
    display: Optional[str] = None
class Qty(Struct, omit_defaults=True):
    value: Optional[float] = None
    unit: Optional[str] = None
    system: Optional[str] = None
    code: Optional[str] = None
    comparator: Optional[str] = None
class Period(Struct, omit_defaults=True):
    start: Optional[str] = None
    end: Optional[str] = None
class Component(Struct, omit_defaults=True):
    code: Optional[CC] = None
    valueCodeableConcept: Optional[CC] = None
    valueQuantity: Optional[Qty] = None
    valueString: Optional[str] = None
    interpretation: Optional[list[CC]] = None
class Base(Struct, tag_field="resourceType", omit_defaults=True):
    id: Optional[str] = None
    status: Optional[str] = None
    subject: Optional[Ref] = None
    patient: Optional[Ref] = None
class Observation(Base, tag="Observation"):
    category: Optional[list[CC]] = None
    code: Optional[CC] = None
    effectiveDateTime: Optional[str] = None
    effectivePeriod: Optional[Period] = None
    issued: Optional[str] = None
    valueQuantity: Optional[Qty] = None
    valueCodeableConcept: Optional[CC] = None
    valueString: Optional[str] = None
    interpretation: Optional[list[CC]] = None
    component: Optional[list[Component]] = None
    specimen: Optional[Ref] = None
    method: Optional[CC] = None
class Condition(Base, tag="Condition"):
    clinicalStatus: Optional[CC] = None
    verificationStatus: Optional[CC] = None
    category: Optional[list[CC]] = None
    code: Optional[CC] = None
    bodySite: Optional[list[CC]] = None
    onsetDateTime: Optional[str] = None
    recordedDate: Optional[str] = None
    stage: Optional[list[dict]] = None
    extension: Optional[list[dict]] = None
class Timing(Struct):
    repeat: Optional[dict] = None
class Dosage(Struct):
    timing: Optional[Timing] = None
class MedicationRequest(Base, tag="MedicationRequest"):
    intent: Optional[str] = None
    doNotPerform: Optional[bool] = None
    medicationCodeableConcept: Optional[CC] = None
    medicationReference: Optional[Ref] = None
    authoredOn: Optional[str] = None
    dosageInstruction: Optional[list[Dosage]] = None
    dispenseRequest: Optional[dict] = None
    reasonCode: Optional[list[CC]] = None
class MedicationStatement(Base, tag="MedicationStatement"):
    medicationCodeableConcept: Optional[CC] = None
    medicationReference: Optional[Ref] = None
    effectiveDateTime: Optional[str] = None
    effectivePeriod: Optional[Period] = None
    dateAsserted: Optional[str] = None
    reasonCode: Optional[list[CC]] = None
class MedicationAdministration(Base, tag="MedicationAdministration"):
    medicationCodeableConcept: Optional[CC] = None
    medicationReference: Optional[Ref] = None
    effectiveDateTime: Optional[str] = None
    effectivePeriod: Optional[Period] = None
class Procedure(Base, tag="Procedure"):
    code: Optional[CC] = None
    performedDateTime: Optional[str] = None
    performedPeriod: Optional[Period] = None
    bodySite: Optional[list[CC]] = None
class Patient(Base, tag="Patient"):
    gender: Optional[str] = None
    birthDate: Optional[str] = None
    extension: Optional[list[dict]] = None
Resource = Union[Observation, Condition, MedicationRequest, MedicationStatement, MedicationAdministration, Procedure, Patient]
class Search(Struct):
    mode: Optional[str] = None
class Entry(Struct):
    resource: Optional[Resource] = None
    search: Optional[Search] = None
class Bundle(Struct, tag_field="resourceType", tag="Bundle"):
    entry: Optional[list[Entry]] = None
    link: Optional[list[dict]] = None
class Req(Struct):
    hook: str
    hookInstance: str
    context: dict
    prefetch: dict[str, Union[Bundle, Patient]]
    fhirServer: Optional[str] = None

dec = msgspec.json.Decoder(Req)
def timeit(fn, body, n=300):
    ts = []
    gc.disable()
    for _ in range(n):
        t = time.perf_counter(); o = fn(body); t1 = time.perf_counter(); del o; t2 = time.perf_counter()
        ts.append((t1 - t, t2 - t1))
    return statistics.median(a for a, b in ts) * 1000, statistics.median(b for a, b in ts) * 1000
for name in sys.argv[1:]:
    body = open(name, 'rb').read()
    for rnd in range(3):
        b0 = sys.getallocatedblocks(); o = orjson.loads(body); b1 = sys.getallocatedblocks(); del o
        b2 = sys.getallocatedblocks(); o = dec.decode(body); b3 = sys.getallocatedblocks(); del o
        print(name, 'orjson parse/free ms %.3f %.3f' % timeit(orjson.loads, body), 'blocks', b1 - b0,
              '| structs parse/free ms %.3f %.3f' % timeit(dec.decode, body), 'blocks', b3 - b2)
