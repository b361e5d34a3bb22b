"""Recording and querying audit events. Details must never hold a password or document number."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin.models import AuditEvent, utcnow

# Keys that must never reach the audit trail, whatever a caller passes.
FORBIDDEN_KEYS = frozenset(
    {"password", "password_hash", "hash", "temporary_password", "passport", "certificate", "snils"}
)


def record(
    session: Session,
    operator: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the session's current transaction."""
    details = dict(details or {})
    leaked = FORBIDDEN_KEYS.intersection(details)
    if leaked:
        raise ValueError(f"audit details must not carry secrets: {sorted(leaked)}")
    event = AuditEvent(
        at=now or utcnow(), operator=operator, action=action, target=target, details=details
    )
    session.add(event)
    return event


def list_events(
    session: Session,
    since: date | datetime | None = None,
    action: str | None = None,
    operator: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Audit events, oldest first, filtered by start time, action (prefix match) and operator."""
    query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
    if since is not None:
        if not isinstance(since, datetime):
            since = datetime(since.year, since.month, since.day)
        query = query.where(AuditEvent.at >= since)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if operator:
        query = query.where(AuditEvent.operator == operator)
    if limit:
        query = query.limit(limit)
    return [_as_row(e) for e in session.scalars(query)]


def _as_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "operator": event.operator,
        "action": event.action,
        "target": event.target,
        "details": event.details,
    }
