"""Parents' contacts: e-mail addresses and phone numbers in one canonical form."""

from __future__ import annotations

import re
import unicodedata

from diaryadmin.i18n import _

_DOMAIN_LABEL = re.compile(r"[^\W_]([\w-]*[^\W_])?")
# Any space (no-break, thin, figure…), zero-width characters, brackets, dots, hyphens, dashes.
_PHONE_PUNCTUATION = re.compile(r"[\s\u200b-\u200d\u2060\ufeff()\-.\u2010-\u2015\u2212]+")


def normalise_email(text: str) -> str:
    """An e-mail address stripped, with its domain in lower case.

    Raises ValueError unless there is exactly one `@`, a non-empty local part, a domain with
    a dot and no spaces anywhere.
    """
    if not isinstance(text, str):
        raise ValueError(_("an e-mail address is text, like name@example.ru"))
    address = text.strip()
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:") :]
    if not address:
        raise ValueError(_("the e-mail address is empty"))
    if any(char.isspace() for char in address):
        raise ValueError(_("an e-mail address has no spaces"))
    if address.count("@") != 1:
        raise ValueError(_("an e-mail address has exactly one @, like name@example.ru"))
    local, domain = address.split("@")
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    if not local or len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(x) for x in labels):
        raise ValueError(_("not an e-mail address (expected name@example.ru)"))
    return f"{local}@{domain}"


def normalise_phone(value: str | int | float) -> str:
    """A phone number as `+7XXXXXXXXXX`, or `+digits` for other countries.

    Accepts `8 (912) 345-67-89`, `+7 912 345 67 89`, `9123456789` and numeric cells such as
    79123456789.0, with any kind of space, and digits of any script (full-width `＋７ ９１２…`,
    Arabic-Indic `٨٩١٢…`). Raises ValueError for anything else, superscript `²` and circled
    `①` included (str.isdigit calls them digits; they are not decimal digits).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(_("not a phone number"))
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(_("not a phone number"))
        value = int(value)
    text = _PHONE_PUNCTUATION.sub("", _ascii_forms(str(value)))
    international = text.startswith("+")
    digits = text[1:] if international else text
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(_("a phone number has only digits, spaces, brackets and hyphens"))
    if international:
        if digits.startswith("7") and len(digits) != 11:
            raise ValueError(_("a Russian number is +7 and 10 digits"))
        if not 8 <= len(digits) <= 15:
            raise ValueError(_("an international number is + and 8 to 15 digits"))
        return f"+{digits}"
    if len(digits) == 11 and digits[0] in "78":
        return f"+7{digits[1:]}"
    if len(digits) == 10 and digits[0] == "9":
        return f"+7{digits}"
    raise ValueError(_("not a Russian phone number (expected like 8 912 345-67-89)"))


def _ascii_forms(text: str) -> str:
    """Decimal digits of any script as ASCII digits, and full-width punctuation (`＋`, `（`,
    `－`) as its ASCII form; anything else as it is (for the caller to refuse)."""
    if text.isascii():
        return text
    chars = []
    for char in text:
        value = unicodedata.decimal(char, None)
        if value is not None:
            chars.append(str(value))
        elif unicodedata.decomposition(char).startswith("<wide>"):
            chars.append(unicodedata.normalize("NFKC", char))
        else:
            chars.append(char)
    return "".join(chars)
