"""Names (ФИО) and class names: cleaning, matching forms, look-alike letters, transliteration.

Storage keeps what the source wrote; matching uses `fold` / `name_key`, where `ё` equals `е`,
case is ignored and Latin look-alikes inside Cyrillic words count as the Cyrillic letters.
"""

from __future__ import annotations

import functools
import re

from diaryadmin.errors import quoted
from diaryadmin.i18n import _, ngettext

# Latin letters that look exactly like Cyrillic ones (copy-paste damage inside Cyrillic words).
LOOKALIKES: dict[str, str] = {
    "A": "А",
    "B": "В",
    "E": "Е",
    "K": "К",
    "M": "М",
    "H": "Н",
    "O": "О",
    "P": "Р",
    "C": "С",
    "T": "Т",
    "Y": "У",
    "X": "Х",
    "a": "а",
    "e": "е",
    "o": "о",
    "p": "р",
    "c": "с",
    "y": "у",
    "x": "х",
}
_LOOKALIKE_TABLE = str.maketrans(LOOKALIKES)

# Second word of a Turkic patronymic: `Рашид оглы` is one patronymic ("son of", "daughter of").
_SON_OF, _DAUGHTER_OF = ("оглы", "улы", "уулу"), ("кызы", "гызы")
PATRONYMIC_SUFFIXES = frozenset(_SON_OF + _DAUGHTER_OF)
# Endings that tell a patronymic's gender: Петровна, Ильинична, Фоминишна, Рашид кызы / Петрович,
# Ильич, Рашид оглы, Нурлан уулу.
_FEMININE_ENDINGS = ("вна", "чна", "шна", *_DAUGHTER_OF)
_MASCULINE_ENDINGS = ("ич", *_SON_OF)

_WORD = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# A hyphen (or a dash typed for one) between two letters, with spaces around it.
_HYPHEN = re.compile(r"(?<=[^\W\d_]) ?[-\u2010\u2011\u2012\u2013] ?(?=[^\W\d_])")


def fix_lookalikes(text: str) -> tuple[str, bool]:
    """Replace Latin look-alikes by Cyrillic letters in every word that has a Cyrillic letter.

    Hyphen-joined parts are separate words; words with no Cyrillic letter are left alone.
    Returns the fixed text and whether anything changed.
    """

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        return word.translate(_LOOKALIKE_TABLE) if _CYRILLIC.search(word) else word

    fixed = _WORD.sub(fix, text)
    return fixed, fixed != text


def clean_spaces(text: str) -> str:
    """Strip, collapse all whitespace (NBSP too) to single spaces, join `Римская - Корсакова`."""
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return _HYPHEN.sub("-", text)


def fold(text: str) -> str:
    """The matching form of a text: clean spaces, fix look-alikes, casefold, `ё` → `е`."""
    fixed, _ = fix_lookalikes(clean_spaces(text))
    return fixed.casefold().replace("ё", "е")


def name_key(surname: str, name: str, patronymic: str | None = None) -> str:
    """The matching key of a full name; an empty or missing patronymic is left out."""
    parts = [surname, name]
    if patronymic and patronymic.strip():
        parts.append(patronymic)
    return fold(" ".join(parts))


def full_name(surname: str, name: str | None, patronymic: str | None = None) -> str:
    """`Фамилия Имя Отчество` for display, leaving out a missing name or patronymic."""
    return " ".join(p for p in (surname, name, patronymic) if p)


@functools.lru_cache(maxsize=4096)  # rosters repeat patronymics: 100,000 rows, a few hundred
def gender_of_patronymic(patronymic: str | None) -> str | None:
    """`female` or `male` by a patronymic's ending (-вна/-чна/-шна, кызы/гызы; -ич, оглы,
    улы, уулу), None when it has none or does not say."""
    if not patronymic:
        return None
    ending = fold(patronymic)
    if ending.endswith(_FEMININE_ENDINGS):
        return "female"
    if ending.endswith(_MASCULINE_ENDINGS):
        return "male"
    return None


def split_full_name(text: str) -> tuple[str, str, str | None]:
    """Split `Фамилия Имя [Отчество]` into its parts.

    A hyphenated surname stays whole; a fourth word `оглы`/`кызы`/`улы`/`уулу`/`гызы` joins
    the patronymic. Raises ValueError for fewer than two or more than three words.
    """
    words = clean_spaces(text).split(" ") if text and text.strip() else []
    if len(words) == 4 and fold(words[3]) in PATRONYMIC_SUFFIXES:
        words = [words[0], words[1], f"{words[2]} {words[3]}"]
    if len(words) == 2:
        return words[0], words[1], None
    if len(words) == 3:
        return words[0], words[1], words[2]
    if not words:
        raise ValueError(_("the full name is empty"))
    raise ValueError(
        ngettext(
            "needs a surname and a name, and a patronymic if there is one (2 or 3 words); "
            "found {count} word",
            "needs a surname and a name, and a patronymic if there is one (2 or 3 words); "
            "found {count} words",
            len(words),
        ).format(count=len(words))
    )


_CLASS = re.compile(
    r"(?P<grade>\d{1,2})\s*[-\u2010\u2011\u2013]?\s*"
    r"[«»\"'“”„‘’`]?\s*(?P<letter>[^\W\d_])\s*[«»\"'“”„‘’`]?"
    r"(?:\s*(?:[Кк][Лл](?:[Аа][Сс][Сс])?\.?))?"  # `5 «А» класс`, `5А кл.`
)


def canonical_class(text: str) -> str:
    """The canonical class name: `5 А`, `5-а`, `5«А»`, Latin `5A` → `5А`.

    Raises ValueError unless the text is a grade 1–11 and one Cyrillic letter.
    """
    match = _CLASS.fullmatch(clean_spaces(str(text)))
    if not match:
        raise ValueError(_("a class is a grade 1–11 and one letter, like 5А"))
    grade = int(match["grade"])
    if not 1 <= grade <= 11:
        raise ValueError(_("grade {grade} is not 1–11").format(grade=grade))
    letter = match["letter"].translate(_LOOKALIKE_TABLE).upper()
    if not _CYRILLIC.fullmatch(letter):
        raise ValueError(
            _("the class letter {letter} is not a Cyrillic letter").format(
                letter=quoted(match["letter"])
            )
        )
    return f"{grade}{letter}"


def class_grade(name: str) -> int:
    """The grade (1–11) of a class name in any accepted spelling; raises ValueError."""
    return int(canonical_class(name)[:-1])


def transliterate(text: str) -> str:
    """Latin spelling by ICAO Doc 9303 (the Russian passport scheme): `Юлия` → `Iuliia`."""
    import iuliia

    return iuliia.ICAO_DOC_9303.translate(text)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def within_one_edit(a: str, b: str) -> bool:
    """Whether the Levenshtein distance of a and b is at most 1 (linear time)."""
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > 1:
        return False
    i = 0
    while i < len(b) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i + 1 :] == b[i:]


def title_case_name(text: str) -> str:
    """`ИВАНОВА` → `Иванова`, `римская-корсакова` → `Римская-Корсакова` (for display only)."""

    def title(match: re.Match[str]) -> str:
        word = match.group()
        if word.casefold() in PATRONYMIC_SUFFIXES:
            return word.lower()
        return word[:1].upper() + word[1:].lower()

    return _WORD.sub(title, text)
