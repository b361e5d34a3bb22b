"""Messages in the reader's language, from gettext catalogues compiled into the package.

    from diaryadmin.i18n import _, ngettext
    _("file not found")
    ngettext("{n} student", "{n} students", n).format(n=n)

Source messages are English; `locale/ru/LC_MESSAGES/diaryadmin.po` holds the Russian. The language
of a run is chosen once (`activate`): `DIARYADMIN_LANG=ru|en`, else the locale (`LANGUAGE`,
`LC_ALL`, `LC_MESSAGES`, `LANG`): Russian for `ru*`, English otherwise. Documents for parents
follow the school's language instead: `with using("ru"): ...`.

Messages are marked where they are written: `_("...")` and `ngettext(...)` translate at once;
`N_("...")` marks a message kept in a constant and translated where it is shown (`_(CONSTANT)`).
The help texts of click commands and options need no marking: `localise_command` translates them
when a command is shown, and the catalogue tool collects them from the command tree. click's own
words ("Usage:", "Show this message and exit.") come from a second catalogue, `click`.

Catalogue upkeep (the test suite fails when a catalogue is stale, a message untranslated, or a `.mo`
not compiled from its `.po`):

    python tools/catalogue.py update     # extract, merge into ru/diaryadmin.po, compile the .mo
    python tools/catalogue.py check      # what the test suite runs
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


def translations(language: str) -> _gettext.NullTranslations:
    """The catalogue of `language`; English (the source text) needs none."""
    return translations_of(DOMAIN, language)


_default: list[str | None] = [None]
_current: ContextVar[str | None] = ContextVar("diaryadmin_language", default=None)


def activate(language: str | None = None) -> str:
    """Make `language` (default: from the environment) the language of this process's messages."""
    _default[0] = language_of(language) or language_from_environment()
    return _default[0]


def current_language() -> str:
    chosen = _current.get() or _default[0]
    if chosen is None:
        chosen = _default[0] = language_from_environment()
    return chosen


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


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it (translate it where it is shown)."""
    return message


_ = gettext


# -- click ----------------------------------------------------------------------------------------

_HELP_ATTRIBUTES = ("help", "short_help", "epilog")
_ORIGINAL = "_diaryadmin_msgids"


def _originals(thing: object) -> dict[str, str | None]:
    saved = getattr(thing, _ORIGINAL, None)
    if saved is None:
        saved = {name: getattr(thing, name, None) for name in _HELP_ATTRIBUTES}
        setattr(thing, _ORIGINAL, saved)
    return saved


def _translated(text: str | None) -> str | None:
    if not text:
        return text
    import inspect

    return gettext(inspect.cleandoc(text))


def help_texts_of(command: object) -> Iterator[str]:
    """The help texts of a click command and its options, as the catalogue holds them."""
    import inspect

    for text in _originals(command).values():
        if text:
            yield inspect.cleandoc(text)
    for param in getattr(command, "params", ()):
        text = _originals(param).get("help")
        if text:
            yield inspect.cleandoc(text)


def localise_command(command: object) -> None:
    """Put the help texts of a click command, its options and subcommands into the language."""
    language = current_language()
    if getattr(command, "_diaryadmin_language", None) == language:
        return
    for name, text in _originals(command).items():
        setattr(command, name, _translated(text))
    for param in getattr(command, "params", ()):
        original = _originals(param).get("help")
        if original is not None:
            param.help = _translated(original)
    command._diaryadmin_language = language
    for sub in getattr(command, "commands", {}).values():
        localise_command(sub)


def click_gettext(message: str) -> str:
    """One of click's own messages in the run's language."""
    return translations_of("click", current_language()).gettext(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    return translations_of("click", current_language()).ngettext(singular, plural, n)


@cache
def translations_of(domain: str, language: str) -> _gettext.NullTranslations:
    if language == "en":
        return _gettext.NullTranslations()
    return _gettext.translation(domain, LOCALE_DIR, languages=[language], fallback=True)


def localise_click() -> None:
    """click's own words (usage, errors, prompts) from our `click` catalogue."""
    import importlib

    for name in ("core", "exceptions", "formatting", "decorators", "types", "parser", "termui"):
        module = importlib.import_module("click." + name)
        if hasattr(module, "_"):
            module._ = click_gettext
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext
