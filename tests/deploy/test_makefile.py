"""`make` makes the venv with the interpreter the README says it does (README, Two
commands): Debian's python3.11 when it can make venvs, or the one `PYTHON=` names."""

from __future__ import annotations

import os
import subprocess

import pytest

from .conftest import REPO_DIR

SYSTEM_PYTHON = "/usr/bin/python3.11"


def venv_command(*make_args: str) -> str:
    """The command `make` would run first to make a venv (dry run, nothing is made)."""
    venv = "/nonexistent/mbc-cds-venv"
    # not as a sub-make of `make test`: that would pass on its flags and print directories
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    out = subprocess.run(
        ["make", "--no-print-directory", "--dry-run", "--always-make", f"VENV={venv}", *make_args,
         f"{venv}/bin/.installed"],
        cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    return out.splitlines()[0]


def can_make_venvs(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "import ensurepip, sys; sys.exit(sys.version_info[:2] != (3, 11))"],
                              capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


def test_make_makes_the_venv_with_debians_python_when_it_can():
    if not can_make_venvs(SYSTEM_PYTHON):
        pytest.skip(f"{SYSTEM_PYTHON} is missing or cannot make venvs here")
    assert venv_command() == f"{SYSTEM_PYTHON} -m venv /nonexistent/mbc-cds-venv"


def test_make_uses_the_python_named_on_its_command_line():
    assert venv_command("PYTHON=/opt/python/bin/python3") == "/opt/python/bin/python3 -m venv /nonexistent/mbc-cds-venv"
