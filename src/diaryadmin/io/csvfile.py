"""Reading CSV/TSV/TXT tables: encoding and delimiter detection, rows streamed one by one."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from diaryadmin.errors import InputError, Problem

DELIMITERS = (";", ",", "\t")  # in order of preference when the evidence is equal
_CHUNK = 1 << 20
_SAMPLE_CHARS = 64 * 1024
_SAMPLE_RECORDS = 20


def _refuse(path: Path, message: str) -> InputError:
    return InputError(f"{path}: {message}", [Problem(message, file=str(path))])


def detect_encoding(path: Path) -> str:
    """`utf-8-sig` or `utf-16` for a BOM, `utf-8` if every byte decodes strictly, else cp1251."""
    with path.open("rb") as stream:
        start = stream.read(4)
        if start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        stream.seek(0)
        # An incremental decoder copes with a character cut at a chunk boundary.
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while chunk := stream.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1251"
    return "utf-8"


def _records(sample: str) -> list[str]:
    """The first non-empty records of a sample, split at newlines outside quotes."""
    records, current, quoted = [], [], False
    for char in sample:
        if char == '"':
            quoted = not quoted
        if char in "\r\n" and not quoted:
            if "".join(current).strip():
                records.append("".join(current))
                if len(records) >= _SAMPLE_RECORDS:
                    break
            current = []
        else:
            current.append(char)
    else:
        if "".join(current).strip():
            records.append("".join(current))
    return records


def _count_outside_quotes(record: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in record:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def detect_delimiter(sample: str) -> str:
    """The delimiter (`;`, `,` or tab) that splits the first records most consistently.

    For each candidate, the most common non-zero count per record wins; the score is how many
    records have that count, then the count itself. Ties go to `;`, then `,`, then tab.
    """
    records = _records(sample)
    best, best_score = DELIMITERS[0], (0, 0)
    for delimiter in DELIMITERS:
        counts = [_count_outside_quotes(record, delimiter) for record in records]
        nonzero = Counter(count for count in counts if count)
        if not nonzero:
            continue
        mode, _ = nonzero.most_common(1)[0]
        score = (counts.count(mode), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def iter_csv_rows(
    path: Path, *, encoding: str | None = None, delimiter: str | None = None
) -> Iterator[tuple[int, tuple[str | None, ...]]]:
    """Yield (record number, values) for each non-empty record; empty cells are None.

    Record numbers are 1-based and count every record, empty ones too (a quoted value with
    line breaks is one record, as in a spreadsheet). Raises InputError if the file cannot be
    decoded with `encoding` (detected when None), is not valid CSV or holds only a BOM.
    """
    explicit = encoding is not None
    encoding = encoding or detect_encoding(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise _refuse(path, f"unknown encoding {encoding!r}") from None
    try:
        with path.open(encoding=encoding, newline="") as stream:
            if delimiter is None:
                delimiter = detect_delimiter(stream.read(_SAMPLE_CHARS))
                stream.seek(0)
            number = 0
            for number, record in enumerate(csv.reader(stream, delimiter=delimiter), 1):
                end = len(record)
                while end and record[end - 1] == "":
                    end -= 1
                if end:
                    yield number, tuple(value if value != "" else None for value in record[:end])
            if number == 0:
                raise _refuse(path, "is empty")
    except UnicodeDecodeError as error:
        how = "the given" if explicit else "the detected"
        raise _refuse(
            path, f"cannot be read as {encoding} ({how} encoding): {error.reason}"
        ) from None
    except csv.Error as error:
        raise _refuse(path, f"is not a readable CSV file ({error})") from None
