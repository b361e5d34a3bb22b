"""Which encoding a Russian text table is in, and whether a decoded name looks like a name.

Russian offices and old systems write UTF-8 (with or without a BOM), UTF-16 (Excel's "Unicode
text", with or without a BOM), cp1251, KOI8-R, CP866 (DOS) and MacCyrillic. The single-byte
ones decode any bytes without an error, so the choice is made by scoring each decoding as
Russian: letter frequencies, the case pattern of each word (a KOI8-R file read as cp1251 gives
`гЩЗБОЛПЧ`), letters and signs Russian never uses, and the words of known headers.

    detect_encoding(Path("roster.csv"))   # 'koi8_r', or EncodingDoubt naming the candidates
    plausible_name("Щербаков")            # True; plausible_name("гЩЗБОЛПЧ") is False
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass
from pathlib import Path

SINGLE_BYTE = ("cp1251", "koi8_r", "cp866", "mac_cyrillic")
# What --encoding accepts for each, as people write it.
DISPLAY = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "cp1251": "cp1251",
    "koi8_r": "koi8-r",
    "cp866": "cp866",
    "mac_cyrillic": "mac-cyrillic",
}

_RUSSIAN_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_RUSSIAN = frozenset(_RUSSIAN_LOWER + _RUSSIAN_LOWER.upper())
# Letter frequencies of Russian text, per cent (the usual table from a large corpus; ё raised
# from 0.04: corpora print it as е, but names keep it).
_FREQUENCY = dict(
    zip(
        "оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё",
        (10.97, 8.45, 8.01, 7.35, 6.70, 6.26, 5.47, 4.73, 4.54, 4.40, 3.49, 3.21, 2.98, 2.81,
         2.62, 2.01, 1.90, 1.74, 1.70, 1.65, 1.59, 1.44, 1.21, 0.97, 0.94, 0.73, 0.64, 0.48,
         0.36, 0.32, 0.26, 0.04, 0.5),
        strict=True,
    )
)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_UNIFORM = 100 / 33
_LETTER_SCORE = {c: math.log(f / _UNIFORM) for c, f in _FREQUENCY.items()}
# Words of the headers the toolkit's tables carry: strong evidence for one decoding.
_HEADER_WORDS = _words(
    "фамилия имя отчество фио класс дата рождения пол ученик учащийся обучающийся родитель "
    "родители мать отец опекун заявитель ребёнок ребенок телефон почта адрес серия номер "
    "свидетельства свидетельство снилс паспорт предмет оценка урок тема задание отметка вес "
    "список итого всего личный статус литера параллель"
)
# Frequent pairs of letters (a bonus) and pairs Russian spelling never writes (a penalty).
_BIGRAM_SCORE = {
    **dict.fromkeys(
        _words(
            "ст но ен то на ов ни ра во ко ро ал ре ос ер по пр ка го ли от ет ла ан ть ел ол та "
            "ва ит ор ам ве ин ле де ом ск ак ие ия ой ий ый ая ое ых ев ич ри ме ви ат ль ег ес "
            "ем се "
            "ны не ти од ло он ду ми ру ки ма да тр за ди бо ок ик ил ье ья ан ьн ав ар ас ег ек "
            "ей ее ёв ёр ик им ис ия ке ку ле ли лю мо му на не ню об ол ом ор ос ра ре ри ро се "
            "ся ти тя уд ус фе хо це чи чк че ше ща щи ын эл юр яч яб"
        ),
        0.5,
    ),
    **dict.fromkeys(
        _words(
            "ьь ъъ йй ьъ ъь аь оь еь иь уь ыь эь юь яь ёь аъ оъ иъ уъ ыъ жы шы чя щя чю щю жя шя "
            "жю шю цю ця ьй ъй ыы эы йь йъ"
        ),
        -4.0,
    ),
}
_RUSSIAN_SIGNS = frozenset("«»№–—“”„‘’…°±\u00a0")
_WORD = re.compile(r"[^\W\d_]+")
_LOOKALIKES = frozenset("ABEKMHOPCTYXaeopcyx")


class EncodingDoubt(ValueError):
    """The bytes read as Russian in more than one encoding; `candidates` are (encoding, word)."""

    def __init__(self, candidates: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(f"{e} ({w})" for e, w in candidates))
        self.candidates = candidates


@dataclass(frozen=True, slots=True)
class _Reading:
    encoding: str
    texts: list[str]  # each field outside ASCII, decoded
    scores: list[float]  # how Russian each reads


def looks_like_utf16(head: bytes) -> bool:
    """Whether bytes are UTF-16 (either order) of a Russian or Latin table: a BOM and text
    that decodes (a short file's one letter of another script must not outvote it), or
    without one, the zero bytes' pattern."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and head[2:4] != b"\0\0":
        sample = head[: 8192 & ~1]
        for cut in (0, 2):  # the sample may end inside a surrogate pair
            try:
                text = sample[: len(sample) - cut].decode("utf-16")
            except UnicodeDecodeError:
                continue
            return "\0" not in text
        return False
    return _utf16_order(head) is not None


def _utf16_order(head: bytes) -> str | None:
    sample = head[: 8192 & ~1]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    for order, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        # Latin, digits, tabs and line ends have a zero high byte; Cyrillic 0x04; dashes and
        # quotes 0x20, № 0x21. The low byte is almost never zero.
        usual = sum(high.count(b) for b in (0, 4, 0x20, 0x21))
        if high.count(0) and usual >= 0.95 * len(high) and low.count(0) <= 0.02 * len(low):
            try:
                sample.decode(order)
            except UnicodeDecodeError:
                continue
            return order
    return None


def _score(text: str) -> float:
    """How Russian a decoded text looks: a sum over its characters outside ASCII (higher is
    better; signs and letters Russian never uses, impossible spellings and broken case count
    against it)."""
    total = 0.0
    for char in text:
        if ord(char) > 127 and char not in _RUSSIAN and not char.isalpha():
            total += 0.5 if char in _RUSSIAN_SIGNS else -6.0
    for match in _WORD.finditer(text):
        word = match.group()
        if not any(c in _RUSSIAN for c in word):
            if any(ord(c) > 127 for c in word):  # letters of other alphabets (ђ, ў, é…)
                total -= 6.0 * sum(ord(c) > 127 for c in word)
            continue
        if not all(c in _RUSSIAN for c in word):  # Russian mixed with other letters
            total -= 6.0 * len(word)
            continue
        lower = word.lower()
        value = sum(_LETTER_SCORE[c] for c in lower)
        value += sum(_BIGRAM_SCORE.get(lower[i : i + 2], 0.0) for i in range(len(lower) - 1))
        if lower[0] in "ьъы":
            value -= 6.0
        if not _case_ok(word):
            value -= 3.0 * len(word)
        if lower in _HEADER_WORDS:
            value += 3.0 * len(word)
        total += value
    return total


def _case_ok(word: str) -> bool:
    return word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())


_HIGH = re.compile(rb"[\x80-\xff]")


def read_sample(path: Path, block: int = 32 * 1024, most: int = 1 << 20) -> bytes:
    """The file's first bytes: enough of it to hold a few hundred bytes outside ASCII."""
    with path.open("rb") as stream:
        data = stream.read(block)
        while len(data) < most and len(_HIGH.findall(data)) < 400:
            more = stream.read(block)
            if not more:
                break
            data += more
    return data


def detect_encoding(path: Path) -> str:
    """The encoding of a text table: a BOM, UTF-16 by its zero bytes, UTF-8 if every byte
    decodes strictly, else the single-byte Cyrillic encoding whose text reads most Russian.

    Raises EncodingDoubt when two single-byte decodings read about equally well but differ.
    """
    with path.open("rb") as stream:
        start = stream.read(8192)
        if start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if order := _utf16_order(start):
            return order
        stream.seek(0)
        # An incremental decoder copes with a character cut at a chunk boundary.
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while chunk := stream.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    return choose_single_byte(read_sample(path))


_DOUBT_MARGIN = 3.0  # see tests/test_encodings.py for what it was measured on
# Windows' own Cyrillic encoding is what most office files are in: on thin evidence it wins.
_PRIOR = {"cp1251": 3.0}
_MOST_FIELDS = 120  # distinct fields outside ASCII scored: plenty, and fast
_FIELD_BREAK = re.compile(rb'[;,\t\r\n" ]+')


def choose_single_byte(data: bytes) -> str:
    """The single-byte Cyrillic encoding under which `data` reads most like Russian.

    Raises EncodingDoubt when the runner-up reads nearly as well on the fields where the two
    decodings differ (or nothing reads as Russian at all).
    """
    data = data[: data.rfind(b"\n") + 1] or data  # no half line at the end of a sample
    fields = list(dict.fromkeys(f for f in _FIELD_BREAK.split(data) if _HIGH.search(f)))
    fields = fields[:_MOST_FIELDS]
    readings = []
    for encoding in SINGLE_BYTE:
        try:
            texts = [f.decode(encoding) for f in fields]
            data.decode(encoding)  # cp1251 leaves one byte undefined
        except UnicodeDecodeError:
            continue
        readings.append(_Reading(encoding, texts, [_score(t) for t in texts]))
    readings.sort(key=lambda r: _PRIOR.get(r.encoding, 0.0) + sum(r.scores), reverse=True)
    best = readings[0]

    def differing(rival: _Reading) -> list[int]:
        return [i for i, text in enumerate(best.texts) if text != rival.texts[i]]

    def close(rival: _Reading) -> bool:
        differ = differing(rival)
        ours = _PRIOR.get(best.encoding, 0.0) + sum(best.scores[i] for i in differ)
        theirs = _PRIOR.get(rival.encoding, 0.0) + sum(rival.scores[i] for i in differ)
        return bool(differ) and theirs > ours - _DOUBT_MARGIN

    rivals = [r for r in readings[1:] if close(r)]
    if rivals or _PRIOR.get(best.encoding, 0.0) + sum(best.scores) <= 0:
        shown = [best, *rivals] if rivals else readings[:2]
        where = (differing(shown[1]) or [0])[0] if fields else None
        raise EncodingDoubt(
            [(DISPLAY[r.encoding], r.texts[where] if where is not None else "") for r in shown]
        )
    return best.encoding


def plausible_name(text: str) -> bool:
    """Whether `text` can be a person's name (or part of one) as a school writes it.

    Plausible: words of Russian letters (Latin look-alikes inside them allowed: that is
    copy-paste damage the normaliser mends) or of Latin letters, each part of a word capitalised
    as a name is (`Щербаков`, `ЩЕРБАКОВ`, `щербаков`, `Римская-Корсакова`), with spaces,
    hyphens, apostrophes and the dots of initials between. A wrong decoding (`гЩЗБОЛПЧ`,
    `ўҐаЎ Є®ў`, `Ð©ÐµÑ€`) is not.
    """
    text = text.strip()
    if not text:
        return False
    for word in re.split(r"[\s.]+", text):
        for part in re.split(r"[-'’ʼ]", word):
            if not part:
                continue
            if not part.isalpha():
                return False
            russian = sum(c in _RUSSIAN for c in part)
            latin = sum("a" <= c.lower() <= "z" for c in part)
            if russian + latin < len(part):
                return False
            if russian and latin and not all(c in _RUSSIAN or c in _LOOKALIKES for c in part):
                return False
            if russian and not _case_ok(part):
                return False
    return True
