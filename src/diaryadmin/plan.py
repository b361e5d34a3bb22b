"""The one dry-run mechanism: a change is worked out in a transaction, described as a `Plan`
(what is created, changed, deactivated, issued, by name), and committed only when it is not a
dry run.

Core functions fill a `Plan` as they go and return it with their result; the caller opens the
transaction with `change(factory, dry_run=...)`, which rolls back instead of committing on a
dry run. Workflows that commit in stages (issuing with a slips file) take `dry_run` and stop
after their first stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a Plan is made before the database is touched (and for --help)
    from sqlalchemy.orm import Session, sessionmaker

from diaryadmin.i18n import N_, _

# A plan line for each `action kind` the commands use, in the reader's language; any other
# pair is shown as "action kind name" (the codes themselves).
LINES = {
    "create student": N_("create student {name}"),
    "change student": N_("change student {name}"),
    "move student": N_("move student {name}"),
    "deactivate student": N_("deactivate student {name}"),
    "link guardian": N_("link guardian {name}"),
    "issue login": N_("issue login {name}"),
    "reissue login": N_("reissue login {name}"),
    "reset login": N_("reset login {name}"),
    "revoke login": N_("revoke login {name}"),
    "expire login": N_("expire login {name}"),
    "remind login": N_("remind login {name}"),
    "create trusted person": N_("create trusted person {name}"),
    "reuse trusted person": N_("reuse trusted person {name}"),
    "withdraw access": N_("withdraw access {name}"),
    "create application": N_("create application {name}"),
    "decide application": N_("decide application {name}"),
    "add period": N_("add period {name}"),
    "import lesson": N_("import lesson {name}"),
}


@dataclass(frozen=True)
class Change:
    """One thing a command does (or would do): `issue` a `login` to «Иванова Мария», …"""

    action: str  # create, change, deactivate, issue, reset, revoke, expire, grant, decide, ...
    kind: str  # student, guardian, credential, application, period, ...
    name: str  # by name: a person, a login, an application number, a period
    detail: str = ""

    def __str__(self) -> str:
        line = LINES.get(f"{self.action} {self.kind}")
        text = _(line).format(name=self.name) if line else f"{self.action} {self.kind} {self.name}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class Plan:
    """What a command changes, in order; shown by name on a dry run."""

    changes: list[Change] = field(default_factory=list)

    def add(self, action: str, kind: str, name: str, detail: str = "") -> None:
        self.changes.append(Change(action, kind, name, detail))

    def extend(self, other: Plan) -> None:
        self.changes.extend(other.changes)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def counts(self) -> dict[str, int]:
        """How many of each `action kind`, e.g. {"issue credential": 4}."""
        return dict(Counter(f"{c.action} {c.kind}" for c in self.changes))

    def rows(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.changes]


@contextmanager
def change(factory: sessionmaker[Session], *, dry_run: bool = False) -> Iterator[Session]:
    """One transaction for a change: committed on success, rolled back on any error, and
    rolled back on success too when `dry_run`."""
    with factory() as session:
        transaction = session.begin()
        try:
            yield session
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
