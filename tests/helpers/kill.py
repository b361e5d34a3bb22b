"""Fault trials with real subprocesses: run a CLI command, kill it (SIGKILL, SIGINT, SIGTERM)
at a named pause point or after a random delay, and look at what it left: the database, the
files, the processes.

`Databases` hands out copies of one prepared database (SQLite file copies, PostgreSQL databases
made from it as a template), so every trial starts from the same state. `KillTrials` measures
one complete run, kills copies of it at delays drawn with a fixed seed over that run's time,
and checks each: the database exactly as before or exactly as after a complete run (every
table), no file at `--out` the database does not back, no process of the command left, no
temporary file left (or the next run cleans it up and says so), and a re-run completes.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import DateTime, create_engine, select, text
from sqlalchemy.engine import make_url

from diaryadmin.models import Base

SECRET = "test-secret-key-0123456789abcdef"
FAST = {
    "DIARYADMIN_ARGON2_TIME_COST": "1",
    "DIARYADMIN_ARGON2_MEMORY_KIB": "64",
    "DIARYADMIN_ALLOW_WEAK_HASHES": "1",
    "DIARYADMIN_HASH_WORKERS": "2",
    # A real address: the placeholder's warning would come before the lines the tests read.
    "DIARYADMIN_PORTAL_URL": "https://diary.school7.ru",
}
INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


def cli_env(**more: str) -> dict[str, str]:
    """The environment of a CLI subprocess: no DIARYADMIN_ variable of the caller's, the test
    key and fast (test-only) hashing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    return {**env, "DIARYADMIN_SECRET_KEY": SECRET, **FAST, **more}


def cli(database_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "diaryadmin", "--database-url", database_url, *args]


# --- processes ---------------------------------------------------------------------------------


def _stat(pid: int | str) -> list[str] | None:
    """/proc/PID/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def running(pid: int) -> bool:
    return (fields := _stat(pid)) is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    """Live processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry.name)) and int(fields[1]) == pid:
            found.append(int(entry.name))
    return [p for p in found if running(p)]


def in_session(session_id: int) -> list[int]:
    """Live processes of the session `session_id` (a command started with start_new_session:
    the command and every worker it forked)."""
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat(entry.name) if entry.name.isdigit() else None
        if fields and int(fields[3]) == session_id and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def gone(pids: list[int], seconds: float = 5.0) -> bool:
    """Whether all of `pids` end within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(running(p) for p in pids):
        time.sleep(0.05)
    return not any(running(p) for p in pids)


def survivors(session_id: int, seconds: float = 5.0) -> list[int]:
    """Processes of the session still alive `seconds` after its leader ended; they are then
    killed (they are this test's), so one trial cannot disturb the next."""
    deadline = time.monotonic() + seconds
    left = in_session(session_id)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = in_session(session_id)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


# --- files ---------------------------------------------------------------------------------


def hidden(folder: Path) -> list[str]:
    """Hidden files in `folder`: where staged outputs and temporary files live."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def leftovers(folder: Path, tmp: Path) -> list[str]:
    """Hidden files in the output folder and anything in the command's TMPDIR."""
    return hidden(folder) + sorted(f"$TMPDIR/{p.name}" for p in tmp.iterdir())


# --- databases -----------------------------------------------------------------------------


class Databases:
    """Copies of one prepared database: each `fresh()` is the state `source` had when the
    first copy was made. The caller disposes of its own engines on `source` first."""

    def __init__(self, source: str, folder: Path) -> None:
        self.source, self.folder = source, folder
        self.url = make_url(source)
        self.made: list[str] = []
        self.sqlite = self.url.get_backend_name() == "sqlite"
        if not self.sqlite:
            url = self.url.set(database="postgres")
            self.admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def fresh(self) -> str:
        name = f"trial_{uuid.uuid4().hex[:10]}"
        if self.sqlite:
            target = self.folder / f"{name}.sqlite3"
            shutil.copyfile(self.url.database, target)
            target.chmod(0o600)
            return f"sqlite:///{target}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.url.database}"'))
        self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        if self.sqlite:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(make_url(url).database + suffix).unlink(missing_ok=True)
            return
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.made.remove(name)

    def close(self) -> None:
        if not self.sqlite:
            for name in list(self.made):
                with self.admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.admin.dispose()


def state(url: str, volatile: frozenset[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every row of every table, sorted; the columns named in `volatile` (`table.column`, or
    `*` for every timestamp) as a mask, for comparing two complete runs."""
    engine = create_engine(url)
    result = {}
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                masked = [
                    i
                    for i, column in enumerate(table.columns)
                    if f"{table.name}.{column.name}" in volatile
                    or ("*" in volatile and isinstance(column.type, DateTime))
                ]
                rows = []
                for row in conn.execute(select(table)):
                    values = list(map(repr, row))
                    for i in masked:
                        values[i] = "…" if row[i] is not None else "None"
                    rows.append(tuple(values))
                result[table.name] = sorted(rows)
    finally:
        engine.dispose()
    return result


# --- runs ----------------------------------------------------------------------------------


@dataclass
class Run:
    returncode: int | None
    stderr: str
    seconds: float
    finished_first: bool = False  # the command ended before the signal was sent
    left_running: list[int] = field(default_factory=list)


def run(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> Run:
    started = time.monotonic()
    done = subprocess.run(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, timeout=timeout,
    )  # fmt: skip
    return Run(done.returncode, done.stderr, time.monotonic() - started)


def signalled(
    command: list[str], env: dict[str, str], cwd: Path, delay: float, sig: int = signal.SIGKILL
) -> Run:
    """Start `command` in its own session, send `sig` after `delay` seconds and wait for it.

    SIGINT goes to the whole process group, as Ctrl-C in a terminal does; SIGKILL and SIGTERM
    to the command alone, as `kill` does. Returns what it printed and which of its processes
    outlived it (they are killed afterwards).
    """
    log = cwd.parent / f".stderr-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with open(log, "w+", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
            start_new_session=True,
        )  # fmt: skip
        try:
            process.wait(delay)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
            if sig == signal.SIGINT:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        code = process.wait(60)
        left = survivors(process.pid)
        stderr.seek(0)
        err = stderr.read()
    log.unlink()
    return Run(code, err, time.monotonic() - started, finished, left)


def paused_at(point: str, command: list[str], env: dict[str, str], cwd: Path):
    """`command` started and waiting at the named pause point (staging.pause)."""
    process = subprocess.Popen(
        command, env={**env, "DIARYADMIN_TEST_PAUSE_AT": point}, stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL, text=True, cwd=cwd,
    )  # fmt: skip
    line = process.stderr.readline()  # the first line it writes is the pause
    assert f"paused at {point}" in line, "the command never reached the pause point"
    return process


def kill_at(point: str, command: list[str], env: dict[str, str], cwd: Path) -> list[int]:
    """Run `command` until the pause point, SIGKILL it there; returns its worker pids."""
    process = paused_at(point, command, env, cwd)
    workers = children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    process.stderr.close()
    return workers


def delays(seed: int, count: int, seconds: float, floor: float = 0.02) -> list[float]:
    """`count` kill delays spread over a run of `seconds`, the same ones every time."""
    rng = random.Random(seed)
    return [rng.uniform(floor, max(seconds, floor + 0.01)) for _ in range(count)]


@functools.cache
def interpreter_start() -> float:
    """Twice the longest of three starts of Python up to the program's first line (its signal
    handlers): a Ctrl-C or SIGTERM before that is the interpreter's to report (a
    KeyboardInterrupt traceback, a death by SIGTERM), so trials of those signals begin later."""
    probe = [sys.executable, "-c", "import diaryadmin.launch"]
    times = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run(probe, check=True, env=cli_env())
        times.append(time.monotonic() - started)
    return 2 * max(times)


# --- the trials ----------------------------------------------------------------------------


@dataclass
class Scenario:
    """One command to kill: its arguments (after --database-url), its folder, its output file
    (if any) and what a complete output must say of the database (`check_out(url, path)`)."""

    args: list[str]
    folder: Path
    out: Path | None = None
    check_out: Callable[[str, Path], None] | None = None
    volatile: frozenset[str] = frozenset({"*"})  # differ between two complete runs
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    delay: float
    ended: str  # before | after | finished (it ended before the signal)
    rerun: bool
    leftovers: list[str]


class KillTrials:
    """Measure one complete run of a scenario, then kill fresh copies of it and check each."""

    def __init__(self, databases: Databases, scenario: Scenario) -> None:
        self.databases, self.scenario = databases, scenario
        self.tmp = scenario.folder.parent / "tmp"
        self.tmp.mkdir(exist_ok=True)
        url = databases.fresh()
        self.before = state(url)
        self.before_masked = state(url, scenario.volatile)
        self._reset()
        complete = run(self.command(url), self.env(), scenario.folder)
        assert complete.returncode == 0, complete.stderr
        self.seconds = complete.seconds
        self.after = state(url, scenario.volatile)
        assert self.after != self.before_masked, "the complete run changed nothing"
        if scenario.out is not None:
            assert scenario.out.exists(), complete.stderr
            scenario.check_out(url, scenario.out)
        assert leftovers(scenario.folder, self.tmp) == [], "a complete run left files"
        databases.drop(url)

    def command(self, url: str) -> list[str]:
        return cli(url, *self.scenario.args)

    def env(self) -> dict[str, str]:  # TMPDIR: what a killed run leaves there is seen
        return cli_env(TMPDIR=str(self.tmp), **self.scenario.env)

    def _reset(self) -> None:
        for folder in (self.scenario.folder, self.tmp):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()

    def trial(self, delay: float, sig: int = signal.SIGKILL) -> Outcome:
        scenario = self.scenario
        self._reset()
        url = self.databases.fresh()
        try:
            killed = signalled(self.command(url), self.env(), scenario.folder, delay, sig)
            where = f"{signal.Signals(sig).name} after {delay:.2f}s"
            assert killed.left_running == [], f"{where}: processes outlived the command"
            now, masked = state(url), state(url, scenario.volatile)
            complete = masked == self.after
            assert now == self.before or complete, (
                f"{where}: the database is half-changed: {self._differences(now, masked)}\n"
                f"{killed.stderr}"
            )
            ended = "finished" if killed.finished_first else "after" if complete else "before"
            if killed.finished_first:
                assert killed.returncode == 0, killed.stderr
            elif sig != signal.SIGKILL and not (complete and killed.returncode == 0):
                self._check_interrupted(killed, sig, where)  # else it came after the work
            out = scenario.out
            if out is not None and out.exists():
                assert complete, f"{where}: {out.name} describes changes never committed"
                scenario.check_out(url, out)
            left = leftovers(scenario.folder, self.tmp)
            # A re-run from the state the measured run started in is that run again: only
            # a state it did not start from (changes committed, files left) needs one.
            rerun = bool(left) or (complete and not killed.finished_first and out is None)
            if out is not None and complete and not out.exists():
                rerun = True
            if rerun:
                self._rerun(url, left, where)
            return Outcome(delay, ended, rerun, left)
        finally:
            self.databases.drop(url)

    def _differences(self, now: dict, masked: dict) -> str:
        """Which tables differ from the state before, and from the one after, with a row."""
        text = []
        for table in masked:
            if now[table] != self.before[table] and masked[table] != self.after[table]:
                extra = sorted(set(masked[table]) ^ set(self.after[table]))[:2]
                text.append(f"{table}: {len(now[table])} rows, e.g. {extra}")
        return "; ".join(text)

    def _check_interrupted(self, killed: Run, sig: int, where: str) -> None:
        assert killed.returncode == INTERRUPTED[sig], (
            f"{where}: exit {killed.returncode}: {killed.stderr[-800:]!r}"
        )
        assert "Traceback" not in killed.stderr, f"{where}: {killed.stderr}"
        lines = [line for line in killed.stderr.splitlines() if "interrupted" in line]
        assert len(lines) == 1, f"{where}: {killed.stderr!r}"

    def _rerun(self, url: str, left: list[str], where: str) -> None:
        scenario = self.scenario
        again = run(self.command(url), self.env(), scenario.folder)
        assert again.returncode == 0, f"{where}, then a re-run: {again.stderr}"
        masked = state(url, scenario.volatile)
        # A re-run after a complete one changes nothing but may say so in the audit trail.
        audit, after = masked.pop("audit_events"), dict(self.after)
        assert set(audit) >= set(after.pop("audit_events")), f"{where}: audit events lost"
        assert masked == after, (
            f"{where}: the re-run differs: {self._differences(state(url), masked)}"
        )
        files = leftovers(scenario.folder, self.tmp)
        assert files == [], f"{where}: the re-run left {files} (the kill left {left})"
        if scenario.out is not None:
            assert scenario.out.exists(), f"{where}: the re-run wrote no {scenario.out.name}"
            scenario.check_out(url, scenario.out)
        if any(not name.startswith("$TMPDIR/") for name in left):
            # staging.recover's words for a pending file and for a half-written one
            said = (
                "committed nothing", "Completed", "whose changes were committed", "half-written",
            )  # fmt: skip
            assert any(s in again.stderr for s in said), f"{where}: {again.stderr}"
