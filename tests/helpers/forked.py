"""Command lines run as separate processes forked from one server that has imported
diaryadmin once (interpreter start-up would cost more than most commands), and fresh
PostgreSQL databases for them."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

COMMAND_SECONDS = 120


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
    # The program's exit handlers (the hash pool's shutdown), then out at once: a full
    # interpreter shutdown of the warm server's heap costs seconds a command.
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


class Databases:
    """Fresh PostgreSQL databases (when DIARYADMIN_TEST_DATABASE_URL is set), dropped after."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.url = make_url(url).set(drivername="postgresql+psycopg")
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
