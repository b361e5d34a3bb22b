"""Start-up cost: `--help` imports no database layer, reader or writer; a cron run imports only
what it uses. Each check runs in a fresh interpreter and reads its `sys.modules`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest

from diaryadmin.cli import cli

# What `--help` must never import (each costs tens to hundreds of milliseconds).
HEAVY = ("sqlalchemy", "alembic", "openpyxl", "python_calamine", "xlsxwriter", "argon2",
         "jinja2", "psycopg", "odf", "xlrd", "diaryadmin.models", "diaryadmin.db")  # fmt: skip
# What `credentials expire` from cron must not import: no readers, writers, hashes, templates.
NOT_FOR_EXPIRE = ("openpyxl", "python_calamine", "xlsxwriter", "argon2", "jinja2", "odf", "xlrd")

_PROBE = """
import json, sys
from diaryadmin.cli import main
for args in json.loads(sys.argv[1]):
    try:
        main(args)
    except SystemExit as exc:
        if exc.code:
            raise
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(paths: list[list[str]], env: dict | None = None) -> set[str]:
    """The modules one fresh interpreter holds after running each argument list in turn."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(paths)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str], names) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def _groups() -> list[list[str]]:
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    return [[n] for n in names if isinstance(cli.get_command(ctx, n), click.Group)]


def test_root_help_imports_nothing_heavy(workdir):
    assert _heavy(_loaded([["--help"]]), HEAVY) == []


@pytest.mark.parametrize("group", _groups(), ids=lambda g: g[0])
def test_group_help_imports_nothing_heavy(group, workdir):
    assert _heavy(_loaded([[*group, "--help"]]), HEAVY) == []


def test_every_command_help_imports_nothing_heavy(workdir):
    ctx = click.Context(cli)
    paths = []
    for (name,) in _groups():
        group = cli.get_command(ctx, name)
        paths += [[name, sub, "--help"] for sub in group.list_commands(ctx)]
    paths += [[n, "--help"] for n in cli.list_commands(ctx) if [n] not in _groups()]
    assert _heavy(_loaded(paths), HEAVY) == []


def test_cron_expire_imports_no_reader_writer_or_hash(settings, workdir):
    env = {
        "DIARYADMIN_SECRET_KEY": settings.secret_key,
        "DIARYADMIN_DATABASE_URL": settings.database_url,
    }
    modules = _loaded([["-q", "credentials", "expire"]], env)
    assert "sqlalchemy" in modules  # it did reach the database
    assert _heavy(modules, NOT_FOR_EXPIRE) == []
