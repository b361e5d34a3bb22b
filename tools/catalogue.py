"""The gettext catalogues: extract the messages, merge them into the Russian catalogue, compile.

    python tools/catalogue.py update           # after changing messages: extract, merge, compile
    python tools/catalogue.py todo [PATH...]   # untranslated messages (of files under PATH), JSON
    python tools/catalogue.py translate F.json # {msgid: msgstr or [plural forms]} into the .po
    python tools/catalogue.py fill OTHER.po... # translations missing here, from other catalogues
    python tools/catalogue.py check            # stale, untranslated, fuzzy or uncompiled: exit 1

Messages come from three places: `_()`, `ngettext()`, `pgettext()` and `N_()` calls in the source
(Babel's Python extractor); the same calls and `{% trans %}` blocks in the documents' templates,
`templates/*.j2` (Jinja2's extractor; their placeholders are `%(name)s`); and the help texts of
every click command and option (read off the command tree, so that a command's docstring is its
`--help` and still gets translated).
Locations are written without line numbers, so a catalogue changes only when its messages do.
"""

from __future__ import annotations

import io
import json
import os
import re
import string
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "diaryadmin"
TEMPLATES = ROOT / "templates"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("ru",)
DOMAIN = "diaryadmin"
# A fixed date in the header, so that an update without new messages changes nothing.
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
# As letters.template_environment reads them; not silent, so a broken template fails `update`.
JINJA_OPTIONS = {
    "extensions": "jinja2.ext.i18n",
    "trim_blocks": "true",
    "lstrip_blocks": "true",
    "newstyle_gettext": "true",
    "silent": "false",
}
_PERCENT_FIELD = re.compile(r"%\((\w+)\)[sd]")


def po_path(language: str, domain: str = DOMAIN) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


def _source_messages() -> list[tuple[str | tuple[str, str], str | None, str]]:
    found = []
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=(),
        strip_comment_tags=True,
    ):
        if message and (message if isinstance(message, str) else message[0]):
            found.append((message, context, f"src/diaryadmin/{filename}"))
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(TEMPLATES),
        method_map=[("*.j2", "jinja2.ext:babel_extract")],
        options_map={"*.j2": JINJA_OPTIONS},
        keywords=KEYWORDS,
        comment_tags=(),
        strip_comment_tags=True,
    ):
        if message and (message if isinstance(message, str) else message[0]):
            found.append((message, context, f"templates/{filename}"))
    return found


def _help_messages() -> list[tuple[str, None, str]]:
    os.environ["DIARYADMIN_LANG"] = "en"
    sys.path.insert(0, str(ROOT / "src"))
    import click

    from diaryadmin import i18n
    from diaryadmin.cli import cli
    from diaryadmin.commands import COMMANDS

    found: list[tuple[str, None, str]] = []
    ctx = click.Context(cli)

    def walk(command: click.Command, path: str) -> None:
        for text in i18n.help_texts_of(command):
            found.append((text, None, f"help/{path}"))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, f"{path}.{name}")

    for text in i18n.help_texts_of(cli):
        found.append((text, None, "help/diaryadmin"))
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        if command is not None:
            walk(command, f"diaryadmin.{name}")
    return found


def extract(language: str) -> Catalog:
    catalog = Catalog(
        locale=language,
        domain=DOMAIN,
        project="diaryadmin",
        version="",
        copyright_holder="the diaryadmin developers",
        msgid_bugs_address="",
        last_translator="the diaryadmin developers",
        language_team="Russian",
        header_comment="# The Russian catalogue of diaryadmin (tools/catalogue.py keeps it).",
        fuzzy=False,
    )
    catalog.creation_date = catalog.revision_date = _EPOCH
    for message, context, location in [*_source_messages(), *_help_messages()]:
        key = message if isinstance(message, str) else message[0]
        existing = catalog.get(key, context)
        if existing is not None:
            if (location, None) not in existing.locations:
                existing.locations.append((location, None))
            continue
        catalog.add(message, None, locations=[(location, None)], context=context)
    return catalog


def _fields(text: str) -> set[str]:
    """The placeholders of a message: `{name}` (the code's) and `%(name)s` (the templates')."""
    percent = {f"%({name})" for name in _PERCENT_FIELD.findall(text)}
    try:
        parsed = string.Formatter().parse(text)
        return {name for _lit, name, _spec, _conv in parsed if name is not None} | percent
    except ValueError:
        return {"<unbalanced braces>"} | percent


def merge(fresh: Catalog, old: Catalog | None) -> Catalog:
    """`fresh`'s messages with `old`'s translations; messages gone from the code are dropped."""
    if old is not None:
        for message in fresh:
            if not message.id:
                continue
            previous = old.get(message.id, message.context)
            if (
                previous is not None
                and previous.string
                and not previous.fuzzy
                and isinstance(message.id, tuple) == isinstance(previous.id, tuple)
            ):
                message.string = previous.string
    return fresh


def load(path: Path) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle)


def po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, omit_header=False)
    return buffer.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def _save(language: str, catalog: Catalog) -> None:
    _write(po_path(language), po_bytes(catalog))
    _write(po_path(language).with_suffix(".mo"), mo_bytes(catalog))


def update() -> None:
    for language in LANGUAGES:
        catalog = merge(extract(language), load(po_path(language)))
        _save(language, catalog)
        missing = sum(1 for m in catalog if m.id and not _translated(m))
        name = po_path(language).relative_to(ROOT)
        print(f"{name}: {len(catalog)} messages, {missing} untranslated")
    for language in LANGUAGES:  # click's own words: a hand-kept catalogue, compiled here
        click_po = po_path(language, "click")
        if click_po.exists():
            _write(click_po.with_suffix(".mo"), mo_bytes(load(click_po)))


def _translated(message) -> bool:
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


def problems(language: str) -> list[str]:
    path = po_path(language)
    found: list[str] = []
    current = load(path)
    if current is None:
        return [f"{path}: missing; run python tools/catalogue.py update"]
    fresh = merge(extract(language), current)
    if po_bytes(fresh) != path.read_bytes():
        old_ids = {(m.id, m.context) for m in current if m.id}
        new_ids = {(m.id, m.context) for m in fresh if m.id}
        for gone in sorted(map(str, old_ids - new_ids))[:20]:
            found.append(f"stale: no longer in the code: {gone}")
        for new in sorted(map(str, new_ids - old_ids))[:20]:
            found.append(f"stale: not in the catalogue: {new}")
        if not found:
            found.append(f"stale: {path.name} differs from a fresh update (run update)")
    for message in current:
        if not message.id:
            continue
        if message.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        if not _translated(message):
            found.append(f"untranslated: {message.id!r}")
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(_fields(i) for i in ids))
        for text in strings:
            plural = isinstance(message.id, tuple)
            if _fields(text) - wanted or (not plural and _fields(text) != wanted):
                found.append(f"placeholders differ: {message.id!r} -> {text!r}")
    mo = path.with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != mo_bytes(current):
        found.append(f"{mo.name} is not compiled from {path.name} (run update)")
    click_po = po_path(language, "click")
    if click_po.exists():
        click_mo = click_po.with_suffix(".mo")
        if not click_mo.exists() or click_mo.read_bytes() != mo_bytes(load(click_po)):
            found.append(f"{click_mo.name} is not compiled from {click_po.name} (run update)")
    return found


def todo(paths: list[str]) -> None:
    out = {}
    for language in LANGUAGES:
        for message in load(po_path(language)) or ():
            if not message.id or _translated(message):
                continue
            places = [loc for loc, _ in message.locations]
            if paths and not any(p in loc for p in paths for loc in places):
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            if message.context:
                key = f"{message.context}\x04{key}"
            out[key] = {"plural": message.id[1]} if isinstance(message.id, tuple) else ""
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()


def translate(files: list[str]) -> None:
    for language in LANGUAGES:
        catalog = load(po_path(language))
        applied = 0
        for name in files:
            mapping = json.loads(Path(name).read_text(encoding="utf-8"))
            for key, value in mapping.items():
                # "context\x04msgid" names a message with a context (pgettext), as in a .mo
                context, _sep, msgid = key.rpartition("\x04")
                message = catalog.get(msgid, context or None)
                if message is None:
                    print(f"not in the catalogue (run update first?): {key!r}", file=sys.stderr)
                    continue
                if isinstance(message.id, tuple):
                    if not isinstance(value, list) or len(value) != catalog.num_plurals:
                        forms = catalog.num_plurals
                        print(f"{key!r}: a plural needs {forms} forms", file=sys.stderr)
                        continue
                    message.string = tuple(value)
                else:
                    message.string = value
                message.flags.discard("fuzzy")
                applied += 1
        _save(language, merge(extract(language), catalog))
        print(f"{applied} translations applied to {po_path(language).relative_to(ROOT)}")


def fill(others: list[str]) -> None:
    for language in LANGUAGES:
        catalog = load(po_path(language))
        filled = 0
        for name in others:
            with open(name, "rb") as handle:
                other = read_po(handle)
            for message in catalog:
                if message.id and not _translated(message):
                    theirs = other.get(message.id, message.context)
                    if theirs is not None and theirs.string and not theirs.fuzzy:
                        message.string = theirs.string
                        filled += 1
        _save(language, merge(extract(language), catalog))
        print(f"{filled} translations filled in from {', '.join(others)}")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"update", "check", "todo", "translate", "fill"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "check":
        found = [p for language in LANGUAGES for p in problems(language)]
        for line in found[:200]:
            print(line)
        if len(found) > 200:
            print(f"... and {len(found) - 200} more")
        return 1 if found else 0
    if command == "update":
        update()
    elif command == "todo":
        todo(rest)
    elif command == "translate":
        translate(rest)
    else:
        fill(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
