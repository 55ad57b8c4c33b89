"""Text a student controls, made safe for where it goes: a result file, a terminal, a CSV cell.

Student text (exception messages, output, file and member names) enters a result in one place
(`autograder.results`), which calls `clean`: after that it always encodes as UTF-8 and has a
bounded size, so writing a result cannot fail on it. Printing and exporting escape it again for
their medium: control characters are shown as escapes in a terminal (no escape sequence or
forged line reaches the console), CSV cells cannot start a formula, Markdown markup is escaped;
HTML renderers call `html.escape` on `visible_lines`.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidirectional overrides that can reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def clean(text: object, limit: int) -> str:
    """`text` as a string that encodes as UTF-8 (lone surrogates become `\\udXXX`), cut to `limit`."""
    try:
        value = text if isinstance(text, str) else str(text)
    except Exception:  # noqa: BLE001 - a str subclass or object whose __str__ fails
        value = "<unprintable>"
    value = str.__str__(value) if isinstance(value, str) else value  # drop str subclasses
    value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(value) > limit:
        value = value[:limit] + f" [... {len(value) - limit} more characters not kept]"
    return value


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if ch == "\r":
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """Control characters (newlines too) shown as escapes: one line, no terminal sequences."""
    return _CONTROL.sub(_escape, clean(text, 1 << 20))


def visible_lines(text: str) -> str:
    """`visible`, keeping line breaks: for blocks (a Markdown fence, an HTML <pre>)."""
    return "\n".join(visible(line) for line in clean(text, 1 << 20).split("\n"))


def terminal(text: str) -> str:
    """`visible`, for a line the grader prints (summary, skipped names, warnings)."""
    return visible(text)


def markdown(text: str) -> str:
    """Inline Markdown text: one line, control characters shown, markup characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", visible(" ".join(clean(text, 1 << 20).split())))


def csv_cell(value: object) -> object:
    """A CSV cell: numbers unchanged; text with control characters escaped and no formula start."""
    if not isinstance(value, str):
        return value
    text = visible(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


__all__ = ["clean", "visible", "visible_lines", "terminal", "markdown", "csv_cell"]
