"""Every command README.md and README.ru.md show is run, so neither can go stale.

The `sh` blocks of both files run in order, each in a fresh folder with its own `.env`: a
walkthrough that starts with `diaryadmin init` starts from nothing, any other from a prepared
school (the sample roster imported, logins issued). Every command must exit 0, or with the code
its comment names as `(exit N)` / `(код N)`. The `crontab` line runs from `/` with its
`--env-file` pointed at such a folder, with and without SMTP. Commands that need what a test
cannot have (an installer, the test suite itself, the minutes-long demo and benchmarks, a
PostgreSQL server when DIARYADMIN_TEST_DATABASE_URL is not set) and the indented reference
examples are parsed by their own command line, so each must exist and accept its options.

Each command runs in a process of its own, forked from one server process that has imported
diaryadmin once (interpreter start-up would otherwise cost more than the commands). The
READMEs' dates are written for the 2026/27 school year; they are moved to the current one.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
import pytest

from diaryadmin.cli import cli
from diaryadmin.schools import school_year_of
from helpers.forked import Databases, Runner
from helpers.readme import ROOT, Block, check_parses, has_completion, read_blocks, write_journal
from helpers.smtp import env_for, smtp_server

READMES = {"README.md": "en", "README.ru.md": "ru"}
WRITTEN_FOR_YEAR = 2026  # the school year the READMEs' dates belong to
TEST_URL = os.environ.get("DIARYADMIN_TEST_DATABASE_URL", "").strip()
DATE = re.compile(r"\b(\d\d\.\d\d\.)(20\d\d)\b")


@pytest.mark.parametrize("name", READMES)
def test_every_command_shown_exists_and_accepts_its_options(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks, examples = read_blocks(name, READMES[name])
    shown = [c for b in blocks for c in b.commands] + examples
    assert len(shown) > 40, f"{name}: too few commands found; is the parser broken?"
    completion = has_completion()
    failures = []
    for command in shown:
        if command.argv[1:2] == ("completion",) and not completion:
            continue  # the command lands with another branch
        why = check_parses(command, tmp_path)
        if why:
            failures.append(f"{command.where}: {shlex.join(command.argv)}: {why}")
    assert not failures, "\n".join(failures)


def test_the_readmes_link_each_other():
    assert "(README.ru.md)" in (ROOT / "README.md").read_text(encoding="utf-8")[:300]
    assert "(README.md)" in (ROOT / "README.ru.md").read_text(encoding="utf-8")[:300]


def commands_with_dry_run() -> set[str]:
    found = set()

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])
        elif any("--dry-run" in getattr(p, "opts", ()) for p in command.params):
            found.add(" ".join(path))

    walk(cli, [])
    return found


@pytest.mark.parametrize("name", READMES)
def test_the_dry_run_list_names_exactly_the_commands_that_have_it(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    paragraph = text[text.index("**`--dry-run`**") :].split("\n\n")[0]
    taking = paragraph.split("`init`")[0]  # the commands after it are the ones without
    named = set(re.findall(r"`([a-z]+ [a-z]+)`", taking))
    assert named == commands_with_dry_run()
    for without in ("init", "db upgrade", "school set", "demo"):
        assert f"`{without}`" in paragraph


def test_the_slips_per_page_the_readmes_state():
    from diaryadmin.letters import SLIPS_PER_PAGE

    words = {4: ("four per A4 page", "четыре памятки на листе")}[SLIPS_PER_PAGE]
    assert words[0] in (ROOT / "README.md").read_text(encoding="utf-8")
    assert words[1] in (ROOT / "README.ru.md").read_text(encoding="utf-8")


# --- running the walkthroughs -------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("readme")


@pytest.fixture(scope="module")
def runner(scratch):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch / "home"),
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        # The hashes are the slow part and not what these walkthroughs show.
        "DIARYADMIN_ALLOW_WEAK_HASHES": "1",
        "DIARYADMIN_ARGON2_TIME_COST": "1",
        "DIARYADMIN_ARGON2_MEMORY_KIB": "8",
        "DIARYADMIN_HASH_WORKERS": "1",
    }
    (scratch / "home").mkdir()
    (scratch / "jobs").mkdir()
    server = Runner(env, scratch / "jobs")
    yield server
    server.close()


@pytest.fixture(scope="module")
def databases():
    if not TEST_URL:
        yield None
        return
    found = Databases(TEST_URL)
    yield found
    found.drop()


@pytest.fixture(scope="module")
def inputs(scratch) -> Path:
    """The files the walkthroughs name, from the project's sample roster."""
    folder = scratch / "inputs"
    folder.mkdir()
    fixtures = ROOT / "src" / "diaryadmin" / "fixtures"
    fixtures = fixtures if fixtures.is_dir() else ROOT / "fixtures"
    shutil.copyfile(fixtures / "roster-sample.xlsx", folder / "roster.xlsx")
    shutil.copyfile(fixtures / "roster-sample.csv", folder / "roster.csv")
    write_journal(folder / "journal-5A.xlsx", folder / "roster.csv", "5А", current_year())
    return folder


def current_year() -> int:
    return school_year_of(date.today())


@dataclass
class Prepared:
    folder: Path
    database: str | None  # a PostgreSQL template database, or None for the SQLite file


@pytest.fixture(scope="module")
def school(runner, inputs, scratch, databases) -> Prepared:
    """A school as the secretary's walkthrough leaves it: roster imported, logins issued."""
    folder = scratch / "school"
    shutil.copytree(inputs, folder)
    env, template = {}, None
    if databases:
        url = databases.fresh()
        template = url.rsplit("/", 1)[1]
        env = {"DIARYADMIN_DATABASE_URL": url}
    for args in (
        ["init"],
        ["db", "upgrade"],
        ["school", "set", "--name", "МБОУ СОШ № 7", "--portal-url", "https://diary.school7.ru"],
        ["roster", "import", "roster.xlsx"],
        ["credentials", "issue", "--class", "5А", "--out", "issued.csv"],
    ):
        result = runner.run(args, folder, env)
        assert result.code == 0, f"{args}: {result.stderr}"
    return Prepared(folder, template)


def shift_dates(token: str) -> str:
    delta = current_year() - WRITTEN_FOR_YEAR
    return DATE.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + delta}", token)


def runnable_blocks() -> list:
    seen, params = set(), []
    for name in READMES:
        for block in read_blocks(name, READMES[name])[0]:
            if block.crontab or not any(c.kind == "diaryadmin" for c in block.commands):
                continue
            if block.key() in seen:
                continue
            seen.add(block.key())
            params.append(pytest.param(block, id=block.where))
    return params


def block_folder(block: Block, tmp_path: Path, inputs: Path, school: Prepared, databases):
    """The block's own folder (with HOME inside) and the environment its commands get."""
    starts_fresh = next(c for c in block.commands if c.kind == "diaryadmin").argv[1] == "init"
    folder = tmp_path / "office"
    shutil.copytree(inputs if starts_fresh else school.folder, folder)
    (folder / "home").mkdir()
    env = {"DIARYADMIN_LANG": block.language, "HOME": str(folder / "home")}
    if databases:
        env["DIARYADMIN_DATABASE_URL"] = databases.fresh(None if starts_fresh else school.database)
    return folder, env


@pytest.mark.parametrize("block", runnable_blocks())
def test_walkthrough_runs(block, runner, inputs, school, databases, tmp_path):
    postgres = any("postgresql" in a for c in block.commands for a in c.argv)
    if postgres and not databases:
        pytest.skip("PostgreSQL walkthrough: set DIARYADMIN_TEST_DATABASE_URL to run it")
    commands = [c for c in block.commands if c.kind == "diaryadmin"]
    if any(c.argv[1] == "completion" for c in commands) and not has_completion():
        pytest.skip("diaryadmin completion is not on this branch yet")
    folder, env = block_folder(block, tmp_path, inputs, school, databases)
    mail = None
    if any("--email" in c.argv or "--remind" in c.argv for c in commands):
        mail = smtp_server()
        mailbox, settings = mail.__enter__()
        env.update(env_for(settings))
    try:
        for command in commands:
            args = [shift_dates(a) for a in command.argv[1:]]
            if databases and postgres:
                args = [env["DIARYADMIN_DATABASE_URL"] if "postgresql" in a else a for a in args]
            stdout = None
            if command.stdout:
                stdout = Path(command.stdout.replace("~", str(folder / "home"), 1))
                stdout = stdout if stdout.is_absolute() else folder / stdout
                stdout.parent.mkdir(parents=True, exist_ok=True)
            attempt = "ELIZAVETA-WRONG\n" if "--attempt" in args else ""
            result = runner.run(args, folder, {**env, **dict(command.env)}, stdout, attempt)
            assert result.code == command.expect, (
                f"{command.where}: diaryadmin {shlex.join(args)} exited {result.code}, "
                f"not {command.expect}\n{result.stderr}"
            )
            if stdout is not None:
                assert stdout.stat().st_size > 0, f"{command.where}: nothing written"
        if mail is not None:
            assert mailbox.messages, f"{block.where}: --email sent nothing"
    finally:
        if mail is not None:
            mail.__exit__(None, None, None)


def cron_lines() -> list:
    seen, params = set(), []
    for name in READMES:
        for block in read_blocks(name, READMES[name])[0]:
            for command in block.commands if block.crontab else ():
                if command.argv not in seen:
                    seen.add(command.argv)
                    params.append(pytest.param(command, id=command.where))
    assert params, "a README lost its crontab line"
    return params


@pytest.mark.parametrize("line", cron_lines())
def test_cron_line_exits_as_the_readme_says(line, runner, school, databases, tmp_path):
    """From `/`, with --env-file: 3 while reminders cannot be sent (no SMTP), 0 once they
    are, 0 again with nothing left to send, 4 without the database, 2 for a wrong path."""
    folder = tmp_path / "office"
    shutil.copytree(school.folder, folder)
    env = {"DIARYADMIN_LANG": "en"}
    if databases:
        env["DIARYADMIN_DATABASE_URL"] = databases.fresh(school.database)
    # Passwords that run out within the line's --remind days.
    issued = runner.run(
        ["credentials", "issue", "--class", "7А", "--out", "soon.csv"],
        folder,
        {**env, "DIARYADMIN_TEMP_PASSWORD_DAYS": "3"},
    )
    assert issued.code == 0, issued.stderr
    at = line.argv.index("--env-file") + 1
    args = [*line.argv[1:at], str(folder / ".env"), *line.argv[at + 1 :]]

    without_smtp = runner.run(args, Path("/"), env)
    assert without_smtp.code == 3, without_smtp.stderr
    assert "could not be sent" in without_smtp.stderr
    with smtp_server() as (mailbox, settings):
        sent = runner.run(args, Path("/"), {**env, **env_for(settings)})
        assert sent.code == 0, sent.stderr
        assert sent.stdout == sent.stderr == ""  # -q: silent when all is well
        assert mailbox.messages, "no reminder went out"
        count = len(mailbox.messages)
        again = runner.run(args, Path("/"), {**env, **env_for(settings)})
        assert again.code == 0, again.stderr
        assert len(mailbox.messages) == count  # one reminder each

    if databases:
        env["DIARYADMIN_DATABASE_URL"] = env["DIARYADMIN_DATABASE_URL"] + "_gone"
    else:
        (folder / "diaryadmin.sqlite3").unlink()
    assert runner.run(args, Path("/"), env).code == 4
    wrong = [*line.argv[1:at], str(folder / "no-such.env"), *line.argv[at + 1 :]]
    assert runner.run(wrong, Path("/"), env).code == 2
