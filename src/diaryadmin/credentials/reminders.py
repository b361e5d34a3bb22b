"""The cron run: expire what is due, then remind guardians whose temporary password expires soon.

`expire_and_remind` commits the expiry and the claim on the reminders first, sends the letters
outside any transaction (the database is not held while the mail server answers), then gives
back the claims of the letters that failed and audits the run. Without SMTP settings the expiry
still happens and the reminders due are reported as not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from diaryadmin import audit, mail
from diaryadmin.config import Settings
from diaryadmin.credentials import status
from diaryadmin.credentials.lifecycle import expire_credentials
from diaryadmin.i18n import N_, _
from diaryadmin.plan import Plan, change

NOT_CONFIGURED = N_("e-mail is not configured (set DIARYADMIN_SMTP_HOST)")


@dataclass
class ExpiryRun:
    """What one cron run did (or, on a dry run, would do)."""

    expired: int = 0
    reminded: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"expired": self.expired, "reminded": self.reminded}
        if self.failed:
            data["failed"] = list(self.failed)
        return data


def expire_and_remind(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    operator: str,
    as_of: datetime | None = None,
    remind_days: int | None = None,
    dry_run: bool = False,
) -> ExpiryRun:
    """Expire the temporary passwords past their expiry; with `remind_days`, e-mail a
    reminder (once each) to guardians whose password expires within that many days.

    Failed letters (and, without SMTP settings, every reminder due) are in `failed`, and
    their credentials stay unreminded for the next run. A dry run changes and sends nothing.
    """
    run = ExpiryRun()
    can_send = bool(settings.smtp_host)
    with change(sessions, dry_run=dry_run) as session:
        # Naming every login due costs a query: only a dry run, which shows them, pays it.
        run.expired = expire_credentials(
            session, as_of=as_of, operator=operator, plan=run.plan if dry_run else None
        )
        rows: list[dict[str, Any]] = []
        if remind_days:
            if dry_run or not can_send:
                due = status.due_reminders(session, days=remind_days, as_of=as_of)
                for row in due:
                    run.plan.add("remind", "login", row["login"], row["guardian"])
                if not dry_run:
                    run.failed = [_who(row, _(NOT_CONFIGURED)) for row in due]
            else:
                rows = status.claim_reminders(session, days=remind_days, as_of=as_of)
    if dry_run:
        return run
    if rows:
        run.reminded, run.failed = mail.send_reminders(rows, settings)
        failed_logins = {f["login"] for f in run.failed}
        with change(sessions) as session:
            status.unclaim_reminders(
                session, [r["credential_id"] for r in rows if r["login"] in failed_logins]
            )
            audit.record(
                session,
                operator,
                "credentials.remind",
                f"{run.reminded} reminder(s)",
                {"sent": run.reminded, "failed": sorted(failed_logins)},
            )
    return run


def _who(row: dict[str, Any], error: str) -> dict[str, Any]:
    return {
        "login": row["login"],
        "guardian": row["guardian"],
        "email": row["email"],
        "error": error,
    }
