"""One exception hierarchy for diaryadmin; the CLI turns these into messages and exit codes.

Exit codes: 0 success; 1 input or data refused (nothing changed); 2 usage error;
3 partly done (some items failed and were reported, the rest committed);
4 configuration or database unavailable, or the database failed; 5 internal error (a bug:
rerun with -v and report it); 6 the disk is full; 130 interrupted (Ctrl-C); 143 terminated
(SIGTERM).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from diaryadmin.i18n import _, current_language, pgettext

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_UNAVAILABLE = 4
EXIT_INTERNAL = 5
EXIT_DISK_FULL = 6
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is and what is wrong."""

    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: that deep-copies every value, and a district's
        # import reports tens of thousands of problems.
        value = self.value
        if value is not None and not isinstance(value, str | int | float | bool):
            value = str(value)
        return {
            "file": self.file, "sheet": self.sheet, "row": self.row, "column": self.column,
            "value": value, "message": self.message,
        }  # fmt: skip

    def __str__(self) -> str:
        # The place reads as one phrase («Файл 5А.xlsx, лист «5А», строка 12, столбец «Класс»):
        # each part has a form to start the sentence and one to follow a comma.
        where: list[str] = []
        if self.file:
            where.append(pgettext("problem place", "{file}").format(file=self.file))
        if self.sheet:
            text = (
                pgettext("problem place, later", "sheet {sheet}")
                if where
                else pgettext("problem place", "sheet {sheet}")
            )
            where.append(text.format(sheet=quoted(self.sheet)))
        if self.row is not None:
            text = (
                pgettext("problem place, later", "row {row}")
                if where
                else pgettext("problem place", "row {row}")
            )
            where.append(text.format(row=self.row))
        if self.column:
            text = (
                pgettext("problem place, later", "column {column}")
                if where
                else pgettext("problem place", "column {column}")
            )
            where.append(text.format(column=quoted(self.column)))
        text = ", ".join(where)
        if self.value not in (None, ""):
            value = str(self.value)
            shown = value if len(value) <= 60 else value[:60] + "…"
            text += f" ({quoted(shown)})" if text else quoted(shown)
        return f"{text}: {self.message}" if text else self.message


def quoted(value: Any) -> str:
    """A name or cell value quoted inside a message, its control characters escaped:
    `'5А'` in English, `«5А»` in Russian."""
    text = repr(str(value))
    return text if current_language() == "en" else f"«{text[1:-1]}»"


@dataclass
class ImportOutcome:
    """The base of every import's report: the problems found (errors refuse the import,
    warnings say what was fixed or doubted) and whether it only planned (`dry_run`)."""

    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    def problems_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The warnings and errors in their machine-readable shape."""
        return {
            "warnings": [p.to_dict() for p in self.warnings],
            "errors": [p.to_dict() for p in self.errors],
        }


class DiaryAdminError(Exception):
    """Base of every error diaryadmin reports to a user.

    `result`, when set, is the machine-readable outcome (e.g. an import report with its errors)
    that the CLI still prints on stdout in the chosen format before the message.
    """

    exit_code = EXIT_REFUSED
    result: Any = None


class InputError(DiaryAdminError):
    """Input was refused; carries every problem found, and nothing was changed."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, problems: Iterable[Problem] = (), result: Any = None) -> None:
        super().__init__(message)
        self.problems = list(problems)
        self.result = result


class InvalidValue(DiaryAdminError):
    """One cell's value is refused; a reader turns it into a Problem with the cell's place."""

    exit_code = EXIT_REFUSED


class NotFound(DiaryAdminError):
    """A named thing (login, student, application) does not exist."""

    exit_code = EXIT_REFUSED


class Refused(DiaryAdminError):
    """The request is well-formed but the data or a rule refuses it."""

    exit_code = EXIT_REFUSED


class PartialFailure(DiaryAdminError):
    """Some items failed and were reported; the rest were committed."""

    exit_code = EXIT_PARTIAL

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


class ConfigError(DiaryAdminError):
    """Configuration is missing or wrong."""

    exit_code = EXIT_UNAVAILABLE


class DatabaseUnavailable(DiaryAdminError):
    """The database cannot be reached, or its schema is missing or behind."""

    exit_code = EXIT_UNAVAILABLE


class DatabaseFailed(DiaryAdminError):
    """The database failed mid-command (lost connection, lock timeout, refused statement)."""

    exit_code = EXIT_UNAVAILABLE


class DiskFull(DiaryAdminError):
    """A file could not be written because the disk (or quota) is full."""

    exit_code = EXIT_DISK_FULL


class InternalError(DiaryAdminError):
    """An unexpected exception: a bug, reported without its traceback unless -v."""

    exit_code = EXIT_INTERNAL


class Terminated(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """SIGTERM arrived; raised in the main thread so transactions roll back on the way out."""


def database_failure(exc: BaseException) -> DatabaseFailed:
    """ONE sentence for a failed database statement, without SQL, parameters or row values
    (the driver's message may quote them, so it is never included)."""
    original = getattr(exc, "orig", None) or exc
    kind = original.__class__.__name__
    text = str(original).lower()
    if any(word in text for word in ("locked", "busy", "lock timeout", "deadlock")):
        message = _(
            "The command stopped because another program held the database locked too long "
            "({kind}); the unfinished step was rolled back. Run it again, or add -v for details."
        )
    elif any(word in text for word in ("connection", "terminat", "shutdown", "closed", "server")):
        message = _(
            "The command stopped because the connection to the database was lost ({kind}); "
            "the unfinished step was rolled back. Run it again, or add -v for details."
        )
    else:
        message = _(
            "The command stopped because the database refused a statement ({kind}); "
            "the unfinished step was rolled back. Run it again, or add -v for details."
        )
    return DatabaseFailed(message.format(kind=kind))


def disk_full(exc: OSError) -> DiskFull:
    if exc.filename:
        message = _(
            "The disk is full writing {file}: nothing of the unfinished step was committed. "
            "Free some space and run the command again."
        ).format(file=exc.filename)
    else:
        message = _(
            "The disk is full: nothing of the unfinished step was committed. "
            "Free some space and run the command again."
        )
    return DiskFull(message)


def internal_error(exc: BaseException) -> InternalError:
    return InternalError(
        _(
            "Internal error ({kind}): this is a bug in diaryadmin. "
            "Rerun with -v to see the traceback, and report it."
        ).format(kind=exc.__class__.__name__)
    )
