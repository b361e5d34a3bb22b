"""The whole domain as SQLAlchemy 2 typed models.

Conventions: datetimes are naive UTC (`utcnow()`); personal document numbers are never stored,
only keyed HMAC-SHA256 fingerprints of their normalised form (`documents.fingerprint`);
`*_key` columns hold names normalised for matching (`names.name_key`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from diaryadmin.people import names

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FINGERPRINT = String(64)


def utcnow() -> datetime:
    """Now, as the naive UTC datetime every column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    portal_url: Mapped[str | None] = mapped_column(String(255))
    # The language of documents for parents (`ru`, `en`); None is Russian.
    language: Mapped[str | None] = mapped_column(String(8))


class SchoolClass(Base):
    """A class such as `5А` in one school year (the year it starts: 2026 for 2026/27)."""

    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("school_id", "school_year", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    school_year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(8))  # canonical: digits + upper-case Cyrillic letter
    grade: Mapped[int] = mapped_column(SmallInteger)

    school: Mapped[School] = relationship()


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("school_id", "external_id"),
        Index("ix_students_name_key_birth_date", "name_key", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    surname: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(310))
    birth_date: Mapped[date] = mapped_column(Date)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    certificate_fp: Mapped[str | None] = mapped_column(FINGERPRINT, index=True)
    snils_fp: Mapped[str | None] = mapped_column(FINGERPRINT, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    school_class: Mapped[SchoolClass | None] = relationship()
    guardianships: Mapped[list[Guardianship]] = relationship(back_populates="student")


class Enrolment(Base):
    """Which class a student was in, and from when to when (class moves keep their history)."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


class Guardian(Base):
    __tablename__ = "guardians"

    id: Mapped[int] = mapped_column(primary_key=True)
    surname: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(310), index=True)
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    passport_fp: Mapped[str | None] = mapped_column(FINGERPRINT, index=True)
    external_identity: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    guardianships: Mapped[list[Guardianship]] = relationship(
        back_populates="guardian", foreign_keys="Guardianship.guardian_id"
    )

    @property
    def full_name(self) -> str:
        return names.full_name(self.surname, self.name, self.patronymic)


class Guardianship(Base):
    """A guardian's (or trusted person's) access to one child; each gets its own credential."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("guardian_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardians.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # mother | father | guardian | trusted
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("guardians.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    guardian: Mapped[Guardian] = relationship(
        foreign_keys=[guardian_id], back_populates="guardianships"
    )
    student: Mapped[Student] = relationship(back_populates="guardianships")
    credential: Mapped[Credential | None] = relationship(back_populates="guardianship")


class Credential(Base):
    """The one current login of a guardianship. State: temporary/active/expired/revoked/locked."""

    __tablename__ = "credentials"
    __table_args__ = (Index("ix_credentials_state_expires_at", "state", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardianship_id: Mapped[int] = mapped_column(ForeignKey("guardianships.id"), unique=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the parent bound this login to their own account (state `linked`; the identity is
    # `Guardian.external_identity`).
    linked_at: Mapped[datetime | None] = mapped_column(DateTime)

    guardianship: Mapped[Guardianship] = relationship(back_populates="credential")


class RecoveryCode(Base):
    """A guardian's one live "forgot password" code, kept only as a hash; a new request
    replaces it. The window counts requests for the hourly limit."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardians.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # email (sms later)
    code_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    window_started_at: Mapped[datetime] = mapped_column(DateTime)
    window_requests: Mapped[int] = mapped_column(Integer, default=0)


class Application(Base):
    """A parent's application for diary access, as imported, and the decision on it."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_child_key_birth_date", "child_name_key", "child_birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    content_key: Mapped[str] = mapped_column(FINGERPRINT, unique=True)  # re-import dedupe
    applied_on: Mapped[date | None] = mapped_column(Date)
    applicant_surname: Mapped[str] = mapped_column(String(100))
    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_patronymic: Mapped[str | None] = mapped_column(String(100))
    applicant_name_key: Mapped[str] = mapped_column(String(310), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    passport_fp: Mapped[str | None] = mapped_column(FINGERPRINT)
    snils_fp: Mapped[str | None] = mapped_column(FINGERPRINT)
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    child_surname: Mapped[str] = mapped_column(String(100))
    child_name: Mapped[str] = mapped_column(String(100))
    child_patronymic: Mapped[str | None] = mapped_column(String(100))
    child_name_key: Mapped[str] = mapped_column(String(310))
    child_birth_date: Mapped[date | None] = mapped_column(Date)
    certificate_fp: Mapped[str | None] = mapped_column(FINGERPRINT, index=True)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # What import found wrong with the documents, by field, e.g. {"passport": "malformed"}.
    document_flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    guardianship_id: Mapped[int | None] = mapped_column(ForeignKey("guardianships.id"))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    source: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Subject(Base):
    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Teacher(Base):
    __tablename__ = "teachers"
    __table_args__ = (UniqueConstraint("school_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    surname: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(310))


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("class_id", "subject_id", "date", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))
    date: Mapped[date] = mapped_column(Date, index=True)
    number: Mapped[int] = mapped_column(SmallInteger)  # lesson number in the day, 1-based
    topic: Mapped[str | None] = mapped_column(Text)
    homework: Mapped[str | None] = mapped_column(Text)


class Mark(Base):
    __tablename__ = "marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    value: Mapped[int] = mapped_column(SmallInteger)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    kind: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))


class Absence(Base):
    """Attendance: Н absent, Б ill, УП valid reason, ОП late."""

    __tablename__ = "absences"
    __table_args__ = (UniqueConstraint("student_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    code: Mapped[str] = mapped_column(String(4))


class AcademicPeriod(Base):
    """A quarter, half-year or trimester."""

    __tablename__ = "academic_periods"
    __table_args__ = (UniqueConstraint("school_id", "school_year", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    school_year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class PeriodGrade(Base):
    """The grade a teacher set for a student in a subject for a period."""

    __tablename__ = "period_grades"
    __table_args__ = (UniqueConstraint("student_id", "subject_id", "period_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("academic_periods.id"))
    value: Mapped[int] = mapped_column(SmallInteger)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))


class AuditEvent(Base):
    """Who changed what, when. Details never hold a secret or a document number."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    operator: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Installation(Base):
    """Facts about how this database was set up; one row (id 1).

    `secret_key_verifier` is an HMAC of a fixed label under DIARYADMIN_SECRET_KEY, never the
    key: a command with another key is refused before it writes unmatchable fingerprints.
    """

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_key_verifier: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
