"""Reading and writing table files (xlsx, xls, ods, CSV) behind one small interface.

The names below load with their module on first use (PEP 562), so importing one light
submodule such as `diaryadmin.io.xlsx` does not load every reader.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "atomic_output": "files",
    "HeaderMap": "headers",
    "find_header": "headers",
    "match_alias": "headers",
    "normalise_header": "headers",
    "SUPPORTED_EXTENSIONS": "reader",
    "Row": "reader",
    "iter_rows": "reader",
    "sheet_names": "reader",
    "Problems": "table",
    "Table": "table",
    "TableKind": "table",
    "read_tables": "table",
    "safe_text": "xlsx",
    "write_csv": "xlsx",
    "write_xlsx": "xlsx",
}

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "HeaderMap",
    "Problems",
    "Row",
    "Table",
    "TableKind",
    "atomic_output",
    "find_header",
    "iter_rows",
    "match_alias",
    "normalise_header",
    "read_tables",
    "safe_text",
    "sheet_names",
    "write_csv",
    "write_xlsx",
]

if TYPE_CHECKING:
    from diaryadmin.io.files import atomic_output
    from diaryadmin.io.headers import HeaderMap, find_header, match_alias, normalise_header
    from diaryadmin.io.reader import SUPPORTED_EXTENSIONS, Row, iter_rows, sheet_names
    from diaryadmin.io.table import Problems, Table, TableKind, read_tables
    from diaryadmin.io.xlsx import safe_text, write_csv, write_xlsx


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
