"""Every gap code a reader in mappings/ gives is documented where the cards' authors look it
up: the gap list of mappings/README.md and the module docstring of mappings/build.py. A code
added to a reader without a line there fails here.

The codes are read from the source: a string literal that is the first string argument of a
call whose name ends in `gap` (`ctx.gap("code", ...)`, `_records_gap(ctx, "code", ...)`,
`_z17_not_read_gap(ctx, acc, entries, "code", ...)`). Codes built at run time (`er-unknown`,
`<gene>-finding-date-in-words`) are documented by hand."""

from __future__ import annotations

import re
from pathlib import Path

import mappings
import mappings.build

MAPPINGS_DIR = Path(mappings.__file__).parent
# the callee's name ends in "gap"; positional names (ctx, acc, entries) may come before the code
GAP_CALL = re.compile(r'gap\w*\(\s*(?:[\w.]+,\s*)*"([a-z][a-z0-9]*(?:-[a-z0-9]+)+)"')


def emitted_gap_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for path in sorted(MAPPINGS_DIR.glob("*.py")):
        for code in GAP_CALL.findall(path.read_text(encoding="utf-8")):
            codes.setdefault(code, path.name)
    return codes


def test_the_source_scan_finds_the_gap_codes_the_readers_give():
    codes = emitted_gap_codes()
    # one from each reader: the scan itself must not go blind
    for code in ("metastatic-site-not-stated", "therapy-in-error-in-text", "diabetes-type-unclear",
                 "receptor-status-unconfirmed", "genomic-result-not-final", "duplicate-resource-conflict"):
        assert code in codes
    assert len(codes) > 60


def test_every_gap_code_the_readers_give_is_in_the_mappings_readme_gap_list():
    readme = (MAPPINGS_DIR / "README.md").read_text(encoding="utf-8")
    gap_list = readme.split("## Gap codes", 1)[1].split("\n## ", 1)[0]
    missing = {c: f for c, f in emitted_gap_codes().items() if f"`{c}`" not in gap_list}
    assert not missing, f"gap codes missing from mappings/README.md '## Gap codes': {missing}"


def test_every_gap_code_the_readers_give_is_in_the_build_module_docstring():
    doc = mappings.build.__doc__ or ""
    gap_list = doc.split("Gap codes (PatientState.gaps", 1)[1]
    listed = set(re.findall(r"^ {4}(\S+)", gap_list, re.M))
    missing = {c: f for c, f in emitted_gap_codes().items() if c not in listed}
    assert not missing, f"gap codes missing from the mappings/build.py docstring gap list: {missing}"
