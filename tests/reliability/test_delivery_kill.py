"""SIGKILL in the gap between writing the slips file and COMMIT (and just after COMMIT), with
real subprocesses: no file at --out with passwords that never worked, every committed password
in a file, leftovers completed or removed by the next run (which says so), and no hashing worker
outliving the killed command."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from diaryadmin.credentials import auth
from diaryadmin.models import Credential
from helpers import factories as f

SECRET = "test-secret-key-0123456789abcdef"
FAST = {
    "DIARYADMIN_ARGON2_TIME_COST": "1",
    "DIARYADMIN_ARGON2_MEMORY_KIB": "64",
    "DIARYADMIN_ALLOW_WEAK_HASHES": "1",
    "DIARYADMIN_HASH_WORKERS": "2",
    # A real address: the placeholder's warning would come before the pause line read below.
    "DIARYADMIN_PORTAL_URL": "https://diary.school7.ru",
}


@pytest.fixture
def families(sessions):
    """Four children with a mother each: enough passwords for the hashing pool."""
    with sessions.begin() as session:
        for i, name in enumerate(["Пётр", "Анна", "Юлия", "Олег"]):
            child = f.student(session, surname=f"Иванов{'а' if i % 2 else ''}", name=name)
            f.guardian(session, child, name=f"Мария{i}", email=f"m{i}@example.org")


def _command(database_url: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "diaryadmin", "--database-url", database_url,
        "credentials", "issue", "--all", "--out", str(out), *extra,
    ]  # fmt: skip


def _env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    return {**env, "DIARYADMIN_SECRET_KEY": SECRET, **FAST, **more}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def _paused_at(point: str, database_url: str, out: Path) -> subprocess.Popen:
    """An issue to `out`, started and waiting at the named point."""
    process = subprocess.Popen(
        _command(database_url, out),
        env=_env(DIARYADMIN_TEST_PAUSE_AT=point),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=out.parent,
    )
    line = process.stderr.readline()  # the first line it writes is the pause
    assert f"paused at {point}" in line, "the command never reached the pause point"
    return process


def _kill_at(point: str, database_url: str, out: Path) -> list[int]:
    """Run an issue that pauses at `point`, SIGKILL it there; returns its worker pids."""
    process = _paused_at(point, database_url, out)
    workers = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    process.stderr.close()
    return workers


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _credentials(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Credential))


def _workers_gone(workers: list[int]) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_running(pid) for pid in workers):
        time.sleep(0.1)
    return not any(_running(pid) for pid in workers)


def test_killed_before_commit_leaves_no_slips_and_the_rerun_cleans_up(
    database_url, sessions, families, tmp_path, db_snapshot
):
    out = tmp_path / "slips.html"
    before = db_snapshot()
    workers = _kill_at("before-commit", database_url, out)
    assert not out.exists()  # no file of passwords that exist nowhere
    assert db_snapshot() == before
    assert len(_hidden(tmp_path)) == 1  # the complete pending file, never shown as slips.html
    assert workers, "the hashing pool had no workers to check"
    assert _workers_gone(workers), "hash workers outlived the killed command"

    rerun = subprocess.run(
        _command(database_url, out), env=_env(), capture_output=True, text=True, cwd=tmp_path
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "left by an interrupted run that committed nothing" in rerun.stderr
    assert _hidden(tmp_path) == []
    assert out.exists() and _credentials(sessions) == 4


def test_killed_after_commit_the_rerun_completes_the_file_whose_passwords_work(
    database_url, sessions, families, tmp_path, settings
):
    out = tmp_path / "merge.csv"
    _kill_at("after-commit", database_url, out)
    assert _credentials(sessions) == 4  # committed: the passwords must exist somewhere
    (pending,) = _hidden(tmp_path)
    assert not out.exists()

    rerun = subprocess.run(
        _command(database_url, out), env=_env(), capture_output=True, text=True, cwd=tmp_path
    )
    assert "Completed" in rerun.stderr and "whose changes were committed" in rerun.stderr
    assert _hidden(tmp_path) == []
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    pairs = {row[0]: row[1] for row in rows[1:]}
    fast = settings.with_overrides(argon2_time_cost=1, argon2_memory_kib=64)
    with sessions.begin() as session:
        logins = session.scalars(select(Credential.login)).all()
        assert sorted(pairs) == sorted(logins)
        for login, password in pairs.items():
            assert auth.authenticate(session, login, password, settings=fast).ok, login


@pytest.mark.parametrize("point", ["before-commit", "after-commit"])
def test_sigterm_says_what_was_committed_and_leaves_a_consistent_state(
    database_url, sessions, families, tmp_path, point
):
    out = tmp_path / "merge.csv"
    process = _paused_at(point, database_url, out)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 143
    err = process.stderr.read()
    process.stderr.close()
    assert "Traceback" not in err
    assert _hidden(tmp_path) == []  # nothing left for the next run to clean up
    if point == "before-commit":
        assert "interrupted, nothing changed" in err
        assert not out.exists() and _credentials(sessions) == 0
    else:
        assert "1 step committed before it stays done" in err
        assert out.exists() and _credentials(sessions) == 4  # the file of working passwords
