"""A roster as OneRoster CSV: reading 1.1 or 1.2 into records, writing the school's as 1.1.

Students are `users.csv` rows with role `student` (1.2 keeps the role in `roles.csv`); their
class is the homeroom class (a class whose title or code is a class name such as `5А`) of their
student enrollment; birth dates come from `demographics.csv`; guardians are users with role
`parent`, `guardian` or `relative`, linked both ways through `agentSourcedIds`. The external id
is `identifier`, else `sourcedId` (except the ids our own export makes up for students without
an external id).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diaryadmin.config import ReadLimits
from diaryadmin.errors import quoted
from diaryadmin.i18n import _
from diaryadmin.io.oneroster import read_tables, write_tables
from diaryadmin.io.reader import Row
from diaryadmin.people.names import canonical_class
from diaryadmin.roster.normalise import GuardianRecord, StudentRecord

if TYPE_CHECKING:
    from diaryadmin.models import School
    from diaryadmin.roster.findings import RosterFindings

OUR_PREFIX = "diaryadmin-"
# OneRoster roles of a child's agents and our relations (a parent: mother or father by the
# patronymic); a relative is a trusted person, as in people.relations.
GUARDIAN_ROLES = {"parent": None, "guardian": "guardian", "relative": "trusted"}
_ROLE_OF = {"mother": "parent", "father": "parent", "guardian": "guardian", "trusted": "relative"}


def _ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _deleted(row: dict[str, str]) -> bool:
    return (row.get("status") or "").casefold() == "tobedeleted"


def read_oneroster(path: Path, reader: RosterFindings, limits: ReadLimits | None = None) -> None:
    """Add the students (and their guardians) of a OneRoster folder or zip to `reader`.

    A guardian is linked to a student by the student's `agentSourcedIds`, the guardian's, or
    both: systems write the link from either side.
    """
    tables = read_tables(path, limits)
    users = tables["users"]
    birth_dates: dict[str, tuple[int, str]] = {}
    if "demographics" in tables:
        for number, row in tables["demographics"].rows:
            birth_dates[row.get("sourcedId", "")] = (number, row.get("birthDate", ""))
    demographics_file = tables["demographics"].file if "demographics" in tables else None
    classes: dict[str, str] = {}
    for _number, row in tables["classes"].rows if "classes" in tables else ():
        for text in (row.get("title"), row.get("classCode")):
            try:
                classes[row.get("sourcedId", "")] = canonical_class(text or "")
                break
            except ValueError:
                continue
    class_of: dict[str, str] = {}
    for _number, row in tables["enrollments"].rows if "enrollments" in tables else ():
        if (row.get("role") or "student").casefold() != "student" or _deleted(row):
            continue
        name = classes.get(row.get("classSourcedId", ""))
        if name is not None:
            class_of.setdefault(row.get("userSourcedId", ""), name)

    students: list[tuple[int, dict[str, str]]] = []
    guardian_rows: dict[str, tuple[int, dict[str, str]]] = {}
    children_of: dict[str, list[str]] = {}
    # OneRoster 1.2 moved the role into roles.csv; its primary role wins.
    role_of: dict[str, str] = {}
    for _number, row in tables["roles"].rows if "roles" in tables else ():
        if _deleted(row):
            continue
        user = row.get("userSourcedId", "")
        if (row.get("roleType") or "").casefold() == "primary" or user not in role_of:
            role_of[user] = (row.get("role") or "").casefold()
    for number, row in users.rows:
        if _deleted(row) or (row.get("enabledUser") or "").casefold() == "false":
            continue
        role = (row.get("role") or role_of.get(row.get("sourcedId", ""), "")).casefold()
        row["role"] = role
        if role == "student":
            students.append((number, row))
        elif role in GUARDIAN_ROLES:
            guardian_rows[row.get("sourcedId", "")] = (number, row)
            for child in _ids(row.get("agentSourcedIds")):
                children_of.setdefault(child, []).append(row.get("sourcedId", ""))
    parsed_guardians: dict[str, GuardianRecord | None] = {}

    def guardian(sourced_id: str) -> GuardianRecord | None:
        if sourced_id not in parsed_guardians:
            number, row = guardian_rows[sourced_id]
            where = Row(users.file, None, number, ())
            full = " ".join(
                p for p in (row.get("familyName"), row.get("givenName"), row.get("middleName")) if p
            )
            parsed_guardians[sourced_id] = reader.guardian_from_cells(
                where,
                full or None,
                None,
                row.get("email") or None,
                row.get("phone") or row.get("sms") or None,
                ("familyName", None, "email", "phone"),
                default_relation=GUARDIAN_ROLES[row["role"]],
            )
        return parsed_guardians[sourced_id]

    errors = reader.result.errors
    for number, row in students:
        where = Row(users.file, None, number, ())
        before = len(errors)
        values: dict[str, Any] = {}
        for field, column in (("surname", "familyName"), ("name", "givenName"),
                              ("patronymic", "middleName")):  # fmt: skip
            part = reader.name_part(where, field, column, row.get(column) or None)
            values[field] = part if part is not None else (None, None)
        sourced_id = row.get("sourcedId", "")
        birth_date: date | None = None
        found = birth_dates.get(sourced_id)
        if found is None or not found[1]:
            reader.error(_("no birth date for this student in demographics.csv"), where,
                         "sourcedId", sourced_id)  # fmt: skip
        else:
            place = Row(demographics_file or "", None, found[0], ())
            birth_date = reader.birth_date(place, "birthDate", found[1])
        class_name = class_of.get(sourced_id) or reader.default_class
        if class_name is None:
            reader.error(_("no class: no student enrollment in a class like 5А"), where,
                         "sourcedId", sourced_id)  # fmt: skip
        guardians = []
        agents = _ids(row.get("agentSourcedIds")) + children_of.get(sourced_id, [])
        for agent in dict.fromkeys(agents):
            if agent not in guardian_rows:
                if agent not in _ids(row.get("agentSourcedIds")):
                    continue
                text = _("agentSourcedIds names {id}, who is not a parent in users.csv")
                reader.error(text.format(id=quoted(agent)), where, "agentSourcedIds", agent)
                continue
            record = guardian(agent)
            if record is not None:
                guardians.append(record)
        if len(errors) > before:
            continue
        identifier = row.get("identifier") or None
        if identifier is None and sourced_id and not sourced_id.startswith(OUR_PREFIX):
            identifier = sourced_id
        surname, name, patronymic = (values[f][0] for f in ("surname", "name", "patronymic"))
        key = " ".join(values[f][1] for f in ("surname", "name", "patronymic") if values[f][1])
        reader.emit(
            StudentRecord(
                users.file, None, number, identifier, surname, name, patronymic, key,
                birth_date, class_name, None, None, guardians,
            )
        )  # fmt: skip


USERS_HEADER = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
    "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email",
    "sms", "phone", "agentSourcedIds", "grades", "password",
]  # fmt: skip


def write_oneroster(
    target: Path, school: School, students: list[dict[str, Any]], *, overwrite: bool = False
) -> None:
    """Write `students` (from `roster_export.roster_rows`) as OneRoster 1.1 CSV files."""
    org = f"{OUR_PREFIX}org-{school.code}"
    classes: dict[str, int] = {}
    for s in students:
        if s["class"]:
            classes[s["class"]] = s["grade"]
    from diaryadmin.schools import school_year_of

    year = school_year_of(date.today())
    session_id = f"{OUR_PREFIX}year-{year}"
    users: list[list[Any]] = []
    guardian_users: dict[int, list[Any]] = {}
    children: dict[int, list[str]] = {}
    enrollments, demographics = [], []
    for s in students:
        sid = s["external_id"] or f"{OUR_PREFIX}student-{s['id']}"
        grade = f"{s['grade']:02d}" if s["class"] else ""
        agents = []
        for guardian_id, surname, name, patronymic, relation, email, phone in s["guardians"]:
            gid = f"{OUR_PREFIX}guardian-{guardian_id}"
            agents.append(gid)
            children.setdefault(guardian_id, []).append(sid)
            if guardian_id not in guardian_users:
                role = _ROLE_OF.get(relation, "guardian")
                guardian_users[guardian_id] = [
                    gid, "", "", "true", org, role, email or "", "", name, surname,
                    patronymic or "", "", email or "", "", phone or "", None, "", "",
                ]  # fmt: skip
        users.append(
            [sid, "", "", "true", org, "student", "", "", s["name"], s["surname"],
             s["patronymic"] or "", s["external_id"] or "", "", "", "", ",".join(agents),
             grade, ""]
        )  # fmt: skip
        if s["class"]:
            enrollments.append(
                [f"{OUR_PREFIX}enrollment-{s['id']}", "", "", f"{OUR_PREFIX}class-{s['class']}",
                 org, sid, "student", "true", "", ""]
            )  # fmt: skip
        demographics.append([sid, "", "", s["birth_date"].isoformat(), ""])
    for guardian_id, row in guardian_users.items():
        row[15] = ",".join(children[guardian_id])
        users.append(row)
    grades = sorted(set(classes.values()))
    write_tables(
        target,
        [
            ("manifest", ["propertyName", "value"], [
                ["manifest.version", "1.0"], ["oneroster.version", "1.1"],
                *([f"file.{n}", "bulk"] for n in ("academicSessions", "classes", "courses",
                   "demographics", "enrollments", "orgs", "users")),
                *([f"file.{n}", "absent"] for n in ("categories", "classResources",
                   "courseResources", "lineItems", "resources", "results")),
            ]),
            ("orgs", ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
                      "parentSourcedId"], [[org, "", "", school.name, "school", school.code, ""]]),
            ("academicSessions", ["sourcedId", "status", "dateLastModified", "title", "type",
                                  "startDate", "endDate", "parentSourcedId", "schoolYear"],
             [[session_id, "", "", f"{year}/{year + 1}", "schoolYear", f"{year}-09-01",
               f"{year + 1}-08-31", "", str(year + 1)]]),
            ("courses", ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId",
                         "title", "courseCode", "grades", "orgSourcedId", "subjects",
                         "subjectCodes"],
             [[f"{OUR_PREFIX}course-{g}", "", "", session_id, f"{g} класс", str(g), f"{g:02d}",
               org, "", ""] for g in grades]),
            ("classes", ["sourcedId", "status", "dateLastModified", "title", "grades",
                         "courseSourcedId", "classCode", "classType", "location",
                         "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes",
                         "periods"],
             [[f"{OUR_PREFIX}class-{name}", "", "", name, f"{g:02d}",
               f"{OUR_PREFIX}course-{g}", name, "homeroom", "", org, session_id, "", "", ""]
              for name, g in sorted(classes.items(), key=lambda x: (x[1], x[0]))]),
            ("users", USERS_HEADER, users),
            ("enrollments", ["sourcedId", "status", "dateLastModified", "classSourcedId",
                             "schoolSourcedId", "userSourcedId", "role", "primary",
                             "beginDate", "endDate"], enrollments),
            ("demographics", ["sourcedId", "status", "dateLastModified", "birthDate", "sex"],
             demographics),
        ],
        overwrite=overwrite,
    )  # fmt: skip
