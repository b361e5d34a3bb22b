"""Settings read once from the environment (after `.env`), typed, defaults in one place."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from diaryadmin.errors import ConfigError
from diaryadmin.i18n import _

PREFIX = "DIARYADMIN_"
DEFAULT_DATABASE_FILE = "diaryadmin.sqlite3"
# Placeholders until the school names itself (`diaryadmin school set` or the .env).
DEFAULT_PORTAL_URL = "https://diary.example.org"
DEFAULT_SCHOOL_NAME = "Школа"
# OWASP Password Storage Cheat Sheet, argon2id: at least 19 MiB of memory and 2 iterations.
OWASP_TIME_COST = 2
OWASP_MEMORY_KIB = 19456

# Every DIARYADMIN_* variable something reads; `diaryadmin check` warns about any other
# (a typing mistake such as DIARYADMIN_SMPT_HOST is otherwise silently ignored).
KNOWN_SETTINGS = frozenset(
    PREFIX + name
    for name in (
        "DATABASE_URL", "SECRET_KEY", "TEMP_PASSWORD_DAYS", "LOCKOUT_THRESHOLD",
        "ARGON2_TIME_COST", "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM", "ALLOW_WEAK_HASHES",
        "HASH_WORKERS", "SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USER", "SMTP_PASSWORD",
        "SMTP_FROM", "SMTP_TIMEOUT", "PORTAL_URL", "SCHOOL_NAME", "TEMPLATES_DIR", "ENV_FILE",
        "LANG", "TEST_DATABASE_URL", "PASSWORD_MIN_SCORE", "RECOVERY_CODE_MINUTES",
        "RECOVERY_REQUESTS_PER_HOUR", "RECOVERY_ANSWER_MS", "SQLITE_BUSY_SECONDS",
        "TEST_PAUSE_AT", "TEST_PAUSE_SECONDS",
    )
)  # fmt: skip


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            _("{setting} must be a whole number, not {value!r}.").format(
                setting=PREFIX + name, value=raw
            )
        ) from None
    if value < minimum:
        raise ConfigError(
            _("{setting} must be at least {minimum}, not {value}.").format(
                setting=PREFIX + name, minimum=minimum, value=value
            )
        )
    return value


@dataclass(frozen=True)
class ReadLimits:
    """How much a table file may hold before the readers refuse it as hostile or broken.

    Each limit has an environment variable (the field name in capitals after the prefix,
    e.g. DIARYADMIN_MAX_FILE_MB) that the refusal names, so an office can raise it.
    """

    max_file_mb: int = 200  # size of the file on disk
    max_uncompressed_mb: int = 1024  # all parts of an xlsx/ods zip together, unpacked
    max_compression_ratio: int = 100  # unpacked / packed size of one zip part over 1 MB
    max_zip_entries: int = 10_000  # parts in an xlsx/ods zip
    max_rows: int = 1_048_576  # rows of one sheet (Excel's own limit)
    max_columns: int = 1_024  # columns a row may reach (Excel allows 16,384: XFD)
    max_cells: int = 10_000_000  # rows × columns of one sheet
    reader_memory_mb: int = 1024  # address space the parser process may add
    reader_seconds: int = 300  # CPU seconds the parser process may use

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReadLimits:
        env = os.environ if env is None else env
        return cls(
            **{name: _int(env, name.upper(), default, 1) for name, default in vars(cls()).items()}
        )


# The read limits are settings too (DIARYADMIN_MAX_FILE_MB, ...): `check` knows them.
KNOWN_SETTINGS = KNOWN_SETTINGS | {PREFIX + name.upper() for name in vars(ReadLimits())}


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build with `Settings.from_env()`."""

    database_url: str = f"sqlite:///{DEFAULT_DATABASE_FILE}"
    secret_key: str | None = field(default=None, repr=False)
    temp_password_days: int = 30
    lockout_threshold: int = 10
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    hash_workers: int = 0  # 0 means one per core
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "diaryadmin@localhost"
    smtp_timeout: int = 30
    portal_url: str = DEFAULT_PORTAL_URL
    school_name: str = DEFAULT_SCHOOL_NAME
    templates_dir: str | None = None
    read_limits: ReadLimits = field(default_factory=ReadLimits)
    password_min_score: int = 3  # zxcvbn score 0-4 a parent's own password must reach
    recovery_code_minutes: int = 30
    recovery_requests_per_hour: int = 3  # per guardian
    recovery_answer_ms: int = 250  # the least time a "forgot password" answer takes

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, base_dir: Path | None = None
    ) -> Settings:
        """Read settings from `env` (default: os.environ).

        A relative SQLite path resolves against `base_dir` (the folder of the `.env` file that
        named it), so a cron job started from `/` opens the same database as the secretary's shell.
        """
        env = os.environ if env is None else env
        url = env.get(PREFIX + "DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE_FILE}"
        url = resolve_sqlite_path(url, base_dir or Path.cwd())
        security = (env.get(PREFIX + "SMTP_SECURITY") or "starttls").lower()
        if security not in ("starttls", "ssl", "none"):
            raise ConfigError(
                _("{setting} must be starttls, ssl or none, not {value!r}.").format(
                    setting=PREFIX + "SMTP_SECURITY", value=security
                )
            )
        smtp_port_default = 465 if security == "ssl" else 587
        time_cost = _int(env, "ARGON2_TIME_COST", OWASP_TIME_COST, 1)
        memory_kib = _int(env, "ARGON2_MEMORY_KIB", OWASP_MEMORY_KIB, 8)
        weak_allowed = (env.get(PREFIX + "ALLOW_WEAK_HASHES") or "").lower() in ("1", "yes", "true")
        if (time_cost < OWASP_TIME_COST or memory_kib < OWASP_MEMORY_KIB) and not weak_allowed:
            raise ConfigError(
                _(
                    "argon2 parameters below the OWASP minimum (time cost {minimum_time}, memory "
                    "{minimum_memory} KiB): {prefix}ARGON2_TIME_COST={time_cost}, "
                    "{prefix}ARGON2_MEMORY_KIB={memory}. Raise them (tests alone may set "
                    "{prefix}ALLOW_WEAK_HASHES=1)."
                ).format(
                    minimum_time=OWASP_TIME_COST,
                    minimum_memory=OWASP_MEMORY_KIB,
                    prefix=PREFIX,
                    time_cost=time_cost,
                    memory=memory_kib,
                )
            )
        return cls(
            database_url=url,
            secret_key=env.get(PREFIX + "SECRET_KEY") or None,
            temp_password_days=_int(env, "TEMP_PASSWORD_DAYS", 30, 1),
            lockout_threshold=_int(env, "LOCKOUT_THRESHOLD", 10, 1),
            argon2_time_cost=time_cost,
            argon2_memory_kib=memory_kib,
            argon2_parallelism=_int(env, "ARGON2_PARALLELISM", 1, 1),
            hash_workers=_int(env, "HASH_WORKERS", 0, 0),
            smtp_host=env.get(PREFIX + "SMTP_HOST") or None,
            smtp_port=_int(env, "SMTP_PORT", smtp_port_default, 1),
            smtp_security=security,
            smtp_user=env.get(PREFIX + "SMTP_USER") or None,
            smtp_password=env.get(PREFIX + "SMTP_PASSWORD") or None,
            smtp_from=env.get(PREFIX + "SMTP_FROM") or "diaryadmin@localhost",
            smtp_timeout=_int(env, "SMTP_TIMEOUT", 30, 1),
            portal_url=env.get(PREFIX + "PORTAL_URL") or DEFAULT_PORTAL_URL,
            school_name=env.get(PREFIX + "SCHOOL_NAME") or DEFAULT_SCHOOL_NAME,
            templates_dir=env.get(PREFIX + "TEMPLATES_DIR") or None,
            read_limits=ReadLimits.from_env(env),
            password_min_score=min(4, _int(env, "PASSWORD_MIN_SCORE", 3, 0)),
            recovery_code_minutes=_int(env, "RECOVERY_CODE_MINUTES", 30, 1),
            recovery_requests_per_hour=_int(env, "RECOVERY_REQUESTS_PER_HOUR", 3, 1),
            recovery_answer_ms=_int(env, "RECOVERY_ANSWER_MS", 250, 0),
        )

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def require_secret_key(self) -> bytes:
        """The key for document fingerprints; raises ConfigError with the fix when missing."""
        if not self.secret_key:
            raise ConfigError(
                _(
                    "{setting} is not set. Run 'diaryadmin init' to write a .env with a "
                    "fresh key, or set it yourself, e.g. {setting}={key}"
                ).format(setting=PREFIX + "SECRET_KEY", key=secrets.token_hex(32))
            )
        if len(self.secret_key) < 16:
            raise ConfigError(
                _("{setting} is too short: use at least 16 characters.").format(
                    setting=PREFIX + "SECRET_KEY"
                )
            )
        return self.secret_key.encode("utf-8")


def env_file_hint(env: Mapping[str, str] | None = None) -> str:
    """Which `.env` a command looked for, for messages: the one named by
    $DIARYADMIN_ENV_FILE, else `.env` in the current folder."""
    env = os.environ if env is None else env
    named = env.get(PREFIX + "ENV_FILE")
    path = Path(named) if named else Path.cwd() / ".env"
    if path.is_file():
        return _("settings read from {path}").format(path=path)
    return _("no .env found at {path}").format(path=path)


def resolve_sqlite_path(url: str, base_dir: Path) -> str:
    """Make a relative SQLite file path absolute against `base_dir`; other URLs pass through."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :]
            if path and path != ":memory:" and not path.startswith("/"):
                return prefix + str((base_dir / path).resolve())
    return url


def new_env_file_text(database_url: str | None = None) -> str:
    """Text of a fresh `.env` with a random secret key."""
    lines = [
        "# diaryadmin settings. Keep this file private: it holds the key for fingerprints.",
        f"{PREFIX}SECRET_KEY={secrets.token_hex(32)}",
        f"{PREFIX}DATABASE_URL={database_url or 'sqlite:///' + DEFAULT_DATABASE_FILE}",
        f"{PREFIX}TEMP_PASSWORD_DAYS=30",
        f"{PREFIX}LOCKOUT_THRESHOLD=10",
        f"# {PREFIX}PORTAL_URL={DEFAULT_PORTAL_URL}",
        f"# {PREFIX}SCHOOL_NAME=МБОУ СОШ № 1",
        f"# {PREFIX}SMTP_HOST=smtp.example.org",
        f"# {PREFIX}SMTP_PORT=587",
        f"# {PREFIX}SMTP_SECURITY=starttls",
        f"# {PREFIX}SMTP_USER=",
        f"# {PREFIX}SMTP_PASSWORD=",
        f"# {PREFIX}SMTP_FROM=school@example.org",
    ]
    return "\n".join(lines) + "\n"
