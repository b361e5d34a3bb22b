"""A signal during the run's clean-up (the engine's connections closing) waits for it to end:
SQLAlchemy's pool would catch it mid-close and log it with a traceback (seen in a SIGTERM
trial of `credentials issue` that came just after the slips were written)."""

from __future__ import annotations

import signal

import pytest

from diaryadmin.config import Settings
from diaryadmin.context import AppContext, signals_held
from diaryadmin.errors import Terminated


def test_a_signal_inside_is_raised_once_the_block_is_done():
    # Python's own Ctrl-C handler, whatever this test run inherited (a shell's background
    # job starts with SIGINT ignored).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        done = []
        with pytest.raises(KeyboardInterrupt), signals_held():
            signal.raise_signal(signal.SIGINT)
            done.append("the rest of the block ran")
        assert done == ["the rest of the block ran"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_closing_the_engine_is_not_cut_by_sigterm(monkeypatch, database_url):
    from diaryadmin import cli

    previous = signal.signal(signal.SIGTERM, cli._terminate)  # the program's handler
    try:
        app = AppContext(settings=Settings(database_url=database_url), operator="test")
        engine = app.engine
        closed = []
        real = engine.dispose

        def dispose():
            signal.raise_signal(signal.SIGTERM)
            real()
            closed.append(True)

        monkeypatch.setattr(engine, "dispose", dispose)
        with pytest.raises(Terminated):
            app.close()
        assert closed == [True]
    finally:
        signal.signal(signal.SIGTERM, previous)
