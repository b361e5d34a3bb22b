"""The argon2id parameters a school actually gets: a credential issued with the default
settings (not the fast test ones) is stored as a PHC string at or above the OWASP minimum, and
commands refuse weaker settings unless DIARYADMIN_ALLOW_WEAK_HASHES says this is a test."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from diaryadmin.config import OWASP_MEMORY_KIB, OWASP_TIME_COST
from diaryadmin.models import Credential
from helpers import factories as f
from helpers.issued import issued_pairs

PHC = re.compile(r"^\$argon2id\$v=19\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)\$[^$]+\$[^$]+$")


def parameters(stored: str) -> dict[str, int]:
    """m (KiB), t and p of an argon2id PHC string; anything else fails the test."""
    found = PHC.match(stored)
    assert found, f"not an argon2id PHC string: {stored[:20]}…"
    return {key: int(value) for key, value in found.groupdict().items()}


def test_parameters_are_read_from_the_phc_string():
    assert parameters("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$ZHVtbXk") == {
        "m": 19456,
        "t": 2,
        "p": 1,
    }
    for other in ("$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$ZHVt", "$2b$12$abcdefghijklmnopqrstuv"):
        with pytest.raises(AssertionError):
            parameters(other)


def test_a_credential_issued_with_default_settings_is_hashed_at_owasp_strength(
    run_cli, sessions, workdir
):
    with sessions.begin() as session:
        f.guardian(session, f.student(session))
    out = workdir / "slips.html"
    result = run_cli("credentials", "issue", "--all", "--out", str(out))  # no argon2 settings
    assert result.exit_code == 0, result.output
    ((login, password),) = issued_pairs(out).items()
    with sessions() as session:
        stored = session.scalars(select(Credential.password_hash)).one()
    found = parameters(stored)
    assert found["m"] >= OWASP_MEMORY_KIB == 19456
    assert found["t"] >= OWASP_TIME_COST == 2
    assert found["p"] >= 1
    assert password not in stored and login
    assert PasswordHasher().verify(stored, password)  # a standard hash, at its own cost


WEAK = [
    {"DIARYADMIN_ARGON2_MEMORY_KIB": str(OWASP_MEMORY_KIB - 1)},
    {"DIARYADMIN_ARGON2_TIME_COST": str(OWASP_TIME_COST - 1)},
    {"DIARYADMIN_ARGON2_MEMORY_KIB": "64", "DIARYADMIN_ARGON2_TIME_COST": "1"},
]


@pytest.mark.parametrize("weak", WEAK)
@pytest.mark.parametrize("command", [("db", "status"), ("check",), ("credentials", "status")])
def test_commands_refuse_weaker_settings_unless_a_test_allows_them(run_cli, weak, command):
    refused = run_cli(*command, env=weak)
    assert refused.exit_code == 4, refused.output
    assert "below the OWASP minimum" in refused.output
    assert "Traceback" not in refused.output
    allowed = run_cli(*command, env={**weak, "DIARYADMIN_ALLOW_WEAK_HASHES": "1"})
    assert "below the OWASP minimum" not in allowed.output
    assert allowed.exit_code == 0, allowed.output


@pytest.mark.parametrize("weak", WEAK)
def test_issuing_with_weaker_settings_is_refused_before_any_password_is_drawn(
    run_cli, sessions, workdir, weak
):
    with sessions.begin() as session:
        f.guardian(session, f.student(session))
    out = workdir / "slips.html"
    refused = run_cli("credentials", "issue", "--all", "--out", str(out), env=weak)
    assert refused.exit_code == 4 and "below the OWASP minimum" in refused.output
    assert not out.exists()
    with sessions() as session:
        assert session.scalars(select(Credential)).all() == []
