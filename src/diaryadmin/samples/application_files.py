"""Sample application batches as files and against the database, and the demo's step.

`write_batch` writes a batch the way the portal exports it (xlsx or cp1251 CSV);
`roster_children` reads back the children of a roster already imported (the database holds
only fingerprints, so the certificates come from the roster files); `demo_step` imports and
verifies a batch in the demo. The batches themselves come from `samples.applications`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from diaryadmin.i18n import _
from diaryadmin.samples.applications import HEADER, Child, Parent, SampleApplication, make_batch


def write_batch(
    path: str | Path, applications: Iterable[SampleApplication], *, encoding: str = "cp1251"
) -> Path:
    """Write the batch as the portal would: xlsx (real dates) or CSV (`;`, cp1251 by default)."""
    path = Path(path)
    rows = [a.row() for a in applications]
    if path.suffix.lower() == ".csv":
        import csv

        with path.open("w", encoding=encoding, newline="") as stream:
            writer = csv.writer(stream, delimiter=";")
            writer.writerow(HEADER)
            for row in rows:
                writer.writerow([v.strftime("%d.%m.%Y") if isinstance(v, date) else v for v in row])
        return path
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Заявления"
    sheet.append(["Выгрузка заявлений на доступ к электронному дневнику"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=3):
        for cell in cells:
            if isinstance(cell.value, date):
                cell.number_format = "DD.MM.YYYY"
    workbook.save(path)
    return path


def roster_children(session: Any, settings: Any, roster_files: Iterable[str | Path]) -> list[Child]:
    """The active and inactive children in the database whose certificate is in one of the
    roster files (the database holds only fingerprints), with their guardians."""
    from sqlalchemy import select

    from diaryadmin.io import iter_rows
    from diaryadmin.io.cells import cell_text
    from diaryadmin.models import Guardian, Guardianship, Student
    from diaryadmin.people.documents import fingerprint, normalise_certificate

    key = settings.require_secret_key()
    plain: dict[str, str] = {}
    for path in roster_files:
        for row in iter_rows(path):
            for value in row.values:
                text = cell_text(value)
                if not text or not any(ch.isdigit() for ch in text) or len(text) > 30:
                    continue
                try:
                    canonical = normalise_certificate(text)
                except ValueError:
                    continue
                plain[fingerprint("certificate", canonical, key)] = canonical
    students = session.scalars(
        select(Student).where(Student.certificate_fp.is_not(None)).order_by(Student.id)
    ).all()
    parents: dict[int, list[Parent]] = {}
    query = select(Guardian, Guardianship.student_id, Guardianship.relation).join(
        Guardianship, Guardianship.guardian_id == Guardian.id
    )
    for guardian, student_id, relation in session.execute(query):
        parents.setdefault(student_id, []).append(
            Parent(
                guardian.surname,
                guardian.name,
                guardian.patronymic,
                relation,
                guardian.email,
                guardian.phone,
            )
        )
    return [
        Child(
            s.surname,
            s.name,
            s.patronymic,
            s.birth_date,
            plain[s.certificate_fp],
            s.active,
            parents.get(s.id, []),
        )
        for s in students
        if s.certificate_fp in plain
    ]


def demo_step(demo) -> None:
    """A portal batch against the demo roster: imported, verified with --issue and --report."""
    from collections import Counter

    from diaryadmin.applications.issue import process_pending
    from diaryadmin.applications.store import import_applications

    roster_files = [p for label, p in demo.files.items() if label.startswith("roster")]
    with demo.sessions() as session:
        children = roster_children(session, demo.settings, roster_files)
    batch = make_batch(children, 40, seed=2026)
    path = write_batch(demo.folder / "applications.xlsx", batch)
    demo.files["applications"] = path
    kinds = Counter(a.expected for a in batch)
    demo.say(
        _(
            "Wrote {file}: {count} applications from the portal "
            "(expected: {approved} approvals, {review} for review, {rejected} refusals)."
        ).format(
            file=path.name,
            count=len(batch),
            approved=kinds["approved"],
            review=kinds["review"],
            rejected=kinds["rejected"],
        )
    )
    with demo.sessions() as session, session.begin():
        report = import_applications(session, demo.settings, [path], operator=demo.operator)
    demo.say(
        _("Imported {count} applications ({flagged} with a bad document).").format(
            count=report.created, flagged=report.flagged
        )
    )
    slips = demo.folder / "application-slips.html"
    report_path = demo.folder / "applications-report.xlsx"
    with demo.sessions() as session, session.begin():
        outcome = process_pending(
            session,
            demo.settings,
            operator=demo.operator,
            issue_out=slips,
            report=report_path,
        )
    demo.files["applications_slips"] = slips
    demo.files["applications_report"] = report_path
    summary, issued = outcome.summary, outcome.issued
    demo.say(
        _(
            "Verified: {approved} approved, {review} for review, {rejected} rejected; "
            "new logins issued: {issued} ({skipped} already had one) -> {slips}; "
            "report -> {report}."
        ).format(
            approved=summary["approved"],
            review=summary["review"],
            rejected=summary["rejected"],
            issued=len(issued.issued),
            skipped=issued.skipped,
            slips=slips.name,
            report=report_path.name,
        )
    )
