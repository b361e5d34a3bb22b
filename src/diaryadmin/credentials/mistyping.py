"""The usual slips in typing a password or a login, and what the parent may have meant.

Caps Lock, the Russian keyboard layout, 0/O and 1/l swaps, spaces around the password and the
hyphens of a temporary password left out: `variants` lists what an attempt may have been meant
as, fewest slips first and at most MAX_TRIES, each under the codes of its slips; MESSAGES and
SLIPS word them. The doctor (`credentials.doctor`) tries the variants against the stored hash.
"""

from __future__ import annotations

from diaryadmin.credentials import passwords
from diaryadmin.i18n import N_
from diaryadmin.people.names import LOOKALIKES

# The same keys on the Russian (ЙЦУКЕН) and the English (QWERTY) layout.
_RU = "ёйцукенгшщзхъфывапролджэячсмитьбюЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ"
_EN = "`qwertyuiop[]asdfghjkl;'zxcvbnm,.~QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>"
RU_TO_EN = str.maketrans(_RU, _EN)
CYRILLIC_TO_LATIN = str.maketrans({cyr: lat for lat, cyr in LOOKALIKES.items()})


# Hashes the doctor may spend on one attempt (each costs an argon2 verification).
MAX_TRIES = 64
# A look-alike character and what it may have been meant as.
_SWAPS = {"0": "oO", "o": "0", "O": "0", "1": "lI", "l": "1I", "I": "1l"}


def variants(attempt: str) -> list[tuple[str, str]]:
    """(code, variant) for each usual mistake and combination of two or three, fewest slips
    first, at most MAX_TRIES: spaces around it, hyphens left out or typed as spaces, Caps
    Lock, the Russian layout, and 0/O or 1/l swapped at one position or several (a parent's
    own password may hold a real 0 or 1 beside a slipped one). A combination's code joins
    its slips' codes with `+`."""
    candidates: list[tuple[tuple[str, ...], str]] = []
    for base_codes, base in _typed_forms(attempt):
        layout = base.translate(RU_TO_EN)
        for case_codes, cased in (
            ((), base),
            (("case_inverted",), base.swapcase()),
            (("keyboard_layout",), layout),
            (("keyboard_layout",), layout.swapcase()),
        ):
            candidates.append(((*base_codes, *case_codes), cased))
            for swap_codes, swapped in _lookalike_forms(cased):
                candidates.append(((*base_codes, *case_codes, *swap_codes), swapped))
    candidates.sort(key=lambda item: len(item[0]))  # stable: the usual order within a size
    seen = {attempt}
    result = []
    for codes, variant in candidates:
        if variant not in seen and codes:
            seen.add(variant)
            result.append(("+".join(codes), variant))
            if len(result) == MAX_TRIES:
                break
    return result


def _typed_forms(attempt: str) -> list[tuple[tuple[str, ...], str]]:
    """The attempt as typed, and as meant when spaces or the hyphens of a temporary password
    (`k7mx-p4rt-q9wz`) went wrong."""
    forms: list[tuple[tuple[str, ...], str]] = [((), attempt)]
    stripped = attempt.strip()
    if stripped != attempt:
        forms.append((("spaces_around",), stripped))
    hyphened = "-".join(stripped.split())
    if hyphened != stripped:
        forms.append((("hyphens_missing",), hyphened))
    bare = "".join(stripped.split()).replace("-", "")
    if len(bare) == passwords.LENGTH:
        regrouped = "-".join(
            bare[i : i + passwords.GROUP] for i in range(0, len(bare), passwords.GROUP)
        )
        if regrouped not in (stripped, hyphened):
            forms.append((("hyphens_missing",), regrouped))
    return forms


def _lookalike_forms(text: str) -> list[tuple[tuple[str, ...], str]]:
    """0/O and 1/l/I swapped: everywhere at once (the usual slip), then at each position on
    its own, then at pairs of positions."""
    forms = []
    for code, olds, new in (
        ("zero_letter_o", "0", "o"),
        ("zero_letter_o", "0", "O"),
        ("zero_letter_o", "oO", "0"),
        ("one_letter_l", "1", "l"),
        ("one_letter_l", "1", "I"),
        ("one_letter_l", "lI", "1"),
        ("one_letter_l", "I", "l"),
        ("one_letter_l", "l", "I"),
    ):
        forms.append(((code,), "".join(new if ch in olds else ch for ch in text)))
    positions = [i for i, ch in enumerate(text) if ch in _SWAPS]
    singles = [(i, alt) for i in positions for alt in _SWAPS[text[i]]]
    for i, alt in singles:
        forms.append(((_swap_code(text[i]),), text[:i] + alt + text[i + 1 :]))
    for index, (i, alt) in enumerate(singles):
        for j, other in singles[index + 1 :]:
            if j != i:
                chars = list(text)
                chars[i], chars[j] = alt, other
                codes = sorted({_swap_code(text[i]), _swap_code(text[j])})
                forms.append((tuple(codes), "".join(chars)))
    return forms


def _swap_code(char: str) -> str:
    return "zero_letter_o" if char in "0oO" else "one_letter_l"


# Translated where a finding is made (`_(MESSAGES[code])`), never at import time.
MESSAGES = {
    "password_ok": N_("The password the parent typed is correct."),
    "case_inverted": N_(
        "The password is right but with upper and lower case swapped, so Caps Lock is on "
        "and the parent should switch it off."
    ),
    "keyboard_layout": N_(
        "The password was typed on the Russian keyboard layout, so the parent should switch "
        "the keyboard to English (EN) and type it again."
    ),
    "zero_letter_o": N_("The password is right except that digit 0 and letter O are swapped."),
    "one_letter_l": N_(
        "The password is right except that digit 1 and letter l (or I) are swapped."
    ),
    "spaces_around": N_(
        "The password is right, but a space was typed before or after it; the parent should "
        "type it without spaces."
    ),
    "hyphens_missing": N_(
        "The password is right, but its hyphens were left out or typed as spaces; the hyphens "
        "are part of the password."
    ),
    "password_wrong": N_(
        "The password is wrong, and not by Caps Lock, keyboard layout or a 0/O or 1/l swap; "
        "if the parent has lost it, reset it with "
        "'diaryadmin credentials reset {login} --out FILE'."
    ),
}


# A slip in a sentence naming several (a combination).
SLIPS = {
    "case_inverted": N_("Caps Lock was on"),
    "keyboard_layout": N_("the keyboard was on the Russian layout"),
    "zero_letter_o": N_("digit 0 and letter O were swapped"),
    "one_letter_l": N_("digit 1 and letter l (or I) were swapped"),
    "spaces_around": N_("a space was typed before or after it"),
    "hyphens_missing": N_("its hyphens were left out or typed as spaces"),
}
