"""The benchmark harness: `python -m benchmarks [--quick] [--only NAME] [--json FILE]`.

Generates its own deterministic data (diaryadmin.samples), runs every case on SQLite (and on
PostgreSQL when DIARYADMIN_TEST_DATABASE_URL is set), each step in a fresh process, and prints
one table: case, size, wall, CPU, peak memory of the process tree, the reference measured in
the same run, the ratio, the target and whether it was met. Targets are reported, never
enforced: the exit code is 0 unless a case could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import applications, credentials, journal, roster, startup
from benchmarks.harness import StepFailed
from benchmarks.suite import COLUMNS, Row, Run, markdown_table, table_rows

# name -> (case, whether it runs once per database backend)
CASES = {
    "issue": (credentials.issue, True),
    "import-xlsx": (roster.import_xlsx, True),
    "import-csv": (roster.import_csv, True),
    "reimport": (roster.reimport, True),
    "verify": (applications.verify, True),
    "expire": (credentials.expire_case, True),
    "export": (journal.export, True),
    "district": (roster.district, False),
    "startup": (startup.startup, False),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="Small sizes (under two minutes).")
    parser.add_argument("--only", action="append", choices=list(CASES), metavar="NAME",
                        help=f"Run only this case (repeat): {', '.join(CASES)}.")  # fmt: skip
    parser.add_argument("--json", type=Path, metavar="FILE", help="Write the rows as JSON too.")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="Keep data and databases here.")
    parser.add_argument("--markdown", action="store_true", help="Print the table as Markdown.")
    return parser.parse_args(argv)


def print_table(rows: list[Row], stream=sys.stdout) -> None:
    cells = [COLUMNS, *table_rows(rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    for row in cells:
        print(
            "  ".join(
                value.ljust(width) for value, width in zip(row, widths, strict=True)
            ).rstrip(),
            file=stream,
        )
    for r in rows:
        for note in r.notes:
            print(f"  {r.case} ({r.backend}): {note}", file=stream)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run(quick=args.quick, folder=args.keep)
    names = args.only or list(CASES)
    rows: list[Row] = []
    failed = False
    started = time.perf_counter()
    try:
        for name in CASES:
            if name not in names:
                continue
            case, per_backend = CASES[name]
            for backend in run.backends if per_backend else ["—"]:
                print(f"[{time.perf_counter() - started:6.0f} s] {name} ({backend}) …",
                      file=sys.stderr, flush=True)  # fmt: skip
                try:
                    rows.append(case(run, backend))
                except (StepFailed, Exception) as exc:  # one broken case must not hide the rest
                    failed = True
                    traceback.print_exc(file=sys.stderr)
                    rows.append(Row(name, backend, "", verdict="ERROR",
                                    notes=[str(exc).splitlines()[0]]))  # fmt: skip
    finally:
        run.close()
    total = time.perf_counter() - started
    print(f"diaryadmin benchmarks{' --quick' if args.quick else ''}: {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {total:.0f} s in all")  # fmt: skip
    if args.markdown:
        print(markdown_table(rows))
    else:
        print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({
            "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": args.quick, "cores": os.cpu_count(), "seconds": round(total, 1),
            "rows": [r.to_dict() for r in rows],
        }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
