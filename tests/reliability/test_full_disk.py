"""A real full disk: `credentials issue --all --out` and `applications verify --issue --out
--report` writing to a small tmpfs filled so their files do not fit. The command says the disk
is full (exit 6, not "database unavailable"), the transaction is rolled back (every table as
before: no credential whose password nobody received stays active), no partial or pending file
is left, and once there is room again the same command completes.

Mounting a tmpfs needs root (or a user namespace); elsewhere the tests skip, saying why, and
tests/test_credentials_workflows_cli.py still injects ENOSPC at the write.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from diaryadmin.samples.roster import generate_school
from diaryadmin.samples.roster_files import write_roster_xlsx
from helpers import kill

FAST = kill.FAST_SETTINGS
ROOM = 4096  # bytes left free: a file starts to be written, and cannot be finished
FILLER = "filler"


class FullDisk:
    """A tmpfs of 1 MiB mounted at `folder`, filled to all but ROOM bytes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def fill(self) -> None:
        chunk = b"\0" * 65536
        with open(self.folder / FILLER, "wb") as stream:
            try:
                while True:
                    stream.write(chunk)
                    stream.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
        size = (self.folder / FILLER).stat().st_size
        os.truncate(self.folder / FILLER, max(0, size - ROOM))

    def empty(self) -> None:
        (self.folder / FILLER).unlink()

    def files(self) -> list[str]:
        """Everything on the disk but the filler: what a command left there."""
        return sorted(p.name for p in self.folder.iterdir() if p.name != FILLER)


@pytest.fixture
def full_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root: the full disk is only injected elsewhere")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(folder)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.strip()}")
    disk = FullDisk(folder)
    try:
        disk.fill()
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)


def _import_school(url: str, folder: Path, students: int = 40) -> Path:
    roster = write_roster_xlsx(folder / "roster.xlsx", generate_school(students, seed=29))
    return kill.import_roster_file(url, roster)


def _refused_for_the_full_disk(database_url: str, args: list[str], cwd: Path) -> kill.Run:
    """Run the command on the full disk: exit 6, the disk-full sentence, nothing changed."""
    before = kill.state(database_url)
    tmp = cwd / "tmp"
    tmp.mkdir(exist_ok=True)
    done = kill.run(kill.cli(database_url, *args), kill.cli_env(TMPDIR=str(tmp)), cwd)
    assert done.returncode == 6, done.stderr
    assert "The disk is full" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "unavailable" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith("error: The disk is full"), done.stderr
    assert kill.state(database_url) == before  # rolled back: no credential, no decision
    assert list(tmp.iterdir()) == []
    return done


@pytest.mark.parametrize("suffix", [".html", ".csv", ".xlsx"])
def test_slips_that_do_not_fit_roll_the_issue_back(database_url, tmp_path, full_disk, suffix):
    _import_school(database_url, tmp_path)
    out = full_disk.folder / f"slips{suffix}"
    args = ["credentials", "issue", "--all", "--out", str(out)]
    _refused_for_the_full_disk(database_url, args, tmp_path)
    assert full_disk.files() == []  # no partial slips, no pending or temporary file

    full_disk.empty()
    again = kill.run(kill.cli(database_url, *args), kill.cli_env(), tmp_path)
    assert again.returncode == 0, again.stderr
    assert "interrupted" not in again.stderr and "Removed" not in again.stderr
    assert full_disk.files() == [out.name]
    kill.slips_match(database_url, out)


@pytest.mark.parametrize(
    "on_the_full_disk", [("slips", "report"), ("report",), ("slips",)], ids="+".join
)
def test_verify_issue_with_a_file_that_does_not_fit_decides_nothing(
    database_url, tmp_path, full_disk, on_the_full_disk
):
    from diaryadmin.applications.store import import_applications
    from diaryadmin.samples.application_files import roster_children, write_batch
    from diaryadmin.samples.applications import make_batch

    roster = _import_school(database_url, tmp_path)
    engine = create_engine(database_url)
    try:
        with sessionmaker(engine)() as session:
            children = roster_children(session, FAST, [roster])
        portal = write_batch(tmp_path / "portal.xlsx", make_batch(children, 40, seed=31))
        with sessionmaker(engine)() as session, session.begin():
            import_applications(session, FAST, [portal], operator="test")
    finally:
        engine.dispose()
    office = tmp_path / "office"
    office.mkdir()
    where = {
        name: full_disk.folder if name in on_the_full_disk else office
        for name in ("slips", "report")
    }
    slips, report = where["slips"] / "slips.html", where["report"] / "decisions.xlsx"
    args = ["applications", "verify", "--issue", "--out", str(slips), "--report", str(report)]
    _refused_for_the_full_disk(database_url, args, tmp_path)
    assert full_disk.files() == [] and kill.hidden(office) == [] and list(office.iterdir()) == []

    full_disk.empty()
    again = kill.run(kill.cli(database_url, *args), kill.cli_env(), tmp_path)
    assert again.returncode == 0, again.stderr
    assert slips.exists() and report.exists()
    assert kill.hidden(office) == [] and kill.hidden(full_disk.folder) == []
