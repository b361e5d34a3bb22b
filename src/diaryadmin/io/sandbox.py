"""Running a parser where its worst bug cannot hurt the machine: a forked, capped worker.

The inspection in `io.inspect` refuses every hostile file it knows of; this is the defence
against the ones it does not. `sandboxed(task, ...)` runs `task()` in a forked child whose
address space and CPU time are capped (`resource.setrlimit`), streams the items it yields back
through a pipe in batches, and turns whatever goes wrong in the child (an exception, a Rust
panic, a failed allocation, an abort, the CPU limit) into one InputError naming the file. The
child's stderr goes to a temporary file, so no panic message or backtrace reaches the user.

Where there is no fork (Windows), the task runs in this process with its panics caught.
"""

from __future__ import annotations

import faulthandler
import io
import os
import pickle
import re
import signal
import struct
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from diaryadmin.config import PREFIX, ReadLimits
from diaryadmin.errors import InputError, Problem
from diaryadmin.i18n import _
from diaryadmin.io.limits import grouped, refuse

BATCH = 2000  # items per message: large enough to amortise pickling, small enough to stream
_HEADER = struct.Struct("<cI")
_ITEMS, _ERROR, _DONE = b"I", b"E", b"D"
_MB = 1 << 20


class _Unpickler(pickle.Unpickler):
    """Cells are str, int, float, bool, None and datetime values: nothing else is loaded, so
    even a child subverted by a parser bug cannot make this process run code."""

    _ALLOWED = {("datetime", n) for n in ("date", "datetime", "time", "timedelta", "timezone")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")


def _loads(payload: bytes, name: str) -> Any:
    try:
        return _Unpickler(io.BytesIO(payload)).load()
    except Exception:  # anything but plain cell values means the worker went wrong
        raise refuse(name, _crash_message()) from None


def memory_message(limits: ReadLimits) -> str:
    return _(
        "needs more memory to read than the limit of {limit} MB "
        "(a damaged or hostile file?); if the file is genuine, raise {setting}"
    ).format(limit=grouped(limits.reader_memory_mb), setting=f"{PREFIX}READER_MEMORY_MB")


def _time_message(limits: ReadLimits) -> str:
    return _(
        "takes longer to read than the limit of {limit} CPU seconds "
        "(a damaged or hostile file?); if the file is genuine, raise {setting}"
    ).format(limit=grouped(limits.reader_seconds), setting=f"{PREFIX}READER_SECONDS")


# A parser's message may quote its own data structures (calamine: "found
# 'Text(BytesText { content: Borrowed(..) })'"): text for developers, cut from what users read.
_DEBUG_QUOTE = re.compile(r"'[^']*[({][^']*'|\b[A-Z]\w*(?:\(| \{).*")


def parser_reason(error: BaseException) -> str:
    """A parser's error as a short clause for users: one line, its debugging forms cut."""
    reason = _DEBUG_QUOTE.sub("…", " ".join(str(error).split()))
    return reason[:200] if reason.strip(" …") else _("damaged, or of a kind it does not know")


def _crash_message(error: BaseException | None = None) -> str:
    """What to say when the parser failed. A panic's own text is for developers, not users."""
    if error is not None and type(error).__name__ != "PanicException":
        return _("is not a readable spreadsheet ({reason})").format(reason=parser_reason(error))
    return _("is not a readable spreadsheet: the reader failed on it (a damaged or hostile file)")


def _error_payload(error: BaseException, limits: ReadLimits) -> tuple:
    if isinstance(error, InputError):
        problems = [
            (p.message, p.file, p.sheet, p.row, p.column, None if p.value is None else str(p.value))
            for p in error.problems
        ]
        return ("input", str(error), problems)
    if isinstance(error, MemoryError):
        return ("message", memory_message(limits))
    return ("message", _crash_message(error))


def _raise_payload(payload: tuple, name: str) -> None:
    if payload[0] == "input":
        raise InputError(payload[1], [Problem(*p) for p in payload[2]])
    raise refuse(name, payload[1])


def sandboxed(task: Callable[[], Iterable[Any]], *, name: str, limits: ReadLimits) -> Iterator[Any]:
    """Yield what `task()` yields, computed in a capped child process.

    Items must be tuples of cell values. Raises InputError naming `name` for anything the
    task raises and for a child that dies, runs out of memory or CPU time.
    """
    if not hasattr(os, "fork"):
        yield from _in_process(task, name, limits)
        return
    import resource

    with tempfile.TemporaryFile() as stderr:
        yield from _run_forked(task, name, limits, stderr, resource)


def _run_forked(task, name: str, limits: ReadLimits, stderr, resource) -> Iterator[Any]:
    read_end, write_end = os.pipe()
    budget = _address_space() + limits.reader_memory_mb * _MB
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(task, write_end, stderr.fileno(), budget, limits, resource)
    os.close(write_end)
    finished = False
    try:
        with os.fdopen(read_end, "rb", buffering=1 << 16) as pipe:
            while True:
                header = pipe.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    break
                kind, length = _HEADER.unpack(header)
                if length > limits.reader_memory_mb * _MB:  # a worker gone wrong, not a batch
                    raise refuse(name, _crash_message())
                payload = pipe.read(length)
                if len(payload) < length:
                    break
                if kind == _ITEMS:
                    yield from _loads(payload, name)
                elif kind == _ERROR:
                    finished = True
                    _raise_payload(_loads(payload, name), name)
                else:
                    finished = True
                    return
        _pid, status = os.waitpid(pid, 0)
        pid = 0
        raise refuse(name, _death_message(status, stderr, limits))
    finally:
        if pid:
            if not finished:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _child(task, write_end, stderr_fd, budget, limits, resource) -> None:
    code = 0
    try:
        os.dup2(stderr_fd, 2)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)
        os.dup2(devnull, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child with the parent
        faulthandler.disable()  # a crash dump would go to the parent's stderr, not ours
        _cap(resource, resource.RLIMIT_AS, budget)
        _cap(resource, resource.RLIMIT_CPU, limits.reader_seconds)
        with os.fdopen(write_end, "wb", buffering=1 << 16) as pipe:

            def send(kind: bytes, data: Any) -> None:
                payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.write(_HEADER.pack(kind, len(payload)))
                pipe.write(payload)

            try:
                batch = []
                for item in task():
                    batch.append(item)
                    if len(batch) >= BATCH:
                        send(_ITEMS, batch)
                        batch = []
                if batch:
                    send(_ITEMS, batch)
                send(_DONE, None)
            except BaseException as error:  # a Rust panic is a BaseException
                batch = []
                send(_ERROR, _error_payload(error, limits))
    except BaseException:  # the parent is gone, or even the error could not be sent
        code = 1
    finally:
        os._exit(code)


def _cap(resource, which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if soft == resource.RLIM_INFINITY or value < soft:
        resource.setrlimit(which, (value, hard))


def _address_space() -> int:
    """This process's virtual size: the child starts as its copy, then may grow by the budget."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _death_message(status: int, stderr, limits: ReadLimits) -> str:
    stderr.seek(0, os.SEEK_END)
    stderr.seek(max(0, stderr.tell() - 8192))
    said = stderr.read().decode("utf-8", "replace")
    signalled = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL)
    if signalled and "memory" not in said:
        return _time_message(limits)
    if "memory allocation" in said or "MemoryError" in said or "out of memory" in said:
        return memory_message(limits)
    return _crash_message()


def _in_process(task: Callable[[], Iterable[Any]], name: str, limits: ReadLimits) -> Iterator:
    try:
        yield from task()
    except InputError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as error:  # a Rust panic is a BaseException
        _raise_payload(_error_payload(error, limits), name)
