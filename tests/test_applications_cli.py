"""applications verify/list/decide through the CLI: issue with working credentials, the
xlsx report cell by cell, e-mail, dry run, usage errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from diaryadmin import auth
from diaryadmin.models import Application, AuditEvent, Guardian, Guardianship
from helpers.applications import CORPUS, build_roster, write_xlsx
from helpers.smtp import env_for, smtp_server

APPROVED = [row["Номер заявления"] for row, status, *_ in CORPUS if status == "approved"]


@pytest.fixture
def imported(run_cli, workdir, sessions, settings):
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    path = write_xlsx(workdir / "portal.xlsx", [row for row, *_ in CORPUS])
    result = run_cli("applications", "import", str(path))
    assert result.exit_code == 0, result.output
    return path


def read_slips_csv(path):
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_verify_prints_counts_per_status_and_list_shows_reasons(run_cli, imported):
    result = run_cli("--format", "json", "applications", "verify")
    assert result.exit_code == 0, result.output
    counts = {s: sum(1 for _, st, *_ in CORPUS if st == s) for s in ("approved", "review")}
    counts["rejected"] = len(CORPUS) - counts["approved"] - counts["review"]
    assert json.loads(result.stdout) == counts

    listed = run_cli("applications", "list", "--status", "review", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert len(rows) == counts["review"]
    first = rows[0]
    assert set(first) == {"id", "external_id", "status", "reasons", "child", "applicant"}
    assert first["external_id"] == "A-0011"
    assert first["status"] == "review"
    assert first["child"] == "Смирнв Артём Олегович"
    assert first["applicant"] == "Смирнов Иван Олегович"
    message = "The child's surname differs from our records by one letter."
    assert first["reasons"] == [{"code": "name_near_miss", "message": message}]

    table = run_cli("applications", "list", "--status", "approved", "--status", "rejected")
    assert table.exit_code == 0
    assert "certificate_mismatch" in table.stdout and "A-0001" in table.stdout
    assert "A-0011" not in table.stdout


def test_issue_links_guardians_and_the_passwords_authenticate(
    run_cli, imported, workdir, sessions, settings
):
    out = workdir / "slips.csv"
    result = run_cli(
        "--format", "json", "applications", "verify", "--issue", "--out", str(out)
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["approved"] == len(APPROVED)
    assert summary["issued"] == len(APPROVED)
    assert summary["linked"] == len(APPROVED)
    # Елена Смирнова is on the roster already: reused, not created again
    assert summary["guardians_created"] == len(APPROVED) - 1
    assert (out.stat().st_mode & 0o777) == 0o600
    slips = read_slips_csv(out)
    assert len(slips) == len(APPROVED)
    passwords = [s["password"] for s in slips]
    with sessions() as session, session.begin():
        for slip in slips:
            outcome = auth.authenticate(session, slip["login"], slip["password"], settings=settings)
            assert outcome.ok, (slip["login"], outcome.reason)
            assert outcome.must_change
        # Елена is reused; Анна Смирнова (no consent: rejected) is never created
        smirnova = select(func.count()).select_from(Guardian).where(Guardian.surname == "Смирнова")
        assert session.scalar(smirnova) == 1
        apps = session.scalars(select(Application).order_by(Application.id)).all()
        linked = {a.external_id for a in apps if a.guardianship_id is not None}
        assert linked == set(APPROVED)
        elena = session.scalar(select(Application).where(Application.external_id == "A-0002"))
        link = session.get(Guardianship, elena.guardianship_id)
        assert link.guardian.email == "elena@example.ru" and link.relation == "mother"
        father = session.scalar(select(Application).where(Application.external_id == "A-0001"))
        link = session.get(Guardianship, father.guardianship_id)
        assert (link.guardian.full_name, link.relation) == ("Смирнов Олег Петрович", "father")
        assert link.student_id == father.student_id
        trail = json.dumps(
            [e.details for e in session.scalars(select(AuditEvent))], ensure_ascii=False
        )
    assert not any(p in trail for p in passwords)
    assert "slips.csv" not in result.stdout and not any(p in result.output for p in passwords)

    again = run_cli("--format", "json", "applications", "verify", "--issue", "--out",
                    str(workdir / "again.csv"))  # fmt: skip
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["issued"] == 0
    assert not (workdir / "again.csv").exists()


def test_a_reviewer_approval_is_issued_by_the_next_verify(run_cli, imported, workdir, sessions):
    assert (
        run_cli("applications", "verify", "--issue", "--out", str(workdir / "a.csv")).exit_code == 0
    )
    decided = run_cli(
        "--operator", "deputy", "--format", "json", "applications", "decide", "A-0013",
        "--approve", "--reason", "Отчество сверено по свидетельству",
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.stdout)["status"] == "approved"
    second = run_cli("--format", "json", "applications", "verify", "--issue", "--out",
                     str(workdir / "b.csv"))  # fmt: skip
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["issued"] == 1
    slip = read_slips_csv(workdir / "b.csv")[0]
    assert slip["guardian"] == "Лебедева Анна Ильинична"
    refused = run_cli("applications", "decide", "A-0013", "--reject", "--reason", "ошибка")
    assert refused.exit_code == 1
    assert "revoke the credential instead" in refused.stderr


def test_report_cell_by_cell(run_cli, imported, workdir):
    report = workdir / "decisions.xlsx"
    result = run_cli("--operator", "secretary", "applications", "verify", "--report", str(report))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(report).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "Заявления"
    assert rows[0] == (
        "ID", "Номер заявления", "Дата заявления", "Заявитель", "Кем приходится", "Ребёнок",
        "Дата рождения ребёнка", "Решение", "Статус", "Коды причин", "Причины", "Кто решил",
        "Когда", "Текст письма об отказе",
    )  # fmt: skip
    assert len(rows) == len(CORPUS) + 1
    by_number = {row[1]: row for row in rows[1:]}

    approved = by_number["A-0001"]
    assert approved[0] == 1
    assert approved[2].date() == date(2026, 9, 1)
    assert approved[3:6] == ("Смирнов Олег Петрович", "отец", "Смирнов Артём Олегович")
    assert approved[6].date() == date(2015, 3, 14)
    assert approved[7:11] == ("одобрено", "approved", None, None)
    assert approved[11] == "secretary" and approved[12] is not None
    assert approved[13] is None

    review = by_number["A-0012"]
    assert review[7:11] == (
        "требует проверки",
        "review",
        "date_swapped",
        "Дата рождения совпадает с данными школы, только если поменять местами день и месяц.",
    )  # the report is a document for the school: in its language, Russian by default
    assert review[13] is None

    several = by_number["A-0024"]
    assert several[7:9] == ("отклонено", "rejected")
    assert several[9] == "no_consent; passport_malformed; child_not_found"
    assert several[10].split("\n") == [
        "Не дано согласие на обработку персональных данных.",
        "Серия и номер паспорта заявителя указаны в неверном формате (нужны 4 и 6 цифр).",
        "Обучающегося с такими ФИО и датой рождения в школе нет.",
    ]
    letter = several[13]
    assert letter.startswith("Школа\n\nУважаемый Олег Ильич!\n")
    assert "Ваше заявление № A-0024 от 01.09.2026" in letter
    assert "ребёнка Петрова Петра Петровича отклонено по следующим причинам:" in letter
    assert "1. Не дано согласие на обработку персональных данных." in letter
    assert "2. Серия и номер паспорта заявителя не указаны или указаны в неверном формате" in letter
    assert (
        "3. Ребёнок с указанными фамилией, именем, отчеством и датой рождения не найден" in letter
    )
    assert "подайте заявление повторно" in letter

    mismatch = by_number["A-0016"][13]
    assert "1. Серия и номер свидетельства о рождении не совпадают с данными школы." in mismatch
    assert "123456" not in mismatch and "999999" not in mismatch  # no document numbers
    duplicate = by_number["A-0021"][13]
    assert "Повторно подавать заявление не нужно" in duplicate
    # every text cell is text (a name starting with '=' would be a formula otherwise)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_report_text_is_never_a_formula(run_cli, workdir, sessions, settings):
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    row = dict(CORPUS[0][0], **{"Фамилия заявителя": '=HYPERLINK("x")'})
    path = write_xlsx(workdir / "evil.xlsx", [row])
    workbook = load_workbook(path)
    workbook.active["C3"].data_type = "s"  # typed as text in the portal's file, not a formula
    workbook.save(path)
    assert run_cli("applications", "import", str(path)).exit_code == 0
    report = workdir / "r.xlsx"
    assert run_cli("applications", "verify", "--report", str(report)).exit_code == 0
    cell = load_workbook(report).active["D2"]
    assert cell.data_type == "s"
    assert cell.value.startswith("=HYPERLINK")


def test_email_failures_give_exit_3_and_the_credentials_stay_issued(
    run_cli, imported, workdir, sessions
):
    with smtp_server(refuse={"parent3@example.ru"}) as (mailbox, overrides):
        out = workdir / "slips.html"
        result = run_cli(
            "--format", "json", "applications", "verify", "--issue", "--out", str(out),
            "--email", env=env_for(overrides),
        )  # fmt: skip
    assert result.exit_code == 3, result.output
    summary = json.loads(result.stdout)
    assert summary["issued"] == len(APPROVED)
    assert summary["emailed"] == len(APPROVED) - 1
    assert [f["email"] for f in summary["failed"]] == ["parent3@example.ru"]
    assert "1 letter could not be sent" in result.stderr
    assert len(mailbox.to("parent1@example.ru")) == 1
    assert out.exists()
    with sessions() as session:
        linked = session.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.guardianship_id.is_not(None))
        )
    assert linked == len(APPROVED)


def test_dry_run_decides_nothing_but_writes_the_report(run_cli, imported, workdir, db_snapshot):
    before = db_snapshot()
    report = workdir / "preview.xlsx"
    result = run_cli(
        "--format", "json", "applications", "verify", "--dry-run", "--report", str(report)
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["approved"] == len(APPROVED)
    assert db_snapshot() == before
    statuses = [
        row[8] for row in load_workbook(report).active.iter_rows(min_row=2, values_only=True)
    ]
    assert statuses.count("approved") == len(APPROVED)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--issue"], "--issue needs --out FILE"),
        (["--out", "x.csv"], "--out and --email go with --issue"),
        (["--issue", "--out", "x.csv", "--dry-run"], "--dry-run cannot be combined"),
    ],
)
def test_verify_usage_errors(run_cli, args, message):
    result = run_cli("applications", "verify", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_existing_output_files_are_refused_before_any_decision(
    run_cli, imported, workdir, db_snapshot
):
    (workdir / "slips.csv").write_text("keep me")
    (workdir / "report.xlsx").write_text("keep me")
    before = db_snapshot()
    issue = run_cli("applications", "verify", "--issue", "--out", str(workdir / "slips.csv"))
    report = run_cli("applications", "verify", "--report", str(workdir / "report.xlsx"))
    for result in (issue, report):
        assert result.exit_code == 1
        assert "already exists; use --force" in result.stderr
    assert db_snapshot() == before
    assert (workdir / "slips.csv").read_text() == "keep me"


def test_decide_needs_a_choice_and_a_known_application(run_cli, imported):
    result = run_cli("applications", "decide", "A-0001", "--reason", "x")
    assert result.exit_code == 2
    assert "Choose --approve or --reject" in result.output
    missing = run_cli("applications", "decide", "999", "--reject", "--reason", "x")
    assert missing.exit_code == 1
    assert "There is no application '999'" in missing.stderr


def test_an_approved_contact_conflict_links_the_childs_own_guardian(
    run_cli, imported, workdir, sessions
):
    assert run_cli("applications", "verify").exit_code == 0
    decided = run_cli(
        "applications", "decide", "A-0014", "--approve", "--reason", "Телефон сменился"
    )
    assert decided.exit_code == 0, decided.output
    out = workdir / "slips.csv"
    result = run_cli("--format", "json", "applications", "verify", "--issue", "--out", str(out))
    assert result.exit_code == 0, result.output
    with sessions() as session:
        orlovs = session.scalars(select(Guardian).where(Guardian.surname == "Орлов")).all()
        assert len(orlovs) == 1  # the roster's Андрей Орлов, not a second copy
        assert orlovs[0].phone == "+79120000002"  # contacts are not overwritten silently
        app = session.scalar(select(Application).where(Application.external_id == "A-0014"))
        assert session.get(Guardianship, app.guardianship_id).guardian_id == orlovs[0].id
    slips = {s["guardian"]: s for s in read_slips_csv(out)}
    assert slips["Орлов Андрей Викторович"]["relation"] in ("father", "отец")


@pytest.mark.parametrize(
    ("applicant", "relation", "child", "greeting", "child_shown"),
    [
        (
            ("ИВАНОВА", "АННА", "ПЕТРОВНА"),
            "guardian",
            ("ИВАНОВ", "ПЁТР", "СЕРГЕЕВИЧ"),
            "Уважаемая Анна Петровна!",
            "Иванова Петра Сергеевича",
        ),
        (
            ("МАМЕДОВ", "РАШИД", "АЛИ ОГЛЫ"),
            "trusted",
            ("РИМСКАЯ-КОРСАКОВА", "ЛЕЙЛА", None),
            "Уважаемый Рашид Али оглы!",
            "Римской-Корсаковой Лейлы",
        ),
        (
            ("Кузнецова", "Елена", None),
            "mother",
            ("Кузнецов", "Артём", None),
            "Уважаемая Елена Кузнецова!",
            "Кузнецова Артёма",
        ),
        (
            ("Ким", "Саша", None),
            "guardian",
            ("Ким", "Юна", None),
            "Уважаемый(ая) Саша Ким!",
            "Ким Юны",
        ),
    ],
    ids=["capitals", "ogly-double-surname", "no-patronymic-mother", "unknown-sex"],
)
def test_refusal_letter_greets_by_name_and_patronymic_in_normal_case(
    settings, applicant, relation, child, greeting, child_shown
):
    from datetime import datetime

    from diaryadmin.applications.report import refusal_letter

    a = Application(
        applicant_surname=applicant[0],
        applicant_name=applicant[1],
        applicant_patronymic=applicant[2],
        relation=relation,
        child_surname=child[0],
        child_name=child[1],
        child_patronymic=child[2],
        reasons=[{"code": "no_consent", "message": "No consent."}],
        decided_at=datetime(2026, 9, 10, 12, 0),
    )
    letter = refusal_letter(a, settings)
    assert letter.split("\n")[2] == greeting
    assert f"ребёнка {child_shown} отклонено" in letter


def test_a_refused_duplicate_is_not_asked_to_apply_again_whatever_else_is_listed(settings):
    from datetime import datetime

    from diaryadmin.applications.report import refusal_letter

    a = Application(
        applicant_surname="Иванова",
        applicant_name="Анна",
        applicant_patronymic="Петровна",
        relation="mother",
        child_surname="Иванов",
        child_name="Пётр",
        child_patronymic=None,
        reasons=[
            {"code": "contact_conflict", "message": "Other contacts."},
            {"code": "duplicate_application", "message": "Already approved."},
        ],
        decided_at=datetime(2026, 9, 10, 12, 0),
    )
    letter = refusal_letter(a, settings)
    assert "Повторно подавать заявление не нужно" in letter
    assert "подайте заявление повторно" not in letter


def test_decide_dry_run_names_the_application_and_changes_nothing(run_cli, imported, db_snapshot):
    assert run_cli("applications", "verify").exit_code == 0
    before = db_snapshot()
    dry = run_cli("applications", "decide", "A-0013", "--approve", "--reason", "Сверено",
                  "--dry-run")  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert "decide application A-0013 (review → approved:" in dry.stderr
    assert "is now" not in dry.stderr
    assert db_snapshot() == before


def test_import_and_verify_dry_runs_name_each_application(run_cli, workdir, sessions, settings):
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    path = write_xlsx(workdir / "portal.xlsx", [row for row, *_ in CORPUS])
    dry = run_cli("applications", "import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "create application A-0001 (" in dry.stderr
    assert run_cli("applications", "import", str(path)).exit_code == 0
    verify = run_cli("applications", "verify", "--dry-run")
    assert verify.exit_code == 0, verify.output
    assert f"decide application {APPROVED[0]} (approved: " in verify.stderr


def test_a_failed_commit_leaves_no_report_of_decisions_never_stored(
    run_cli, imported, workdir, db_snapshot
):
    """The report used to be written inside the transaction and left behind when it rolled
    back: a report of approvals for applications still pending."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    before = db_snapshot()

    def refuse_commit(session):
        raise RuntimeError("the database went away")

    report = workdir / "decisions.xlsx"
    event.listen(Session, "before_commit", refuse_commit)
    try:
        with pytest.raises(RuntimeError, match="went away"):
            run_cli("applications", "verify", "--report", str(report))
    finally:
        event.remove(Session, "before_commit", refuse_commit)
    assert db_snapshot() == before
    assert not report.exists()
    assert sorted(p.name for p in workdir.iterdir()) == ["portal.xlsx"]
