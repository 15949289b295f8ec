"""What the SMART scopes of a hook call's `fhirAuthorization.scope` let the service read.

CDS Hooks 2.0.1 §fhirAuthorization: `scope` is the space-separated SMART scopes the
EHR granted the service, and the service "MAY use the FHIR server to obtain any FHIR
resources for which it's authorized". A search of a type the scopes do not grant is
refused by a server that enforces them (403): asking is pointless, and the service
would answer 412 for the whole call.

Scope syntax (SMART App Launch 2.x, "Scopes and Launch Context", clinical-data scopes,
https://hl7.org/fhir/smart-app-launch/STU2/scopes-and-launch-context.html):
`<patient|user|system>/<Type|*>.<permissions>[?<query>]`
- SMART v1 permissions: `read` (read and search), `write`, `*` (both);
- SMART v2 permissions: letters of `cruds` (c create, r read, u update, d delete,
  s search), e.g. `.rs`, `.cruds`; v1 `.read` corresponds to v2 `.rs`;
- v2 may narrow a scope with a query (`Observation.rs?category=laboratory`): the
  server returns only the resources matching it. The query is search parameters: it
  narrows searches; a read by id returns the one resource or an error, never a silent
  part of it, so such a read is left to the server (UNCLEAR, no gap).
Other scopes (`openid`, `fhirUser`, `launch/patient`, `offline_access`) grant no data.
Scopes are case-sensitive; an item SMART would read but for the case of its letters
(`Patient/Condition.read`), or with a `.search` permission SMART does not define but some EHRs
pair with `.read` (`patient/Condition.search`), is left to the FHIR server that issued it (UNCLEAR).
"""

from __future__ import annotations

import functools

FULL = "full"          # granted without restriction
NARROWED = "narrowed"  # granted only with a query restriction (v2 `?...`)
NOT_GRANTED = "none"
# named only in a spelling SMART does not define, letters' case aside (`Patient/Condition.read`,
# `patient/condition.Read`): says nothing this module can read, so the FHIR server decides
# (fetched without a gap; its 403 is a 412), as for a scope written wholly that way; and a read
# by id under a scope narrowed by a query (`patient/*.rs?category=laboratory` for the Patient read):
# the query narrows searches, the server decides whether the one resource read is granted
UNCLEAR = "unclear"

_CONTEXTS = ("patient", "user", "system")
_V2_LETTERS = frozenset("cruds")
_V2_LETTER = {"read": "r", "search": "s"}
# a permission SMART does not define (v1 read/write/*, v2 letters of cruds) that some EHR
# configurations (Epic) pair with `.read`: `patient/Condition.search` says nothing this module
# can read, so for the type it names the server decides (UNCLEAR: fetched without a gap, its 403
# a 412), as for a type named in another letter case
_VENDOR_SEARCH = "search"


def _permits(permission: str, interaction: str) -> bool:
    if permission in ("read", "*"):  # v1: read covers read and search
        return True
    letters = set(permission)
    return bool(permission) and letters <= _V2_LETTERS and _V2_LETTER[interaction] in letters


@functools.lru_cache(maxsize=256)
def access(scope: str, resource_type: str, interaction: str) -> str:
    """FULL, NARROWED, UNCLEAR or NOT_GRANTED: whether `scope` lets the service `interaction`
    ("read" an instance, or "search") resources of `resource_type`. SMART scopes are
    case-sensitive (`patient/Condition.read`); an item that would grant it but for the case of
    its letters makes it UNCLEAR (the server that issued it decides), never NOT_GRANTED; so does
    one narrowed by a query for a read by id (the query narrows searches only), one whose
    permission is `.search` (not SMART's; Epic's), and one joined to others by commas."""
    best = NOT_GRANTED
    for item in scope.split():
        if "," in item:
            # scopes joined with commas, not spaces (RFC 6749 §3.3 says spaces): one that would
            # grant it so written leaves the type to the server that issued the token (UNCLEAR),
            # as a wrong letter case does; a 412 at once would refuse a call that server answers
            if any(access(part, resource_type, interaction) != NOT_GRANTED for part in item.split(",") if part):
                best = UNCLEAR if best == NOT_GRANTED else best
            continue
        context, slash, rest = item.partition("/")
        if not slash or context.lower() not in _CONTEXTS:
            continue
        rest, question, _ = rest.partition("?")
        rtype, dot, permission = rest.partition(".")
        if not dot or rtype.lower() not in (resource_type.lower(), "*"):
            continue
        if permission.lower() == _VENDOR_SEARCH:
            best = UNCLEAR if best == NOT_GRANTED else best
            continue
        if not _permits(permission.lower(), interaction):
            continue
        if question and interaction == "search":
            best = NARROWED
        elif question:
            # a read by id: a query restriction narrows what a search returns (SMART App Launch
            # 2.x, finer-grained constraints using search parameters); the read returns the
            # resource or an error, so the server decides and no records go silently missing
            best = UNCLEAR if best == NOT_GRANTED else best
        elif context in _CONTEXTS and rtype in (resource_type, "*") and permission == permission.lower():
            return FULL
        elif best == NOT_GRANTED:
            best = UNCLEAR
    return best


@functools.lru_cache(maxsize=256)
def names_clinical_data(scope: str) -> bool:
    """Whether `scope` holds at least one clinical-data scope written as SMART writes them
    (`patient/Condition.read`, `user/*.rs`, ...). A scope with none ("launch openid", a
    non-standard "Patient/Condition.read" or "patient/Condition.search") says nothing this module
    can read: the service then fetches as it does without a scope and lets the FHIR server decide,
    rather than refuse a call the server might answer (a 403 is still a 412)."""
    for item in scope.split():
        context, slash, rest = item.partition("/")
        rtype, dot, permission = rest.partition("?")[0].partition(".")
        if slash and context in _CONTEXTS and rtype and dot and _is_smart_permission(permission):
            return True
    return False


def _is_smart_permission(permission: str) -> bool:
    """v1 `read`, `write`, `*`; v2 letters of `cruds`. Not `search` (no SMART version defines
    it) nor `read,patient/Condition` (scopes joined with commas, not spaces: RFC 6749 §3.3)."""
    return permission in ("read", "write", "*") or (bool(permission) and set(permission) <= _V2_LETTERS)


def scope_grants_search(scope: str, resource_type: str) -> bool:
    """Whether `scope` lets the token read and search `resource_type` without
    restriction: v1 `patient/Condition.read`, `patient/*.read`, `.*`; v2
    `patient/Condition.rs`, `.cruds`; any of patient/user/system. Scopes narrowed
    by a query (v2 `Observation.rs?category=...`) do not count.

    Why it matters for _revinclude: a server enforcing scopes may leave out of an
    `_revinclude` the resources the token may not read, without an error, where the
    separate search would have been refused (403) and said so.
    """
    return access(scope, resource_type, "read") == FULL and access(scope, resource_type, "search") == FULL
