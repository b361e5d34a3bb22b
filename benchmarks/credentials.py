"""Credential cases: issue (against a bare argon2 process pool) and expire (a million rows)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from benchmarks.suite import SECRET, Row, Run, judge, opened

EXPIRE_AS_OF = datetime(2026, 11, 1, 12, 0)


def populate(clock, url: str, guardianships: int, classes: int) -> dict:
    """A school of `guardianships` guardianships in `classes` classes (samples.credentials)."""
    from diaryadmin.samples.credentials import populate as populate_school

    with opened(url) as (_, sessions), sessions.begin() as session:
        count = populate_school(session, guardianships=guardianships, classes=classes)
    return {"guardianships": count}


def issue_all(clock, url: str, out: str | None = None, count: int | None = None) -> dict:
    """`credentials issue --all --out slips.html`: select, hash on every core (drawing the
    slips' QR codes meanwhile), write, slips (the first `count` guardianships in slip order
    only, and no slips without `out`)."""
    from diaryadmin.credentials import passwords
    from diaryadmin.credentials.issue import issue_credentials
    from diaryadmin.credentials.scope import select_guardianships
    from diaryadmin.letters import write_credentials_file

    with opened(url) as (settings, sessions), clock, sessions.begin() as session:
        ids = select_guardianships(session, all_=True)[:count]
        qr_codes = {} if out else None
        result = issue_credentials(session, settings, ids, operator="bench", qr_codes=qr_codes)
        if out:
            write_credentials_file(result.issued, Path(out), settings)
        passwords.shutdown_pool()
    return {"issued": len(result.issued), "workers": passwords.workers_for(settings)}


def _bare_hash(job: tuple[int, int, int, str]) -> str:
    from argon2 import Type
    from argon2.low_level import hash_secret

    time_cost, memory_kib, parallelism, password = job
    salt = password.encode()[:16].ljust(16, b"s")
    return hash_secret(password.encode(), salt, time_cost, memory_kib, parallelism, 32, Type.ID)


def bare_pool(clock, count: int) -> dict:
    """The reference of issue: a process pool (one per core) of argon2-cffi making `count`
    hashes with the parameters the settings default to; pool start-up included, as in issue."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from diaryadmin.config import Settings
    from diaryadmin.credentials import passwords

    settings = Settings(secret_key=SECRET)
    workers = passwords.workers_for(settings)
    params = (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    plain = passwords.new_passwords(count)
    jobs = [(*params, p) for p in plain]
    chunksize = max(1, min(32, count // (workers * 8)))
    with (
        clock,
        ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool,
    ):
        hashes = list(pool.map(_bare_hash, jobs, chunksize=chunksize))
    return {"hashes": len(hashes), "workers": workers}


def insert_rows(clock, url: str, rows: int) -> dict:
    """`rows` temporary credentials straight in SQL, 10 % of them due (samples.credentials)."""
    from diaryadmin.samples.credentials import insert_credential_rows

    with opened(url) as (_, sessions), sessions.begin() as session:
        insert_credential_rows(session, rows, due_share=0.1, issued_at=EXPIRE_AS_OF)
    return {"rows": rows}


def expire(clock, url: str) -> dict:
    """`credentials expire`: one run, as cron starts it."""
    from diaryadmin.credentials.lifecycle import expire_credentials

    with opened(url) as (_, sessions), clock, sessions.begin() as session:
        count = expire_credentials(session, as_of=EXPIRE_AS_OF, operator="bench")
    return {"expired": count}


# --- cases --------------------------------------------------------------------------------------


def issue(run: Run, backend: str) -> Row:
    count = run.size(2_000, 200)
    classes = run.size(60, 6)
    url = run.database(backend, f"issue-{count}")
    run.step("credentials:populate", url=url, guardianships=count, classes=classes)
    out = run.folder / f"slips-{backend}-{count}.html"
    out.unlink(missing_ok=True)
    reference = run.step("credentials:bare_pool", count=count)
    measured = run.step("credentials:issue_all", url=url, out=str(out))
    ratio = measured.wall / reference.wall
    workers = measured.facts["workers"]
    return Row(
        "issue", backend, f"{count:,} credentials, {classes} classes", measured.wall,
        measured.cpu, measured.peak_mb, f"argon2 pool ×{workers}", reference.wall, ratio,
        "≤ 1.05×", judge(("ratio", ratio <= 1.05), ("issued", measured.facts["issued"] == count)),
        [f"CPU {measured.cpu:.1f} s vs {reference.cpu:.1f} s for the bare hashes "
         f"({measured.cpu - reference.cpu:+.1f} s beyond them)"],
        ref_cpu=reference.cpu,
    )  # fmt: skip


def _expire_once(run: Run, backend: str, rows: int):
    url = run.database(backend, f"expire-{rows}")
    run.step("credentials:insert_rows", url=url, rows=rows)
    first = run.step("credentials:expire", url=url)
    again = run.step("credentials:expire", url=url)
    return first, again


def expire_case(run: Run, backend: str) -> Row:
    rows = run.size(1_000_000, 50_000)
    small_first, _ = _expire_once(run, backend, rows // 10)
    first, again = _expire_once(run, backend, rows)
    growth = first.peak_mb / small_first.peak_mb
    due = rows // 10
    return Row(
        "expire", backend, f"{rows:,} credentials, 10 % due", first.wall, first.cpu,
        first.peak_mb, "—", None, None, "≤ 10 s, memory flat",
        judge(("time", first.wall <= 10), ("flat", growth <= 1.25),
              ("expired", first.facts["expired"] == due),
              ("idempotent", again.facts["expired"] == 0)),
        [f"peak {small_first.peak_mb:.0f} MB at {rows // 10:,}, {first.peak_mb:.0f} MB at "
         f"{rows:,} ({growth:.2f}×); a second run expired {again.facts['expired']} in "
         f"{again.wall:.2f} s"],
    )  # fmt: skip
