"""The program's entry point: the `diaryadmin` script and `python -m diaryadmin` both call `run`.

Ctrl-C (SIGINT) and SIGTERM are covered from the first line of ours that runs:

- while the program loads (importing click, the commands), nothing has been done yet: one
  line, exit 130 or 143, at once;
- from `cli.main` on, the command's own handling rolls back what is not committed and says so;
- once the command has ended, a signal during the interpreter's shutdown is ignored, so it
  cannot turn the exit code the command chose into a death by signal.

An interrupted run leaves through `os._exit` after the exit handlers (the hashing pool's
shutdown) have run: CPython remembers a KeyboardInterrupt that passed through any `exec` or
`eval` of a string (SQLAlchemy's annotations, dataclasses) even when it was handled, and would
then kill itself with SIGINT at exit instead of returning 130.

A signal in the interpreter's own start-up, before this module runs, is Python's to report.
This module imports nothing heavy: the load it guards is `cli`'s, and worker processes run
`start_worker` before they import anything else.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_said_while_loading = "error: interrupted, nothing changed"


def _while_loading(signum: int, _frame) -> None:
    """Ctrl-C or SIGTERM while the program is still loading: nothing has been done yet."""
    sys.stderr.write(_said_while_loading + "\n")
    sys.stderr.flush()
    os._exit(128 + signum)  # 130, 143: an exception raised here could be swallowed


def _in_the_readers_language() -> None:
    """The load-time line in the language of the environment (DIARYADMIN_LANG or the locale;
    a .env is read later, by cli), made once before the slow import rather than in the
    handler, which could come while the catalogue's own module is half-imported."""
    global _said_while_loading
    from diaryadmin import i18n

    tr = i18n.translations(i18n.language_from_environment())
    _said_while_loading = tr.gettext("error: ") + tr.gettext("interrupted, nothing changed")


def _exit_at_once(code: int) -> None:
    """Leave with `code` after the program's exit handlers, without the interpreter's shutdown."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


PARENT_CHECK_SECONDS = 0.25  # how often a worker process looks whether its parent is there


def start_worker(parent: int | None = None) -> None:
    """The start of each of our worker processes (the hashing pool's, the journal export's),
    as their pool's initializer: Ctrl-C goes to the whole process group and is the main
    process's to handle (a worker finishes its job without a traceback of its own); SIGTERM
    takes its default action, not a forked main process's "roll back" handler; and a worker
    whose parent is gone (SIGKILL leaves it no chance to shut its pool down; a fork server
    dies with its main process) ends within a second instead of living on with passwords or
    a half-built file in its memory. `parent`: the main process's pid (default: this
    process's parent, right for `fork`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid() if parent is None else parent

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run() -> None:
    for signum in _SIGNALS:
        signal.signal(signum, _while_loading)
    _in_the_readers_language()
    from diaryadmin.cli import main  # the slow import the handlers above cover
    from diaryadmin.errors import EXIT_INTERRUPTED, EXIT_TERMINATED

    try:
        main()  # installs its own handlers first thing
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        _exit_at_once(code)
    sys.exit(code)
