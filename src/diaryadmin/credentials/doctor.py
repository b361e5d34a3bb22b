"""Why a parent cannot log in: the checks staff run with the parent on the phone.

Each finding is a code and a plain sentence. With the parent's attempt, the usual mistakes
(Caps Lock, Russian keyboard layout, 0/O and 1/l swaps) are tried against the stored hash; the
password and the hash are never shown.
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
from diaryadmin.credentials.scope import find_guardianship
from diaryadmin.i18n import N_, _, ngettext
from diaryadmin.models import Credential, Guardian, Guardianship, Student, utcnow
from diaryadmin.people.names import LOOKALIKES, full_name

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

# The same keys on the Russian (ЙЦУКЕН) and the English (QWERTY) layout.
_RU = "ёйцукенгшщзхъфывапролджэячсмитьбюЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ"
_EN = "`qwertyuiop[]asdfghjkl;'zxcvbnm,.~QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>"
RU_TO_EN = str.maketrans(_RU, _EN)
CYRILLIC_TO_LATIN = str.maketrans({cyr: lat for lat, cyr in LOOKALIKES.items()})


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


# Hashes the doctor may spend on one attempt (each costs an argon2 verification).
MAX_TRIES = 64
# A look-alike character and what it may have been meant as.
_SWAPS = {"0": "oO", "o": "0", "O": "0", "1": "lI", "l": "1I", "I": "1l"}


def _variants(attempt: str) -> list[tuple[str, str]]:
    """(code, variant) for each usual mistake and combination of two or three, fewest slips
    first, at most MAX_TRIES: spaces around it, hyphens left out or typed as spaces, Caps
    Lock, the Russian layout, and 0/O or 1/l swapped at one position or several (a parent's
    own password may hold a real 0 or 1 beside a slipped one). A combination's code joins
    its slips' codes with `+`."""
    candidates: list[tuple[tuple[str, ...], str]] = []
    for base_codes, base in _typed_forms(attempt):
        layout = base.translate(RU_TO_EN)
        for case_codes, cased in (
            ((), base),
            (("case_inverted",), base.swapcase()),
            (("keyboard_layout",), layout),
            (("keyboard_layout",), layout.swapcase()),
        ):
            candidates.append(((*base_codes, *case_codes), cased))
            for swap_codes, swapped in _lookalike_forms(cased):
                candidates.append(((*base_codes, *case_codes, *swap_codes), swapped))
    candidates.sort(key=lambda item: len(item[0]))  # stable: the usual order within a size
    seen = {attempt}
    result = []
    for codes, variant in candidates:
        if variant not in seen and codes:
            seen.add(variant)
            result.append(("+".join(codes), variant))
            if len(result) == MAX_TRIES:
                break
    return result


def _typed_forms(attempt: str) -> list[tuple[tuple[str, ...], str]]:
    """The attempt as typed, and as meant when spaces or the hyphens of a temporary password
    (`k7mx-p4rt-q9wz`) went wrong."""
    forms: list[tuple[tuple[str, ...], str]] = [((), attempt)]
    stripped = attempt.strip()
    if stripped != attempt:
        forms.append((("spaces_around",), stripped))
    hyphened = "-".join(stripped.split())
    if hyphened != stripped:
        forms.append((("hyphens_missing",), hyphened))
    bare = "".join(stripped.split()).replace("-", "")
    if len(bare) == passwords.LENGTH:
        regrouped = "-".join(
            bare[i : i + passwords.GROUP] for i in range(0, len(bare), passwords.GROUP)
        )
        if regrouped not in (stripped, hyphened):
            forms.append((("hyphens_missing",), regrouped))
    return forms


def _lookalike_forms(text: str) -> list[tuple[tuple[str, ...], str]]:
    """0/O and 1/l/I swapped: everywhere at once (the usual slip), then at each position on
    its own, then at pairs of positions."""
    forms = []
    for code, olds, new in (
        ("zero_letter_o", "0", "o"),
        ("zero_letter_o", "0", "O"),
        ("zero_letter_o", "oO", "0"),
        ("one_letter_l", "1", "l"),
        ("one_letter_l", "1", "I"),
        ("one_letter_l", "lI", "1"),
        ("one_letter_l", "I", "l"),
        ("one_letter_l", "l", "I"),
    ):
        forms.append(((code,), "".join(new if ch in olds else ch for ch in text)))
    positions = [i for i, ch in enumerate(text) if ch in _SWAPS]
    singles = [(i, alt) for i in positions for alt in _SWAPS[text[i]]]
    for i, alt in singles:
        forms.append(((_swap_code(text[i]),), text[:i] + alt + text[i + 1 :]))
    for index, (i, alt) in enumerate(singles):
        for j, other in singles[index + 1 :]:
            if j != i:
                chars = list(text)
                chars[i], chars[j] = alt, other
                codes = sorted({_swap_code(text[i]), _swap_code(text[j])})
                forms.append((tuple(codes), "".join(chars)))
    return forms


def _swap_code(char: str) -> str:
    return "zero_letter_o" if char in "0oO" else "one_letter_l"


# Translated where a finding is made (`_(MESSAGES[code])`), never at import time.
MESSAGES = {
    "password_ok": N_("The password the parent typed is correct."),
    "case_inverted": N_(
        "The password is right but with upper and lower case swapped, so Caps Lock is on "
        "and the parent should switch it off."
    ),
    "keyboard_layout": N_(
        "The password was typed on the Russian keyboard layout, so the parent should switch "
        "the keyboard to English (EN) and type it again."
    ),
    "zero_letter_o": N_("The password is right except that digit 0 and letter O are swapped."),
    "one_letter_l": N_(
        "The password is right except that digit 1 and letter l (or I) are swapped."
    ),
    "spaces_around": N_(
        "The password is right, but a space was typed before or after it; the parent should "
        "type it without spaces."
    ),
    "hyphens_missing": N_(
        "The password is right, but its hyphens were left out or typed as spaces; the hyphens "
        "are part of the password."
    ),
    "password_wrong": N_(
        "The password is wrong, and not by Caps Lock, keyboard layout or a 0/O or 1/l swap; "
        "if the parent has lost it, reset it with "
        "'diaryadmin credentials reset {login} --out FILE'."
    ),
}


# A slip in a sentence naming several (a combination).
SLIPS = {
    "case_inverted": N_("Caps Lock was on"),
    "keyboard_layout": N_("the keyboard was on the Russian layout"),
    "zero_letter_o": N_("digit 0 and letter O were swapped"),
    "one_letter_l": N_("digit 1 and letter l (or I) were swapped"),
    "spaces_around": N_("a space was typed before or after it"),
    "hyphens_missing": N_("its hyphens were left out or typed as spaces"),
}


def _check_attempt(credential: Credential, attempt: str, settings: Settings) -> Finding:
    if passwords.matches(attempt, credential.password_hash, settings):
        return Finding("password_ok", _(MESSAGES["password_ok"]))
    for code, variant in _variants(attempt):
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
