"""The demo: a fresh SQLite database and `.env` in a folder, walked through the main job.

Each capability adds its step to STEPS, so the README's first command always shows the real
thing working end to end.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from diaryadmin import db
from diaryadmin.config import PREFIX, Settings
from diaryadmin.errors import Refused
from diaryadmin.i18n import _
from diaryadmin.workspace import write_env_file


@dataclass
class Demo:
    """What every demo step shares."""

    folder: Path
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    operator: str
    say: Callable[[str], None]
    files: dict[str, Path] = field(default_factory=dict)


def prepare_folder(folder: Path, force: bool) -> None:
    """Refuse a non-empty folder unless `force`, which empties it first."""
    if folder.exists() and not folder.is_dir():
        raise Refused(_("{folder} exists and is not a folder.").format(folder=folder))
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise Refused(
                _("{folder} is not empty; choose another --output or use --force.").format(
                    folder=folder
                )
            )
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def step_database(demo: Demo) -> None:
    before, after = db.upgrade(demo.engine, secret_key=demo.settings.secret_key)
    demo.say(
        _("Created the database {file} (schema {revision}).").format(
            file=demo.folder / "diaryadmin.sqlite3", revision=after
        )
    )


# Each capability's step lives beside its sample-data generator in diaryadmin.samples.
STEPS: list[str | Callable[[Demo], None]] = [
    step_database,
    "diaryadmin.samples.roster_files:demo_step",
    "diaryadmin.samples.credentials:demo_step",
    "diaryadmin.samples.application_files:demo_step",
    "diaryadmin.samples.journal:demo_step",
]


def _resolve(step: str | Callable[[Demo], None]) -> Callable[[Demo], None]:
    if callable(step):
        return step
    module_name, attribute = step.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def run_demo(
    folder: Path,
    force: bool = False,
    say: Callable[[str], None] = print,
    operator: str = "demo",
) -> Demo:
    """Create the demo in `folder` and run every step; returns what it made."""
    from dotenv import dotenv_values

    folder = folder.resolve()
    prepare_folder(folder, force)
    env_path = write_env_file(folder / ".env", "sqlite:///diaryadmin.sqlite3", force=True)
    say(_("Wrote {file} with a fresh secret key (mode 0600).").format(file=env_path))
    env = {k: v for k, v in dotenv_values(env_path).items() if v is not None}
    env.setdefault(PREFIX + "SCHOOL_NAME", "МБОУ «Средняя школа № 7»")
    settings = Settings.from_env(env, base_dir=folder)
    engine = db.make_engine(settings.database_url)
    demo = Demo(folder, settings, engine, db.make_sessionmaker(engine), operator, say)
    demo.files["env"] = env_path
    try:
        for step in STEPS:
            _resolve(step)(demo)
    finally:
        engine.dispose()
    return demo
