"""How guessable a parent's own password is: zxcvbn, told what an attacker already knows.

zxcvbn (Dropbox's estimator, maintained in Python as `zxcvbn`) scores 0-4 by the guesses an
attacker needs, counting common passwords, dictionary words, keyboard walks, repeats,
sequences and dates. It is given the login, the child's and the guardian's names (as written
and transliterated, since parents type them in Latin letters too) and the child's birth date in
the ways people write it. The hint names the weakest part in the parent's language; the
password itself never leaves this function. Temporary passwords are drawn at random and are
not checked here.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin import i18n
from diaryadmin.i18n import N_
from diaryadmin.models import Guardian, Student
from diaryadmin.people.names import transliterate

# Longer input makes zxcvbn slow (its matching is quadratic) and adds no guessability.
MAX_CHECKED_LENGTH = 72

# What each weakness tells the parent, translated into the parent's language where it is shown.
HINTS = {
    "personal": N_(
        "The password contains the login, a name or a date of birth: many people "
        "know them and they are tried first. Choose one without them."
    ),
    "common": N_(
        "This is one of the most common passwords and is tried first. "
        "Use three or four random words."
    ),
    "keyboard": N_(
        "Rows of keys such as qwerty or 123456 are tried first. Use three or four random words."
    ),
    "repeat": N_("Repeats such as aaa or abcabc are easy to guess. Add a word or two."),
    "sequence": N_("Sequences such as abcd or 4321 are easy to guess. Add a word or two."),
    "date": N_("Dates and years are easy to guess. Use words instead."),
    "simple": N_("The password is too simple: add two or three uncommon words."),
}


def date_forms(day: date) -> list[str]:
    """A date as parents type it: 14032015, 14.03.2015, 140315, 20150314, 1403, 2015."""
    d, m, y = f"{day.day:02d}", f"{day.month:02d}", f"{day.year:04d}"
    return [d + m + y, f"{d}.{m}.{y}", d + m + y[2:], y + m + d, d + m, y]


def _name_forms(*names: str | None) -> list[str]:
    """Each name as written, by the passport scheme (`petr`) and as people spell it elsewhere
    (`pyotr` in Wikipedia's and Yandex's schemes, `schukina` on the Moscow metro's)."""
    import iuliia

    schemes = (iuliia.WIKIPEDIA, iuliia.YANDEX_MAPS, iuliia.MOSMETRO)
    forms: list[str] = []
    for name in names:
        if name:
            forms += [name, transliterate(name), *(scheme.translate(name) for scheme in schemes)]
    return list(dict.fromkeys(forms))


def personal_inputs(
    session: Session, login: str, student_id: int | None, guardian_id: int | None
) -> list[str]:
    """What an attacker who knows the family knows: the login and its parts, the names of the
    child and the guardian, the child's birth date."""
    inputs = [login, *login.replace("-", ".").split(".")]
    if student_id is not None:
        child = session.execute(
            select(Student.surname, Student.name, Student.patronymic, Student.birth_date).where(
                Student.id == student_id
            )
        ).one_or_none()
        if child:
            inputs += _name_forms(*child[:3])
            if child[3]:
                inputs += date_forms(child[3])
    if guardian_id is not None:
        person = session.execute(
            select(Guardian.surname, Guardian.name, Guardian.patronymic).where(
                Guardian.id == guardian_id
            )
        ).one_or_none()
        if person:
            inputs += _name_forms(*person)
    return [text.lower() for text in inputs if text and len(text) >= 2]


def _weakest_kind(sequence: list[dict]) -> str:
    """The kind of the weakest telling part zxcvbn found (the longest, by priority)."""

    def kind(match: dict) -> str | None:
        pattern = match.get("pattern")
        if pattern == "dictionary":
            if match.get("dictionary_name") == "user_inputs":
                return "personal"
            if match.get("dictionary_name") == "passwords":
                return "common"
            return None
        if pattern == "spatial":
            return "keyboard"
        if pattern in ("repeat", "sequence"):
            return pattern
        if pattern == "date" or (pattern == "regex" and match.get("regex_name") == "recent_year"):
            return "date"
        return None

    order = ("personal", "common", "keyboard", "date", "repeat", "sequence")
    found = [k for k in map(kind, sequence) if k]
    return min(found, key=order.index) if found else "simple"


def weakness(
    password: str, user_inputs: list[str], min_score: int, language: str = "ru"
) -> str | None:
    """A hint in `language` (ru or en) when `password` scores below `min_score`, else None."""
    from zxcvbn import zxcvbn

    checked = password[:MAX_CHECKED_LENGTH]
    result = zxcvbn(checked, user_inputs=user_inputs, max_length=MAX_CHECKED_LENGTH)
    if result["score"] >= min_score:
        return None
    # The portal asks in the parent's language; an unknown one gets Russian, as before.
    with i18n.using(language if language in i18n.LANGUAGES else "ru"):
        return i18n.gettext(HINTS[_weakest_kind(result["sequence"])])
