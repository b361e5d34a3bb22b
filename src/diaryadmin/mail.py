"""E-mail to guardians over SMTP: credential letters, reminders and "forgot password" letters.

Each message has a subject, a text and an HTML part rendered from the templates of
`diaryadmin.letters` (a school's own first); a credential letter carries the QR code of its login
link as an inline image. All letters of a run go over one connection, and each failure is
returned to the caller by login, guardian and address.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from diaryadmin.config import Settings
from diaryadmin.errors import ConfigError
from diaryadmin.i18n import _
from diaryadmin.letters import login_link, qr_png, render

if TYPE_CHECKING:
    from diaryadmin.credentials.issue import IssuedCredential
    from diaryadmin.credentials.recovery import RecoveryLetter

log = logging.getLogger(__name__)

QR_CID = "login-qr"


def _attach_qr(message: EmailMessage, url: str) -> None:
    """Put the QR code of `url` into the HTML part as an inline image (cid:login-qr)."""
    html = message.get_body(("html",))
    if html is not None:
        html.add_related(qr_png(url), "image", "png", cid=f"<{QR_CID}>", filename="login-qr.png")


def require_smtp(settings: Settings) -> None:
    if not settings.smtp_host:
        raise ConfigError(
            _(
                "E-mail is not configured: set DIARYADMIN_SMTP_HOST (and DIARYADMIN_SMTP_PORT, "
                "DIARYADMIN_SMTP_SECURITY, DIARYADMIN_SMTP_USER, DIARYADMIN_SMTP_PASSWORD, "
                "DIARYADMIN_SMTP_FROM)."
            )
        )


def _message(
    settings: Settings, to: str, kind: str, language: str | None, **context: Any
) -> EmailMessage:
    """A letter in `language`, the school's (None: Russian), not the operator's."""
    message = EmailMessage()
    subject = render(settings, f"{kind}_subject.txt.j2", language=language, **context)
    message["Subject"] = " ".join(subject.split())
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(render(settings, f"{kind}.txt.j2", language=language, **context))
    html = render(settings, f"{kind}.html.j2", language=language, **context)
    message.add_alternative(html, subtype="html")
    return message


def credential_message(credential: IssuedCredential, settings: Settings) -> EmailMessage:
    portal = credential.portal_url or settings.portal_url
    message = _message(
        settings,
        credential.email or "",
        "credential_email",
        credential.language,
        c=credential,
        portal_url=portal,
        qr_cid=QR_CID,
    )
    _attach_qr(message, login_link(portal, credential.login))
    return message


def recovery_message(letter: RecoveryLetter, settings: Settings) -> EmailMessage:
    language, portal = letter.language, letter.portal_url
    return _message(settings, letter.to, "recovery_email", language, r=letter, portal_url=portal)


def send_recovery_letter(letter: RecoveryLetter, settings: Settings) -> None:
    """E-mail one "forgot password" letter; raises ConfigError without SMTP settings and
    RuntimeError naming the failure otherwise."""
    _sent, failures = send_messages(
        settings, [({"login": None, "email": letter.to}, recovery_message(letter, settings))]
    )
    if failures:
        raise RuntimeError(failures[0]["error"])


def reminder_message(row: dict[str, Any], settings: Settings) -> EmailMessage:
    return _message(settings, row["email"], "reminder_email", row.get("language"), r=row)


@contextmanager
def smtp_connection(settings: Settings) -> Iterator[Any]:
    """An SMTP connection as configured: STARTTLS, SSL, or plain; logged in when a user is set.
    Certificates are verified against the system's CAs (or $SSL_CERT_FILE)."""
    import smtplib
    import ssl

    require_smtp(settings)
    context = ssl.create_default_context()
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
    if settings.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _error_text(exc: BaseException) -> str:
    import smtplib

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        ]
        return _("recipient refused: {codes}").format(codes="; ".join(codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{exc.smtp_code} {text}"
    return f"{exc.__class__.__name__}: {exc}"


def send_messages(
    settings: Settings, messages: Iterable[tuple[dict[str, Any], EmailMessage | None]]
) -> tuple[int, list[dict[str, Any]]]:
    """Send each (who, message) over one connection (reconnecting once if it drops).

    `who` is what a failure report names (login, guardian, email). A None message is a
    guardian without an e-mail address. When the server cannot be reached at all, every
    remaining letter fails with that reason. Returns (sent, failures).
    """
    import smtplib

    require_smtp(settings)
    sent, failures = 0, []
    manager: Any = None
    connection: Any = None
    unreachable: str | None = None

    def close() -> None:
        nonlocal manager, connection
        if manager is not None:
            with suppress(smtplib.SMTPException, OSError):
                manager.__exit__(None, None, None)
        manager = connection = None

    try:
        for who, message in messages:
            if message is None:
                failures.append({**who, "error": _("no e-mail address")})
                continue
            if unreachable:
                failures.append({**who, "error": unreachable})
                continue
            for attempt in (1, 2):
                if connection is None:
                    manager = smtp_connection(settings)
                    try:
                        connection = manager.__enter__()
                    except (smtplib.SMTPException, OSError) as exc:
                        manager = None
                        unreachable = _("cannot connect to the mail server: {error}").format(
                            error=_error_text(exc)
                        )
                        failures.append({**who, "error": unreachable})
                        break
                try:
                    connection.send_message(message)
                    sent += 1
                    break
                except smtplib.SMTPServerDisconnected as exc:
                    close()
                    if attempt == 2:
                        failures.append({**who, "error": _error_text(exc)})
                except (smtplib.SMTPException, OSError) as exc:
                    failures.append({**who, "error": _error_text(exc)})
                    if isinstance(exc, OSError):
                        close()
                    break
    finally:
        close()
    # The caller reports each failure to the operator; the log only keeps a trace.
    for failure in failures:
        log.info("e-mail for %s failed: %s", failure.get("login"), failure["error"])
    return sent, failures


def send_credential_letters(
    issued: Sequence[IssuedCredential], settings: Settings
) -> tuple[int, list[dict]]:
    """E-mail each guardian their login and temporary password (text and HTML parts).

    Returns (sent, failures), one failure per guardian: {login, guardian, email, error};
    a guardian without an address is a failure too. Raises ConfigError without SMTP settings.
    """
    return send_messages(
        settings,
        (
            (
                {"login": c.login, "guardian": c.guardian, "email": c.email},
                credential_message(c, settings) if c.email else None,
            )
            for c in issued
        ),
    )


def send_reminders(rows: Sequence[dict[str, Any]], settings: Settings) -> tuple[int, list[dict]]:
    """E-mail each guardian a reminder that the temporary password expires soon."""
    return send_messages(
        settings,
        (
            (
                {"login": r["login"], "guardian": r["guardian"], "email": r["email"]},
                reminder_message(r, settings) if r["email"] else None,
            )
            for r in rows
        ),
    )
