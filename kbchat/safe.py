"""The one sanitiser: what may be shown of text that kbchat did not write itself.

Text from the server (answers, reasons, headers, bodies) or from a client of
`kbchat serve` (paths, queries) never reaches a terminal, a log or a file with a
control sequence in it, and a secret kbchat holds (the API key, a password in the
base URL) never reaches any of them at all. Every such path goes through here.
Imports nothing from kbchat.
"""

from __future__ import annotations

import re

# C0 controls but \t and \n become their visible "control picture" (ESC shows as ␛),
# CR is dropped (CRLF line ends stay clean), DEL shows as ␡, C1 controls as U+FFFD.
# Bidirectional overrides and isolates, which reorder what follows them on screen
# (the "Trojan Source" trick), show as their code point.
BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_TERMINAL: dict[int, str | None] = {code: chr(0x2400 + code) for code in range(0x20) if code not in (9, 10)}
_TERMINAL[0x0D] = None
_TERMINAL[0x7F] = "\u2421"
_TERMINAL.update({code: "\ufffd" for code in range(0x80, 0xA0)})
_TERMINAL.update({code: f"<U+{code:04X}>" for code in BIDI_CONTROLS})

# Inside JSON strings the same characters are escaped instead: still valid JSON, and
# the value is unchanged for `jq`. (C0 controls are always escaped by JSON itself.)
_JSON: dict[int, str] = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), *BIDI_CONTROLS)}

# Any character either table changes: most text has none, and a search for one runs in C
# (str.translate with a table looks up every character: 50 ms a MiB).
_CONTROLS = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted({*_TERMINAL, *_JSON})) + "]")

_secrets: set[str] = set()
MIN_SECRET = 4  # shorter values would blank out ordinary words


def terminal_safe(text: str) -> str:
    """The text with every control character but newline and tab made visible or dropped."""
    return text.translate(_TERMINAL) if _CONTROLS.search(text) else text


def json_safe(text: str) -> str:
    """JSON text with the characters a terminal would obey escaped as \\uXXXX (same value)."""
    return text.translate(_JSON) if _CONTROLS.search(text) else text


def one_line(text: str) -> str:
    """A diagnostic on one line: secrets masked, controls made visible, whitespace collapsed."""
    return " ".join(terminal_safe(redact(text)).split())


def keep_secret(value: str | None) -> None:
    """Remember a value that must never be shown; `redact` masks it from then on."""
    if value and len(value) >= MIN_SECRET:
        _secrets.add(value)


def redact(text: str) -> str:
    """The text with every kept secret written as ****."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "****")
    return text


def display_url(url: str) -> str:
    """A URL as it may be shown: a password in it as ****, a lone user name (often a token) too."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    userinfo, _, host = authority.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:****" if colon else "****"
    return f"{scheme}://{shown}@{host}{slash}{path}"


def without_userinfo(url: str) -> str:
    """A URL with no user or password in it at all (what the answer log keeps)."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return url
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
