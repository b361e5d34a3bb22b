"""Benchmark: issuing is bound by the password hash; expiry is one UPDATE per batch.

1. Issue 2,000 credentials in 60 classes with html slips, and in the same run measure the CPU
   time of one hash with the configured argon2 parameters. Target on N cores:
   wall ≤ 1.10 × count × cpu_per_hash / N (≥ 91 % of the hash-bound limit).
2. `credentials expire` over 1,000,000 credentials (10 % due), rows inserted directly in SQL
   with a dummy hash. Target: ≤ 10 s on SQLite.

Run: python benchmarks/bench_credentials.py [--guardianships 2000] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path

from diaryadmin import db
from diaryadmin.config import Settings
from diaryadmin.credentials import passwords
from diaryadmin.credentials.issue import issue_credentials
from diaryadmin.credentials.scope import select_guardianships
from diaryadmin.credentials.status import expire_credentials
from diaryadmin.letters import write_credentials_file
from diaryadmin.samples.credentials import insert_credential_rows, populate


def cpu_per_hash(settings: Settings, samples: int = 20) -> float:
    """CPU seconds of one hash in this process (all threads: argon2 lanes may use several)."""
    plain = passwords.new_passwords(samples)
    passwords.hash_password(plain[0], settings)  # load libpass and the argon2 backend
    start = time.process_time()
    for password in plain:
        passwords.hash_password(password, settings)
    return (time.process_time() - start) / samples


def bench_issue(folder: Path, count: int, classes: int, url: str | None) -> None:
    url = url or f"sqlite:///{folder / 'issue.sqlite3'}"
    settings = Settings(database_url=url, secret_key="bench-secret-key-0123456789")
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.make_sessionmaker(engine)
    with sessions.begin() as session:
        populate(session, guardianships=count, classes=classes)
    cores = passwords.workers_for(settings)
    per_hash = cpu_per_hash(settings)
    passwords.warm_pool(settings)
    out = folder / "slips.html"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with sessions() as session, session.begin():
        ids = select_guardianships(session, all_=True)
        result = issue_credentials(session, settings, ids, operator="bench")
        write_credentials_file(result.issued, out, settings)
    wall = time.perf_counter() - start
    passwords.shutdown_pool()  # reaps the workers, so their CPU time shows up below
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    issued = len(result.issued)
    bound = issued * per_hash / cores
    print(f"issue: {issued} credentials in {classes} classes, {out.stat().st_size} bytes of slips")
    print(
        f"  argon2id m={settings.argon2_memory_kib} KiB t={settings.argon2_time_cost} "
        f"p={settings.argon2_parallelism}: {per_hash * 1000:.1f} ms CPU per hash, {cores} workers"
    )
    print(
        f"  wall {wall:.2f} s; hash-bound limit {bound:.2f} s; target ≤ {1.10 * bound:.2f} s; "
        f"efficiency {bound / wall:.0%} ({'OK' if wall <= 1.10 * bound else 'MISSED'})"
    )
    print(
        f"  workers used {worker_cpu:.2f} s CPU = {worker_cpu / issued * 1000:.1f} ms per hash; "
        f"they got {worker_cpu / (wall * cores):.0%} of {cores} cores during the run "
        "(less means other load on the machine)"
    )
    engine.dispose()


def bench_expire(folder: Path, rows: int) -> None:
    url = f"sqlite:///{folder / 'expire.sqlite3'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.make_sessionmaker(engine)
    now = datetime(2026, 11, 1, 12, 0)
    start = time.perf_counter()
    with sessions.begin() as session:
        insert_credential_rows(session, rows, due_share=0.1, issued_at=now)
    print(f"expire: inserted {rows} credential rows in {time.perf_counter() - start:.1f} s")
    for run in ("first run", "second run (idempotent)"):
        start = time.perf_counter()
        with sessions.begin() as session:
            count = expire_credentials(session, as_of=now, operator="bench")
        wall = time.perf_counter() - start
        verdict = "OK" if wall <= 10 else "MISSED"
        print(f"  {run}: expired {count} in {wall:.2f} s (target ≤ 10 s: {verdict})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guardianships", type=int, default=2000)
    parser.add_argument("--classes", type=int, default=60)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="Issue into this database instead of SQLite.")
    parser.add_argument("--skip-issue", action="store_true")
    parser.add_argument("--skip-expire", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU core(s) visible")
    with tempfile.TemporaryDirectory(prefix="bench-credentials-") as folder:
        if not args.skip_issue:
            bench_issue(Path(folder), args.guardianships, args.classes, args.database_url)
        if not args.skip_expire:
            bench_expire(Path(folder), args.rows)


if __name__ == "__main__":
    main()
