"""Messages in the reader's language, from gettext catalogues compiled into the package.

    from diaryadmin.i18n import _, ngettext
    _("file not found")
    ngettext("{n} student", "{n} students", n).format(n=n)

Source messages are English; `locale/ru/LC_MESSAGES/diaryadmin.po` holds the Russian. The language
of a run is chosen once (`activate`): `DIARYADMIN_LANG=ru|en`, else the locale (`LANGUAGE`,
`LC_ALL`, `LC_MESSAGES`, `LANG`): Russian for `ru*`, English otherwise. Documents for parents
follow the school's language instead: `with using("ru"): ...`.

Catalogue upkeep (the test suite fails when a catalogue is stale or a message untranslated):

    pybabel extract -F babel.cfg -k lazy_gettext -o src/diaryadmin/locale/diaryadmin.pot .
    pybabel update -i src/diaryadmin/locale/diaryadmin.pot -d src/diaryadmin/locale -D diaryadmin
    pybabel compile -d src/diaryadmin/locale -D diaryadmin
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "diaryadmin"
LANGUAGES = ("ru", "en")
DEFAULT_DOCUMENT_LANGUAGE = "ru"
LOCALE_DIR = Path(__file__).with_name("locale")
_LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def language_of(tag: str | None) -> str | None:
    """`ru` or `en` for a language tag such as `ru_RU.UTF-8`, `en-GB`, `RU`; None if neither."""
    if not tag:
        return None
    head = tag.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    return head if head in LANGUAGES else None


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language of messages: `DIARYADMIN_LANG` if it names one, else the locale's."""
    environ = os.environ if environ is None else environ
    explicit = language_of(environ.get("DIARYADMIN_LANG"))
    if explicit:
        return explicit
    for variable in _LOCALE_VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            # LANGUAGE is a colon-separated list of preferences; the first one decides.
            return "ru" if value.split(":")[0].lower().startswith("ru") else "en"
    return "en"


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The catalogue of `language`; English (the source text) needs none."""
    if language == "en":
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


_default = ["en"]
_current: ContextVar[str | None] = ContextVar("diaryadmin_language", default=None)


def activate(language: str | None = None) -> str:
    """Make `language` (default: from the environment) the language of this process's messages."""
    _default[0] = language_of(language) or language_from_environment()
    return _default[0]


def current_language() -> str:
    return _current.get() or _default[0]


@contextmanager
def using(language: str | None) -> Iterator[str]:
    """Messages in `language` inside the block (a document in the school's language)."""
    chosen = language_of(language) or DEFAULT_DOCUMENT_LANGUAGE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The plural form for `n` by the language's own rules (1 ученик, 2 ученика, 5 учеников)."""
    return translations(current_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(current_language()).pgettext(context, message)


class LazyString:
    """A message translated when it is shown, for text defined at import time."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __repr__(self) -> str:
        return f"LazyString({self.message!r})"


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


_ = gettext
