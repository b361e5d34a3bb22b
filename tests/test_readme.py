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

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import click
import pytest

from diaryadmin.cli import cli
from diaryadmin.config import Settings
from diaryadmin.context import AppContext
from diaryadmin.schools import school_year_of
from helpers.smtp import env_for, smtp_server

ROOT = Path(__file__).resolve().parents[1]
READMES = {"README.md": "en", "README.ru.md": "ru"}
WRITTEN_FOR_YEAR = 2026  # the school year the READMEs' dates belong to
TEST_URL = os.environ.get("DIARYADMIN_TEST_DATABASE_URL", "").strip()
COMMAND_SECONDS = 120
EXPECT = re.compile(r"\((?:exit|код) (\d+)\)")
DATE = re.compile(r"\b(\d\d\.\d\d\.)(20\d\d)\b")
FENCE = re.compile(r"^```([\w-]*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
# Only what a walkthrough may rely on; anything else a README shows fails the parse test.
NOT_RUN = {
    "install": "installs packages",
    "suite": "the test suite itself",
    "benchmarks": "runs for minutes (tests/test_benchmarks.py runs the harness)",
    "demo": "runs for minutes (tests/test_platform.py runs it end to end)",
}


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    where: str
    env: tuple[tuple[str, str], ...] = ()
    stdout: str | None = None  # `> FILE`
    expect: int = 0

    @property
    def kind(self) -> str:
        name, rest = self.argv[0], list(self.argv[1:])
        if name in ("pip", "pip3") or name.endswith("/pip") or rest[:2] == ["-m", "venv"]:
            return "install"
        if rest[:2] == ["-m", "pytest"]:
            return "suite"
        if rest[:2] == ["-m", "benchmarks"]:
            return "benchmarks"
        if name == "diaryadmin" or name.endswith("/bin/diaryadmin"):
            return "demo" if "demo" in rest else "diaryadmin"
        return "unknown"


@dataclass
class Block:
    where: str
    language: str
    commands: list[Command] = field(default_factory=list)
    crontab: bool = False

    def key(self) -> tuple:
        """Blocks that run the same commands (the two READMEs) run once."""
        return tuple((c.argv, c.env, c.stdout, c.expect) for c in self.commands) + (self.crontab,)


# --- reading the READMEs ------------------------------------------------------------------


def split_comment(line: str) -> tuple[str, str]:
    """`code  # comment`, a `#` inside quotes or a word being no comment."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index], line[index + 1 :]
    return line, ""


def logical_lines(text: str, first_line: int):
    """(line number, text) with backslash continuations joined."""
    pending, start = "", None
    for offset, line in enumerate(text.splitlines()):
        start = first_line + offset if start is None else start
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending, start = "", None


def commands_of(line: str, where: str) -> list[Command]:
    code, comment = split_comment(line)
    match = EXPECT.search(comment)
    result, words = [], []
    for token in [*shlex.split(code), "&&"]:
        if token != "&&":
            words.append(token)
            continue
        if not words:
            continue
        env, stdout = [], None
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            env.append(tuple(words.pop(0).split("=", 1)))
        if ">" in words:
            at = words.index(">")
            stdout, words = words[at + 1], words[:at]
        assert not {"|", "<", ">>", ";"} & set(words), f"{where}: a shell feature: {line}"
        expect = int(match.group(1)) if match else 0
        result.append(Command(tuple(words), where, tuple(env), stdout, expect))
        words = []
    return result


def read_blocks(name: str) -> tuple[list[Block], list[Command]]:
    """The README's `sh` and `crontab` blocks, and its indented reference examples."""
    text = (ROOT / name).read_text(encoding="utf-8")
    blocks: list[Block] = []
    for fence in FENCE.finditer(text):
        kind, body = fence.group(1), fence.group(2)
        first = text.count("\n", 0, fence.start(2)) + 1
        if kind not in ("sh", "crontab"):
            continue
        block = Block(f"{name}:{first}", READMES[name], crontab=kind == "crontab")
        for number, line in logical_lines(body, first):
            if kind == "crontab":
                fields = line.split(None, 5)
                if not line.strip() or line.lstrip().startswith("#") or "=" in fields[0]:
                    continue
                line = fields[5]
            block.commands += commands_of(line, f"{name}:{number}")
        blocks.append(block)
    outside = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    examples = [
        command
        for number, line in logical_lines(outside, 1)
        if line.startswith("    diaryadmin ")
        for command in commands_of(line.strip(), f"{name}:{number}")
    ]
    return blocks, examples


def has_completion() -> bool:
    return "completion" in cli.list_commands(click.Context(cli))


# --- checking a command line without running it --------------------------------------------


def parse_diaryadmin(args: list[str]) -> str:
    """Parse a diaryadmin command line as the program would, without running it; '' when
    it is valid, else why not."""
    try:
        ctx = cli.make_context("diaryadmin", list(args))
        # What the root command's callback would make: options such as --format set it.
        ctx.obj = AppContext(settings=Settings.from_env({}), operator="readme")
        command: click.Command = cli
        while isinstance(command, click.Group):
            rest = [*ctx._protected_args, *ctx.args]
            name, command, rest = command.resolve_command(ctx, rest)
            ctx = command.make_context(name, rest, parent=ctx)
    except click.exceptions.Exit as exc:
        return "" if exc.exit_code == 0 else f"exit {exc.exit_code}"
    except click.ClickException as exc:
        return exc.format_message()
    return ""


def parse_benchmarks(args: list[str]) -> str:
    from benchmarks.__main__ import parse_args

    try:
        parse_args(args)
    except SystemExit as exc:
        return f"python -m benchmarks refused it (exit {exc.code})"
    return ""


def check_parses(command: Command, folder: Path) -> str:
    args = list(command.argv[1:])
    if command.kind in ("diaryadmin", "demo"):
        for token in args:  # files the command reads must exist to be accepted
            if re.fullmatch(r"[\w.-]+\.(xlsx|xls|ods|csv|zip)", token):
                (folder / token).touch()
        return parse_diaryadmin(args)
    if command.kind == "benchmarks":
        return parse_benchmarks(args[2:])
    if command.kind in ("install", "suite"):
        return ""
    return f"the test does not know the program {command.argv[0]!r}"


@pytest.mark.parametrize("name", READMES)
def test_every_command_shown_exists_and_accepts_its_options(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks, examples = read_blocks(name)
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

# The server: diaryadmin imported once; each job (one JSON line on stdin) runs in a forked
# child through the program's own entry point, in its folder, with its environment and files.
SERVER = r"""
import atexit, importlib, json, os, pkgutil, signal, sys, traceback
import diaryadmin, diaryadmin.cli
for module in pkgutil.walk_packages(diaryadmin.__path__, "diaryadmin."):
    if ".migrations" not in module.name and not module.name.endswith("__main__"):
        importlib.import_module(module.name)
for name in ("alembic.script", "alembic.runtime.migration", "sqlalchemy.dialects.sqlite",
             "sqlalchemy.dialects.postgresql", "psycopg", "passlib.context", "argon2", "jinja2",
             "mako.template", "dotenv", "tabulate", "segno", "iuliia", "python_calamine",
             "openpyxl", "xlsxwriter", "defusedxml", "zxcvbn", "zoneinfo", "sqlite3"):
    try:
        importlib.import_module(name)
    except ImportError:  # an optional extra (psycopg without PostgreSQL)
        pass
protocol = os.fdopen(os.dup(1), "w")

def child(job):
    os.setsid()  # no terminal: a hidden prompt reads stdin
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for fd, path, mode in ((0, job["stdin"], os.O_RDONLY), (1, job["stdout"], flags),
                           (2, job["stderr"], flags)):
        os.dup2(os.open(path, mode, 0o644), fd)
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    signal.alarm(job["seconds"])
    code = 0
    try:
        diaryadmin.cli.main(job["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 99
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        child(job)
    _, status = os.waitpid(pid, 0)
    protocol.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
    protocol.flush()
"""


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


class Runner:
    """Runs diaryadmin command lines in forked children of one server process."""

    def __init__(self, base_env: dict[str, str], scratch: Path):
        self.base_env, self.scratch = base_env, scratch
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=base_env,
            text=True,
        )

    def run(self, args, cwd: Path, env=None, stdout: Path | None = None, stdin: str = ""):
        name = uuid.uuid4().hex[:8]
        out = stdout or self.scratch / f"{name}.out"
        err, inp = self.scratch / f"{name}.err", self.scratch / f"{name}.in"
        inp.write_text(stdin, encoding="utf-8")
        job = {
            "args": list(args),
            "cwd": str(cwd),
            "env": {**self.base_env, **(env or {})},
            "stdin": str(inp),
            "stdout": str(out),
            "stderr": str(err),
            "seconds": COMMAND_SECONDS,
        }
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, "the command server died"
        read = lambda p: p.read_text(encoding="utf-8", errors="replace")  # noqa: E731
        return Result(json.loads(answer)["code"], read(out), read(err))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


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


class Databases:
    """Fresh PostgreSQL databases (when DIARYADMIN_TEST_DATABASE_URL is set), dropped after."""

    def __init__(self):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.url = make_url(TEST_URL).set(drivername="postgresql+psycopg")
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def fresh(self, template: str | None = None) -> str:
        from sqlalchemy import text

        name = f"diaryadmin_readme_{uuid.uuid4().hex[:10]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        self.names.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="module")
def databases():
    if not TEST_URL:
        yield None
        return
    found = Databases()
    yield found
    found.drop()


def write_journal(path: Path, roster_csv: Path, class_name: str, year: int) -> None:
    """A long-form journal file of the sample roster's `class_name` for Q1 of `year`."""
    import csv

    from diaryadmin.io import write_xlsx
    from diaryadmin.samples.journal import (
        LONG_FORM_HEADER,
        generate_class_term,
        long_form_rows,
        quarters,
    )

    with roster_csv.open(encoding="cp1251", newline="") as stream:
        rows = list(csv.reader(stream, delimiter=";"))
    head = rows[0]
    pupils = [
        (r[head.index("ID")], r[head.index("ФИО ученика")])
        for r in rows[1:]
        if r[head.index("Класс")] == class_name
    ]
    _, start, end = quarters(year)[0]
    lessons, entries = generate_class_term(class_name, [p[0] for p in pupils], start, end)
    cells = {p[0]: p for p in pupils}
    body = list(long_form_rows(class_name, lessons, entries, cells))
    write_xlsx(path, [("Журнал", LONG_FORM_HEADER, body)], overwrite=True)


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
        for block in read_blocks(name)[0]:
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
        for block in read_blocks(name)[0]:
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
