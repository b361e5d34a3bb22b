"""Files that describe a transaction appear only once it is committed.

A slips file holds passwords that exist nowhere else, and an applications report describes
decisions; either must match the database. So such a file is written completely, with mode
0600 and fsynced, to a hidden pending name next to its target (`.slips.html.<token>.pending.html`)
*inside* the transaction, which records the token in the audit trail; after COMMIT it is
renamed into place. A kill in between leaves only the pending file: the next run for the same
target completes it when its token was committed (the passwords on it work) or removes it when
it was not (they never did), and says which. A committed credential's password therefore
always exists in a file, and a file at the target always describes a committed state.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diaryadmin import audit
from diaryadmin.errors import Refused
from diaryadmin.i18n import _
from diaryadmin.models import AuditEvent
from diaryadmin.plan import change

ACTION = "files.staged"
PAUSE_VARIABLE = "DIARYADMIN_TEST_PAUSE_AT"  # a test hook: stop at a named point, see pause()
PAUSE_SECONDS_VARIABLE = "DIARYADMIN_TEST_PAUSE_SECONDS"  # how long it waits there (120)


def pause(point: str) -> None:
    """For the kill tests: when $DIARYADMIN_TEST_PAUSE_AT names this point, say so on stderr
    and wait, so a test can kill the process exactly there. Does nothing otherwise."""
    if os.environ.get(PAUSE_VARIABLE) == point:
        print(f"paused at {point}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get(PAUSE_SECONDS_VARIABLE, "120")))


def pending_path(target: Path, token: str) -> Path:
    return target.parent / f".{target.name}.{token}.pending{target.suffix}"


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system can fsync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class StagedFile:
    target: Path
    temp: Path
    overwrite: bool
    token: str = ""  # in the pending file's name and the audit trail

    def publish(self) -> Path:
        """Rename the complete file into place (after the commit)."""
        if self.overwrite:
            os.replace(self.temp, self.target)
        else:
            try:
                os.link(self.temp, self.target)
            except FileExistsError:
                raise Refused(
                    _(
                        "{target}: appeared meanwhile; the committed file is kept as "
                        "{temp} (rename it yourself)."
                    ).format(target=self.target, temp=self.temp)
                ) from None
            os.unlink(self.temp)
        _fsync_folder(self.target.parent)
        return self.target

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp)


@dataclass
class Staging:
    """The files of one transaction: `stage` them inside it, `publish` after the commit,
    `discard` when it rolls back."""

    operator: str
    files: list[StagedFile] = field(default_factory=list)

    def stage(
        self,
        session: Session,
        target: Path,
        write: Callable[[Path], object],
        *,
        overwrite: bool = False,
    ) -> Path:
        """Write the file completely with `write(temp_path)` (which must create it with its
        mode and fsync it, as io.atomic_output does) and record its token in `session`."""
        staged = self.reserve(target, overwrite=overwrite)
        write(staged.temp)
        self.record(session, staged)
        return staged.temp

    def reserve(self, target: Path, *, overwrite: bool = False) -> StagedFile:
        """The pending file for `target`, for a writer elsewhere (a worker process); `record`
        it once it is written. Removed with the others if the transaction rolls back."""
        target = Path(target)
        token = secrets.token_hex(8)
        staged = StagedFile(target, pending_path(target, token), overwrite, token)
        self.files.append(staged)
        return staged

    def record(self, session: Session, staged: StagedFile) -> None:
        """The written file's token into the audit trail: what `recover` reads to know
        whether its transaction committed."""
        audit.record(session, self.operator, ACTION, staged.token, {"file": str(staged.target)})

    def publish(self) -> list[Path]:
        published = [f.publish() for f in self.files]
        self.files.clear()
        return published

    def discard(self) -> None:
        for staged in self.files:
            staged.discard()
        self.files.clear()

    def abandon(self, committed: bool) -> None:
        """On the way out of an error or an interruption: files of a committed transaction
        are still put in place (their passwords work), if that fails they stay pending for
        `recover`; files of an uncommitted one are removed."""
        if not committed:
            self.discard()
            return
        for staged in self.files:
            with contextlib.suppress(Exception):
                staged.publish()
        self.files.clear()


_PENDING = re.compile(r"^\.(?P<name>.+)\.(?P<token>[0-9a-f]{16})\.pending(\.[^.]+)?$")


def recover(sessions: sessionmaker[Session], target: Path, say: Callable[[str], None]) -> None:
    """Deal with what an interrupted run left next to `target`: a pending file whose
    transaction was committed is put in place (or beside it, when the target exists since);
    one whose transaction was not is removed, and so are half-written temporary files."""
    target = Path(target)
    folder = target.parent
    if not folder.is_dir():
        return
    prefix = f".{target.name}."
    # atomic_output's own temporary file of a pending file starts with one more dot
    leftovers = sorted(p for p in folder.iterdir() if p.name.lstrip(".").startswith(prefix[1:]))
    if not leftovers:
        return
    for path in leftovers:
        match = _PENDING.match(path.name)
        if match is None or match["name"] != target.name:
            if path.name.endswith(".tmp") and path.name.startswith("."):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                say(
                    _("Removed {path}, a half-written file left by an interrupted run.").format(
                        path=path
                    )
                )
            continue
        with sessions() as session:
            committed = session.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.action == ACTION, AuditEvent.target == match["token"]
                )
            )
        if committed is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            say(
                _(
                    "Removed {path}, left by an interrupted run that committed nothing "
                    "(the passwords or decisions in it never took effect)."
                ).format(path=path)
            )
            continue
        destination = target
        if destination.exists():
            destination = folder / f"{target.stem}.recovered-{match['token'][:8]}{target.suffix}"
        os.replace(path, destination)
        _fsync_folder(folder)
        say(
            _(
                "Completed {path} from an interrupted run whose changes were committed "
                "(the passwords in it work)."
            ).format(path=destination)
        )


@contextlib.contextmanager
def staged_change(
    sessions: sessionmaker[Session],
    operator: str,
    *,
    dry_run: bool = False,
    targets: Iterable[Path] = (),
    say: Callable[[str], None] = lambda _text: None,
) -> Iterator[tuple[Session, Staging]]:
    """One transaction (see plan.change) whose staged files appear only after its COMMIT:
    what an interrupted run left next to each of `targets` is dealt with first (`recover`);
    on a dry run or an error the staged files are removed."""
    for target in targets:
        recover(sessions, target, say)
    staging = Staging(operator)
    committed = False
    try:
        with change(sessions, dry_run=dry_run) as session:
            yield session, staging
            pause("before-commit")
        committed = not dry_run
        pause("after-commit")
        if dry_run:
            staging.discard()
        else:
            staging.publish()
    except BaseException:
        staging.abandon(committed)
        raise
