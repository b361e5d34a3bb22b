"""Relations of a person to a child: the codes, their Russian words, reading a relation as
offices write it, and who counts as a trusted person.

By DOMAIN.md a grandparent, aunt, uncle or older sibling is a trusted person (доверенное
лицо) unless the file names them a legal guardian (опекун, попечитель, законный
представитель): `бабушка` is trusted, `бабушка (опекун)` is a guardian.
"""

from __future__ import annotations

import re

from diaryadmin.i18n import pgettext
from diaryadmin.people.names import fold, gender_of_patronymic

RELATIONS = ("mother", "father", "guardian", "trusted")
RELATION_WORDS = {
    "mother": "мать",
    "father": "отец",
    "guardian": "опекун",
    "trusted": "доверенное лицо",
}
# A parent of unknown sex, told mother or father by the patronymic (`parent_relation`).
_PARENT = "parent"
_WORDS = {
    "mother": ("мать", "мама", "mother", "mom", "mum"),
    "father": ("отец", "папа", "father", "dad"),
    "guardian": (
        "опекун",
        "попечитель",
        "законный представитель",
        "приемный родитель",
        "приемная мать",
        "приемный отец",
        "guardian",
        "legal guardian",
    ),
    "trusted": (
        "доверенное лицо",
        "доверенное",
        "бабушка",
        "дедушка",
        "тетя",
        "дядя",
        "брат",
        "сестра",
        "старший брат",
        "старшая сестра",
        "родственник",
        "родственница",
        "другое",
        "trusted",
        "trusted person",
        "grandmother",
        "grandfather",
        "grandparent",
        "aunt",
        "uncle",
        "brother",
        "sister",
        "relative",
        "other",
    ),
    # The portal's "Родитель (законный представитель)" too: a parent is a legal representative.
    _PARENT: ("родитель", "родитель законный представитель", "parent"),
}
_BY_WORDS = {fold(word): code for code, words in _WORDS.items() for word in words}
# Parts of a relation cell: `бабушка (опекун)`, `бабушка, опекун`, `бабушка-опекун`.
_PARTS = re.compile(r"[(),;/]|\s[-\u2013\u2014]\s|-")
_NOISE = re.compile(r"[^\w\s]+")
_OF_THE_CHILD = ("ребенка", "ученика", "обучающегося", "ученицы", "обучающейся")
_CACHE: dict[str, str | None] = {}


def relation_word(code: str) -> str:
    """The Russian word for a relation code (`mother` → `мать`); an unknown code as it is."""
    return RELATION_WORDS.get(code, code)


def relation_name(code: str) -> str:
    """A relation code in the reader's language (`mother`, or `мать` in Russian);
    `relation_word` is the Russian of files and letters."""
    names = {
        "mother": pgettext("relation", "mother"),
        "father": pgettext("relation", "father"),
        "guardian": pgettext("relation", "guardian"),
        "trusted": pgettext("relation", "trusted"),
    }
    return names.get(code, code)


def is_trusted(code: str) -> bool:
    """Whether a relation makes a trusted person (their own login, cannot grant access)."""
    return code == "trusted"


def parent_relation(patronymic: str | None) -> str:
    """mother or father by a parent's patronymic; guardian when it does not say."""
    gender = gender_of_patronymic(patronymic)
    return "mother" if gender == "female" else "father" if gender == "male" else "guardian"


def relation_of(text: str | None, patronymic: str | None = None) -> str | None:
    """The relation code of a relation as typed, or None if it is not one.

    Understands `мать`, `Мать ребёнка`, `папа`, `опекун`, `Законный представитель (опекун)`,
    `бабушка` (trusted), `бабушка (опекун)` (a guardian: the file names her one) and English
    words. A bare "parent" (`родитель`, `Родитель (законный представитель)`) is told mother or
    father by `patronymic`, else guardian.
    """
    if text is None:
        return None
    code = _CACHE.get(text, False)
    if code is False:
        code = _read(text)
        if len(_CACHE) < 1000:
            _CACHE[text] = code
    return parent_relation(patronymic) if code == _PARENT else code


def _phrase(text: str) -> str:
    words = fold(_NOISE.sub(" ", text)).split()
    if len(words) > 1 and words[-1] in _OF_THE_CHILD:
        words.pop()
    return " ".join(words)


def _read(text: str) -> str | None:
    whole = _BY_WORDS.get(_phrase(text))
    if whole is not None:
        return whole
    parts = [phrase for phrase in map(_phrase, _PARTS.split(text)) if phrase]
    codes = [_BY_WORDS.get(phrase) for phrase in parts]
    if not codes or codes[0] is None:
        return None  # the first word is what the person is; the rest only qualifies it
    if codes[0] == "trusted" and "guardian" in codes[1:]:
        return "guardian"
    return codes[0]


_SPACED_DASH = re.compile(r"\s[-\u2013\u2014]")
_NAME_WITH_RELATION = re.compile(
    r"(.+?)\s*(?:\(\s*([^()]+?)\s*\)|,\s*([^,()]+?)|\s[-\u2013\u2014]\s*([^()]+?))\s*\.?"
)


def split_relation(text: str) -> tuple[str, str | None]:
    """A name cell without the relation written after it, and that relation as written.

    `Иванова Мария Петровна (мать)`, `Иванов Пётр, папа` and `Сидорова Анна - бабушка` give
    the name and the relation's words (read them with `relation_of`); a cell whose last part
    is no relation comes back whole with None.
    """
    if "(" not in text and "," not in text and not _SPACED_DASH.search(text):
        return text, None
    match = _NAME_WITH_RELATION.fullmatch(text.strip())
    if match is None:
        return text, None
    written = match[2] or match[3] or match[4]
    return (match[1], written) if relation_of(written) is not None else (text, None)


def name_with_relation(full_name: str, code: str) -> str:
    """`Иванова Мария Петровна (мать)`: a name with its relation's word after it."""
    return f"{full_name} ({relation_word(code)})"
