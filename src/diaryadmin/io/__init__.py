"""Reading and writing table files (xlsx, xls, ods, CSV) behind one small interface."""

from diaryadmin.io.files import atomic_output
from diaryadmin.io.headers import HeaderMap, find_header, match_alias, normalise_header
from diaryadmin.io.reader import (
    SUPPORTED_EXTENSIONS,
    Row,
    iter_rows,
    sheet_names,
)
from diaryadmin.io.table import Problems, Table, TableKind, read_tables
from diaryadmin.io.xlsx import safe_text, write_csv, write_xlsx

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
