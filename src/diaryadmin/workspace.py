"""Setting up a working folder: a private `.env` with a fresh key, and the database schema."""

from __future__ import annotations

import os
from pathlib import Path

from diaryadmin.config import new_env_file_text
from diaryadmin.errors import Refused
from diaryadmin.i18n import _


def write_env_file(path: Path, database_url: str | None = None, force: bool = False) -> Path:
    """Write a fresh `.env` at `path` (mode 0600) with a random secret key.

    Raises Refused when the file exists and `force` is false: replacing the key would make
    every stored document fingerprint unmatchable.
    """
    if path.exists() and not force:
        raise Refused(
            _(
                "{path} already exists; keep it (its secret key matches the stored fingerprints) "
                "or use --force to replace it."
            ).format(path=path)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(new_env_file_text(database_url))
    os.chmod(path, 0o600)
    return path
