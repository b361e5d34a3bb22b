""" "Forgot password or login": a one-time code to the address on file.

`start_recovery` takes a login or an e-mail address and, when it names a guardian, sends a
letter with the guardian's login(s) and an 8-digit code. The code is stored only as an
argon2id hash (one per guardian: a new request replaces the old), lives
settings.recovery_code_minutes, allows `MAX_TRIES` wrong tries, and each guardian may ask
settings.recovery_requests_per_hour times an hour. The answer is the same, and costs the same
hash, whether the identifier is known or not; the letter leaves only after the caller commits,
on a background thread, so its delivery time is not in the answer's either. An unknown
identifier sends nothing; every answer takes at least settings.recovery_answer_ms.
`finish_recovery` checks the code and sets the parent's new password.

The delivery channel is pluggable (`Channel`): e-mail now, SMS later.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from diaryadmin.config import Settings
from diaryadmin.credentials import passwords
from diaryadmin.credentials.auth import (
    AuthResult,
    claim_credential,
    commit_without_waiting,
    new_password_problem,
    refusal,
    set_own_password,
    settings_or_env,
    spend_dummy_hash,
)
from diaryadmin.credentials.logins import normalise_login
from diaryadmin.models import (
    Credential,
    Guardian,
    Guardianship,
    RecoveryCode,
    School,
    Student,
    utcnow,
)
from diaryadmin.people.names import full_name
from diaryadmin.schools import document_language, portal_url

log = logging.getLogger(__name__)

CODE_DIGITS = 8
MAX_TRIES = 5
WINDOW = timedelta(hours=1)
# A family e-mail shared by more guardians than this is not a family's.
MAX_GUARDIANS_PER_ADDRESS = 6
RECOVERABLE_STATES = ("temporary", "active", "expired", "locked", "linked")
_NOT_DIGIT = re.compile(r"[\s-]+")
NOBODY = 0  # a guardian id that never exists: unknown identifiers take the same steps with it


@dataclass(frozen=True)
class RecoveryLogin:
    login: str
    student: str
    linked: bool  # signs in through the parent's own account, not with a password


@dataclass(frozen=True)
class RecoveryLetter:
    """What one letter says; `code` exists only here and in the letter."""

    to: str
    guardian: str
    logins: tuple[RecoveryLogin, ...]
    code: str = field(repr=False)
    expires_at: datetime
    minutes: int
    portal_url: str
    school: str
    language: str | None = None  # of the school's documents (schools.document_language)


class Channel(Protocol):
    """How a code reaches the guardian: `address` on file (None: cannot), and `send`."""

    name: str

    def address(self, guardian: Guardian) -> str | None: ...

    def send(self, letter: RecoveryLetter, settings: Settings) -> None: ...


class EmailChannel:
    """The code by e-mail (templates `recovery_email*`), over the configured SMTP server."""

    name = "email"

    def address(self, guardian: Guardian) -> str | None:
        return guardian.email or None

    def send(self, letter: RecoveryLetter, settings: Settings) -> None:
        from diaryadmin import mail

        mail.send_recovery_letter(letter, settings)


@dataclass(frozen=True)
class RecoveryStarted:
    """The answer to every request, known identifier or not."""

    accepted: bool = True
    minutes: int = 30  # how long a code would live


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _guardians_for(session: Session, identifier: str) -> list[Guardian]:
    text = (identifier or "").strip()
    if not text or len(text) > 255:
        return []
    if "@" in text:
        return list(
            session.scalars(
                select(Guardian)
                .where(func.lower(Guardian.email) == text.lower())
                .order_by(Guardian.id)
                .limit(MAX_GUARDIANS_PER_ADDRESS)
            )
        )
    found = session.scalar(
        select(Guardian)
        .join(Guardianship, Guardianship.guardian_id == Guardian.id)
        .join(Credential, Credential.guardianship_id == Guardianship.id)
        .where(Credential.login == normalise_login(text))
    )
    return [found] if found else []


def _logins_of(session: Session, guardian_id: int) -> list[tuple[RecoveryLogin, School]]:
    """(login, its school) of each login the guardian can use."""
    rows = session.execute(
        select(Credential, Student, School)
        .join(Guardianship, Guardianship.id == Credential.guardianship_id)
        .join(Student, Student.id == Guardianship.student_id)
        .join(School, School.id == Student.school_id)
        .where(
            Guardianship.guardian_id == guardian_id,
            Guardianship.active.is_(True),
            Student.active.is_(True),
            Credential.state.in_(RECOVERABLE_STATES),
        )
        .order_by(Credential.login)
    ).all()
    return [
        (
            RecoveryLogin(
                credential.login,
                full_name(child.surname, child.name, child.patronymic),
                credential.state == "linked",
            ),
            school,
        )
        for credential, child, school in rows
    ]


def _code_row(session: Session, guardian_id: int) -> RecoveryCode | None:
    return session.scalar(
        select(RecoveryCode)
        .where(RecoveryCode.guardian_id == guardian_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _store_code(
    session: Session,
    guardian_id: int,
    code_hash: str,
    channel: str,
    now: datetime,
    settings: Settings,
) -> bool:
    """Replace the guardian's code; False (nothing stored) past the hourly limit or for
    `NOBODY`, which runs the same statements to no effect."""
    row = _code_row(session, guardian_id)
    fresh = row is None or now - row.window_started_at >= WINDOW
    allowed = guardian_id != NOBODY and (
        fresh or row.window_requests < settings.recovery_requests_per_hour
    )
    values = {
        "channel": channel,
        "code_hash": code_hash,
        "attempts": 0,
        "used_at": None,
        "created_at": now,
        "expires_at": now + timedelta(minutes=settings.recovery_code_minutes),
        "window_started_at": now if fresh else row.window_started_at,
        "window_requests": 1 if fresh else row.window_requests + 1,
    }
    session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.guardian_id == (guardian_id if allowed else NOBODY))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if allowed and row is None:
        try:
            with session.begin_nested():
                session.execute(insert(RecoveryCode).values(guardian_id=guardian_id, **values))
        except IntegrityError:
            # A concurrent first request made the row meanwhile: take its turn after it.
            return _store_code(session, guardian_id, code_hash, channel, now, settings)
    return allowed


def start_recovery(
    session: Session,
    identifier: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    channel: Channel | None = None,
) -> RecoveryStarted:
    """Send a one-time code to the guardian that `identifier` (a login or an e-mail address on
    file) names, with their login(s). Always returns the same `RecoveryStarted`.

    Sends nothing for an unknown identifier, a guardian without an address for the channel or
    without a usable login, or past the hourly limit. The letter is sent after the caller's
    commit (never when it rolls back); `wait_for_deliveries` waits for it.
    """
    started = time.monotonic()
    settings = settings_or_env(settings)
    now = now or utcnow()
    channel = channel or EmailChannel()
    # A lost code costs the parent a new request; not waiting for the disk keeps a known
    # address's commit (it writes) as fast as an unknown one's.
    commit_without_waiting(session)
    code = new_code()
    # One hash per request, known or not: the time taken tells nothing.
    code_hash = passwords.hash_password(code, settings)
    letters: list[RecoveryLetter] = []
    by_address: dict[str, list[tuple[Guardian, list]]] = {}
    for guardian in _guardians_for(session, identifier):
        address = channel.address(guardian)
        logins = _logins_of(session, guardian.id) if address else []
        if address and logins:
            by_address.setdefault(address, []).append((guardian, logins))
    if not by_address:
        _logins_of(session, NOBODY)
        _store_code(session, NOBODY, code_hash, channel.name, now, settings)
    for address, people in by_address.items():
        stored = [
            (guardian, logins)
            for guardian, logins in people
            if _store_code(session, guardian.id, code_hash, channel.name, now, settings)
        ]
        if not stored:
            continue
        school = stored[0][1][0][1]
        letters.append(
            RecoveryLetter(
                to=address,
                guardian=", ".join(g.full_name for g, _ in stored),
                logins=tuple(item[0] for _, logins in stored for item in logins),
                code=code,
                expires_at=now + timedelta(minutes=settings.recovery_code_minutes),
                minutes=settings.recovery_code_minutes,
                portal_url=portal_url(session, school, settings),
                school=school.name,
                language=document_language(school),
            )
        )
    for letter in letters:
        send_after_commit(session, lambda letter=letter: channel.send(letter, settings))
    # A known guardian's rows take a few milliseconds more to read and write than an unknown
    # identifier's nothing; every answer is held to the same floor so that does not show.
    time.sleep(max(0.0, settings.recovery_answer_ms / 1000 - (time.monotonic() - started)))
    return RecoveryStarted(True, settings.recovery_code_minutes)


def normalise_code(text: str) -> str | None:
    code = _NOT_DIGIT.sub("", text or "")
    return code if len(code) == CODE_DIGITS and code.isascii() and code.isdigit() else None


def finish_recovery(
    session: Session,
    login: str,
    code: str,
    new_password: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    language: str = "ru",
) -> AuthResult:
    """Set a new password for `login` with the code its guardian received.

    A wrong, expired, spent or exhausted (MAX_TRIES wrong tries) code, or a login that is not
    the guardian's, fails with `invalid_code` and nothing else told. With a valid code: the
    password rules of `change_password` apply (`too_short`, `same_as_old`, `same_as_login`,
    `too_weak` with a hint; the code stays usable), `revoked` and `linked` logins are refused;
    else the credential becomes `active` with the new password, its failed attempts and an
    automatic lock are cleared, and the code is spent. Audited; the caller commits.
    """
    settings = settings_or_env(settings)
    now = now or utcnow()
    claimed = claim_credential(session, login)
    row = _code_row(session, claimed.guardian_id) if claimed else None
    usable = (
        row is not None
        and row.code_hash is not None
        and row.used_at is None
        and row.expires_at > now
        and row.attempts < MAX_TRIES
    )
    typed = normalise_code(code)
    stored = row.code_hash if usable else passwords.dummy_hash(passwords.hash_params(settings))
    if typed is None or not usable:
        spend_dummy_hash(code or "", settings)
        matched = False
    else:
        matched = passwords.matches(typed, stored, settings)
    if not matched:
        if usable:
            row.attempts += 1
            session.flush()
        return AuthResult(False, "invalid_code")
    refused = refusal(claimed)
    if refused in ("revoked", "linked"):
        return claimed.result(False, refused)
    problem = new_password_problem(session, claimed, None, new_password, settings, language)
    if problem:
        reason, hint = problem
        return claimed.result(False, reason, hint=hint)
    row.used_at = now
    row.code_hash = None
    return set_own_password(session, claimed, new_password, settings, now, "credentials.recover")


# --- delivery after commit -----------------------------------------------------------------------

_OUTBOX = "diaryadmin.recovery_outbox"
_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()


def send_after_commit(session: Session, send: Callable[[], None]) -> None:
    """Run `send` on a background thread once the session's transaction commits; drop it if the
    transaction rolls back."""
    outbox = session.info.get(_OUTBOX)
    if outbox is None:
        outbox = session.info[_OUTBOX] = []
        event.listen(session, "after_commit", _flush_outbox)
        event.listen(session, "after_rollback", _drop_outbox)
    outbox.append(send)


def _drop_outbox(session: Session) -> None:
    session.info.get(_OUTBOX, []).clear()


def _flush_outbox(session: Session) -> None:
    jobs = list(session.info.get(_OUTBOX, []))
    session.info.get(_OUTBOX, []).clear()
    if not jobs:
        return
    thread = threading.Thread(target=_deliver, args=(jobs,), name="recovery-delivery")
    with _threads_lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()


def _deliver(jobs: Sequence[Callable[[], None]]) -> None:
    for job in jobs:
        try:
            job()
        except Exception as exc:  # the parent can ask again; the log keeps a trace, no code
            log.warning("a recovery letter could not be sent: %s", exc.__class__.__name__)


def wait_for_deliveries(timeout: float | None = None) -> bool:
    """Wait for letters still being sent; True when none is left."""
    with _threads_lock:
        pending = list(_threads)
    for thread in pending:
        thread.join(timeout)
    return not any(t.is_alive() for t in pending)
