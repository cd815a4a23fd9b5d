"""Make server text harmless for a terminal: no control sequence ever reaches it raw."""

from __future__ import annotations

# C0 controls but \t and \n become their visible "control picture" (ESC shows as ␛),
# CR is dropped (CRLF line ends stay clean), DEL shows as ␡, C1 controls as U+FFFD.
_TABLE: dict[int, str | None] = {code: chr(0x2400 + code) for code in range(0x20) if code not in (9, 10)}
_TABLE[0x0D] = None
_TABLE[0x7F] = "\u2421"
_TABLE.update({code: "\ufffd" for code in range(0x80, 0xA0)})


def terminal_safe(text: str) -> str:
    """The text with every control character but newline and tab made visible or dropped."""
    return text.translate(_TABLE)
