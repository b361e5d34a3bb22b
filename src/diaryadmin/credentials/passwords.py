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
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from typing import Any

from diaryadmin import launch
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
    meanwhile. `start` submits the hashes and returns at once, so this process can do its own
    work (the slips' QR codes) while the pool hashes; `poll` collects what is done so far,
    `wait` the rest. `take` hands out the prepared pairs and hashes any shortfall on the spot
    (when the scope grew in between; `top_up` starts that shortfall early); prepared pairs
    nobody took are simply forgotten.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]] = ()) -> None:
        self._plain = [p for p, _ in pairs]
        self._hashes = [h for _, h in pairs]
        self._pending: list[Hashing] = []

    @classmethod
    def start(cls, count: int, settings: Settings) -> PasswordSupply:
        """`count` new passwords, their hashing under way."""
        supply = cls()
        supply.top_up(count, settings)
        return supply

    @classmethod
    def prepare(
        cls, count: int, settings: Settings, progress: Callable[[int], None] | None = None
    ) -> PasswordSupply:
        return cls.start(count, settings).wait(progress)

    def top_up(self, count: int, settings: Settings) -> None:
        """Start hashing new passwords until the supply will hold `count` (returns at once)."""
        extra = new_passwords(count - len(self._plain))
        if extra:
            self._plain += extra
            self._pending.append(start_hashing(extra, settings))

    def poll(self, progress: Callable[[int], None] | None = None) -> None:
        """Collect the hashes finished so far, without waiting."""
        for hashing in self._pending:
            hashing.poll(progress)

    def wait(self, progress: Callable[[int], None] | None = None) -> PasswordSupply:
        """Wait for every hash under way; returns the supply."""
        pending, self._pending = self._pending, []
        for hashing in pending:
            self._hashes += hashing.result(progress)
        return self

    def cancel(self) -> None:
        """Drop the hashes not yet started (the work in between failed)."""
        for hashing in self._pending:
            hashing.cancel()

    def take(
        self, count: int, settings: Settings, progress: Callable[[int], None] | None = None
    ) -> tuple[list[str], list[str]]:
        """`count` new passwords and their hashes, prepared ones first."""
        self.top_up(count, settings)
        self.wait(progress)
        plain, self._plain = self._plain[:count], self._plain[count:]
        hashes, self._hashes = self._hashes[:count], self._hashes[count:]
        return plain, hashes


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
        _pool = ProcessPoolExecutor(workers, mp_context=context, initializer=launch.start_worker)
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
    return start_hashing(passwords, settings).result(progress)


def _hash_chunk(params: HashParams, passwords: Sequence[str]) -> list[str]:
    context = _context(params)
    return [context.hash(password) for password in passwords]


def start_hashing(passwords: Sequence[str], settings: Settings) -> Hashing:
    """Submit the passwords to the pool (see `hash_many`) and return at once."""
    return Hashing(passwords, settings)


class Hashing:
    """Passwords being hashed on the pool while this process does other work.

    `poll` collects the chunks finished so far without waiting, `result` waits for the rest
    and returns every hash in order. Below the pool's threshold, or with one worker, nothing
    runs ahead: `result` hashes here. Used as a context manager, it cancels the chunks not
    yet started when the work in between fails.
    """

    def __init__(self, passwords: Sequence[str], settings: Settings) -> None:
        self._passwords = list(passwords)
        self._params = hash_params(settings)
        self._hashes: list[str] = []
        self._chunks: list[Future[list[str]]] = []
        workers = workers_for(settings)
        if workers <= 1 or len(self._passwords) < POOL_THRESHOLD:
            return
        # Small chunks keep every worker busy to the end and the progress bar moving.
        size = max(1, min(32, len(self._passwords) // (workers * 8)))
        try:
            pool = _executor(workers)
            for start in range(0, len(self._passwords), size):
                chunk = self._passwords[start : start + size]
                self._chunks.append(pool.submit(_hash_chunk, self._params, chunk))
        except BrokenProcessPool:
            self._broken()

    def __enter__(self) -> Hashing:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()

    def cancel(self) -> None:
        for chunk in self._chunks:
            chunk.cancel()
        self._chunks = []

    def poll(self, progress: Callable[[int], None] | None = None) -> None:
        while self._chunks and self._chunks[0].done():
            self._collect(progress)

    def result(self, progress: Callable[[int], None] | None = None) -> list[str]:
        while self._chunks:
            self._collect(progress)
        context = _context(self._params)
        for password in self._passwords[len(self._hashes) :]:
            self._hashes.append(context.hash(password))
            if progress:
                progress(1)
        return list(self._hashes)

    def _collect(self, progress: Callable[[int], None] | None) -> None:
        try:
            done = self._chunks[0].result()
        except BrokenProcessPool:
            self._broken()
            return
        self._chunks.pop(0)
        self._hashes += done
        if progress:
            progress(len(done))

    def _broken(self) -> None:
        # A worker died (killed, out of memory, or a main script re-run by a child): the
        # rest is hashed here, in this process, rather than the batch lost.
        log.warning("the hashing pool broke; hashing the rest in this process")
        self.cancel()
        shutdown_pool()
