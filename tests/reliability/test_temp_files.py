"""What a writer keeps on disk while it works: a SIGKILL mid-write must leave nothing outside the
output's folder (openpyxl's write-only sheets went to $TMPDIR, a mail-merge sheet of passwords
in clear), and what it leaves there is a hidden `.NAME.….tmp` the next run removes."""

from __future__ import annotations

import tempfile

from openpyxl import load_workbook

from diaryadmin.io.xlsx import write_xlsx


def test_xlsx_parts_are_written_next_to_the_output_not_in_tmpdir(tmp_path, monkeypatch):
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    out.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    seen: list[tuple[list[str], list[str]]] = []

    def rows():
        for n in range(50):
            if n == 25:  # mid-write: where would a kill leave the sheet written so far?
                seen.append(
                    (sorted(p.name for p in tmp.iterdir()), sorted(p.name for p in out.iterdir()))
                )
            yield [f"login{n}", f"pass-word-{n:04d}"]

    write_xlsx(out / "merge.xlsx", [("Пароли", ["Логин", "Пароль"], rows())])
    [(in_tmp, in_out)] = seen
    assert in_tmp == []
    assert in_out and all(n.startswith(".merge.xlsx.") and n.endswith(".tmp") for n in in_out)
    assert sorted(p.name for p in out.iterdir()) == ["merge.xlsx"]  # all removed after
    assert list(load_workbook(out / "merge.xlsx").active.values)[-1] == (
        "login49",
        "pass-word-0049",
    )
