"""Why a parent cannot log in: the checks staff run with the parent on the phone.

Each finding is a code and a plain sentence. With the parent's attempt, the usual mistakes
(Caps Lock, Russian keyboard layout, 0/O and 1/l swaps: `credentials.mistyping`) are tried
against the stored hash; the password and the hash are never shown.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.config import Settings
from diaryadmin.credentials import passwords
from diaryadmin.credentials.logins import login_stem, normalise_login
from diaryadmin.credentials.mistyping import CYRILLIC_TO_LATIN, MESSAGES, RU_TO_EN, SLIPS, variants
from diaryadmin.credentials.scope import find_guardianship
from diaryadmin.i18n import _, ngettext
from diaryadmin.models import Credential, Guardian, Guardianship, Student, utcnow
from diaryadmin.people.names import full_name

CODES = (
    "unknown_login",
    "login_cyrillic",
    "not_issued",
    "expired",
    "locked",
    "revoked",
    "temporary",
    "active",
    "linked",
    "password_ok",
    "case_inverted",
    "keyboard_layout",
    "zero_letter_o",
    "one_letter_l",
    "password_wrong",
)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _has_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def _closest(session: Session, text: str, limit: int = 3) -> list[str]:
    every = list(session.scalars(select(Credential.login)))
    return difflib.get_close_matches(text, every, n=limit, cutoff=0.7)


def _unissued_stems(session: Session) -> dict[str, str]:
    """Login stems of active guardianships with no credential yet → who they would belong to."""
    rows = session.execute(
        select(Guardianship.student_id, Student, Guardian)
        .join(Student, Student.id == Guardianship.student_id)
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .outerjoin(Credential, Credential.guardianship_id == Guardianship.id)
        .where(Credential.id.is_(None), Guardianship.active.is_(True), Student.active.is_(True))
    ).all()
    stems = {}
    for _sid, child, person in rows:
        who = _("{guardian} for {student}").format(
            guardian=person.full_name,
            student=full_name(child.surname, child.name, child.patronymic),
        )
        stems.setdefault(login_stem(child.name, child.surname), who)
        stems.setdefault(login_stem(child.name, child.surname, person.name), who)
    return stems


def _check_attempt(credential: Credential, attempt: str, settings: Settings) -> Finding:
    if passwords.matches(attempt, credential.password_hash, settings):
        return Finding("password_ok", _(MESSAGES["password_ok"]))
    for code, variant in variants(attempt):
        if passwords.matches(variant, credential.password_hash, settings):
            if "+" not in code:
                return Finding(code, _(MESSAGES[code]))
            slips = "; ".join(_(SLIPS[part]) for part in dict.fromkeys(code.split("+")))
            return Finding(
                code,
                _("The password is right, but typed with several slips: {slips}.").format(
                    slips=slips
                ),
            )
    return Finding("password_wrong", _(MESSAGES["password_wrong"]).format(login=credential.login))


def _state_findings(session: Session, credential: Credential, now: datetime) -> list[Finding]:
    link = session.get(Guardianship, credential.guardianship_id)
    login = credential.login
    if not link.active or not link.student.active:
        return [
            Finding(
                "revoked",
                _(
                    "Access for {login} was withdrawn (or the child left the school), so it "
                    "works again only after a new grant or enrolment."
                ).format(login=login),
            )
        ]
    if credential.state == "revoked":
        return [
            Finding(
                "revoked",
                _(
                    "{login} was revoked; if that was a mistake, give it back with "
                    "'diaryadmin credentials reset {login} --out FILE'."
                ).format(login=login),
            )
        ]
    if credential.state == "locked":
        return [
            Finding(
                "locked",
                ngettext(
                    "{login} is locked after {count} failed attempt; "
                    "reset it with 'diaryadmin credentials reset {login} --out FILE'.",
                    "{login} is locked after {count} failed attempts; "
                    "reset it with 'diaryadmin credentials reset {login} --out FILE'.",
                    credential.failed_attempts,
                ).format(login=login, count=credential.failed_attempts),
            )
        ]
    if credential.state == "linked":
        if credential.linked_at:
            text = _(
                "{login} is linked to the parent's own account since {date}: the parent signs "
                "in through State Services, not with a school password. If they lost that "
                "account, 'diaryadmin credentials unlink {login}' and reset it."
            ).format(login=login, date=f"{credential.linked_at:%d.%m.%Y}")
        else:
            text = _(
                "{login} is linked to the parent's own account: the parent signs in through "
                "State Services, not with a school password. If they lost that account, "
                "'diaryadmin credentials unlink {login}' and reset it."
            ).format(login=login)
        return [Finding("linked", text)]
    expired_on = credential.expires_at
    if credential.state == "expired" or (
        credential.state == "temporary" and expired_on is not None and expired_on <= now
    ):
        if expired_on:
            text = _(
                "The temporary password of {login} expired on {date} without being replaced; "
                "issue a new one with 'diaryadmin credentials reset {login} --out FILE'."
            ).format(login=login, date=f"{expired_on:%d.%m.%Y}")
        else:
            text = _(
                "The temporary password of {login} expired without being replaced; "
                "issue a new one with 'diaryadmin credentials reset {login} --out FILE'."
            ).format(login=login)
        return [Finding("expired", text)]
    if credential.state == "temporary":
        days = max(0, math.ceil((expired_on - now).total_seconds() / 86400)) if expired_on else 0
        return [
            Finding(
                "temporary",
                ngettext(
                    "{login} still uses the temporary password, which works for {days} more "
                    "day, until {date}, and must be replaced at the first login.",
                    "{login} still uses the temporary password, which works for {days} more "
                    "days, until {date}, and must be replaced at the first login.",
                    days,
                ).format(login=login, days=days, date=f"{expired_on:%d.%m.%Y}"),
            )
        ]
    return [
        Finding(
            "active", _("{login} works; the parent has set their own password.").format(login=login)
        )
    ]


def diagnose(
    session: Session,
    settings: Settings,
    login: str | None = None,
    *,
    attempt: str | None = None,
    student_id: int | str | None = None,
    guardian_name: str | None = None,
    operator: str = "doctor",
    now: datetime | None = None,
) -> list[Finding]:
    """What stops a login (or a student's guardian, by `student_id` and `guardian_name`).

    Changes nothing except an audit event when a password attempt was tested.
    """
    now = now or utcnow()
    findings: list[Finding] = []
    credential = None
    if login is None:
        link = find_guardianship(session, student_id, guardian_name or "")
        credential = link.credential
        if credential is None:
            return [
                Finding(
                    "not_issued",
                    _(
                        "No login has been issued to {guardian} for this child yet; issue one "
                        "with 'diaryadmin credentials issue --student {student} --out FILE'."
                    ).format(guardian=link.guardian.full_name, student=student_id),
                )
            ]
    else:
        typed = normalise_login(login)
        credential = session.scalar(select(Credential).where(Credential.login == typed))
        tried = [typed]
        if credential is None and _has_cyrillic(typed):
            for candidate in (typed.translate(CYRILLIC_TO_LATIN), typed.translate(RU_TO_EN)):
                candidate = candidate.lower()
                tried.append(candidate)
                credential = session.scalar(select(Credential).where(Credential.login == candidate))
                if credential is not None:
                    findings.append(
                        Finding(
                            "login_cyrillic",
                            _(
                                "The login was typed with Russian letters (or on the Russian "
                                "keyboard layout); it is {login}, in Latin letters."
                            ).format(login=credential.login),
                        )
                    )
                    break
        if credential is None:
            unissued = _unissued_stems(session)
            for candidate in tried:
                if candidate in unissued:
                    return [
                        Finding(
                            "not_issued",
                            _(
                                "{login} has not been issued yet (it would belong to "
                                "{owner}), so issue credentials first."
                            ).format(login=candidate, owner=unissued[candidate]),
                        )
                    ]
            closest = []
            for candidate in tried:
                closest += [c for c in _closest(session, candidate) if c not in closest]
            if closest:
                text = _("There is no login {login} (closest existing logins: {closest}).")
            else:
                text = _("There is no login {login}.")
            typed_login = repr(login.strip())
            text = text.format(login=typed_login, closest=", ".join(closest[:3]))
            return [Finding("unknown_login", text)]
    findings += _state_findings(session, credential, now)
    if attempt is not None and credential.state != "linked":  # its school password is spent
        findings.append(_check_attempt(credential, attempt, settings))
        audit.record(
            session,
            operator,
            "credentials.doctor",
            credential.login,
            {"codes": [f.code for f in findings]},
            now=now,
        )
    return findings
