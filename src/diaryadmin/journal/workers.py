"""How an export's worker process starts: in a module of its own that imports nothing heavy,
so that it runs before the worker imports SQLAlchemy, the models and xlsxwriter (seconds on a
busy machine) for its first class."""

from __future__ import annotations

import os
import signal
import threading
import time

PARENT_CHECK_SECONDS = 0.25  # how often a worker looks whether its parent is still there


def start(parent: int) -> None:
    """Ctrl-C goes to the whole process group: the parent handles it (and stops the pool), a
    worker just finishes its class without a traceback of its own. A worker whose parent
    `parent` is gone (killed: nobody will commit or publish its file) ends within a second,
    so nothing of the export outlives it; the next export removes what it was writing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
