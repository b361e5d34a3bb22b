"""Creating output files safely: atomically, with a given mode, never clobbering by accident."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from diaryadmin.errors import Refused, quoted
from diaryadmin.i18n import _


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str], mode: int = 0o600, overwrite: bool = False
) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes `path` only when the block ends without an error.

    The data goes to a temporary file in the same folder, created with permissions `mode`
    (owner only by default: what the toolkit writes is mostly personal data), and is then
    renamed into place, so nobody ever sees a half-written file. Raises Refused
    if `path` exists and `overwrite` is false, or its folder does not exist.
    """
    exists = _("{path}: already exists; use --force to overwrite it")
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise Refused(
            _("{path}: the folder {folder} does not exist").format(
                path=target, folder=quoted(folder)
            )
        )
    if target.is_dir():
        raise Refused(_("{path}: is a directory").format(path=target))
    if target.exists() and not overwrite:
        raise Refused(exists.format(path=target))
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if overwrite:
            os.replace(temp_name, target)
        else:
            try:
                os.link(temp_name, target)  # fails if someone created it meanwhile
            except FileExistsError:
                raise Refused(exists.format(path=target)) from None
            except OSError:  # a file system without hard links
                if target.exists():
                    raise Refused(exists.format(path=target)) from None
                os.replace(temp_name, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
