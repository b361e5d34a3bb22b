"""Reading CSV/TSV/TXT tables: encoding and delimiter detection, rows streamed one by one."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from diaryadmin.errors import InputError, Problem, quoted
from diaryadmin.i18n import _
from diaryadmin.io.encoding import EncodingDoubt
from diaryadmin.io.encoding import detect_encoding as encoding_of

DELIMITERS = (";", ",", "\t")  # in order of preference when the evidence is equal
_CHUNK = 1 << 20
_SAMPLE_CHARS = 64 * 1024
_SAMPLE_RECORDS = 20
_LONGEST_LINE = 1 << 20  # csv refuses a field over 128 KB anyway; this bounds the line read


def _refuse(path: Path, message: str) -> InputError:
    problem = Problem(message, file=str(path))
    return InputError(str(problem), [problem])


def detect_encoding(path: Path) -> str:
    """The file's encoding (see io.encoding); InputError naming the candidates when doubtful."""
    try:
        return encoding_of(path)
    except EncodingDoubt as doubt:
        candidates = "; ".join(
            _("as {encoding} it reads {word}").format(encoding=e, word=quoted(w))
            for e, w in doubt.candidates
        )
        options = _(" or ").join(f"--encoding {e}" for e, _w in doubt.candidates)
        raise _refuse(
            path,
            _("its encoding is unclear ({candidates}); say which with {options}").format(
                candidates=candidates, options=options
            ),
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
        raise _refuse(path, _("unknown encoding {name}").format(name=quoted(encoding))) from None
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
                    values = tuple([value or None for value in record[:end]])  # "" is None
                    if "\x00" in "".join(record):
                        raise _refuse(
                            path,
                            _("row {row} holds a NUL byte: not a text table").format(row=number),
                        )
                    yield number, values
            if number == 0:
                raise _refuse(path, _("is empty"))
    except UnicodeDecodeError as error:
        text = (
            _("cannot be read as {encoding} (the given encoding): {reason}")
            if explicit
            else _("cannot be read as {encoding} (the detected encoding): {reason}")
        )
        raise _refuse(path, text.format(encoding=encoding, reason=error.reason)) from None
    except csv.Error as error:
        raise _refuse(path, _("is not a readable CSV file ({error})").format(error=error)) from None


def _bounded_lines(stream, path: Path) -> Iterator[str]:
    """The stream's lines, refusing one so long that reading it whole could exhaust memory."""
    while line := stream.readline(_LONGEST_LINE):
        if len(line) == _LONGEST_LINE and not line.endswith(("\n", "\r")):
            raise _refuse(path, _("has a line over a million characters long: not a text table"))
        yield line
