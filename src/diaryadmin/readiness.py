"""Is this installation ready? One row per check, for a person and for monitoring.

Every check is read-only: it never creates a database, records a key verifier or sends mail.
A check that cannot run because an earlier one failed is `skipped`, saying why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from diaryadmin import db
from diaryadmin.config import KNOWN_SETTINGS, PREFIX, Settings
from diaryadmin.errors import DiaryAdminError
from diaryadmin.i18n import _, ngettext
from diaryadmin.models import School

OK, WARNING, ERROR, SKIPPED = "ok", "warning", "error", "skipped"
COLUMNS = ("name", "status", "message")


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def check_installation(
    settings: Settings,
    *,
    env: Mapping[str, str] | None = None,
    env_file: Path | None = None,
) -> list[Check]:
    """Run every check in order: config, secret_key, database, schema, smtp, templates,
    school, permissions. `env` (default os.environ) is what the settings were read from;
    `env_file` the `.env` in use, if any. Never raises for what it checks."""
    env = os.environ if env is None else env
    checks = [check_config(settings, env)]
    engine = None
    try:
        engine = db.make_engine(settings.database_url, create=False)
    except DiaryAdminError as exc:
        database = Check("database", ERROR, str(exc))
    else:
        database = check_database(engine, settings)
    try:
        reachable = engine is not None and database.status == OK
        checks.append(check_secret_key(settings, engine if reachable else None))
        checks.append(database)
        current = check_schema(engine) if reachable else _skipped("schema", "database")
        checks.append(current)
        checks.append(check_smtp(settings))
        checks.append(check_templates(settings))
        ready = reachable and current.status == OK
        checks.append(check_school(engine if ready else None, settings))
        checks.append(check_permissions(settings, env_file))
    finally:
        if engine is not None:
            engine.dispose()
    return checks


def has_errors(checks: list[Check]) -> bool:
    return any(check.status == ERROR for check in checks)


def _skipped(name: str, because: str) -> Check:
    return Check(name, SKIPPED, _("not checked: the {check} check failed").format(check=because))


# --- the checks ----------------------------------------------------------------------------------


def check_config(settings: Settings, env: Mapping[str, str]) -> Check:
    """The settings parse (they did, or the command would not run) and name known keys only."""
    try:
        Settings.from_env(env)
    except DiaryAdminError as exc:
        return Check("config", ERROR, str(exc))
    unknown = sorted(k for k in env if k.startswith(PREFIX) and k not in KNOWN_SETTINGS)
    if settings.templates_dir and not Path(settings.templates_dir).is_dir():
        message = _("{setting} {folder!r} is not a folder").format(
            setting=PREFIX + "TEMPLATES_DIR", folder=settings.templates_dir
        )
        return Check("config", ERROR, message)
    if unknown:
        message = ngettext(
            "unknown setting {names} is ignored: a typing mistake?",
            "unknown settings {names} are ignored: a typing mistake?",
            len(unknown),
        ).format(names=", ".join(unknown))
        return Check("config", WARNING, message)
    return Check("config", OK, _("settings are valid"))


def check_secret_key(settings: Settings, engine: Engine | None) -> Check:
    """Set, long enough, and the one the database was set up with."""
    try:
        settings.require_secret_key()
    except DiaryAdminError as exc:
        return Check("secret_key", ERROR, str(exc))
    if engine is None:
        return Check("secret_key", WARNING, _("set; not compared: the database is unavailable"))
    try:
        stored = db.stored_key_verifier(engine)
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        message = _("set; not compared ({kind})").format(kind=exc.__class__.__name__)
        return Check("secret_key", WARNING, message)
    if stored is None:
        return Check(
            "secret_key",
            WARNING,
            _(
                "set, but this database has not recorded which key it uses: run 'diaryadmin db "
                "upgrade' with the school's .env"
            ),
        )
    if stored != db.key_verifier(settings.secret_key or ""):
        return Check("secret_key", ERROR, _(db.KEY_MISMATCH))
    return Check("secret_key", OK, _("set, and the one this database was set up with"))


def check_database(engine: Engine, settings: Settings) -> Check:
    """Reachable; the message names it with the password hidden."""
    where = db.hide_password(settings.database_url)
    try:
        with engine.connect() as conn:
            version = conn.dialect.server_version_info
    except DiaryAdminError as exc:
        return Check("database", ERROR, str(exc))
    except Exception as exc:  # noqa: BLE001 - one sentence, never SQL or parameters
        orig = getattr(exc, "orig", None) or exc
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
        message = _("cannot open {database}: {reason}").format(
            database=where, reason=first or type(orig).__name__
        )
        return Check("database", ERROR, message)
    shown = ".".join(str(part) for part in version or ())
    kind = engine.dialect.name
    return Check("database", OK, f"{where} ({kind} {shown})".replace(" )", ")"))


def check_schema(engine: Engine) -> Check:
    """At the newest migration, or what to run."""
    try:
        db.check_schema(engine)
    except DiaryAdminError as exc:
        return Check("schema", ERROR, str(exc))
    message = _("at the newest revision ({revision})").format(revision=db.head_revision(engine))
    return Check("schema", OK, message)


def check_smtp(settings: Settings) -> Check:
    """When configured: connects, STARTTLS or SSL, and logs in. Sends nothing."""
    if not settings.smtp_host:
        message = _("e-mail is not configured ({setting})").format(setting=PREFIX + "SMTP_HOST")
        return Check("smtp", SKIPPED, message)
    import smtplib
    import ssl

    from diaryadmin.mail import smtp_connection

    where = f"{settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})"
    try:
        with smtp_connection(settings) as smtp:
            code, _reply = smtp.noop()
    except smtplib.SMTPAuthenticationError as exc:
        message = _("{server}: login as {user!r} refused ({code})").format(
            server=where, user=settings.smtp_user, code=exc.smtp_code
        )
        return Check("smtp", ERROR, message)
    except smtplib.SMTPNotSupportedError as exc:
        return Check("smtp", ERROR, f"{where}: {exc}")
    except ssl.SSLError as exc:
        message = _("{server}: TLS failed ({reason})").format(
            server=where, reason=exc.reason or exc
        )
        return Check("smtp", ERROR, message)
    except (smtplib.SMTPException, OSError) as exc:
        return Check("smtp", ERROR, f"{where}: {exc.__class__.__name__}: {exc}")
    if code != 250:
        message = _("{server}: connected, but NOOP answered {code}").format(server=where, code=code)
        return Check("smtp", WARNING, message)
    if settings.smtp_user:
        message = _("{server}: connected, logged in as {user}").format(
            server=where, user=settings.smtp_user
        )
    else:
        message = _("{server}: connected").format(server=where)
    return Check("smtp", OK, message)


def check_templates(settings: Settings) -> Check:
    """Every template renders with sample data (the school's own versions included)."""
    failures = []
    for name, render in _sample_renders(settings).items():
        try:
            render()
        except DiaryAdminError as exc:
            return Check("templates", ERROR, str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken template of the school's
            failures.append(f"{name}: {exc.__class__.__name__}: {exc}")
    if failures:
        return Check("templates", ERROR, "; ".join(failures))
    unused = _unused_templates(settings)
    count = len(KNOWN_TEMPLATES)
    if unused:
        message = ngettext(
            "{count} template renders; in {folder} these are never used (misnamed?): {names}",
            "{count} templates render; in {folder} these are never used (misnamed?): {names}",
            count,
        ).format(count=count, folder=settings.templates_dir, names=", ".join(unused))
        return Check("templates", WARNING, message)
    if settings.templates_dir:
        message = ngettext(
            "{count} template renders with sample data (with the school's own from {folder})",
            "{count} templates render with sample data (with the school's own from {folder})",
            count,
        ).format(count=count, folder=settings.templates_dir)
    else:
        message = ngettext(
            "{count} template renders with sample data",
            "{count} templates render with sample data",
            count,
        ).format(count=count)
    return Check("templates", OK, message)


def check_school(engine: Engine | None, settings: Settings) -> Check:
    """The name and portal address documents will print are not the placeholders; the
    language parents' documents are in."""
    from diaryadmin.schools import document_language, language_name, placeholder_warnings

    languages = {document_language(None)}
    if engine is None:
        warnings = placeholder_warnings_without_database(settings)
    else:
        with db.make_sessionmaker(engine)() as session:
            schools = session.scalars(select(School).order_by(School.code)).all()
            warnings = []
            for school in schools or [None]:
                found = placeholder_warnings(session, school, settings)
                prefix = f"{school.code}: " if school is not None and len(schools) > 1 else ""
                warnings.extend(prefix + w for w in found)
            languages = {document_language(school) for school in schools or [None]}
    if warnings:
        return Check("school", WARNING, "; ".join(warnings))
    message = _(
        "name and portal address are set; the language of documents for parents: {languages}"
    )
    names = ", ".join(language_name(code) for code in sorted(languages, reverse=True))
    return Check("school", OK, message.format(languages=names))


def placeholder_warnings_without_database(settings: Settings) -> list[str]:
    from diaryadmin.schools import is_placeholder_name, is_placeholder_portal

    found = []
    if is_placeholder_portal(settings.portal_url):
        found.append(
            _("the portal address is the placeholder {url}").format(url=settings.portal_url)
        )
    if is_placeholder_name(settings.school_name):
        found.append(
            _("the school's name is the placeholder {name!r}").format(name=settings.school_name)
        )
    return found


def check_permissions(settings: Settings, env_file: Path | None) -> Check:
    """The `.env` (secret key, SMTP password) and the database file are the owner's alone."""
    files = []
    if env_file is not None and env_file.is_file():
        files.append(env_file)
    database = db.sqlite_file(settings.database_url)
    if database is not None and database.exists():
        files.append(database)
        files.extend(
            p
            for p in (database.with_name(database.name + s) for s in db.SQLITE_COMPANIONS)
            if p.exists()
        )
    if not files:
        return Check("permissions", SKIPPED, _("no .env and no SQLite file here to check"))
    open_to_others = [str(p) for p in files if db.readable_by_others(p)]
    if open_to_others:
        message = _("readable by other users of this computer: {files}; run: chmod 600 {args}")
        return Check(
            "permissions",
            WARNING,
            message.format(files=", ".join(open_to_others), args=" ".join(open_to_others)),
        )
    message = _("only the owner can read {files}").format(files=", ".join(map(str, files)))
    return Check("permissions", OK, message)


# --- sample data for the templates ---------------------------------------------------------------


def _sample_renders(settings: Settings) -> dict[str, Callable[[], Any]]:
    from diaryadmin import letters, mail
    from diaryadmin.applications.report import refusal_letter
    from diaryadmin.credentials.issue import IssuedCredential
    from diaryadmin.models import Application

    expires = datetime(2026, 10, 1, 12, 0) + timedelta(days=settings.temp_password_days)
    issued = IssuedCredential(
        login="ivanova.m.5a",
        password="Abcd-Efgh-2345",
        student="Иванов Пётр Сергеевич",
        class_name="5А",
        guardian="Иванова Мария Петровна",
        relation="mother",
        email="parent@example.org",
        expires_at=expires,
        guardianship_id=1,
        school=settings.school_name,
    )
    reminder = {
        "credential_id": 1,
        "login": issued.login,
        "expires_at": expires,
        "student": issued.student,
        "class_name": issued.class_name,
        "guardian": issued.guardian,
        "email": issued.email,
        "school": settings.school_name,
    }
    refused = Application(
        id=1,
        external_id="З-1",
        applied_on=datetime(2026, 9, 1).date(),
        applicant_surname="Иванова",
        applicant_name="Мария",
        applicant_patronymic="Петровна",
        relation="mother",
        child_surname="Иванов",
        child_name="Пётр",
        child_patronymic="Сергеевич",
        reasons=[{"code": "no_consent", "message": "No consent was given."}],
        decided_at=datetime(2026, 9, 2, 10, 0),
    )
    return {
        "slips.html.j2": lambda: letters.slips_html([issued], settings),
        "credential_email": lambda: mail.credential_message(issued, settings),
        "reminder_email": lambda: mail.reminder_message(reminder, settings),
        "refusal_letter.txt.j2": lambda: refusal_letter(refused, settings),
    }


KNOWN_TEMPLATES = frozenset(
    {
        "slips.html.j2",
        "refusal_letter.txt.j2",
        *(
            f"{kind}{part}"
            for kind in ("credential_email", "reminder_email")
            for part in (".html.j2", ".txt.j2", "_subject.txt.j2")
        ),
    }
)


def _unused_templates(settings: Settings) -> list[str]:
    if not settings.templates_dir:
        return []
    folder = Path(settings.templates_dir)
    return sorted(
        p.name for p in folder.iterdir() if p.name.endswith(".j2") and p.name not in KNOWN_TEMPLATES
    )
