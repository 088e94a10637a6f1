"""Find and mask personal data in free text: emails, phone numbers, card numbers, IBANs.

Pure functions, no framework, so the store (transcripts), the logging filter (every process)
and the GDPR tools share one definition of "PII in text".

Why validation and not just patterns: a CRM transcript is full of numbers that must stay
readable (`ORD-100001`, `TCK-1001`, `$1,250.00`, `2026-11-30`). A card is only masked when
its 13-19 digits start like a payment card (2-6) and pass the Luhn check, an IBAN only when
its country's length and the mod-97 check match, and a phone only in the shapes people write
phones in (international `+`/`00`, North American 3-3-4, national numbers with a trunk `0`).
Separators inside one number must be consistent, which keeps dates and times apart from
phones.

Placeholders contain no digit and no `@`, so `redact(redact(t)) == redact(t)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"
IBAN = "[iban]"

# RFC 5322 "atext" (plus Unicode letters) may hold the local part of an address.
_LOCAL_CHARS = r"[\w!#$%&'*+/=?^`{|}~-]"
_EMAIL_RE = re.compile(
    r"(?<![\w!#$%&'*+/=?^`{|}~.-])"  # start at the beginning of the local part
    rf"{_LOCAL_CHARS}+(?:\.{_LOCAL_CHARS}+)*"
    r"(?:@|＠|%40)"
    r"(?:[\w-]+\.)+[^\W\d_][\w-]*"
)

# Separators people put inside numbers: space, no-break spaces, dot, hyphen and dashes.
_SEP = " \u00a0\u2009\u202f.\\-\u2010\u2011\u2012\u2013"
_GROUP_RE = re.compile(r"\(\d{1,5}\)|\d+")
# A run of digit groups, not glued to a word or an id (`ORD-100001`, `v1.2`), an amount
# (`$1,250.00`), nor to a decimal or a following word; `+` is kept for international phones.
_RUN_RE = re.compile(
    rf"(?<![\w+$€£¥#])(?<!\w[-./:,])"
    rf"\+?(?:\(\d{{1,5}}\)|\d)(?:[{_SEP}]?(?:\(\d{{1,5}}\)|\d))*"
    rf"(?!\w)(?![-./:,]\w)"
)
_MAX_GROUPS = 8  # no card or phone has more; bounds the work on long digit runs

# IBAN length per country (SWIFT IBAN registry); unknown countries are not masked.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN_START_RE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z]{2}[0-9]{2})")
_IBAN_SEPS = frozenset(" \u00a0-")


def redact(text: str) -> str:
    """Replace every email, phone, card number and IBAN in `text` by a typed placeholder.

    Args:
        text: Any text (a chat message, a log line).

    Returns:
        The text with `[email]`, `[phone]`, `[card]` and `[iban]` in place of the values;
        text without PII comes back unchanged (the same string).
    """
    if not text:
        return text
    if "@" in text or "＠" in text or "%40" in text:
        text = _EMAIL_RE.sub(_redact_email, text)
    if not any(ch.isdigit() for ch in text):
        return text
    text = _replace(text, _iban_spans(text), IBAN)
    return _RUN_RE.sub(_redact_run, text)


def contains_pii(text: str) -> bool:
    """True when `redact` would change `text`."""
    return redact(text) != text


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number carries in its last digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """Country length and ISO 13616 mod-97 check of an IBAN without spaces (any case)."""
    iban = compact.upper()
    if not iban.isascii() or not iban.isalnum():
        return False
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _redact_email(match: re.Match[str]) -> str:
    """`[email]`, keeping a URL's `key=` or path before the address (`?email=[email]`)."""
    value = match.group()
    at = re.search(r"@|＠|%40", value)
    local = value[: at.start() if at else 0]
    cut = max(local.rfind("="), local.rfind("?"), local.rfind("/")) + 1
    return value[:cut] + EMAIL if 0 < cut < len(local) else EMAIL


# --- IBAN -------------------------------------------------------------------------------


def _iban_spans(text: str) -> list[tuple[int, int]]:
    """Spans of valid IBANs, written compact or grouped with single spaces or hyphens."""
    spans: list[tuple[int, int]] = []
    for match in _IBAN_START_RE.finditer(text):
        start = match.start()
        if spans and start < spans[-1][1]:
            continue
        length = IBAN_LENGTHS.get(text[start : start + 2].upper())
        end = _read_alnum(text, start, length) if length else None
        if end is not None and iban_valid(_compact(text[start:end])):
            spans.append((start, end))
    return spans


def _read_alnum(text: str, start: int, count: int) -> int | None:
    """End of `count` ASCII letters/digits from `start` (single separators allowed between),
    or None when the text stops early or the number runs on into more letters/digits."""
    seen, pos = 0, start
    while seen < count:
        if pos < len(text) and text[pos] in _IBAN_SEPS and seen:
            pos += 1
        if pos >= len(text) or not (text[pos].isascii() and text[pos].isalnum()):
            return None
        seen, pos = seen + 1, pos + 1
    if pos < len(text) and text[pos].isascii() and text[pos].isalnum():
        return None
    return pos


def _compact(value: str) -> str:
    return "".join(ch for ch in value if ch not in _IBAN_SEPS)


def _replace(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    for start, end in reversed(spans):
        text = text[:start] + placeholder + text[end:]
    return text


# --- cards and phones --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Group:
    """One group of digits in a run: `(415)` or `0134`, with the separator before it."""

    digits: str
    paren: bool
    sep: str
    start: int
    end: int


def _groups(run: str) -> list[_Group]:
    groups, previous_end = [], 0
    for match in _GROUP_RE.finditer(run):
        value = match.group()
        paren = value.startswith("(")
        groups.append(
            _Group(value.strip("()"), paren, run[previous_end : match.start()],
                   match.start(), match.end())
        )  # fmt: skip
        previous_end = match.end()
    return groups


def _redact_run(match: re.Match[str]) -> str:
    """The run with every card and phone inside it masked, scanning groups left to right."""
    run = match.group()
    plus = run.startswith("+")
    groups = _groups(run)
    pieces, cursor, i = [], 0, 0
    while i < len(groups):
        # A number starts the run or follows a space: "0.00 2000" holds no "00 2000".
        starts = i == 0 or groups[i].sep.isspace()
        found = _find_at(groups, i, plus and i == 0) if starts else None
        if found is None:
            i += 1
            continue
        last, placeholder = found
        start = 0 if plus and i == 0 else groups[i].start
        pieces += [run[cursor:start], placeholder]
        cursor, i = groups[last].end, last + 1
    return "".join(pieces) + run[cursor:]


def _find_at(groups: list[_Group], i: int, plus: bool) -> tuple[int, str] | None:
    """(index of the last group, placeholder) of the longest card or phone starting at i."""
    # After a "+" a phone is likelier; elsewhere a Luhn-valid 13-19 digit number is a card.
    order = [(_is_phone, PHONE), (_is_card, CARD)]
    if not plus:
        order.reverse()
    stop = min(len(groups), i + _MAX_GROUPS)
    for check, placeholder in order:
        for last in range(stop - 1, i - 1, -1):
            if check(groups[i : last + 1], plus):
                return last, placeholder
    return None


def _is_card(groups: list[_Group], plus: bool) -> bool:
    """A payment card: 13-19 digits, Luhn-valid, starting with 2-6.

    The first digit is the industry (ISO/IEC 7812): every card network starts with 2-6;
    1, 7, 8 and 9 are airlines, oil, telecoms and national uses. When grouped, one separator
    and groups of 3+ digits (but the last); four years in a row ("2024 2025 2026 2027") are
    a list of years, not a card.
    """
    digits = "".join(g.digits for g in groups)
    if not 13 <= len(digits) <= 19 or any(g.paren for g in groups):
        return False
    if not 2 <= int(digits[0]) <= 6 or all(_is_year(g.digits) for g in groups):
        return False
    grouped = len(groups) > 1
    if grouped and len({g.sep for g in groups[1:]}) != 1:
        return False
    if grouped and any(len(g.digits) < 3 for g in groups[:-1]):
        return False
    return luhn_valid(digits)


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and 1900 <= int(digits) <= 2100  # int() reads any Unicode digit


def _is_phone(groups: list[_Group], plus: bool) -> bool:
    """International (+ or 00), North American 3-3-4, or national with a trunk 0."""
    if not _consistent_separators(groups):
        return False
    digits = "".join(g.digits for g in groups if not (g.paren and g.digits == "0"))
    first = groups[0]
    if plus:
        return 8 <= len(digits) <= 15
    if first.digits.startswith("00") and not first.paren:
        # "00" + country code (never starting with 0) + number, e.g. "0044 20 7946 0958".
        return len(first.digits) >= 3 and first.digits[2] != "0" and 10 <= len(digits) <= 17
    if _is_nanp(groups):
        return True
    if not first.digits.startswith("0"):
        return False
    if len(groups) == 1:
        return 10 <= len(digits) <= 11
    return 9 <= len(digits) <= 12 and all(len(g.digits) >= 2 for g in groups[1:])


def _is_nanp(groups: list[_Group]) -> bool:
    """North American numbers: [1] (area) exchange-line, e.g. `(415) 555-0134`, `1-800-555-0199`."""
    shape = [g.digits for g in groups]
    if len(shape) == 4 and shape[0] == "1":
        shape = shape[1:]
    return (
        [len(part) for part in shape] == [3, 3, 4]
        and shape[0][0] in "23456789"
        and shape[1][0] in "23456789"
        and all(not g.paren for g in groups[-2:])
    )


def _consistent_separators(groups: list[_Group]) -> bool:
    """One separator kind within a number (parentheses aside), so `01.12.2026 10` is no phone.

    The separator after an international country code may differ (`+1 415-555-0134`).
    """
    seps = set()
    for previous, group in zip(groups, groups[1:], strict=False):
        if previous.paren or group.paren:
            continue
        if previous is groups[0] and group.sep != groups[min(2, len(groups) - 1)].sep:
            continue
        seps.add(group.sep)
    return len(seps) <= 1
