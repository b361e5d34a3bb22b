"""A school's session through the real CLI, every command with -v: roster import, credentials
issued to html, csv and xlsx, a reset, applications imported and verified with a report, the
doctor testing a parent's real password, and failures. Then every password the outputs hold and
every document number of the input files is looked for where none may be in clear: the
database file and its WAL (SQLite) or a pg_dump (PostgreSQL), the audit table, the report,
and everything the commands printed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from diaryadmin.config import Settings
from diaryadmin.models import AuditEvent, SchoolClass
from diaryadmin.people.documents import normalise_certificate, normalise_passport, normalise_snils
from diaryadmin.samples.application_files import roster_children, write_batch
from diaryadmin.samples.applications import HEADER, make_batch
from diaryadmin.samples.roster import generate_school
from diaryadmin.samples.roster_files import write_roster_csv, write_roster_xlsx
from helpers import kill
from helpers.issued import issued_pairs


def _forms(kind: str, value: str) -> set[str]:
    """The ways a document number could sit in a file or a log."""
    try:
        canonical = {
            "certificate": normalise_certificate,
            "passport": normalise_passport,
            "snils": normalise_snils,
        }[kind](value)
    except ValueError:
        return set()  # a malformed number the tests typed wrong on purpose: never stored
    digits = "".join(c for c in canonical if c.isdigit())
    forms = {value.strip(), canonical}
    if kind == "certificate":
        series, number = canonical.split(" ")
        forms |= {f"{series}{number}", f"{series.split('-')[1]} {number}"}
    else:
        forms.add(digits)  # 10 or 11 digits: never by chance inside a hex fingerprint
    if kind == "snils":
        forms.add(f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}")
    return forms


class Session:
    """Runs CLI commands on one database with -v, keeping all they print."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder, self.printed = url, folder, []

    def __call__(self, *args: str, stdin: str | None = None, expect: int = 0) -> str:
        done = subprocess.run(
            [*kill.cli(self.url, "-v", *args)], env=kill.cli_env(), cwd=self.folder,
            input=stdin, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        self.printed.append(f"$ {' '.join(args)}\n{done.stdout}\n{done.stderr}")
        assert done.returncode == expect, (args, done.returncode, done.stderr)
        return done.stdout + done.stderr


def _database_bytes(url: str, folder: Path) -> dict[str, bytes]:
    """The database as stored: the SQLite file and its WAL, or a pg_dump."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        files = [path, *(path.with_name(path.name + s) for s in ("-wal", "-journal"))]
        return {p.name: p.read_bytes() for p in files if p.exists()}
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed: the PostgreSQL dump cannot be scanned")
    dump = folder / "dump.sql"
    subprocess.run(
        [pg_dump, "--no-owner", "--file", str(dump),
         "--dbname", parsed.set(drivername="postgresql").render_as_string(hide_password=False)],
        check=True, timeout=120,
    )  # fmt: skip
    return {"pg_dump": dump.read_bytes()}


def test_no_password_or_document_number_in_clear_anywhere(database_url, tmp_path):
    folder = tmp_path / "office"
    folder.mkdir()
    run = Session(database_url, folder)
    pupils = generate_school(90, seed=5)
    roster = write_roster_xlsx(folder / "roster.xlsx", pupils)
    documents = {f for p in pupils for f in _forms("certificate", p.certificate)}
    documents |= {f for p in pupils for f in _forms("snils", p.snils)}

    run("roster", "import", str(roster))
    # A failure with document numbers in the file: one bad date, every other row valid.
    broken = pupils[:5]
    broken[2].birth_date = broken[2].birth_date.replace(year=1900)
    bad = write_roster_csv(folder / "bad.csv", broken)
    run("roster", "import", str(bad), expect=1)

    engine = create_engine(database_url)
    sessions = sessionmaker(engine)
    with sessions() as session:
        classes = session.scalars(select(SchoolClass.name).order_by(SchoolClass.name)).all()
        children = roster_children(session, Settings(secret_key=kill.SECRET), [roster])
    engine.dispose()

    outputs = [folder / "a.html", folder / "b.csv", folder / "c.xlsx"]
    run("credentials", "issue", "--class", classes[0], "--out", str(outputs[0]))
    run("credentials", "issue", "--class", classes[1], "--out", str(outputs[1]))
    run("credentials", "issue", "--all", "--out", str(outputs[2]))
    first = sorted(issued_pairs(outputs[0]))[0]
    run("credentials", "reset", first, "--out", str(folder / "reset.html"), "--yes")
    outputs.append(folder / "reset.html")
    run("credentials", "reset", first, "--out", str(outputs[0]), expect=1)  # refused: exists

    batch = make_batch(children, 30, seed=11)
    portal = write_batch(folder / "portal.xlsx", batch)
    columns = {"Серия и номер паспорта": "passport", "СНИЛС": "snils"}
    columns["Свидетельство о рождении"] = "certificate"
    for application in batch:
        for column, kind in columns.items():
            value = application.values.get(column)
            if value and column in HEADER:
                documents |= _forms(kind, str(value))
    run("applications", "import", str(portal))
    report = folder / "report.xlsx"
    run(
        "applications", "verify", "--issue", "--out", str(folder / "approved.html"),
        "--report", str(report),
    )  # fmt: skip
    outputs.append(folder / "approved.html")

    passwords: set[str] = set()
    for path in outputs:
        if path.exists():
            passwords |= set(issued_pairs(path).values())
    assert len(passwords) > 100, "the session issued too few passwords to prove anything"
    login, password = next(iter(issued_pairs(outputs[1]).items()))
    said = run("credentials", "doctor", login, "--attempt", stdin=password + "\n")
    assert password not in said
    run("credentials", "doctor", login, "--attempt", stdin=password.upper() + "\n")  # Caps Lock

    secrets = passwords | {p.replace("-", "") for p in passwords} | documents
    engine = create_engine(database_url)
    with engine.connect() as conn:
        audit = "\n".join(repr(tuple(row)) for row in conn.execute(select(AuditEvent.__table__)))
    engine.dispose()
    book = load_workbook(report)
    report_text = "\n".join(
        repr(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
    )
    scanned = {"audit table": audit, "printed": "\n".join(run.printed), "report": report_text}
    found = [
        (where, secret)
        for where, content in scanned.items()
        for secret in secrets
        if secret in content
    ]
    for name, content in _database_bytes(database_url, tmp_path).items():
        found += [(name, s) for s in secrets if s.encode() in content]
    assert found == [], f"{len(found)} secrets in clear, e.g. {found[:5]}"
    assert len(documents) > 200 and audit and run.printed
