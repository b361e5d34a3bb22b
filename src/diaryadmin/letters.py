"""Slips, mail-merge files and the templates of letters and e-mails for issued credentials.

Templates live in the package `diaryadmin.templates` (the top-level `templates/` folder); a school
may put its own versions of any of them in `settings.templates_dir`, and the missing ones fall
back to ours. Their text goes through gettext (`{{ _("...") }}`, English msgids, the Russian in
our catalogue) and is rendered in the school's language (`render(..., language=)`, from `school
set --language`; Russian by default), never the operator's. The QR codes of the login link are
made here too. The passwords written here exist nowhere else: every file is created with mode
0600, atomically, and never replaces an existing file unless asked to. E-mails are built and
sent over SMTP in `diaryadmin.mail`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from functools import lru_cache
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diaryadmin import i18n
from diaryadmin.config import Settings
from diaryadmin.errors import ConfigError, Refused
from diaryadmin.i18n import _
from diaryadmin.io import atomic_output, write_csv, write_xlsx
from diaryadmin.people.names import class_grade
from diaryadmin.people.relations import name_with_relation, relation_name, relation_word

if TYPE_CHECKING:
    from jinja2 import Environment

    from diaryadmin.credentials.issue import IssuedCredential

FILE_MODE = 0o600
FILE_SUFFIXES = (".html", ".htm", ".csv", ".xlsx")
MAIL_MERGE_COLUMNS = (
    "login",
    "password",
    "student",
    "class",
    "guardian",
    "relation",
    "email",
    "expires_at",
)
SLIPS_PER_PAGE = 4  # 97 × 140 mm each: room for long names and logins


# --- templates -----------------------------------------------------------------------------------


def _package_source(name: str) -> tuple[str, str | None, Callable[[], bool]] | None:
    from importlib.resources import files

    resource = files("diaryadmin.templates").joinpath(name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8"), None, lambda: True


def _date_ru(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


# Russian documents write dates as Russians do, 31.10.2026; English ones in ISO 8601,
# 2026-10-31, which no English reader can take for the 10th of a 31st month (dd.mm and mm/dd
# both exist in English-speaking countries: a numeric date in either order is a guess).
DATE_FORMATS = {"ru": "%d.%m.%Y", "en": "%Y-%m-%d"}


def document_date(value: date | None) -> str:
    """A date (or the day of a datetime) as documents in the current language write it."""
    if not value:
        return ""
    return value.strftime(DATE_FORMATS.get(i18n.current_language(), DATE_FORMATS["ru"]))


def pupil_genitive(full_name: str) -> str:
    """The child in a document's sentence: «ученицы Егоровой Марии Ивановны», «ученика Иванова
    Петра Сергеевича»; «ребёнка (Ким Саша)» when the name does not tell the gender."""
    from diaryadmin.people.declension import declined_full_name, gender_of_full_name

    gender, declined = gender_of_full_name(full_name), declined_full_name(full_name)
    if declined and gender == "female":
        return f"ученицы {declined}"
    if declined and gender == "male":
        return f"ученика {declined}"
    return f"ребёнка ({full_name})"


def _declines() -> bool:
    """Whether the document's language declines names and words by gender (Russian does)."""
    return i18n.current_language() == "ru"


def _pupil(full_name: str) -> str:
    # English sentences say "the pupil" themselves and keep the name as it is.
    return pupil_genitive(full_name) if _declines() else full_name


def _genitive(full_name: str) -> str | None:
    from diaryadmin.people.declension import declined_full_name

    return declined_full_name(full_name, "genitive") if _declines() else full_name


def _dative(full_name: str) -> str | None:
    from diaryadmin.people.declension import declined_full_name

    return declined_full_name(full_name, "dative") if _declines() else full_name


def _gender(full_name: str) -> str | None:
    from diaryadmin.people.declension import gender_of_full_name

    return gender_of_full_name(full_name)


def _relation(code: str) -> str:
    return relation_word(code) if _declines() else relation_name(code)


def _with_relation(full_name: str, code: str) -> str:
    if _declines():
        return name_with_relation(full_name, code)
    return f"{full_name} ({relation_name(code)})"


@lru_cache(maxsize=8)
def _environment(templates_dir: str | None) -> Environment:
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        FunctionLoader,
        StrictUndefined,
        select_autoescape,
    )

    loaders: list[Any] = []
    if templates_dir:
        folder = Path(templates_dir)
        if not folder.is_dir():
            raise ConfigError(
                _("DIARYADMIN_TEMPLATES_DIR {folder} is not a folder.").format(
                    folder=repr(templates_dir)
                )
            )
        loaders.append(FileSystemLoader(str(folder)))
    loaders.append(FunctionLoader(_package_source))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "html.j2", "htm.j2"), default_for_string=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # `{{ _("...") }}` and `{% trans %}` in the language of the document being rendered
    # (`render(..., language=)`): our catalogue, English msgids, `%(name)s` placeholders.
    env.install_gettext_callables(
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    env.filters["date"] = document_date
    env.filters["date_ru"] = _date_ru  # always dd.mm.yyyy, for schools' own Russian templates
    env.filters["relation_ru"] = relation_word
    env.filters["relation"] = _relation
    env.filters["with_relation"] = _with_relation
    env.filters["qr_svg"] = qr_svg
    # Names in sentences: `{{ c.student | pupil_genitive }}`, or `genitive`/`dative` (None when
    # the gender is not known) and `gender` (male, female, None) for a school's own wording.
    # In a language without declension (English) they give the name as it is written.
    env.filters["pupil_genitive"] = _pupil
    env.filters["genitive"] = _genitive
    env.filters["dative"] = _dative
    env.filters["gender"] = _gender
    return env


def template_environment(settings: Settings) -> Environment:
    """The Jinja2 environment: the school's folder first, then ours; HTML autoescaped."""
    return _environment(settings.templates_dir)


def render(settings: Settings, name: str, *, language: str | None = None, **context: Any) -> str:
    """Render the template `name` for parents, in `language` (the school's: `school set
    --language`; None is Russian), whatever the operator's own language is."""
    template = template_environment(settings).get_template(name)
    with i18n.using(language) as chosen:
        base = {
            "portal_url": settings.portal_url,
            "school_name": settings.school_name,
            "days": settings.temp_password_days,
            "lang": chosen,
        }
        return template.render({**base, **context})


# --- QR codes ------------------------------------------------------------------------------------

# 0.7 mm a module: a login link (version 4, 41 modules with the quiet zone) is 29 mm wide, which
# a phone reads from a printed slip at arm's length and a 150 dpi scan still resolves.
QR_MODULE_MM = 0.7
# Any mask is a valid code; choosing the best of the eight costs 15 ms a code (30 s for 2,000
# slips) and a phone reads either. The print test decodes every code made this way.
QR_MASK = 0
QR_BORDER = 4  # the quiet zone, in modules, as the standard asks


def login_link(portal_url: str, login: str) -> str:
    """The portal's sign-in page with the login filled in (`…?login=petr.ivanov`); never the
    password."""
    from urllib.parse import urlencode

    return f"{portal_url}{'&' if '?' in portal_url else '?'}{urlencode({'login': login})}"


def _qr(url: str) -> Any:
    import segno

    return segno.make(url, error="m", micro=False, mask=QR_MASK)


class QrLink(str):
    """A login link whose QR code is drawn already (`draw_qr_codes`): `qr_svg` of it returns
    that drawing instead of drawing it again."""

    svg: str

    def __new__(cls, url: str, svg: str) -> QrLink:
        link = super().__new__(cls, url)
        link.svg = svg
        return link


def _svg(url: str) -> str:
    """The inline SVG of `url`'s QR code, sized in millimetres, titled with the link."""
    return _qr(url).svg_inline(scale=QR_MODULE_MM, unit="mm", border=QR_BORDER, title=url)


def qr_svg(url: str) -> Any:
    """An inline SVG QR code of `url`, sized in millimetres for print."""
    from markupsafe import Markup

    return Markup(url.svg if isinstance(url, QrLink) else _svg(url))


def draw_qr_codes(
    links: Iterable[str], codes: dict[str, str], between: Callable[[], object] | None = None
) -> None:
    """Draw into `codes` (login link → inline SVG, as `qr_svg` makes it) the links not in it
    yet, calling `between()` after each one: a caller hashing meanwhile collects its hashes
    there. A code costs about 2 ms, so 2,000 slips' codes are drawn while their passwords
    hash instead of after."""
    for url in links:
        if url not in codes:
            codes[url] = _svg(url)
            if between:
                between()


def qr_png(url: str, scale: int = 5) -> bytes:
    """The same code as PNG, for e-mail: most mail programs do not show inline SVG."""
    import io

    buffer = io.BytesIO()
    _qr(url).save(buffer, kind="png", scale=scale, border=QR_BORDER)
    return buffer.getvalue()


# --- files ---------------------------------------------------------------------------------------


def check_output_path(path: Path, force: bool = False) -> Path:
    """Refuse, before any work is done, an --out file that could not be written."""
    path = Path(path)
    if path.suffix.lower() not in FILE_SUFFIXES:
        raise Refused(
            _("{file}: write the passwords to a .html, .csv or .xlsx file.").format(file=path)
        )
    if not path.parent.is_dir():
        raise Refused(
            _("{file}: the folder {folder} does not exist.").format(
                file=path, folder=repr(str(path.parent))
            )
        )
    if path.is_dir():
        raise Refused(_("{file}: is a directory.").format(file=path))
    if path.exists() and not force:
        raise Refused(_("{file}: already exists; use --force to overwrite it.").format(file=path))
    return path


def _class_order(name: str | None) -> tuple[int, str]:
    if not name:
        return (99, "")
    try:
        return (class_grade(name), name)
    except ValueError:
        return (98, name)


def in_slip_order(issued: Iterable[IssuedCredential]) -> list[IssuedCredential]:
    """One class after another; inside a class, by child and guardian."""
    return sorted(
        issued, key=lambda c: (c.school, _class_order(c.class_name), c.student, c.guardian)
    )


def _document_language(issued: Sequence[IssuedCredential]) -> str | None:
    """The language of a file of slips: its school's (a run issues for one school)."""
    return issued[0].language if issued else None


def slips_html(issued: Sequence[IssuedCredential], settings: Settings) -> str:
    """Print-ready A4 pages of slips with cut lines, a new page for each class."""
    classes = []
    for (school, class_name), group in groupby(
        in_slip_order(issued), key=lambda c: (c.school, c.class_name)
    ):
        slips = list(group)
        pages = [slips[i : i + SLIPS_PER_PAGE] for i in range(0, len(slips), SLIPS_PER_PAGE)]
        classes.append({"school": school, "name": class_name, "pages": pages})
    # QR codes drawn while the passwords hashed (IssuedCredential.qr_link) are not drawn again.
    drawn = {str(c.qr_link): c.qr_link for c in issued if c.qr_link}

    def link(portal_url: str, login: str) -> str:
        url = login_link(portal_url, login)
        return drawn.get(url, url)

    return render(
        settings,
        "slips.html.j2",
        classes=classes,
        count=len(issued),
        portal_of=lambda c: c.portal_url or settings.portal_url,
        login_link=link,
        language=_document_language(issued),
    )


def mail_merge_rows(issued: Sequence[IssuedCredential]) -> Iterator[list[Any]]:
    for c in in_slip_order(issued):
        yield [
            c.login,
            c.password,
            c.student,
            c.class_name,
            c.guardian,
            relation_word(c.relation),
            c.email,
            c.expires_at.date(),
        ]


def write_credentials_file(
    issued: Sequence[IssuedCredential], path: Path, settings: Settings, *, force: bool = False
) -> Path:
    """Write the one copy of the passwords: `.html` slips, or `.csv` / `.xlsx` for mail merge
    (columns login, password, student, class, guardian, relation, email, expires_at).

    The file appears atomically with mode 0600. Raises Refused for another suffix, a missing
    folder, or an existing file without `force`.
    """
    path = check_output_path(Path(path), force)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = slips_html(issued, settings)
        with atomic_output(path, FILE_MODE, overwrite=force) as stream:
            stream.write(text.encode("utf-8"))
    elif suffix == ".csv":
        write_csv(
            path, MAIL_MERGE_COLUMNS, mail_merge_rows(issued), mode=FILE_MODE, overwrite=force
        )
    else:
        write_xlsx(
            path,
            [("credentials", MAIL_MERGE_COLUMNS, mail_merge_rows(issued))],
            mode=FILE_MODE,
            overwrite=force,
        )
    return path
