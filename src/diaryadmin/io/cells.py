"""Spreadsheet cell values (str, int, float, bool, date, datetime, time, None) as typed data.

Every parser raises ValueError with a short message; callers turn it into a `Problem` that
names the file, sheet, row and column.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

from diaryadmin.i18n import _

# Our exports put an apostrophe before these so spreadsheets do not run them as formulas.
_DEFUSED_STARTS = ("'=", "'+", "'-", "'@", "'\t", "'\r")
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_TIME_PART = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
_DMY = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})\s*(?:г\.?)?" + _TIME_PART)
_YMD = re.compile(r"(\d{4})([./-])(\d{1,2})\2(\d{1,2})" + _TIME_PART)

_TRUE = frozenset(
    {"да", "д", "yes", "y", "true", "1", "+", "согласен", "согласна", "согласны", "есть", "✓"}
)
_FALSE = frozenset(
    {"нет", "н", "no", "n", "false", "0", "-", "не согласен", "не согласна", "не согласны"}
)


def cell_text(value: object) -> str | None:
    """The cell as stripped text, None if empty.

    Whole floats lose their `.0` (`123.0` → `'123'`), dates are written `dd.mm.yyyy`, and the
    apostrophe our exports put before `= + - @` is removed.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d.%m.%Y")
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    text = str(value).strip()
    if not text:
        return None
    return text[1:] if text.startswith(_DEFUSED_STARTS) else text


def _real_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(_("not a real date")) from None


def parse_date(value: object, *, today: date | None = None) -> date:
    """A date from a date cell, an Excel serial number or text.

    Text may be `dd.mm.yyyy`, `d.m.yyyy`, `dd.mm.yy`, `yyyy-mm-dd`, `dd/mm/yyyy` or
    `dd-mm-yyyy`, with an optional time part. A two-digit year is 20yy unless that date is
    after `today`, then 19yy. Raises ValueError('not a real date') for dates such as 31.02
    and ValueError for anything that is not a date.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(_("not a date"))
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 1 <= value <= _EXCEL_MAX_SERIAL:
            raise ValueError(_("not a date (the number is not a spreadsheet date)"))
        serial = int(value)
        if serial == 60:  # Excel's 29.02.1900, which never existed
            raise ValueError(_("not a real date"))
        return _EXCEL_EPOCH + timedelta(days=serial if serial > 60 else serial + 1)
    text = str(value).strip()
    if match := _DMY.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), match[4]
        if len(year) == 4:
            return _real_date(int(year), month, day)
        candidate = _real_date(2000 + int(year), month, day)
        if candidate > (today or date.today()):
            return _real_date(1900 + int(year), month, day)
        return candidate
    if match := _YMD.fullmatch(text):
        return _real_date(int(match[1]), int(match[3]), int(match[4]))
    raise ValueError(_("not a date (expected dd.mm.yyyy)"))


def parse_bool(value: object) -> bool:
    """Yes or no: да/нет, yes/no, true/false, 1/0, +/-, y/n, д/н, согласен/не согласен.

    A date (the date consent was given) counts as yes. Raises ValueError for anything else,
    an empty cell included.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, date):
        return True
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = cell_text(value)
    if text is None:
        raise ValueError(_("empty, expected yes or no"))
    word = " ".join(text.casefold().replace("ё", "е").rstrip(".!").split())
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    try:
        parse_date(text)
    except ValueError:
        raise ValueError(_("expected yes or no (да/нет)")) from None
    return True


def _number_text(value: object) -> str:
    text = cell_text(value)
    if text is None:
        raise ValueError(_("empty, expected a number"))
    return re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")


def parse_float(value: object) -> float:
    """A number from a cell; text may use a decimal comma (`4,5`). Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(_("expected a number"))
    if isinstance(value, int | float):
        result = float(value)
    else:
        try:
            result = float(_number_text(value))
        except ValueError:
            raise ValueError(_("expected a number")) from None
    if not math.isfinite(result):
        raise ValueError(_("expected a number"))
    return result


def parse_int(value: object) -> int:
    """A whole number from a cell (`5`, `5.0`, `'5'`, `'5,0'`). Raises ValueError."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    result = parse_float(value)
    if not result.is_integer():
        raise ValueError(_("expected a whole number"))
    return int(result)
