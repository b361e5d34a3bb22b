"""Free text from files and people: one validator for lengths, control characters and
bidirectional overrides, so every reader refuses the same things with the same words.

A right-to-left override (U+202E) makes `Иванов‮txt.exe` display as something else; a control
character breaks the XML inside xlsx files and hides text from staff; a 10,000-character name
does not fit a column. Readers call `clean_text` and turn its ValueError into a `Problem`
that names the file, sheet, row and column.
"""

from __future__ import annotations

import re
import unicodedata

from diaryadmin.i18n import _, ngettext

# Embeddings, overrides and isolates: they reorder what a person sees (Unicode TR #9).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible characters that copy-paste leaves behind: dropped, they carry no meaning here.
_INVISIBLE = str.maketrans({c: None for c in "\u200b\u2060\ufeff\u00ad"})
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def _refusal(char: str) -> str | None:
    """Why `char` cannot stand in text, or None when it may."""
    code = ord(char)
    if char in BIDI_CONTROLS:
        return _("contains a bidirectional override (U+{code})").format(code=f"{code:04X}")
    if 0xD800 <= code <= 0xDFFF:
        return _("contains a broken character (a lone surrogate: was the file's encoding right?)")
    if code in (0xFFFE, 0xFFFF) or 0xFDD0 <= code <= 0xFDEF:
        return _("contains a non-character (U+{code})").format(code=f"{code:04X}")
    if unicodedata.category(char) == "Cc":
        return _("contains a control character (U+{code})").format(code=f"{code:04X}")
    return None


def clean_text(value: str, field: str, max_length: int, *, multiline: bool = False) -> str:
    """`value` checked and tidied: NFC, invisible characters dropped, spaces collapsed, stripped.

    Single-line fields (names, ids, e-mails, numbers) turn tabs and line breaks into one space;
    with `multiline` (topics, comments) line breaks stay, as `\\n`. Raises ValueError with a
    short message naming `field` for a control character, a bidirectional override, a broken
    character, or text longer than `max_length` characters once tidied. With an empty `field`
    the message is the predicate alone (`contains a control character (U+0007)`), for readers
    that put the field's name in front.
    """
    if value.isprintable() and unicodedata.is_normalized("NFC", value):
        # Nearly every cell: no control, format (bidi, invisible), surrogate or unassigned
        # character, no separator but the plain space, already NFC. What the slow path below
        # would do to it is collapse the spaces and strip: 20 times cheaper, same text.
        text = value.strip(" ")
        if "  " in text:
            text = _SPACES.sub(" ", text)
        return _within(text, field, max_length)
    return _clean_slowly(value, field, max_length, multiline)


def _clean_slowly(value: str, field: str, max_length: int, multiline: bool) -> str:
    """clean_text for any text: normalised, invisible characters dropped, each character
    looked at."""
    text = unicodedata.normalize("NFC", value).translate(_INVISIBLE)
    text = _LINE_BREAKS.sub("\n", text)
    if multiline:
        lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
        text = "\n".join(lines).strip("\n")
    else:
        text = _SPACES.sub(" ", text.replace("\n", " ")).strip()
    for char in text:
        if char == "\n":
            continue
        reason = _refusal(char)
        if reason:
            raise ValueError(
                _("{field} {problem}").format(field=field, problem=reason) if field else reason
            )
    return _within(text, field, max_length)


def _within(text: str, field: str, max_length: int) -> str:
    """`text`, or ValueError if it is longer than `max_length` characters."""
    if len(text) > max_length:
        if field:
            message = ngettext(
                "{field} is too long ({length} character; at most {limit})",
                "{field} is too long ({length} characters; at most {limit})",
                len(text),
            )
        else:
            message = ngettext(
                "is too long ({length} character; at most {limit})",
                "is too long ({length} characters; at most {limit})",
                len(text),
            )
        raise ValueError(message.format(field=field, length=len(text), limit=max_length))
    return text


def shorten(value: object, limit: int = 40) -> object:
    """A refused cell's value as a problem shows it: text over `limit` characters cut with `…`
    (a 10,000-character name is not repeated in the message); other values unchanged."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value
