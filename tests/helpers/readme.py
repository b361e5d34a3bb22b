"""The READMEs' command lines (tests/test_readme.py): read from their blocks, checked by the
command line that would run them, and the files the walkthroughs name."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import click

from diaryadmin.cli import cli
from diaryadmin.config import Settings
from diaryadmin.context import AppContext

ROOT = Path(__file__).resolve().parents[2]
EXPECT = re.compile(r"\((?:exit|код) (\d+)\)")
FENCE = re.compile(r"^```([\w-]*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


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


def read_blocks(name: str, language: str) -> tuple[list[Block], list[Command]]:
    """The README's `sh` and `crontab` blocks, and its indented reference examples."""
    text = (ROOT / name).read_text(encoding="utf-8")
    blocks: list[Block] = []
    for fence in FENCE.finditer(text):
        kind, body = fence.group(1), fence.group(2)
        first = text.count("\n", 0, fence.start(2)) + 1
        if kind not in ("sh", "crontab"):
            continue
        block = Block(f"{name}:{first}", language, crontab=kind == "crontab")
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
