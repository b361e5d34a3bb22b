"""Checking an OLE compound file (.xls, or the wrapper of an encrypted .xlsx) before parsing.

Reads the header, the allocation table and the directory, following every sector chain with
a bound and a loop check, so a damaged or hostile file is refused before a parser trusts it.
"""

from __future__ import annotations

import struct
from pathlib import Path

from diaryadmin.i18n import _
from diaryadmin.io.limits import grouped, refuse

_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
_SPECIAL = 0xFFFFFFFA  # this and above: not a sector index


def inspect_compound(file: Path, name: str, size: int) -> str:
    """Check a compound file's header, allocation table and directory, and what it holds."""
    with file.open("rb") as stream:
        data = stream.read()  # at most max_file_mb, checked before
    if len(data) < 512:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: a damaged .xls compound file, truncated inside "
                "its header"
            ),
        )
    (major, byte_order, sector_shift, mini_shift) = struct.unpack_from("<xxHHHH", data, 24)
    if byte_order != 0xFFFE or (major, sector_shift) not in ((3, 9), (4, 12)) or mini_shift != 6:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: a damaged .xls compound file, "
                "sector size 2^{shift} (version {version}) is not one Excel writes"
            ).format(shift=sector_shift, version=major),
        )
    sector = 1 << sector_shift
    n_fat, first_dir, _x, cutoff, _y, _z, first_difat, n_difat = struct.unpack_from(
        "<IIIIIIII", data, 44
    )
    sectors = (size - sector + sector - 1) // sector  # a short last sector still counts
    if cutoff != 4096 or n_fat == 0 or n_fat > sectors or n_difat > sectors:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: a damaged .xls compound file, its header's table "
                "sizes are impossible"
            ),
        )

    def sector_bytes(index: int) -> bytes:
        if index >= sectors:
            raise refuse(
                name,
                _(
                    "is not a readable spreadsheet: a damaged .xls compound file, a sector lies "
                    "beyond the end of the file (truncated?)"
                ),
            )
        return data[(index + 1) * sector : (index + 2) * sector]

    fat_sectors = list(struct.unpack_from("<109I", data, 76))
    seen: set[int] = set()
    next_difat = first_difat
    for _index in range(n_difat):
        if next_difat >= _SPECIAL or next_difat in seen:
            break
        seen.add(next_difat)
        block = sector_bytes(next_difat)
        values = struct.unpack(f"<{sector // 4}I", block.ljust(sector, b"\xff"))
        fat_sectors.extend(values[:-1])
        next_difat = values[-1]
    fat_sectors = [s for s in fat_sectors if s < _SPECIAL][:n_fat]
    if len(fat_sectors) < n_fat:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: a damaged .xls compound file, its allocation "
                "table is incomplete"
            ),
        )
    fat = b"".join(sector_bytes(s).ljust(sector, b"\xff") for s in fat_sectors)
    entries = len(fat) // 4

    def chain(start: int) -> list[int]:
        found, current, visited = [], start, set()
        while current < _SPECIAL:
            if current in visited or current >= entries:
                raise refuse(
                    name,
                    _(
                        "is not a readable spreadsheet: a damaged .xls compound file, a sector "
                        "chain loops or breaks"
                    ),
                )
            visited.add(current)
            found.append(current)
            (current,) = struct.unpack_from("<I", fat, current * 4)
        return found

    directory = b"".join(sector_bytes(s) for s in chain(first_dir))
    streams: dict[str, tuple[int, int]] = {}
    for offset in range(0, len(directory) - 127, 128):
        length = struct.unpack_from("<H", directory, offset + 64)[0]
        kind = directory[offset + 66]
        if kind not in (1, 2, 5) or not 2 <= length <= 64:
            continue
        entry_name = directory[offset : offset + length - 2].decode("utf-16-le", "replace")
        start, low, high = struct.unpack_from("<III", directory, offset + 116)
        streams[entry_name] = (start, low if major == 3 else low | high << 32)
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        raise refuse(name, _("is password-protected: open it and save it without a password"))
    if "WordDocument" in streams:
        raise refuse(name, _("is not a readable spreadsheet: it is a Word document (.doc)"))
    if "PowerPoint Document" in streams:
        raise refuse(
            name, _("is not a readable spreadsheet: it is a PowerPoint presentation (.ppt)")
        )
    book = streams.get("Workbook") or streams.get("Book")
    if book is None:
        raise refuse(
            name,
            _("is not a readable spreadsheet: a compound file without an Excel workbook in it"),
        )
    start, length = book
    if length > size:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: a damaged .xls compound file, "
                "its workbook claims {length} bytes in a file of {size}"
            ).format(length=grouped(length), size=grouped(size)),
        )
    if length >= cutoff:
        sectors_used = chain(start)
        if len(sectors_used) * sector < length:
            raise refuse(
                name,
                _(
                    "is not a readable spreadsheet: a damaged .xls compound file, its workbook "
                    "stream is cut short"
                ),
            )
        first = b"".join(sector_bytes(s) for s in sectors_used[:8])
        if _has_filepass(first):
            raise refuse(name, _("is password-protected: open it and save it without a password"))
    return "xls"


def _has_filepass(stream: bytes) -> bool:
    """Whether the workbook globals start with a FILEPASS record (an encrypted .xls)."""
    offset = 0
    while offset + 4 <= len(stream):
        record, length = struct.unpack_from("<HH", stream, offset)
        if record == 0x002F:
            return True
        if record in (0x0085, 0x000A):  # BOUNDSHEET or EOF: past where FILEPASS would be
            return False
        offset += 4 + length
    return False
