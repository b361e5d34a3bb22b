"""The `applications verify` run for the CLI, cron and the portal: decide every pending
application, issue the approved applicants' credentials, and deliver the passwords and the
report so that neither appears before the decisions are committed (see `staging`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from diaryadmin.applications.issue import Outcome, process_pending
from diaryadmin.config import Settings
from diaryadmin.credentials.delivery import Delivery
from diaryadmin.errors import Refused
from diaryadmin.i18n import _
from diaryadmin.plan import change
from diaryadmin.staging import Staging, pause, recover


def check_report_path(path: Path, force: bool) -> None:
    """Refuse, before any decision, a --report that could not be written."""
    if path.suffix.lower() != ".xlsx":
        raise Refused(_("{file}: the report is an .xlsx file.").format(file=path))
    if not path.parent.is_dir():
        raise Refused(
            _("{file}: the folder '{folder}' does not exist.").format(file=path, folder=path.parent)
        )
    if path.exists() and not force:
        raise Refused(_("{file}: already exists; use --force to overwrite it.").format(file=path))


def _no_progress(_n: int = 1) -> None:
    pass


def _recovered(
    sessions: sessionmaker[Session], targets: list[Path], say: Callable[[str], None]
) -> bool:
    """Deal with what an interrupted run left next to each target (`staging.recover`);
    whether one of them was completed in place: that run's changes were committed."""
    completed = False
    for target in targets:
        existed = target.exists()
        recover(sessions, target, say)
        completed = completed or (not existed and target.exists())
    return completed


def _all_done(sessions: sessionmaker[Session], issue: bool) -> bool:
    """No application left to decide, and with `issue`, none approved left to link."""
    from diaryadmin.applications.issue import awaiting_link
    from diaryadmin.applications.verify import count_pending

    with sessions() as session:
        return not count_pending(session) and not (issue and awaiting_link(session))


def _nothing_to_do(issue: bool) -> Outcome:
    from diaryadmin.applications.verify import VerifyResult
    from diaryadmin.credentials.issue import IssueResult

    summary = VerifyResult().to_dict()
    if not issue:
        return Outcome(summary=summary)
    summary.update(linked=0, guardians_created=0)
    return Outcome(summary=summary, issued=IssueResult(issued=[], skipped=0))


def verify_and_issue(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    operator: str,
    issue: bool = False,
    delivery: Delivery | None = None,
    report: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, str], Any] | None = None,
    say: Callable[[str], None] = lambda _text: None,
    now: datetime | None = None,
) -> Outcome:
    """`applications verify`: decide every pending application and, with `issue`, issue the
    approved applicants' credentials and deliver them like `credentials issue` does. The
    report (and the passwords file) appear only once the decisions are committed. A dry run
    commits nothing; its report shows the decisions that would be made. A run after one that
    was interrupted between its COMMIT and its files first completes those files; with no
    application left to decide (or, with `issue`, to link) it ends there."""
    from diaryadmin.applications.verify import count_pending
    from diaryadmin.credentials.delivery import issue_and_deliver

    delivery = delivery or Delivery()
    targets = [p for p in (report, delivery.out if issue else None) if p is not None]
    if _recovered(sessions, targets, say) and not dry_run and _all_done(sessions, issue):
        return _nothing_to_do(issue)  # an interrupted run's work, committed and now complete
    if report is not None:
        check_report_path(report, force)
    outcome: Outcome | None = None

    def run(session: Session, staging: Staging) -> Outcome:
        nonlocal outcome
        total = count_pending(session)
        bar = progress(total, _("Verifying")) if progress else nullcontext(_no_progress)
        with bar as update:
            outcome = process_pending(
                session,
                settings,
                operator=operator,
                issue=issue,
                report=report,
                force=force,
                now=now,
                progress=update,
                staging=staging,
            )
        return outcome

    if issue:
        issue_and_deliver(
            sessions,
            settings,
            lambda session, staging: run(session, staging).issued,
            delivery,
            operator=operator,
            say=say,
            now=now,
        )
        assert outcome is not None
        return outcome
    staging = Staging(operator)
    committed = False
    try:
        with change(sessions, dry_run=dry_run) as session:
            run(session, staging)
            pause("before-commit")
        committed = True  # on a dry run too: the report is the preview asked for
        pause("after-commit")
        staging.publish()
    except BaseException:
        staging.abandon(committed)
        raise
    assert outcome is not None
    return outcome
