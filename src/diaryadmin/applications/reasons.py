"""The reasons for a decision on an application, and their text in the reader's language.

A reason is stored as `{"code": ..., "message": ...}` (plus `contacts` for `contact_conflict`).
The stored message is the English source text, which is its own catalogue msgid: `reason_text`
translates it when it is shown (a table, `applications show`, the JSON `message`, the report),
so the same stored decision reads in Russian for a Russian user and in English otherwise.
The reviewer's note (`reviewer`) is the reviewer's own words and is shown as typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from diaryadmin.i18n import N_, _

REVIEWER = "reviewer"

NO_CONSENT = N_("No consent to the processing of personal data was given.")
CERTIFICATE_MISSING = N_(
    "The birth-certificate series and number is missing (expected a series like IV-МЮ and six "
    "digits)."
)
CERTIFICATE_MALFORMED = N_(
    "The birth-certificate series and number is not in a valid form (expected a series like "
    "IV-МЮ and six digits)."
)
PASSPORT_MISSING = N_(
    "The applicant's passport series and number are missing (expected 4 + 6 digits)."
)
PASSPORT_MALFORMED = N_(
    "The applicant's passport series and number are not in a valid form (expected 4 + 6 digits)."
)
SNILS_INVALID = N_("The applicant's SNILS is not valid (its check number fails).")
CHILD_INACTIVE = N_("The child is not (or no longer) a pupil of the school.")
CERTIFICATE_MISMATCH = N_("The birth-certificate number does not match our records for this child.")
CERTIFICATE_UNKNOWN = N_(
    "The school holds no birth-certificate number for this child to compare with; check the "
    "certificate in person."
)
NOT_FOUND_BY_CERTIFICATE = N_(
    "No pupil with this name and birth-certificate number is on the school roll."
)
NOT_FOUND_BY_DATE = N_("No pupil with this name and date of birth is on the school roll.")
PATRONYMIC_MISSING = N_("The child's patronymic is missing; the rest matches our records.")
NEAR_MISS = {
    "surname": N_("The child's surname differs from our records by one letter."),
    "name": N_("The child's name differs from our records by one letter."),
    "patronymic": N_("The child's patronymic differs from our records by one letter."),
}
DATE_SWAPPED = N_("The date of birth matches our records only with the day and month swapped.")
BIRTH_DATE_MISMATCH = N_("The date of birth does not match our records.")
DUPLICATE = N_("An application from this applicant for this child is already approved.")
CONTACT_CONFLICT = N_(
    "The applicant's name matches a guardian of this child on our roster, but with a different "
    "{contacts}."
)
CONTACT_NAMES = {
    "email": N_("e-mail"),
    "phone": N_("phone number"),
    "passport": N_("passport"),
}


def contact_conflict(contacts: Iterable[str]) -> dict[str, Any]:
    """The `contact_conflict` reason for the contacts (`email`, `phone`, `passport`) that differ."""
    names = list(contacts)
    message = CONTACT_CONFLICT.format(contacts=", ".join(CONTACT_NAMES[c] for c in names))
    return {"code": "contact_conflict", "message": message, "contacts": names}


def reason_text(reason: Mapping[str, Any]) -> str:
    """The message of a stored reason in the current language."""
    message = reason.get("message") or ""
    if reason.get("code") == REVIEWER:
        return message
    contacts = reason.get("contacts")
    if reason.get("code") == "contact_conflict" and contacts:
        names = ", ".join(_(CONTACT_NAMES[c]) for c in contacts if c in CONTACT_NAMES)
        return _(CONTACT_CONFLICT).format(contacts=names)
    return _(message) if message else message


def shown(reasons: Iterable[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """Stored reasons as people (and the JSON `message` fields) see them: code and text."""
    return [{"code": r.get("code", ""), "message": reason_text(r)} for r in reasons or ()]
