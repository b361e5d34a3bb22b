"""Temporary passwords and password hashing.

Temporary passwords are drawn with `secrets` from an alphabet without look-alike characters and
grouped for reading aloud. Hashes are argon2id PHC strings (`$argon2id$v=19$...`) made by
libpass's CryptContext; bcrypt hashes from older systems still verify and are marked deprecated,
so a successful login replaces them. Bulk hashing runs in a warm process pool, one worker per core.
"""

from __future__ import annotations

import atexit
import logging
import math
import multiprocessing
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from typing import Any

from diaryadmin.config import Settings

log = logging.getLogger(__name__)

# No 0 O o 1 l I i; lower case only, so Caps Lock and case are the parent's only case trap.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUP = 4
LENGTH = 12  # 12 × log2(31) ≈ 59.4 bits
MIN_ENTROPY_BITS = 50

# Below this many passwords a pool costs more to feed than it saves.
POOL_THRESHOLD = 4


def entropy_bits(length: int = LENGTH, alphabet: str = ALPHABET) -> float:
    return length * math.log2(len(alphabet))


def new_password(length: int = LENGTH) -> str:
    """A temporary password such as `k7mx-p4rt-q9wz`: the hyphens are part of it."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return "-".join(chars[i : i + GROUP] for i in range(0, length, GROUP))


def new_passwords(count: int) -> list[str]:
    return [new_password() for _ in range(count)]


class PasswordSupply:
    """Temporary passwords hashed ahead of time, outside any database transaction.

    Bulk issuing is bound by the hash (about 40 s for 2,000 passwords on two cores); hashing
    before the write transaction opens keeps SQLite's write lock free for the portal's logins
    meanwhile. `take` hands out the prepared pairs and hashes any shortfall on the spot (when
    the scope grew in between); prepared pairs nobody took are simply forgotten.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]] = ()) -> None:
        self._pairs = list(pairs)

    @classmethod
    def prepare(
        cls, count: int, settings: Settings, progress: Callable[[int], None] | None = None
    ) -> PasswordSupply:
        plain = new_passwords(count)
        return cls(list(zip(plain, hash_many(plain, settings, progress), strict=True)))

    def take(
        self, count: int, settings: Settings, progress: Callable[[int], None] | None = None
    ) -> tuple[list[str], list[str]]:
        """`count` new passwords and their hashes, prepared ones first."""
        ready, self._pairs = self._pairs[:count], self._pairs[count:]
        extra = new_passwords(count - len(ready))
        hashes = [h for _, h in ready]
        if extra:
            hashes += hash_many(extra, settings, progress)
        return [p for p, _ in ready] + extra, hashes


HashParams = tuple[int, int, int]  # (time_cost, memory_kib, parallelism)


def hash_params(settings: Settings) -> HashParams:
    return (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


@lru_cache(maxsize=8)
def _context(params: HashParams) -> Any:
    from passlib.context import CryptContext

    time_cost, memory_kib, parallelism = params
    return CryptContext(
        schemes=["argon2", "bcrypt"],
        deprecated=["bcrypt"],
        argon2__type="ID",
        argon2__rounds=time_cost,
        argon2__memory_cost=memory_kib,
        argon2__parallelism=parallelism,
    )


def crypt_context(settings: Settings) -> Any:
    """The CryptContext for `settings`: argon2id with its parameters, bcrypt deprecated."""
    return _context(hash_params(settings))


def hash_password(password: str, settings: Settings) -> str:
    return crypt_context(settings).hash(password)


def verify_password(password: str, stored: str, settings: Settings) -> tuple[bool, str | None]:
    """(matches, replacement hash or None): a replacement when the stored hash is deprecated
    (bcrypt) or made with other parameters. Comparison is constant-time inside libpass; a
    malformed or unknown hash never matches."""
    return _guarded(lambda: crypt_context(settings).verify_and_update(password, stored))


def matches(password: str, stored: str, settings: Settings) -> bool:
    """Whether `password` matches the stored hash (never raises for a bad hash)."""
    return _guarded(lambda: (crypt_context(settings).verify(password, stored), None))[0]


def _guarded(check: Callable[[], tuple[bool, str | None]]) -> tuple[bool, str | None]:
    from passlib.exc import MissingBackendError

    try:
        ok, replacement = check()
        return bool(ok), replacement
    except (ValueError, TypeError):
        return False, None
    except MissingBackendError as exc:
        log.error("cannot verify an old hash: %s (install the 'bcrypt' package)", exc)
        return False, None


@lru_cache(maxsize=8)
def dummy_hash(params: HashParams) -> str:
    """A hash of a random password, so an unknown login costs as much as a wrong password."""
    return _context(params).hash(secrets.token_urlsafe(16))


# --- the process pool --------------------------------------------------------------------------


def _hash_one(job: tuple[HashParams, str]) -> str:
    params, password = job
    return _context(params).hash(password)


_pool: ProcessPoolExecutor | None = None
_pool_workers = 0
_WATCH_SECONDS = 0.5


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(_WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def _start_worker() -> None:
    """In each hashing worker: Ctrl-C is the main process's to handle (no tracebacks from
    workers), and a worker whose parent died (SIGKILL leaves the main process no chance to
    shut the pool down; a fork server dies with its main process) exits within a second
    instead of living on with passwords in its memory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the main process's "roll back" handler
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def workers_for(settings: Settings) -> int:
    return settings.hash_workers or os.cpu_count() or 1


def _executor(workers: int) -> ProcessPoolExecutor:
    """The warm pool, made once per process.

    `fork` when this process has a single thread (fast, and no re-import of the main script);
    `forkserver` otherwise, since forking a threaded process can copy a held lock.
    """
    global _pool, _pool_workers
    if _pool is None or _pool_workers != workers:
        if _pool is not None:
            _pool.shutdown(wait=True)
        if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["diaryadmin.credentials.passwords", "passlib.context"])
        _pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
        _pool_workers = workers
    return _pool


def warm_pool(settings: Settings) -> None:
    """Start the workers and load libpass in each, before the first timed hash."""
    workers = workers_for(settings)
    if workers > 1:
        pool = _executor(workers)
        list(pool.map(_hash_one, [((1, 8, 1), "warm")] * workers))


@atexit.register
def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def hash_many(
    passwords: Sequence[str],
    settings: Settings,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Hash every password, in order, on all cores (`settings.hash_workers`, 0 = one per core).

    The passwords travel to the workers over a pipe of this process's own children only.
    """
    params = hash_params(settings)
    workers = workers_for(settings)
    if workers <= 1 or len(passwords) < POOL_THRESHOLD:
        hashes = []
        for password in passwords:
            hashes.append(_context(params).hash(password))
            if progress:
                progress(1)
        return hashes
    # Small chunks keep every worker busy to the end and the progress bar moving.
    chunksize = max(1, min(32, len(passwords) // (workers * 8)))
    jobs = [(params, password) for password in passwords]
    hashes: list[str] = []
    try:
        for value in _executor(workers).map(_hash_one, jobs, chunksize=chunksize):
            hashes.append(value)
            if progress:
                progress(1)
    except BrokenProcessPool:
        # A worker died (killed, out of memory, or a main script re-run by a child):
        # finish here, in this process, rather than lose the batch.
        log.warning("the hashing pool broke; hashing the rest in this process")
        shutdown_pool()
        for password in passwords[len(hashes) :]:
            hashes.append(_context(params).hash(password))
            if progress:
                progress(1)
    return hashes
