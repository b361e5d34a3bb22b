"""Personal documents: birth certificate, passport, SNILS — parsing, validation, fingerprints.

Document numbers are never stored: only keyed HMAC-SHA256 fingerprints of their canonical
form, so every way of typing one document gives one fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
import operator
import re
import unicodedata

from diaryadmin.errors import quoted
from diaryadmin.i18n import _
from diaryadmin.people.names import LOOKALIKES

_ROMAN = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
# What people type for Roman numerals: Cyrillic Х/С/М, Ukrainian/Belarusian І, palochka, digit 1.
_ROMAN_LOOKALIKES = str.maketrans({"Х": "X", "С": "C", "М": "M", "І": "I", "Ӏ": "I", "1": "I"})
_CYRILLIC_PAIR = str.maketrans({k: v for k, v in LOOKALIKES.items() if k.isupper()})
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.]+")
_NUMBER_SIGN = re.compile(r"№|[Nn][oOоО]?(?=\d)")
_ASCII_DIGITS = re.compile(r"[0-9]+")

_SNILS_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, 1)

KINDS = frozenset({"certificate", "passport", "snils"})


def _compact(text: object) -> str:
    """The text without spaces, hyphens, dots and number signs."""
    if isinstance(text, bool) or text is None:
        raise ValueError(_("no document number given"))
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    compact = _SEPARATORS.sub("", _NUMBER_SIGN.sub("", _SEPARATORS.sub("", str(text))))
    # Digits of other scripts (fullwidth `１２３`, Arabic-Indic) are the same number: written
    # as ASCII digits they give the same canonical form and fingerprint. Other characters that
    # str.isdigit calls digits (superscripts, circled numbers) stay and are refused.
    if not compact.isascii():
        compact = "".join(_ascii_digit(char) for char in compact)
    return compact


def _ascii_digit(char: str) -> str:
    value = unicodedata.decimal(char, None)
    return str(value) if value is not None else char


def _is_digits(text: str) -> bool:
    """Whether `text` is ASCII digits only (str.isdigit also accepts `²` and `①`)."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def normalise_certificate(series: str, number: str | None = None) -> str:
    """The canonical birth-certificate series and number, `IV-МЮ 123456`.

    `series` may hold the series and the number together when `number` is None. Tolerates
    spaces, a missing hyphen, `№`, lower case, Cyrillic `Х`/`І` or digit `1` in the Roman part
    and Latin look-alikes in the Cyrillic pair. Raises ValueError if the series is not a
    Roman numeral and two Cyrillic letters, or the number is not six digits.
    """
    if number is None:
        compact = _compact(series)
        match = re.fullmatch(r"(?P<series>.*?)(?P<number>[0-9]*)", compact)
        assert match is not None  # the pattern matches any text
        series_part, number_part = match["series"], match["number"]
    else:
        series_part, number_part = _compact(series), _compact(number)
    if not number_part:
        raise ValueError(_("the birth-certificate number is missing"))
    if not _is_digits(number_part) or len(number_part) != 6:
        raise ValueError(_("the birth-certificate number must be 6 digits"))
    if len(series_part) < 3:
        raise ValueError(_("the birth-certificate series must be like IV-МЮ"))
    roman = series_part[:-2].upper().translate(_ROMAN_LOOKALIKES)
    pair = series_part[-2:].upper().translate(_CYRILLIC_PAIR)
    if not re.fullmatch(r"[А-ЯЁ]{2}", pair):
        raise ValueError(
            _(
                "the birth-certificate series must end in two Cyrillic letters, not {letters}"
            ).format(letters=quoted(pair))
        )
    if not roman or not _ROMAN.fullmatch(roman):
        raise ValueError(
            _("the birth-certificate series must start with a Roman numeral: {part}").format(
                part=quoted(roman)
            )
        )
    return f"{roman}-{pair} {number_part}"


def normalise_passport(text: str) -> str:
    """A Russian passport's series and number as `4508 123456`; raises ValueError otherwise."""
    digits = _compact(text)
    if not (_is_digits(digits) and len(digits) == 10):
        raise ValueError(_("a passport is a 4-digit series and a 6-digit number, like 4508 123456"))
    return f"{digits[:4]} {digits[4:]}"


def snils_check_number(first_nine: str) -> int:
    """The SNILS check number of the first nine digits (weights 9..1, modulo 101 rule)."""
    total = sum(map(operator.mul, map(int, first_nine[:9]), _SNILS_WEIGHTS))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    return total % 101 % 100


def normalise_snils(text: str) -> str:
    """SNILS as 11 digits, its check number verified; raises ValueError otherwise.

    Numbers up to 001-001-998 are not checked. An integer cell that lost its leading zeros
    is padded back to 11 digits.
    """
    digits = _compact(text)
    if isinstance(text, int | float) and _is_digits(digits):
        digits = digits.zfill(11)
    if not (_is_digits(digits) and len(digits) == 11):
        raise ValueError(_("SNILS is 11 digits, like 112-233-445 95"))
    if int(digits[:9]) > 1001998 and snils_check_number(digits[:9]) != int(digits[9:]):
        raise ValueError(_("the SNILS check number does not match (a typing mistake?)"))
    return digits


def format_snils(digits: str) -> str:
    """11 SNILS digits as `112-233-445 95`; raises ValueError if not 11 digits."""
    if not (len(digits) == 11 and _is_digits(digits)):
        raise ValueError(_("SNILS is 11 digits"))
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


_NORMALISERS = {
    "certificate": normalise_certificate,
    "passport": normalise_passport,
    "snils": normalise_snils,
}


def fingerprint(kind: str, normalised: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of `kind:canonical form` under `key`.

    The value is normalised again (a no-op on canonical forms), so any typing of one document
    gives one fingerprint. Raises ValueError for an unknown kind, an empty key or a value
    that is not a valid document of that kind.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    if not key:
        raise ValueError("the fingerprint key is empty")
    canonical = _NORMALISERS[kind](normalised)
    return hmac.new(key, f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()
