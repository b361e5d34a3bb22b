"""Reading CSV/TSV/TXT tables: encoding and delimiter detection, rows streamed one by one."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from diaryadmin.errors import InputError, Problem
from diaryadmin.io.encoding import EncodingDoubt
from diaryadmin.io.encoding import detect_encoding as encoding_of

DELIMITERS = (";", ",", "\t")  # in order of preference when the evidence is equal
_CHUNK = 1 << 20
_SAMPLE_CHARS = 64 * 1024
_SAMPLE_RECORDS = 20
_LONGEST_LINE = 1 << 20  # csv refuses a field over 128 KB anyway; this bounds the line read


def _refuse(path: Path, message: str) -> InputError:
    return InputError(f"{path}: {message}", [Problem(message, file=str(path))])


def detect_encoding(path: Path) -> str:
    """The file's encoding (see io.encoding); InputError naming the candidates when doubtful."""
    try:
        return encoding_of(path)
    except EncodingDoubt as doubt:
        candidates = "; ".join(f"as {e} it reads {w!r}" for e, w in doubt.candidates)
        options = " or ".join(f"--encoding {e}" for e, _ in doubt.candidates)
        raise _refuse(
            path, f"its encoding is unclear ({candidates}); say which with {options}"
        ) from None


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
            lines = _bounded_lines(stream, path)
            for number, record in enumerate(csv.reader(lines, delimiter=delimiter), 1):
                end = len(record)
                while end and record[end - 1] == "":
                    end -= 1
                if end:
                    values = tuple(value if value != "" else None for value in record[:end])
                    if "\x00" in "".join(record):
                        raise _refuse(path, f"row {number} holds a NUL byte: not a text table")
                    yield number, values
            if number == 0:
                raise _refuse(path, "is empty")
    except UnicodeDecodeError as error:
        how = "the given" if explicit else "the detected"
        raise _refuse(
            path, f"cannot be read as {encoding} ({how} encoding): {error.reason}"
        ) from None
    except csv.Error as error:
        raise _refuse(path, f"is not a readable CSV file ({error})") from None


def _bounded_lines(stream, path: Path) -> Iterator[str]:
    """The stream's lines, refusing one so long that reading it whole could exhaust memory."""
    while line := stream.readline(_LONGEST_LINE):
        if len(line) == _LONGEST_LINE and not line.endswith(("\n", "\r")):
            raise _refuse(path, "has a line over a million characters long: not a text table")
        yield line
