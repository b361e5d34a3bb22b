"""Reading back the logins and passwords a command wrote: html slips, CSV or xlsx."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from helpers.credentials import read_slips


def issued_pairs(path: Path) -> dict[str, str]:
    """login -> temporary password of a slips (.html), mail-merge (.csv) or .xlsx file."""
    if path.suffix == ".html":
        return {s["login"]: s["password"] for s in read_slips(path)}
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.reader(stream, delimiter=";"))
    else:
        rows = [list(r) for r in load_workbook(path).active.iter_rows(values_only=True)]
    header = [str(c).casefold() for c in rows[0]]
    login = next(i for i, h in enumerate(header) if "логин" in h or "login" in h)
    password = next(i for i, h in enumerate(header) if "пароль" in h or "password" in h)
    return {row[login]: row[password] for row in rows[1:]}
