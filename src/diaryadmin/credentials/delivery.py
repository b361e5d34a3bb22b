"""Issue and deliver: credentials issued in one transaction, their passwords in a slips or
mail-merge file that appears only once that transaction is committed, and letters e-mailed
after it. The CLI, cron and the diary portal all issue through `issue_and_deliver`.

The order matters (see `staging`): the file is written completely before COMMIT, so every
committed password exists in it; it is renamed into place after COMMIT, so a file at `--out`
never holds passwords that do not work; e-mail goes out last, so no letter carries a password
the database does not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diaryadmin import audit, letters, mail
from diaryadmin.config import Settings
from diaryadmin.credentials import issue as issuing
from diaryadmin.credentials import lifecycle
from diaryadmin.credentials.passwords import PasswordSupply
from diaryadmin.credentials.scope import (
    Scope,
    guardianship_named,
    placeholder_warnings,
    split_by_email,
)
from diaryadmin.errors import PartialFailure
from diaryadmin.i18n import N_, _, ngettext
from diaryadmin.plan import Plan, change
from diaryadmin.staging import Staging, pause, recover

# Reasons shown to people (and in JSON's `reason`): translated where a skip is recorded.
NO_ADDRESS = N_("skipped: no e-mail address")
NO_ADDRESS_NOT_ISSUED = N_("skipped: no e-mail address, not issued")


def _quiet(_text: str) -> None:
    pass


def _no_progress(_n: int = 1) -> None:
    pass


@dataclass(frozen=True)
class Delivery:
    """Where the passwords go: `out` (.html slips, .csv/.xlsx mail merge) and/or e-mail."""

    out: Path | None = None
    force: bool = False
    email: bool = False


def writes_slips(delivery: Delivery) -> bool:
    """Whether the passwords go to a file of printed slips (with QR codes)."""
    return delivery.out is not None and delivery.out.suffix.lower() in (".html", ".htm")


def prints_documents(delivery: Delivery) -> bool:
    """Whether parents get a document naming the school and its portal: slips or letters (a
    mail-merge table carries neither)."""
    return writes_slips(delivery) or delivery.email


def check_destination(settings: Settings, delivery: Delivery) -> None:
    """Refuse an --out file that cannot be written, or --email without SMTP settings, before
    any password is drawn or hashed."""
    if delivery.out is not None:
        letters.check_output_path(delivery.out, delivery.force)
    if delivery.email:
        mail.require_smtp(settings)


def issue_and_deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    issue: Callable[[Session, Staging], issuing.IssueResult],
    delivery: Delivery,
    *,
    operator: str,
    dry_run: bool = False,
    say: Callable[[str], None] = _quiet,
    now: datetime | None = None,
) -> issuing.IssueResult:
    """Run `issue(session, staging)` in one transaction (it may stage more files, such as a
    report), stage the passwords file, commit, put the files in place, then e-mail.

    A dry run rolls the transaction back and writes and sends nothing; the result's plan says
    what would have been done. Guardians without an e-mail address are listed in
    `no_email`, not as failures. Raises PartialFailure (after the commit, everything issued
    stays issued) when letters could not be sent; Refused or ConfigError before any change.
    """
    if delivery.out is not None:
        recover(sessions, delivery.out, say)
    check_destination(settings, delivery)
    staging = Staging(operator)
    committed = False
    try:
        with change(sessions, dry_run=dry_run) as session:
            result = issue(session, staging)
            if result.issued and delivery.out is not None and not dry_run:
                staging.stage(
                    session,
                    delivery.out,
                    lambda temp: letters.write_credentials_file(result.issued, temp, settings),
                    overwrite=delivery.force,
                )
            pause("before-commit")
        committed = not dry_run
        pause("after-commit")
        if dry_run:
            staging.discard()
            return result
        written = staging.publish()
    except BaseException:
        staging.abandon(committed)
        raise
    if delivery.out is not None and delivery.out in written:
        count = len(result.issued)
        say(
            ngettext(
                "Wrote {count} password to {file} (mode 0600).",
                "Wrote {count} passwords to {file} (mode 0600).",
                count,
            ).format(count=count, file=delivery.out)
        )
    if delivery.email and result.issued:
        _email(sessions, settings, result, operator=operator, now=now)
    return result


def _email(
    sessions: sessionmaker[Session],
    settings: Settings,
    result: issuing.IssueResult,
    *,
    operator: str,
    now: datetime | None,
) -> None:
    deliverable = [c for c in result.issued if c.email]
    result.no_email = [
        {"login": c.login, "guardian": c.guardian, "reason": _(NO_ADDRESS)}
        for c in result.issued
        if not c.email
    ]
    if deliverable:
        result.emailed, result.failed = mail.send_credential_letters(deliverable, settings)
    with change(sessions) as session:
        audit.record(
            session,
            operator,
            "credentials.email",
            f"{result.emailed} letter(s)",
            {
                "sent": result.emailed,
                "failed": [f["login"] for f in result.failed],
                "skipped": [s["login"] for s in result.no_email],
            },
            now=now,
        )


def raise_for_failures(
    result: issuing.IssueResult, out: Path | None, data: dict | None = None
) -> None:
    """PartialFailure (exit 3) when real delivery failures remain; none for guardians who were
    skipped for having no e-mail address."""
    if not result.failed:
        return
    count = len(result.failed)
    if out is not None:
        text = ngettext(
            "{count} letter could not be sent; the credentials stay issued and {file} lists "
            "everyone.",
            "{count} letters could not be sent; the credentials stay issued and {file} lists "
            "everyone.",
            count,
        )
    else:
        text = ngettext(
            "{count} letter could not be sent; the credentials stay issued, so give that "
            "parent a new password with 'diaryadmin credentials reset LOGIN --out FILE'.",
            "{count} letters could not be sent; the credentials stay issued, so give those "
            "parents a new password with 'diaryadmin credentials reset LOGIN --out FILE'.",
            count,
        )
    raise PartialFailure(
        text.format(count=count, file=out),
        result=data if data is not None else result.to_dict(),
    )


# --- the workflows the commands run ---------------------------------------------------------------


def issue_for_scope(
    sessions: sessionmaker[Session],
    settings: Settings,
    scope: Scope,
    delivery: Delivery,
    *,
    operator: str,
    reissue: bool = False,
    dry_run: bool = False,
    say: Callable[[str], None] = _quiet,
    warn: Callable[[str], None] = _quiet,
    progress: Callable[[int, str], object] | None = None,
    now: datetime | None = None,
) -> tuple[issuing.IssueResult, Plan]:
    """`credentials issue`: plan who gets a password; unless a dry run, hash the passwords
    before the write transaction (the database stays free for the portal meanwhile), then
    issue and deliver. `progress(total, label)` returns a context manager yielding an
    update callback (as AppContext.progress does). Before any of it, `warn` says when the
    slips or letters would print a placeholder school name or portal address (issuing goes
    on). Returns the result and the plan."""
    completed = False  # an interrupted run's committed file put in place at --out
    if delivery.out is not None:
        existed = delivery.out.exists()
        recover(sessions, delivery.out, say)
        completed = not existed and delivery.out.exists()
    email_only = delivery.email and delivery.out is None

    def in_scope(session: Session) -> tuple[list[int], list[int]]:
        # With e-mail alone, a guardian without an address gets no password: it would exist
        # nowhere. They are listed as skipped instead.
        ids = scope.select(session)
        return split_by_email(session, ids) if email_only else (ids, [])

    with change(sessions, dry_run=True) as session:  # read only
        ids, unreachable = in_scope(session)
        if ids and prints_documents(delivery):
            for text in placeholder_warnings(session, ids, settings):
                warn(text)
        plan, skipped = issuing.plan_issue(session, ids, reissue=reissue)
        no_email = [
            {"login": c.name, "guardian": c.detail, "reason": _(NO_ADDRESS_NOT_ISSUED)}
            for c in issuing.plan_issue(session, unreachable, reissue=reissue)[0].changes
        ]
    if dry_run or (completed and not len(plan)):  # completed: its run's work is all done
        result = issuing.IssueResult(issued=[], skipped=skipped, plan=plan, no_email=no_email)
        return result, plan
    check_destination(settings, delivery)
    qr_codes: dict[str, str] | None = {} if writes_slips(delivery) else None
    bar = progress(len(plan), _("Hashing passwords")) if progress else nullcontext(_no_progress)
    with bar as update:
        supply = PasswordSupply.start(len(plan), settings)
        try:
            if qr_codes is not None:
                # While the pool hashes: the slips' QR codes, for the logins expected now.
                with change(sessions, dry_run=True) as session:  # read only
                    issuing.draw_qr_codes(
                        session,
                        settings,
                        ids,
                        qr_codes,
                        reissue=reissue,
                        between=lambda: supply.poll(update),
                    )
            supply.wait(update)
        except BaseException:
            supply.cancel()
            raise

    def issue(session: Session, _staging: Staging) -> issuing.IssueResult:
        return issuing.issue_credentials(
            session,
            settings,
            in_scope(session)[0],
            reissue=reissue,
            operator=operator,
            supply=supply,
            now=now,
            qr_codes=qr_codes,
        )

    result = issue_and_deliver(
        sessions, settings, issue, delivery, operator=operator, say=say, now=now
    )
    result.no_email = no_email + result.no_email
    return result, result.plan


def reset_and_deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    delivery: Delivery,
    *,
    login: str | None = None,
    student_id: str | None = None,
    guardian_name: str | None = None,
    operator: str,
    unlink: str | None = None,
    dry_run: bool = False,
    say: Callable[[str], None] = _quiet,
    warn: Callable[[str], None] = _quiet,
    now: datetime | None = None,
) -> issuing.IssueResult:
    """`credentials reset`: a new temporary password for one login, delivered like an issue.
    With only --email, a guardian without an address is refused (the password would go
    nowhere). `unlink`: the login, linked to the parent's own account, is unlinked first in
    the same transaction (the operator agreed). A slip or letter that would print a
    placeholder school name or portal address is warned about first (`warn`)."""
    _warn_placeholders(sessions, settings, delivery, warn, login, student_id, guardian_name)

    def issue(session: Session, _staging: Staging) -> issuing.IssueResult:
        if unlink:
            from diaryadmin.credentials.identity import unlink_credential

            unlink_credential(session, unlink, operator=operator, now=now)
        return lifecycle.reset_credential(
            session,
            settings,
            login=login,
            student_id=student_id,
            guardian_name=guardian_name,
            operator=operator,
            require_email=delivery.email and delivery.out is None,
            now=now,
        )

    return issue_and_deliver(
        sessions, settings, issue, delivery, operator=operator, dry_run=dry_run, say=say, now=now
    )


def _warn_placeholders(
    sessions: sessionmaker[Session],
    settings: Settings,
    delivery: Delivery,
    warn: Callable[[str], None],
    login: str | None,
    student_id: str | None,
    guardian_name: str | None,
) -> None:
    """Before one login's slip or letter: warn about a placeholder name or portal address."""
    if not prints_documents(delivery):
        return
    with change(sessions, dry_run=True) as session:  # read only
        link_id = guardianship_named(session, login, student_id, guardian_name)
        for text in placeholder_warnings(session, [link_id] if link_id else [], settings):
            warn(text)


def grant_and_deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    delivery: Delivery,
    *,
    student_id: str,
    guardian_name: str,
    person: str,
    email: str | None = None,
    phone: str | None = None,
    operator: str,
    dry_run: bool = False,
    say: Callable[[str], None] = _quiet,
    warn: Callable[[str], None] = _quiet,
    now: datetime | None = None,
) -> issuing.IssueResult:
    """`guardians grant`: a guardian gives a trusted person their own login for one child;
    the login and temporary password are delivered like an issue (with the same warning
    first about a placeholder school name or portal address)."""
    from diaryadmin.credentials.trusted import grant_trusted_person

    _warn_placeholders(sessions, settings, delivery, warn, None, student_id, guardian_name)

    def issue(session: Session, _staging: Staging) -> issuing.IssueResult:
        grant = grant_trusted_person(
            session,
            student_id=student_id,
            guardian_name=guardian_name,
            person=person,
            email=email,
            phone=phone,
            operator=operator,
            now=now,
        )
        say(
            _("{guardian} granted access to {person}.").format(
                guardian=grant.granted_by, person=grant.person
            )
        )
        result = issuing.issue_credentials(
            session,
            settings,
            [grant.guardianship_id],
            reissue=True,
            revive=True,
            operator=operator,
            now=now,
        )
        plan = Plan()
        plan.add(
            "create" if grant.created else "reuse",
            "trusted person",
            grant.person,
            _("access granted by {guardian}").format(guardian=grant.granted_by),
        )
        plan.extend(result.plan)
        result.plan = plan
        return result

    return issue_and_deliver(
        sessions, settings, issue, delivery, operator=operator, dry_run=dry_run, say=say, now=now
    )


def describe_failures(failed: Iterable[dict]) -> list[str]:
    """One line per letter that could not be sent, for the operator."""
    return [
        _("e-mail to {guardian} <{email}> failed: {error}").format(
            guardian=f.get("guardian"), email=f.get("email") or "-", error=f["error"]
        )
        for f in failed
    ]
